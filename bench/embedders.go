package main

// This file holds all of the bench's wiring to package embedder: which
// models exist in this build and on this machine, and how they are loaded.
// The rest of the bench sees only embedder.Embedder values.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vecbolt/vecbolt/embedder/onnx"
	"github.com/vecbolt/vecbolt/embedder/static"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"

	"github.com/vecbolt/vecbolt/bench/internal/metrics"
	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/testdata/demo"
)

// namedEmbedder is a model the embed suite measures.
type namedEmbedder struct {
	system string
	e      embedder.Embedder
	params map[string]any
	note   string
	close  func()
	// onnx is set for ONNX models, whose Stats split ORT time from ours.
	onnx *onnx.Model
}

// builtinEmbedder returns the database's built-in default model, found the
// way a user finds it: through db.Open without WithEmbedder.
func (b *bench) builtinEmbedder() (embedder.Embedder, error) {
	path := filepath.Join(b.workDir, "probe-builtin.vecbolt")
	defer os.Remove(path)
	vdb, err := db.Open(path)
	if err != nil {
		return nil, err
	}
	defer vdb.Close()
	return vdb.Embedder()
}

// repoFile finds a file of the repository from the working directory or one
// of its parents (the bench runs from the module root or below it).
func repoFile(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s not found above the working directory (run the bench inside the repository)", rel)
		}
		dir = parent
	}
}

// embedders lists every model available here. Models that cannot be loaded
// are logged with the reason and left out; nothing is measured in their
// place.
func (b *bench) embedders(ctx context.Context) []namedEmbedder {
	var out []namedEmbedder
	if e, err := b.builtinEmbedder(); err == nil {
		out = append(out, namedEmbedder{system: "vecbolt-static", e: e, params: map[string]any{"model": e.Identity().Name, "dim": e.Identity().Dim}, note: "built-in model"})
	} else {
		b.logf("embed: built-in model not available: %v", err)
		// The static inference path can still be timed: a random table over
		// the BERT vocabulary costs what a trained one costs per token.
		if e, err := randomStatic(); err == nil {
			out = append(out, namedEmbedder{system: "vecbolt-static-random", e: e,
				params: map[string]any{"model": "random weights, bert-base-uncased vocab", "dim": 256},
				note:   "speed only: random weights (no built-in model in this build)"})
		} else {
			b.logf("embed: static random-weight model: %v", err)
		}
	}
	if b.cfg.staticDir != "" {
		if e, err := static.Load(b.cfg.staticDir); err == nil {
			out = append(out, namedEmbedder{system: "static:" + e.Identity().Name, e: e, params: map[string]any{"dir": b.cfg.staticDir, "dim": e.Identity().Dim}})
		} else {
			b.logf("embed: --static-dir: %v", err)
		}
	}
	if lib, err := onnx.FindRuntime(""); err != nil {
		b.logf("embed: ONNX models skipped: %v", err)
	} else {
		b.logf("embed: ONNX Runtime at %s", lib)
		dirs := []struct{ system, dir, note string }{}
		if dir, err := repoFile("embedder/testdata/tinybert"); err == nil {
			dirs = append(dirs, struct{ system, dir, note string }{"onnx-tinybert", dir, "the generated 2-layer test model (random weights)"})
		} else {
			b.logf("embed: %v", err)
		}
		if b.cfg.modelDir != "" {
			dirs = append(dirs, struct{ system, dir, note string }{"onnx:" + filepath.Base(b.cfg.modelDir), b.cfg.modelDir, ""})
		}
		for _, d := range dirs {
			// One intra-op thread: the suite's thread count is the number
			// of goroutines calling the one shared session.
			e, err := onnx.Load(ctx, d.dir, onnx.WithIntraOpThreads(1), onnx.WithBatchSize(32))
			if err != nil {
				b.logf("embed: %s: %v", d.dir, err)
				continue
			}
			out = append(out, namedEmbedder{system: d.system, e: e, onnx: e, close: func() { e.Close() },
				params: map[string]any{"model": e.Identity().Name, "dim": e.Identity().Dim, "intra_op_threads": 1}, note: d.note})
		}
	}
	return out
}

// randomStatic builds a static model over the committed BERT vocabulary
// with a seeded random table.
func randomStatic() (embedder.Embedder, error) {
	path, err := repoFile("embedder/tokenizer/testdata/bert-base-uncased-vocab.txt")
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vocab, err := tokenizer.LoadVocabTxt(f)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.NewWordPiece(vocab, tokenizer.WithSpecialTokens(false))
	if err != nil {
		return nil, err
	}
	const dim = 256
	r := rand.New(rand.NewPCG(1, 2))
	emb := make([]float32, len(vocab)*dim)
	for i := range emb {
		emb[i] = float32(r.NormFloat64())
	}
	return static.New(tok, emb, dim, static.WithName("static-random"))
}

// corpusTexts returns the demo corpus's documents and its sentences (split
// on ". ", at least four words), both real English text.
func corpusTexts() (docs, sentences []string, err error) {
	sc := bufio.NewScanner(strings.NewReader(demo.Corpus))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, nil, fmt.Errorf("demo corpus: %w", err)
		}
		if strings.TrimSpace(rec.Text) == "" {
			continue
		}
		docs = append(docs, rec.Text)
		for _, s := range strings.Split(rec.Text, ". ") {
			if len(strings.Fields(s)) >= 4 {
				sentences = append(sentences, strings.TrimSpace(s))
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	if len(docs) == 0 {
		return nil, nil, errors.New("demo corpus is empty")
	}
	return docs, sentences, nil
}

func avgWords(texts []string) float64 {
	w := 0
	for _, t := range texts {
		w += len(strings.Fields(t))
	}
	return float64(w) / float64(len(texts))
}

const embedBatch = 32

// embedThroughput embeds batches of texts (cycling through them) on the
// given number of goroutines for about target time, and returns texts/s
// and, for ONNX models, the fraction of wall time spent outside ONNX
// Runtime (tokenization, padding, pooling).
func embedThroughput(ctx context.Context, ne namedEmbedder, texts []string, threads int, target time.Duration) (float64, float64, error) {
	nb := len(texts) / embedBatch
	if nb == 0 {
		return 0, 0, errors.New("fewer texts than one batch")
	}
	call := func(_, c int) error {
		i := (c % nb) * embedBatch
		_, err := ne.e.EmbedDocuments(ctx, texts[i:i+embedBatch])
		return err
	}
	// Calibrate: a few batches give the rate, then size the run to target.
	cal, err := withProcs(threads, func() (metrics.Run, error) { return metrics.Timed(ctx, 4, 1, call) })
	if err != nil {
		return 0, 0, err
	}
	calls := max(8, int(target.Seconds()*cal.QPS)*threads)
	var before onnx.Stats
	if ne.onnx != nil {
		before = ne.onnx.Stats()
	}
	run, err := withProcs(threads, func() (metrics.Run, error) { return metrics.Timed(ctx, calls, threads, call) })
	if err != nil {
		return 0, 0, err
	}
	outside := -1.0
	if ne.onnx != nil {
		after := ne.onnx.Stats()
		ort := (after.RunTime - before.RunTime).Seconds()
		busy := run.Elapsed.Seconds() * float64(threads)
		outside = 1 - ort/busy
	}
	return float64(calls*embedBatch) / run.Elapsed.Seconds(), outside, nil
}

// embedSuite measures texts/s per model on sentences and on whole
// documents, on one and two threads.
func (b *bench) embedSuite(ctx context.Context) error {
	docs, sentences, err := corpusTexts()
	if err != nil {
		return err
	}
	target := 2 * time.Second
	if b.cfg.quick {
		target = 300 * time.Millisecond
	}
	models := b.embedders(ctx)
	if len(models) == 0 {
		return errors.New("no embedder could be loaded")
	}
	var errs []error
	for _, ne := range models {
		for _, set := range []struct {
			name  string
			texts []string
		}{{"sentences", sentences}, {"documents", docs}} {
			m := Measurement{Suite: "embed", System: ne.system, Dataset: "demo-corpus-" + set.name, N: len(set.texts), Dim: ne.e.Identity().Dim,
				Params: map[string]any{"batch": embedBatch, "avg_words": round4(avgWords(set.texts))}, Note: ne.note}
			for k, v := range ne.params {
				m.Params[k] = v
			}
			for _, t := range threadCounts() {
				rate, outside, err := embedThroughput(ctx, ne, set.texts, t, target)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s on %s: %w", ne.system, set.name, err))
					break
				}
				if t == 1 {
					m.EmbedsPerS = fp(rate)
					if outside >= 0 {
						m.Params["outside_ort_fraction_1t"] = round4(outside)
					}
				} else {
					m.Params["embeds_per_s_2t"] = float64(int(rate))
				}
			}
			if m.EmbedsPerS != nil {
				b.rep.add(m)
				b.logf("embed: %s %s: %.0f texts/s on 1 thread", ne.system, set.name, *m.EmbedsPerS)
			}
		}
		if ne.close != nil {
			ne.close()
		}
	}
	return errors.Join(errs...)
}

// dbText measures a text collection end to end (embedding on insert, text
// queries) with the built-in model, when this build has one.
func (b *bench) dbText(ctx context.Context) error {
	e, err := b.builtinEmbedder()
	if err != nil {
		b.logf("db: built-in model not available (%v): text collections not measured; vector-only collections were", err)
		return nil
	}
	docs, sentences, err := corpusTexts()
	if err != nil {
		return err
	}
	texts := append(append([]string(nil), docs...), sentences...)
	path := filepath.Join(b.workDir, "bench-text.vecbolt")
	os.Remove(path)
	defer os.Remove(path)
	vdb, err := db.Open(path)
	if err != nil {
		return err
	}
	defer vdb.Close()
	col, err := vdb.CreateCollection(ctx, "text")
	if err != nil {
		return err
	}
	const batch = 256
	t0 := time.Now()
	for i := 0; i < len(texts); i += batch {
		var ds []db.Document
		for j := i; j < min(i+batch, len(texts)); j++ {
			ds = append(ds, db.Document{ID: fmt.Sprintf("t%d", j), Text: texts[j]})
		}
		if _, err := col.Insert(ctx, ds...); err != nil {
			return err
		}
	}
	el := time.Since(t0)
	info := col.Info()
	b.rep.add(Measurement{Suite: "db", System: "vecbolt-db-" + info.Index, Dataset: "demo-corpus-docs+sentences", N: len(texts),
		Dim: info.Dimension, Params: map[string]any{"phase": "insert", "batch": batch, "embedding": e.Identity().Name, "index": info.Index},
		DocsPerS: fp(float64(len(texts)) / el.Seconds()), BuildS: fp(el.Seconds()), Note: "texts embedded with the built-in model on insert"})
	nq := min(len(sentences), 500)
	m := Measurement{Suite: "db", System: "vecbolt-db-" + info.Index, Dataset: "demo-corpus-docs+sentences", N: len(texts), Dim: info.Dimension, K: b.cfg.k,
		Params: map[string]any{"phase": "search", "embedding": e.Identity().Name, "queries": nq}, Note: "Search(text): embed query + search + read documents"}
	for _, t := range threadCounts() {
		run, err := withProcs(t, func() (metrics.Run, error) {
			return metrics.Timed(ctx, nq, t, func(_, i int) error {
				_, err := col.Search(ctx, sentences[i], db.TopK(b.cfg.k))
				return err
			})
		})
		if err != nil {
			return err
		}
		if t == 1 {
			m.QPS1T, m.P50Ms, m.P99Ms = fp(run.QPS), fp(metrics.Ms(run.P50)), fp(metrics.Ms(run.P99))
		} else {
			m.QPS2T = fp(run.QPS)
		}
	}
	b.rep.add(m)
	return nil
}

// unembeddable reports an embedder error that concerns the text, not the
// model: an empty text, or one with no token in the vocabulary. Retrieval
// sets keep such texts as unfindable documents or unanswerable queries.
func unembeddable(err error) bool {
	return errors.Is(err, embedder.ErrEmptyText) || errors.Is(err, static.ErrNoTokens)
}
