package index

import "unsafe"

// visitedSet marks graph nodes seen during one search: one bit per slot,
// and a list of the words a search set, so that the next search clears
// only those.
//
// Why bits: a walk checks every neighbour of every node it expands, at
// random slots. A 16-bit generation mark per slot (the previous layout, as
// in hnswlib) is 2 MB at a million slots, past the L2 cache; in the CPU
// profile of inserting text documents the check was 9.5% of the step
// ending at 950k documents against 3% at 100k (BENCHMARKS.md, "1M text
// documents, quiet", run 1). The bitmap is 128 KB at a million slots.
//
// Invariant: outside a search, words[w] != 0 only for w in touched[:nt];
// reset restores all-zero by clearing those words (or the whole bitmap,
// when the search touched a large part of it: one clear is cheaper than
// scattered stores then).
type visitedSet struct {
	words   []uint64
	touched []uint32 // cap = len(words): each word enters at most once
	nt      int
}

// reset starts a new search over a graph of n slots.
func (v *visitedSet) reset(n int) {
	need := (n + 63) >> 6
	if len(v.words) < need {
		// Headroom so a growing graph does not reallocate on every search.
		w := need + need/4 + 16
		v.words = make([]uint64, w)
		v.touched = make([]uint32, w)
		v.nt = 0
		// Read at random like the vectors (hugepage_linux.go); large
		// enough to matter from about 8M slots.
		adviseHuge(unsafe.Pointer(&v.words[0]), uintptr(len(v.words))*8)
		return
	}
	if v.nt > len(v.words)/8 {
		clear(v.words)
	} else {
		for _, w := range v.touched[:v.nt] {
			v.words[w] = 0
		}
	}
	v.nt = 0
}

// visit marks i and reports whether it was unvisited before.
func (v *visitedSet) visit(i uint32) bool {
	w, bit := i>>6, uint64(1)<<(i&63)
	x := v.words[w]
	if x&bit != 0 {
		return false
	}
	if x == 0 {
		v.touched[v.nt] = w
		v.nt++
	}
	v.words[w] = x | bit
	return true
}
