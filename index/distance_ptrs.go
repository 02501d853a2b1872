package index

import "unsafe"

// Pointer-list forms of the kernels: out[i] = dot32(q, row i) or
// l2sq32(q, row i), where row i is the dim floats at rows[i]. The graph
// search scores a node's unvisited neighbours with one call: their vectors
// sit in different segments, so they are passed by address. On amd64 the
// kernel overlaps the rows' cache misses (see distance_ptrs_amd64.s); the
// sums are bit-identical to dot32 and l2sq32 on every machine.
//
// The callers take every pointer from a bounds-checked slice of at least
// dim floats (h.vec), which is what makes the unchecked reads safe.

// dotPtrs sets out[i] to the dot product of q and the dim = len(q) floats
// at rows[i], for every i in out.
func dotPtrs(q []float32, rows []*float32, out []float32) {
	rows = rows[:len(out)]
	if len(q) == 0 {
		clear(out)
		return
	}
	dotPtrsArch(q, rows, out)
}

// l2sqPtrs is dotPtrs for squared L2.
func l2sqPtrs(q []float32, rows []*float32, out []float32) {
	rows = rows[:len(out)]
	if len(q) == 0 {
		clear(out)
		return
	}
	l2sqPtrsArch(q, rows, out)
}

func dotPtrsGeneric(q []float32, rows []*float32, out []float32) {
	for i, p := range rows[:len(out)] {
		out[i] = dotArch(q, unsafe.Slice(p, len(q)))
	}
}

func l2sqPtrsGeneric(q []float32, rows []*float32, out []float32) {
	for i, p := range rows[:len(out)] {
		out[i] = l2sqArch(q, unsafe.Slice(p, len(q)))
	}
}
