//go:build !unix

package storage

import "os"

// renameOpenFile is false where an open file cannot be renamed (Windows).
const renameOpenFile = false

// dupFile opens f's file again: where there is no flock, there is no lock
// to share.
func dupFile(f *os.File) (*os.File, error) {
	return os.OpenFile(f.Name(), os.O_RDWR, 0)
}
