package index

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// naiveModel is the obviously-correct reference: a map of prepared vectors,
// scored with the same kernels and fully sorted.
type naiveModel struct {
	dim    int
	metric Metric
	vecs   map[uint64][]float32
}

func newNaive(dim int, m Metric) *naiveModel {
	return &naiveModel{dim: dim, metric: m, vecs: map[uint64][]float32{}}
}

func (n *naiveModel) add(t testing.TB, id uint64, v []float32) {
	p, err := prepare(v, n.dim, n.metric)
	if err != nil {
		t.Fatalf("reference prepare: %v", err)
	}
	n.vecs[id] = p
}

func (n *naiveModel) search(t testing.TB, q []float32, k int, filter Filter) []Result {
	qv, err := prepare(q, n.dim, n.metric)
	if err != nil {
		t.Fatalf("reference prepare query: %v", err)
	}
	var all []Result
	for id, v := range n.vecs {
		if filter == nil || filter(id) {
			all = append(all, Result{ID: id, Distance: distance(n.metric, v, qv)})
		}
	}
	slices.SortFunc(all, flatCmp)
	if len(all) > k {
		all = all[:k]
	}
	return all
}

func sameResults(got, want []Result) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d results, want %d\n got  %v\n want %v", len(got), len(want), got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Errorf("result %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	return nil
}

// clusteredVec makes vectors with many near and exact ties, which is what
// exposes ordering mistakes.
func clusteredVec(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.IntN(5)-2) * 0.5
	}
	if r.IntN(2) == 0 {
		v[0] = 3
	}
	if !slices.ContainsFunc(v, func(x float32) bool { return x != 0 }) {
		v[r.IntN(dim)] = 1 // cosine cannot take the zero vector
	}
	return v
}

func TestFlatMatchesNaive(t *testing.T) {
	filters := map[string]Filter{
		"none":   nil,
		"even":   func(id uint64) bool { return id%2 == 0 },
		"rare":   func(id uint64) bool { return id%97 == 3 },
		"reject": func(uint64) bool { return false },
	}
	type tc struct {
		metric Metric
		dim, n int
	}
	var cases []tc
	for _, m := range []Metric{Cosine, Dot, L2} {
		for _, dim := range []int{1, 3, 16, 37, 384} {
			for _, n := range []int{0, 1, 7, 300, 1100} {
				cases = append(cases, tc{m, dim, n})
			}
		}
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%v/dim%d/n%d", c.metric, c.dim, c.n), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(c.dim), uint64(c.n)))
			f := NewFlat(c.dim, c.metric)
			ref := newNaive(c.dim, c.metric)
			for i := range c.n {
				id := uint64(i*3 + 1)
				v := clusteredVec(r, c.dim)
				if err := f.Add(id, v); err != nil {
					t.Fatal(err)
				}
				ref.add(t, id, v)
			}
			if f.Len() != c.n {
				t.Fatalf("Len = %d, want %d", f.Len(), c.n)
			}
			queries := make([][]float32, 6) // one group of four for the four-query kernel, two single
			for i := range queries {
				queries[i] = clusteredVec(r, c.dim)
			}
			for fname, filter := range filters {
				for _, k := range []int{1, 10, c.n, c.n + 5} {
					if k == 0 {
						continue
					}
					for qi, q := range queries {
						got, err := f.Search(q, k, filter)
						if err != nil {
							t.Fatal(err)
						}
						if err := sameResults(got, ref.search(t, q, k, filter)); err != nil {
							t.Fatalf("filter %s k=%d query %d: %v", fname, k, qi, err)
						}
					}
					batch, err := f.SearchBatch(queries, k, filter)
					if err != nil {
						t.Fatal(err)
					}
					for qi, q := range queries {
						if err := sameResults(batch[qi], ref.search(t, q, k, filter)); err != nil {
							t.Fatalf("batch filter %s k=%d query %d: %v", fname, k, qi, err)
						}
					}
				}
			}
		})
	}
}

// TestFlatDistancesMatchMetric checks the distance values themselves
// against float64 arithmetic, independent of the kernels.
func TestFlatDistancesMatchMetric(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const dim = 50
	for _, m := range []Metric{Cosine, Dot, L2} {
		f := NewFlat(dim, m)
		vecs := map[uint64][]float32{}
		for id := range uint64(40) {
			v := randVec(r, dim)
			vecs[id] = v
			if err := f.Add(id, v); err != nil {
				t.Fatal(err)
			}
		}
		q := randVec(r, dim)
		res, err := f.Search(q, 40, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range res {
			v := vecs[x.ID]
			var dot, nv, nq, l2 float64
			for i := range v {
				dot += float64(v[i]) * float64(q[i])
				nv += float64(v[i]) * float64(v[i])
				nq += float64(q[i]) * float64(q[i])
				l2 += (float64(v[i]) - float64(q[i])) * (float64(v[i]) - float64(q[i]))
			}
			want := map[Metric]float64{Cosine: 1 - dot/math.Sqrt(nv*nq), Dot: -dot, L2: l2}[m]
			if math.Abs(float64(x.Distance)-want) > 1e-4*(1+math.Abs(want)) {
				t.Errorf("%v id %d: distance %v, want %v", m, x.ID, x.Distance, want)
			}
		}
	}
}

func TestFlatDeletesAndReplacements(t *testing.T) {
	for _, m := range []Metric{Cosine, Dot, L2} {
		t.Run(m.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(9, uint64(m)))
			const dim = 24
			f := NewFlat(dim, m)
			ref := newNaive(dim, m)
			for step := range 3000 {
				id := uint64(r.IntN(400))
				switch op := r.IntN(10); {
				case op < 6: // add or replace
					v := clusteredVec(r, dim)
					if err := f.Add(id, v); err != nil {
						t.Fatal(err)
					}
					ref.add(t, id, v)
				case op < 9:
					_, had := ref.vecs[id]
					if got := f.Delete(id); got != had {
						t.Fatalf("step %d: Delete(%d) = %v, want %v", step, id, got, had)
					}
					delete(ref.vecs, id)
				default:
					q := clusteredVec(r, dim)
					got, err := f.Search(q, 15, nil)
					if err != nil {
						t.Fatal(err)
					}
					if err := sameResults(got, ref.search(t, q, 15, nil)); err != nil {
						t.Fatalf("step %d: %v", step, err)
					}
				}
				if f.Len() != len(ref.vecs) {
					t.Fatalf("step %d: Len = %d, want %d", step, f.Len(), len(ref.vecs))
				}
			}
			for id := range uint64(400) {
				_, want := ref.vecs[id]
				if f.Contains(id) != want {
					t.Fatalf("Contains(%d) = %v, want %v", id, !want, want)
				}
			}
			// Delete everything, then the index must still work.
			for id := range ref.vecs {
				f.Delete(id)
			}
			res, err := f.Search(clusteredVec(r, dim), 5, nil)
			if err != nil || len(res) != 0 || f.Len() != 0 {
				t.Fatalf("after deleting all: %v, %v, Len %d", res, err, f.Len())
			}
			if err := f.Add(1, clusteredVec(r, dim)); err != nil || f.Len() != 1 {
				t.Fatalf("re-add after emptying: %v, Len %d", err, f.Len())
			}
		})
	}
}

func TestFlatAddCopiesInput(t *testing.T) {
	f := NewFlat(3, L2)
	v := []float32{1, 2, 3}
	if err := f.Add(1, v); err != nil {
		t.Fatal(err)
	}
	v[0] = 100
	res, err := f.Search([]float32{1, 2, 3}, 1, nil)
	if err != nil || len(res) != 1 || res[0].Distance != 0 {
		t.Fatalf("stored vector changed with caller's slice: %v %v", res, err)
	}
}

func TestFlatBadInput(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(-1))
	good := []float32{1, 0, 0}
	cases := []struct {
		name    string
		f       *Flat
		vec     []float32
		k       int
		want    error  // for errors.Is, or nil when only a message is expected
		wantMsg string // substring of the message
	}{
		{"short vector", NewFlat(3, Cosine), []float32{1, 2}, 1, ErrDimension, "got 2, want 3"},
		{"long vector", NewFlat(3, L2), []float32{1, 2, 3, 4}, 1, ErrDimension, "got 4, want 3"},
		{"nil vector", NewFlat(3, Dot), nil, 1, ErrDimension, "got 0"},
		{"NaN", NewFlat(3, L2), []float32{0, nan, 1}, 1, ErrNotFinite, "component 1"},
		{"Inf", NewFlat(3, Dot), []float32{0, 1, inf}, 1, ErrNotFinite, "component 2"},
		{"zero vector cosine", NewFlat(3, Cosine), []float32{0, 0, 0}, 1, ErrZeroNorm, "zero vector"},
		{"zero dim", NewFlat(0, L2), nil, 1, nil, "dimension 0"},
		{"negative dim", NewFlat(-4, L2), nil, 1, nil, "dimension -4"},
		{"bad metric", NewFlat(3, Metric(0)), good, 1, nil, "invalid metric"},
		{"negative k", NewFlat(3, L2), good, -1, nil, "k -1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check := func(op string, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s: no error", op)
				}
				if c.want != nil && !errors.Is(err, c.want) {
					t.Fatalf("%s: error %v is not %v", op, err, c.want)
				}
				if !strings.Contains(err.Error(), c.wantMsg) {
					t.Fatalf("%s: error %q does not mention %q", op, err, c.wantMsg)
				}
			}
			_, err := c.f.Search(c.vec, c.k, nil)
			check("Search", err)
			_, err = c.f.SearchBatch([][]float32{good[:min(len(good), max(c.f.Dim(), 0))], c.vec}, c.k, nil)
			check("SearchBatch", err)
			if c.k >= 0 { // Add has no k
				check("Add", c.f.Add(7, c.vec))
				if c.f.Len() != 0 {
					t.Fatalf("failed Add stored something")
				}
			}
		})
	}
	t.Run("batch error names the query", func(t *testing.T) {
		f := NewFlat(2, L2)
		_, err := f.SearchBatch([][]float32{{1, 2}, {1, 2}, {1}}, 3, nil)
		if !errors.Is(err, ErrDimension) || !strings.Contains(err.Error(), "query 2") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("add error names the id", func(t *testing.T) {
		f := NewFlat(2, L2)
		if err := f.Add(12345, []float32{nan, 1}); !strings.Contains(fmt.Sprint(err), "12345") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestFlatKEdges(t *testing.T) {
	f := NewFlat(2, L2)
	for i := range uint64(5) {
		if err := f.Add(i, []float32{float32(i), 0}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		k    int
		want int
	}{{0, 0}, {1, 1}, {5, 5}, {6, 5}, {1 << 30, 5}}
	for _, c := range cases {
		res, err := f.Search([]float32{0, 0}, c.k, nil)
		if err != nil || len(res) != c.want || res == nil {
			t.Fatalf("k=%d: %d results (nil=%v), err %v; want %d", c.k, len(res), res == nil, err, c.want)
		}
		batch, err := f.SearchBatch([][]float32{{0, 0}, {4, 0}}, c.k, nil)
		if err != nil || len(batch) != 2 || len(batch[0]) != c.want || len(batch[1]) != c.want {
			t.Fatalf("batch k=%d: %v, err %v", c.k, batch, err)
		}
		if c.want > 0 && (res[0].ID != 0 || batch[1][0].ID != 4) {
			t.Fatalf("k=%d: wrong nearest %v %v", c.k, res, batch)
		}
	}
	if out, err := f.SearchBatch(nil, 3, nil); err != nil || len(out) != 0 {
		t.Fatalf("empty batch: %v %v", out, err)
	}
}

// TestFlatBatchFilterCalledOncePerVector checks the batch memo: however many
// queries, the filter sees each vector at most once.
func TestFlatBatchFilterCalledOncePerVector(t *testing.T) {
	const n, dim = 2000, 8
	r := rand.New(rand.NewPCG(11, 12))
	f := NewFlat(dim, L2)
	for i := range uint64(n) {
		if err := f.Add(i, randVec(r, dim)); err != nil {
			t.Fatal(err)
		}
	}
	var calls [n]atomic.Int32
	filter := func(id uint64) bool { calls[id].Add(1); return id%3 == 0 }
	qs := make([][]float32, 9)
	for i := range qs {
		qs[i] = randVec(r, dim)
	}
	if _, err := f.SearchBatch(qs, 10, filter); err != nil {
		t.Fatal(err)
	}
	total := 0
	for i := range calls {
		c := int(calls[i].Load())
		if c > 1 {
			t.Fatalf("filter called %d times for id %d", c, i)
		}
		total += c
	}
	// A single Search consults the filter only for rows that would enter
	// the top k, far fewer than n on random data.
	for i := range calls {
		calls[i].Store(0)
	}
	if _, err := f.Search(qs[0], 10, filter); err != nil {
		t.Fatal(err)
	}
	single := 0
	for i := range calls {
		single += int(calls[i].Load())
	}
	if single >= n/2 {
		t.Fatalf("Search called the filter %d times for %d rows", single, n)
	}
}

func TestFlatConcurrentSearchAndWrite(t *testing.T) {
	const dim = 16
	f := NewFlat(dim, Cosine)
	r := rand.New(rand.NewPCG(13, 14))
	// IDs below 100 are never deleted, so every search must find k results.
	for i := range uint64(100) {
		if err := f.Add(i, clusteredVec(r, dim)); err != nil {
			t.Fatal(err)
		}
	}
	// Searchers run a fixed number of queries; the writer keeps adding and
	// deleting until they are all done, so every search overlaps writes.
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for g := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 99))
			for range 300 {
				q := clusteredVec(r, dim)
				var res []Result
				var err error
				if g%2 == 0 {
					res, err = f.Search(q, 10, func(id uint64) bool { return id%5 != 1 })
				} else {
					var b [][]Result
					b, err = f.SearchBatch([][]float32{q, q}, 10, nil)
					if err == nil {
						if e := sameResults(b[0], b[1]); e != nil {
							errc <- e
							return
						}
						res = b[0]
					}
				}
				if err != nil {
					errc <- err
					return
				}
				if len(res) != 10 || !slices.IsSortedFunc(res, flatCmp) {
					errc <- fmt.Errorf("bad result under concurrency: %v", res)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	writes := 0
	for running := true; running; writes++ {
		select {
		case <-done:
			running = false
		default:
		}
		id := uint64(100 + r.IntN(200))
		if writes%3 == 0 {
			f.Delete(id)
		} else if err := f.Add(id, clusteredVec(r, dim)); err != nil {
			t.Fatal(err)
		}
		_ = f.Len()
	}
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	t.Logf("%d writes interleaved with 1200 searches", writes)
}

// flatBench builds n random unit vectors quickly (no per-vector allocation
// beyond Add's own copy).
func flatBench(b *testing.B, n, dim int) (*Flat, [][]float32) {
	b.Helper()
	r := rand.New(rand.NewPCG(21, 22))
	f := NewFlat(dim, Cosine)
	v := make([]float32, dim)
	for i := range n {
		for j := range v {
			v[j] = r.Float32() - 0.5
		}
		if err := f.Add(uint64(i), v); err != nil {
			b.Fatal(err)
		}
	}
	qs := make([][]float32, 64)
	for i := range qs {
		qs[i] = make([]float32, dim)
		for j := range qs[i] {
			qs[i][j] = r.Float32() - 0.5
		}
	}
	return f, qs
}

func BenchmarkFlatSearch(b *testing.B) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	f, qs := flatBench(b, n, 384)
	b.Run(fmt.Sprintf("n=%d/dim=384", n), func(b *testing.B) {
		b.SetBytes(int64(n * 384 * 4))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := f.Search(qs[i%len(qs)], 10, nil); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
	})
	for _, batch := range []int{4, 8, 16} {
		b.Run(fmt.Sprintf("batch=%d/n=%d/dim=384", batch, n), func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, err := f.SearchBatch(qs[i%8:i%8+batch], 10, nil); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "queries/s")
		})
	}
}
