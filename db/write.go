package db

import (
	"context"
	"fmt"
	"github.com/vecbolt/vecbolt/fulltext"
	"slices"

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
// where a document had none). The batch is written in one transaction:
// when Insert returns nil every document is durable, and when it returns
// an error none was written. Documents that cannot be stored fail the
// call with a *BatchError listing every one of them, each a
// *DocumentError (an ID that exists already wraps ErrDuplicateID); see
// InsertWith and SkipInvalid to store the others. A batch of more than
// MaxBatchBytes is refused with ErrInvalidArgument.
func (c *Collection) Insert(ctx context.Context, docs ...Document) ([]string, error) {
	res, err := c.write(ctx, docs, false, nil)
	return res.IDs, err
}

// Upsert stores documents, replacing those whose IDs exist (text, metadata
// and vector are all replaced; a document without a Vector has its text
// embedded anew). Otherwise it behaves like Insert.
func (c *Collection) Upsert(ctx context.Context, docs ...Document) ([]string, error) {
	res, err := c.write(ctx, docs, true, nil)
	return res.IDs, err
}

// write validates, embeds and stores a batch. Every per-document failure
// becomes a *DocumentError in bad; without SkipInvalid any of them fails
// the batch (validation failures before any embedding), with it the
// rejected documents are left out and reported.
func (c *Collection) write(ctx context.Context, docs []Document, upsert bool, opts []WriteOption) (WriteResult, error) {
	var o writeOptions
	for _, opt := range opts {
		opt(&o)
	}
	leave, st, err := c.enter(true)
	if err != nil {
		return WriteResult{}, err
	}
	defer leave()
	if err := ctx.Err(); err != nil {
		return WriteResult{}, err
	}
	if len(docs) == 0 {
		return WriteResult{}, nil
	}
	if st.chunked() {
		return c.writeChunked(ctx, st, docs, upsert, o)
	}
	batch, bad := st.prepare(docs)
	// rejected says whether the batch must fail for what bad holds.
	rejected := func() bool { return len(bad) > 0 && !o.skipInvalid }
	if rejected() {
		return WriteResult{}, newBatchError(c.name, len(docs), bad)
	}
	if err := checkBatchBytes(batch, int(st.cfg.Dimension)); err != nil {
		return WriteResult{}, err
	}
	// The keyword index's analysis needs no transaction: it runs beside
	// the embedder, and the transaction only adds its results.
	ana, ftDocs := st.ana, (<-chan analyzedBatch)(nil)
	if st.ft != nil && ana != nil {
		ftDocs = analyzeBatch(ana, batch)
	}
	embedBad, err := c.embed(ctx, st, docs, batch)
	var analyzed analyzedBatch
	if ftDocs != nil {
		analyzed = <-ftDocs
	}
	if err != nil {
		return WriteResult{}, err
	}
	bad = append(bad, embedBad...)
	if rejected() {
		return WriteResult{}, newBatchError(c.name, len(docs), bad)
	}
	if len(bad) == len(docs) {
		// SkipInvalid rejected everything: no transaction to commit.
		return WriteResult{IDs: make([]string, len(docs)), Rejected: newBatchError(c.name, len(docs), bad).Rejected}, nil
	}

	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.dropped.Load() {
		return WriteResult{}, fmt.Errorf("%w: %q was deleted", ErrCollectionNotFound, c.name)
	}
	if cur := c.st.Load(); cur != st {
		// Reembed or Reindex swapped the state while we embedded. Our
		// vectors fit a state of the same model and shape (Reindex, or a
		// same-model Reembed); after a move to another model they are
		// from the old one.
		if !sameVectors(cur, st) {
			return WriteResult{}, fmt.Errorf("%w: collection %q was re-embedded during the write; retry", ErrModelMismatch, c.name)
		}
		st = cur
	}
	labels := make([]uint64, len(batch))
	var fields fieldUpdate
	var txBad []*DocumentError
	err = c.db.store.Update(func(tx *storage.Tx) error {
		txBad = nil
		ctx, err := tx.Collection(c.name)
		if err != nil {
			return err
		}
		// The documents to store: those not rejected before the
		// transaction, less those the file rejects now (an ID that exists
		// already, a field another write gave another type meanwhile).
		keep := slices.Clone(batch)
		exists := make([]bool, len(batch))
		reject := func(i int, err error) {
			txBad = append(txBad, &DocumentError{Index: i, ID: docs[i].ID, Err: err})
			keep[i] = prepared{}
		}
		for i, p := range batch {
			if p.rec == nil {
				continue // rejected before the transaction
			}
			label, ok, err := ctx.Label(p.rec.Id)
			if err != nil {
				return err
			}
			if ok && !upsert {
				reject(i, fmt.Errorf("%w: %q exists in collection %q (use Upsert to replace it)", ErrDuplicateID, short(p.rec.Id), c.name))
				continue
			}
			labels[i], exists[i] = label, ok
		}
		var fieldBad []*DocumentError
		if fields, fieldBad, err = st.recordFields(ctx, keep); err != nil {
			return err
		}
		for _, de := range fieldBad {
			reject(de.Index, de.Err)
		}
		if len(txBad) > 0 && !o.skipInvalid {
			return newBatchError(c.name, len(docs), sortedRejections(bad, txBad))
		}
		ftw, err := st.ftWriter(ctx)
		if err != nil {
			return err
		}
		useBatch := ftw != nil && analyzed.batch != nil && st.ana == ana
		for i, p := range keep {
			if p.rec == nil {
				continue
			}
			if !exists[i] {
				if labels[i], err = ctx.NextLabel(); err != nil {
					return err
				}
			}
			if err := ctx.PutDocument(labels[i], p.rec); err != nil {
				return err
			}
			if ftw == nil || useBatch && analyzed.docs[i] != nil {
				continue // added with the batch, below
			}
			// Not analyzed beforehand, or by another analyzer than the
			// state's now (Reindex swapped it).
			if err := ftw.Add(labels[i], p.rec.Text); err != nil {
				return fmt.Errorf("keyword index: %w", ftErr(err))
			}
		}
		if ftw != nil {
			// The keyword index changes in the documents' transaction, so
			// a commit (or a crash) never leaves the two apart. AddBatch
			// replaces an upserted document's terms. Every document
			// counts in BM25's statistics, text or not, as in the
			// reference BM25 (bench/internal/retrieval).
			if useBatch {
				skip := make([]bool, len(keep))
				for i, p := range keep {
					skip[i] = p.rec == nil
				}
				if err := ftw.AddBatch(analyzed.batch, labels, skip); err != nil {
					return fmt.Errorf("keyword index: %w", ftErr(err))
				}
			}
			if err := ftw.Flush(); err != nil {
				return fmt.Errorf("keyword index: %w", ftErr(err))
			}
		}
		return nil
	})
	if err != nil {
		if _, ok := err.(*BatchError); ok {
			return WriteResult{}, err
		}
		return WriteResult{}, fmt.Errorf("vecbolt: write to collection %q: %w", c.name, err)
	}
	for _, de := range txBad {
		batch[de.Index].rec = nil
	}
	bad = sortedRejections(bad, txBad)

	// Durable from here on. The live set and the index follow the file.
	// The index cannot refuse these vectors (checkNewVector ran its own
	// check); should it fail for another reason, the labels stay pending,
	// no snapshot is written from then on (unindexed), and the next open
	// re-indexes them. The live set is updated first: a search that finds
	// a label in the index reads its ID and metadata from the live set, so
	// the index must never hold a label the live set lacks.
	res := WriteResult{IDs: make([]string, len(batch))}
	if len(bad) > 0 {
		res.Rejected = newBatchError(c.name, len(docs), bad).Rejected
	}
	var stored []uint64
	var vecs [][]float32
	st.liveMu.Lock()
	for i, p := range batch {
		if p.rec == nil {
			continue
		}
		st.live[labels[i]] = liveDoc{id: p.rec.Id, md: p.md}
		st.repaired(labels[i]) // its vector is new: the repair
		stored = append(stored, labels[i])
		vecs = append(vecs, p.rec.Vector)
		res.IDs[i] = p.rec.Id
	}
	st.applyFields(fields)
	st.liveMu.Unlock()
	if len(stored) == 0 {
		return res, nil
	}
	var idxErr error
	if err := addAll(st.idx, stored, vecs); err != nil {
		st.unindexed = true
		idxErr = fmt.Errorf("vecbolt: index documents (stored; re-indexed on reopen): %w", err)
	}
	st.pending += len(stored)
	if idxErr != nil {
		return res, idxErr
	}
	// The write itself succeeded; a failed snapshot only costs reopening
	// time, and the next write retries it.
	_ = c.checkpointLocked(false)
	return res, nil
}

// analyzedBatch is a batch analyzed for the keyword index: a Doc per
// document (nil for a rejected one, or one Analyze refused: the
// transaction then adds its text) and the Docs grouped by term (nil if
// grouping failed: the transaction then adds each text).
type analyzedBatch struct {
	docs  []*fulltext.Doc
	batch *fulltext.Batch
}

// analyzeBatch analyzes and groups the texts of batch's documents for the
// keyword index in a goroutine of its own, beside the embedder, so that
// the transaction only reads and writes the index's records. (The
// embedder takes one core for some 50 CPU µs per Debian description;
// analysis and grouping some 25 µs on the other.)
func analyzeBatch(a *fulltext.Analyzer, batch []prepared) <-chan analyzedBatch {
	// The texts are read here: the embedder's failures set batch[i].rec
	// to nil meanwhile.
	texts := make([]string, len(batch))
	keep := make([]bool, len(batch))
	for i, p := range batch {
		if p.rec != nil {
			texts[i], keep[i] = p.rec.Text, true
		}
	}
	out := make(chan analyzedBatch, 1)
	go func() {
		docs := make([]*fulltext.Doc, len(texts))
		for i, t := range texts {
			if keep[i] {
				docs[i], _ = a.Analyze(t)
			}
		}
		b, _ := fulltext.NewBatch(docs)
		out <- analyzedBatch{docs: docs, batch: b}
	}()
	return out
}

// checkBatchBytes enforces MaxBatchBytes on a prepared batch. Records to
// embed count the vector they will get.
func checkBatchBytes(batch []prepared, dim int) error {
	total := 0
	for _, p := range batch {
		if p.rec == nil {
			continue // rejected: it will not be written
		}
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
// ctx between batches. It holds no lock and no transaction. A document the
// embedder fails on, or whose vector the index would refuse, is rejected:
// its rec is set to nil and its error returned in bad; err is for failures
// that are not one document's (a cancelled context, a broken embedder).
func (c *Collection) embed(ctx context.Context, st *colState, docs []Document, batch []prepared) (bad []*DocumentError, err error) {
	var idx []int
	for i, p := range batch {
		if p.rec != nil && p.embed {
			idx = append(idx, i)
		}
	}
	size := c.db.opts.embedBatch
	dim := int(st.cfg.Dimension)
	for start := 0; start < len(idx); start += size {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		part := idx[start:min(start+size, len(idx))]
		texts := make([]string, len(part))
		for j, i := range part {
			texts[j] = batch[i].rec.Text
		}
		vecs, err := st.emb.EmbedDocuments(ctx, texts)
		if err != nil {
			var culprits []*DocumentError
			if vecs, culprits, err = blame(ctx, st, docs, part, texts, err); err != nil {
				return nil, err
			}
			for _, de := range culprits {
				batch[de.Index].rec = nil
			}
			bad = append(bad, culprits...)
		}
		if len(vecs) != len(part) {
			return nil, fmt.Errorf("vecbolt: embedder returned %d vectors for %d texts", len(vecs), len(part))
		}
		for j, i := range part {
			if batch[i].rec == nil {
				continue // blamed
			}
			if err := st.checkStored(vecs[j], dim); err != nil {
				bad = append(bad, &DocumentError{Index: i, ID: docs[i].ID, Err: fmt.Errorf("embedder output: %w", err)})
				batch[i].rec = nil
				continue
			}
			batch[i].rec.Vector = vecs[j]
		}
	}
	return bad, nil
}

// blame finds which documents of a failed embedding batch caused its
// error, by embedding them one at a time, so the caller learns the
// position and ID of every text the model cannot represent. It returns the
// batch's vectors (those of the culprits left nil) and one DocumentError
// per culprit. If none fails alone (the embedder failed for the batch as a
// whole), the batch's error is returned as it was.
func blame(ctx context.Context, st *colState, docs []Document, part []int, texts []string, batchErr error) ([][]float32, []*DocumentError, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	vecs := make([][]float32, len(part))
	var culprits []*DocumentError
	for j, i := range part {
		err := batchErr
		if len(part) > 1 {
			var one [][]float32
			one, err = st.emb.EmbedDocuments(ctx, texts[j:j+1])
			if err == nil {
				if len(one) != 1 {
					return nil, nil, fmt.Errorf("vecbolt: embedder returned %d vectors for 1 text", len(one))
				}
				vecs[j] = one[0]
				continue
			}
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
		}
		culprits = append(culprits, &DocumentError{Index: i, ID: docs[i].ID, Err: fmt.Errorf("embed: %w", err)})
	}
	if len(culprits) == 0 {
		return nil, nil, fmt.Errorf("vecbolt: embed documents %d..%d: %w", part[0], part[len(part)-1], batchErr)
	}
	return vecs, culprits, nil
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
	if st.chunked() {
		return c.deleteDocuments(st, ids)
	}

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
	return c.deleteEntries(st, labels, found, nil)
}

// deleteEntries is deleteLabels with more to delete in the same
// transaction: extra, if not nil, runs in it (a chunked collection's
// documents, whose passages labels are).
func (c *Collection) deleteEntries(st *colState, labels []uint64, found []string, extra func(*storage.CollectionTx) error) (int, error) {
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
		ftw, err := st.ftWriter(ctx)
		if err != nil {
			return err
		}
		for i, l := range labels {
			if err := ctx.DeleteDocument(l, found[i]); err != nil {
				return err
			}
			if ftw != nil {
				if err := ftDelete(ftw, l); err != nil {
					return err
				}
			}
		}
		if ftw != nil {
			if err := ftw.Flush(); err != nil {
				return fmt.Errorf("keyword index: %w", ftErr(err))
			}
		}
		if extra != nil {
			return extra(ctx)
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
			st.repaired(l)
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
	st.tune.noteDeletes(len(labels))
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
// their text and metadata but not their vectors: a document read with Get,
// edited and given back to Upsert has its text embedded anew, never the
// old text's vector kept. GetFields chooses the fields (FieldVector for the
// vectors). If some IDs do not exist, it returns the documents it found
// together with a *NotFoundError (errors.Is(err, ErrNotFound)) listing the
// missing IDs.
func (c *Collection) Get(ctx context.Context, ids ...string) ([]Document, error) {
	return c.GetFields(ctx, FieldText|FieldMetadata, ids...)
}

// GetFields is Get with the fields to return: any of FieldText,
// FieldMetadata and FieldVector, combined with |; the ID is always set.
func (c *Collection) GetFields(ctx context.Context, fields Field, ids ...string) ([]Document, error) {
	if fields&^(FieldText|FieldMetadata|FieldVector) != 0 {
		return nil, fmt.Errorf("%w: unknown fields %#x", ErrInvalidArgument, uint8(fields&^(FieldText|FieldMetadata|FieldVector)))
	}
	leave, st, err := c.enter(false)
	if err != nil {
		return nil, err
	}
	defer leave()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if st.chunked() {
		return c.getDocuments(fields, ids)
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
			rec, ok, err := readRecord(ctx, label, fields)
			if err != nil {
				return err
			}
			if !ok || rec.Id != id {
				return fmt.Errorf("%w: ID %q maps to label %d, which does not hold it", ErrCorrupt, short(id), label)
			}
			d, err := documentFromRecord(rec, fields)
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

// sortedRejections merges the rejections found before a write's
// transaction with those found in it, in batch order.
func sortedRejections(before, in []*DocumentError) []*DocumentError {
	all := append(slices.Clone(before), in...)
	slices.SortFunc(all, func(a, b *DocumentError) int { return a.Index - b.Index })
	return all
}
