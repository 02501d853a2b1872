//go:build unix

package db

import (
	"errors"
	"os"
	"syscall"
)

// renameOpenFile says the temporary file can be renamed while open, so the
// lock is held until the copy is in place.
const renameOpenFile = true

// openNoFollow keeps a symlink planted at a copy's temporary path from
// making the copy empty the file it points to.
const openNoFollow = syscall.O_NOFOLLOW

// lockFile takes an exclusive lock on f without waiting; it returns
// ErrBackupBusy if another process (or another open file) holds it. The
// kernel releases the lock when the holder closes the file or dies, which
// is what lets the next copy tell a killed copy's file from a running
// one's.
func lockFile(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return ErrBackupBusy
	}
	return err
}
