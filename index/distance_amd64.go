//go:build amd64 && !purego

package index

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// The kernels are hand-written Go assembly rather than generated with avo
// or taken from a SIMD library: they are a few dozen instructions each, the
// library we measured (vek) has no AVX-512 and no batch or int8 forms, and a
// generator would add a build-time dependency for little gain. go vet's
// asmdecl check keeps the frame layouts honest.

type simdLevel uint8

const (
	levelGeneric simdLevel = iota
	levelAVX2
	levelAVX512
)

// simd is decided once during package initialization from what the CPU and
// OS support, and is only read afterwards: it describes the machine, it is
// not mutable state. A branch on it is cheaper than an indirect call
// through a function variable and lets the stubs below inline.
var simd = detectSIMD()

func detectSIMD() simdLevel {
	switch {
	case cpu.X86.HasAVX512F:
		return levelAVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return levelAVX2
	}
	return levelGeneric
}

func simdName() string {
	switch simd {
	case levelAVX512:
		return "avx512"
	case levelAVX2:
		return "avx2"
	}
	return "generic"
}

//go:noescape
func dotAVX512(a, b *float32, n int) float32

//go:noescape
func l2sqAVX512(a, b *float32, n int) float32

//go:noescape
func dotBatchAVX512(q, rows, out *float32, dim, n int)

//go:noescape
func l2sqBatchAVX512(q, rows, out *float32, dim, n int)

//go:noescape
func dotAVX2(a, b *float32, n int) float32

//go:noescape
func l2sqAVX2(a, b *float32, n int) float32

//go:noescape
func dotBatchAVX2(q, rows, out *float32, dim, n int)

//go:noescape
func l2sqBatchAVX2(q, rows, out *float32, dim, n int)

// The *Arch functions receive slices whose lengths were already checked.

func dotArch(a, b []float32) float32 {
	switch simd {
	case levelAVX512:
		return dotAVX512(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
	case levelAVX2:
		return dotAVX2(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
	}
	return dotGeneric(a, b)
}

func l2sqArch(a, b []float32) float32 {
	switch simd {
	case levelAVX512:
		return l2sqAVX512(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
	case levelAVX2:
		return l2sqAVX2(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
	}
	return l2sqGeneric(a, b)
}

func dotBatchArch(q, rows []float32, dim int, out []float32) {
	switch simd {
	case levelAVX512:
		dotBatchAVX512(unsafe.SliceData(q), unsafe.SliceData(rows), unsafe.SliceData(out), dim, len(out))
	case levelAVX2:
		dotBatchAVX2(unsafe.SliceData(q), unsafe.SliceData(rows), unsafe.SliceData(out), dim, len(out))
	default:
		dotBatchGeneric(q, rows, dim, out)
	}
}

func l2sqBatchArch(q, rows []float32, dim int, out []float32) {
	switch simd {
	case levelAVX512:
		l2sqBatchAVX512(unsafe.SliceData(q), unsafe.SliceData(rows), unsafe.SliceData(out), dim, len(out))
	case levelAVX2:
		l2sqBatchAVX2(unsafe.SliceData(q), unsafe.SliceData(rows), unsafe.SliceData(out), dim, len(out))
	default:
		l2sqBatchGeneric(q, rows, dim, out)
	}
}

//go:noescape
func dotBatch4AVX512(qs, rows, out *float32, dim, n int)

//go:noescape
func l2sqBatch4AVX512(qs, rows, out *float32, dim, n int)

// hasBatch4 reports whether batch4Arch has a kernel that beats four
// single-query passes.
func hasBatch4() bool { return simd == levelAVX512 }

// batch4Arch scores four queries (qs, back to back) against len(out)/4
// rows, writing out[4*i+j]. Lengths are checked by the caller.
func batch4Arch(l2 bool, qs, rows []float32, dim int, out []float32) {
	if simd != levelAVX512 {
		batch4Single(l2, qs, rows, dim, out)
		return
	}
	if l2 {
		l2sqBatch4AVX512(unsafe.SliceData(qs), unsafe.SliceData(rows), unsafe.SliceData(out), dim, len(out)/4)
	} else {
		dotBatch4AVX512(unsafe.SliceData(qs), unsafe.SliceData(rows), unsafe.SliceData(out), dim, len(out)/4)
	}
}
