package db

import (
	"context"
	"fmt"

	"github.com/vecbolt/vecbolt/storage"
)

// Reembed rebuilds every vector of the named collection with the DB's
// embedder and records that model as the collection's own. Use it to move a
// collection to a new model: open the database WithEmbedder(newModel), call
// Reembed, then use the collection as usual.
//
// Every document is re-embedded from its Text, including documents that
// were stored with a caller-supplied Vector; a document without text stops
// the operation with an error naming it. A collection of caller-supplied
// vectors (created WithDimension) becomes one of the model's, with the
// model's dimension: its vectors are replaced. Nothing is written until all
// vectors are computed, and then everything is written in one transaction:
// an error or a cancelled ctx leaves the collection as it was.
//
// Writes to the collection wait while it runs, whether or not this DB had
// loaded it: a handle that DB.Collection returns meanwhile is the one
// Reembed locks. A write that committed before Reembed began is re-embedded
// with the rest; one that was prepared for the old model and waited is
// refused with ErrModelMismatch, writing nothing, and can be retried.
// Searches keep using the old vectors until it commits (on a collection
// loaded with a different model there are none: DB.Collection returns
// ErrModelMismatch until then). progress, if not nil, is called after each
// embedded batch.
func (d *DB) Reembed(ctx context.Context, name string, progress func(done, total int)) error {
	leave, err := d.enterWrite()
	if err != nil {
		return err
	}
	defer leave()
	emb, err := d.Embedder()
	if err != nil {
		return fmt.Errorf("vecbolt: re-embed %q: %w", name, err)
	}
	d.colMu.Lock()
	c := d.cols[name]
	if c == nil {
		// Not loaded (perhaps because its model differs). The handle is
		// registered before its write lock is taken, with no state yet, so
		// that d.Collection meanwhile returns this same handle (loading
		// the old state into it) and its writes queue behind the
		// re-embedding. A handle of its own would let them commit during
		// it, to be overwritten by its final write of every document.
		c = &Collection{db: d, name: name}
		d.cols[name] = c
		defer func() {
			// Runs after writeMu is released (lock order: writeMu before
			// colMu). A handle that never got a state is dropped, so that
			// none without one outlives the call.
			d.colMu.Lock()
			if d.cols[name] == c && c.st.Load() == nil {
				delete(d.cols, name)
			}
			d.colMu.Unlock()
		}()
	}
	d.colMu.Unlock()
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.dropped.Load() {
		return fmt.Errorf("%w: %q was deleted", ErrCollectionNotFound, name)
	}

	type item struct {
		label uint64
		rec   *storage.DocumentRecord
	}
	var items []item
	var cfg *storage.CollectionConfig
	var fields fieldRecord
	err = d.store.View(func(tx *storage.Tx) error {
		ctx, err := tx.Collection(name)
		if err != nil {
			return err
		}
		if cfg, err = ctx.Config(); err != nil {
			return err
		}
		if cfg.Chunking != nil {
			// Its passages hold no text of their own, and a new model may
			// count tokens differently: the documents must be split anew.
			return fmt.Errorf("%w: collection %q is chunked; re-embedding it is not supported yet: export it, create it anew with the new model, and import it", ErrInvalidArgument, name)
		}
		if fields, err = readFieldRecord(ctx); err != nil {
			return err
		}
		// Texts only: every vector is replaced, so a damaged one does not
		// stop the re-embedding (which repairs it), and the old vectors
		// are not held meanwhile (1.5 GB at a million 384-dim ones).
		return ctx.EachDocument(func(label uint64, r *storage.DocumentRecord, _ error) error {
			if isBlank(r.Text) {
				return fmt.Errorf("%w: document %q has no text to re-embed", ErrInvalidDocument, r.Id)
			}
			r.Vector = nil
			items = append(items, item{label, r})
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("vecbolt: re-embed %q: %w", name, err)
	}
	id := emb.Identity()
	newCfg := &storage.CollectionConfig{
		Name: cfg.Name, Dimension: uint32(id.Dim), Metric: cfg.Metric, Index: cfg.Index,
		FormatVersion: collectionFormat, CreatedUnix: cfg.CreatedUnix,
		// The texts stay as they are, and so does their keyword index.
		FullText: cfg.FullText,
		Model:    &storage.ModelIdentity{Name: id.Name, Hash: id.Hash, Dimension: uint32(id.Dim), Pooling: id.Pooling},
	}
	if cfg.GetVectors().GetPrecision() == storage.PrecisionFloat16 {
		// The precision stays; PutConfig makes the layout for the new
		// dimension.
		newCfg.Vectors = &storage.VectorStore{Precision: storage.PrecisionFloat16}
	}
	st, err := d.newState(newCfg)
	if err != nil {
		return err
	}
	batch := make([]prepared, len(items))
	docs := make([]Document, len(items))
	for i, it := range items {
		batch[i] = prepared{rec: it.rec, embed: true}
		docs[i] = Document{ID: it.rec.Id}
	}
	size := d.opts.embedBatch
	for start := 0; start < len(batch); start += size {
		end := min(start+size, len(batch))
		bad, err := c.embed(ctx, st, docs[start:end], batch[start:end])
		if err != nil {
			return fmt.Errorf("vecbolt: re-embed %q: %w", name, err)
		}
		if len(bad) > 0 {
			for _, de := range bad {
				de.Index += start
			}
			return fmt.Errorf("vecbolt: re-embed %q: %w", name, newBatchError(name, len(batch), bad))
		}
		if progress != nil {
			progress(end, len(batch))
		}
	}
	labels := make([]uint64, len(items))
	vecs := make([][]float32, len(items))
	for i, it := range items {
		md, err := metadataFromRecord(it.rec.Metadata)
		if err != nil {
			return fmt.Errorf("vecbolt: re-embed %q: %w: document %q: %v", name, ErrCorrupt, it.rec.Id, err)
		}
		labels[i], vecs[i] = it.label, batch[i].rec.Vector
		st.live[it.label] = liveDoc{id: it.rec.Id, md: md}
	}
	st.mergeFields(fields)
	if err := addAll(st.idx, labels, vecs); err != nil {
		return fmt.Errorf("vecbolt: re-embed %q: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err = d.store.Update(func(tx *storage.Tx) error {
		ctx, err := tx.Collection(name)
		if err != nil {
			return err
		}
		if err := ctx.PutConfig(newCfg); err != nil {
			return err
		}
		for _, it := range items {
			if err := ctx.PutDocument(it.label, it.rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("vecbolt: re-embed %q: %w", name, err)
	}
	st.pending = len(items)
	d.colMu.Lock()
	c.st.Store(st)
	d.cols[name] = c
	d.colMu.Unlock()
	// The new vectors are durable already; a failed snapshot only costs
	// time on the next open and is retried by the next write.
	_ = c.checkpointLocked(true)
	return nil
}
