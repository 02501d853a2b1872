package main

// The recall suite: default-settings recall@10 of the database on the hard
// case of issue 19, texts of random English words embedded with the
// built-in model, before and after deleting part of the collection, with
// the file's size through the deletes and a refill (do freed pages get
// reused?), and a fresh build of what remains for comparison.
//
//	go run ./bench --n 20000 recall
//
// Every phase is measured twice on the same collection: with default
// settings (the ef chosen for the recall target, --recall-target, default
// the library's 0.95) and with WithEf(index.AutoEf(count)), which is what
// default settings searched with before the target existed (main). With
// --recall-target 0 both rows use AutoEf.
//
// The words are the whole-word entries of the built-in model's vocabulary
// (embedder/builtin/model/tokenizer.json), drawn uniformly, 8 to 16 per
// text; queries are further texts drawn the same way. Exact answers come
// from the flat index over the same vectors (the model is deterministic).
//
// With --dataset given (clustered or text), the documents are instead the
// first n vectors of that data set and the queries its first 500 (fresh
// rows of the same distribution, never stored), and the refill brings the
// deleted vectors back under new IDs:
//
//	go run ./bench --n 100000 --dataset clustered recall

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vecbolt/vecbolt/bench/internal/metrics"
	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/index"
)

func (b *bench) recallSuite(ctx context.Context) error {
	n := b.cfg.n
	if b.cfg.quick {
		n = min(n, 5000)
	}
	nq := 500
	dir, err := os.MkdirTemp(b.workDir, "recall")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "recall.vecbolt")
	opts := []db.Option{}
	target := b.cfg.recallTarget
	if target >= 0 {
		opts = append(opts, db.WithRecallTarget(target))
	} else {
		target = db.DefaultRecallTarget
	}
	d, err := db.Open(path, opts...)
	if err != nil {
		return err
	}
	defer d.Close()
	rng := rand.New(rand.NewPCG(19, 1))
	// texts is nil when the documents are the --dataset's vectors; vecs
	// holds every document's vector either way (the refill's are appended
	// when it happens), qv the queries'.
	var texts []string
	var vecs, qv [][]float32
	label := "random-words"
	var colOpts []db.CollectionOption
	if b.cfg.recallVectors {
		ds, err := b.dataset(ctx, n)
		if err != nil {
			return err
		}
		label = dataLabel(ds)
		vecs = ds.Base[:n:n]
		qv = ds.Queries[:min(nq, len(ds.Queries))]
		nq = len(qv)
		colOpts = []db.CollectionOption{db.WithDimension(ds.Spec.Dim), db.WithMetric(db.Cosine)}
	} else {
		words, err := vocabWords("embedder/builtin/model/tokenizer.json")
		if err != nil {
			return err
		}
		text := func() string {
			k := 8 + rng.IntN(9)
			ws := make([]string, k)
			for i := range ws {
				ws[i] = words[rng.IntN(len(words))]
			}
			return strings.Join(ws, " ")
		}
		texts = make([]string, n+n/2)
		for i := range texts {
			texts[i] = text()
		}
		queries := make([]string, nq)
		for i := range queries {
			queries[i] = text()
		}
		emb, err := d.Embedder()
		if err != nil {
			return err
		}
		b.logf("recall: embedding %d texts and %d queries for the exact answers", len(texts), nq)
		if vecs, err = emb.EmbedDocuments(ctx, texts); err != nil {
			return err
		}
		qv = make([][]float32, nq)
		for i, q := range queries {
			if qv[i], err = emb.EmbedQuery(ctx, q); err != nil {
				return err
			}
		}
	}
	c, err := d.CreateCollection(ctx, "texts", colOpts...)
	if err != nil {
		return err
	}
	doc := func(j int) db.Document {
		if texts == nil {
			return db.Document{ID: fmt.Sprint(j), Vector: vecs[j]}
		}
		return db.Document{ID: fmt.Sprint(j), Text: texts[j]}
	}
	insert := func(c *db.Collection, from, to int) (float64, error) {
		t0 := time.Now()
		for i := from; i < to; i += 1000 {
			docs := make([]db.Document, 0, 1000)
			for j := i; j < min(i+1000, to); j++ {
				docs = append(docs, doc(j))
			}
			if _, err := c.Insert(ctx, docs...); err != nil {
				return 0, err
			}
		}
		return float64(to-from) / time.Since(t0).Seconds(), nil
	}
	b.logf("recall: inserting %d documents", n)
	dps, err := insert(c, 0, n)
	if err != nil {
		return err
	}
	live := make([]bool, 2*n)
	for i := range n {
		live[i] = true
	}
	measure := func(c *db.Collection, path, phase string, extra map[string]any) error {
		// Wait for a background measurement the writes started, so the
		// figures are those of the ef it chose (TuneRecall waits for it and
		// measures once more only if measuring is on).
		t0 := time.Now()
		if b.cfg.recallTarget != 0 {
			if _, err := c.TuneRecall(ctx); err != nil {
				return err
			}
		}
		tuneS := time.Since(t0).Seconds()
		info := c.Info()
		f := index.NewFlat(info.Dimension, info.Metric)
		for i, ok := range live {
			if ok {
				if err := f.Add(uint64(i), vecs[i]); err != nil {
					return err
				}
			}
		}
		want := make([][]index.Result, nq)
		for i, q := range qv {
			if want[i], err = f.Search(q, 10, nil); err != nil {
				return err
			}
		}
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		for _, row := range []struct {
			system string
			ef     int // 0: the collection's default
		}{{"vecbolt-db default", 0}, {"vecbolt-db AutoEf (main's default)", index.AutoEf(info.Count)}} {
			hits := 0
			got := make([][]db.Result, nq)
			// One thread; its CPU time too, since other processes on the
			// machine stretch the wall clock.
			run, err := metrics.Timed(ctx, nq, 1, func(_, i int) error {
				var err error
				got[i], err = c.SearchVector(ctx, qv[i], db.WithFields(), db.WithEf(row.ef))
				return err
			})
			if err != nil {
				return err
			}
			for i := range qv {
				for _, w := range want[i] {
					id := fmt.Sprint(w.ID)
					if slices.ContainsFunc(got[i], func(r db.Result) bool { return r.ID == id }) {
						hits++
					}
				}
			}
			ef := row.ef
			params := map[string]any{"phase": phase, "ef": ef}
			if ef == 0 {
				params = map[string]any{"phase": phase, "ef": info.Recall.Ef, "target": info.Recall.Target,
					"est_recall": fmt.Sprintf("%.4f", info.Recall.Recall), "tune_s": fmt.Sprintf("%.2f", tuneS)}
				for k, v := range extra {
					params[k] = v
				}
				ef = info.Recall.Ef
			}
			m := Measurement{Suite: "recall", System: row.system, Dataset: label, N: info.Count, Dim: info.Dimension, K: 10,
				Params: params, RecallAt10: fp(float64(hits) / float64(10*nq)), QPS1T: fp(run.QPS),
				FileMB: fp(float64(fi.Size()) / 1e6)}
			if run.CPUQPS > 0 {
				m.QPS1TCPU = fp(run.CPUQPS)
			}
			b.rep.add(m)
			b.logf("recall: %s, %s: n=%d ef=%d recall@10=%.4f (estimated %.4f) qps=%.0f (cpu %.0f) file=%.1f MB", phase, row.system, info.Count, ef, *m.RecallAt10, info.Recall.Recall, run.QPS, run.CPUQPS, *m.FileMB)
		}
		return nil
	}
	if err := measure(c, path, "built", map[string]any{"docs_per_s": fmt.Sprintf("%.0f", dps)}); err != nil {
		return err
	}
	// Delete a random half.
	del := b.cfg.deleteFrac
	var ids []string
	for _, i := range rng.Perm(n)[:int(float64(n)*del)] {
		ids = append(ids, fmt.Sprint(i))
		live[i] = false
	}
	b.logf("recall: deleting %d documents", len(ids))
	for i := 0; i < len(ids); i += 1000 {
		if _, err := c.Delete(ctx, ids[i:min(i+1000, len(ids))]...); err != nil {
			return err
		}
	}
	if err := measure(c, path, fmt.Sprintf("deleted %.0f%%", 100*del), nil); err != nil {
		return err
	}
	// A fresh build of what remains, in a file of its own so that the
	// refill below can only reuse pages the deletes freed.
	fpath := filepath.Join(dir, "fresh.vecbolt")
	fd, err := db.Open(fpath, opts...)
	if err != nil {
		return err
	}
	defer fd.Close()
	fresh, err := fd.CreateCollection(ctx, "fresh", colOpts...)
	if err != nil {
		return err
	}
	var keep []db.Document
	for i := range n {
		if live[i] {
			keep = append(keep, doc(i))
		}
	}
	for i := 0; i < len(keep); i += 1000 {
		if _, err := fresh.Insert(ctx, keep[i:min(i+1000, len(keep))]...); err != nil {
			return err
		}
	}
	if err := measure(fresh, fpath, "fresh build of the rest", nil); err != nil {
		return err
	}
	if err := fd.Close(); err != nil {
		return err
	}
	// Refill: as many new documents as were deleted. bbolt reuses freed
	// pages, so the file should not grow much past its size before.
	b.logf("recall: inserting %d new documents", len(ids))
	if texts == nil {
		// Vector documents: the refill brings the deleted vectors back
		// under new IDs (the data set has no more of them).
		for _, id := range ids {
			i, _ := strconv.Atoi(id)
			vecs = append(vecs, vecs[i])
		}
	}
	if _, err := insert(c, n, n+len(ids)); err != nil {
		return err
	}
	for i := n; i < n+len(ids); i++ {
		live[i] = true
	}
	return measure(c, path, "refilled", nil)
}

// vocabWords returns the whole English words of a WordPiece vocabulary:
// lower-case letters only, at least three of them.
func vocabWords(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("recall suite: word list (run from the repository root): %w", err)
	}
	var tok struct {
		Model struct {
			Vocab map[string]int `json:"vocab"`
		} `json:"model"`
	}
	if err := json.Unmarshal(raw, &tok); err != nil {
		return nil, fmt.Errorf("recall suite: %s: %w", path, err)
	}
	word := regexp.MustCompile(`^[a-z]{3,}$`)
	var out []string
	for w := range tok.Model.Vocab {
		if word.MatchString(w) {
			out = append(out, w)
		}
	}
	slices.Sort(out)
	return out, nil
}
