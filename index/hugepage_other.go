//go:build !linux

package index

import "unsafe"

// adviseHuge is a no-op where transparent huge pages are not available
// through madvise (see hugepage_linux.go).
func adviseHuge(unsafe.Pointer, uintptr) {}
