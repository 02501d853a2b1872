//go:build unix

package storage

import "syscall"

// openNonblock makes opening a FIFO return at once instead of waiting for a
// writer; it has no effect on a regular file.
const openNonblock = syscall.O_NONBLOCK
