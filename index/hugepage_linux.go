//go:build linux

package index

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// adviseHuge asks the kernel to back the memory of a segment with
// transparent huge pages. With THP in "madvise" mode (Debian's default)
// nothing else gets them: a graph of a million 384-dim vectors spans
// 1.5 GB of 4 KiB pages, so nearly every vector a search scores costs a
// TLB miss and a page walk on top of its cache misses.
//
// The range is widened to whole huge pages. Segments are allocated one
// after another, so the widened ranges cover the neighbouring segments
// (and whatever else the Go heap put there, which only changes how that
// memory is backed, never its contents). Failure is ignored: the advice is
// an optimization, and kernels without THP refuse it.
func adviseHuge(p unsafe.Pointer, n uintptr) {
	if n < hugePage/2 {
		// Too small to be worth a huge page of resident memory.
		return
	}
	start := uintptr(p) &^ (hugePage - 1)
	end := (uintptr(p) + n + hugePage - 1) &^ (hugePage - 1)
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_HUGEPAGE)
}

// mapAnon maps n bytes (a multiple of hugePage) of zeroed private memory
// aligned to a huge page, advised for huge pages (see adviseHuge) when
// advise is set, for a segment arena (arena.go). The alignment lets the kernel back the whole
// block with huge pages: it maps n + hugePage and unmaps the unaligned
// ends.
func mapAnon(n uintptr, advise bool) (unsafe.Pointer, bool) {
	p, err := unix.MmapPtr(-1, 0, nil, n+hugePage, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, false
	}
	head := (hugePage - uintptr(p)&(hugePage-1)) & (hugePage - 1)
	if head > 0 {
		_ = unix.MunmapPtr(p, head)
	}
	if tail := hugePage - head; tail > 0 {
		_ = unix.MunmapPtr(unsafe.Add(p, head+n), tail)
	}
	p = unsafe.Add(p, head)
	if advise {
		adviseBlock(p, n)
	}
	return p, true
}

// adviseBlock advises a block mapAnon returned for huge pages; for a
// block already touched, khugepaged collapses its pages later.
func adviseBlock(p unsafe.Pointer, n uintptr) {
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, uintptr(p), n, unix.MADV_HUGEPAGE)
}

// prefault maps in the n bytes at p (p page-aligned; n is rounded up to
// whole pages) for writing, in one call (MADV_POPULATE_WRITE, Linux 5.14
// and later), where writing them page by page takes a page fault each. It
// reports whether the kernel did so; an older kernel refuses the advice
// (as does an unaligned p), and the memory then faults in as it is
// written, as without the call. Memory already present keeps its contents.
func prefault(p unsafe.Pointer, n uintptr) bool {
	ps := uintptr(unix.Getpagesize())
	n = (n + ps - 1) &^ (ps - 1)
	_, _, errno := unix.Syscall(unix.SYS_MADVISE, uintptr(p), n, unix.MADV_POPULATE_WRITE)
	return errno == 0
}

// unmapAnon unmaps a block mapAnon returned.
func unmapAnon(p unsafe.Pointer, n uintptr) {
	// munmap of a range this process mapped only fails for a bad range,
	// which would be a bug here; the memory is then leaked, not reused.
	_ = unix.MunmapPtr(p, n)
}
