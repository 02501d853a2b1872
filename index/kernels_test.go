package index

import (
	"math/rand/v2"
	"testing"
)

// TestExportedKernels checks that the exported forms agree with the
// internal kernels bit for bit, on lengths around the SIMD widths.
func TestExportedKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	for _, dim := range []int{1, 7, 16, 33, 384, 385} {
		for _, n := range []int{0, 1, 5} {
			qs := randVec(r, 4*dim)
			rows := randVec(r, n*dim)
			out := make([]float32, 4*n)
			DotProductBatch4(qs, rows, dim, out)
			one := make([]float32, n)
			for j := range 4 {
				q := qs[j*dim : (j+1)*dim]
				DotProductBatch(q, rows, dim, one)
				for i := range n {
					row := rows[i*dim : (i+1)*dim]
					if want := dot32(q, row); out[4*i+j] != want || one[i] != want || DotProduct(q, row) != want {
						t.Fatalf("dim %d row %d query %d: batch4 %v batch %v single %v, want %v", dim, i, j, out[4*i+j], one[i], DotProduct(q, row), want)
					}
					if SquaredL2(q, row) != l2sq32(q, row) {
						t.Fatalf("dim %d: SquaredL2 differs from l2sq32", dim)
					}
				}
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("DotProductBatch4 with short rows did not panic")
		}
	}()
	DotProductBatch4(make([]float32, 8), make([]float32, 3), 2, make([]float32, 8))
}
