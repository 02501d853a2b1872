package db

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// indexVariants are the index configurations the neighbour scans must agree
// on: exact, the graph, and the int8 graph (which re-ranks from the file).
var indexVariants = []struct {
	name string
	opts []CollectionOption
}{
	{"flat", []CollectionOption{WithFlatIndex()}},
	{"hnsw", []CollectionOption{WithHNSW(16, 200, 0)}},
	{"hnsw-int8", []CollectionOption{WithHNSW(16, 200, 0), WithInt8()}},
}

// vecCollection stores vecs under IDs "d000", "d001", ... with metadata
// {"i": i, "even": i%2==0}.
func vecCollection(t *testing.T, metric Metric, vecs [][]float32, opts ...CollectionOption) *Collection {
	t.Helper()
	d, _ := openTest(t)
	c := mustCollection(t, d, "v", append([]CollectionOption{WithDimension(len(vecs[0])), WithMetric(metric)}, opts...)...)
	docs := make([]Document, len(vecs))
	for i, v := range vecs {
		docs[i] = Document{ID: fmt.Sprintf("d%03d", i), Vector: v, Metadata: map[string]any{"i": i, "even": i%2 == 0}}
	}
	if _, err := c.Insert(bg, docs...); err != nil {
		t.Fatal(err)
	}
	return c
}

// blobs returns nBlobs Gaussian blobs of per points around the first
// nBlobs axes (scaled by scale), then planted points on axes no blob uses:
// far from every blob under cosine, L2 and dot alike.
func blobs(rng *rand.Rand, dim, nBlobs, per, planted int, sigma, scale float32) [][]float32 {
	var out [][]float32
	for b := range nBlobs {
		for range per {
			v := make([]float32, dim)
			for j := range v {
				v[j] = sigma * float32(rng.NormFloat64())
			}
			v[b] += 1
			for j := range v {
				v[j] *= scale
			}
			out = append(out, v)
		}
	}
	for p := range planted {
		v := make([]float32, dim)
		for j := range v {
			v[j] = sigma * float32(rng.NormFloat64())
		}
		v[nBlobs+p] += 1
		for j := range v {
			v[j] *= scale
		}
		out = append(out, v)
	}
	return out
}

func TestOutliersFindPlanted(t *testing.T) {
	const dim, nBlobs, per, planted = 16, 5, 60, 4
	rng := rand.New(rand.NewPCG(1, 2))
	vecs := blobs(rng, dim, nBlobs, per, planted, 0.08, 3)
	want := []string{}
	for p := range planted {
		want = append(want, fmt.Sprintf("d%03d", nBlobs*per+p))
	}
	for _, m := range []Metric{Cosine, L2, Dot} {
		for _, iv := range indexVariants {
			c := vecCollection(t, m, vecs, iv.opts...)
			for _, method := range []OutlierMethod{OutlierKthNeighbour, OutlierLOF} {
				if method == OutlierLOF && m == Dot {
					continue
				}
				t.Run(fmt.Sprintf("%v/%s/%v", m, iv.name, method), func(t *testing.T) {
					got, err := c.Outliers(bg, WithOutlierMethod(method), OutlierCount(planted+1))
					if err != nil {
						t.Fatal(err)
					}
					if len(got) != planted+1 {
						t.Fatalf("got %d outliers, want %d", len(got), planted+1)
					}
					ids := []string{}
					for _, o := range got[:planted] {
						ids = append(ids, o.ID)
					}
					slices.Sort(ids)
					if !slices.Equal(ids, want) {
						t.Fatalf("top %d = %v, want the planted %v (all: %v)", planted, ids, want, got)
					}
					if !(got[planted-1].Score > got[planted].Score) {
						t.Fatalf("planted score %v not above the first blob point's %v", got[planted-1].Score, got[planted].Score)
					}
				})
			}
		}
	}
}

// bruteDist is the outlier distance between a and b computed directly.
func bruteDist(m Metric, a, b []float32) float64 {
	var dot, na, nb, l2 float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
		l2 += (x - y) * (x - y)
	}
	switch m {
	case Cosine:
		return max(1-dot/math.Sqrt(na*nb), 0)
	case L2:
		return math.Sqrt(l2)
	}
	return -dot
}

// bruteOutliers scores the points at positions set (all pairs compared)
// and returns every score by position.
func bruteOutliers(m Metric, method OutlierMethod, vecs [][]float32, set []int, k int) map[int]float64 {
	type nb struct {
		p int
		d float64
	}
	nbs := map[int][]nb{}
	for _, i := range set {
		var l []nb
		for _, j := range set {
			if j != i {
				l = append(l, nb{j, bruteDist(m, vecs[i], vecs[j])})
			}
		}
		slices.SortFunc(l, func(a, b nb) int { return cmp.Or(cmp.Compare(a.d, b.d), cmp.Compare(a.p, b.p)) })
		nbs[i] = l[:min(k, len(l))]
	}
	kd := map[int]float64{}
	for i, l := range nbs {
		kd[i] = l[len(l)-1].d
	}
	if method == OutlierKthNeighbour {
		return kd
	}
	lrd := map[int]float64{}
	for i, l := range nbs {
		s := 0.0
		for _, n := range l {
			s += max(kd[n.p], n.d)
		}
		lrd[i] = float64(len(l)) / s
	}
	out := map[int]float64{}
	for i, l := range nbs {
		s := 0.0
		for _, n := range l {
			s += lrd[n.p]
		}
		out[i] = s / float64(len(l)) / lrd[i]
	}
	return out
}

func randomVecs(rng *rand.Rand, n, dim int) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		out[i] = make([]float32, dim)
		for j := range out[i] {
			out[i][j] = float32(rng.NormFloat64())
		}
	}
	return out
}

func TestOutliersEqualBruteForce(t *testing.T) {
	const n, dim, k = 80, 6, 5
	rng := rand.New(rand.NewPCG(3, 4))
	vecs := randomVecs(rng, n, dim)
	for _, m := range []Metric{Cosine, L2, Dot} {
		c := vecCollection(t, m, vecs, WithFlatIndex())
		for _, method := range []OutlierMethod{OutlierKthNeighbour, OutlierLOF} {
			if method == OutlierLOF && m == Dot {
				continue
			}
			for _, filtered := range []bool{false, true} {
				t.Run(fmt.Sprintf("%v/%v/filtered=%v", m, method, filtered), func(t *testing.T) {
					opts := []NeighbourOption{Neighbours(k), WithOutlierMethod(method), OutlierCount(0), NeighbourWorkers(3)}
					var set []int
					for i := range n {
						if !filtered || i%2 == 0 {
							set = append(set, i)
						}
					}
					if filtered {
						opts = append(opts, NeighbourWhereExpr("even = true"))
					}
					got, err := c.Outliers(bg, opts...)
					if err != nil {
						t.Fatal(err)
					}
					want := bruteOutliers(m, method, vecs, set, k)
					if len(got) != len(set) {
						t.Fatalf("got %d scores, want %d", len(got), len(set))
					}
					for i, o := range got {
						var p int
						fmt.Sscanf(o.ID, "d%d", &p)
						w, ok := want[p]
						if !ok {
							t.Fatalf("%s is outside the set considered", o.ID)
						}
						if math.Abs(float64(o.Score)-w) > 1e-4*max(1, math.Abs(w)) {
							t.Fatalf("%s: score %v, brute force %v", o.ID, o.Score, w)
						}
						if i > 0 && got[i-1].Score < o.Score {
							t.Fatalf("not sorted at %d: %v then %v", i, got[i-1], o)
						}
					}
				})
			}
		}
	}
}

// planted pairs of TestDuplicatesFindPlanted: exact copies, near copies,
// and a group of identical copies larger than the first search's k.
func plantedDuplicates(rng *rand.Rand, base, dim int) (vecs [][]float32, pairs map[[2]string]bool) {
	vecs = randomVecs(rng, base, dim)
	pairs = map[[2]string]bool{}
	id := func(i int) string { return fmt.Sprintf("d%03d", i) }
	add := func(of int, noise float32) {
		v := slices.Clone(vecs[of])
		for j := range v {
			v[j] += noise * float32(rng.NormFloat64())
		}
		vecs = append(vecs, v)
		pairs[[2]string{id(of), id(len(vecs) - 1)}] = true
	}
	for i := range 5 {
		add(i, 0) // exact copies
	}
	for i := 5; i < 15; i++ {
		add(i, 0.03) // near copies: cosine about 0.999
	}
	// 14 copies of document 20: 15 identical vectors, 105 pairs.
	group := []int{20}
	for range 14 {
		vecs = append(vecs, slices.Clone(vecs[20]))
		group = append(group, len(vecs)-1)
	}
	for i, a := range group {
		for _, b := range group[i+1:] {
			pairs[[2]string{id(a), id(b)}] = true
		}
	}
	return vecs, pairs
}

func unitVecs(vecs [][]float32) [][]float32 {
	out := make([][]float32, len(vecs))
	for i, v := range vecs {
		n := float32(math.Sqrt(norm2(v)))
		out[i] = make([]float32, len(v))
		for j := range v {
			out[i][j] = v[j] / n
		}
	}
	return out
}

func norm2(v []float32) float64 {
	s := 0.0
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return s
}

func TestDuplicatesFindPlanted(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	vecs, want := plantedDuplicates(rng, 300, 32)
	for _, m := range []Metric{Cosine, Dot} {
		for _, iv := range indexVariants {
			t.Run(fmt.Sprintf("%v/%s", m, iv.name), func(t *testing.T) {
				vs := vecs
				opts := []NeighbourOption{}
				if m == Dot {
					// Unit vectors: the dot product is the cosine similarity.
					vs = unitVecs(vecs)
					opts = append(opts, DuplicateThreshold(0.95))
				}
				c := vecCollection(t, m, vs, iv.opts...)
				got, err := c.Duplicates(bg, opts...)
				if err != nil {
					t.Fatal(err)
				}
				seen := map[[2]string]bool{}
				for i, p := range got {
					if !(p.A < p.B) {
						t.Fatalf("pair %v not ordered A < B", p)
					}
					if seen[[2]string{p.A, p.B}] {
						t.Fatalf("pair %v reported twice", p)
					}
					seen[[2]string{p.A, p.B}] = true
					if !want[[2]string{p.A, p.B}] {
						t.Errorf("false pair %v", p)
					}
					if i > 0 && got[i-1].Score < p.Score {
						t.Fatalf("not sorted at %d", i)
					}
				}
				for p := range want {
					if !seen[p] {
						t.Errorf("missed planted pair %v", p)
					}
				}
			})
		}
	}
}

func TestDuplicatesEqualBruteForce(t *testing.T) {
	const n, dim = 120, 4
	rng := rand.New(rand.NewPCG(7, 8))
	vecs := randomVecs(rng, n, dim)
	cases := []struct {
		m Metric
		t float32
	}{{Cosine, 0.9}, {Cosine, 0.99}, {L2, -0.5}, {Dot, 6}}
	for _, tc := range cases {
		for _, filtered := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v/%v/filtered=%v", tc.m, tc.t, filtered), func(t *testing.T) {
				c := vecCollection(t, tc.m, vecs, WithFlatIndex())
				opts := []NeighbourOption{DuplicateThreshold(tc.t), Neighbours(2)}
				if filtered {
					opts = append(opts, NeighbourWhereExpr("even = true"))
				}
				got, err := c.Duplicates(bg, opts...)
				if err != nil {
					t.Fatal(err)
				}
				var want []DuplicatePair
				for i := range n {
					for j := i + 1; j < n; j++ {
						if filtered && (i%2 != 0 || j%2 != 0) {
							continue
						}
						s := -bruteDist(tc.m, vecs[i], vecs[j])
						if tc.m == Cosine {
							s += 1
						}
						if s >= float64(tc.t) {
							want = append(want, DuplicatePair{A: fmt.Sprintf("d%03d", i), B: fmt.Sprintf("d%03d", j), Score: float32(s)})
						}
					}
				}
				if len(want) == 0 {
					t.Fatal("test data give no pair: the case checks nothing")
				}
				slices.SortFunc(want, func(a, b DuplicatePair) int {
					return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.A, b.A), cmp.Compare(a.B, b.B))
				})
				if len(got) != len(want) {
					t.Fatalf("got %d pairs, brute force %d\ngot  %v\nwant %v", len(got), len(want), got, want)
				}
				for i := range got {
					if got[i].A != want[i].A || got[i].B != want[i].B || math.Abs(float64(got[i].Score-want[i].Score)) > 1e-4 {
						t.Fatalf("pair %d: got %v, brute force %v", i, got[i], want[i])
					}
				}
			})
		}
	}
}

func TestNeighbourScanBadInputs(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	vecs := randomVecs(rng, 20, 4)
	cos := vecCollection(t, Cosine, vecs)
	l2 := vecCollection(t, L2, vecs)
	dot := vecCollection(t, Dot, vecs)
	outl := func(c *Collection, opts ...NeighbourOption) func() error {
		return func() error { _, err := c.Outliers(bg, opts...); return err }
	}
	dups := func(c *Collection, opts ...NeighbourOption) func() error {
		return func() error { _, err := c.Duplicates(bg, opts...); return err }
	}
	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"k zero", outl(cos, Neighbours(0)), "Neighbours 0 out of range"},
		{"k negative", dups(cos, Neighbours(-3)), "Neighbours -3 out of range"},
		{"workers negative", outl(cos, NeighbourWorkers(-1)), "NeighbourWorkers -1"},
		{"ef negative", outl(cos, NeighbourEf(-1)), "NeighbourEf -1"},
		{"count negative", outl(cos, OutlierCount(-1)), "OutlierCount -1 is negative"},
		{"unknown method", outl(cos, WithOutlierMethod(9)), "unknown outlier method"},
		{"lof on dot", outl(dot, WithOutlierMethod(OutlierLOF)), "needs a distance"},
		{"count to duplicates", dups(cos, OutlierCount(3)), "OutlierCount applies to Outliers only"},
		{"threshold to outliers", outl(cos, DuplicateThreshold(0.5)), "DuplicateThreshold applies to Duplicates only"},
		{"threshold NaN", dups(cos, DuplicateThreshold(float32(math.NaN()))), "not a finite number"},
		{"threshold Inf", dups(dot, DuplicateThreshold(float32(math.Inf(1)))), "not a finite number"},
		{"cosine above 1", dups(cos, DuplicateThreshold(1.5)), "out of range -1..1"},
		{"cosine below -1", dups(cos, DuplicateThreshold(-1.01)), "out of range -1..1"},
		{"l2 positive", dups(l2, DuplicateThreshold(0.2)), "minus the Euclidean distance"},
		{"l2 no threshold", dups(l2), "give a DuplicateThreshold of at most 0"},
		{"dot no threshold", dups(dot), "give a DuplicateThreshold"},
		{"max pairs zero", dups(cos, DuplicateMaxPairs(0)), "DuplicateMaxPairs 0"},
		{"too many pairs", dups(cos, DuplicateThreshold(-1), DuplicateMaxPairs(10)), "more than 10 pairs"},
		{"bad where", outl(cos, NeighbourWhereExpr("i >")), "filter"},
		{"where type mismatch", outl(cos, NeighbourWhereExpr(`i = "x"`)), "type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrInvalidArgument saying %q", err, tc.want)
			}
		})
	}
}

func TestNeighbourScanSmallAndClosed(t *testing.T) {
	d, _ := openTest(t)
	c := mustCollection(t, d, "v", WithDimension(3))
	for _, n := range []int{0, 1} {
		if n == 1 {
			if _, err := c.Insert(bg, Document{ID: "only", Vector: []float32{1, 2, 3}}); err != nil {
				t.Fatal(err)
			}
		}
		o, err := c.Outliers(bg)
		if err != nil || o == nil || len(o) != 0 {
			t.Fatalf("%d documents: outliers %v, %v; want empty", n, o, err)
		}
		p, err := c.Duplicates(bg)
		if err != nil || p == nil || len(p) != 0 {
			t.Fatalf("%d documents: duplicates %v, %v; want empty", n, p, err)
		}
	}
	if _, err := c.Insert(bg, Document{ID: "copy", Vector: []float32{2, 4, 6}}); err != nil {
		t.Fatal(err)
	}
	p, err := c.Duplicates(bg, DuplicateThreshold(0.9999))
	if err != nil || len(p) != 1 || p[0].A != "copy" || p[0].B != "only" {
		t.Fatalf("two parallel vectors: %v, %v", p, err)
	}
	d.Close()
	if _, err := c.Outliers(bg); !errors.Is(err, ErrClosed) {
		t.Fatalf("outliers after Close: %v, want ErrClosed", err)
	}
	if _, err := c.Duplicates(bg); !errors.Is(err, ErrClosed) {
		t.Fatalf("duplicates after Close: %v, want ErrClosed", err)
	}
}

func TestNeighbourScanProgressAndCancel(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	vecs := randomVecs(rng, 300, 8)
	c := vecCollection(t, Cosine, vecs)
	var calls [][2]int
	if _, err := c.Outliers(bg, NeighbourWorkers(2), NeighbourProgress(func(done, total int) {
		calls = append(calls, [2]int{done, total})
	})); err != nil {
		t.Fatal(err)
	}
	if len(calls) < 2 || calls[len(calls)-1] != [2]int{300, 300} {
		t.Fatalf("progress calls %v, want several ending at 300/300", calls)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] <= calls[i-1][0] {
			t.Fatalf("progress went back: %v", calls)
		}
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := c.Duplicates(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled context: %v", err)
	}
}

// TestNeighbourScanConcurrentWrites runs both scans while documents are
// inserted and deleted: every answer must be well formed (no panic, no
// document twice, no error), which -race checks for data races as well.
func TestNeighbourScanConcurrentWrites(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	n := 600
	if testing.Short() {
		n = 300
	}
	vecs := randomVecs(rng, n, 16)
	for _, iv := range indexVariants {
		t.Run(iv.name, func(t *testing.T) {
			c := vecCollection(t, Cosine, vecs, iv.opts...)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(15, 16))
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					id := fmt.Sprintf("d%03d", r.IntN(n))
					if i%2 == 0 {
						if _, err := c.Delete(bg, id); err != nil {
							t.Error(err)
							return
						}
					} else if _, err := c.Upsert(bg, Document{ID: id, Vector: randomVecs(r, 1, 16)[0], Metadata: map[string]any{"even": true}}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
			for range 3 {
				o, err := c.Outliers(bg, OutlierCount(0), NeighbourWorkers(2))
				if err != nil {
					t.Fatal(err)
				}
				seen := map[string]bool{}
				for _, x := range o {
					if seen[x.ID] || math.IsNaN(float64(x.Score)) {
						t.Fatalf("bad outlier entry %v (seen %v)", x, seen[x.ID])
					}
					seen[x.ID] = true
				}
				if _, err := c.Duplicates(bg, DuplicateThreshold(0.5), NeighbourWorkers(2), NeighbourWhereExpr("even = true")); err != nil {
					t.Fatal(err)
				}
			}
			close(stop)
			wg.Wait()
		})
	}
}
