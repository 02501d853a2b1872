package db

import (
	"context"
	"fmt"

	"github.com/vecbolt/vecbolt/storage"
)

// RecoveryEvent tells a WithRecoveryLog function about a collection whose
// index is rebuilt from its documents while it loads, because the index
// snapshot stored in the file (a cache of the documents) could not be used.
// The documents themselves were read and checked: damage to them fails the
// load with ErrCorrupt instead.
type RecoveryEvent struct {
	// Collection is the collection's name.
	Collection string
	// Reason says why the snapshot or its list of pending writes could not
	// be used; it wraps ErrCorrupt when they were damaged.
	Reason error
	// Done of Total documents are in the rebuilt index so far.
	Done, Total int
	// Finished marks the last event of a rebuild. SaveErr then says why no
	// fresh snapshot could be written, on a writable handle; it is nil
	// when one was written or the handle is read-only (which rebuilds in
	// memory only).
	Finished bool
	SaveErr  error
}

// WithRecoveryLog sets a function told when loading a collection finds its
// index snapshot damaged (or otherwise unusable) and rebuilds the index from
// the documents instead: once when the rebuild starts (Done 0), as it
// proceeds, and once when it is Finished. The collection then works as
// usual, and its CollectionInfo.IndexRebuilt says what happened. The
// function runs on the goroutine that loads the collection, with the
// collection not yet usable; it must not call the DB.
func WithRecoveryLog(fn func(RecoveryEvent)) Option {
	return func(o *options) { o.recovery = fn }
}

// Reindex rebuilds the named collection's vector index from its documents
// and stores a fresh snapshot of it, and rebuilds its keyword index (if it
// has one) from the documents' texts. Use it when an index snapshot was
// found damaged (see WithRecoveryLog and `vecbolt check`), or to rebuild the
// graph from scratch.
//
// The documents are read and checked as when the collection loads without
// a snapshot: damaged documents or IDs stop it with ErrCorrupt. Writes to
// the collection wait while it runs; searches keep using the current index
// until the new one is stored. An error or a cancelled ctx leaves the
// collection as it was. progress, if not nil, is called as documents are
// added to the new index. Like Collection, it returns ErrModelMismatch for a
// collection of another model than the DB's embedder; open the database
// WithEmbedder(nil) to reindex without any model.
func (d *DB) Reindex(ctx context.Context, name string, progress func(done, total int)) error {
	if d.store.ReadOnly() {
		return ErrReadOnly
	}
	// The one registered handle, so that its writers wait for this. It is
	// taken before entering: Collection enters too, and a second read lock
	// of d.mu would deadlock with a Close waiting in between.
	c, err := d.Collection(ctx, name)
	if err != nil {
		return fmt.Errorf("vecbolt: reindex %q: %w", name, err)
	}
	leave, err := d.enterWrite()
	if err != nil {
		return err
	}
	defer leave()
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.dropped.Load() {
		return fmt.Errorf("vecbolt: reindex %q: %w: it was deleted", name, ErrCollectionNotFound)
	}
	if cur := c.st.Load(); cur.ft != nil {
		// The keyword index is rebuilt from the documents too, in one
		// transaction of its own: it is the repair of a keyword index
		// that Check found damaged or out of step.
		err := d.store.Update(func(tx *storage.Tx) error {
			ct, err := tx.Collection(name)
			if err != nil {
				return err
			}
			return buildFullText(ctx, ct, *cur.ft, nil)
		})
		if err != nil {
			return fmt.Errorf("vecbolt: reindex %q: keyword index: %w", name, err)
		}
	}
	if cur := c.st.Load(); cur.rebuilt != nil && cur.pending == 0 {
		// Loading the collection (perhaps just now, in Collection above)
		// found its snapshot unusable, rebuilt the index from the
		// documents and stored a fresh snapshot, and nothing was written
		// since: that is what Reindex would do again.
		if progress != nil {
			n := cur.idx.Len()
			progress(n, n)
		}
		return nil
	}
	var st *colState
	var labels []uint64
	var vecs [][]float32
	err = d.store.View(func(tx *storage.Tx) error {
		c, err := tx.Collection(name)
		if err != nil {
			return err
		}
		cfg, err := c.Config()
		if err != nil {
			return err
		}
		if st, err = d.newState(cfg); err != nil {
			return err
		}
		if labels, vecs, err = st.readDocuments(ctx, c); err != nil {
			return err
		}
		return st.initFields(c)
	})
	if err != nil {
		return fmt.Errorf("vecbolt: reindex %q: %w", name, err)
	}
	if progress != nil {
		progress(0, len(labels))
	}
	if err := addAllProgress(ctx, st.idx, labels, vecs, progress); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("vecbolt: reindex %q: %w: %v", name, ErrCorrupt, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	kind := st.cfg.Index.GetKind()
	_, canSnapshot := st.idx.(snapshotter)
	err = d.store.Update(func(tx *storage.Tx) error {
		ctx, err := tx.Collection(name)
		if err != nil {
			return err
		}
		// A flat index has no snapshot form: an empty one clears a
		// damaged snapshot and the pending list.
		return putSnapshot(ctx, kind, st.idx)
	})
	if err != nil {
		return fmt.Errorf("vecbolt: reindex %q: %w", name, err)
	}
	st.hasSnapshot = canSnapshot
	c.st.Store(st)
	return nil
}
