//go:build !amd64 || purego

package bert

// Without amd64 assembly the portable kernels run.

func kernel4x16(a []float32, lda int, b []float32, ldb int, c []float32, ldc int, k int) {
	kernel4x16Go(a, lda, b, ldb, c, ldc, k)
}

func kernel1x16(a []float32, b []float32, ldb int, c []float32, k int) {
	kernel1x16Go(a, b, ldb, c, k)
}

func kernelName() string { return "generic" }

func has8x16() bool { return false }

func kernel8x16(a []float32, lda int, b []float32, ldb int, c []float32, ldc int, k int) {
	kernel4x16Go(a, lda, b, ldb, c, ldc, k)
	kernel4x16Go(a[4*lda:], lda, b, ldb, c[4*ldc:], ldc, k)
}

func expSum(s []float32, mx, scale float32) float32 { return expSumGo(s, mx, scale) }

func gelu(v []float32) { geluGo(v) }
