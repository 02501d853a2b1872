package analysis

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/vecbolt/vecbolt/index"
)

// Limits and constants of NeighborLayout.
const (
	// MaxLayoutRows caps NeighborLayout: its exact neighbour graph costs
	// n² dot products (20,000 rows of 384 dimensions: about 2 s on one
	// core); beyond it, PCA or a sample.
	MaxLayoutRows = 20_000
	// layoutNeighbors is the number of nearest neighbours each row keeps
	// close in the layout.
	layoutNeighbors = 15
	// layoutNegatives is the number of random rows each edge pushes away.
	layoutNegatives = 5
)

// NeighborLayout places the n rows of data in two dimensions so that each
// row's nearest neighbours (the 15 nearest by cosine under Spherical, by
// Euclidean distance otherwise, found exactly) lie near it, by the
// optimization of LargeVis (Tang et al. 2016; UMAP's with a = b = 1):
// starting from the PCA projection (scaled to a spread of 10), each epoch
// pulls every row toward its neighbours and pushes it from 5 random rows,
// with the Cauchy kernel 1 / (1 + d²) as the probability that two points
// at distance d are neighbours (no powers to compute, so an epoch over
// 20,000 rows takes a fraction of a second) and a learning rate falling
// linearly to 0. Unlike PCA it
// keeps local groups apart even when they differ along many directions;
// distances between far groups mean little. Epochs: 200 up to 10,000 rows,
// 100 above. Deterministic for a seed (one goroutine runs the epochs).
// More than MaxLayoutRows rows is an error.
func NeighborLayout(ctx context.Context, data []float32, dim int, spherical bool, seed uint64) ([][2]float64, error) {
	n, err := checkRows(data, dim)
	if err != nil {
		return nil, err
	}
	switch {
	case n < 2:
		return nil, invalidf("%d rows: a layout needs at least 2", n)
	case n > MaxLayoutRows:
		return nil, invalidf("%d rows: the neighbour layout takes at most %d (use PCA, or a filter)", n, MaxLayoutRows)
	}
	rows := data
	if spherical {
		if rows, err = normalizedRows(data, dim); err != nil {
			return nil, err
		}
	}
	nbrs, err := exactNeighbors(ctx, rows, dim, min(layoutNeighbors, n-1))
	if err != nil {
		return nil, err
	}
	pca, err := PCA(ctx, rows, dim, min(2, dim), seed)
	if err != nil {
		return nil, err
	}
	init, err := pca.Project(rows)
	if err != nil {
		return nil, err
	}
	y := make([][2]float64, n)
	var span float64
	for i, p := range init {
		y[i][0] = p[0]
		if len(p) > 1 {
			y[i][1] = p[1]
		}
		span = math.Max(span, math.Max(math.Abs(y[i][0]), math.Abs(y[i][1])))
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x2545f4914f6cdd1d))
	scale := 10.0
	if span > 0 {
		scale /= span
	}
	for i := range y {
		// A little jitter separates identical rows, which PCA puts on
		// one spot and the gradients could not pull apart.
		y[i][0] = y[i][0]*scale + 1e-4*rng.NormFloat64()
		y[i][1] = y[i][1]*scale + 1e-4*rng.NormFloat64()
	}
	epochs := 200
	if n > 10_000 {
		epochs = 100
	}
	clip := func(v float64) float64 { return math.Max(-4, math.Min(4, v)) }
	for e := range epochs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		lr := 1 - float64(e)/float64(epochs)
		for i, list := range nbrs {
			for _, j := range list {
				dx, dy := y[i][0]-y[j][0], y[i][1]-y[j][1]
				d2 := dx*dx + dy*dy
				if d2 > 0 {
					g := -2 / (1 + d2)
					gx, gy := lr*clip(g*dx), lr*clip(g*dy)
					y[i][0] += gx
					y[i][1] += gy
					y[j][0] -= gx
					y[j][1] -= gy
				}
				for range layoutNegatives {
					l := rng.IntN(n)
					if l == i {
						continue
					}
					dx, dy := y[i][0]-y[l][0], y[i][1]-y[l][1]
					d2 := dx*dx + dy*dy
					g := 2 / ((0.001 + d2) * (1 + d2))
					y[i][0] += lr * clip(g*dx)
					y[i][1] += lr * clip(g*dy)
				}
			}
		}
	}
	return y, nil
}

// exactNeighbors returns, for every row, the k other rows nearest to it
// (largest dot product for unit rows, smallest Euclidean distance
// otherwise), nearest first, ties by row number.
func exactNeighbors(ctx context.Context, rows []float32, dim, k int) ([][]int, error) {
	n := len(rows) / dim
	norms := make([]float32, n)
	for i := range n {
		r := rows[i*dim : (i+1)*dim]
		norms[i] = index.DotProduct(r, r)
	}
	out := make([][]int, n)
	chunks := (n + 63) / 64
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(chunks, maxProcs()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dots := make([]float32, n)
			for {
				mu.Lock()
				c := next
				next++
				mu.Unlock()
				if c >= chunks || ctx.Err() != nil {
					return
				}
				for i := c * 64; i < min(n, (c+1)*64); i++ {
					index.DotProductBatch(rows[i*dim:(i+1)*dim], rows, dim, dots)
					best := make([]int, 0, k+1)
					dist := func(j int) float32 { return norms[j] - 2*dots[j] }
					for j := range n {
						if j == i {
							continue
						}
						if len(best) == k && dist(j) >= dist(best[k-1]) {
							continue
						}
						pos := len(best)
						for pos > 0 && dist(best[pos-1]) > dist(j) {
							pos--
						}
						if len(best) < k {
							best = append(best, 0)
						}
						copy(best[pos+1:], best[pos:len(best)-1])
						best[pos] = j
					}
					out[i] = best
				}
			}
		}()
	}
	wg.Wait()
	return out, ctx.Err()
}

func maxProcs() int { return runtime.GOMAXPROCS(0) }
