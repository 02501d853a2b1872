//go:build amd64 && !purego

package index

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// simdInt8 is chosen once at package initialization, like simd; the int8
// kernels need AVX-512BW rather than only AVX-512F.
var simdInt8 = detectSIMDInt8()

func detectSIMDInt8() simdLevel {
	switch {
	case cpu.X86.HasAVX512BW:
		return levelAVX512
	case cpu.X86.HasAVX2:
		return levelAVX2
	}
	return levelGeneric
}

//go:noescape
func dotInt8AVX512(a, b *int8, n int) int32

//go:noescape
func dotInt8AVX2(a, b *int8, n int) int32

func dotInt8Arch(a, b []int8) int32 {
	switch simdInt8 {
	case levelAVX512:
		return dotInt8AVX512(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
	case levelAVX2:
		return dotInt8AVX2(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
	}
	return dotInt8Generic(a, b)
}
