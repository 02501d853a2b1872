package storage

import (
	"context"
	"errors"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

// compactTxBytes bounds the key and value bytes one transaction of a
// compaction writes: bbolt holds a transaction's dirty pages in memory
// until it commits.
const compactTxBytes = 64 << 20

// CompactTo writes a compact copy of the file into f, an empty file that
// the caller has opened (and locked) and keeps open: every bucket, with
// its sequence, and every key and value of one read transaction's view,
// written into fresh pages filled to the brim. bbolt reuses freed pages but
// never gives them back to the file system, so a file that once held more
// keeps its size; the copy has only the pages its data needs.
//
// progress, if not nil, is called with the keys copied so far and the
// total, from the calling goroutine. Cancelling ctx stops the copy with
// ctx's error.
//
// Once the copy is complete and synced, publish is called with the copy
// open as a read-only Store (on f's path), so that the caller can check
// it and rename it into place while the copy is still open: bbolt shares
// f's lock (it opens a duplicate of f's descriptor where the platform has
// them) and releases it when it closes the copy, after publish returns.
//
// A store that has met damage to the file's page structure refuses with
// ErrCorrupt: bbolt would read the damaged pages to copy them.
func (s *Store) CompactTo(ctx context.Context, f *os.File, progress func(done, total int64), publish func(copy *Store) error) (err error) {
	if err := s.damage.Load(); err != nil {
		return fmt.Errorf("%w: not compacting a file whose page structure is damaged (%v); run vecbolt check", ErrCorrupt, *err)
	}
	dst, err := bolt.Open(f.Name(), 0o600, &bolt.Options{
		// Each transaction's commit need not be durable: the copy is
		// synced once, before publish, and nobody sees it before.
		NoSync:       true,
		FreelistType: bolt.FreelistMapType,
		OpenFile:     func(string, int, os.FileMode) (*os.File, error) { return dupFile(f) },
	})
	if err != nil {
		return fmt.Errorf("storage: compact: opening the copy %s: %w", f.Name(), err)
	}
	closed := false
	defer func() {
		if !closed {
			err = errors.Join(err, dst.Close())
		}
	}()
	err = s.View(func(tx *Tx) error {
		return copyBuckets(ctx, tx.tx, dst, progress)
	})
	if err != nil {
		return fmt.Errorf("storage: compact: %w", err)
	}
	// bbolt grows a file in steps of up to 16 MiB (its AllocSize); the
	// pages past the last one in use hold nothing, and a compact copy
	// should not keep them. Nothing reads past that page.
	var used int64
	if err := dst.View(func(tx *bolt.Tx) error { used = tx.Size(); return nil }); err != nil {
		return fmt.Errorf("storage: compact: %w", err)
	}
	if err := f.Truncate(used); err != nil {
		return fmt.Errorf("storage: compact: trimming the copy: %w", err)
	}
	if err := dst.Sync(); err != nil {
		return fmt.Errorf("storage: compact: syncing the copy: %w", err)
	}
	cp := &Store{db: dst, path: f.Name(), readOnly: true}
	if !renameOpenFile {
		// Where an open file cannot be renamed, the copy is closed and
		// reopened read-only for publish; such platforms have no lock.
		closed = true
		if err := dst.Close(); err != nil {
			return fmt.Errorf("storage: compact: %w", err)
		}
		if cp, err = Open(f.Name(), Options{ReadOnly: true}); err != nil {
			return fmt.Errorf("storage: compact: reopening the copy: %w", err)
		}
		defer cp.Close()
	}
	return publish(cp)
}

// copyBuckets copies every bucket of src, recursively, into dst, committing
// every compactTxBytes.
func copyBuckets(ctx context.Context, src *bolt.Tx, dst *bolt.DB, progress func(done, total int64)) (err error) {
	var total, done int64
	if progress != nil {
		// Stats counts the keys of a bucket and all its sub-buckets.
		err := src.ForEach(func(_ []byte, b *bolt.Bucket) error {
			total += int64(b.Stats().KeyN)
			return nil
		})
		if err != nil {
			return err
		}
		progress(0, total)
	}
	tx, err := dst.Begin(true)
	if err != nil {
		return err
	}
	defer func() {
		if tx != nil {
			_ = tx.Rollback()
		}
	}()
	var size int64
	// path is the names of the buckets from the root to the one being
	// copied; the destination bucket is looked up again after each commit.
	var copyBucket func(path [][]byte, b *bolt.Bucket) error
	copyBucket = func(path [][]byte, b *bolt.Bucket) error {
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			if size > compactTxBytes {
				if err := tx.Commit(); err != nil {
					tx = nil
					return err
				}
				if tx, err = dst.Begin(true); err != nil {
					return err
				}
				size = 0
			}
			size += int64(len(k) + len(v))
			parent := tx.Bucket(path[0])
			for _, name := range path[1:] {
				parent = parent.Bucket(name)
			}
			// Pages filled to the brim: the copy's keys arrive in order.
			parent.FillPercent = 1
			done++
			if progress != nil && done%1024 == 0 {
				progress(done, total)
			}
			// A nil value marks a sub-bucket (an empty value reads as an
			// empty, non-nil slice, but Bucket tells them apart for sure).
			if sub := b.Bucket(k); v == nil && sub != nil {
				nb, err := parent.CreateBucket(k)
				if err != nil {
					return fmt.Errorf("bucket %q: %w", k, err)
				}
				if err := nb.SetSequence(sub.Sequence()); err != nil {
					return err
				}
				if err := copyBucket(append(path[:len(path):len(path)], k), sub); err != nil {
					return err
				}
				continue
			}
			if err := parent.Put(k, v); err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
		}
		return nil
	}
	err = src.ForEach(func(name []byte, b *bolt.Bucket) error {
		// Stats counts a bucket's keys, sub-buckets included, but not
		// the bucket's own key in its parent: neither does done here.
		nb, err := tx.CreateBucket(name)
		if err != nil {
			return err
		}
		if err := nb.SetSequence(b.Sequence()); err != nil {
			return err
		}
		return copyBucket([][]byte{name}, b)
	})
	if err != nil {
		return err
	}
	err = tx.Commit()
	tx = nil
	if err == nil && progress != nil {
		progress(done, total)
	}
	return err
}
