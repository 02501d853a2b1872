//go:build amd64 && !purego

package bert

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// The kernels are hand-written Go assembly for the reasons index/ gives in
// index/distance_amd64.go: they are a few dozen instructions, and go vet's
// asmdecl check keeps their frames honest. Which one runs is decided once at
// package initialization from what the CPU supports; the variable describes
// the machine and is only read afterwards.
var hasFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func kernel4x16AVX2(a *float32, lda int, b *float32, ldb int, c *float32, ldc int, k int)

//go:noescape
func kernel1x16AVX2(a *float32, b *float32, ldb int, c *float32, k int)

// kernel4x16 and kernel1x16 are called by gemm after it checked every
// operand's length, so the slices here are known to cover what the kernels
// read and write.
func kernel4x16(a []float32, lda int, b []float32, ldb int, c []float32, ldc int, k int) {
	if !hasFMA || k == 0 {
		kernel4x16Go(a, lda, b, ldb, c, ldc, k)
		return
	}
	_ = a[3*lda+k-1]
	_ = b[(k-1)*ldb+panelWidth-1]
	_ = c[3*ldc+panelWidth-1]
	kernel4x16AVX2(unsafe.SliceData(a), lda, unsafe.SliceData(b), ldb, unsafe.SliceData(c), ldc, k)
}

func kernel1x16(a []float32, b []float32, ldb int, c []float32, k int) {
	if !hasFMA || k == 0 {
		kernel1x16Go(a, b, ldb, c, k)
		return
	}
	_ = a[k-1]
	_ = b[(k-1)*ldb+panelWidth-1]
	_ = c[panelWidth-1]
	kernel1x16AVX2(unsafe.SliceData(a), unsafe.SliceData(b), ldb, unsafe.SliceData(c), k)
}

func kernelName() string {
	if hasFMA {
		return "avx2-fma"
	}
	return "generic"
}
