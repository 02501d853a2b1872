package analysis

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Neighbours is one point's nearest neighbours within a point set, nearest
// first: Pos[j] is the position of the j-th neighbour in the set and
// Dist[j] its distance (non-negative, lower is closer). The point itself is
// not among them. A point may have fewer neighbours than asked for (a small
// set, or neighbours that left the set while it was searched).
type Neighbours struct {
	Pos  []int32
	Dist []float32
}

// KthNeighbourScores returns, for each point, the distance to its k-th
// nearest neighbour: the isolation score of Ramaswamy, Rastogi and Shim
// (SIGMOD 2000). A point with fewer than k neighbours gets the distance to
// its farthest one, and +Inf with none: having no neighbour at all is as
// isolated as a point can be.
func KthNeighbourScores(nb []Neighbours, k int) ([]float64, error) {
	if k < 1 {
		return nil, fmt.Errorf("analysis: k %d must be at least 1", k)
	}
	out := make([]float64, len(nb))
	for i, n := range nb {
		switch {
		case len(n.Dist) == 0:
			out[i] = math.Inf(1)
		case len(n.Dist) >= k:
			out[i] = float64(n.Dist[k-1])
		default:
			out[i] = float64(n.Dist[len(n.Dist)-1])
		}
	}
	return out, nil
}

// lofEpsilon keeps the local reachability density finite for a point whose
// neighbours all sit at distance zero (exact copies): such a point is as
// dense as it gets, and its copies' LOF stays near 1 instead of NaN.
const lofEpsilon = 1e-12

// LocalOutlierFactor returns the local outlier factor (Breunig, Kriegel, Ng
// and Sander, SIGMOD 2000) of each point from its k nearest neighbours,
// the first k entries of nb[i] (fewer when a point has fewer). About 1 means
// as dense as its neighbours; well above 1 means sparser than them. The
// k-distance of a neighbour is its own k-th neighbour distance (its
// farthest listed one when it has fewer), as KthNeighbourScores computes
// it. Neighbour positions outside the set are an error. A point without
// neighbours gets +Inf.
func LocalOutlierFactor(nb []Neighbours, k int) ([]float64, error) {
	kd, err := KthNeighbourScores(nb, k)
	if err != nil {
		return nil, err
	}
	lrd := make([]float64, len(nb))
	for i, n := range nb {
		m := min(k, len(n.Pos))
		if len(n.Dist) < m {
			return nil, fmt.Errorf("analysis: point %d has %d positions but %d distances", i, len(n.Pos), len(n.Dist))
		}
		if m == 0 {
			lrd[i] = 0
			continue
		}
		var sum float64
		for j := range m {
			p := n.Pos[j]
			if p < 0 || int(p) >= len(nb) {
				return nil, fmt.Errorf("analysis: point %d lists neighbour %d outside the set of %d", i, p, len(nb))
			}
			sum += max(kd[p], float64(n.Dist[j]))
		}
		lrd[i] = float64(m) / (sum + lofEpsilon)
	}
	out := make([]float64, len(nb))
	for i, n := range nb {
		m := min(k, len(n.Pos))
		if m == 0 {
			out[i] = math.Inf(1)
			continue
		}
		var sum float64
		for _, p := range n.Pos[:m] {
			sum += lrd[p]
		}
		if lrd[i] == 0 {
			// Every neighbour is itself without neighbours (+Inf k-distance):
			// nothing to compare with, so as isolated as it gets.
			out[i] = math.Inf(1)
			continue
		}
		out[i] = sum / float64(m) / lrd[i]
	}
	return out, nil
}

// TopScores returns the positions of the n highest scores, highest first,
// ties broken by the smaller position so that the order repeats; n <= 0 or
// beyond len(scores) means all of them. NaN scores rank last.
func TopScores(scores []float64, n int) []int {
	pos := make([]int, len(scores))
	for i := range pos {
		pos[i] = i
	}
	slices.SortFunc(pos, func(a, b int) int {
		sa, sb := scores[a], scores[b]
		if na, nb := math.IsNaN(sa), math.IsNaN(sb); na || nb {
			if na && nb {
				return cmp.Compare(a, b)
			}
			if na {
				return 1
			}
			return -1
		}
		if c := cmp.Compare(sb, sa); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	if n > 0 && n < len(pos) {
		pos = pos[:n]
	}
	return pos
}
