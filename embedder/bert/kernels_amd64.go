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

// hasAVX512 selects the 8×16 AVX-512 kernel for whole groups of 8 rows.
var hasAVX512 = hasFMA && cpu.X86.HasAVX512F

//go:noescape
func kernel8x16AVX512(a *float32, lda int, b *float32, ldb int, c *float32, ldc int, k int)

// has8x16 reports whether kernel8x16 runs in assembly; without it gemm
// uses the 4×16 kernel for every row group.
func has8x16() bool { return hasAVX512 }

func kernel8x16(a []float32, lda int, b []float32, ldb int, c []float32, ldc int, k int) {
	if !hasAVX512 || k == 0 {
		kernel4x16(a, lda, b, ldb, c, ldc, k)
		kernel4x16(a[4*lda:], lda, b, ldb, c[4*ldc:], ldc, k)
		return
	}
	_ = a[7*lda+k-1]
	_ = b[(k-1)*ldb+panelWidth-1]
	_ = c[7*ldc+panelWidth-1]
	kernel8x16AVX512(unsafe.SliceData(a), lda, unsafe.SliceData(b), ldb, unsafe.SliceData(c), ldc, k)
}

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
	if hasAVX512 {
		return "avx512"
	}
	if hasFMA {
		return "avx2-fma"
	}
	return "generic"
}
