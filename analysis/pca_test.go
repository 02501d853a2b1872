package analysis

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// TestPCARecoversPlane builds rows a·u + b·w + offset + tiny noise with
// orthonormal u, w and var(a) = 9 > var(b) = 1: the components must be ±u
// and ±w, the variances 9 and 1, and the projection must return (a, b) up
// to sign and the mean.
func TestPCARecoversPlane(t *testing.T) {
	for _, dim := range []int{3, 20, 384} {
		rng := rand.New(rand.NewPCG(uint64(dim), 1))
		u, w := make([]float64, dim), make([]float64, dim)
		u[0] = 1
		w[1] = 1
		rotate(rng, u, w)
		const n = 4000
		// a and b are centred, uncorrelated and of variance exactly 9
		// and 1 over the sample, so the sample's principal axes are
		// exactly u and w.
		ab := make([][2]float64, n)
		for i := range n {
			ab[i] = [2]float64{rng.NormFloat64(), rng.NormFloat64()}
		}
		whiten(ab)
		data := make([]float32, 0, n*dim)
		for i := range n {
			ab[i][0] *= 3
			for j := range dim {
				data = append(data, float32(ab[i][0]*u[j]+ab[i][1]*w[j]+5+1e-4*rng.NormFloat64()))
			}
		}
		p, err := PCA(context.Background(), data, dim, 2, 1)
		if err != nil {
			t.Fatal(err)
		}
		for j, want := range [][]float64{u, w} {
			var dot float64
			for x := range dim {
				dot += float64(p.Components[j][x]) * want[x]
			}
			if math.Abs(math.Abs(dot)-1) > 1e-3 {
				t.Fatalf("dim %d: component %d has |cos| %v with the true direction", dim, j, math.Abs(dot))
			}
		}
		if math.Abs(p.Variance[0]-9)/9 > 0.1 || math.Abs(p.Variance[1]-1) > 0.1 {
			t.Fatalf("dim %d: variances %v, want about 9 and 1", dim, p.Variance)
		}
		xy, err := p.Project(data)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i += 97 {
			for j, v := range []float64{ab[i][0], ab[i][1]} {
				if math.Abs(math.Abs(xy[i][j])-math.Abs(v)) > 2e-3 {
					t.Fatalf("dim %d row %d: coordinate %d is %v, want ±%v", dim, i, j, xy[i][j], v)
				}
			}
		}
	}
}

// rotate applies the same random rotation to u and w, keeping them
// orthonormal: a Householder reflection by a random unit vector.
func rotate(rng *rand.Rand, u, w []float64) {
	h := make([]float64, len(u))
	var s float64
	for j := range h {
		h[j] = rng.NormFloat64()
		s += h[j] * h[j]
	}
	s = math.Sqrt(s)
	for j := range h {
		h[j] /= s
	}
	for _, v := range [][]float64{u, w} {
		var d float64
		for j := range v {
			d += v[j] * h[j]
		}
		for j := range v {
			v[j] -= 2 * d * h[j]
		}
	}
}

func TestPCABadInput(t *testing.T) {
	data := []float32{1, 2, 3, 4, 5, 6}
	for _, tc := range []struct {
		name       string
		data       []float32
		dim, comps int
	}{
		{"one-row", data[:3], 3, 2},
		{"zero-components", data, 3, 0},
		{"too-many-components", data, 3, 4},
		{"ragged", data[:5], 3, 2},
		{"dim0", data, 0, 1},
	} {
		if _, err := PCA(context.Background(), tc.data, tc.dim, tc.comps, 1); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: got %v, want ErrInvalidInput", tc.name, err)
		}
	}
	// Identical rows have no variance: the fit succeeds with zero variance.
	p, err := PCA(context.Background(), []float32{1, 1, 1, 1, 1, 1}, 3, 2, 1)
	if err != nil || p.Variance[0] != 0 {
		t.Fatalf("constant rows: %v, variances %v", err, p)
	}
}

// whiten centres the two columns, removes the first from the second and
// scales both to unit variance.
func whiten(ab [][2]float64) {
	n := float64(len(ab))
	for c := range 2 {
		var m float64
		for _, r := range ab {
			m += r[c] / n
		}
		for i := range ab {
			ab[i][c] -= m
		}
	}
	var aa, abx float64
	for _, r := range ab {
		aa += r[0] * r[0]
		abx += r[0] * r[1]
	}
	for i := range ab {
		ab[i][1] -= abx / aa * ab[i][0]
	}
	for c := range 2 {
		var v float64
		for _, r := range ab {
			v += r[c] * r[c] / n
		}
		for i := range ab {
			ab[i][c] /= math.Sqrt(v)
		}
	}
}
