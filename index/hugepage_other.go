//go:build !linux

package index

import "unsafe"

// adviseHuge is a no-op where transparent huge pages are not available
// through madvise (see hugepage_linux.go).
func adviseHuge(unsafe.Pointer, uintptr) {}

// mapAnon reports that no memory outside the Go heap is available: every
// segment is then allocated on the heap (arena.go), as before the arena.
// The Linux build maps anonymous memory (hugepage_linux.go).
func mapAnon(uintptr, bool) (unsafe.Pointer, bool) { return nil, false }

// adviseBlock is never called: mapAnon maps nothing here.
func adviseBlock(unsafe.Pointer, uintptr) {}

// prefault does nothing where the kernel offers no call to map in pages
// ahead of use: they fault in as they are written.
func prefault(unsafe.Pointer, uintptr) bool { return false }

// unmapAnon is never called: mapAnon maps nothing here.
func unmapAnon(unsafe.Pointer, uintptr) {}
