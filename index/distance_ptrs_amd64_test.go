//go:build amd64 && !purego

package index

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// archPtrKernels lists the pointer-list assembly kernels this CPU can run,
// each with the single kernels of its family.
func archPtrKernels() []ptrKernel {
	var ks []ptrKernel
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, ptrKernel{
			name: "avx2",
			dot: func(a, b []float32) float32 {
				return dotAVX2(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
			},
			l2sq: func(a, b []float32) float32 {
				return l2sqAVX2(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
			},
			dotPtrs: func(q []float32, rows []*float32, out []float32) {
				dotPtrsAVX2(unsafe.SliceData(q), unsafe.SliceData(rows), unsafe.SliceData(out), len(q), len(out))
			},
			l2sqPtrs: func(q []float32, rows []*float32, out []float32) {
				l2sqPtrsAVX2(unsafe.SliceData(q), unsafe.SliceData(rows), unsafe.SliceData(out), len(q), len(out))
			},
		})
	}
	if cpu.X86.HasAVX512F {
		ks = append(ks, ptrKernel{
			name: "avx512",
			dot: func(a, b []float32) float32 {
				return dotAVX512(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
			},
			l2sq: func(a, b []float32) float32 {
				return l2sqAVX512(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
			},
			dotPtrs: func(q []float32, rows []*float32, out []float32) {
				dotPtrsAVX512(unsafe.SliceData(q), unsafe.SliceData(rows), unsafe.SliceData(out), len(q), len(out))
			},
			l2sqPtrs: func(q []float32, rows []*float32, out []float32) {
				l2sqPtrsAVX512(unsafe.SliceData(q), unsafe.SliceData(rows), unsafe.SliceData(out), len(q), len(out))
			},
		})
	}
	return ks
}
