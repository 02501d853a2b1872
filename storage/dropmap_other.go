//go:build !linux

package storage

// dropMapped does nothing outside Linux: MADV_DONTNEED does not drop a
// shared file mapping's pages everywhere (on Darwin it is a hint the
// kernel may ignore), and a process's resident file pages are only
// measured on Linux here.
func dropMapped(uintptr, int64) {}
