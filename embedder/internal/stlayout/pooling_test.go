package stlayout

import (
	"github.com/vecbolt/vecbolt/embedder"
	"math"
	"math/rand/v2"
	"testing"
)

func TestPoolInto(t *testing.T) {
	// Three tokens of dim 2; the last is padding.
	hidden := []float32{1, 2, 3, 4, 100, 100}
	tests := []struct {
		name    string
		mask    []int64
		pooling embedder.Pooling
		want    []float32
	}{
		{"mean over mask", []int64{1, 1, 0}, embedder.PoolingMean, []float32{2, 3}},
		{"mean single token", []int64{1, 0, 0}, embedder.PoolingMean, []float32{1, 2}},
		{"mean all masked is zero, not NaN", []int64{0, 0, 0}, embedder.PoolingMean, []float32{0, 0}},
		{"cls ignores mask", []int64{1, 1, 1}, embedder.PoolingCLS, []float32{1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := make([]float32, 2)
			PoolInto(got, hidden, tc.mask, 2, tc.pooling)
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestPoolIntoWideDim(t *testing.T) {
	// Dims beyond the stack buffer take the heap path; same answer.
	const dim, seq = 1500, 3
	r := rand.New(rand.NewPCG(1, 2))
	hidden := make([]float32, dim*seq)
	for i := range hidden {
		hidden[i] = r.Float32()
	}
	got := make([]float32, dim)
	PoolInto(got, hidden, []int64{1, 1, 1}, dim, embedder.PoolingMean)
	for j := 0; j < dim; j++ {
		want := (float64(hidden[j]) + float64(hidden[dim+j]) + float64(hidden[2*dim+j])) / 3
		if math.Abs(float64(got[j])-want) > 1e-6 {
			t.Fatalf("component %d: %g, want %g", j, got[j], want)
		}
	}
}

func TestNormalizeL2(t *testing.T) {
	tests := []struct {
		name string
		in   []float32
		want []float32
	}{
		{"3-4-5", []float32{3, 4}, []float32{0.6, 0.8}},
		{"zero stays zero", []float32{0, 0, 0}, []float32{0, 0, 0}},
		{"tiny is clamped, not blown up", []float32{1e-20, 0}, []float32{1e-8, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := append([]float32(nil), tc.in...)
			NormalizeL2(v)
			for i := range v {
				if math.Abs(float64(v[i]-tc.want[i])) > 1e-7*math.Max(1, math.Abs(float64(tc.want[i]))) {
					t.Fatalf("got %v, want %v", v, tc.want)
				}
			}
		})
	}
}

func TestNormalizeL2Property(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for it := 0; it < 200; it++ {
		v := make([]float32, 1+r.IntN(500))
		for i := range v {
			v[i] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(8)-4)))
		}
		NormalizeL2(v)
		var ss float64
		for _, x := range v {
			ss += float64(x) * float64(x)
		}
		if math.Abs(math.Sqrt(ss)-1) > 1e-5 {
			t.Fatalf("norm %g after normalizing %d values", math.Sqrt(ss), len(v))
		}
	}
}

func TestCheckFinite(t *testing.T) {
	if err := CheckFinite([]float32{1, 2}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		if err := CheckFinite([]float32{0, bad}); err == nil {
			t.Fatalf("%v accepted", bad)
		}
	}
}

func TestParsePooling(t *testing.T) {
	for _, ok := range []string{"mean", "cls"} {
		if _, err := embedder.ParsePooling(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "max", "MEAN", "weighted-mean"} {
		if _, err := embedder.ParsePooling(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
