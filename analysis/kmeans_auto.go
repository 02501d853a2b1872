package analysis

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/vecbolt/vecbolt/index"
)

// Sizes used by ChooseK.
const (
	// chooseKSample caps the rows each candidate k is clustered on.
	chooseKSample = 10_000
	// silhouetteSample caps the rows whose silhouette is averaged: the
	// silhouette compares every sampled row with every other, so its cost
	// is quadratic in this number.
	silhouetteSample = 2_000
	// DefaultMaxK is ChooseK's default upper bound.
	DefaultMaxK = 20
)

// KScore is the mean silhouette of the clustering ChooseK tried for K.
type KScore struct {
	K          int
	Silhouette float64
}

// ChooseK picks the number of clusters for data by the mean silhouette
// coefficient (Rousseeuw 1987): for each k in [minK, maxK] it clusters a
// uniform sample of at most 10,000 rows with KMeans (the same options) and
// averages, over at most 2,000 of those rows, (b - a) / max(a, b), where a
// is a row's mean distance to the other rows of its cluster and b the
// smallest mean distance to another cluster's rows (distances: 1 - cos
// under Spherical, Euclidean otherwise). The k with the highest mean wins;
// ties go to the smaller k. It returns the chosen k and every candidate's
// score. maxK is capped at the sample size - 1 (a silhouette needs a
// second cluster with rows outside it); minK must be at least 2.
func ChooseK(ctx context.Context, data []float32, dim, minK, maxK int, opts ...KMeansOption) (int, []KScore, error) {
	cfg, err := kmeansOptions(opts)
	if err != nil {
		return 0, nil, err
	}
	n, err := checkRows(data, dim)
	if err != nil {
		return 0, nil, err
	}
	if minK < 2 {
		return 0, nil, invalidf("smallest k %d: a silhouette needs at least 2 clusters", minK)
	}
	if n < 3 {
		return 0, nil, invalidf("%d rows: choosing k needs at least 3", n)
	}
	rng := rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x5851f42d4c957f2d))
	sample := data
	if m := min(n, chooseKSample); m < n {
		sample = make([]float32, 0, m*dim)
		for _, r := range sampleRows(rng, n, m) {
			sample = append(sample, data[r*dim:(r+1)*dim]...)
		}
	}
	m := len(sample) / dim
	maxK = min(maxK, m-1)
	if maxK < minK {
		return 0, nil, invalidf("k range [%d, %d] is empty for %d rows", minK, maxK, n)
	}
	if cfg.spherical {
		if sample, err = normalizedRows(sample, dim); err != nil {
			return 0, nil, err
		}
	}
	// The silhouette's rows: the first s of the sample (already uniform).
	s := min(m, silhouetteSample)
	dists := pairDistances(sample[:s*dim], dim, cfg.spherical)
	var scores []KScore
	best := -1
	for k := minK; k <= maxK; k++ {
		res, err := KMeans(ctx, sample, dim, k, opts...)
		if err != nil {
			return 0, nil, err
		}
		sc := silhouette(dists, s, res.Assign[:s], k)
		scores = append(scores, KScore{K: k, Silhouette: sc})
		if best < 0 || sc > scores[best].Silhouette {
			best = len(scores) - 1
		}
	}
	return scores[best].K, scores, nil
}

// sampleRows returns m distinct row numbers out of n, sorted.
func sampleRows(rng *rand.Rand, n, m int) []int {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	for i := range m {
		j := i + rng.IntN(n-i)
		perm[i], perm[j] = perm[j], perm[i]
	}
	out := perm[:m]
	slices.Sort(out)
	return out
}

// pairDistances returns the s×s distance matrix of the rows.
func pairDistances(rows []float32, dim int, spherical bool) []float32 {
	s := len(rows) / dim
	norms := make([]float32, s)
	for i := range s {
		r := rows[i*dim : (i+1)*dim]
		norms[i] = index.DotProduct(r, r)
	}
	out := make([]float32, s*s)
	for i := range s {
		line := out[i*s : (i+1)*s]
		index.DotProductBatch(rows[i*dim:(i+1)*dim], rows, dim, line)
		for j, dot := range line {
			if spherical {
				line[j] = max(0, 1-dot)
			} else {
				line[j] = float32(math.Sqrt(math.Max(0, float64(norms[i])+float64(norms[j])-2*float64(dot))))
			}
		}
		line[i] = 0
	}
	return out
}

// silhouette is the mean silhouette of the s rows with the given labels; a
// row alone in its cluster scores 0, as in Rousseeuw's definition.
func silhouette(dists []float32, s int, labels []int, k int) float64 {
	sizes := make([]int, k)
	for _, c := range labels {
		sizes[c]++
	}
	sum := make([]float64, k)
	var total float64
	for i := range s {
		clear(sum)
		for j, d := range dists[i*s : (i+1)*s] {
			sum[labels[j]] += float64(d)
		}
		own := labels[i]
		if sizes[own] <= 1 {
			continue
		}
		a := sum[own] / float64(sizes[own]-1)
		b := math.Inf(1)
		for c := range k {
			if c != own && sizes[c] > 0 {
				b = math.Min(b, sum[c]/float64(sizes[c]))
			}
		}
		if math.IsInf(b, 1) {
			continue
		}
		if den := math.Max(a, b); den > 0 {
			total += (b - a) / den
		}
	}
	return total / float64(s)
}
