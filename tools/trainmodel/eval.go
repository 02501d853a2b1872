package main

import (
	"cmp"
	"context"

	"github.com/vecbolt/vecbolt/embedder/static"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"

	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/builtin"
	"github.com/vecbolt/vecbolt/internal/evalsets"
)

// runEval prints the model's figures on the two retrieval sets:
// Debian one-line → long description (evaluation split) against BM25 and a
// rank-fusion hybrid, and WordNet held-out synonym → definition.
//
// split is "dev" (the development split and synsets, on which settings are
// chosen) or "eval" (the evaluation split and held-out synsets, reported).
// freqModel, when not "", names the model whose vocabulary defines the
// frequent WordNet queries (its whole words), so models with different
// vocabularies can be compared on one set; by default it is the model's own.
func runEval(root, model, split string, wnQueries int, freqModel string) error {
	if split != "dev" && split != "eval" {
		return fmt.Errorf("split %q: want dev or eval", split)
	}
	// Without the fallback for texts of no known token, as every figure
	// recorded before it existed was measured: such a text is a miss.
	m, err := builtin.Load(os.DirFS(model), static.WithFallback(false))
	if err != nil {
		return fmt.Errorf("model %s: %w", model, err)
	}
	fmt.Printf("split %s\n", split)
	fmt.Printf("model %s\n", m.Identity())
	if err := evalTriples(m, "embedder/builtin/testdata/triples.tsv"); err != nil {
		return fmt.Errorf("triples: %w", err)
	}
	if err := evalDebian(root, m, split); err != nil {
		return fmt.Errorf("debian eval: %w", err)
	}
	if wnQueries <= 0 {
		return nil
	}
	freqTok := m.Tokenizer()
	if freqModel != "" {
		fm, err := builtin.Load(os.DirFS(freqModel))
		if err != nil {
			return fmt.Errorf("frequent-set model %s: %w", freqModel, err)
		}
		freqTok = fm.Tokenizer()
		fmt.Printf("frequent WordNet queries: whole words of %s\n", fm.Identity())
	}
	if err := evalWordNet(root, m, split, wnQueries, freqTok); err != nil {
		return fmt.Errorf("wordnet eval: %w", err)
	}
	return nil
}

// embedAll embeds texts; a text without known tokens gets a zero vector
// (it then ranks nowhere, which the metrics count as a miss).
func embedAll(embed func(string, []float32) error, dim int, texts []string) ([]float32, time.Duration) {
	out := make([]float32, len(texts)*dim)
	start := time.Now()
	for i, t := range texts {
		err := embed(t, out[i*dim:(i+1)*dim])
		if err != nil && !errors.Is(err, static.ErrNoTokens) && !errors.Is(err, embedder.ErrEmptyText) {
			panic(err) // only the two sentinels are possible for a valid model
		}
	}
	return out, time.Since(start)
}

// topK returns, for each query, the indexes of the k best documents by dot
// product, queries split over two goroutines.
func topK(q, d []float32, dim, k int) [][]int {
	nq, nd := len(q)/dim, len(d)/dim
	res := make([][]int, nq)
	var wg sync.WaitGroup
	workers := 2
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			scores := make([]float32, nd)
			for i := w; i < nq; i += workers {
				qv := q[i*dim : (i+1)*dim]
				for j := range nd {
					dv := d[j*dim : (j+1)*dim]
					var s float32
					for x, v := range qv {
						s += v * dv[x]
					}
					scores[j] = s
				}
				res[i] = topIdx(scores, k)
			}
		}()
	}
	wg.Wait()
	return res
}

func topIdx(scores []float32, k int) []int {
	best := make([]int, 0, k+1)
	for j, s := range scores {
		if len(best) == k && s <= scores[best[k-1]] {
			continue
		}
		pos := len(best)
		for pos > 0 && scores[best[pos-1]] < s {
			pos--
		}
		best = slices.Insert(best, pos, j)
		if len(best) > k {
			best = best[:k]
		}
	}
	return best
}

// metrics accumulates nDCG@10 and Recall@10 for one relevant document per
// query.
type metrics struct {
	n          int
	ndcg, hits float64
}

func (m *metrics) add(ranked []int, rel int) {
	m.n++
	for r, d := range ranked {
		if r >= 10 {
			break
		}
		if d == rel {
			m.ndcg += 1 / math.Log2(float64(r)+2)
			m.hits++
			return
		}
	}
}

func (m metrics) String() string {
	return fmt.Sprintf("nDCG@10 %.4f  Recall@10 %.4f  (%d queries)", m.ndcg/float64(m.n), m.hits/float64(m.n), m.n)
}

// bm25 is a plain Okapi BM25 (k1 1.2, b 0.75) over lower-cased word tokens.
type bm25 struct {
	post  map[string][]posting
	dlen  []float64
	avgdl float64
}

type posting struct {
	doc int32
	tf  float32
}

// bm25Terms are the words of the synonym rule, so a query lemma never
// matches its own definition by term.
func bm25Terms(s string) []string { return evalsets.Terms(s) }

func newBM25(docs []string) *bm25 {
	b := &bm25{post: map[string][]posting{}, dlen: make([]float64, len(docs))}
	var total float64
	for i, d := range docs {
		tf := map[string]int{}
		terms := bm25Terms(d)
		for _, t := range terms {
			tf[t]++
		}
		keys := make([]string, 0, len(tf))
		for t := range tf {
			keys = append(keys, t)
		}
		slices.Sort(keys)
		for _, t := range keys {
			b.post[t] = append(b.post[t], posting{int32(i), float32(tf[t])})
		}
		b.dlen[i] = float64(len(terms))
		total += float64(len(terms))
	}
	b.avgdl = total / float64(len(docs))
	return b
}

func (b *bm25) search(q string, k int) ([]int, []float32) {
	scores := make([]float32, len(b.dlen))
	n := float64(len(b.dlen))
	seen := map[string]bool{}
	for _, t := range bm25Terms(q) {
		if seen[t] {
			continue
		}
		seen[t] = true
		ps := b.post[t]
		if len(ps) == 0 {
			continue
		}
		df := float64(len(ps))
		idf := math.Log(1 + (n-df+0.5)/(df+0.5))
		for _, p := range ps {
			tf := float64(p.tf)
			s := idf * tf * 2.2 / (tf + 1.2*(0.25+0.75*b.dlen[p.doc]/b.avgdl))
			scores[p.doc] += float32(s)
		}
	}
	return topIdx(scores, k), scores
}

// rrf fuses two rankings by reciprocal rank (k = 60).
func rrf(a, b []int, k int) []int {
	score := map[int]float64{}
	for r, d := range a {
		score[d] += 1 / float64(60+r+1)
	}
	for r, d := range b {
		score[d] += 1 / float64(60+r+1)
	}
	ids := make([]int, 0, len(score))
	for d := range score {
		ids = append(ids, d)
	}
	slices.SortFunc(ids, func(x, y int) int {
		if c := cmp.Compare(score[y], score[x]); c != 0 {
			return c
		}
		return cmp.Compare(x, y)
	})
	return ids[:min(k, len(ids))]
}

func evalDebian(root string, m *builtin.Model, split string) error {
	pairs, err := evalsets.Load(debianLists(root))
	if err != nil {
		return err
	}
	docs := make([]string, len(pairs))
	var queries []string
	var rel []int
	for i, p := range pairs {
		docs[i] = p.Long
		if (split == "eval" && p.Eval) || (split == "dev" && p.Dev) {
			queries = append(queries, p.Query)
			rel = append(rel, i)
		}
	}
	fmt.Printf("debian: %d pairs, %d %s queries\n", len(pairs), len(queries), split)
	dim := m.Dim()
	dv, dt := embedAll(m.Embed, dim, docs)
	qv, qt := embedAll(m.EmbedQueryInto, dim, queries)
	fmt.Printf("debian: embedded %d documents in %v (%.0f docs/s), %d queries in %v (%.0f/s)\n",
		len(docs), dt.Round(time.Millisecond), float64(len(docs))/dt.Seconds(), len(queries), qt.Round(time.Millisecond), float64(len(queries))/qt.Seconds())
	vr := topK(qv, dv, dim, 100)
	bm := newBM25(docs)
	var mv, mb, mh metrics
	for i, q := range queries {
		br, _ := bm.search(q, 100)
		mv.add(vr[i], rel[i])
		mb.add(br, rel[i])
		mh.add(rrf(vr[i], br, 10), rel[i])
	}
	fmt.Printf("debian vector : %v\n", mv)
	fmt.Printf("debian bm25   : %v\n", mb)
	fmt.Printf("debian hybrid : %v (reciprocal rank fusion)\n", mh)
	fmt.Printf("debian vector/bm25 nDCG ratio: %.3f\n", mv.ndcg/mb.ndcg)
	return nil
}

func evalWordNet(root string, m *builtin.Model, split string, maxQ int, freqTok *tokenizer.Tokenizer) error {
	wn, err := readWordNet(root)
	if err != nil {
		return err
	}
	defs := wn.Definitions()
	qs := wn.SynonymQueries()
	if split == "dev" {
		qs = wn.DevSynonymQueries()
	}
	type q = evalsets.SynonymQuery
	var all, freq []q
	for _, x := range qs {
		_, inVocab := freqTok.TokenID(x.Lemma)
		if len(all) < maxQ {
			all = append(all, x)
		}
		if inVocab && len(freq) < maxQ {
			freq = append(freq, x)
		}
	}
	fmt.Printf("wordnet: %d definitions, %d candidate queries; %d sampled, %d sampled among whole-word vocabulary lemmas\n", len(defs), len(qs), len(all), len(freq))
	senses := map[string]int{}
	for _, s := range wn.Synsets {
		for _, l := range s.Lemmas {
			senses[l]++
		}
	}
	dim := m.Dim()
	dv, _ := embedAll(m.Embed, dim, defs)
	bm := newBM25(defs)
	for _, set := range []struct {
		name string
		qs   []q
	}{{"all", all}, {"frequent", freq}} {
		texts := make([]string, len(set.qs))
		for i, x := range set.qs {
			texts[i] = x.Lemma
		}
		qv, _ := embedAll(m.EmbedQueryInto, dim, texts)
		vr := topK(qv, dv, dim, 10)
		var mv, mb metrics
		for i, x := range set.qs {
			if os.Getenv("TRAINMODEL_DEBUG") != "" && i < 6 {
				fmt.Printf("  query %q -> want %q\n", x.Lemma, defs[x.Doc])
				for r, d := range vr[i][:3] {
					fmt.Printf("    %d. %q\n", r+1, defs[d])
				}
			}
			mv.add(vr[i], x.Doc)
			br, _ := bm.search(x.Lemma, 10)
			mb.add(br, x.Doc)
		}
		fmt.Printf("wordnet %-8s vector: %v\n", set.name, mv)
		// Where the misses come from: how many senses (synsets) the query
		// word has in WordNet, and whether a definition containing the
		// word took first place.
		var bySense [3]metrics
		var selfTop int
		for i, x := range set.qs {
			b := min(senses[x.Lemma], 4)
			switch {
			case b <= 1:
				b = 0
			case b <= 3:
				b = 1
			default:
				b = 2
			}
			bySense[b].add(vr[i], x.Doc)
			if len(vr[i]) > 0 && slices.Contains(evalsets.Terms(defs[vr[i][0]]), x.Lemma) {
				selfTop++
			}
		}
		fmt.Printf("wordnet %-8s by senses: 1: R@10 %.3f (%d)  2-3: R@10 %.3f (%d)  4+: R@10 %.3f (%d); top hit contains the query word: %.1f%%\n", set.name,
			bySense[0].hits/float64(max(bySense[0].n, 1)), bySense[0].n, bySense[1].hits/float64(max(bySense[1].n, 1)), bySense[1].n,
			bySense[2].hits/float64(max(bySense[2].n, 1)), bySense[2].n, 100*float64(selfTop)/float64(len(set.qs)))
		fmt.Printf("wordnet %-8s bm25  : %v\n", set.name, mb)
	}
	return nil
}

// evalTriples reports how many (anchor, related, unrelated) triples the
// model orders correctly; the same file drives the builtin package's test.
func evalTriples(m *builtin.Model, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	ok, n := 0, 0
	var margin float64
	for _, line := range strings.Split(string(b), "\n") {
		c := strings.Split(line, "\t")
		if strings.HasPrefix(line, "#") || len(c) != 3 {
			continue
		}
		vs, err := m.EmbedDocuments(context.Background(), c)
		if err != nil {
			return err
		}
		n++
		margin += dot(vs[0], vs[1]) - dot(vs[0], vs[2])
		if dot(vs[0], vs[1]) > dot(vs[0], vs[2]) {
			ok++
		}
	}
	fmt.Printf("triples: %d/%d ordered correctly, mean margin %.3f\n", ok, n, margin/float64(n))
	return nil
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}
