package index

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// vecStore is what a caller of an int8 graph keeps: the full-precision
// vectors, served to SearchOptions.Rerank. It counts calls so tests can
// check how many candidates were re-scored.
type vecStore struct {
	mu    sync.RWMutex
	vecs  map[uint64][]float32
	calls atomic.Int64
}

func newVecStore() *vecStore { return &vecStore{vecs: map[uint64][]float32{}} }

func (v *vecStore) put(id uint64, x []float32) {
	v.mu.Lock()
	v.vecs[id] = append([]float32(nil), x...)
	v.mu.Unlock()
}

func (v *vecStore) del(id uint64) {
	v.mu.Lock()
	delete(v.vecs, id)
	v.mu.Unlock()
}

func (v *vecStore) rerank(id uint64, dst []float32) ([]float32, bool) {
	v.calls.Add(1)
	v.mu.RLock()
	defer v.mu.RUnlock()
	x, ok := v.vecs[id]
	if !ok {
		return nil, false
	}
	return append(dst, x...), true
}

func TestEncodeRow8(t *testing.T) {
	tests := []struct {
		name string
		v    []float32
		m    Metric
	}{
		{"unit", []float32{0.6, -0.8, 0}, Cosine},
		{"zero", []float32{0, 0, 0, 0}, Dot},
		{"one component", []float32{0, -3.5, 0}, L2},
		{"subnormal max", []float32{1e-45, -1e-45, 0}, L2},
		{"huge", []float32{3e38, -1e38, 1}, Dot},
		{"mixed", []float32{1, 2, 3, -4, 5, -6, 7, 0.001}, L2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &HNSW{dim: len(tc.v), metric: tc.m, rowLen: int8RowLen(len(tc.v), tc.m), q8: true}
			row := make([]int8, h.rowLen)
			encodeRow8(row, tc.v, tc.m)
			r := h.ref8Row(row)
			var mx float64
			for _, x := range tc.v {
				mx = max(mx, math.Abs(float64(x)))
			}
			var norm uint32
			for i, c := range r.c {
				if c == -128 {
					t.Fatalf("code -128 at %d", i)
				}
				norm += uint32(int32(c) * int32(c))
				// Rounding to nearest: within half a step (plus float
				// slack). A step below the smallest float32 (a maximum
				// under 127 subnormal units) underflows to a zero scale.
				if err := math.Abs(float64(c)*float64(r.scale) - float64(tc.v[i])); err > 0.5001*float64(r.scale)+127e-45 {
					t.Fatalf("component %d: %v decodes to %v (scale %v)", i, tc.v[i], float64(c)*float64(r.scale), r.scale)
				}
			}
			if r.scale > 0 && !slices.ContainsFunc(r.c, func(c int8) bool { return c == 127 || c == -127 }) {
				t.Fatalf("largest component not mapped to ±127: %v", r.c)
			}
			if tc.m == L2 && r.norm != norm {
				t.Fatalf("norm word %d, codes give %d", r.norm, norm)
			}
			if math.IsNaN(float64(r.scale)) || math.IsInf(float64(r.scale), 0) || r.scale < 0 {
				t.Fatalf("scale %v", r.scale)
			}
		})
	}
}

// TestDist8MatchesDecoded: the int8 distance is the float distance between
// the decoded vectors, for every metric.
func TestDist8MatchesDecoded(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, m := range []Metric{Cosine, Dot, L2} {
		h := mustHNSW(t, 37, m, WithInt8())
		for i := range 50 {
			v := make([]float32, 37)
			for j := range v {
				v[j] = float32(r.NormFloat64() * 3)
			}
			if err := h.Add(uint64(i), v); err != nil {
				t.Fatal(err)
			}
		}
		for a := range uint32(50) {
			for b := range uint32(50) {
				qa := h.node(a)
				got := h.dist(b, &qa)
				da := h.decode8(a, make([]float32, 37))
				db := h.decode8(b, make([]float32, 37))
				var want float64
				switch m {
				case L2:
					for j := range da {
						d := float64(da[j]) - float64(db[j])
						want += d * d
					}
				default:
					for j := range da {
						want += float64(da[j]) * float64(db[j])
					}
					if m == Cosine {
						want = 1 - want
					} else {
						want = -want
					}
				}
				if math.Abs(float64(got)-want) > 1e-4*max(1, math.Abs(want)) {
					t.Fatalf("%v: dist(%d,%d) = %v, decoded vectors give %v", m, a, b, got, want)
				}
			}
		}
	}
}

// TestHNSWInt8MatchesFlat is the property test for int8 graphs: with
// Rerank and ef ≥ N the search returns exactly what the exact float32
// index returns (IDs, order, distances), whatever route answers (walk,
// exact scan after a hint, candidate list), with upserts and deletes.
func TestHNSWInt8MatchesFlat(t *testing.T) {
	r := rand.New(rand.NewPCG(77, 1))
	trials := 45
	if testing.Short() {
		trials = 20
	}
	for trial := range trials {
		n := 1 + r.IntN(250)
		dim := 1 + r.IntN(40)
		metric := Metric(1 + r.IntN(3))
		m := 2 + r.IntN(14)
		k := 1 + r.IntN(20)
		integer := r.IntN(2) == 0
		name := fmt.Sprintf("%d/n=%d,dim=%d,%v,M=%d,k=%d,int=%v", trial, n, dim, metric, m, k, integer)
		h := mustHNSW(t, dim, metric, WithM(m), WithEfConstruction(8+r.IntN(60)), WithSeed(int64(trial)), WithInt8())
		f := NewFlat(dim, metric)
		store := newVecStore()
		gen := func() []float32 {
			v := make([]float32, dim)
			for j := range v {
				if integer {
					v[j] = float32(r.IntN(3) - 1)
				} else {
					v[j] = float32(r.NormFloat64())
				}
			}
			v[0] += 0.5
			return v
		}
		for i := range n {
			v := gen()
			id := uint64(r.IntN(2 * n))
			if err := h.Add(id, v); err != nil {
				t.Fatal(name, i, err)
			}
			_ = f.Add(id, v)
			store.put(id, v)
			if r.IntN(10) == 0 {
				del := uint64(r.IntN(2 * n))
				if h.Delete(del) != f.Delete(del) {
					t.Fatalf("%s: Delete(%d) disagrees with flat", name, del)
				}
				store.del(del)
			}
		}
		if h.Len() != f.Len() {
			t.Fatalf("%s: Len %d, flat %d", name, h.Len(), f.Len())
		}
		filter := func(id uint64) bool { return id%3 != 1 }
		var cands []uint64
		for id := range uint64(2 * n) {
			if filter(id) {
				cands = append(cands, id)
			}
		}
		// A filter the candidate list covers, as Candidates requires.
		few := func(id uint64) bool { return filter(id) && slices.Contains(cands[:min(len(cands), 3)], id) }
		for range 4 {
			q := gen()
			for _, route := range []struct {
				name   string
				opts   SearchOptions
				filter Filter
			}{
				{"walk", SearchOptions{}, nil},
				{"walk filtered", SearchOptions{Filter: filter}, filter},
				{"estimate", SearchOptions{Filter: filter, MatchEstimate: 0.001}, filter},
				{"candidates", SearchOptions{Filter: few, Candidates: cands[:min(len(cands), 3)]}, few},
			} {
				want, err := f.Search(q, k, route.filter)
				if err != nil {
					t.Fatal(err)
				}
				opts := route.opts
				opts.K, opts.Ef, opts.Rerank = k, n+k, store.rerank
				got, err := h.SearchWith(q, opts)
				if err != nil {
					t.Fatalf("%s %s: %v", name, route.name, err)
				}
				if err := sameResults(got, want); err != nil {
					t.Fatalf("%s %s: %v\ngot  %v\nwant %v", name, route.name, err, got, want)
				}
			}
		}
	}
}

// int8Pair builds a float32 and an int8 graph over the same data with the
// same parameters.
func int8Pair(t testing.TB, data [][]float32, opts ...HNSWOption) (f32, i8 *HNSW, store *vecStore) {
	t.Helper()
	f32 = buildHNSW(t, data, 0, opts...)
	i8 = buildHNSW(t, data, 0, append(opts, WithInt8())...)
	store = newVecStore()
	for i, v := range data {
		store.put(uint64(i), v)
	}
	return f32, i8, store
}

func searchRerank(t testing.TB, h *HNSW, qs [][]float32, k, ef int, rerank func(uint64, []float32) ([]float32, bool)) [][]Result {
	t.Helper()
	out := make([][]Result, len(qs))
	for i, q := range qs {
		r, err := h.SearchWith(q, SearchOptions{K: k, Ef: ef, Rerank: rerank})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = r
	}
	return out
}

// TestHNSWInt8Recall: on the anchors.md data shape (scaled down), int8
// codes with a float32 re-rank lose under one point of recall@10 against
// the float32 graph at the same ef; codes alone lose more, which shows the
// re-rank is doing the work.
func TestHNSWInt8Recall(t *testing.T) {
	n, dim := 8000, 128
	if testing.Short() {
		n = 3000
	}
	if raceEnabled {
		n = 1200
	}
	all := clusteredData(n+200, dim, 64, 0.35, 1)
	data, qs := all[:n], all[n:]
	f32, i8, store := int8Pair(t, data)
	f := NewFlat(dim, Dot)
	for i, v := range data {
		_ = f.Add(uint64(i), v)
	}
	want := exactResults(t, f, qs, 10, nil)
	for _, ef := range []int{16, 32, 64} {
		rf := recallAt(searchAll(t, f32, qs, 10, ef, nil), want, 10)
		rq := recallAt(searchRerank(t, i8, qs, 10, ef, store.rerank), want, 10)
		rc := recallAt(searchAll(t, i8, qs, 10, ef, nil), want, 10)
		t.Logf("ef=%d recall@10 float32 %.4f, int8+rerank %.4f, int8 alone %.4f", ef, rf, rq, rc)
		if rq < rf-0.01 {
			t.Errorf("ef=%d: int8+rerank recall %.4f more than 1 point below float32 %.4f", ef, rq, rf)
		}
	}
	st, sf := i8.Stats(), f32.Stats()
	t.Logf("bytes per live vector: int8 graph %d, float32 graph %d", st.Bytes/int64(st.Live), sf.Bytes/int64(sf.Live))
	if !st.Int8 || sf.Int8 {
		t.Fatalf("Int8 flags: %v %v", st.Int8, sf.Int8)
	}
	// Segments are whole: compare per allocated row.
	rows := int64(len(i8.q8Segs) * hnswSegSize)
	if got := st.VectorBytes / rows; got != int64(dim+4) {
		t.Fatalf("int8 vector bytes per row %d, want %d", got, dim+4)
	}
	if got := sf.VectorBytes / rows; got != int64(4*dim) {
		t.Fatalf("float32 vector bytes per row %d, want %d", got, 4*dim)
	}
}

// TestHNSWInt8RerankCount: RerankCount bounds the Rerank calls, defaults to
// every candidate found, and is raised to K.
func TestHNSWInt8RerankCount(t *testing.T) {
	data := clusteredData(600, 16, 8, 0.35, 8)
	_, h, store := int8Pair(t, data)
	q := data[5]
	for _, tc := range []struct {
		name      string
		k, ef, rc int
		calls     int64
	}{
		{"default: all ef", 5, 40, 0, 40},
		{"explicit", 5, 40, 12, 12},
		{"raised to K", 10, 40, 3, 10},
		{"raises ef", 5, 20, 70, 70},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store.calls.Store(0)
			got, err := h.SearchWith(q, SearchOptions{K: tc.k, Ef: tc.ef, Rerank: store.rerank, RerankCount: tc.rc})
			if err != nil {
				t.Fatal(err)
			}
			if c := store.calls.Load(); c != tc.calls {
				t.Fatalf("%d Rerank calls, want %d", c, tc.calls)
			}
			// Exact distance (buildHNSW graphs use Dot).
			if len(got) != tc.k || got[0].ID != 5 || got[0].Distance != -dot32(data[5], data[5]) {
				t.Fatalf("results %v", got)
			}
		})
	}
	// A float32 graph never calls Rerank.
	f32 := buildHNSW(t, data, 0)
	store.calls.Store(0)
	if _, err := f32.SearchWith(q, SearchOptions{K: 5, Rerank: store.rerank}); err != nil || store.calls.Load() != 0 {
		t.Fatalf("float32 graph: err %v, %d Rerank calls", err, store.calls.Load())
	}
}

func TestHNSWInt8BadRerank(t *testing.T) {
	data := clusteredData(200, 8, 4, 0.35, 9)
	h := mustHNSW(t, 8, Cosine, withCompactThreshold(0), WithInt8())
	store := newVecStore()
	for i, v := range data {
		if err := h.Add(uint64(i), v); err != nil {
			t.Fatal(err)
		}
		store.put(uint64(i), v)
	}
	q := data[0]
	tests := []struct {
		name   string
		rerank func(uint64, []float32) ([]float32, bool)
		want   []error
	}{
		{"missing vector", func(uint64, []float32) ([]float32, bool) { return nil, false }, []error{ErrRerank}},
		{"short vector", func(_ uint64, dst []float32) ([]float32, bool) { return append(dst, 1, 2), true }, []error{ErrRerank, ErrDimension}},
		{"long vector", func(_ uint64, dst []float32) ([]float32, bool) { return make([]float32, 9), true }, []error{ErrRerank, ErrDimension}},
		{"NaN", func(_ uint64, dst []float32) ([]float32, bool) {
			v := append(dst, make([]float32, 8)...)
			v[3] = float32(math.NaN())
			return v, true
		}, []error{ErrRerank, ErrNotFinite}},
		{"zero under cosine", func(_ uint64, dst []float32) ([]float32, bool) { return make([]float32, 8), true }, []error{ErrRerank, ErrZeroNorm}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.SearchWith(q, SearchOptions{K: 3, Rerank: tc.rerank})
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Fatalf("got %v, want %v", err, w)
				}
			}
		})
	}
	if _, err := h.SearchWith(q, SearchOptions{K: 3, Rerank: store.rerank, RerankCount: -1}); err == nil {
		t.Fatal("negative RerankCount accepted")
	}
	// Rerank must not modify the caller's vectors (it normalizes a copy).
	raw := []float32{3, 0, 0, 0, 0, 0, 0, 4}
	if err := h.Add(9999, raw); err != nil {
		t.Fatal(err)
	}
	store.put(9999, raw)
	if _, err := h.SearchWith(raw, SearchOptions{K: 3, Rerank: store.rerank}); err != nil {
		t.Fatal(err)
	}
	if x := store.vecs[9999]; x[0] != 3 || x[7] != 4 {
		t.Fatalf("Rerank's vector was modified: %v", x)
	}
	// A candidate deleted between the walk and the re-rank (Rerank has no
	// vector and the graph no longer holds it) is dropped, not an error.
	deleted := func(id uint64, dst []float32) ([]float32, bool) {
		if id == 0 {
			h.Delete(0) // the caller deleted it concurrently
			return nil, false
		}
		return store.rerank(id, dst)
	}
	got, err := h.SearchWith(data[0], SearchOptions{K: 3, Rerank: deleted})
	if err != nil || len(got) != 3 || slices.ContainsFunc(got, func(r Result) bool { return r.ID == 0 }) {
		t.Fatalf("concurrently deleted candidate: %v, %v", got, err)
	}
}

// TestHNSWInt8DeleteCompact churns an int8 graph (deletes, re-inserts,
// repairs, slot reuse): recall with re-rank stays within a point of a
// fresh int8 build, deleted IDs never come back, and Vector decodes.
func TestHNSWInt8DeleteCompact(t *testing.T) {
	n, dim := 4000, 48
	if testing.Short() {
		n = 1500
	}
	if raceEnabled {
		n = 700
	}
	all := clusteredData(n+n*3/10+200, dim, 32, 0.35, 13)
	data, extra, qs := all[:n], all[n:n+n*3/10], all[n+n*3/10:]
	h := buildHNSW(t, data, 0, WithInt8())
	store := newVecStore()
	for i, v := range data {
		store.put(uint64(i), v)
	}
	perm := rand.New(rand.NewPCG(2, 2)).Perm(n)
	for i, d := range perm[:len(extra)] {
		if !h.Delete(uint64(d)) {
			t.Fatalf("delete %d reported absent", d)
		}
		store.del(uint64(d))
		if err := h.Add(uint64(n+i), extra[i]); err != nil {
			t.Fatal(err)
		}
		store.put(uint64(n+i), extra[i])
	}
	st := h.Stats()
	if st.Live != n || st.FreeSlots+st.Tombstones == 0 {
		t.Fatalf("stats after churn %+v", st)
	}
	h.Compact()
	if st := h.Stats(); st.Tombstones != 0 {
		t.Fatalf("after Compact: %+v", st)
	}
	if u := unreachable(h); u != 0 {
		t.Fatalf("%d live nodes unreachable after Compact", u)
	}
	fresh := mustHNSW(t, dim, Dot, WithInt8())
	f := NewFlat(dim, Dot)
	for id := range uint64(n + len(extra)) {
		store.mu.RLock()
		v, ok := store.vecs[id]
		store.mu.RUnlock()
		if ok {
			_ = fresh.Add(id, v)
			_ = f.Add(id, v)
		}
	}
	want := exactResults(t, f, qs, 10, nil)
	for _, ef := range []int{16, 32} {
		got := searchRerank(t, h, qs, 10, ef, store.rerank)
		gotFresh := searchRerank(t, fresh, qs, 10, ef, store.rerank)
		rc, rf := recallAt(got, want, 10), recallAt(gotFresh, want, 10)
		t.Logf("ef=%d churned int8 recall %.4f, fresh int8 %.4f", ef, rc, rf)
		if rc < rf-0.01 {
			t.Errorf("ef=%d: churned recall %.4f more than 1 point below fresh %.4f", ef, rc, rf)
		}
		for _, res := range got {
			for _, x := range res {
				if !h.Contains(x.ID) {
					t.Fatalf("deleted ID %d returned", x.ID)
				}
			}
		}
	}
	// Vector decodes the approximation: within half a code step of the
	// normalized-for-nothing (Dot) input.
	for _, id := range h.liveIDs()[:5] {
		got, ok := h.Vector(id)
		store.mu.RLock()
		orig := store.vecs[id]
		store.mu.RUnlock()
		if !ok || len(got) != dim {
			t.Fatalf("Vector(%d): %v %v", id, got, ok)
		}
		var mx float64
		for _, x := range orig {
			mx = max(mx, math.Abs(float64(x)))
		}
		for j := range got {
			if math.Abs(float64(got[j])-float64(orig[j])) > 0.51*mx/127 {
				t.Fatalf("Vector(%d)[%d] = %v, added %v", id, j, got[j], orig[j])
			}
		}
	}
}

// TestHNSWInt8Concurrent runs re-ranked and plain searches while one
// goroutine adds, upserts and deletes on an int8 graph. Run with -race.
func TestHNSWInt8Concurrent(t *testing.T) {
	const dim = 16
	total := 2500
	if testing.Short() || raceEnabled {
		total = 700
	}
	data := clusteredData(total, dim, 16, 0.35, 12)
	h := mustHNSW(t, dim, L2, WithM(8), WithEfConstruction(50), withCompactThreshold(0.05), WithInt8())
	store := newVecStore()
	for i := range 300 {
		if err := h.Add(uint64(i), data[i]); err != nil {
			t.Fatal(err)
		}
		store.put(uint64(i), data[i])
	}
	// The writer keeps the store and the graph in step the way a database
	// would: the store gains a vector before the graph does and loses it
	// after.
	var stop atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for g := range 3 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 5))
			var dst []Result
			for !stop.Load() {
				q := data[r.IntN(len(data))]
				opts := SearchOptions{K: 5, Rerank: store.rerank}
				switch g {
				case 1:
					opts.Filter = func(id uint64) bool { return id%5 == 0 }
				case 2:
					opts.Rerank = nil
				}
				var err error
				dst, err = h.SearchInto(dst, q, opts)
				if err != nil {
					errc <- err
					return
				}
				for i := 1; i < len(dst); i++ {
					if resultLessHNSW(dst[i], dst[i-1]) {
						errc <- fmt.Errorf("results out of order: %v", dst)
						return
					}
				}
			}
		})
	}
	wg.Go(func() {
		for !stop.Load() {
			var buf bytes.Buffer
			if _, err := h.WriteTo(&buf); err != nil {
				errc <- err
				return
			}
			if g, err := ReadHNSW(&buf); err != nil || !g.Int8() {
				errc <- fmt.Errorf("snapshot taken under load: %v (int8 %v)", err, err == nil && g.Int8())
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	r := rand.New(rand.NewPCG(6, 6))
	for i := 300; i < len(data); i++ {
		store.put(uint64(i), data[i])
		if err := h.Add(uint64(i), data[i]); err != nil {
			t.Fatal(err)
		}
		switch r.IntN(4) {
		case 0:
			id := uint64(r.IntN(i))
			h.Delete(id)
			store.del(id)
		case 1:
			id, v := uint64(r.IntN(i)), data[r.IntN(len(data))]
			// An upsert: the graph may briefly hold the old codes while
			// the store has the new vector; re-rank then scores the new
			// one, which is the caller's current truth.
			store.put(id, v)
			_ = h.Add(id, v)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
}

func TestHNSWInt8Snapshot(t *testing.T) {
	for _, m := range []Metric{Cosine, Dot, L2} {
		t.Run(m.String(), func(t *testing.T) {
			h := mustHNSW(t, 12, m, WithM(4), WithEfConstruction(20), withCompactThreshold(0), WithInt8())
			data := clusteredData(hnswSegSize+50, 12, 4, 0.35, 19)
			store := newVecStore()
			for i, v := range data {
				if err := h.Add(uint64(i), v); err != nil {
					t.Fatal(err)
				}
				store.put(uint64(i), v)
			}
			for i := 0; i < len(data); i += 4 {
				h.Delete(uint64(i))
			}
			h.Compact()
			h.Delete(1)
			var buf bytes.Buffer
			if _, err := h.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			// WithInt8 on load is fine for an int8 snapshot.
			g, err := ReadHNSW(bytes.NewReader(buf.Bytes()), WithInt8())
			if err != nil {
				t.Fatal(err)
			}
			if !g.Int8() || !sameShape(g.Stats(), h.Stats()) {
				t.Fatalf("loaded %+v, original %+v", g.Stats(), h.Stats())
			}
			for i := range uint32(len(h.ids)) {
				if !slices.Equal(h.row8(i), g.row8(i)) {
					t.Fatalf("slot %d row differs after load", i)
				}
			}
			for _, q := range data[:20] {
				for _, rr := range []func(uint64, []float32) ([]float32, bool){nil, store.rerank} {
					a, err1 := h.SearchWith(q, SearchOptions{K: 5, Ef: 20, Rerank: rr})
					b, err2 := g.SearchWith(q, SearchOptions{K: 5, Ef: 20, Rerank: rr})
					if err1 != nil || err2 != nil || !slices.Equal(a, b) {
						t.Fatalf("loaded graph %v (%v), original %v (%v)", b, err2, a, err1)
					}
				}
			}
			var buf2 bytes.Buffer
			if _, err := g.WriteTo(&buf2); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
				t.Fatal("re-snapshot differs")
			}
			// The loaded graph keeps inserting into its partial last segment.
			if err := g.Add(1<<40, data[3]); err != nil {
				t.Fatal(err)
			}
			if got, err := g.Search(data[3], 1, nil); err != nil || len(got) != 1 {
				t.Fatalf("after add on loaded graph: %v %v", got, err)
			}
		})
	}
}

func TestHNSWInt8SnapshotCorrupt(t *testing.T) {
	h := mustHNSW(t, 4, L2, WithM(4), WithInt8())
	for i, v := range clusteredData(30, 4, 3, 0.35, 4) {
		_ = h.Add(uint64(i), v)
	}
	var buf bytes.Buffer
	if _, err := h.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	rs, _ := h.rng.MarshalBinary()
	slots := len(h.ids)
	storageOff := len(hnswMagic) + 4 + binary.Size(hnswHeader{})
	rows := storageOff + 4 + 4 + len(rs) + slots*(8+1+1)
	tests := []struct {
		name   string
		mutate func([]byte) []byte
	}{
		{"unknown storage", func(b []byte) []byte { b[storageOff] = 7; return resum(b) }},
		{"code -128", func(b []byte) []byte { b[rows+1] = 0x80; return resum(b) }},
		{"NaN scale", func(b []byte) []byte {
			copy(b[rows+4:], []byte{0, 0, 0xc0, 0x7f})
			return resum(b)
		}},
		{"negative scale", func(b []byte) []byte { b[rows+4+3] |= 0x80; return resum(b) }},
		{"infinite scale", func(b []byte) []byte {
			copy(b[rows+4:], []byte{0, 0, 0x80, 0x7f})
			return resum(b)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ReadHNSW(bytes.NewReader(tc.mutate(append([]byte(nil), good...)))); !errors.Is(err, ErrCorruptHNSW) {
				t.Fatalf("got %v, want ErrCorruptHNSW", err)
			}
		})
	}
	if _, err := ReadHNSW(bytes.NewReader(good)); err != nil {
		t.Fatal(err)
	}
	// WithInt8 cannot turn a float32 snapshot into an int8 graph.
	f := snapshotGraph(t, 20, 4, L2)
	var fb bytes.Buffer
	if _, err := f.WriteTo(&fb); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadHNSW(bytes.NewReader(fb.Bytes()), WithInt8()); !errors.Is(err, ErrHNSWConfig) {
		t.Fatalf("WithInt8 on a float32 snapshot: got %v", err)
	}
}

// TestHNSWInt8AddBatch: the parallel build path on int8 storage keeps every
// node reachable and findable by its own vector.
func TestHNSWInt8AddBatch(t *testing.T) {
	n := 3000
	if raceEnabled {
		n = 1200
	}
	data := clusteredData(n, 24, 16, 0.35, 41)
	h := mustHNSW(t, 24, Cosine, WithM(8), WithEfConstruction(64), WithBuildWorkers(2), WithInt8())
	ids := make([]uint64, len(data))
	for i := range ids {
		ids[i] = uint64(i)
	}
	if err := h.AddBatch(context.Background(), ids, data); err != nil {
		t.Fatal(err)
	}
	if u := unreachable(h); u != 0 {
		t.Fatalf("%d unreachable after batch", u)
	}
	store := newVecStore()
	for i, v := range data {
		store.put(uint64(i), v)
	}
	miss := 0
	for i, v := range data[:500] {
		got, err := h.SearchWith(v, SearchOptions{K: 1, Rerank: store.rerank})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 || got[0].ID != uint64(i) {
			miss++
		}
	}
	if miss > 5 {
		t.Fatalf("%d of 500 vectors not found first by themselves", miss)
	}
}

// getInt8Graph builds (once per test binary, or from VECBOLT_BENCH_CACHE)
// an int8 graph over the benchmark data with the float32 graph's
// parameters.
func getInt8Graph(b *testing.B, bs *benchSet, n int) *HNSW {
	key := fmt.Sprintf("int8-%d", n)
	if v, ok := benchCache.Load(key); ok {
		return v.(*HNSW)
	}
	cache := ""
	if dir := os.Getenv("VECBOLT_BENCH_CACHE"); dir != "" {
		cache = filepath.Join(dir, fmt.Sprintf("hnsw-bench-int8-%d.snap", n))
		if raw, err := os.ReadFile(cache); err == nil {
			if h, err := ReadHNSW(bytes.NewReader(raw)); err == nil && h.Int8() {
				benchCache.Store(key, h)
				return h
			}
		}
	}
	h := mustHNSW(b, 384, Dot, WithM(16), WithEfConstruction(200), WithInt8())
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = uint64(i)
	}
	if err := h.AddBatch(context.Background(), ids, bs.data); err != nil {
		b.Fatal(err)
	}
	if cache != "" {
		var buf bytes.Buffer
		if _, err := h.WriteTo(&buf); err == nil {
			_ = os.WriteFile(cache, buf.Bytes(), 0o644)
		}
	}
	benchCache.Store(key, h)
	return h
}

// benchRerank serves the benchmark's float32 vectors from a plain
// [][]float32, as a caller holding them in memory would.
func benchRerank(bs *benchSet) func(uint64, []float32) ([]float32, bool) {
	return func(id uint64, _ []float32) ([]float32, bool) {
		if id >= uint64(len(bs.data)) {
			return nil, false
		}
		return bs.data[id], true
	}
}

// BenchmarkHNSWSearchInt8 is BenchmarkHNSWSearch on an int8 graph of the
// same data, with codes alone and with a re-rank from a [][]float32.
func BenchmarkHNSWSearchInt8(b *testing.B) {
	n := benchN()
	bs := getBenchSet(b, n)
	h := getInt8Graph(b, bs, n)
	for _, ef := range []int{16, 32, 64, 128} {
		for _, rr := range []bool{false, true} {
			opts := SearchOptions{K: 10, Ef: ef}
			if rr {
				opts.Rerank = benchRerank(bs)
			}
			b.Run(fmt.Sprintf("n=%d/ef=%d/rerank=%v", n, ef, rr), func(b *testing.B) {
				got := make([][]Result, len(bs.queries))
				for i, q := range bs.queries {
					var err error
					if got[i], err = h.SearchWith(q, opts); err != nil {
						b.Fatal(err)
					}
				}
				rec := recallAt(got, bs.truth, 10)
				dst := make([]Result, 0, 10)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					var err error
					dst, err = h.SearchInto(dst, bs.queries[i%len(bs.queries)], opts)
					if err != nil {
						b.Fatal(err)
					}
					i++
				}
				b.ReportMetric(rec, "recall@10")
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "qps")
				b.ReportMetric(float64(h.Stats().Bytes)/float64(h.Len()), "bytes/vector")
			})
		}
	}
}

// TestHNSWInt8BenchReport prints, per ef, recall@10 and single-thread QPS
// (from the searching thread's CPU time) of the float32 graph, the int8
// graph with a float32 re-rank (of all candidates, and of the best 20 or
// 40 where ef is larger), and the int8 graph alone, measured
// interleaved so that load on the shared machine hits all three alike;
// plus bytes per vector. Set VECBOLT_BENCH_REPORT=1 (and VECBOLT_BENCH_N).
// It asserts nothing about time.
func TestHNSWInt8BenchReport(t *testing.T) {
	if os.Getenv("VECBOLT_BENCH_REPORT") != "1" {
		t.Skip("set VECBOLT_BENCH_REPORT=1 (and VECBOLT_BENCH_N) to print the report")
	}
	n := benchN()
	var bs *benchSet
	var h8 *HNSW
	testing.Benchmark(func(b *testing.B) {
		bs = getBenchSet(b, n)
		h8 = getInt8Graph(b, bs, n)
	})
	sf, s8 := bs.h.Stats(), h8.Stats()
	t.Logf("n=%d dim=384 M=16 efC=200; bytes per vector: float32 graph %.0f (vectors %.0f), int8 graph %.0f (vectors %.0f)",
		n, float64(sf.Bytes)/float64(sf.Live), float64(sf.VectorBytes)/float64(sf.Slots),
		float64(s8.Bytes)/float64(s8.Live), float64(s8.VectorBytes)/float64(s8.Slots))
	rerank := benchRerank(bs)
	dst := make([]Result, 0, 10)
	for _, ef := range []int{10, 16, 24, 32, 48, 64, 96, 128} {
		variants := []struct {
			name string
			h    *HNSW
			opts SearchOptions
		}{
			{"float32", bs.h, SearchOptions{K: 10, Ef: ef}},
			{"int8+rerank", h8, SearchOptions{K: 10, Ef: ef, Rerank: rerank}},
			{"int8 alone", h8, SearchOptions{K: 10, Ef: ef}},
		}
		for _, rc := range []int{20, 40} {
			if rc < ef {
				variants = append(variants, struct {
					name string
					h    *HNSW
					opts SearchOptions
				}{fmt.Sprintf("int8+rerank best %d", rc), h8, SearchOptions{K: 10, Ef: ef, Rerank: rerank, RerankCount: rc}})
			}
		}
		line := fmt.Sprintf("ef=%4d", ef)
		const reps = 3
		cpu := make([]time.Duration, len(variants))
		for range reps {
			for i, v := range variants {
				cpu[i] += threadCPU(func() {
					for _, q := range bs.queries {
						var err error
						if dst, err = v.h.SearchInto(dst, q, v.opts); err != nil {
							t.Fatal(err)
						}
					}
				})
			}
		}
		for i, v := range variants {
			got := make([][]Result, len(bs.queries))
			for j, q := range bs.queries {
				got[j], _ = v.h.SearchWith(q, v.opts)
			}
			line += fmt.Sprintf("  %s recall %.4f qps %.0f", v.name, recallAt(got, bs.truth, 10),
				float64(reps*len(bs.queries))/cpu[i].Seconds())
		}
		t.Log(line)
	}
}
