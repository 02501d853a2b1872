package index

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Benchmark data follows shared/notes/anchors.md: 256 Gaussian centers,
// noise sigma 0.35, L2-normalized, inner product, M=16, efConstruction=200,
// 384 dims. N defaults to 10k so `go test -bench` stays quick; set
// VECBOLT_BENCH_N=100000 for the figures comparable with hnswlib.

type benchSet struct {
	data, queries [][]float32
	truth         [][]Result
	h             *HNSW
	buildTime     time.Duration
}

// benchCache holds data sets across benchmarks of one test binary run;
// building 100k vectors takes tens of seconds.
var benchCache sync.Map // int -> *benchSet

func benchN() int {
	if s := os.Getenv("VECBOLT_BENCH_N"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 10_000
}

func getBenchSet(b *testing.B, n int) *benchSet {
	if v, ok := benchCache.Load(n); ok {
		return v.(*benchSet)
	}
	const dim, nq = 384, 1000
	all := clusteredData(n+nq, dim, 256, 0.35, 2024)
	bs := &benchSet{data: all[:n], queries: all[n:]}
	f := NewFlat(dim, Dot)
	for i, v := range bs.data {
		_ = f.Add(uint64(i), v)
	}
	bs.truth = make([][]Result, nq)
	for i, q := range bs.queries {
		bs.truth[i], _ = f.Search(q, 10, nil)
	}
	// VECBOLT_BENCH_CACHE=DIR keeps the built graph as a snapshot between
	// runs (the data and ground truth are regenerated: same seed).
	cache := ""
	if dir := os.Getenv("VECBOLT_BENCH_CACHE"); dir != "" {
		cache = filepath.Join(dir, fmt.Sprintf("hnsw-bench-%d.snap", n))
		if raw, err := os.ReadFile(cache); err == nil {
			if h, err := ReadHNSW(bytes.NewReader(raw)); err == nil {
				bs.h = h
				benchCache.Store(n, bs)
				return bs
			}
		}
	}
	h := mustHNSW(b, dim, Dot, WithM(16), WithEfConstruction(200))
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = uint64(i)
	}
	start := time.Now()
	if err := h.AddBatch(context.Background(), ids, bs.data); err != nil {
		b.Fatal(err)
	}
	bs.buildTime = time.Since(start)
	bs.h = h
	if cache != "" {
		var buf bytes.Buffer
		if _, err := h.WriteTo(&buf); err == nil {
			_ = os.WriteFile(cache, buf.Bytes(), 0o644)
		}
	}
	benchCache.Store(n, bs)
	return bs
}

// BenchmarkHNSWSearch reports single-thread latency, recall@10 against the
// exact index, and allocations (0 per op: SearchInto reuses dst).
func BenchmarkHNSWSearch(b *testing.B) {
	n := benchN()
	bs := getBenchSet(b, n)
	for _, ef := range []int{10, 16, 24, 32, 48, 64, 96, 128} {
		b.Run(fmt.Sprintf("n=%d/ef=%d", n, ef), func(b *testing.B) {
			got := make([][]Result, len(bs.queries))
			for i, q := range bs.queries {
				got[i], _ = bs.h.searchEf(q, 10, ef, nil)
			}
			rec := recallAt(got, bs.truth, 10)
			dst := make([]Result, 0, 10)
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				var err error
				dst, err = bs.h.SearchInto(dst, bs.queries[i%len(bs.queries)], SearchOptions{K: 10, Ef: ef})
				if err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(rec, "recall@10")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "qps")
		})
	}
}

// BenchmarkHNSWSearchParallel measures throughput with GOMAXPROCS
// searching goroutines (run with -cpu 1,2 to see scaling).
func BenchmarkHNSWSearchParallel(b *testing.B) {
	n := benchN()
	bs := getBenchSet(b, n)
	for _, ef := range []int{24, 64} {
		b.Run(fmt.Sprintf("n=%d/ef=%d", n, ef), func(b *testing.B) {
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				dst := make([]Result, 0, 10)
				for pb.Next() {
					i := int(next.Add(1))
					dst, _ = bs.h.SearchInto(dst, bs.queries[i%len(bs.queries)], SearchOptions{K: 10, Ef: ef})
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "qps")
		})
	}
}

// BenchmarkHNSWAdd measures sequential single inserts (one goroutine) into
// a graph that grows to b.N vectors; ns/op is per vector.
func BenchmarkHNSWAdd(b *testing.B) {
	const dim = 384
	data := clusteredData(20_000, dim, 256, 0.35, 99)
	h := mustHNSW(b, dim, Dot)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := h.Add(uint64(i), data[i%len(data)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "vectors/s")
}

// BenchmarkHNSWBuild measures AddBatch of 10k × 384 with 1 and 2 workers.
func BenchmarkHNSWBuild(b *testing.B) {
	const dim, n = 384, 10_000
	data := clusteredData(n, dim, 256, 0.35, 5)
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = uint64(i)
	}
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			for b.Loop() {
				h := mustHNSW(b, dim, Dot, WithBuildWorkers(w))
				if err := h.AddBatch(context.Background(), ids, data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "vectors/s")
		})
	}
}

// BenchmarkHNSWFilter compares, per selectivity, the filtered graph walk
// with the exact scan of the matching set (hint route), to place
// defaultExactFraction. The filter is a cheap modulus, like a bitmap
// lookup the database would pass.
func BenchmarkHNSWFilter(b *testing.B) {
	n := benchN()
	bs := getBenchSet(b, n)
	for _, frac := range []float64{0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.001} {
		mod := uint64(1/frac + 0.5)
		filter := func(id uint64) bool { return id%mod == 0 }
		var cands []uint64
		for id := uint64(0); id < uint64(n); id += mod {
			cands = append(cands, id)
		}
		for _, route := range []string{"walk", "exact", "candidates"} {
			b.Run(fmt.Sprintf("n=%d/match=%g/%s", n, frac, route), func(b *testing.B) {
				opts := SearchOptions{K: 10, Ef: 64, Filter: filter}
				switch route {
				case "exact":
					opts.MatchEstimate = frac
				case "candidates":
					opts.Candidates = cands
				}
				// Force the route regardless of the configured threshold.
				saved := bs.h.exactFrac
				if route == "walk" {
					bs.h.exactFrac = 0
				} else {
					bs.h.exactFrac = 1
				}
				defer func() { bs.h.exactFrac = saved }()
				got := make([][]Result, 200)
				want := make([][]Result, 200)
				f := NewFlat(384, Dot)
				for i, v := range bs.data {
					if filter(uint64(i)) {
						_ = f.Add(uint64(i), v)
					}
				}
				for i := range got {
					got[i], _ = bs.h.SearchWith(bs.queries[i], opts)
					want[i], _ = f.Search(bs.queries[i], 10, nil)
				}
				dst := make([]Result, 0, 10)
				b.ResetTimer()
				i := 0
				for b.Loop() {
					dst, _ = bs.h.SearchInto(dst, bs.queries[i%len(bs.queries)], opts)
					i++
				}
				b.ReportMetric(recallAt(got, want, 10), "recall@10")
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "qps")
			})
		}
	}
}

// BenchmarkHNSWSnapshot measures WriteTo and ReadHNSW of the bench graph;
// MB/s is snapshot bytes per second.
func BenchmarkHNSWSnapshot(b *testing.B) {
	bs := getBenchSet(b, benchN())
	var buf bytes.Buffer
	if _, err := bs.h.WriteTo(&buf); err != nil {
		b.Fatal(err)
	}
	b.Run("write", func(b *testing.B) {
		b.SetBytes(int64(buf.Len()))
		var out bytes.Buffer
		out.Grow(buf.Len())
		for b.Loop() {
			out.Reset()
			if _, err := bs.h.WriteTo(&out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read", func(b *testing.B) {
		b.SetBytes(int64(buf.Len()))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ReadHNSW(bytes.NewReader(buf.Bytes())); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestHNSWBenchReport prints the summary the issue asks for (recall and QPS
// per ef, build rate, bytes per vector) when VECBOLT_BENCH_REPORT=1. It
// asserts nothing about time.
func TestHNSWBenchReport(t *testing.T) {
	if os.Getenv("VECBOLT_BENCH_REPORT") != "1" {
		t.Skip("set VECBOLT_BENCH_REPORT=1 (and VECBOLT_BENCH_N) to print the report")
	}
	n := benchN()
	var bs *benchSet
	testing.Benchmark(func(b *testing.B) { bs = getBenchSet(b, n) })
	st := bs.h.Stats()
	t.Logf("n=%d dim=384 M=16 efC=200 build %v with %d workers (%.0f vectors/s), %.0f bytes/vector, max level %d",
		n, bs.buildTime.Round(time.Millisecond), runtime.GOMAXPROCS(0), float64(n)/bs.buildTime.Seconds(),
		float64(st.Bytes)/float64(st.Live), st.MaxLevel)
	dst := make([]Result, 0, 10)
	for _, ef := range []int{10, 16, 24, 32, 48, 64, 96, 128, 256} {
		got := make([][]Result, len(bs.queries))
		for i, q := range bs.queries {
			got[i], _ = bs.h.searchEf(q, 10, ef, nil)
		}
		const reps = 3
		start := time.Now()
		cpu := threadCPU(func() {
			for range reps {
				for _, q := range bs.queries {
					dst, _ = bs.h.SearchInto(dst, q, SearchOptions{K: 10, Ef: ef})
				}
			}
		})
		wall := time.Since(start)
		nq := float64(reps * len(bs.queries))
		t.Logf("ef=%4d recall@10=%.4f qps(1 thread, CPU time)=%.0f qps(wall)=%.0f",
			ef, recallAt(got, bs.truth, 10), nq/cpu.Seconds(), nq/wall.Seconds())
	}
}

// TestHNSWBuildReport prints build throughput with 1 worker (wall and CPU
// time of the building thread) and with 2 workers (wall) when
// VECBOLT_BENCH_REPORT=1. It asserts nothing about time.
func TestHNSWBuildReport(t *testing.T) {
	if os.Getenv("VECBOLT_BENCH_REPORT") != "1" {
		t.Skip("set VECBOLT_BENCH_REPORT=1 (and VECBOLT_BENCH_N) to print the report")
	}
	n := benchN()
	data := clusteredData(n, 384, 256, 0.35, 2024)
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = uint64(i)
	}
	for _, w := range []int{1, 2} {
		if os.Getenv("VECBOLT_BENCH_WORKERS") != "" && os.Getenv("VECBOLT_BENCH_WORKERS") != strconv.Itoa(w) {
			continue
		}
		h := mustHNSW(t, 384, Dot, WithBuildWorkers(w))
		start, cpu0 := time.Now(), processCPU()
		if err := h.AddBatch(context.Background(), ids, data); err != nil {
			t.Fatal(err)
		}
		wall, cpu := time.Since(start), processCPU()-cpu0
		// Vectors per CPU-second stays flat when workers do not slow each
		// other down; wall-clock gains need idle cores.
		t.Logf("build n=%d workers=%d: %.0f vectors/s wall, %.0f vectors per CPU-second, CPU use %.2f cores",
			n, w, float64(n)/wall.Seconds(), float64(n)/cpu.Seconds(), cpu.Seconds()/wall.Seconds())
	}
}

// TestHNSWCompactReport deletes 30% of the bench graph (repairs trigger at
// the default 10% threshold), re-inserts as many vectors, and prints the
// repair time and recall against a fresh exact answer when
// VECBOLT_BENCH_REPORT=1.
func TestHNSWCompactReport(t *testing.T) {
	if os.Getenv("VECBOLT_BENCH_REPORT") != "1" {
		t.Skip("set VECBOLT_BENCH_REPORT=1 (and VECBOLT_BENCH_N) to print the report")
	}
	n := benchN()
	var bs *benchSet
	testing.Benchmark(func(b *testing.B) { bs = getBenchSet(b, n) })
	var buf bytes.Buffer
	if _, err := bs.h.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	h, err := ReadHNSW(&buf) // a private copy; the cached graph stays intact
	if err != nil {
		t.Fatal(err)
	}
	extra := clusteredData(n+len(bs.queries)+n*3/10, 384, 256, 0.35, 2024)[n+len(bs.queries):]
	var slowest, total time.Duration
	for i := range n * 3 / 10 {
		start := time.Now()
		h.Delete(uint64(i * 3 % n))
		d := time.Since(start)
		total += d
		slowest = max(slowest, d)
		if err := h.Add(uint64(n+i), extra[i]); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("30%% churn on n=%d: deletes took %v in total, slowest (a repair) %v; stats %+v",
		n, total.Round(time.Millisecond), slowest.Round(time.Millisecond), h.Stats())
	f := NewFlat(384, Dot)
	deleted := make(map[uint64]bool)
	for i := range n * 3 / 10 {
		deleted[uint64(i*3%n)] = true
	}
	for i, v := range bs.data {
		if !deleted[uint64(i)] {
			_ = f.Add(uint64(i), v)
		}
	}
	for i, v := range extra[:n*3/10] {
		_ = f.Add(uint64(n+i), v)
	}
	want := exactResults(t, f, bs.queries, 10, nil)
	for _, ef := range []int{24, 32, 64} {
		got := searchAll(t, h, bs.queries, 10, ef, nil)
		t.Logf("after churn ef=%d recall@10=%.4f", ef, recallAt(got, want, 10))
	}
}

// TestHNSWParallelReport prints search throughput with 1 and 2 searching
// goroutines when VECBOLT_BENCH_REPORT=1: wall-clock QPS, and QPS per
// CPU-second of the process, which shows whether concurrent searches slow
// each other down (lock or cache-line contention) even when other jobs
// share the cores.
func TestHNSWParallelReport(t *testing.T) {
	if os.Getenv("VECBOLT_BENCH_REPORT") != "1" {
		t.Skip("set VECBOLT_BENCH_REPORT=1 (and VECBOLT_BENCH_N) to print the report")
	}
	var bs *benchSet
	testing.Benchmark(func(b *testing.B) { bs = getBenchSet(b, benchN()) })
	for _, ef := range []int{24, 64} {
		for _, g := range []int{1, 2} {
			const perG = 3000
			start, cpu0 := time.Now(), processCPU()
			var wg sync.WaitGroup
			for w := range g {
				wg.Go(func() {
					dst := make([]Result, 0, 10)
					for i := range perG {
						dst, _ = bs.h.SearchInto(dst, bs.queries[(i+w*500)%len(bs.queries)], SearchOptions{K: 10, Ef: ef})
					}
				})
			}
			wg.Wait()
			wall, cpu := time.Since(start), processCPU()-cpu0
			nq := float64(g * perG)
			t.Logf("ef=%d goroutines=%d: %.0f qps wall, %.0f queries per CPU-second, CPU use %.2f cores",
				ef, g, nq/wall.Seconds(), nq/cpu.Seconds(), cpu.Seconds()/wall.Seconds())
		}
	}
}
