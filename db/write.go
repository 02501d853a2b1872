package db

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/vecbolt/vecbolt/storage"
)

// Limits of one document and of one Insert or Upsert call. A document over
// a per-document limit is rejected with ErrInvalidDocument; a call over
// MaxBatchBytes with ErrInvalidArgument, before any embedding.
const (
	// MaxIDBytes bounds a document ID.
	MaxIDBytes = maxIDBytes
	// MaxTextBytes bounds a document's text.
	MaxTextBytes = maxTextBytes
	// MaxMetadataBytes bounds a document's metadata, encoded.
	MaxMetadataBytes = maxMetadataBytes
	// MaxDimension bounds a vector's length.
	MaxDimension = maxDimension
	// MaxBatchBytes bounds the documents of one Insert or Upsert call, as
	// stored: the sum of their encoded records (ID, text, metadata and a
	// vector of 4 bytes per component, given or embedded, plus a few bytes
	// of framing per field). A batch is one transaction, and bbolt holds
	// every record of a transaction in memory until it commits, so this is
	// what bounds a write's memory: beside the caller's documents, its
	// peak is about three times the batch's bytes (the encoded records,
	// bbolt's pages at commit, and the collector's headroom; 0.79 GB
	// measured for 31 documents of 8 MiB), plus the embedder's work on one
	// text at a time. Split larger loads into several calls.
	MaxBatchBytes = 256 << 20
)

// Insert stores new documents and returns their IDs in order (generated
// where a document had none). An ID that exists already is an error
// wrapping ErrDuplicateID that names it. The batch is written in one
// transaction: when Insert returns nil every document is durable, and when
// it returns an error none was written. A batch of more than MaxBatchBytes
// is refused with ErrInvalidArgument.
func (c *Collection) Insert(ctx context.Context, docs ...Document) ([]string, error) {
	return c.write(ctx, docs, false)
}

// Upsert stores documents, replacing those whose IDs exist (text, metadata
// and vector are all replaced). Otherwise it behaves like Insert.
func (c *Collection) Upsert(ctx context.Context, docs ...Document) ([]string, error) {
	return c.write(ctx, docs, true)
}

func (c *Collection) write(ctx context.Context, docs []Document, upsert bool) ([]string, error) {
	leave, st, err := c.enter(true)
	if err != nil {
		return nil, err
	}
	defer leave()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, nil
	}
	batch, err := st.prepare(docs)
	if err != nil {
		return nil, err
	}
	if err := checkBatchBytes(batch, int(st.cfg.Dimension)); err != nil {
		return nil, err
	}
	if err := c.embed(ctx, st, docs, batch); err != nil {
		return nil, err
	}

	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.dropped.Load() {
		return nil, fmt.Errorf("%w: %q was deleted", ErrCollectionNotFound, c.name)
	}
	if cur := c.st.Load(); cur != st {
		// Reembed or Reindex swapped the state while we embedded. Our
		// vectors fit a state of the same model and shape (Reindex, or a
		// same-model Reembed); after a move to another model they are
		// from the old one.
		if !sameVectors(cur, st) {
			return nil, fmt.Errorf("%w: collection %q was re-embedded during the write; retry", ErrModelMismatch, c.name)
		}
		st = cur
	}
	labels := make([]uint64, len(batch))
	var fields fieldUpdate
	err = c.db.store.Update(func(tx *storage.Tx) error {
		ctx, err := tx.Collection(c.name)
		if err != nil {
			return err
		}
		if fields, err = st.recordFields(ctx, batch); err != nil {
			return err
		}
		for i, p := range batch {
			label, exists, err := ctx.Label(p.rec.Id)
			if err != nil {
				return err
			}
			if exists && !upsert {
				return &DocumentError{Index: i, ID: p.rec.Id, Err: fmt.Errorf("%w: %q exists in collection %q (use Upsert to replace it)", ErrDuplicateID, short(p.rec.Id), c.name)}
			}
			if !exists {
				if label, err = ctx.NextLabel(); err != nil {
					return err
				}
			}
			if err := ctx.PutDocument(label, p.rec); err != nil {
				return err
			}
			labels[i] = label
		}
		return nil
	})
	if err != nil {
		if _, ok := err.(*DocumentError); ok {
			return nil, err
		}
		return nil, fmt.Errorf("vecbolt: write to collection %q: %w", c.name, err)
	}

	// Durable from here on. The live set and the index follow the file.
	// The index cannot refuse these vectors (checkNewVector ran its own
	// check); should it fail for another reason, the labels stay pending,
	// no snapshot is written from then on (unindexed), and the next open
	// re-indexes them. The live set is updated first: a search that finds
	// a label in the index reads its ID and metadata from the live set, so
	// the index must never hold a label the live set lacks.
	st.liveMu.Lock()
	for i, p := range batch {
		st.live[labels[i]] = liveDoc{id: p.rec.Id, md: p.md}
	}
	st.applyFields(fields)
	st.liveMu.Unlock()
	var idxErr error
	vecs := make([][]float32, len(batch))
	for i, p := range batch {
		vecs[i] = p.rec.Vector
	}
	if err := addAll(st.idx, labels, vecs); err != nil {
		st.unindexed = true
		idxErr = fmt.Errorf("vecbolt: index documents (stored; re-indexed on reopen): %w", err)
	}
	st.pending += len(batch)

	ids := make([]string, len(batch))
	for i, p := range batch {
		ids[i] = p.rec.Id
	}
	if idxErr != nil {
		return ids, idxErr
	}
	// The write itself succeeded; a failed snapshot only costs reopening
	// time, and the next write retries it.
	_ = c.checkpointLocked(false)
	return ids, nil
}

// checkBatchBytes enforces MaxBatchBytes on a prepared batch. Records to
// embed count the vector they will get.
func checkBatchBytes(batch []prepared, dim int) error {
	total := 0
	for _, p := range batch {
		n := proto.Size(p.rec)
		if p.embed {
			n += 4*dim + 8 // the packed floats and their tag and length
		}
		total += n
	}
	if total > MaxBatchBytes {
		return fmt.Errorf("%w: a batch of %d documents holds %d bytes, over the limit of %d per Insert or Upsert (MaxBatchBytes); split it into smaller calls", ErrInvalidArgument, len(batch), total, MaxBatchBytes)
	}
	return nil
}

// embed fills the vectors of documents that need one, in batches, checking
// ctx between batches. It holds no lock and no transaction.
func (c *Collection) embed(ctx context.Context, st *colState, docs []Document, batch []prepared) error {
	var idx []int
	for i, p := range batch {
		if p.embed {
			idx = append(idx, i)
		}
	}
	size := c.db.opts.embedBatch
	dim := int(st.cfg.Dimension)
	for start := 0; start < len(idx); start += size {
		if err := ctx.Err(); err != nil {
			return err
		}
		part := idx[start:min(start+size, len(idx))]
		texts := make([]string, len(part))
		for j, i := range part {
			texts[j] = batch[i].rec.Text
		}
		vecs, err := st.emb.EmbedDocuments(ctx, texts)
		if err != nil {
			return blame(ctx, st, docs, part, texts, err)
		}
		if len(vecs) != len(part) {
			return fmt.Errorf("vecbolt: embedder returned %d vectors for %d texts", len(vecs), len(part))
		}
		for j, i := range part {
			if err := checkNewVector(vecs[j], dim, st.metric); err != nil {
				return &DocumentError{Index: i, ID: docs[i].ID, Err: fmt.Errorf("embedder output: %w", err)}
			}
			batch[i].rec.Vector = vecs[j]
		}
	}
	return nil
}

// blame finds which document of a failed embedding batch caused the error,
// by embedding them one at a time, so the caller learns its position and
// ID (a text the model cannot represent, say). If none fails alone, the
// batch's error is returned as it was.
func blame(ctx context.Context, st *colState, docs []Document, part []int, texts []string, batchErr error) error {
	if len(part) > 1 && ctx.Err() == nil {
		for j, i := range part {
			if _, err := st.emb.EmbedDocuments(ctx, texts[j:j+1]); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return &DocumentError{Index: i, ID: docs[i].ID, Err: fmt.Errorf("embed: %w", err)}
			}
		}
	} else if len(part) == 1 {
		return &DocumentError{Index: part[0], ID: docs[part[0]].ID, Err: fmt.Errorf("embed: %w", batchErr)}
	}
	return fmt.Errorf("vecbolt: embed documents %d..%d: %w", part[0], part[len(part)-1], batchErr)
}

// Delete removes the documents with the given IDs and returns how many
// existed. IDs that do not exist are ignored. The deletions are one
// transaction, durable when Delete returns nil.
func (c *Collection) Delete(ctx context.Context, ids ...string) (int, error) {
	leave, _, err := c.enter(true)
	if err != nil {
		return 0, err
	}
	defer leave()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.dropped.Load() {
		return 0, fmt.Errorf("%w: %q was deleted", ErrCollectionNotFound, c.name)
	}
	// Loaded under writeMu: a Reembed may have swapped the state.
	st := c.st.Load()

	// Find the labels first so searches can be told to skip them while the
	// deletion commits.
	var labels []uint64
	var found []string
	err = c.db.store.View(func(tx *storage.Tx) error {
		ctx, err := tx.Collection(c.name)
		if err != nil {
			return err
		}
		seen := make(map[string]bool, len(ids))
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			label, ok, err := ctx.Label(id)
			if err != nil {
				return err
			}
			if ok {
				labels = append(labels, label)
				found = append(found, id)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("vecbolt: delete from collection %q: %w", c.name, err)
	}
	return c.deleteLabels(st, labels, found)
}

// deleteLabels deletes the documents of labels (with their IDs) in one
// transaction and returns how many. The caller holds writeMu, has entered
// the collection for writing, and found the labels under writeMu, so they
// are all stored. Delete and DeleteWhere share it.
func (c *Collection) deleteLabels(st *colState, labels []uint64, found []string) (int, error) {
	if len(labels) == 0 {
		return 0, nil
	}
	st.liveMu.Lock()
	for _, l := range labels {
		st.deleting[l] = struct{}{}
	}
	st.liveMu.Unlock()
	err := c.db.store.Update(func(tx *storage.Tx) error {
		ctx, err := tx.Collection(c.name)
		if err != nil {
			return err
		}
		for i, l := range labels {
			if err := ctx.DeleteDocument(l, found[i]); err != nil {
				return err
			}
		}
		return nil
	})
	// A search holds liveMu (read) from its index walk to its last
	// document read, and skips labels in deleting. The labels were marked
	// before the commit and stay marked until they have left the index, so
	// no search finds one in the index once its ID has left the live set
	// and its document the file. The index deletes run outside liveMu: one
	// may compact the graph, which takes seconds on a large one, and
	// searches must not wait for that.
	st.liveMu.Lock()
	for _, l := range labels {
		if err == nil {
			delete(st.live, l)
		} else {
			delete(st.deleting, l)
		}
	}
	st.liveMu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("vecbolt: delete from collection %q: %w", c.name, err)
	}
	for _, l := range labels {
		st.idx.Delete(l)
	}
	st.liveMu.Lock()
	for _, l := range labels {
		delete(st.deleting, l)
	}
	st.liveMu.Unlock()
	st.pending += len(labels)
	_ = c.checkpointLocked(false) // see write: a failed snapshot loses nothing
	return len(labels), nil
}

// NotFoundError lists the IDs Get could not find. It wraps ErrNotFound.
// Its message names the first few (see quoteList); IDs holds them all.
type NotFoundError struct {
	Collection string
	IDs        []string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("vecbolt: collection %q has no document with ID %s", e.Collection, quoteList(e.IDs))
}

func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// Get returns the documents with the given IDs, in the order asked, with
// text, metadata and vector. If some IDs do not exist, it returns the
// documents it found together with a *NotFoundError (errors.Is(err,
// ErrNotFound)) listing the missing IDs.
func (c *Collection) Get(ctx context.Context, ids ...string) ([]Document, error) {
	leave, _, err := c.enter(false)
	if err != nil {
		return nil, err
	}
	defer leave()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []Document
	var missing []string
	err = c.db.store.View(func(tx *storage.Tx) error {
		ctx, err := tx.Collection(c.name)
		if err != nil {
			return err
		}
		for _, id := range ids {
			label, ok, err := ctx.Label(id)
			if err != nil {
				return err
			}
			if !ok {
				missing = append(missing, id)
				continue
			}
			rec, ok, err := ctx.Document(label)
			if err != nil {
				return err
			}
			if !ok || rec.Id != id {
				return fmt.Errorf("%w: ID %q maps to label %d, which does not hold it", ErrCorrupt, short(id), label)
			}
			d, err := documentFromRecord(rec, FieldText|FieldMetadata|FieldVector)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("vecbolt: get from collection %q: %w", c.name, err)
	}
	if len(missing) > 0 {
		return out, &NotFoundError{Collection: c.name, IDs: missing}
	}
	return out, nil
}

// sameVectors says whether vectors made for state a fit state b: the same
// model (or none), dimension and metric. Reindex and a same-model Reembed
// replace a collection's state with one that takes the same vectors.
func sameVectors(a, b *colState) bool {
	return a.info.Model.Equal(b.info.Model) && a.cfg.Dimension == b.cfg.Dimension && a.metric == b.metric
}
