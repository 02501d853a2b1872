package index

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// bagOfWords imitates what a static embedder makes of texts of random
// words, the hard case of issue 19 (recall 0.87 at AutoEf's ef 64 on 20k
// such texts): each vector is the mean of `words` vectors drawn from a
// vocabulary of random Gaussian word vectors, so the set has no cluster
// structure and a high intrinsic dimension. Rows from row `from` on are
// independent of the earlier ones: fresh queries from the same
// distribution.
func bagOfWords(from, n, dim, vocab, words int, seed uint64) [][]float32 {
	vr := rand.New(rand.NewPCG(seed, 7))
	voc := make([][]float32, vocab)
	for i := range voc {
		voc[i] = make([]float32, dim)
		for j := range voc[i] {
			voc[i][j] = float32(vr.NormFloat64())
		}
	}
	out := make([][]float32, n)
	for i := range out {
		r := rand.New(rand.NewPCG(seed, uint64(from+i)+100))
		v := make([]float32, dim)
		for range words {
			w := voc[r.IntN(vocab)]
			for j := range v {
				v[j] += w[j]
			}
		}
		out[i] = v
	}
	return out
}

// freshRecall is the recall@k of h at ef on queries that are not in the
// graph, against an exact search of what h holds.
func freshRecall(t *testing.T, h *HNSW, data, qs [][]float32, k, ef int) float64 {
	t.Helper()
	f := NewFlat(h.Dim(), h.Metric())
	for i, v := range data {
		if h.Contains(uint64(i)) {
			_ = f.Add(uint64(i), v)
		}
	}
	return recallAt(searchAll(t, h, qs, k, ef, nil), exactResults(t, f, qs, k, nil), k)
}

// bagGraph is the small cosine graph the recall tests measure (M 8,
// efConstruction 64), holding data under IDs 0..len-1.
func bagGraph(t *testing.T, dim int, data [][]float32) *HNSW {
	t.Helper()
	h := mustHNSW(t, dim, Cosine, WithEfConstruction(64), WithM(8))
	ids := make([]uint64, len(data))
	for i := range ids {
		ids[i] = uint64(i)
	}
	if err := h.AddBatch(context.Background(), ids, data); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestMeasureRecallPredictsFreshQueries is the property the auto-tuned ef
// rests on: the ef MeasureRecall chooses for a target reaches the target on
// queries that are not stored vectors, and the estimate is close to what
// they get. The tolerance, 0.03, is three standard errors of a 200-query
// (2,000-neighbour) sample near recall 0.95, with the within-query
// correlation allowed for (see DefaultRecallQueries), plus the fresh
// queries' own sampling error.
func TestMeasureRecallPredictsFreshQueries(t *testing.T) {
	n, dim := 4000, 48
	if testing.Short() || raceEnabled {
		n = 2000
	}
	all := bagOfWords(0, n+300, dim, 3000, 12, 3)
	data, qs := all[:n], all[n:]
	h := bagGraph(t, dim, data)
	const tol = 0.03
	for _, target := range []float64{0.9, 0.95, 0.99} {
		rep, err := h.MeasureRecall(context.Background(), RecallOptions{Target: target, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Met || rep.Lower < target || rep.Lower > rep.Recall {
			t.Fatalf("target %v: report %+v does not meet it", target, rep)
		}
		fresh := freshRecall(t, h, data, qs, 10, rep.Ef)
		t.Logf("target %v: ef %d, estimated %.4f, fresh queries %.4f (points %v)", target, rep.Ef, rep.Recall, fresh, rep.Points)
		if fresh < target-tol {
			t.Errorf("target %v: ef %d gives fresh queries recall %.4f, below target - %v", target, rep.Ef, fresh, tol)
		}
		if math.Abs(fresh-rep.Recall) > tol {
			t.Errorf("target %v: estimate %.4f vs fresh %.4f", target, rep.Recall, fresh)
		}
		// Minimality: no smaller measured ef had its bound meet the
		// target, and the ef one step below the chosen one was measured
		// (binary search) unless the chosen one is the ladder's first.
		i := slices.Index(RecallEfLadder, rep.Ef)
		for _, p := range rep.Points {
			if p.Ef < rep.Ef && p.Lower >= target {
				t.Errorf("target %v: ef %d met it (bound %.4f) but %d was chosen", target, p.Ef, p.Lower, rep.Ef)
			}
			if p.StdErr < 0 || math.Abs(p.Recall-DefaultRecallZ*p.StdErr-p.Lower) > 1e-12 {
				t.Errorf("target %v: point %+v: bound is not the estimate less %v standard errors", target, p, DefaultRecallZ)
			}
		}
		if i > 0 && !slices.ContainsFunc(rep.Points, func(p RecallPoint) bool { return p.Ef == RecallEfLadder[i-1] }) {
			t.Errorf("target %v: ef %d chosen without measuring %d", target, rep.Ef, RecallEfLadder[i-1])
		}
	}
	// Hidden queries are harder than stored vectors queried as they are:
	// the unhidden search finds itself and its own links.
	rep, err := h.MeasureRecall(context.Background(), RecallOptions{Efs: []int{10}, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	var hits int
	for i := range 200 {
		res, err := h.searchEf(data[i], 11, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		ex, _ := NewFlatFrom(t, h, data).Search(data[i], 11, nil)
		for _, r := range res[1:] {
			if slices.ContainsFunc(ex[1:], func(e Result) bool { return e.ID == r.ID }) {
				hits++
			}
		}
	}
	t.Logf("ef 10: hidden %.4f, stored vector as query %.4f", rep.Recall, float64(hits)/2000)
}

// NewFlatFrom is a Flat holding what h holds of data (test helper).
func NewFlatFrom(t *testing.T, h *HNSW, data [][]float32) *Flat {
	t.Helper()
	f := NewFlat(h.Dim(), h.Metric())
	for i, v := range data {
		if h.Contains(uint64(i)) {
			_ = f.Add(uint64(i), v)
		}
	}
	return f
}

func TestMeasureRecallHides(t *testing.T) {
	data := bagOfWords(0, 500, 16, 200, 6, 5)
	for _, q8 := range []bool{false, true} {
		opts := []HNSWOption{WithM(4)}
		if q8 {
			opts = append(opts, WithInt8())
		}
		h := mustHNSW(t, 16, Cosine, opts...)
		for i, v := range data {
			if err := h.Add(uint64(i), v); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 500 {
			res, err := h.SearchWith(data[i], SearchOptions{K: 10, Ef: 20, hide: uint64(i), hasHide: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 10 {
				t.Fatalf("int8 %v, query %d: %d results", q8, i, len(res))
			}
			for _, r := range res {
				if r.ID == uint64(i) {
					t.Fatalf("int8 %v: hidden vector %d returned", q8, i)
				}
			}
		}
		rep, err := h.MeasureRecall(context.Background(), RecallOptions{Target: 0.9})
		if err != nil || !rep.Met || rep.Queries != 200 {
			t.Fatalf("int8 %v: %+v, %v", q8, rep, err)
		}
	}
}

func TestMeasureRecallErrors(t *testing.T) {
	h := mustHNSW(t, 4, L2)
	for i := range 5 {
		_ = h.Add(uint64(i), []float32{float32(i), 1, 2, 3})
	}
	ctx := context.Background()
	if _, err := h.MeasureRecall(ctx, RecallOptions{}); !errors.Is(err, ErrTooSmall) {
		t.Fatalf("5 vectors at k 10: %v", err)
	}
	for _, o := range []RecallOptions{
		{K: 2, Target: 1.5}, {K: 2, Efs: []int{8, 4}}, {K: 2, Efs: []int{0}}, {K: 2, Queries: -1},
		{K: 2, Z: math.NaN()}, {K: 2, Z: math.Inf(1)},
	} {
		if _, err := h.MeasureRecall(ctx, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	rep, err := h.MeasureRecall(ctx, RecallOptions{K: 2})
	if err != nil || rep.Queries != 3 || rep.Recall != 1 {
		t.Fatalf("5 vectors at k 2: %+v %v", rep, err)
	}
	// A negative Z decides on the estimate itself.
	rep, err = h.MeasureRecall(ctx, RecallOptions{K: 2, Z: -1, Target: 0.5})
	if err != nil || !rep.Met || rep.Lower != rep.Recall {
		t.Fatalf("Z -1: %+v %v", rep, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := h.MeasureRecall(cctx, RecallOptions{K: 2}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// TestRecallTruthWhileGrowing: the exact scan runs in stretches between
// which inserts go on; a graph that grows past the scan's next stretch
// must be scanned to its end, not indexed past what was scanned (it
// panicked with an index out of range once the graph grew across the end
// of a partial stretch).
func TestRecallTruthWhileGrowing(t *testing.T) {
	data := bagOfWords(0, 800, 8, 500, 4, 9)
	h := mustHNSW(t, 8, L2, WithM(4), WithEfConstruction(16))
	for i := range 100 {
		_ = h.Add(uint64(i), data[i])
	}
	ids, qs, _ := h.recallSample(RecallOptions{Queries: 4, K: 3, Seed: 1})
	next := 100
	// Three inserts per stretch of four slots: the scan catches up one
	// slot per stretch, and ends its partial stretches while the graph
	// still grows.
	grow := func() {
		for range 3 {
			if next < len(data) {
				_ = h.Add(uint64(next), data[next])
				next++
			}
		}
	}
	truth, scanned, err := h.recallTruth(context.Background(), ids, qs, 3, 4, grow)
	if err != nil {
		t.Fatal(err)
	}
	if len(scanned) != h.Stats().Slots {
		t.Fatalf("scanned %d slots of %d", len(scanned), h.Stats().Slots)
	}
	for i, tr := range truth {
		if len(tr) != 3 || slices.Contains(tr, ids[i]) {
			t.Fatalf("query %d: exact answer %v", i, tr)
		}
	}
}

// TestRecallStdErr checks the bound's standard error on hand-computed
// samples, and against the binomial formula when every query has a
// single neighbour (each query then is one Bernoulli draw).
func TestRecallStdErr(t *testing.T) {
	for _, c := range []struct {
		name         string
		hits, totals []int
		recall, se   float64
	}{
		{"all found", []int{10, 10, 10}, []int{10, 10, 10}, 1, 0},
		{"one query", []int{7}, []int{10}, 0.7, 0},
		{"two queries", []int{10, 8}, []int{10, 10}, 0.9, 0.1},
		// A query whose neighbours were all deleted is no sample unit.
		{"empty query skipped", []int{10, 0, 8}, []int{10, 0, 10}, 0.9, 0.1},
		// Unequal totals: R = 12/15 = 0.8, residuals 10−8 = 2 and
		// 2−4 = −2, so √(2·8)/15.
		{"unequal totals", []int{10, 2}, []int{10, 5}, 0.8, 4.0 / 15},
	} {
		r, se := recallStdErr(c.hits, c.totals)
		if math.Abs(r-c.recall) > 1e-12 || math.Abs(se-c.se) > 1e-12 {
			t.Errorf("%s: recall %v ± %v, want %v ± %v", c.name, r, se, c.recall, c.se)
		}
	}
	if r, se := recallStdErr([]int{0, 0}, []int{0, 0}); !math.IsNaN(r) || se != 0 {
		t.Errorf("no neighbours: %v ± %v, want NaN ± 0", r, se)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	for range 50 {
		n := 2 + rng.IntN(500)
		p := rng.Float64()
		hits, totals := make([]int, n), make([]int, n)
		for i := range hits {
			totals[i] = 1
			if rng.Float64() < p {
				hits[i] = 1
			}
		}
		r, se := recallStdErr(hits, totals)
		if want := math.Sqrt(r * (1 - r) / float64(n-1)); math.Abs(se-want) > 1e-12 {
			t.Fatalf("n %d, recall %v: standard error %v, binomial %v", n, r, se, want)
		}
	}
}

// TestSearchLadder checks the ladder search against the exact answer (the
// smallest index whose bound meets the target, else the top) on monotone
// recall curves, for every start, cold (0) and warm, and that a warm start
// at or one step beside the answer measures at most three efs.
func TestSearchLadder(t *testing.T) {
	efs := RecallEfLadder
	curves := map[string]func(i int) float64{
		"steep":    func(i int) float64 { return min(1, 0.5+0.05*float64(i)) },
		"gentle":   func(i int) float64 { return 0.8 + 0.008*float64(i) },
		"plateau":  func(i int) float64 { return min(0.96, 0.6+0.04*float64(i)) },
		"never":    func(i int) float64 { return 0.5 + 0.01*float64(i) },
		"always":   func(i int) float64 { return 0.97 + 0.001*float64(i) },
		"stepwise": func(i int) float64 { return 0.9 + 0.02*float64(i/4) },
	}
	for name, curve := range curves {
		for _, target := range []float64{0.9, 0.95, 0.99} {
			want := len(efs) - 1
			for i := range efs {
				if curve(i) >= target {
					want = i
					break
				}
			}
			starts := append([]int{0, 1, 100, 5000}, efs...)
			for _, start := range starts {
				measured := map[int]bool{}
				at := func(ef int) (float64, error) {
					measured[ef] = true
					return curve(slices.Index(efs, ef)), nil
				}
				got, err := searchLadder(at, efs, target, start)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("%s, target %v, start %d: index %d (ef %d), want %d (ef %d)", name, target, start, got, efs[got], want, efs[want])
				}
				if !measured[efs[got]] {
					t.Errorf("%s, target %v, start %d: chosen ef %d not measured", name, target, start, efs[got])
				}
				if got > 0 && curve(got) >= target && !measured[efs[got-1]] {
					t.Errorf("%s, target %v, start %d: ef %d chosen without measuring %d", name, target, start, efs[got], efs[got-1])
				}
				if near := start == efs[want] || want > 0 && start == efs[want-1]; near && len(measured) > 3 {
					t.Errorf("%s, target %v, start %d next to the answer: %d measurements", name, target, start, len(measured))
				}
			}
		}
	}
	// Errors from the measurement stop the search.
	boom := errors.New("boom")
	for _, start := range []int{0, 64, 2048} {
		if _, err := searchLadder(func(int) (float64, error) { return 0, boom }, efs, 0.95, start); !errors.Is(err, boom) {
			t.Errorf("start %d: error %v, want boom", start, err)
		}
	}
}

// TestMeasureRecallStartEf: a re-measurement started at the previous
// answer chooses the same ef from two measurements (the answer, which
// meets the target, and the step below, which does not).
func TestMeasureRecallStartEf(t *testing.T) {
	n, dim := 2000, 48
	data := bagOfWords(0, n, dim, 3000, 12, 3)
	h := bagGraph(t, dim, data)
	for _, target := range []float64{0.9, 0.95} {
		cold, err := h.MeasureRecall(context.Background(), RecallOptions{Target: target, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		warm, err := h.MeasureRecall(context.Background(), RecallOptions{Target: target, Seed: 1, StartEf: cold.Ef})
		if err != nil {
			t.Fatal(err)
		}
		if warm.Ef != cold.Ef || warm.Met != cold.Met || warm.Recall != cold.Recall {
			t.Errorf("target %v: warm start chose ef %d (recall %.4f, met %v), cold %d (%.4f, %v)", target, warm.Ef, warm.Recall, warm.Met, cold.Ef, cold.Recall, cold.Met)
		}
		if len(warm.Points) > 2 || len(warm.Points) >= len(cold.Points) && len(cold.Points) > 2 {
			t.Errorf("target %v: warm start measured %d efs (%v), cold %d", target, len(warm.Points), warm.Points, len(cold.Points))
		}
	}
}
