package db

import (
	"context"
	"fmt"

	"github.com/vecbolt/vecbolt/storage"
)

// Similar returns the documents nearest to the stored document id ("more
// like this"), best first, leaving out the document itself. It searches
// with the document's stored vector, so it works on collections of
// caller-supplied vectors and needs no model. The options are Search's:
// filters apply, and the exclusion happens inside the index search, so a
// collection with m matching documents other than id returns min(K, m)
// results. An unknown id is a *NotFoundError (errors.Is ErrNotFound).
func (c *Collection) Similar(ctx context.Context, id string, opts ...SearchOption) ([]Result, error) {
	leave, st, err := c.enter(false)
	if err != nil {
		return nil, err
	}
	defer leave()
	o, err := parseSearchOptions(opts)
	if err != nil {
		return nil, err
	}
	vecs, err := c.storedVectors(ctx, st, []string{id})
	if err != nil {
		return nil, err
	}
	o.exclude = map[string]struct{}{id: {}}
	return c.search(ctx, st, vecs[0], o)
}

// storedVectors reads the vectors of the documents ids, in one read
// transaction. Missing IDs are reported together in a *NotFoundError.
// Each vector is checked against st (dimension, metric), so that a
// vector written by a Reembed to another model after st was loaded is
// refused rather than searched with in the old model's index.
func (c *Collection) storedVectors(ctx context.Context, st *colState, ids []string) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i, id := range ids {
		if id == "" {
			return nil, fmt.Errorf("%w: example %d: empty document ID", ErrInvalidArgument, i)
		}
	}
	vecs := make([][]float32, len(ids))
	var missing []string
	err := c.db.store.View(func(tx *storage.Tx) error {
		ctx, err := tx.Collection(c.name)
		if err != nil {
			return err
		}
		for i, id := range ids {
			label, ok, err := ctx.Label(id)
			if err != nil {
				return err
			}
			if !ok {
				missing = append(missing, id)
				continue
			}
			v, ok, err := ctx.Vector(label, nil)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%w: ID %q maps to label %d, which holds no document", ErrCorrupt, short(id), label)
			}
			vecs[i] = v
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("vecbolt: read from collection %q: %w", c.name, err)
	}
	if len(missing) > 0 {
		return nil, &NotFoundError{Collection: c.name, IDs: missing}
	}
	if cur := c.st.Load(); cur != st && !sameVectors(cur, st) {
		return nil, fmt.Errorf("%w: collection %q was re-embedded with another model during the call; retry", ErrModelMismatch, c.name)
	}
	for i, v := range vecs {
		if err := checkVector(v, int(st.cfg.Dimension), st.metric); err != nil {
			return nil, fmt.Errorf("%w: stored vector of %q: %w", ErrCorrupt, short(ids[i]), err)
		}
	}
	return vecs, nil
}
