//go:build linux

package index

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePage is the size of an x86-64 (and arm64 4K-granule) transparent
// huge page.
const hugePage = 2 << 20

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
