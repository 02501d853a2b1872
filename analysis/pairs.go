package analysis

import (
	"cmp"
	"slices"
)

// Pair is two distinct points of a set, A < B, with their similarity.
type Pair struct {
	A, B  int32
	Score float32
}

// PairSet collects pairs found from either end: a neighbour search from a
// finds b, from b it may find a again, or (an approximate index) may not.
// Each unordered pair is kept once. The zero value is ready to use; it is
// not safe for concurrent use.
type PairSet struct {
	m map[[2]int32]float32
}

// Add records the pair {a, b} with its score and reports whether it was
// new. A pair of a point with itself is ignored (false). When the pair was
// already recorded, the higher score is kept: both ends compute the same
// similarity, so they differ only by rounding if at all.
func (s *PairSet) Add(a, b int32, score float32) bool {
	if a == b {
		return false
	}
	if a > b {
		a, b = b, a
	}
	if s.m == nil {
		s.m = make(map[[2]int32]float32)
	}
	k := [2]int32{a, b}
	old, ok := s.m[k]
	if !ok || score > old {
		s.m[k] = score
	}
	return !ok
}

// Len is the number of distinct pairs recorded.
func (s *PairSet) Len() int { return len(s.m) }

// Merge adds every pair of o.
func (s *PairSet) Merge(o *PairSet) {
	for k, v := range o.m {
		s.Add(k[0], k[1], v)
	}
}

// Sorted returns the pairs by descending score, then ascending A and B, so
// that the order repeats.
func (s *PairSet) Sorted() []Pair {
	out := make([]Pair, 0, len(s.m))
	for k, v := range s.m {
		out = append(out, Pair{A: k[0], B: k[1], Score: v})
	}
	slices.SortFunc(out, func(x, y Pair) int {
		if c := cmp.Compare(y.Score, x.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(x.A, y.A); c != 0 {
			return c
		}
		return cmp.Compare(x.B, y.B)
	})
	return out
}
