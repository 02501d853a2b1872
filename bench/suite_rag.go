package main

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vecbolt/vecbolt/bench/internal/retrieval"
	"github.com/vecbolt/vecbolt/chunk"
	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/index"
	"github.com/vecbolt/vecbolt/ingest"
)

// The rag suite extends longdoc (same man pages, queries and splits) in
// three ways:
//
//  1. Grouping: how a page is scored from its passages. A page's score is
//     s1 + a·s2 + w·whole, where s1 and s2 are its best two passage scores
//     among a query's candidates and whole is the score of the page
//     embedded whole. a = w = 0 is "max". The chosen size also gets the
//     rows of db.SearchDocuments' defaults: w = DefaultDocumentWeight, with
//     and without DefaultLengthPenalty·ln(passages) subtracted.
//     The sweep runs over the passage sizes of longdoc; the setting is
//     chosen on the dev split (105 queries: differences of a point or two
//     there are noise) and every row is printed for both splits.
//  2. The real database path: the pages upserted into a chunked collection
//     (db.WithChunking, HNSW index) and searched with SearchDocuments in
//     each mode (vector, keyword: the db's BM25 over passages, hybrid: the
//     default, their fusion), and the hybrid of the vector ranking with
//     BM25 (the bench's reference) over the whole pages, by RRF; with
//     insert throughput.
//  3. Import: the pages written as .txt files and imported with
//     ingest.Files (what `vecbolt add-files` runs): files/s and MB/s.

// ragChunkSizes are the passage sizes of the grouping sweep: longdoc's
// and 16 and 32, since the smaller the better down to 64 there.
var ragChunkSizes = append([]int{16, 32}, longdocChunkSizes...)

// ragChunkSize and ragOverlap are the passages of the database path, and
// ragPenalty the length penalty of the sweep's chosen row: chosen on the
// dev split (bench/ragdev; see BENCHMARKS.md, "Long documents"). The
// sweep's other sizes overlap by an eighth, as before.
const (
	ragChunkSize = 16
	ragOverlap   = 8
	ragPenalty   = db.DefaultLengthPenalty
)

func (b *bench) ragSuite(ctx context.Context) error {
	if b.quickWithoutDownload("rag", "manpages") {
		return nil
	}
	set, err := b.loadManPageSet(ctx)
	if err != nil {
		return err
	}
	e, pages, docs, bytes, counter := set.e, set.pages, set.docs, set.bytes, set.counter
	qvecs := make([][]float32, len(pages))
	for i, p := range pages {
		if qvecs[i], err = e.EmbedQuery(ctx, p.Query); err != nil {
			return err
		}
	}
	wholeVecs, err := e.EmbedDocuments(ctx, docs)
	if err != nil {
		return err
	}
	bm := retrieval.NewBM25(docs)
	bmWhole := make([][]int, len(pages))
	for i, p := range pages {
		bmWhole[i] = bm.Search(p.Query, 100)
	}

	type row struct {
		system string
		params map[string]any
		ranked [][]int
	}
	var rows []row
	// 1. Grouping sweep, exact search.
	for _, size := range ragChunkSizes {
		overlap := size / 8
		if size == ragChunkSize {
			overlap = ragOverlap
		}
		var ptext []string
		var owner []int
		for i, d := range docs {
			ps, err := chunk.Split(d, chunk.WithMaxTokens(size), chunk.WithOverlap(overlap), chunk.WithCounter(counter))
			if err != nil {
				return err
			}
			for _, p := range ps {
				ptext = append(ptext, d[p.Start:p.End])
				owner = append(owner, i)
			}
		}
		cands, err := passageCandidates(ctx, e, ptext, qvecs)
		if err != nil {
			return err
		}
		npass := make([]int, len(docs))
		for _, o := range owner {
			npass[o]++
		}
		type setting struct{ a, w, pen float64 }
		var settings []setting
		for _, a := range []float64{0, 0.25, 0.5} {
			for _, w := range []float64{0, 0.25, 0.5, 1} {
				settings = append(settings, setting{a, w, 0})
			}
		}
		if size == ragChunkSize {
			settings = append(settings, setting{0, db.DefaultDocumentWeight, 0}, setting{0, db.DefaultDocumentWeight, ragPenalty})
		}
		for _, st := range settings {
			a, w := st.a, st.w
			ranked := make([][]int, len(pages))
			for q := range pages {
				ranked[q] = groupScores(cands[q], owner, npass, qvecs[q], wholeVecs, a, w, st.pen, 100)
			}
			params := map[string]any{"max_tokens": size, "overlap": overlap, "second": a, "whole": w, "length_penalty": st.pen}
			rows = append(rows, row{"vector-passages-grouped", params, ranked})
			hyb := make([][]int, len(pages))
			for q := range pages {
				hyb[q] = rrf(bmWhole[q], ranked[q], 60, 100)
			}
			rows = append(rows, row{"hybrid-rrf-bm25whole+grouped", params, hyb})
		}
	}

	// 2. The database path.
	path := filepath.Join(b.workDir, "rag.vecbolt")
	os.Remove(path)
	d, err := db.Open(path, db.WithEmbedder(e))
	if err != nil {
		return err
	}
	defer func() { d.Close(); os.Remove(path) }()
	c, err := d.CreateCollection(ctx, "man", db.WithChunking(ragChunkSize, ragOverlap))
	if err != nil {
		return err
	}
	t0 := time.Now()
	const batch = 32
	for i := 0; i < len(pages); i += batch {
		var in []db.Document
		for j := i; j < min(i+batch, len(pages)); j++ {
			in = append(in, db.Document{ID: fmt.Sprint(j), Text: docs[j]})
		}
		if _, err := c.Upsert(ctx, in...); err != nil {
			return err
		}
	}
	el := time.Since(t0)
	info := c.Info()
	b.rep.add(Measurement{Suite: "rag", System: "db/upsert-chunked", Dataset: "manpages", N: len(pages),
		DocsPerS: fp(round4(float64(len(pages)) / el.Seconds())),
		Params:   map[string]any{"max_tokens": ragChunkSize, "passages": info.Passages, "mb_per_s": round4(float64(bytes) / 1e6 / el.Seconds()), "batch": batch},
		Note:     "chunk, embed (built-in model), store and index (HNSW), one transaction per batch"})
	b.logf("rag: upserted %d pages (%d passages) in %v: %.1f pages/s, %.2f MB/s", len(pages), info.Passages, el.Round(time.Millisecond), float64(len(pages))/el.Seconds(), float64(bytes)/1e6/el.Seconds())
	// SearchDocuments in each mode: vector (with DocumentWeight), keyword
	// (BM25 over the passages, best passage per page) and hybrid (the
	// default: the fusion of those two document rankings, see
	// db.SearchDocuments).
	docRanks := func(mode db.Mode) ([][]int, error) {
		out := make([][]int, len(pages))
		t0 := time.Now()
		for q, p := range pages {
			res, err := c.SearchDocuments(ctx, p.Query, db.TopK(100), db.PassagesPerDocument(1), db.WithFields(), db.WithMode(mode))
			if err != nil {
				return nil, err
			}
			for _, r := range res {
				var j int
				fmt.Sscan(r.ID, &j)
				out[q] = append(out[q], j)
			}
		}
		b.logf("rag: %d SearchDocuments(TopK 100, mode %v) in %v", len(pages), mode, time.Since(t0).Round(time.Millisecond))
		return out, nil
	}
	dbRanked, err := docRanks(db.ModeVector)
	if err != nil {
		return err
	}
	dbKeyword, err := docRanks(db.ModeKeyword)
	if err != nil {
		return err
	}
	dbHybrid, err := docRanks(db.ModeHybrid)
	if err != nil {
		return err
	}
	dbHyb := make([][]int, len(pages))
	for q := range pages {
		dbHyb[q] = rrf(bmWhole[q], dbRanked[q], 60, 100)
	}
	dbParams := map[string]any{"max_tokens": ragChunkSize, "overlap": ragOverlap, "index": "hnsw"}
	rows = append(rows, row{"db/SearchDocuments", dbParams, dbRanked}, row{"db/hybrid-rrf-bm25whole+SearchDocuments", dbParams, dbHyb},
		row{"db/SearchDocuments-keyword", dbParams, dbKeyword}, row{"db/SearchDocuments-hybrid", dbParams, dbHybrid})

	for _, split := range []struct {
		name string
		dev  bool
	}{{"manpages-dev", true}, {"manpages-eval", false}} {
		var sel []int
		for i, p := range pages {
			if p.Dev == split.dev {
				sel = append(sel, i)
			}
		}
		relevant := make([][]int, len(sel))
		for j, i := range sel {
			relevant[j] = []int{i}
		}
		for _, r := range rows {
			ranked := make([][]int, len(sel))
			for j, i := range sel {
				ranked[j] = r.ranked[i]
			}
			sc, err := retrieval.Evaluate(ranked, relevant, 10)
			if err != nil {
				return err
			}
			params := map[string]any{"queries": len(sel)}
			for k, v := range r.params {
				params[k] = v
			}
			b.rep.add(Measurement{Suite: "rag", System: r.system, Dataset: split.name, N: len(docs), K: 10,
				Params: params, NDCGAt10: fp(sc.NDCG), RecallAt10Docs: fp(sc.Recall)})
			b.logf("rag: %s %s %v: nDCG@10 %.4f Recall@10 %.4f", split.name, r.system, r.params, sc.NDCG, sc.Recall)
		}
	}

	// 3. Import of a directory tree of text files.
	dir := filepath.Join(b.workDir, "rag-files")
	os.RemoveAll(dir)
	defer os.RemoveAll(dir)
	for i, p := range pages {
		sub := filepath.Join(dir, fmt.Sprintf("man%d", i%9))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
		name := strings.NewReplacer("/", "_", " ", "_").Replace(p.Name)
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("%s.%d.txt", name, i)), []byte(p.Text), 0o644); err != nil {
			return err
		}
	}
	fpath := filepath.Join(b.workDir, "rag-files.vecbolt")
	os.Remove(fpath)
	fd, err := db.Open(fpath, db.WithEmbedder(e))
	if err != nil {
		return err
	}
	defer func() { fd.Close(); os.Remove(fpath) }()
	fc, err := fd.CreateCollection(ctx, "files", db.WithChunking(chunk.DefaultMaxTokens, chunk.DefaultOverlap))
	if err != nil {
		return err
	}
	t0 = time.Now()
	res, err := ingest.Files(ctx, fc, []string{dir})
	if err != nil {
		return err
	}
	el = time.Since(t0)
	if res.Added != len(pages) || len(res.Failed) > 0 {
		return fmt.Errorf("rag: import stored %d of %d files (%d failed: %v)", res.Added, len(pages), len(res.Failed), res.Failed)
	}
	b.rep.add(Measurement{Suite: "rag", System: "ingest.Files", Dataset: "manpages-txt", N: len(pages),
		DocsPerS: fp(round4(float64(len(pages)) / el.Seconds())),
		Params:   map[string]any{"max_tokens": chunk.DefaultMaxTokens, "overlap": chunk.DefaultOverlap, "mb_per_s": round4(float64(res.Bytes) / 1e6 / el.Seconds())},
		Note:     "vecbolt add-files' import: walk, read, hash, chunk, embed, store, index"})
	b.logf("rag: imported %d files (%.1f MB) in %v: %.1f files/s, %.2f MB/s", res.Added, float64(res.Bytes)/1e6, el.Round(time.Millisecond), float64(res.Added)/el.Seconds(), float64(res.Bytes)/1e6/el.Seconds())
	t0 = time.Now()
	res, err = ingest.Files(ctx, fc, []string{dir})
	if err != nil {
		return err
	}
	b.logf("rag: re-import of the unchanged tree: %d unchanged in %v", res.Unchanged, time.Since(t0).Round(time.Millisecond))
	return nil
}

// candidate is one passage hit of a query.
type candidate struct {
	id    int
	score float32
}

// passageCandidates embeds the passages and returns, per query, the best
// longdocCandidates passages by exact search, best first.
func passageCandidates(ctx context.Context, e embedder.Embedder, texts []string, qvecs [][]float32) ([][]candidate, error) {
	flat := index.NewFlat(e.Identity().Dim, index.Dot)
	for i := 0; i < len(texts); i += 256 {
		vecs, err := e.EmbedDocuments(ctx, texts[i:min(i+256, len(texts))])
		if err != nil {
			return nil, err
		}
		for j, v := range vecs {
			if err := flat.Add(uint64(i+j), v); err != nil {
				return nil, err
			}
		}
	}
	k := min(longdocCandidates, len(texts))
	out := make([][]candidate, len(qvecs))
	for start := 0; start < len(qvecs); start += 16 {
		end := min(start+16, len(qvecs))
		res, err := flat.SearchBatch(qvecs[start:end], k, nil)
		if err != nil {
			return nil, err
		}
		for j, rs := range res {
			for _, r := range rs {
				out[start+j] = append(out[start+j], candidate{int(r.ID), -r.Distance})
			}
		}
	}
	return out, nil
}

// groupScores ranks the pages of a query's passage candidates by
// s1 + a·s2 + w·whole - pen·ln(passages) (see the suite's doc; npass[p]
// is page p's passage count), best first, at most k.
func groupScores(cands []candidate, owner, npass []int, q []float32, whole [][]float32, a, w, pen float64, k int) []int {
	type agg struct {
		n      int
		s1, s2 float64
	}
	by := map[int]*agg{}
	var order []int
	for _, c := range cands {
		p := owner[c.id]
		g := by[p]
		if g == nil {
			g = &agg{}
			by[p] = g
			order = append(order, p)
		}
		switch g.n {
		case 0:
			g.s1 = float64(c.score)
		case 1:
			g.s2 = float64(c.score)
		}
		g.n++
	}
	score := make(map[int]float64, len(order))
	for _, p := range order {
		g := by[p]
		s := g.s1 + a*g.s2
		if w != 0 {
			s += w * float64(dot(q, whole[p]))
		}
		if pen != 0 {
			s -= pen * math.Log(float64(npass[p]))
		}
		score[p] = s
	}
	slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(score[y], score[x]) })
	return order[:min(k, len(order))]
}

func dot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
