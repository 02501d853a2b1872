//go:build unix

package storage

import (
	"os"
	"syscall"
)

// renameOpenFile says an open file can be renamed (and its copy published
// while bbolt still holds it).
const renameOpenFile = true

// dupFile returns a second descriptor for f's open file description, so
// that bbolt's flock on it is the lock the caller already holds rather than
// a second one that would wait for it.
func dupFile(f *os.File) (*os.File, error) {
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		return nil, err
	}
	syscall.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), f.Name()), nil
}
