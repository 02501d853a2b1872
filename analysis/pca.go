package analysis

import (
	"context"
	"math"
	"math/rand/v2"

	"github.com/vecbolt/vecbolt/index"
)

// PCA limits.
const (
	// pcaSample caps the rows the components are fitted on: two leading
	// directions of a few hundred dimensions are estimated well from
	// thousands of rows, and projecting is cheap for all of them.
	pcaSample = 20_000
	// pcaMaxIter bounds the power iterations per component.
	pcaMaxIter = 300
	// pcaTol stops a component's power iteration once its direction
	// changes by less than this (Euclidean norm of the difference of
	// successive unit vectors).
	pcaTol = 1e-6
)

// PCAResult is a fitted principal-component projection.
type PCAResult struct {
	Dim int
	// Mean is the mean row the projection subtracts.
	Mean []float32
	// Components holds the unit principal directions, one row of Dim
	// values each, by decreasing variance; the sign of each is fixed so
	// that its largest-magnitude entry is positive.
	Components [][]float32
	// Variance[j] is the variance of the fitted rows along component j.
	Variance []float64
}

// PCA finds the first components principal directions of the rows of
// data by power iteration with deflation over a uniform sample of at most
// 20,000 rows (seeded by seed), without forming the dim × dim covariance
// matrix: each step multiplies by the centred sample and its transpose
// (2·rows·dim operations), and each later component is kept orthogonal to
// the earlier ones.
func PCA(ctx context.Context, data []float32, dim, components int, seed uint64) (*PCAResult, error) {
	n, err := checkRows(data, dim)
	if err != nil {
		return nil, err
	}
	switch {
	case n < 2:
		return nil, invalidf("%d rows: a projection needs at least 2", n)
	case components < 1 || components > dim:
		return nil, invalidf("components %d: want 1..%d (the dimension)", components, dim)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0xda942042e4dd58b5))
	rows := data
	if m := min(n, pcaSample); m < n {
		rows = make([]float32, 0, m*dim)
		for _, r := range sampleRows(rng, n, m) {
			rows = append(rows, data[r*dim:(r+1)*dim]...)
		}
	}
	m := len(rows) / dim
	mean := make([]float64, dim)
	for i := range m {
		addRow(mean, rows[i*dim:(i+1)*dim])
	}
	res := &PCAResult{Dim: dim, Mean: make([]float32, dim)}
	for j := range mean {
		mean[j] /= float64(m)
		res.Mean[j] = float32(mean[j])
	}
	centred := make([]float32, m*dim)
	for i := range m {
		for j := range dim {
			centred[i*dim+j] = float32(float64(rows[i*dim+j]) - mean[j])
		}
	}
	u := make([]float32, m)
	w := make([]float64, dim)
	v := make([]float32, dim)
	for range components {
		for j := range v {
			v[j] = float32(rng.NormFloat64())
		}
		orthonormalize(v, res.Components)
		var lambda float64
		for it := 0; it < pcaMaxIter; it++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			// w = Cᵀ(C v) / m, C the centred sample.
			index.DotProductBatch(v, centred, dim, u)
			clear(w)
			for i, ui := range u {
				if ui == 0 {
					continue
				}
				r := centred[i*dim : (i+1)*dim]
				for j, x := range r {
					w[j] += float64(ui) * float64(x)
				}
			}
			var norm float64
			for j := range w {
				w[j] /= float64(m)
				norm += w[j] * w[j]
			}
			lambda = math.Sqrt(norm)
			next := make([]float32, dim)
			for j := range w {
				next[j] = float32(w[j])
			}
			if !orthonormalize(next, res.Components) {
				// No variance left outside the earlier components.
				copy(next, v)
				lambda = 0
			}
			var diff float64
			for j := range v {
				d := float64(next[j] - v[j])
				diff += d * d
			}
			copy(v, next)
			if math.Sqrt(diff) < pcaTol || lambda == 0 {
				break
			}
		}
		c := make([]float32, dim)
		copy(c, v)
		fixSign(c)
		res.Components = append(res.Components, c)
		res.Variance = append(res.Variance, lambda)
	}
	return res, nil
}

// orthonormalize removes from v its projections on the unit vectors of
// basis (twice, for numerical safety) and scales it to unit length; it
// reports false when nothing is left.
func orthonormalize(v []float32, basis [][]float32) bool {
	for range 2 {
		for _, b := range basis {
			d := index.DotProduct(v, b)
			for j := range v {
				v[j] -= d * b[j]
			}
		}
	}
	s := math.Sqrt(float64(index.DotProduct(v, v)))
	if !(s > 1e-30) {
		return false
	}
	for j := range v {
		v[j] = float32(float64(v[j]) / s)
	}
	return true
}

func fixSign(v []float32) {
	best := 0
	for j, x := range v {
		if math.Abs(float64(x)) > math.Abs(float64(v[best])) {
			best = j
		}
	}
	if v[best] < 0 {
		for j := range v {
			v[j] = -v[j]
		}
	}
}

// Project returns the coordinates of each row of data (Dim values each)
// along the components: out[i][j] is row i's coordinate on component j.
func (p *PCAResult) Project(data []float32) ([][]float64, error) {
	n, err := checkRows(data, p.Dim)
	if err != nil {
		return nil, err
	}
	out := make([][]float64, n)
	shift := make([]float64, len(p.Components))
	for j, c := range p.Components {
		shift[j] = float64(index.DotProduct(p.Mean, c))
	}
	for i := range n {
		r := data[i*p.Dim : (i+1)*p.Dim]
		out[i] = make([]float64, len(p.Components))
		for j, c := range p.Components {
			out[i][j] = float64(index.DotProduct(r, c)) - shift[j]
		}
	}
	return out, nil
}
