package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vecbolt/vecbolt/bench/internal/retrieval"
	"github.com/vecbolt/vecbolt/chunk"
	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"
	"github.com/vecbolt/vecbolt/index"
	"github.com/vecbolt/vecbolt/internal/evalsets"
)

// The longdoc suite measures retrieval of long documents (issue 18): Debian's
// manual pages (manpages, manpages-dev; reserved for evaluation, never
// trained on), query = a page's one-line NAME description, relevant = the
// page, corpus = the pages without their NAME line (evalsets.ManPage). It
// compares embedding whole pages, embedding passages (package chunk) and
// ranking pages by their best passage, BM25 over whole pages and over
// passages, and fusions of the two. Chunk sizes are chosen on the dev split
// (sha1(page) % 10 == 1) and reported on the evaluation split; every row is
// printed for both so the choice can be checked.
//
// Search is exact (index.Flat) over the model's vectors, as in the quality
// suite: these figures are the model's and the chunking's, not the graph's.

// longdocChunkSizes are the passage sizes (tokens of the built-in model) the
// suite tries; the overlap is an eighth of the size.
var longdocChunkSizes = []int{64, 128, 256, 512}

// longdocCandidates is how many passages a query fetches before grouping by
// page: enough that ten distinct pages remain almost always (a page has 14
// passages of 128 tokens on average).
const longdocCandidates = 400

func (b *bench) longdocSuite(ctx context.Context) error {
	if b.quickWithoutDownload("longdoc", "manpages") {
		return nil
	}
	set, err := b.loadManPageSet(ctx)
	if err != nil {
		return err
	}
	e, pages, docs, bytes, counter := set.e, set.pages, set.docs, set.bytes, set.counter
	b.logf("longdoc: %d man pages, %.1f MB of text", len(pages), float64(bytes)/1e6)

	// Chunking throughput, with the model's tokenizer counting and with
	// the default word counter.
	for _, c := range []struct {
		name    string
		counter chunk.Counter
	}{{"model-tokenizer", counter}, {"word-counter", chunk.WordCounter}} {
		t0 := time.Now()
		n := 0
		for _, d := range docs {
			ps, err := chunk.Split(d, chunk.WithMaxTokens(128), chunk.WithOverlap(16), chunk.WithCounter(c.counter))
			if err != nil {
				return err
			}
			n += len(ps)
		}
		el := time.Since(t0)
		b.rep.add(Measurement{Suite: "longdoc", System: "chunk/" + c.name, Dataset: "manpages", N: len(docs),
			Params: map[string]any{"max_tokens": 128, "overlap": 16, "passages": n, "mb_per_s": round4(float64(bytes) / 1e6 / el.Seconds())},
			Note:   "chunking throughput (one thread)"})
		b.logf("longdoc: chunking with %s: %d passages, %.1f MB/s", c.name, n, float64(bytes)/1e6/el.Seconds())
	}

	qvecs := make([][]float32, len(pages))
	for i, p := range pages {
		if qvecs[i], err = e.EmbedQuery(ctx, p.Query); err != nil {
			return fmt.Errorf("query %q: %w", p.Query, err)
		}
	}
	type ranking struct {
		system string
		params map[string]any
		ranked [][]int // per query, page indices best first
	}
	var rows []ranking

	// Whole pages, embedded as one text each.
	whole, err := b.vectorRank(ctx, e, docs, nil, qvecs, len(docs))
	if err != nil {
		return err
	}
	rows = append(rows, ranking{"vector-whole", map[string]any{}, whole})
	bmWhole := make([][]int, len(pages))
	bm := retrieval.NewBM25(docs)
	for i, p := range pages {
		bmWhole[i] = bm.Search(p.Query, 100)
	}
	rows = append(rows, ranking{"bm25-whole", map[string]any{"k1": 1.2, "b": 0.75}, bmWhole})

	for _, size := range longdocChunkSizes {
		var ptext []string
		var owner []int
		for i, d := range docs {
			ps, err := chunk.Split(d, chunk.WithMaxTokens(size), chunk.WithOverlap(size/8), chunk.WithCounter(counter))
			if err != nil {
				return err
			}
			for _, p := range ps {
				ptext = append(ptext, d[p.Start:p.End])
				owner = append(owner, i)
			}
		}
		params := map[string]any{"max_tokens": size, "overlap": size / 8, "passages": len(ptext)}
		vec, err := b.vectorRank(ctx, e, ptext, owner, qvecs, len(docs))
		if err != nil {
			return err
		}
		rows = append(rows, ranking{"vector-passages", params, vec})
		bmp := retrieval.NewBM25(ptext)
		bmPass := make([][]int, len(pages))
		for i, p := range pages {
			bmPass[i] = groupByPage(bmp.Search(p.Query, longdocCandidates), owner, 100)
		}
		rows = append(rows, ranking{"bm25-passages", params, bmPass})
		hyb := make([][]int, len(pages))
		hybWhole := make([][]int, len(pages))
		for i := range pages {
			hyb[i] = rrf(bmPass[i], vec[i], 60, 100)
			hybWhole[i] = rrf(bmWhole[i], vec[i], 60, 100)
		}
		rows = append(rows, ranking{"hybrid-rrf-passages", params, hyb})
		rows = append(rows, ranking{"hybrid-rrf-bm25whole+vector-passages", params, hybWhole})
	}

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
			b.rep.add(Measurement{Suite: "longdoc", System: r.system, Dataset: split.name, N: len(docs), K: 10,
				Params: params, NDCGAt10: fp(sc.NDCG), RecallAt10Docs: fp(sc.Recall)})
			b.logf("longdoc: %s %s %v: nDCG@10 %.4f Recall@10 %.4f", split.name, r.system, r.params, sc.NDCG, sc.Recall)
		}
	}
	return nil
}

// vectorRank embeds texts (owner[i] is the page text i belongs to; nil
// means text i is page i), searches them exactly with each query vector and
// returns, per query, the pages in the order of their best text.
func (b *bench) vectorRank(ctx context.Context, e embedder.Embedder, texts []string, owner []int, qvecs [][]float32, pages int) ([][]int, error) {
	dim := e.Identity().Dim
	flat := index.NewFlat(dim, index.Dot)
	const batch = 256
	for i := 0; i < len(texts); i += batch {
		part := texts[i:min(i+batch, len(texts))]
		vecs, err := e.EmbedDocuments(ctx, part)
		if err != nil {
			return nil, err
		}
		for j, v := range vecs {
			if err := flat.Add(uint64(i+j), v); err != nil {
				return nil, err
			}
		}
	}
	if owner == nil {
		owner = make([]int, len(texts))
		for i := range owner {
			owner[i] = i
		}
	}
	k := min(longdocCandidates, len(texts))
	out := make([][]int, len(qvecs))
	for start := 0; start < len(qvecs); start += 16 {
		end := min(start+16, len(qvecs))
		res, err := flat.SearchBatch(qvecs[start:end], k, nil)
		if err != nil {
			return nil, err
		}
		for j, rs := range res {
			hits := make([]int, len(rs))
			for h, r := range rs {
				hits[h] = int(r.ID)
			}
			out[start+j] = groupByPage(hits, owner, 100)
		}
	}
	return out, nil
}

// groupByPage turns a ranking of texts into a ranking of the pages they
// belong to, each page at the rank of its best text, at most k pages.
func groupByPage(hits []int, owner []int, k int) []int {
	var out []int
	seen := map[int]bool{}
	for _, h := range hits {
		p := owner[h]
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
			if len(out) == k {
				break
			}
		}
	}
	return out
}

// manPageSet is what the longdoc and rag suites share: the built-in model,
// the man pages (the first 400 with --quick), their texts and total bytes,
// and a counter of the model's tokens for the chunker.
type manPageSet struct {
	e       embedder.Embedder
	pages   []evalsets.ManPage
	docs    []string
	bytes   int
	counter chunk.Counter
}

func (b *bench) loadManPageSet(ctx context.Context) (manPageSet, error) {
	var s manPageSet
	e, err := b.builtinEmbedder()
	if err != nil {
		return s, fmt.Errorf("built-in model: %w", err)
	}
	sm, ok := e.(interface{ Tokenizer() *tokenizer.Tokenizer })
	if !ok {
		return s, fmt.Errorf("built-in model %T has no tokenizer to count passage tokens with", e)
	}
	root, err := b.debPackages(ctx, "manpages", "manpages", "manpages-dev")
	if err != nil {
		return s, err
	}
	pages, err := evalsets.LoadManPages(root)
	if err != nil {
		return s, err
	}
	if b.cfg.quick && len(pages) > 400 {
		pages = pages[:400]
	}
	s.e, s.pages = e, pages
	s.docs = make([]string, len(pages))
	for i, p := range pages {
		s.docs[i] = p.Text
		s.bytes += len(p.Text)
	}
	tok := sm.Tokenizer()
	var ids []int32
	s.counter = chunk.CounterFunc(func(t string) int {
		ids = tok.AppendIDs(ids[:0], t)
		return len(ids)
	})
	return s, nil
}

// quickWithoutDownload reports whether a --quick run should skip a suite
// because its Debian packages are not in the cache yet: --quick (CI's
// run) downloads nothing, as the quality suite's demo set does; a cache
// filled by an earlier full run is used.
func (b *bench) quickWithoutDownload(suite, name string) bool {
	if !b.cfg.quick {
		return false
	}
	if _, err := os.Stat(filepath.Join(b.cfg.cache, name, "unpacked")); err == nil {
		return false
	}
	b.logf("%s: skipped with --quick: it downloads Debian's %s packages (run it once without --quick to fill the cache)", suite, name)
	return true
}

// debPackages returns a directory holding the named Debian packages
// unpacked into cache/name, fetching them with apt-get download and
// dpkg-deb -x (nothing is installed) when they are not there yet.
func (b *bench) debPackages(ctx context.Context, name string, pkgs ...string) (string, error) {
	root := filepath.Join(b.cfg.cache, name)
	done := filepath.Join(root, "unpacked")
	if _, err := os.Stat(done); err == nil {
		return done, nil
	}
	for _, tool := range []string{"apt-get", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("no %s to fetch %s: %w", tool, strings.Join(pkgs, ", "), err)
		}
	}
	debs := filepath.Join(root, "debs")
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return "", err
	}
	b.logf("fetching %s into %s (apt-get download, dpkg-deb -x)", strings.Join(pkgs, ", "), root)
	cmd := exec.CommandContext(ctx, "apt-get", append([]string{"download", "-qq"}, pkgs...)...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = debs, b.stderr, b.stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("apt-get download %s into %s: %w", strings.Join(pkgs, " "), debs, err)
	}
	tmp := filepath.Join(root, "unpacked.tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return "", err
	}
	for _, p := range pkgs {
		found, err := filepath.Glob(filepath.Join(debs, p+"_*.deb"))
		if err != nil || len(found) == 0 {
			return "", errors.Join(err, fmt.Errorf("apt-get download left no %s_*.deb in %s", p, debs))
		}
		slices.Sort(found)
		cmd = exec.CommandContext(ctx, "dpkg-deb", "-x", found[len(found)-1], tmp)
		cmd.Stdout, cmd.Stderr = b.stderr, b.stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("dpkg-deb -x %s: %w", found[len(found)-1], err)
		}
	}
	if err := os.Rename(tmp, done); err != nil {
		return "", err
	}
	return done, nil
}
