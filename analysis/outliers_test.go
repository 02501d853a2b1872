package analysis

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// line is the 1-D set {0, 1, 2, 10} with each point's nearest neighbours
// (k = 2), from which the scores below were computed by hand.
func line() []Neighbours {
	return []Neighbours{
		{Pos: []int32{1, 2}, Dist: []float32{1, 2}},
		{Pos: []int32{0, 2}, Dist: []float32{1, 1}},
		{Pos: []int32{1, 0}, Dist: []float32{1, 2}},
		{Pos: []int32{2, 1}, Dist: []float32{8, 9}},
	}
}

func TestScores(t *testing.T) {
	inf := math.Inf(1)
	cases := []struct {
		name string
		nb   []Neighbours
		k    int
		lof  bool
		want []float64
	}{
		{"kth k=1", line(), 1, false, []float64{1, 1, 1, 8}},
		{"kth k=2", line(), 2, false, []float64{2, 1, 2, 9}},
		{"kth beyond list", line(), 5, false, []float64{2, 1, 2, 9}},
		{"kth no neighbours", []Neighbours{{}}, 1, false, []float64{inf}},
		// k=1: reach distances 1,1,1,8 → lrd 1,1,1,1/8 → LOF 1,1,1,8.
		{"lof k=1", line(), 1, true, []float64{1, 1, 1, 8}},
		// k=2: kd = 2,1,2,9. reach(0)=max(1,1),max(2,2) → lrd 2/3;
		// reach(1)=max(2,1),max(2,1) → 1/2; reach(2)=max(1,1),max(2,2) →
		// 2/3; reach(3)=max(2,8),max(1,9) → 2/17.
		{"lof k=2", line(), 2, true, []float64{(0.5 + 2.0/3) / 2 / (2.0 / 3), (2.0/3 + 2.0/3) / 2 / 0.5, (0.5 + 2.0/3) / 2 / (2.0 / 3), (2.0/3 + 0.5) / 2 / (2.0 / 17)}},
		{"lof copies stay finite", []Neighbours{{Pos: []int32{1}, Dist: []float32{0}}, {Pos: []int32{0}, Dist: []float32{0}}}, 1, true, []float64{1, 1}},
		{"lof no neighbours", []Neighbours{{}, {Pos: []int32{0}, Dist: []float32{3}}}, 1, true, []float64{inf, inf}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []float64
			var err error
			if tc.lof {
				got, err = LocalOutlierFactor(tc.nb, tc.k)
			} else {
				got, err = KthNeighbourScores(tc.nb, tc.k)
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.want {
				if math.Abs(got[i]-tc.want[i]) > 1e-9 && !(math.IsInf(got[i], 1) && math.IsInf(tc.want[i], 1)) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestScoreErrors(t *testing.T) {
	cases := []struct {
		name string
		nb   []Neighbours
		k    int
		want string
	}{
		{"k zero", line(), 0, "k 0 must be at least 1"},
		{"neighbour outside", []Neighbours{{Pos: []int32{5}, Dist: []float32{1}}}, 1, "outside the set"},
		{"negative neighbour", []Neighbours{{Pos: []int32{-1}, Dist: []float32{1}}}, 1, "outside the set"},
		{"short distances", []Neighbours{{Pos: []int32{0, 0}, Dist: []float32{1}}}, 2, "distances"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LocalOutlierFactor(tc.nb, tc.k)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestTopScores(t *testing.T) {
	nan := math.NaN()
	s := []float64{1, 3, nan, 3, 2, math.Inf(1)}
	if got := TopScores(s, 0); !slices.Equal(got, []int{5, 1, 3, 4, 0, 2}) {
		t.Fatalf("all: %v", got)
	}
	if got := TopScores(s, 2); !slices.Equal(got, []int{5, 1}) {
		t.Fatalf("top 2: %v", got)
	}
	if got := TopScores(nil, 3); len(got) != 0 {
		t.Fatalf("empty: %v", got)
	}
}

func TestPairSet(t *testing.T) {
	var s PairSet
	adds := []struct {
		a, b int32
		s    float32
		new  bool
	}{
		{3, 1, 0.9, true},
		{1, 3, 0.95, false}, // the same pair from the other end: higher score kept
		{2, 2, 1, false},    // a point with itself
		{0, 4, 0.95, true},
		{5, 6, 0.99, true},
	}
	for _, a := range adds {
		if got := s.Add(a.a, a.b, a.s); got != a.new {
			t.Fatalf("Add(%d, %d) = %v, want %v", a.a, a.b, got, a.new)
		}
	}
	var o PairSet
	o.Add(6, 5, 0.98)
	o.Add(7, 8, 0.5)
	s.Merge(&o)
	want := []Pair{{5, 6, 0.99}, {0, 4, 0.95}, {1, 3, 0.95}, {7, 8, 0.5}}
	if got := s.Sorted(); !slices.Equal(got, want) || s.Len() != 4 {
		t.Fatalf("Sorted = %v (len %d), want %v", got, s.Len(), want)
	}
}
