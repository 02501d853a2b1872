package db

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/vecbolt/vecbolt/storage"
)

// BackupTempSuffix names the temporary file that BackupFile and CompactTo
// write before renaming it into place: path + BackupTempSuffix, next to
// the output (the same directory, so that the rename is atomic). A fixed
// name lets the next copy to the same path find what a killed one left
// and replace it, instead of leaving files the size of the database
// behind.
const BackupTempSuffix = ".vecbolt-backup-tmp"

// ErrBackupBusy means another backup or compaction to the same output path
// holds its temporary file (see BackupTempSuffix).
var ErrBackupBusy = errors.New("vecbolt: another backup to the same output is in progress")

// CopyOption configures Backup, BackupFile, CompactTo and CompactFile.
type CopyOption func(*copyOptions)

type copyOptions struct {
	overwrite   bool
	progress    func(done, total int64)
	lockTimeout time.Duration
}

// Overwrite lets BackupFile and CompactTo replace an existing file at the
// output path; without it they refuse with an error wrapping fs.ErrExist.
func Overwrite() CopyOption { return func(o *copyOptions) { o.overwrite = true } }

// WithCopyProgress has fn called, from the calling goroutine, as a copy
// advances: with bytes written and the bytes to write for Backup and
// BackupFile, with keys copied and the keys to copy for a compaction.
func WithCopyProgress(fn func(done, total int64)) CopyOption {
	return func(o *copyOptions) { o.progress = fn }
}

// WithCopyLockTimeout bounds how long CompactFile waits for another
// process to release the file, as WithLockTimeout does for Open: zero
// means 2s, a negative value fails at once if the file is locked.
func WithCopyLockTimeout(d time.Duration) CopyOption {
	return func(o *copyOptions) { o.lockTimeout = d }
}

func copyOpts(opts []CopyOption) copyOptions {
	var o copyOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Backup writes a consistent copy of the database file to w, as of one
// moment: the copy is one read transaction's view of the file (bbolt's
// Tx.WriteTo), so other goroutines may keep writing meanwhile, and the
// copy holds each of their writes entirely or not at all. Writes of
// collections still unsnapshotted are in the copy as documents, which its
// next open indexes. It returns the bytes written. Cancelling ctx stops
// the copy with an error wrapping ctx's error.
//
// The read transaction stays open while w takes the bytes: a write that
// must grow the file (bbolt remaps it) waits until the copy ends, so a
// slow w delays such writes; pages freed meanwhile are reused only after.
func (d *DB) Backup(ctx context.Context, w io.Writer, opts ...CopyOption) (int64, error) {
	leave, err := d.enter()
	if err != nil {
		return 0, err
	}
	defer leave()
	o := copyOpts(opts)
	return d.backup(ctx, w, o.progress)
}

func (d *DB) backup(ctx context.Context, w io.Writer, progress func(done, total int64)) (n int64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("vecbolt: backup: %w", err)
	}
	err = d.store.View(func(tx *storage.Tx) error {
		cw := &copyWriter{ctx: ctx, w: w, total: tx.Size(), progress: progress}
		if progress != nil {
			progress(0, cw.total)
		}
		var err error
		n, err = tx.WriteTo(cw)
		return err
	})
	if err != nil && ctx.Err() != nil {
		return 0, fmt.Errorf("vecbolt: backup: %w", ctx.Err()) // bbolt loses the wrapping
	}
	if err != nil {
		return 0, fmt.Errorf("vecbolt: backup: %w", err)
	}
	return n, nil
}

// copyWriter fails its writes once ctx is done, to stop a long copy, and
// reports progress.
type copyWriter struct {
	ctx      context.Context
	w        io.Writer
	done     int64
	total    int64
	progress func(done, total int64)
}

func (c *copyWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.w.Write(p)
	c.done += int64(n)
	if c.progress != nil {
		c.progress(c.done, c.total)
	}
	return n, err
}

// BackupFile writes a consistent copy of the database file (see Backup) to
// path and returns its size. The copy is written to path +
// BackupTempSuffix, synced, and moved into place with a rename (or, without
// Overwrite, a link that fails if path appeared meanwhile), and the
// directory is synced: path holds either its old content or the whole
// copy, never part of it. An existing path is refused (fs.ErrExist) unless
// Overwrite is given; the database's own path is refused
// (ErrInvalidArgument). Two copies to the same path at once: the second is
// refused with ErrBackupBusy. A cancelled ctx stops the copy and removes
// the temporary file; a killed process leaves it, and the next copy to the
// same path replaces it.
func (d *DB) BackupFile(ctx context.Context, path string, opts ...CopyOption) (int64, error) {
	leave, err := d.enter()
	if err != nil {
		return 0, err
	}
	defer leave()
	o := copyOpts(opts)
	var n int64
	err = d.writeFile(path, o.overwrite, func(f *os.File, move func() error) error {
		var err error
		if n, err = d.backup(ctx, f, o.progress); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		return move()
	})
	if err != nil {
		return 0, fmt.Errorf("vecbolt: backup: %w", err)
	}
	return n, nil
}

// writeFile writes a file at path through a locked temporary file next to
// it: write fills the temporary file, then calls move, which renames (or
// links) it to path and syncs the directory. The database's own path is
// refused.
func (d *DB) writeFile(path string, overwrite bool, write func(f *os.File, move func() error) error) error {
	if path == "" {
		return fmt.Errorf("%w: empty output path", ErrInvalidArgument)
	}
	if sameFile(d.store.Path(), path) {
		return fmt.Errorf("%w: output %s is the database itself", ErrInvalidArgument, path)
	}
	return writeVia(path, overwrite, write)
}

// writeVia is writeFile without the check against the database's path.
func writeVia(path string, overwrite bool, write func(f *os.File, move func() error) error) (err error) {
	if !overwrite {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%s: %w", path, fs.ErrExist)
		}
	}
	tmp, err := openCopyTmp(path + BackupTempSuffix)
	if err != nil {
		return err
	}
	// Closing releases the lock, after the rename (or the removal on
	// failure), so no other copy can take the file in between.
	defer tmp.Close()
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	return write(tmp, func() error { return moveIntoPlace(tmp, path, overwrite) })
}

// moveIntoPlace renames (overwrite) or links tmp to path, then syncs the
// directory, which makes the rename durable.
func moveIntoPlace(tmp *os.File, path string, overwrite bool) error {
	if !renameOpenFile {
		if err := tmp.Close(); err != nil {
			return err
		}
	}
	var err error
	if overwrite {
		err = os.Rename(tmp.Name(), path)
	} else {
		// Link fails if path appeared meanwhile, so a concurrent file is
		// never replaced without Overwrite.
		if err = os.Link(tmp.Name(), path); err == nil {
			err = os.Remove(tmp.Name())
		} else if errors.Is(err, fs.ErrExist) {
			err = fmt.Errorf("%s: %w", path, fs.ErrExist)
		}
	}
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	dh, err := os.Open(dir)
	if err != nil {
		return nil // not every platform opens directories
	}
	defer dh.Close()
	if err := dh.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// openCopyTmp opens the temporary file at path, locked against another
// copy to the same output, and empties it: whatever is there was left by a
// copy that was killed (a running one holds the lock).
//
// The lock is taken on the open file, and the path is then checked to
// still name that file: a copy that finishes renames its file to the output
// and only then releases the lock, so a file locked after that is the
// output itself and must not be emptied; it is opened again.
func openCopyTmp(path string) (*os.File, error) {
	for range 10 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|openNoFollow, 0o600)
		if err != nil {
			return nil, err
		}
		if err := lockFile(f); err != nil {
			f.Close()
			if errors.Is(err, ErrBackupBusy) {
				return nil, fmt.Errorf("%w (%s is locked)", ErrBackupBusy, path)
			}
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		held, err1 := f.Stat()
		now, err2 := os.Lstat(path)
		if err := errors.Join(err1, err2); err == nil && os.SameFile(held, now) {
			if !held.Mode().IsRegular() {
				f.Close()
				return nil, fmt.Errorf("%s is not a regular file; remove it", path)
			}
			if err := f.Truncate(0); err != nil {
				f.Close()
				return nil, err
			}
			return f, nil
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			f.Close()
			return nil, err
		}
		f.Close()
	}
	return nil, fmt.Errorf("%w (%s keeps changing)", ErrBackupBusy, path)
}
