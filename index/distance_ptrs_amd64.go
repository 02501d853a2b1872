//go:build amd64 && !purego

package index

import "unsafe"

//go:noescape
func dotPtrsAVX512(q *float32, rows **float32, out *float32, dim, n int)

//go:noescape
func l2sqPtrsAVX512(q *float32, rows **float32, out *float32, dim, n int)

//go:noescape
func dotPtrsAVX2(q *float32, rows **float32, out *float32, dim, n int)

//go:noescape
func l2sqPtrsAVX2(q *float32, rows **float32, out *float32, dim, n int)

// The *PtrsArch functions receive len(rows) == len(out) and len(q) > 0.

func dotPtrsArch(q []float32, rows []*float32, out []float32) {
	switch simd {
	case levelAVX512:
		dotPtrsAVX512(unsafe.SliceData(q), unsafe.SliceData(rows), unsafe.SliceData(out), len(q), len(out))
	case levelAVX2:
		dotPtrsAVX2(unsafe.SliceData(q), unsafe.SliceData(rows), unsafe.SliceData(out), len(q), len(out))
	default:
		dotPtrsGeneric(q, rows, out)
	}
}

func l2sqPtrsArch(q []float32, rows []*float32, out []float32) {
	switch simd {
	case levelAVX512:
		l2sqPtrsAVX512(unsafe.SliceData(q), unsafe.SliceData(rows), unsafe.SliceData(out), len(q), len(out))
	case levelAVX2:
		l2sqPtrsAVX2(unsafe.SliceData(q), unsafe.SliceData(rows), unsafe.SliceData(out), len(q), len(out))
	default:
		l2sqPtrsGeneric(q, rows, out)
	}
}

// prefetchLines asks for the cache lines holding the n > 0 bytes at p; it
// never faults, whatever p is.
//
//go:noescape
func prefetchLines(p *uint32, n int)
