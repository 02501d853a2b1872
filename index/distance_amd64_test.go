//go:build amd64 && !purego

package index

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// archKernels lists the assembly kernels this CPU can run, so the tests
// check each of them, not only the one the dispatcher picked.
func archKernels() []kernelSet {
	var ks []kernelSet
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, kernelSet{
			name: "avx2",
			dot: func(a, b []float32) float32 {
				return dotAVX2(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
			},
			l2sq: func(a, b []float32) float32 {
				return l2sqAVX2(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
			},
			dotBatch: func(q, rows []float32, dim int, out []float32) {
				dotBatchAVX2(unsafe.SliceData(q), unsafe.SliceData(rows), unsafe.SliceData(out), dim, len(out))
			},
			l2sqBatch: func(q, rows []float32, dim int, out []float32) {
				l2sqBatchAVX2(unsafe.SliceData(q), unsafe.SliceData(rows), unsafe.SliceData(out), dim, len(out))
			},
		})
	}
	if cpu.X86.HasAVX512F {
		ks = append(ks, kernelSet{
			name: "avx512",
			dot: func(a, b []float32) float32 {
				return dotAVX512(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
			},
			l2sq: func(a, b []float32) float32 {
				return l2sqAVX512(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
			},
			dotBatch: func(q, rows []float32, dim int, out []float32) {
				dotBatchAVX512(unsafe.SliceData(q), unsafe.SliceData(rows), unsafe.SliceData(out), dim, len(out))
			},
			l2sqBatch: func(q, rows []float32, dim int, out []float32) {
				l2sqBatchAVX512(unsafe.SliceData(q), unsafe.SliceData(rows), unsafe.SliceData(out), dim, len(out))
			},
		})
	}
	for i := range ks {
		ks[i].dotRows, ks[i].l2sqRows = rowsVia(ks[i].dot), rowsVia(ks[i].l2sq)
	}
	return ks
}

func archInt8Kernels() []int8KernelSet {
	var ks []int8KernelSet
	if cpu.X86.HasAVX2 {
		ks = append(ks, int8KernelSet{
			name: "avx2",
			dot: func(a, b []int8) int32 {
				return dotInt8AVX2(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
			},
		})
	}
	if cpu.X86.HasAVX512BW {
		ks = append(ks, int8KernelSet{
			name: "avx512",
			dot: func(a, b []int8) int32 {
				return dotInt8AVX512(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
			},
		})
	}
	return ks
}
