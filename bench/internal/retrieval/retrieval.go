// Package retrieval scores ranked document lists against relevance
// judgements (nDCG@k, Recall@k) and provides the lexical baseline every
// quality figure is compared with: Okapi BM25.
//
// BM25 is written here (a few dozen lines) rather than taken from a library
// so that the baseline's tokenization is fixed and documented next to the
// figures it produces: lower-cased runs of letters and digits, no stemming,
// no stop words, k1 = 1.2, b = 0.75.
package retrieval

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
)

// Scores are the mean quality figures over a query set.
type Scores struct {
	Queries int
	NDCG    float64 // nDCG@K with binary relevance
	Recall  float64 // fraction of relevant documents in the top K
	K       int
}

// Evaluate scores ranked[i] (document indexes, best first) against the set
// of relevant documents of query i, with binary relevance.
func Evaluate(ranked [][]int, relevant [][]int, k int) (Scores, error) {
	if k <= 0 {
		return Scores{}, fmt.Errorf("retrieval: k %d must be positive", k)
	}
	if len(ranked) != len(relevant) {
		return Scores{}, fmt.Errorf("retrieval: %d rankings for %d queries", len(ranked), len(relevant))
	}
	if len(ranked) == 0 {
		return Scores{}, errors.New("retrieval: no queries")
	}
	var ndcg, rec float64
	for i, r := range ranked {
		rel := relevant[i]
		if len(rel) == 0 {
			return Scores{}, fmt.Errorf("retrieval: query %d has no relevant document", i)
		}
		var dcg, ideal float64
		hits := 0
		seen := map[int]bool{}
		for pos, d := range r[:min(k, len(r))] {
			if seen[d] {
				return Scores{}, fmt.Errorf("retrieval: query %d ranks document %d twice", i, d)
			}
			seen[d] = true
			if slices.Contains(rel, d) {
				dcg += 1 / math.Log2(float64(pos)+2)
				hits++
			}
		}
		for pos := range min(k, len(rel)) {
			ideal += 1 / math.Log2(float64(pos)+2)
		}
		ndcg += dcg / ideal
		rec += float64(hits) / float64(len(rel))
	}
	n := float64(len(ranked))
	return Scores{Queries: len(ranked), NDCG: ndcg / n, Recall: rec / n, K: k}, nil
}

// Terms splits text into BM25 terms: lower-cased maximal runs of letters
// and digits.
func Terms(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// BM25 is an inverted index over a fixed document set.
type BM25 struct {
	k1, b  float64
	avgLen float64
	docLen []float64
	post   map[string][]posting
	n      int
}

type posting struct {
	doc int32
	tf  float32
}

// NewBM25 indexes docs.
func NewBM25(docs []string) *BM25 {
	ix := &BM25{k1: 1.2, b: 0.75, post: map[string][]posting{}, n: len(docs), docLen: make([]float64, len(docs))}
	var total float64
	for i, d := range docs {
		terms := Terms(d)
		ix.docLen[i] = float64(len(terms))
		total += float64(len(terms))
		tf := map[string]int{}
		for _, t := range terms {
			tf[t]++
		}
		for t, c := range tf {
			ix.post[t] = append(ix.post[t], posting{int32(i), float32(c)})
		}
	}
	if len(docs) > 0 {
		ix.avgLen = total / float64(len(docs))
	}
	return ix
}

// Search returns the indexes of the k best documents for query, best first
// (ties by lower index). Documents sharing no term with the query are not
// returned.
func (ix *BM25) Search(query string, k int) []int {
	scores := map[int32]float64{}
	seen := map[string]bool{}
	for _, t := range Terms(query) {
		if seen[t] {
			continue
		}
		seen[t] = true
		ps := ix.post[t]
		if len(ps) == 0 {
			continue
		}
		df := float64(len(ps))
		idf := math.Log(1 + (float64(ix.n)-df+0.5)/(df+0.5))
		for _, p := range ps {
			tf := float64(p.tf)
			norm := ix.k1 * (1 - ix.b + ix.b*ix.docLen[p.doc]/ix.avgLen)
			scores[p.doc] += idf * tf * (ix.k1 + 1) / (tf + norm)
		}
	}
	type hit struct {
		doc int32
		s   float64
	}
	hits := make([]hit, 0, len(scores))
	for d, s := range scores {
		hits = append(hits, hit{d, s})
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if c := cmp.Compare(b.s, a.s); c != 0 {
			return c
		}
		return cmp.Compare(a.doc, b.doc)
	})
	out := make([]int, 0, min(k, len(hits)))
	for _, h := range hits[:min(k, len(hits))] {
		out = append(out, int(h.doc))
	}
	return out
}
