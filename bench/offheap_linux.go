//go:build linux

package main

import (
	"golang.org/x/sys/unix"
	"unsafe"
)

// moveOffHeap copies rows into one anonymous mapping and points them at
// it, so that the data set stops counting in the Go heap's live size. The
// db suite does this before it inserts: a data set on the heap makes the
// collector keep as much garbage again (GOGC 100), which a program that
// streams its documents from elsewhere does not pay, and which would be
// counted as the database's peak. The mapping lives as long as the
// process. It reports whether the rows moved.
func moveOffHeap(rows [][]float32) bool {
	total := 0
	for _, r := range rows {
		total += len(r)
	}
	if total == 0 {
		return false
	}
	mem, err := unix.Mmap(-1, 0, total*4, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return false
	}
	all := unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(mem))), total)
	for i, r := range rows {
		n := copy(all, r)
		rows[i], all = all[:n:n], all[n:]
	}
	return true
}
