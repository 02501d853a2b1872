package analysis

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// blobs returns n rows of dim values around k well-separated centres and
// each row's true blob. Centres are 10·e_c when dim >= k, else on a circle
// of radius 10 in the first two dimensions; noise is N(0, 0.05²) per
// coordinate, far below the distance between centres.
func blobs(seed uint64, n, dim, k int) ([]float32, []int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	centres := make([][]float64, k)
	for c := range k {
		centres[c] = make([]float64, dim)
		if dim >= k {
			centres[c][c] = 10
		} else {
			a := 2 * math.Pi * float64(c) / float64(k)
			centres[c][0], centres[c][1] = 10*math.Cos(a), 10*math.Sin(a)
		}
	}
	data := make([]float32, 0, n*dim)
	truth := make([]int, n)
	for i := range n {
		c := i % k
		truth[i] = c
		for j := range dim {
			data = append(data, float32(centres[c][j]+0.05*rng.NormFloat64()))
		}
	}
	return data, truth
}

// samePartition reports whether got is truth up to renaming the labels.
func samePartition(got, truth []int) bool {
	fwd, back := map[int]int{}, map[int]int{}
	for i := range got {
		if g, ok := fwd[truth[i]]; ok && g != got[i] {
			return false
		}
		if t, ok := back[got[i]]; ok && t != truth[i] {
			return false
		}
		fwd[truth[i]], back[got[i]] = got[i], truth[i]
	}
	return true
}

func TestKMeansFindsBlobs(t *testing.T) {
	cases := []struct {
		name      string
		n, dim, k int
		spherical bool
		opts      []KMeansOption
	}{
		{"2d-3-euclidean", 300, 2, 3, false, nil},
		{"2d-5-spherical", 500, 2, 5, true, nil},
		{"16d-8-euclidean", 800, 16, 8, false, nil},
		{"16d-8-spherical", 800, 16, 8, true, nil},
		{"384d-10-euclidean", 1000, 384, 10, false, nil},
		{"384d-10-spherical", 1000, 384, 10, true, nil},
		{"k1", 50, 4, 1, false, nil},
		{"k=n", 6, 8, 6, false, nil},
		{"minibatch-8d-4", 3000, 8, 4, false, []KMeansOption{WithMiniBatch(1000, 256)}},
		{"minibatch-8d-4-spherical", 3000, 8, 4, true, []KMeansOption{WithMiniBatch(1000, 256)}},
		{"one-thread", 800, 16, 8, false, []KMeansOption{WithThreads(1)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 3; seed++ {
				data, truth := blobs(seed, tc.n, tc.dim, tc.k)
				opts := append([]KMeansOption{WithSeed(seed)}, tc.opts...)
				if tc.spherical {
					opts = append(opts, Spherical())
				}
				res, err := KMeans(context.Background(), data, tc.dim, tc.k, opts...)
				if err != nil {
					t.Fatal(err)
				}
				if !samePartition(res.Assign, truth) {
					t.Fatalf("seed %d: clusters do not match the blobs (sizes %v)", seed, res.Sizes)
				}
				if len(tc.opts) > 0 && tc.name[:4] == "mini" && !res.MiniBatch {
					t.Fatal("mini-batch run did not use mini-batches")
				}
				want := tc.n / tc.k
				for c, s := range res.Sizes {
					if s != want {
						t.Fatalf("cluster %d has %d rows, want %d", c, s, want)
					}
				}
				// Every row's distance is to its own centroid, and that
				// centroid is the nearest.
				for i := range tc.n {
					r := data[i*tc.dim : (i+1)*tc.dim]
					best, bd := -1, math.Inf(1)
					for c := range tc.k {
						d := rowDist(r, res.Centroids[c*tc.dim:(c+1)*tc.dim], tc.spherical)
						if d < bd {
							best, bd = c, d
						}
					}
					if best != res.Assign[i] {
						t.Fatalf("row %d assigned to %d but nearest centroid is %d", i, res.Assign[i], best)
					}
					if math.Abs(bd-float64(res.Distance[i])) > 1e-3*math.Max(1, bd) {
						t.Fatalf("row %d distance %v, recomputed %v", i, res.Distance[i], bd)
					}
				}
			}
		})
	}
}

func rowDist(r, c []float32, spherical bool) float64 {
	var dot, rr, cc, l2 float64
	for j := range r {
		dot += float64(r[j]) * float64(c[j])
		rr += float64(r[j]) * float64(r[j])
		cc += float64(c[j]) * float64(c[j])
		d := float64(r[j]) - float64(c[j])
		l2 += d * d
	}
	if spherical {
		return 1 - dot/math.Sqrt(rr*cc)
	}
	return l2
}

func TestKMeansDeterministic(t *testing.T) {
	// Overlapping blobs, so the result depends on seeding and order.
	rng := rand.New(rand.NewPCG(9, 9))
	const n, dim = 3000, 24
	data := make([]float32, n*dim)
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	for _, spherical := range []bool{false, true} {
		for _, mb := range []bool{false, true} {
			run := func(threads int, seed uint64) *KMeansResult {
				opts := []KMeansOption{WithSeed(seed), WithThreads(threads)}
				if spherical {
					opts = append(opts, Spherical())
				}
				if mb {
					opts = append(opts, WithMiniBatch(1000, 512))
				}
				res, err := KMeans(context.Background(), data, dim, 12, opts...)
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			a, b, c := run(1, 5), run(3, 5), run(2, 6)
			if !slices.Equal(a.Assign, b.Assign) || !slices.Equal(a.Centroids, b.Centroids) || a.Objective != b.Objective {
				t.Fatalf("spherical=%v minibatch=%v: same seed, different thread counts gave different results", spherical, mb)
			}
			if slices.Equal(a.Assign, c.Assign) {
				t.Fatalf("spherical=%v minibatch=%v: another seed gave the same clustering of noise", spherical, mb)
			}
		}
	}
}

func TestKMeansBadInput(t *testing.T) {
	data, _ := blobs(1, 10, 3, 2)
	zero := append(slices.Clone(data), 0, 0, 0)
	nan := slices.Clone(data)
	nan[4] = float32(math.NaN())
	cases := []struct {
		name string
		data []float32
		dim  int
		k    int
		opts []KMeansOption
	}{
		{"k0", data, 3, 0, nil},
		{"k-negative", data, 3, -1, nil},
		{"k-over-n", data, 3, 11, nil},
		{"empty", nil, 3, 1, nil},
		{"dim0", data, 0, 1, nil},
		{"ragged", data[:29], 3, 2, nil},
		{"nan", nan, 3, 2, nil},
		{"zero-row-spherical", zero, 3, 2, []KMeansOption{Spherical()}},
		{"iterations", data, 3, 2, []KMeansOption{WithMaxIterations(0)}},
		{"threads", data, 3, 2, []KMeansOption{WithThreads(0)}},
		{"tolerance", data, 3, 2, []KMeansOption{WithTolerance(math.NaN())}},
		{"batch", data, 3, 2, []KMeansOption{WithMiniBatch(1, -5)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := KMeans(context.Background(), tc.data, tc.dim, tc.k, tc.opts...)
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("got %v, want ErrInvalidInput", err)
			}
		})
	}
	if _, err := KMeans(context.Background(), zero, 3, 2); err != nil {
		t.Fatalf("a zero row is fine for Euclidean k-means: %v", err)
	}
}

func TestKMeansCancelled(t *testing.T) {
	data, _ := blobs(1, 2000, 8, 4)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := KMeans(ctx, data, 8, 4); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestKMeansDuplicateRows(t *testing.T) {
	// More clusters than distinct rows: every cluster still gets a row.
	data := make([]float32, 0, 40)
	for i := range 20 {
		data = append(data, float32(i%2), 1)
	}
	res, err := KMeans(context.Background(), data, 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	for c, s := range res.Sizes {
		if s == 0 {
			t.Fatalf("cluster %d is empty", c)
		}
	}
}

func TestKMeansProgress(t *testing.T) {
	data, _ := blobs(2, 900, 8, 3)
	var phases []string
	res, err := KMeans(context.Background(), data, 8, 3, WithProgress(func(p KMeansProgress) { phases = append(phases, p.Phase) }))
	if err != nil {
		t.Fatal(err)
	}
	if len(phases) != res.Iterations+1 || phases[0] != "seeded" || phases[len(phases)-1] != "iteration" {
		t.Fatalf("phases %v for %d iterations", phases, res.Iterations)
	}
	if !res.Converged {
		t.Fatal("well-separated blobs did not converge")
	}
}

func TestChooseKFindsBlobCount(t *testing.T) {
	for _, tc := range []struct {
		dim, k    int
		spherical bool
	}{{2, 4, false}, {16, 6, false}, {16, 6, true}, {32, 9, true}} {
		data, _ := blobs(3, 100*tc.k, tc.dim, tc.k)
		var opts []KMeansOption
		if tc.spherical {
			opts = append(opts, Spherical())
		}
		k, scores, err := ChooseK(context.Background(), data, tc.dim, 2, 12, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if k != tc.k {
			t.Fatalf("dim %d spherical %v: chose k=%d, want %d (scores %v)", tc.dim, tc.spherical, k, tc.k, scores)
		}
	}
	data, _ := blobs(3, 10, 2, 2)
	if _, _, err := ChooseK(context.Background(), data, 2, 1, 5); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("minK 1: got %v", err)
	}
	if _, _, err := ChooseK(context.Background(), data[:4], 2, 2, 5); !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("2 rows: got %v", err)
	}
}
