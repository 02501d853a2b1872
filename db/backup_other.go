//go:build !unix

package db

import "os"

// renameOpenFile is false where an open file cannot be renamed (Windows):
// the temporary file is closed first.
const renameOpenFile = false

// openNoFollow is 0 where O_NOFOLLOW does not exist.
const openNoFollow = 0

// lockFile does nothing where flock does not exist: two copies to the same
// output at once are then not detected.
func lockFile(*os.File) error { return nil }
