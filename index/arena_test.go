package index

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

// TestArenaGraphMatchesHeapGraph: a graph whose segments all come from the
// arena (withArenaOnly) answers, snapshots and reloads exactly as one on
// the heap, for float32 and int8 rows, through growth, deletes, repairs
// and a reload whose last segment is partial and then grows.
func TestArenaGraphMatchesHeapGraph(t *testing.T) {
	const dim = 24
	n := 2500 // two full segments and a partial third
	if testing.Short() || raceEnabled {
		n = 1500
	}
	data := clusteredData(n+300, dim, 12, 0.35, 5)
	for _, tc := range []struct {
		name   string
		metric Metric
		opts   []HNSWOption
	}{
		{"float32 cosine", Cosine, nil},
		{"float32 l2", L2, nil},
		{"int8 cosine", Cosine, []HNSWOption{WithInt8()}},
		{"int8 l2", L2, []HNSWOption{WithInt8()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := append([]HNSWOption{WithM(8), WithEfConstruction(64), WithBuildWorkers(1)}, tc.opts...)
			heap := mustHNSW(t, dim, tc.metric, base...)
			arena := mustHNSW(t, dim, tc.metric, append(base, withArenaOnly())...)
			defer arena.Close()
			for _, h := range []*HNSW{heap, arena} {
				ids := make([]uint64, n)
				for i := range ids {
					ids[i] = uint64(i)
				}
				if err := h.AddBatch(context.Background(), ids, data[:n]); err != nil {
					t.Fatal(err)
				}
				for i := 0; i < n; i += 3 {
					h.Delete(uint64(i))
				}
				h.Compact()
			}
			if runtime.GOOS == "linux" && (arena.arena == nil || arena.arena.mappedBytes() == 0) {
				t.Fatal("withArenaOnly graph mapped no arena")
			}
			if heap.arena != nil {
				t.Fatalf("graph of %d×%d vectors uses an arena below arenaMinBytes", n, dim)
			}
			checkSegsInArena(t, arena)
			sameAnswers(t, heap, arena, data[n:])

			// Vector hands out a copy, never arena memory.
			v, ok := arena.Vector(1)
			if !ok {
				t.Fatal("Vector(1) missing")
			}
			want := slices.Clone(v)
			clear(v)
			if v2, _ := arena.Vector(1); !slices.Equal(v2, want) {
				t.Fatal("writing to Vector's result changed the graph")
			}

			var hb, ab bytes.Buffer
			if _, err := heap.WriteTo(&hb); err != nil {
				t.Fatal(err)
			}
			if _, err := arena.WriteTo(&ab); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(hb.Bytes(), ab.Bytes()) {
				t.Fatal("arena graph's snapshot differs from the heap graph's")
			}
			// Reloaded into the arena, the partial last segment grows in
			// place when inserts reach it.
			re, err := ReadHNSW(bytes.NewReader(ab.Bytes()), withArenaOnly(), WithBuildWorkers(1))
			if err != nil {
				t.Fatal(err)
			}
			defer re.Close()
			for i := n; i < n+300; i++ {
				for _, h := range []*HNSW{heap, re} {
					if err := h.Add(uint64(i), data[i]); err != nil {
						t.Fatal(err)
					}
				}
			}
			sameAnswers(t, heap, re, data[n-300:n])
			checkSegsInArena(t, re)
			for i := n; i < n+300; i += 37 {
				a, _ := heap.Vector(uint64(i))
				b, ok := re.Vector(uint64(i))
				if !ok || !slices.Equal(a, b) {
					t.Fatalf("vector %d after the reload's growth: %v, want %v", i, b, a)
				}
			}
		})
	}
}

// checkSegsInArena fails unless every vector, layer-0 link and in-count
// segment of h lies in one of its arena's blocks (where mappings exist).
func checkSegsInArena(t *testing.T, h *HNSW) {
	t.Helper()
	if runtime.GOOS != "linux" {
		return
	}
	in := func(p unsafe.Pointer, n uintptr) bool {
		h.arena.mu.Lock()
		defer h.arena.mu.Unlock()
		for _, b := range h.arena.blocks {
			if uintptr(p) >= uintptr(b.p) && uintptr(p)+n <= uintptr(b.p)+b.n {
				return true
			}
		}
		return false
	}
	check := func(kind string, i int, p unsafe.Pointer, n uintptr) {
		if !in(p, n) {
			t.Fatalf("%s segment %d (%d bytes) is not arena memory", kind, i, n)
		}
	}
	for i, s := range h.vecSegs {
		check("vector", i, unsafe.Pointer(unsafe.SliceData(s)), uintptr(cap(s))*4)
	}
	for i, s := range h.q8Segs {
		check("int8", i, unsafe.Pointer(unsafe.SliceData(s)), uintptr(cap(s)))
	}
	for i, s := range h.l0Segs {
		check("layer-0 link", i, unsafe.Pointer(unsafe.SliceData(s)), uintptr(cap(s))*4)
	}
	for i, s := range h.inSegs {
		check("in-count", i, unsafe.Pointer(unsafe.SliceData(s)), uintptr(cap(s))*4)
	}
	if len(h.l0Segs) == 0 || len(h.inSegs) != len(h.l0Segs) {
		t.Fatalf("%d link and %d in-count segments", len(h.l0Segs), len(h.inSegs))
	}
}

// sameAnswers checks that two graphs return identical results.
func sameAnswers(t *testing.T, a, b *HNSW, qs [][]float32) {
	t.Helper()
	for i, q := range qs {
		ra, err := a.SearchWith(q, SearchOptions{K: 10, Ef: 40})
		if err != nil {
			t.Fatal(err)
		}
		rb, err := b.SearchWith(q, SearchOptions{K: 10, Ef: 40})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ra, rb) {
			t.Fatalf("query %d: %v, want %v", i, rb, ra)
		}
	}
}

// TestHNSWClose: a closed graph is empty and refuses work with ErrClosed;
// Close twice is fine.
func TestHNSWClose(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []HNSWOption
	}{
		{"heap", nil},
		{"arena", []HNSWOption{withArenaOnly()}},
		{"arena int8", []HNSWOption{withArenaOnly(), WithInt8()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := clusteredData(300, 8, 4, 0.3, 2)
			h := mustHNSW(t, 8, Cosine, append([]HNSWOption{WithM(4)}, tc.opts...)...)
			for i, v := range data {
				if err := h.Add(uint64(i), v); err != nil {
					t.Fatal(err)
				}
			}
			if err := h.Close(); err != nil {
				t.Fatal(err)
			}
			if err := h.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			checks := []struct {
				what string
				err  error
			}{
				{"Add", h.Add(1, data[0])},
				{"AddBatch", h.AddBatch(context.Background(), []uint64{7}, data[:1])},
			}
			_, err := h.Search(data[0], 3, nil)
			checks = append(checks, struct {
				what string
				err  error
			}{"Search", err})
			_, err = h.WriteTo(&bytes.Buffer{})
			checks = append(checks, struct {
				what string
				err  error
			}{"WriteTo", err})
			_, err = h.MeasureRecall(context.Background(), RecallOptions{})
			checks = append(checks, struct {
				what string
				err  error
			}{"MeasureRecall", err})
			for _, c := range checks {
				if !errors.Is(c.err, ErrClosed) {
					t.Errorf("%s after Close: %v, want ErrClosed", c.what, c.err)
				}
			}
			if _, ok := h.Vector(1); ok || h.Contains(1) || h.Len() != 0 || h.Delete(1) {
				t.Error("closed graph still holds vectors")
			}
			h.Compact()
			if s := h.Stats(); s.Slots != 0 || s.VectorBytes != 0 {
				t.Errorf("closed graph stats %+v", s)
			}
		})
	}
}

// TestHNSWCloseRacesUse: Close while searches, inserts, deletes, snapshots
// and a recall measurement run on an arena graph. Every call either
// completes normally or fails with ErrClosed; none reads unmapped memory
// (that would crash the test binary). Run with -race.
func TestHNSWCloseRacesUse(t *testing.T) {
	const dim = 16
	rounds := 6
	if testing.Short() || raceEnabled {
		rounds = 3
	}
	data := clusteredData(2200, dim, 8, 0.35, 9)
	for round := range rounds {
		t.Run(fmt.Sprint("round ", round), func(t *testing.T) {
			opts := []HNSWOption{WithM(6), WithEfConstruction(32), withArenaOnly(), withCompactThreshold(0.05)}
			if round%2 == 1 {
				opts = append(opts, WithInt8())
			}
			h := mustHNSW(t, dim, L2, opts...)
			ids := make([]uint64, 1200)
			for i := range ids {
				ids[i] = uint64(i)
			}
			if err := h.AddBatch(context.Background(), ids, data[:1200]); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var closed atomic.Bool
			errc := make(chan error, 16)
			ok := func(what string, err error) bool {
				if err == nil {
					return true
				}
				if !errors.Is(err, ErrClosed) && !errors.Is(err, ErrTooSmall) {
					errc <- fmt.Errorf("%s: %w", what, err)
				}
				return false
			}
			for g := range 3 {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(uint64(g), uint64(round)))
					var dst []Result
					for {
						var err error
						dst, err = h.SearchInto(dst, data[r.IntN(len(data))], SearchOptions{K: 5, Ef: 24})
						if !ok("search", err) {
							return
						}
						_, _ = h.Vector(uint64(r.IntN(1200)))
					}
				})
			}
			wg.Go(func() {
				for i := 1200; i < len(data); i++ {
					if !ok("add", h.Add(uint64(i), data[i])) {
						return
					}
					if i%5 == 0 {
						h.Delete(uint64(i / 2))
					}
				}
			})
			wg.Go(func() {
				for {
					if _, err := h.WriteTo(&bytes.Buffer{}); !ok("snapshot", err) {
						return
					}
				}
			})
			wg.Go(func() {
				for {
					if _, err := h.MeasureRecall(context.Background(), RecallOptions{Queries: 20, Efs: []int{16, 32}}); !ok("recall", err) {
						return
					}
				}
			})
			wg.Go(func() {
				// Let the others get going, then close under them.
				for h.Len() < 1200+50*round {
					runtime.Gosched()
				}
				closed.Store(true)
				if err := h.Close(); err != nil {
					errc <- err
				}
			})
			wg.Wait()
			close(errc)
			for err := range errc {
				t.Error(err)
			}
			if !closed.Load() {
				t.Fatal("Close did not run")
			}
		})
	}
}

// TestArenaUnreachableGraph: graphs dropped without Close, searched by
// goroutines that hold the only reference, while the collector runs
// constantly; their arenas are released by the cleanup once unreachable,
// and never while a search still reads them (which would crash).
func TestArenaUnreachableGraph(t *testing.T) {
	const dim = 32
	data := clusteredData(1500, dim, 8, 0.35, 4)
	graphs := 8
	if testing.Short() || raceEnabled {
		graphs = 3
	}
	stop := make(chan struct{})
	var gcs sync.WaitGroup
	gcs.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	})
	var released atomic.Int64
	var wg sync.WaitGroup
	for g := range graphs {
		wg.Go(func() {
			h := mustHNSW(t, dim, Cosine, WithM(6), WithEfConstruction(24), withArenaOnly(), WithBuildWorkers(2))
			ids := make([]uint64, len(data))
			for i := range ids {
				ids[i] = uint64(i)
			}
			if err := h.AddBatch(context.Background(), ids, data); err != nil {
				t.Error(err)
				return
			}
			a := h.arena
			for i := range 200 {
				rs, err := h.Search(data[(i*7+g)%len(data)], 3, nil)
				if err != nil || len(rs) != 3 {
					t.Errorf("search %d: %v %v", i, rs, err)
					return
				}
			}
			// h is dropped here; the cleanup must release its arena.
			if a != nil {
				wait := func() bool {
					a.mu.Lock()
					defer a.mu.Unlock()
					return a.released
				}
				for range 200 {
					runtime.GC()
					if wait() {
						released.Add(1)
						return
					}
				}
				t.Error("the arena of an unreachable graph was not released")
			}
		})
	}
	wg.Wait()
	close(stop)
	gcs.Wait()
	if runtime.GOOS == "linux" && released.Load() != int64(graphs) {
		t.Fatalf("%d of %d arenas released", released.Load(), graphs)
	}
}
