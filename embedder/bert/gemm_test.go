package bert

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// naiveGemm is the definition: C += A·B with B[r][c] read through at.
func naiveGemm(m, n, k int, a []float32, lda int, b bMatrix, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for kk := 0; kk < k; kk++ {
				s += float64(a[i*lda+kk]) * float64(b.at(kk, j))
			}
			c[i*ldc+j] += float32(s)
		}
	}
}

func randSlice(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// TestGemm checks gemm (with whichever kernels this build selected) against
// the definition, for packed weights and strided activations, over shapes
// that hit every block edge: rows not a multiple of 4 or of the 64-row
// block, k past the 256-deep block, columns not a multiple of 16.
func TestGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sh := range [][3]int{{1, 16, 1}, {3, 16, 5}, {4, 32, 7}, {5, 17, 3}, {67, 48, 300}, {130, 100, 513}, {9, 384, 384}, {64, 1536, 40}} {
		m, n, k := sh[0], sh[1], sh[2]
		a := randSlice(r, m*k+3)
		w := randSlice(r, n*k) // out×in
		pk := packPanels(w, n, k)
		bp := packed(pk, k)
		init := randSlice(r, m*n)
		got := append([]float32(nil), init...)
		want := append([]float32(nil), init...)
		gemm(m, n, k, a, k, bp, got, n)
		naiveGemm(m, n, k, a, k, bp, want, n)
		checkClose(t, "packed", sh, got, want, k)
		// The same product with B as a strided row-major matrix
		// (ldb > n), as attention uses keys and values.
		ldb := n + 5
		if n%panelWidth == 0 {
			bs := make([]float32, k*ldb)
			for kk := 0; kk < k; kk++ {
				for j := 0; j < n; j++ {
					bs[kk*ldb+j] = w[j*k+kk]
				}
			}
			got = append(got[:0], init...)
			gemm(m, n, k, a, k, bMatrix{data: bs, panelStride: panelWidth, ldb: ldb}, got, n)
			checkClose(t, "strided", sh, got, want, k)
		}
	}
}

func checkClose(t *testing.T, what string, sh [3]int, got, want []float32, k int) {
	t.Helper()
	tol := 1e-5 * math.Sqrt(float64(k)) * 4
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > tol*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("%s %v: element %d = %v, want %v", what, sh, i, got[i], want[i])
		}
	}
}

// TestKernelsAgree: the selected kernels (assembly on amd64) and the
// portable ones give the same results; with FMA the rounding of a sum
// differs slightly, so agreement is to float32 precision.
func TestKernelsAgree(t *testing.T) {
	t.Logf("kernel: %s", kernelName())
	r := rand.New(rand.NewPCG(3, 4))
	for _, k := range []int{1, 2, 7, 32, 256} {
		lda, ldb, ldc := k+3, 16+9, 16+2
		a := randSlice(r, 4*lda)
		b := randSlice(r, k*ldb)
		c0 := randSlice(r, 4*ldc)
		got := append([]float32(nil), c0...)
		want := append([]float32(nil), c0...)
		kernel4x16(a, lda, b, ldb, got, ldc, k)
		kernel4x16Go(a, lda, b, ldb, want, ldc, k)
		checkClose(t, "4x16", [3]int{4, 16, k}, got, want, k)
		for r := range 4 {
			for j := 16; j < ldc; j++ {
				if got[r*ldc+j] != c0[r*ldc+j] {
					t.Fatalf("4x16 k=%d wrote outside its block at row %d column %d", k, r, j)
				}
			}
		}
		a8 := randSlice(r, 8*lda)
		c8 := randSlice(r, 8*ldc)
		got8 := append([]float32(nil), c8...)
		want8 := append([]float32(nil), c8...)
		kernel8x16(a8, lda, b, ldb, got8, ldc, k)
		kernel4x16Go(a8, lda, b, ldb, want8, ldc, k)
		kernel4x16Go(a8[4*lda:], lda, b, ldb, want8[4*ldc:], ldc, k)
		checkClose(t, "8x16", [3]int{8, 16, k}, got8, want8, k)
		for r := range 8 {
			for j := 16; j < ldc; j++ {
				if got8[r*ldc+j] != c8[r*ldc+j] {
					t.Fatalf("8x16 k=%d wrote outside its block at row %d column %d", k, r, j)
				}
			}
		}
		got = append(got[:0], c0...)
		want = append(want[:0], c0...)
		kernel1x16(a, b, ldb, got, k)
		kernel1x16Go(a, b, ldb, want, k)
		checkClose(t, "1x16", [3]int{1, 16, k}, got, want, k)
	}
}

// TestForwardAllocs: once its scratch has grown, a forward pass and pooling
// allocate nothing.
func TestForwardAllocs(t *testing.T) {
	a := testModelArch(t)
	vals, shapes := randomTensors(a, 6)
	m, err := Load(context.Background(), writeModelDir(t, a, "mean", vals, shapes, nil))
	if err != nil {
		t.Fatal(err)
	}
	var encs [][]int32
	for _, s := range []string{"the quick brown fox jumps over the lazy dog", "fox", "vector database search today"} {
		encs = append(encs, m.Tokenizer().Encode(s, true).IDs)
	}
	types := make([]int32, 64)
	out := [][]float32{make([]float32, a.Hidden), make([]float32, a.Hidden), make([]float32, a.Hidden)}
	idx := []int{0, 1, 2}
	sc := &scratch{}
	run := func() {
		sc.reset()
		for _, ids := range encs {
			sc.add(ids, types[:len(ids)])
		}
		if err := m.embedBatch(sc, idx, out); err != nil {
			t.Fatal(err)
		}
	}
	run()
	if n := testing.AllocsPerRun(20, run); n != 0 {
		t.Errorf("%v allocations per batch in steady state, want 0", n)
	}
}
