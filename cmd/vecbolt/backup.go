package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/storage"
)

func backupCommand() *command {
	return &command{
		name:    "backup",
		args:    "--db FILE [--force] OUT",
		summary: "write a consistent copy of a database file",
		help: `Copies the database to OUT as of one moment (bbolt's hot backup inside a
read transaction), so the copy is consistent even if writes happen in the
meantime. The copy is written to OUT.vecbolt-backup-tmp next to OUT, synced,
and renamed into place; an existing OUT is refused unless --force is given.
A backup that was killed leaves that temporary file behind; the next backup
to the same OUT replaces it (or delete it by hand). Two backups to the same
OUT at once are refused.

Flags:
  --db FILE            database file
  --force              replace an existing OUT
  --lock-timeout D     wait this long for another process to release the file (default 2s)
`,
		run: runBackup,
	}
}

func runBackup(e *env, args []string) (err error) {
	fs := newFlagSet("backup")
	var f dbFlags
	var force bool
	f.register(fs, false)
	fs.BoolVar(&force, "force", false, "replace an existing OUT")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("backup takes exactly one OUT argument, got %d", len(pos))
	}
	out := pos[0]
	if f.path != "" && sameFile(f.path, out) {
		return usagef("OUT %s is the database itself", out)
	}
	if !force {
		if _, err := os.Lstat(out); err == nil {
			return fmt.Errorf("%s exists; use --force to replace it", out)
		}
	}
	d, done, err := e.open(&f, readDocs)
	if err != nil {
		return err
	}
	defer done(&err)
	n, err := backup(e.ctx, d, out, force)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote %s (%s)\n", out, humanBytes(n))
	return nil
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// backupTmpSuffix names the temporary file of a backup to OUT: a fixed
// name next to OUT (the same directory, so that the rename into place is
// atomic), so that the next backup to OUT finds what a killed one left and
// replaces it instead of leaving files the size of the database behind.
const backupTmpSuffix = ".vecbolt-backup-tmp"

// errBackupBusy means another backup to the same OUT holds its temporary
// file.
var errBackupBusy = errors.New("another backup to the same output is in progress")

// backup writes a consistent copy of d to out and returns its size. It is
// safe while other goroutines write to d: the copy is one read
// transaction's view of the file. A cancelled ctx stops the copy (and
// removes the temporary file).
func backup(ctx context.Context, d *db.DB, out string, force bool) (n int64, err error) {
	dir := filepath.Dir(out)
	tmp, err := openBackupTmp(out + backupTmpSuffix)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	// Closing releases the lock, after the rename (or the removal on
	// failure), so no other backup can take the file in between.
	defer tmp.Close()
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	err = d.Storage().View(func(tx *storage.Tx) error {
		var err error
		n, err = tx.WriteTo(ctxWriter{ctx, tmp})
		return err
	})
	if err != nil && ctx.Err() != nil {
		return 0, fmt.Errorf("backup: %w", ctx.Err()) // bbolt loses the wrapping
	}
	if err != nil {
		return 0, fmt.Errorf("backup: writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	if !renameOpenFile {
		if err := tmp.Close(); err != nil {
			return 0, fmt.Errorf("backup: %w", err)
		}
	}
	if force {
		err = os.Rename(tmp.Name(), out)
	} else {
		// Link fails if out appeared meanwhile, so a concurrent file is
		// never replaced without --force.
		if err = os.Link(tmp.Name(), out); err == nil {
			err = os.Remove(tmp.Name())
		} else if errors.Is(err, fs.ErrExist) {
			err = fmt.Errorf("%s exists; use --force to replace it", out)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	// The rename is durable only once the directory is synced.
	if dh, err := os.Open(dir); err == nil {
		err = dh.Sync()
		dh.Close()
		if err != nil {
			return 0, fmt.Errorf("backup: syncing %s: %w", dir, err)
		}
	}
	return n, nil
}

// ctxWriter fails its writes once ctx is done, to stop a long copy.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// openBackupTmp opens the temporary file at path, locked against another
// backup to the same output, and empties it: whatever is there was left by
// a backup that was killed (a running one holds the lock).
//
// The lock is taken on the open file, and the path is then checked to
// still name that file: a backup that finishes renames its file to OUT
// and only then releases the lock, so a file locked after that is OUT
// itself and must not be emptied; it is opened again.
func openBackupTmp(path string) (*os.File, error) {
	for range 10 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|openNoFollow, 0o600)
		if err != nil {
			return nil, err
		}
		if err := lockFile(f); err != nil {
			f.Close()
			if errors.Is(err, errBackupBusy) {
				return nil, fmt.Errorf("%w (%s is locked)", errBackupBusy, path)
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
	return nil, fmt.Errorf("%w (%s keeps changing)", errBackupBusy, path)
}
