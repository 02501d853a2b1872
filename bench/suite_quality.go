package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vecbolt/vecbolt/embedder/tokenizer"

	"github.com/vecbolt/vecbolt/bench/internal/metrics"
	"github.com/vecbolt/vecbolt/bench/internal/retrieval"
	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/index"
	"github.com/vecbolt/vecbolt/internal/evalsets"
)

// qrelSet is a retrieval set with one relevant document per query.
type qrelSet struct {
	name    string
	queries []string
	docs    []string
	rel     []int // rel[i] is query i's relevant document
	// noANN skips the HNSW-vs-exact measurement (sets whose corpus is
	// large and whose graph figures would repeat debian-eval's).
	noANN bool
}

// demoSet turns the committed demo corpus into a small retrieval set: each
// text is "one-line description. long description", so the one-line part
// is the query and the rest the document. It needs no download, so --quick
// and CI use it. Most of its packages are in the built-in model's training
// split, so it checks for regressions; debian-eval measures the model.
func demoSet() (qrelSet, error) {
	docs, _, err := corpusTexts()
	if err != nil {
		return qrelSet{}, err
	}
	s := qrelSet{name: "debian-demo"}
	for _, t := range docs {
		q, d, ok := strings.Cut(t, ". ")
		if !ok || len(strings.Fields(d)) < 5 {
			continue
		}
		s.rel = append(s.rel, len(s.docs))
		s.queries = append(s.queries, q)
		s.docs = append(s.docs, d)
	}
	if len(s.queries) < 50 {
		return s, fmt.Errorf("demo corpus gave only %d pairs", len(s.queries))
	}
	return s, nil
}

// debianSet is the evaluation split of the Debian retrieval set: queries of
// the split only, searched against the long descriptions of all pairs.
func debianSet(pairs []evalsets.Pair) qrelSet {
	s := qrelSet{name: "debian-eval"}
	for i, p := range pairs {
		s.docs = append(s.docs, p.Doc)
		if p.Eval {
			s.queries = append(s.queries, p.Query)
			s.rel = append(s.rel, i)
		}
	}
	return s
}

// debianLists returns an apt lists directory holding bookworm's Packages
// and Translation-en, fetching them into the cache with apt-get (into a
// private lists directory: the system's apt state is not touched) when
// they are not there yet.
func (b *bench) debianLists(ctx context.Context) (string, error) {
	if b.cfg.debianLists != "" {
		return b.cfg.debianLists, nil
	}
	dir := filepath.Join(b.cfg.cache, "debian-lists")
	if _, err := evalsets.Load(dir); err == nil {
		return dir, nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", fmt.Errorf("no apt-get to fetch Debian's description lists (give --debian-lists DIR): %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "partial"), 0o755); err != nil {
		return "", err
	}
	b.logf("quality: fetching Debian package lists into %s (apt-get update, private lists dir)", dir)
	cmd := exec.CommandContext(ctx, "apt-get", "update", "-qq", "-o", "Dir::State::Lists="+dir,
		"-o", "Acquire::Languages=en", "-o", "Acquire::GzipIndexes=false")
	cmd.Stdout, cmd.Stderr = b.stderr, b.stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("apt-get update into %s: %w", dir, err)
	}
	return dir, nil
}

// wordnetQueries is the size of the deterministic query sample of the
// WordNet set, the same as tools/trainmodel -eval's default so the figures
// can be compared.
const wordnetQueries = 2000

// wordnetSets builds the WordNet synonym → definition set (see
// internal/evalsets): the first wordnetQueries queries in hash order, and
// the first wordnetQueries among lemmas that are whole words of the
// model's vocabulary ("frequent"; only when the embedder exposes its
// tokenizer), both against every definition.
func wordnetSets(wn *evalsets.WordNet, e embedder.Embedder) []qrelSet {
	defs := wn.Definitions()
	all := qrelSet{name: "wordnet-synonym", docs: defs, noANN: true}
	freq := qrelSet{name: "wordnet-synonym-frequent", docs: defs, noANN: true}
	tk, hasTok := e.(interface{ Tokenizer() *tokenizer.Tokenizer })
	for _, q := range wn.SynonymQueries() {
		if len(all.queries) < wordnetQueries {
			all.queries = append(all.queries, q.Lemma)
			all.rel = append(all.rel, q.Doc)
		}
		if hasTok && len(freq.queries) < wordnetQueries {
			if _, ok := tk.Tokenizer().TokenID(q.Lemma); ok {
				freq.queries = append(freq.queries, q.Lemma)
				freq.rel = append(freq.rel, q.Doc)
			}
		}
	}
	if !hasTok {
		return []qrelSet{all}
	}
	return []qrelSet{all, freq}
}

// wordnetRoot returns a directory holding wordnet-base unpacked (see
// evalsets.WordNetDir), fetching the Debian package into the cache with
// apt-get download and dpkg-deb -x, as tools/trainmodel/fetch-corpus.sh
// does (nothing is installed), when it is not there yet.
func (b *bench) wordnetRoot(ctx context.Context) (string, error) {
	root := filepath.Join(b.cfg.cache, "wordnet")
	if _, err := os.Stat(filepath.Join(evalsets.WordNetDir(root), "data.noun")); err == nil {
		return root, nil
	}
	for _, tool := range []string{"apt-get", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("no %s to fetch wordnet-base: %w", tool, err)
		}
	}
	debs := filepath.Join(root, "debs")
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return "", err
	}
	b.logf("quality: fetching wordnet-base into %s (apt-get download, dpkg-deb -x)", root)
	cmd := exec.CommandContext(ctx, "apt-get", "download", "-qq", "wordnet-base")
	cmd.Dir, cmd.Stdout, cmd.Stderr = debs, b.stderr, b.stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("apt-get download wordnet-base into %s: %w", debs, err)
	}
	found, err := filepath.Glob(filepath.Join(debs, "wordnet-base_*.deb"))
	if err != nil || len(found) == 0 {
		return "", fmt.Errorf("apt-get download left no wordnet-base_*.deb in %s", debs)
	}
	slices.Sort(found)
	tmp := filepath.Join(root, "wordnet-base.tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return "", err
	}
	cmd = exec.CommandContext(ctx, "dpkg-deb", "-x", found[len(found)-1], tmp)
	cmd.Stdout, cmd.Stderr = b.stderr, b.stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("dpkg-deb -x %s: %w", found[len(found)-1], err)
	}
	if err := os.Rename(tmp, filepath.Join(root, "wordnet-base")); err != nil {
		return "", err
	}
	return root, nil
}

// qualitySuite measures retrieval quality of the built-in model (exact
// search over its vectors, so the figure is the model's, not the index's),
// BM25 on the same text, and their reciprocal-rank fusion; then how much
// the HNSW graph loses against exact search on these real embeddings.
func (b *bench) qualitySuite(ctx context.Context) error {
	e, err := b.builtinEmbedder()
	if err != nil {
		return fmt.Errorf("built-in model: %w", err)
	}
	demo, err := demoSet()
	if err != nil {
		return err
	}
	sets := []qrelSet{demo}
	if !b.cfg.quick {
		lists, err := b.debianLists(ctx)
		if err == nil {
			var pairs []evalsets.Pair
			if pairs, err = evalsets.Load(lists); err == nil {
				sets = append(sets, debianSet(pairs))
			}
		}
		if err != nil {
			b.logf("quality: Debian evaluation set unavailable, demo set only: %v", err)
		}
		root, err := b.wordnetRoot(ctx)
		if err == nil {
			var wn *evalsets.WordNet
			if wn, err = evalsets.ReadWordNet(evalsets.WordNetDir(root)); err == nil {
				sets = append(sets, wordnetSets(wn, e)...)
			}
		}
		if err != nil {
			b.logf("quality: WordNet synonym set unavailable: %v", err)
		}
	}
	var errs []error
	for _, s := range sets {
		if err := b.qualitySet(ctx, e, s); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.name, err))
		}
	}
	if !b.cfg.quick {
		// Vector, keyword and hybrid search through the database
		// (suite_hybrid.go).
		if err := b.hybridQuality(ctx); err != nil {
			errs = append(errs, fmt.Errorf("hybrid: %w", err))
		}
	}
	return errors.Join(errs...)
}

// qualityFloorStatic and qualityFloorBM25 are --quick's floors on the demo
// set (364 queries), where the full runs measured nDCG@10 0.884 and then
// 0.959 for successive versions of the built-in model, and 0.855 for BM25
// (BENCHMARKS.md). Embedding and exact
// search are deterministic, so the margin is not for noise but for
// retrained models: most demo packages are in the model's training split,
// so a retrained model may trade some of its (inflated) demo score for
// gains on the evaluation split; a drop below the floor means the model or
// the harness broke.
const (
	qualityFloorStatic = 0.62
	qualityFloorBM25   = 0.84
)

func (b *bench) qualitySet(ctx context.Context, e embedder.Embedder, s qrelSet) error {
	const k = 10
	b.logf("quality: %s: %d queries over %d documents", s.name, len(s.queries), len(s.docs))
	relevant := make([][]int, len(s.rel))
	for i, r := range s.rel {
		relevant[i] = []int{r}
	}
	base := Measurement{Suite: "quality", Dataset: s.name, N: len(s.docs), K: k}
	emit := func(system string, ranked [][]int, params map[string]any, note string) (retrieval.Scores, error) {
		sc, err := retrieval.Evaluate(ranked, relevant, k)
		if err != nil {
			return sc, err
		}
		m := base
		m.System, m.Params, m.Note = system, params, note
		if m.Params == nil {
			m.Params = map[string]any{}
		}
		m.Params["queries"] = len(s.queries)
		m.NDCGAt10, m.RecallAt10Docs = fp(sc.NDCG), fp(sc.Recall)
		b.rep.add(m)
		b.logf("quality: %s %s: nDCG@10 %.4f Recall@10 %.4f", s.name, system, sc.NDCG, sc.Recall)
		return sc, nil
	}

	// BM25.
	bm := retrieval.NewBM25(s.docs)
	bmRanked := make([][]int, len(s.queries))
	for i, q := range s.queries {
		bmRanked[i] = bm.Search(q, 100)
	}
	bmScores, err := emit("bm25", bmRanked, map[string]any{"k1": 1.2, "b": 0.75}, "")
	if err != nil {
		return err
	}

	// The model: documents embedded as documents, queries as queries.
	dim := e.Identity().Dim
	t0 := time.Now()
	flat := index.NewFlat(dim, index.Dot)
	docVecs := make(map[int][]float32, len(s.docs))
	const batch = 256
	for i := 0; i < len(s.docs); i += batch {
		part := s.docs[i:min(i+batch, len(s.docs))]
		vecs, err := e.EmbedDocuments(ctx, part)
		if err != nil {
			// One text without known tokens fails the batch; embed that
			// batch one by one and leave such texts out (unfindable, so
			// they count as misses).
			for j, t := range part {
				v, err := e.EmbedDocuments(ctx, []string{t})
				if err != nil {
					if unembeddable(err) {
						continue
					}
					return err
				}
				docVecs[i+j] = v[0]
			}
			continue
		}
		for j, v := range vecs {
			docVecs[i+j] = v
		}
	}
	for i := range s.docs {
		if v, ok := docVecs[i]; ok {
			if err := flat.Add(uint64(i), v); err != nil {
				return err
			}
		}
	}
	qVecs := make([][]float32, len(s.queries))
	for i, q := range s.queries {
		v, err := e.EmbedQuery(ctx, q)
		if err != nil && !unembeddable(err) {
			return err
		}
		qVecs[i] = v
	}
	embedEl := time.Since(t0)
	vecRanked := make([][]int, len(s.queries))
	exact := make([][]int32, len(s.queries))
	for start := 0; start < len(qVecs); start += 16 {
		end := min(start+16, len(qVecs))
		var batchQ [][]float32
		var which []int
		for i := start; i < end; i++ {
			if qVecs[i] != nil {
				batchQ = append(batchQ, qVecs[i])
				which = append(which, i)
			}
		}
		if len(batchQ) == 0 {
			continue
		}
		res, err := flat.SearchBatch(batchQ, 100, nil)
		if err != nil {
			return err
		}
		for j, rs := range res {
			for _, r := range rs {
				vecRanked[which[j]] = append(vecRanked[which[j]], int(r.ID))
				exact[which[j]] = append(exact[which[j]], int32(r.ID))
			}
		}
	}
	name := "vecbolt-static"
	vecScores, err := emit(name, vecRanked, map[string]any{"model": e.Identity().Name, "search": "exact",
		"embed_s": round4(embedEl.Seconds())}, "vector only")
	if err != nil {
		return err
	}

	// Hybrid: reciprocal-rank fusion of the two rankings (k=60).
	hyb := make([][]int, len(s.queries))
	for i := range hyb {
		hyb[i] = rrf(bmRanked[i], vecRanked[i], 60, 100)
	}
	if _, err := emit("hybrid-rrf", hyb, map[string]any{"model": e.Identity().Name, "rrf_k": 60}, "BM25 + vector, reciprocal-rank fusion"); err != nil {
		return err
	}
	if bmScores.NDCG > 0 { // BM25 scores 0 on WordNet, where no query word is in its document
		b.rep.add(Measurement{Suite: "quality", System: name + "/bm25", Dataset: s.name, N: len(s.docs), K: k,
			Params: map[string]any{"ndcg_ratio": round4(vecScores.NDCG / bmScores.NDCG)}, Note: "vector nDCG@10 as a fraction of BM25's (issue 5 target: 0.8 on debian-eval)"})
	}
	if s.name == "debian-demo" {
		b.want("quality debian-demo vecbolt-static nDCG@10", vecScores.NDCG, qualityFloorStatic)
		b.want("quality debian-demo bm25 nDCG@10", bmScores.NDCG, qualityFloorBM25)
	}

	// The graph on real embeddings: recall@10 of HNSW against the exact
	// ranking of the same vectors (issue 3 asks for ≥ 0.95 reachable).
	if len(docVecs) >= 1000 && !s.noANN {
		if err := b.realTextANN(ctx, s.name, docVecs, qVecs, exact, dim); err != nil {
			return err
		}
	}
	return nil
}

// rrf fuses two rankings by reciprocal rank: score(d) = Σ 1/(c + rank).
func rrf(a, b []int, c, k int) []int {
	score := map[int]float64{}
	for r, d := range a {
		score[d] += 1 / float64(c+r+1)
	}
	for r, d := range b {
		score[d] += 1 / float64(c+r+1)
	}
	out := make([]int, 0, len(score))
	for d := range score {
		out = append(out, d)
	}
	// Highest score first; ties by document index for determinism.
	slices.SortFunc(out, func(x, y int) int {
		if c := cmp.Compare(score[y], score[x]); c != 0 {
			return c
		}
		return cmp.Compare(x, y)
	})
	return out[:min(k, len(out))]
}

// realTextANN builds the HNSW graph over the embedded documents and
// measures recall@10 against exact search of the same vectors, with QPS.
func (b *bench) realTextANN(ctx context.Context, set string, docVecs map[int][]float32, qVecs [][]float32, exact [][]int32, dim int) error {
	h, err := index.NewHNSW(dim, index.Cosine, index.WithM(hnswM), index.WithEfConstruction(hnswEfC), index.WithSeed(1))
	if err != nil {
		return err
	}
	ids := make([]uint64, 0, len(docVecs))
	for i := range docVecs {
		ids = append(ids, uint64(i))
	}
	slices.Sort(ids)
	vecs := make([][]float32, len(ids))
	for j, id := range ids {
		vecs[j] = docVecs[int(id)]
	}
	t0 := time.Now()
	if err := h.AddBatch(ctx, ids, vecs); err != nil {
		return err
	}
	buildEl := time.Since(t0)
	// Queries without a vector have no exact answer either; leave them out.
	var qs [][]float32
	var gt [][]int32
	for i, q := range qVecs {
		if q != nil && len(exact[i]) > 0 {
			qs = append(qs, q)
			gt = append(gt, exact[i])
		}
	}
	dsts := make([][]index.Result, 2)
	for _, ef := range []int{16, 32, 64, 128} {
		s, err := b.measureSearchOn(ctx, gt, len(qs), func(w, qi int, out []int32) ([]int32, error) {
			rs, err := h.SearchInto(dsts[w], qs[qi], index.SearchOptions{K: b.cfg.k, Ef: ef})
			dsts[w] = rs
			return toIDs(out, rs), err
		})
		if err != nil {
			return err
		}
		m := Measurement{Suite: "quality", System: "vecbolt-hnsw", Dataset: set + "-vectors", N: len(ids), Dim: dim, K: b.cfg.k,
			Params:     map[string]any{"ef": ef, "M": hnswM, "efC": hnswEfC, "queries": len(qs), "build_s": round4(buildEl.Seconds())},
			RecallAt10: fp(s.recall), QPS1T: fp(s.r1.QPS), P50Ms: fp(metrics.Ms(s.r1.P50)), P99Ms: fp(metrics.Ms(s.r1.P99)),
			Note: "graph vs exact search on the built-in model's vectors"}
		if s.has2 {
			m.QPS2T = fp(s.r2.QPS)
		}
		b.rep.add(m)
		b.logf("quality: %s vectors hnsw ef=%d recall %.4f qps_1t %.0f", set, ef, s.recall, s.r1.QPS)
	}
	return nil
}
