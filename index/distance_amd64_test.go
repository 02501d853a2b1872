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
			// AVX2 has no gather kernel: the loop over the AVX2 single kernel.
			dotRows: func(q, data []float32, dim int, rows []uint32, out []float32) {
				for i, r := range rows[:len(out)] {
					out[i] = dotAVX2(unsafe.SliceData(q), &data[int(r)*dim], dim)
				}
			},
			l2sqRows: func(q, data []float32, dim int, rows []uint32, out []float32) {
				for i, r := range rows[:len(out)] {
					out[i] = l2sqAVX2(unsafe.SliceData(q), &data[int(r)*dim], dim)
				}
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
			dotRows: func(q, data []float32, dim int, rows []uint32, out []float32) {
				dotGatherAVX512(unsafe.SliceData(q), unsafe.SliceData(data), unsafe.SliceData(rows), unsafe.SliceData(out), dim, len(out))
			},
			l2sqRows: func(q, data []float32, dim int, rows []uint32, out []float32) {
				l2sqGatherAVX512(unsafe.SliceData(q), unsafe.SliceData(data), unsafe.SliceData(rows), unsafe.SliceData(out), dim, len(out))
			},
		})
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
			l2sq: func(a, b []int8) int32 {
				return l2sqInt8AVX2(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
			},
		})
	}
	if cpu.X86.HasAVX512BW {
		ks = append(ks, int8KernelSet{
			name: "avx512",
			dot: func(a, b []int8) int32 {
				return dotInt8AVX512(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
			},
			l2sq: func(a, b []int8) int32 {
				return l2sqInt8AVX512(unsafe.SliceData(a), unsafe.SliceData(b), len(a))
			},
		})
	}
	return ks
}
