package main

// The growth suite: does inserting text documents with the built-in model
// slow down as the collection grows? Issue 19's target: the insert rate at
// 1M within 20% of the rate at 100k, and default recall@10 at least 0.95
// at 100k, at 1M and after deleting half.
//
//	go run ./bench --n 1000000 [--profile-dir DIR] growth
//
// It inserts --n generated texts (growthtext.go: Debian descriptions'
// sentences with variations by real word frequencies) in batches of 1,000
// into a collection with default settings (built-in model, HNSW, keyword
// index, recall target) and prints, per step of 50,000 documents (n/10
// below 200k), the step's insert rate by wall clock and by the process's
// CPU time, the resident memory (now and peak), the Go heap, the file size
// and the load average. At 100k (when --n reaches it) and at --n it
// measures default recall@10 of 200 generated queries against exact search
// over the stored vectors (a scan), after waiting for the collection's own
// background measurement (TuneRecall); then it deletes a random half and
// measures again. With --profile-dir each step writes a CPU profile
// (cpu-<docs>.pprof) and a heap profile at its end (heap-<docs>.pprof).
// With --growth-repeat R it then replays the step ending at 100k and the
// last step R times each, alternated, from copies of the file made before
// them (growthRepeat).

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vecbolt/vecbolt/bench/internal/metrics"
	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/internal/evalsets"
)

// Seeds of the document and query streams.
const (
	growthDocSeed   = 19
	growthQuerySeed = 1019
	growthQueries   = 200
	growthBatch     = 1000
)

func (b *bench) growthSuite(ctx context.Context) error {
	n := b.cfg.n
	if b.cfg.quick {
		n = min(n, 5000)
	}
	lists, err := b.debianLists(ctx)
	if err != nil {
		return err
	}
	found, err := filepath.Glob(filepath.Join(lists, "*_dists_bookworm_main_i18n_Translation-en"))
	if err != nil || len(found) != 1 {
		return fmt.Errorf("growth: want one uncompressed bookworm main Translation-en in %s, found %d", lists, len(found))
	}
	f, err := os.Open(found[0])
	if err != nil {
		return err
	}
	pkgs, err := evalsets.ReadTranslations(f, nil)
	f.Close()
	if err != nil {
		return err
	}
	descs := make([]string, len(pkgs))
	for i, p := range pkgs {
		descs[i] = p.Long
	}
	g := newGrowthCorpus(descs)
	b.logf("growth: %d sentences, %d distinct words from %d descriptions", len(g.sentences), len(g.words), len(descs))

	dir, err := os.MkdirTemp(b.workDir, "growth")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "growth.vecbolt")
	d, err := db.Open(path)
	if err != nil {
		return err
	}
	defer d.Close()
	var copts []db.CollectionOption
	if efc := b.cfg.growthEfC; efc > 0 {
		copts = append(copts, db.WithHNSW(0, efc, 0))
	}
	c, err := d.CreateCollection(ctx, "texts", copts...)
	if err != nil {
		return err
	}
	qv := make([][]float32, growthQueries)
	for i := range qv {
		if qv[i], err = d.EmbedQuery(ctx, g.text(growthQuerySeed, uint64(i))); err != nil {
			return err
		}
	}

	step := 50_000
	if n < 200_000 {
		step = max(n/10, growthBatch)
	}
	measured100k := false
	type stepRow struct {
		docs           int
		rate, cpuRate  float64
		rssMB, hwmMB   float64
		anonMB         float64
		heapMB, fileMB float64
		load           string
	}
	var rows []stepRow
	// With --growth-repeat the file is copied as it stands before the
	// small step (the one ending at 100k, or the first where no step ends
	// there) and before the last step, so that both can be replayed
	// later, alternated (growthRepeat).
	var ckpts []growthCkpt
	smallEnd := step
	if n >= 100_000 && 100_000%step == 0 {
		smallEnd = 100_000
	}
	checkpoint := func(done int) error {
		if b.cfg.growthRepeat <= 0 || n <= step || (done+step != smallEnd && done+step != n) {
			return nil
		}
		ck := growthCkpt{path: filepath.Join(dir, fmt.Sprintf("ckpt-%d.vecbolt", done)), from: done, to: done + step}
		if _, err := d.BackupFile(ctx, ck.path); err != nil {
			return err
		}
		ckpts = append(ckpts, ck)
		return nil
	}
	if err := checkpoint(0); err != nil {
		return err
	}
	stepStart, cpuStart := time.Now(), procCPU()
	stopProf := b.growthProfile(0)
	for done := 0; done < n; {
		next := min(done+growthBatch, n)
		if err := insertGenerated(ctx, c, g, done, next); err != nil {
			return err
		}
		done = next
		if done%step != 0 && done != n {
			continue
		}
		stopProf(done)
		secs, cpus := time.Since(stepStart).Seconds(), procCPU()-cpuStart
		docsInStep := done - step*((done-1)/step)
		r := stepRow{docs: done, rate: float64(docsInStep) / secs, load: loadAvg()}
		if cpus > 0 {
			r.cpuRate = float64(docsInStep) / cpus
		}
		r.rssMB, r.hwmMB, r.anonMB = procMemMB()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		r.heapMB = float64(ms.HeapInuse) / 1e6
		if fi, err := os.Stat(path); err == nil {
			r.fileMB = float64(fi.Size()) / 1e6
		}
		rows = append(rows, r)
		info := c.Info()
		b.logf("growth: %d docs: %.0f docs/s (%.0f per CPU-s), RSS %.0f MB (peak %.0f, anonymous %.0f), heap %.0f MB, file %.0f MB, load %s; recall record: ef %d at %d docs",
			done, r.rate, r.cpuRate, r.rssMB, r.hwmMB, r.anonMB, r.heapMB, r.fileMB, r.load, info.Recall.Ef, info.Recall.Count)
		b.rep.add(Measurement{Suite: "growth", System: "vecbolt-db builtin", Dataset: "debian-variations", N: done,
			Dim: info.Dimension, DocsPerS: fp(r.rate), RSSMB: fp(r.rssMB), FileMB: fp(r.fileMB),
			Params: map[string]any{"phase": "insert step", "docs_per_cpu_s": fmt.Sprintf("%.0f", r.cpuRate),
				"peak_rss_mb": fmt.Sprintf("%.0f", r.hwmMB), "anon_rss_mb": fmt.Sprintf("%.0f", r.anonMB), "heap_mb": fmt.Sprintf("%.0f", r.heapMB), "load": r.load}})
		if (done >= 100_000 && !measured100k) || done == n {
			measured100k = measured100k || done >= 100_000
			if err := b.growthRecall(ctx, c, qv, "built"); err != nil {
				return err
			}
		}
		if err := checkpoint(done); err != nil {
			return err
		}
		stepStart, cpuStart = time.Now(), procCPU()
		stopProf = b.growthProfile(done)
	}
	stopProf(-1)
	if len(rows) > 1 {
		ref := rows[0]
		for _, r := range rows {
			if r.docs == 100_000 {
				ref = r
			}
		}
		last := rows[len(rows)-1]
		b.logf("growth: last step / step ending at %d: %.2f by wall clock, %.2f by CPU time", ref.docs, last.rate/ref.rate, last.cpuRate/ref.cpuRate)
	}

	// Delete a random half.
	rng := rand.New(rand.NewPCG(growthDocSeed, 2))
	del := rng.Perm(n)[:n/2]
	t0, c0 := time.Now(), procCPU()
	for i := 0; i < len(del); i += growthBatch {
		ids := make([]string, 0, growthBatch)
		for _, j := range del[i:min(i+growthBatch, len(del))] {
			ids = append(ids, strconv.Itoa(j))
		}
		if _, err := c.Delete(ctx, ids...); err != nil {
			return err
		}
	}
	b.logf("growth: deleted %d documents in %.1f s (%.1f CPU-s)", len(del), time.Since(t0).Seconds(), procCPU()-c0)
	if err := b.growthRecall(ctx, c, qv, "deleted half"); err != nil {
		return err
	}
	if len(ckpts) < 2 {
		return nil
	}
	// The replays run with the grown collection closed, so that its heap
	// does not weigh on the small step's garbage collection.
	if err := d.Close(); err != nil {
		return err
	}
	return b.growthRepeat(ctx, g, dir, ckpts)
}

// growthCkpt is a copy of the growth file made before the step that
// inserts documents from..to-1.
type growthCkpt struct {
	path     string
	from, to int
}

// growthRepeat replays the checkpointed steps --growth-repeat times,
// alternating small and large, each from a fresh copy of its checkpoint
// opened in this process: the same documents go into the same stored
// collection. A machine whose speed drifts over the half hour of the
// growth run moves the two steps of one pair alike, so the ratio of a
// pair, and the median over pairs, says more than the single run's ratio.
// The copy and the open are not timed; the collection's background recall
// re-measurement falls where it fell in the first run, as its record is
// in the file.
func (b *bench) growthRepeat(ctx context.Context, g *growthCorpus, dir string, ckpts []growthCkpt) error {
	small, large := ckpts[0], ckpts[len(ckpts)-1]
	var ratios, cpuRatios []float64
	for rep := range b.cfg.growthRepeat {
		var rate, cpuRate [2]float64
		for k, ck := range []growthCkpt{small, large} {
			r, cr, err := b.growthReplay(ctx, g, dir, ck)
			if err != nil {
				return err
			}
			rate[k], cpuRate[k] = r, cr
			b.logf("growth: replay %d, step %d-%d: %.0f docs/s (%.0f per CPU-s), load %s", rep+1, ck.from, ck.to, r, cr, loadAvg())
			b.rep.add(Measurement{Suite: "growth", System: "vecbolt-db builtin", Dataset: "debian-variations", N: ck.to,
				DocsPerS: fp(r), Params: map[string]any{"phase": "replayed step", "replay": rep + 1,
					"docs_per_cpu_s": fmt.Sprintf("%.0f", cr), "load": loadAvg()}})
		}
		ratios = append(ratios, rate[1]/rate[0])
		cpuRatios = append(cpuRatios, cpuRate[1]/cpuRate[0])
		b.logf("growth: replay %d: step ending at %d / step ending at %d: %.2f by wall clock, %.2f by CPU time",
			rep+1, large.to, small.to, ratios[len(ratios)-1], cpuRatios[len(cpuRatios)-1])
	}
	b.logf("growth: replays: median ratio %.2f by wall clock (%.2f-%.2f), %.2f by CPU time (%.2f-%.2f)",
		median(ratios), slices.Min(ratios), slices.Max(ratios), median(cpuRatios), slices.Min(cpuRatios), slices.Max(cpuRatios))
	return nil
}

// growthReplay copies a checkpoint, opens it and inserts its step's
// documents in batches as the first run did, returning the rate by wall
// clock and by process CPU time.
func (b *bench) growthReplay(ctx context.Context, g *growthCorpus, dir string, ck growthCkpt) (rate, cpuRate float64, err error) {
	path := filepath.Join(dir, "replay.vecbolt")
	if err := copyFile(ck.path, path); err != nil {
		return 0, 0, err
	}
	defer os.Remove(path)
	d, err := db.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer func() {
		if cerr := d.Close(); err == nil {
			err = cerr
		}
	}()
	c, err := d.Collection(ctx, "texts")
	if err != nil {
		return 0, 0, err
	}
	if c.Info().Count != ck.from {
		return 0, 0, fmt.Errorf("growth: checkpoint %s holds %d documents, want %d", ck.path, c.Info().Count, ck.from)
	}
	t0, c0 := time.Now(), procCPU()
	for done := ck.from; done < ck.to; done += growthBatch {
		if err := insertGenerated(ctx, c, g, done, min(done+growthBatch, ck.to)); err != nil {
			return 0, 0, err
		}
	}
	secs, cpus := time.Since(t0).Seconds(), procCPU()-c0
	rate = float64(ck.to-ck.from) / secs
	if cpus > 0 {
		cpuRate = float64(ck.to-ck.from) / cpus
	}
	return rate, cpuRate, nil
}

// growthProfile starts a CPU profile of the step that begins at docs
// documents, when --profile-dir is set; the returned function stops it and
// writes a heap profile named after the step's end (end < 0: none).
func (b *bench) growthProfile(docs int) func(end int) {
	dir := b.cfg.profileDir
	if dir == "" {
		return func(int) {}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.logf("growth: profiles: %v", err)
		return func(int) {}
	}
	var buf bytes.Buffer
	cpuOn := pprof.StartCPUProfile(&buf) == nil
	return func(end int) {
		if cpuOn {
			pprof.StopCPUProfile()
			if end >= 0 {
				_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("cpu-%07d.pprof", end)), buf.Bytes(), 0o644)
			}
		}
		if end < 0 {
			return
		}
		runtime.GC()
		if f, err := os.Create(filepath.Join(dir, fmt.Sprintf("heap-%07d.pprof", end))); err == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
}

// growthRecall measures default recall@10 of the queries against exact
// search over the collection's stored vectors.
func (b *bench) growthRecall(ctx context.Context, c *db.Collection, qv [][]float32, phase string) error {
	t0 := time.Now()
	if _, err := c.TuneRecall(ctx); err != nil {
		return err
	}
	tuneS := time.Since(t0).Seconds()
	t0 = time.Now()
	top := make([]tiedTop, len(qv))
	count := 0
	for doc, err := range c.Scan(ctx, db.ScanFields(db.FieldVector)) {
		if err != nil {
			return err
		}
		count++
		dn := norm(doc.Vector)
		for qi, q := range qv {
			var dot float64
			for j, x := range q {
				dot += float64(x) * float64(doc.Vector[j])
			}
			top[qi].offer(doc.ID, dot/(dn*norm(q)), 10)
		}
	}
	exactS := time.Since(t0).Seconds()
	got := make([][]db.Result, len(qv))
	run, err := metrics.Timed(ctx, len(qv), 1, func(_, i int) error {
		var err error
		got[i], err = c.SearchVector(ctx, qv[i], db.WithFields())
		return err
	})
	if err != nil {
		return err
	}
	hits, tiedHits, ties := 0, 0, 0
	for i := range qv {
		ids := make([]string, len(got[i]))
		for j, r := range got[i] {
			ids[j] = r.ID
		}
		h, th := top[i].hits(ids, 10)
		hits += h
		tiedHits += th
		if len(top[i].hs) > 10 {
			ties++
		}
	}
	tiedRecall := float64(tiedHits) / float64(10*len(qv))
	recall := float64(hits) / float64(10*len(qv))
	info := c.Info()
	b.logf("growth: %s, %d docs: default recall@10 %.4f at ef %d (with ties %.4f; %d of %d queries have more than 10 documents within the 10th's score; collection's estimate %.4f, met %v), %.0f QPS (%.0f per CPU-s); tune %.1f s, exact scan %.1f s",
		phase, count, recall, info.Recall.Ef, tiedRecall, ties, len(qv), info.Recall.Recall, info.Recall.Met, run.QPS, run.CPUQPS, tuneS, exactS)
	m := Measurement{Suite: "growth", System: "vecbolt-db builtin", Dataset: "debian-variations", N: count, Dim: info.Dimension, K: 10,
		RecallAt10: fp(recall), QPS1T: fp(run.QPS),
		Params: map[string]any{"phase": phase, "ef": info.Recall.Ef, "est_recall": fmt.Sprintf("%.4f", info.Recall.Recall),
			"recall_with_ties": fmt.Sprintf("%.4f", tiedRecall), "queries_with_ties": ties}}
	if run.CPUQPS > 0 {
		m.QPS1TCPU = fp(run.CPUQPS)
	}
	b.rep.add(m)
	if b.cfg.quick {
		b.want(fmt.Sprintf("growth %s default recall@10", phase), recall, db.DefaultRecallTarget-0.01)
	}
	return nil
}

// tieEps is the score difference under which two documents tie for a
// query: exact duplicates (the generated texts repeat short sentences
// word for word, so many documents share one vector) score the same up to
// float64 rounding of the same products.
const tieEps = 1e-9

// tiedTop is a query's exact top k by score, extended with every document
// that ties the k-th: among duplicates the exact answer's choice of IDs
// is arbitrary, so a search returning another copy has not missed.
type tiedTop struct {
	hs []scoredID // by decreasing score
}

type scoredID struct {
	id    string
	score float64
}

// offer considers a document for the top k.
func (t *tiedTop) offer(id string, s float64, k int) {
	if len(t.hs) >= k && s < t.hs[k-1].score-tieEps {
		return
	}
	i, _ := slices.BinarySearchFunc(t.hs, s, func(h scoredID, s float64) int {
		if h.score >= s {
			return -1
		}
		return 1
	})
	t.hs = slices.Insert(t.hs, i, scoredID{id, s})
	if len(t.hs) > k {
		kth := t.hs[k-1].score
		j := k
		for j < len(t.hs) && t.hs[j].score >= kth-tieEps {
			j++
		}
		t.hs = t.hs[:j]
	}
}

// hits counts the returned IDs among the exact top k: by ID against the
// first k (ties broken by scan order, as an ID-based recall does), and
// against the top k with its ties (at most k; the rule ann-benchmarks
// applies with a distance threshold).
func (t *tiedTop) hits(ids []string, k int) (byID, withTies int) {
	for i, h := range t.hs {
		if !slices.Contains(ids, h.id) {
			continue
		}
		if i < k {
			byID++
		}
		withTies++
	}
	return byID, min(withTies, k)
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// procCPU is the process's CPU time in seconds (0 where unknown).
func procCPU() float64 {
	s, _ := processCPU()
	return s
}

// procMemMB returns the resident set, its peak, and its anonymous part
// (VmRSS, VmHWM, RssAnon) in MB, 0 where /proc is unavailable. The rest of
// the resident set is mostly the file's pages that bbolt's read-only map
// touched: page cache the kernel can reclaim, not memory the process holds.
func procMemMB() (rss, hwm, anon float64) {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0, 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss = kb * 1024 / 1e6
		case "VmHWM:":
			hwm = kb * 1024 / 1e6
		case "RssAnon:":
			anon = kb * 1024 / 1e6
		}
	}
	return rss, hwm, anon
}

// loadAvg is the 1-minute load average ("" where unknown).
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(raw))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// insertGenerated inserts the generated documents from..to-1 in one batch.
func insertGenerated(ctx context.Context, c *db.Collection, g *growthCorpus, from, to int) error {
	docs := make([]db.Document, 0, to-from)
	for i := from; i < to; i++ {
		docs = append(docs, db.Document{ID: strconv.Itoa(i), Text: g.text(growthDocSeed, uint64(i))})
	}
	_, err := c.Insert(ctx, docs...)
	return err
}

// median returns the middle value of xs (the mean of the middle two for an
// even count); xs is not modified.
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// copyFile copies src to dst, replacing dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
