package db

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"

	"github.com/vecbolt/vecbolt/storage"
)

// CompactStats reports a compaction.
type CompactStats struct {
	// Before is the size on disk in bytes of the database file, After
	// that of the compact copy.
	Before, After int64
}

// CompactTo writes a compact copy of the database to path and returns the
// sizes before and after. bbolt reuses the pages that deletes free but
// never gives them back to the file system, so a file keeps the largest
// size it ever had (and grows while deletes are spread over its pages);
// the copy holds only the pages its data needs. The copy is a complete
// vecbolt file (header, every collection with its documents, IDs, field
// types and index snapshot, and the sequences that keep labels from being
// reused) as of one moment: it is one read transaction's view, so other
// goroutines may keep writing meanwhile, and the copy holds each of their
// writes entirely or not at all (and, as for Backup, a write that must
// grow the file waits for the copy to end).
//
// The copy is written to path + BackupTempSuffix and moved into place as
// BackupFile does: an existing path is refused (fs.ErrExist) unless
// Overwrite is given; cancelling ctx stops the copy and removes the
// temporary file. WithCopyProgress reports keys copied.
//
// A handle that has met damage to the file's page structure refuses with
// ErrCorrupt: restore from a backup, or run Check first.
func (d *DB) CompactTo(ctx context.Context, path string, opts ...CopyOption) (CompactStats, error) {
	leave, err := d.enter()
	if err != nil {
		return CompactStats{}, err
	}
	defer leave()
	o := copyOpts(opts)
	var st CompactStats
	err = d.writeFile(path, o.overwrite, func(f *os.File, move func() error) error {
		return d.compact(ctx, f, o.progress, &st, func(*storage.Store) error { return move() })
	})
	if err != nil {
		return CompactStats{}, fmt.Errorf("vecbolt: compact to %s: %w", path, err)
	}
	return st, nil
}

// compact copies the file into f, records the sizes in st, and calls
// publish with the copy open.
func (d *DB) compact(ctx context.Context, f *os.File, progress func(done, total int64), st *CompactStats, publish func(copy *storage.Store) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Sizes on disk, which is what compaction is for (bbolt's own size
	// stops at the last page in use).
	src, err := os.Stat(d.store.Path())
	if err != nil {
		return err
	}
	before := src.Size()
	return d.store.CompactTo(ctx, f, progress, func(cp *storage.Store) error {
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		after := fi.Size()
		*st = CompactStats{Before: before, After: after}
		return publish(cp)
	})
}

// CompactFile compacts the database file at path in place: it opens the
// file for writing, which holds its lock for the whole compaction so that
// nobody writes in between, writes a compact copy next to it (path +
// BackupTempSuffix, see CompactTo), checks the copy (Check finds no
// problem, and it lists the same collections with the same
// configurations, counts and field types as the file), and only then
// renames the copy over path. Until that rename path is untouched: if the
// compaction fails, is cancelled, or the process dies, path holds the
// database as it was (a killed compaction leaves the temporary file,
// which the next one replaces). A symlink at path is followed: the file it
// names is replaced. WithCopyProgress reports keys copied;
// WithCopyLockTimeout bounds the wait for the lock.
func CompactFile(ctx context.Context, path string, opts ...CopyOption) (st CompactStats, err error) {
	o := copyOpts(opts)
	// The copy replaces the file itself, not a symlink to it.
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return CompactStats{}, fmt.Errorf("vecbolt: compact %s: %w", path, err)
	}
	path = real
	d, err := Open(path, WithEmbedder(nil), WithLockTimeout(o.lockTimeout))
	if err != nil {
		return CompactStats{}, err
	}
	// After the rename d holds the old file, which nobody can reach; it
	// has loaded no collection, so closing it writes nothing.
	defer func() {
		if cerr := d.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("vecbolt: compact %s: %w", path, cerr)
		}
	}()
	want, err := d.Collections(ctx)
	if err != nil {
		return CompactStats{}, fmt.Errorf("vecbolt: compact %s: %w", path, err)
	}
	err = writeVia(path, true, func(f *os.File, move func() error) error {
		return d.compact(ctx, f, o.progress, &st, func(cp *storage.Store) error {
			if err := verifyCopy(ctx, cp, d.opts, want); err != nil {
				return err
			}
			return move()
		})
	})
	if err != nil {
		return CompactStats{}, fmt.Errorf("vecbolt: compact %s: %w", path, err)
	}
	return st, nil
}

// verifyCopy checks a compact copy, read-only, before it replaces the
// file: Check finds nothing wrong, and its collections are want.
func verifyCopy(ctx context.Context, cp *storage.Store, opts options, want []CollectionInfo) error {
	v := &DB{store: cp, opts: opts, cols: make(map[string]*Collection)}
	got, err := v.Collections(ctx)
	if err != nil {
		return fmt.Errorf("checking the copy: %w", err)
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("%w: the copy's collections differ from the file's: %+v, want %+v", ErrCorrupt, got, want)
	}
	rep, err := v.Check(ctx)
	if err != nil {
		return fmt.Errorf("checking the copy: %w", err)
	}
	// Mixed field types are not damage: the file had them too.
	for _, p := range rep.Problems {
		if p.Kind != ProblemFieldTypes {
			return fmt.Errorf("%w: the copy fails its check (%d problems; first: %s)", ErrCorrupt, len(rep.Problems), p.Message)
		}
	}
	return nil
}
