package index

import "unsafe"

// visitedSet marks graph nodes seen during one search. Instead of clearing
// a bitmap (or allocating a map) per search it bumps a generation number:
// a node is visited when its mark equals the current generation. The array
// is cleared only when the 16-bit generation wraps, once per 65535 searches.
type visitedSet struct {
	marks []uint16
	gen   uint16
}

// reset starts a new search over a graph of n slots.
func (v *visitedSet) reset(n int) {
	if len(v.marks) < n {
		// Headroom so a growing graph does not reallocate on every search.
		v.marks = make([]uint16, n+n/4+1024)
		// Marks are read at random like the vectors (hugepage_linux.go).
		adviseHuge(unsafe.Pointer(&v.marks[0]), uintptr(len(v.marks))*2)
		v.gen = 0
	}
	v.gen++
	if v.gen == 0 {
		clear(v.marks)
		v.gen = 1
	}
}

// visit marks i and reports whether it was unvisited before.
func (v *visitedSet) visit(i uint32) bool {
	if v.marks[i] == v.gen {
		return false
	}
	v.marks[i] = v.gen
	return true
}
