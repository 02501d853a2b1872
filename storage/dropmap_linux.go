package storage

import "golang.org/x/sys/unix"

// dropMapped tells the kernel that this process no longer needs the pages
// of n bytes of the file's mapping at base: they leave its resident set
// (RssFile) and stay in the page cache, so a later read maps them again
// with a minor fault and the same contents. The mapping is read-only and
// shared, so nothing is lost. An error (none is expected for a range
// bbolt mapped) only leaves the pages resident.
//
// The caller must hold bbolt's writer lock, inside a write transaction's
// callback: the mapping is replaced only when a writer commits, so the
// range is the file's mapping and nothing else while it runs.
func dropMapped(base uintptr, n int64) {
	if base == 0 || n <= 0 {
		return
	}
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, base, uintptr(n), unix.MADV_DONTNEED)
}
