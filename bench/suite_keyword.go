package main

// The keyword suite: vecbolt's full-text index (package fulltext) against
// bleve (github.com/blevesearch/bleve/v2), the established Go full-text
// engine, on the same documents and queries with k = 10:
//
//   - debian: the long descriptions of the Debian retrieval set (about
//     28.5k documents; queries are the evaluation split's one-line
//     descriptions, so nDCG@10 is measured too, next to the bench's
//     reference BM25 in bench/internal/retrieval);
//   - synthetic: --n documents (default 100k; 1M for the reference run)
//     whose words are drawn from the word frequencies of the Debian
//     descriptions and whose lengths from theirs; each query is three
//     distinct words of a random document of the corpus.
//
// Analysis is as equal as bleve allows: both segment by UAX #29, lower-case,
// fold accents, drop Snowball's English stop words and stem with the
// Snowball English stemmer (bleve: char filter asciifolding, tokenizer
// unicode, filters to_lower, stop_en, stemmer_en_snowball; bleve's own
// "en" analyzer would use the older Porter stemmer). Scoring is not equal:
// bleve's "bm25" model uses sqrt(tf) for tf, leaves out the (k1+1) factor,
// multiplies each term's score by its query weight (idf again, times a
// query norm), multiplies a document's sum by the fraction of query terms
// it matches (coord), and reads lengths back from a float32 norm. So the
// top-10 overlap measures how far the rankings differ, not a bug.
//
// Build: documents are inserted in batches of keywordBatch per transaction
// (vecbolt: one bbolt transaction each, committed with fsync; bleve: one
// Batch each), and the build ends when the index is closed (bleve persists
// its segments in the background until then). Bytes per document are the
// file (vecbolt) or directory (bleve) size after closing.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	bleveidx "github.com/blevesearch/bleve_index_api"
	"go.etcd.io/bbolt"

	"github.com/vecbolt/vecbolt/bench/internal/metrics"
	"github.com/vecbolt/vecbolt/bench/internal/retrieval"
	"github.com/vecbolt/vecbolt/fulltext"
	"github.com/vecbolt/vecbolt/internal/evalsets"
)

// keywordBatch is the number of documents per insert transaction/batch.
const keywordBatch = 5000

// keywordK is the depth of every keyword search.
const keywordK = 10

// kwCorpus is a document set with queries.
type kwCorpus struct {
	name    string
	n       int
	doc     func(i int) string // deterministic, callable from any goroutine
	queries []string
	rel     []int // relevant document per query (nil: no judgements)
}

// kwSystem is one engine under test.
type kwSystem interface {
	name() string
	// build indexes the corpus into dir.
	build(ctx context.Context, c *kwCorpus, dir string) error
	// size is the bytes on disk after build.
	size() (int64, error)
	// searcher returns a search function for one worker goroutine, with
	// its close.
	searcher() (func(q string, out []int) ([]int, error), func(), error)
	close() error
}

func (b *bench) keywordSuite(ctx context.Context) error {
	var deb *kwCorpus
	var err error
	if !b.cfg.quick {
		if deb, err = b.debianKeywordCorpus(ctx); err != nil {
			b.logf("keyword: Debian set unavailable, using the demo corpus: %v", err)
		}
	}
	if deb == nil {
		demo, err := demoSet()
		if err != nil {
			return err
		}
		deb = &kwCorpus{name: demo.name, n: len(demo.docs), doc: func(i int) string { return demo.docs[i] }, queries: demo.queries, rel: demo.rel}
	}
	corpora := []*kwCorpus{deb}
	docs := make([]string, deb.n)
	for i := range docs {
		docs[i] = deb.doc(i)
	}
	corpora = append(corpora, syntheticKeywordCorpus(docs, b.cfg.n, b.cfg.queries))
	var errs []error
	for _, c := range corpora {
		if err := b.keywordCorpus(ctx, c); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
			if ctx.Err() != nil {
				break
			}
		}
	}
	return errors.Join(errs...)
}

func (b *bench) debianKeywordCorpus(ctx context.Context) (*kwCorpus, error) {
	lists, err := b.debianLists(ctx)
	if err != nil {
		return nil, err
	}
	pairs, err := evalsets.Load(lists)
	if err != nil {
		return nil, err
	}
	s := debianSet(pairs)
	return &kwCorpus{name: "debian", n: len(s.docs), doc: func(i int) string { return s.docs[i] }, queries: s.queries, rel: s.rel}, nil
}

// syntheticKeywordCorpus draws n documents from the word frequencies and
// lengths of texts (lower-cased runs of letters and digits).
func syntheticKeywordCorpus(texts []string, n, queries int) *kwCorpus {
	counts := map[string]int{}
	var lengths []int
	for _, t := range texts {
		ws := retrieval.Terms(t)
		if len(ws) == 0 {
			continue
		}
		lengths = append(lengths, len(ws))
		for _, w := range ws {
			counts[w]++
		}
	}
	vocab := make([]string, 0, len(counts))
	for w := range counts {
		vocab = append(vocab, w)
	}
	sort.Slice(vocab, func(i, j int) bool {
		if counts[vocab[i]] != counts[vocab[j]] {
			return counts[vocab[i]] > counts[vocab[j]]
		}
		return vocab[i] < vocab[j]
	})
	cum := make([]int, len(vocab))
	total := 0
	for i, w := range vocab {
		total += counts[w]
		cum[i] = total
	}
	slices.Sort(lengths)
	gen := func(i int) []string {
		r := rand.New(rand.NewPCG(0x6b6579776f7264, uint64(i)))
		ws := make([]string, lengths[r.IntN(len(lengths))])
		for j := range ws {
			x := r.IntN(total)
			ws[j] = vocab[sort.SearchInts(cum, x+1)]
		}
		return ws
	}
	c := &kwCorpus{name: datasetLabel("synthetic", n), n: n, doc: func(i int) string { return strings.Join(gen(i), " ") }}
	r := rand.New(rand.NewPCG(0x71756572, 1))
	for len(c.queries) < queries {
		ws := gen(r.IntN(n))
		r.Shuffle(len(ws), func(i, j int) { ws[i], ws[j] = ws[j], ws[i] })
		var q []string
		for _, w := range ws {
			if !slices.Contains(q, w) {
				q = append(q, w)
			}
			if len(q) == 3 {
				break
			}
		}
		c.queries = append(c.queries, strings.Join(q, " "))
	}
	return c
}

func (b *bench) keywordCorpus(ctx context.Context, c *kwCorpus) error {
	b.logf("keyword: %s: %d documents, %d queries", c.name, c.n, len(c.queries))
	var systems []kwSystem
	if b.on("vecbolt-fulltext") {
		systems = append(systems, &vbKeyword{cfg: fulltext.Config{}, label: "vecbolt-fulltext"})
	}
	if b.on("bleve") {
		systems = append(systems, &bleveKeyword{})
	}
	// The project's BM25 with stemming and stop words off, the analysis
	// closest to the reference's (quality only, on judged sets).
	if c.rel != nil && b.on("vecbolt-fulltext") {
		systems = append(systems, &vbKeyword{cfg: fulltext.Config{Language: fulltext.LanguageNone}, label: "vecbolt-fulltext-nostem", only: true})
	}
	tops := map[string][][]int{}
	for _, s := range systems {
		top, err := b.keywordSystem(ctx, c, s)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name(), err)
		}
		tops[s.name()] = top
	}
	if c.rel != nil {
		bm := retrieval.NewBM25(docsOf(c))
		ref := make([][]int, len(c.queries))
		for i, q := range c.queries {
			ref[i] = bm.Search(q, keywordK)
		}
		tops["reference-bm25"] = ref
		relevant := make([][]int, len(c.rel))
		for i, r := range c.rel {
			relevant[i] = []int{r}
		}
		for _, name := range []string{"reference-bm25", "vecbolt-fulltext", "vecbolt-fulltext-nostem", "bleve"} {
			top, ok := tops[name]
			if !ok {
				continue
			}
			sc, err := retrieval.Evaluate(top, relevant, keywordK)
			if err != nil {
				return err
			}
			b.rep.add(Measurement{Suite: "keyword", System: name, Dataset: c.name, N: c.n, K: keywordK,
				Params: map[string]any{"queries": len(c.queries), "metric": "quality"}, NDCGAt10: fp(sc.NDCG), RecallAt10Docs: fp(sc.Recall)})
			b.logf("keyword: %s %s: nDCG@10 %.4f Recall@10 %.4f", c.name, name, sc.NDCG, sc.Recall)
		}
		if v, ok := tops["vecbolt-fulltext-nostem"]; ok {
			ov, same := overlap(v, ref)
			b.rep.add(Measurement{Suite: "keyword", System: "vecbolt-fulltext-nostem/reference-bm25", Dataset: c.name, N: c.n, K: keywordK,
				Params: map[string]any{"top10_overlap": round4(ov), "identical_lists": round4(same)}, Note: "agreement of the two BM25s without stemming (tokenizers differ: UAX #29 vs runs of letters and digits)"})
		}
	}
	if v, ok := tops["vecbolt-fulltext"]; ok {
		if bl, ok := tops["bleve"]; ok {
			ov, same := overlap(v, bl)
			b.rep.add(Measurement{Suite: "keyword", System: "vecbolt-fulltext/bleve", Dataset: c.name, N: c.n, K: keywordK,
				Params: map[string]any{"top10_overlap": round4(ov), "identical_lists": round4(same)}, Note: "bleve's bm25 differs (sqrt tf, idf twice, coord)"})
			b.logf("keyword: %s: top-10 overlap with bleve %.4f, identical lists %.4f", c.name, ov, same)
		}
	}
	return nil
}

func docsOf(c *kwCorpus) []string {
	out := make([]string, c.n)
	for i := range out {
		out[i] = c.doc(i)
	}
	return out
}

// overlap is the mean over queries of |a ∩ b| / max(|a|, |b|) (queries
// where both are empty count as 1), and the fraction of identical sets.
func overlap(a, b [][]int) (mean, same float64) {
	for i := range a {
		m := max(len(a[i]), len(b[i]))
		if m == 0 {
			mean++
			same++
			continue
		}
		common := 0
		for _, x := range a[i] {
			if slices.Contains(b[i], x) {
				common++
			}
		}
		mean += float64(common) / float64(m)
		if common == m {
			same++
		}
	}
	return mean / float64(len(a)), same / float64(len(a))
}

// keywordSystem builds s over c, measures it and returns its top-10 lists.
func (b *bench) keywordSystem(ctx context.Context, c *kwCorpus, s kwSystem) ([][]int, error) {
	dir, err := os.MkdirTemp(b.workDir, "keyword-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	metrics.Settle()
	t0 := time.Now()
	if err := s.build(ctx, c, dir); err != nil {
		return nil, err
	}
	el := time.Since(t0)
	size, err := s.size()
	if err != nil {
		return nil, err
	}
	b.logf("keyword: %s %s: built in %s (%.0f docs/s), %.0f bytes/doc", c.name, s.name(), el.Round(time.Millisecond), float64(c.n)/el.Seconds(), float64(size)/float64(c.n))
	defer s.close()
	nq := len(c.queries)
	top := make([][]int, nq)
	// Warm-up and the recorded answers.
	search, done, err := s.searcher()
	if err != nil {
		return nil, err
	}
	for i, q := range c.queries {
		if top[i], err = search(q, nil); err != nil {
			done()
			return nil, err
		}
	}
	done()
	if q, ok := s.(interface{ qualityOnly() bool }); ok && q.qualityOnly() {
		return top, nil
	}
	m := Measurement{Suite: "keyword", System: s.name(), Dataset: c.name, N: c.n, K: keywordK,
		Params: map[string]any{"queries": nq, "batch": keywordBatch}, BuildS: fp(el.Seconds()),
		DocsPerS: fp(float64(c.n) / el.Seconds()), BytesPerVector: fp(float64(size) / float64(c.n)), FileMB: fp(metrics.MB(size))}
	m.Params["bytes_per_doc"] = round4(float64(size) / float64(c.n))
	for _, t := range threadCounts() {
		var best metrics.Run
		var bestCPU float64
		var spent time.Duration
		for rep := 0; rep < searchReps && (rep == 0 || spent < searchRepBudget); rep++ {
			fns := make([]func(string, []int) ([]int, error), t)
			outs := make([][]int, t)
			for w := range fns {
				f, d, err := s.searcher()
				if err != nil {
					return nil, err
				}
				defer d()
				fns[w] = f
				outs[w] = make([]int, 0, keywordK)
			}
			r, err := withProcs(t, func() (metrics.Run, error) {
				return metrics.Timed(ctx, nq, t, func(w, i int) error {
					var err error
					outs[w], err = fns[w](c.queries[i], outs[w][:0])
					return err
				})
			})
			if err != nil {
				return nil, err
			}
			spent += r.Elapsed
			if r.QPS > best.QPS {
				best = r
			}
			bestCPU = max(bestCPU, r.CPUQPS)
		}
		if t == 1 {
			m.QPS1T, m.P50Ms, m.P99Ms = fp(best.QPS), fp(metrics.Ms(best.P50)), fp(metrics.Ms(best.P99))
			if bestCPU > 0 {
				m.QPS1TCPU = fp(bestCPU)
			}
		} else {
			m.QPS2T = fp(best.QPS)
		}
		b.logf("keyword: %s %s: %d thread(s) %.0f q/s, p50 %.3f ms, p99 %.3f ms", c.name, s.name(), t, best.QPS, metrics.Ms(best.P50), metrics.Ms(best.P99))
	}
	b.rep.add(m)
	return top, nil
}

// vbKeyword is package fulltext in a bbolt file, as the database uses it.
type vbKeyword struct {
	cfg   fulltext.Config
	label string
	only  bool // quality figures only: not timed
	db    *bbolt.DB
	a     *fulltext.Analyzer
	path  string
}

var vbBucket = []byte("fulltext")

func (v *vbKeyword) name() string      { return v.label }
func (v *vbKeyword) qualityOnly() bool { return v.only }

func (v *vbKeyword) build(ctx context.Context, c *kwCorpus, dir string) error {
	a, err := fulltext.NewAnalyzer(v.cfg)
	if err != nil {
		return err
	}
	v.a = a
	v.path = filepath.Join(dir, "fulltext.db")
	if v.db, err = bbolt.Open(v.path, 0o600, nil); err != nil {
		return err
	}
	for from := 0; from < c.n; from += keywordBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := v.db.Update(func(tx *bbolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists(vbBucket)
			if err != nil {
				return err
			}
			w, err := fulltext.NewWriter(bk, a)
			if err != nil {
				return err
			}
			for i := from; i < min(from+keywordBatch, c.n); i++ {
				if err := w.Add(uint64(i), c.doc(i)); err != nil {
					return err
				}
			}
			return w.Flush()
		})
		if err != nil {
			return err
		}
	}
	// Closed and reopened, as bleve is: the build ends on disk.
	if err := v.db.Close(); err != nil {
		return err
	}
	v.db, err = bbolt.Open(v.path, 0o600, &bbolt.Options{ReadOnly: true})
	return err
}

func (v *vbKeyword) size() (int64, error) {
	st, err := os.Stat(v.path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func (v *vbKeyword) searcher() (func(string, []int) ([]int, error), func(), error) {
	tx, err := v.db.Begin(false)
	if err != nil {
		return nil, nil, err
	}
	r, err := fulltext.NewReader(tx.Bucket(vbBucket), v.a)
	if err != nil {
		tx.Rollback()
		return nil, nil, err
	}
	ctx := context.Background()
	return func(q string, out []int) ([]int, error) {
		hits, err := r.Search(ctx, q, keywordK, nil)
		if err != nil {
			return out, err
		}
		for _, h := range hits {
			out = append(out, int(h.Label))
		}
		return out, nil
	}, func() { tx.Rollback() }, nil
}

func (v *vbKeyword) close() error {
	if v.db == nil {
		return nil
	}
	return v.db.Close()
}

// bleveKeyword is bleve with the analysis closest to package fulltext's
// English analysis and its bm25 scoring model.
type bleveKeyword struct {
	idx bleve.Index
	dir string
}

func (*bleveKeyword) name() string { return "bleve" }

const bleveAnalyzer = "vecbolt_en"

func bleveMapping() (*mapping.IndexMappingImpl, error) {
	im := bleve.NewIndexMapping()
	err := im.AddCustomAnalyzer(bleveAnalyzer, map[string]any{
		"type":          custom.Name,
		"char_filters":  []any{asciifolding.Name},
		"tokenizer":     unicode.Name,
		"token_filters": []any{lowercase.Name, en.StopName, en.SnowballStemmerName},
	})
	if err != nil {
		return nil, err
	}
	im.ScoringModel = bleveidx.BM25Scoring
	im.DefaultAnalyzer = bleveAnalyzer
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	f := bleve.NewTextFieldMapping()
	f.Analyzer = bleveAnalyzer
	f.Store = false
	f.IncludeTermVectors = false
	f.IncludeInAll = false
	f.DocValues = false
	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt("text", f)
	im.DefaultMapping = dm
	return im, nil
}

type bleveDoc struct {
	Text string `json:"text"`
}

func (bl *bleveKeyword) build(ctx context.Context, c *kwCorpus, dir string) error {
	im, err := bleveMapping()
	if err != nil {
		return err
	}
	bl.dir = filepath.Join(dir, "bleve")
	idx, err := bleve.New(bl.dir, im)
	if err != nil {
		return err
	}
	for from := 0; from < c.n; from += keywordBatch {
		if err := ctx.Err(); err != nil {
			idx.Close()
			return err
		}
		batch := idx.NewBatch()
		for i := from; i < min(from+keywordBatch, c.n); i++ {
			if err := batch.Index(strconv.Itoa(i), bleveDoc{Text: c.doc(i)}); err != nil {
				idx.Close()
				return err
			}
		}
		if err := idx.Batch(batch); err != nil {
			idx.Close()
			return err
		}
	}
	if err := idx.Close(); err != nil {
		return err
	}
	bl.idx, err = bleve.Open(bl.dir)
	return err
}

func (bl *bleveKeyword) size() (int64, error) { return dirSize(bl.dir) }

func (bl *bleveKeyword) searcher() (func(string, []int) ([]int, error), func(), error) {
	return func(q string, out []int) ([]int, error) {
		mq := bleve.NewMatchQuery(q)
		mq.SetField("text")
		mq.Analyzer = bleveAnalyzer
		req := bleve.NewSearchRequestOptions(mq, keywordK, 0, false)
		res, err := bl.idx.Search(req)
		if err != nil {
			return out, err
		}
		for _, h := range res.Hits {
			id, err := strconv.Atoi(h.ID)
			if err != nil {
				return out, fmt.Errorf("bleve id %q: %w", h.ID, err)
			}
			out = append(out, id)
		}
		return out, nil
	}, func() {}, nil
}

func (bl *bleveKeyword) close() error {
	if bl.idx == nil {
		return nil
	}
	return bl.idx.Close()
}
