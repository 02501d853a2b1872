package db

// Chunked collections: each document is stored once, in the collection's
// "parents" bucket (storage/parents.go), and split by package chunk into
// passages, each an ordinary entry of the documents buckets with a vector,
// no text, the document's metadata, and its byte offsets into the
// document's text. So the index, filters, snapshots and recovery handle
// passages exactly as they handle documents of an unchunked collection,
// and Get, Scan, Export, Count, Delete and DeleteWhere speak of documents,
// while searches find passages. The document's record also holds the
// vector of its whole text, which SearchDocuments adds to its passages'
// evidence (see DocumentWeight).
//
// A passage's ID is its document's ID, "#", and its position in decimal
// ("guide.md#3"). Documents and passages live in different buckets, so a
// user's ID never meets a passage's; and as the position holds no "#", the
// document of a passage is its ID up to the last "#", whatever the
// document's ID holds. A document with n passages has exactly the passages
// 0..n-1, written and deleted with it in one transaction: an upsert
// deletes the old ones and writes the new ones under fresh labels.
//
// Why the metadata is copied into every passage: the in-memory live set
// that answers filters during a search is built from each entry's head, so
// a passage must carry the metadata a filter asks about. The text, which is
// the bulk, is not copied.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vecbolt/vecbolt/chunk"
	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"
	"github.com/vecbolt/vecbolt/fulltext"
	"github.com/vecbolt/vecbolt/query"
	"github.com/vecbolt/vecbolt/storage"
)

// WithChunking makes a chunked collection: every document's text is split
// into passages of at most maxTokens tokens of the collection's model (0:
// chunk.DefaultMaxTokens), each overlapping the one before by about overlap
// tokens (0: none; chunk.DefaultOverlap is a good choice), and searches
// find passages (Result.DocID, Start and End say where each comes from; see
// SearchDocuments and Context). Tokens are counted with the model's own
// tokenizer when it has one, and maxTokens is lowered to a transformer's
// maximum length less its two special tokens, so that no passage is
// truncated. The settings are stored in the collection's configuration.
// A chunked collection needs a model: its documents carry text, not
// vectors. Each document is also embedded whole (a transformer sees its
// beginning), for SearchDocuments' DocumentWeight; GetFields with
// FieldVector returns that vector.
func WithChunking(maxTokens, overlap int) CollectionOption {
	return func(o *collectionOptions) {
		if maxTokens == 0 {
			maxTokens = chunk.DefaultMaxTokens
		}
		o.chunk = &chunkSetting{maxTokens: maxTokens, overlap: overlap}
	}
}

type chunkSetting struct{ maxTokens, overlap int }

// chunkParams checks WithChunking's settings against the model emb and
// returns what the collection stores.
func chunkParams(s *chunkSetting, emb embedder.Embedder) (*storage.ChunkParams, error) {
	if s.maxTokens < 1 || s.maxTokens > 1<<20 || s.overlap < 0 || s.overlap >= s.maxTokens {
		return nil, fmt.Errorf("%w: chunking of %d tokens with an overlap of %d (need 1 <= tokens <= %d and 0 <= overlap < tokens)", ErrInvalidArgument, s.maxTokens, s.overlap, 1<<20)
	}
	maxTokens := s.maxTokens
	if mc, ok := emb.(interface{ Config() embedder.ModelConfig }); ok {
		if limit := mc.Config().MaxSeqLength - 2; limit > 0 && maxTokens > limit {
			maxTokens = limit
		}
	}
	overlap := min(s.overlap, maxTokens-1)
	return &storage.ChunkParams{MaxTokens: uint32(maxTokens), Overlap: uint32(overlap)}, nil
}

// ChunkingInfo is a chunked collection's configuration (see WithChunking).
type ChunkingInfo struct {
	MaxTokens, Overlap int
}

// Chunking returns the collection's chunking settings, and false for a
// collection whose documents are not split into passages.
func (c *Collection) Chunking() (ChunkingInfo, bool) {
	p := c.st.Load().cfg.Chunking
	if p == nil {
		return ChunkingInfo{}, false
	}
	return ChunkingInfo{MaxTokens: int(p.MaxTokens), Overlap: int(p.Overlap)}, true
}

// PassageFormat says how the texts of one write to a chunked collection
// are structured (default chunk.Plain): with chunk.Markdown, passages
// start at headings, keep fenced code blocks whole where they fit, and
// carry their heading path (Result.Headings). Ignored by collections that
// are not chunked.
func PassageFormat(f chunk.Format) WriteOption {
	return func(o *writeOptions) { o.format = f }
}

func (st *colState) chunked() bool { return st.cfg.Chunking != nil }

// passageID is the ID of the i-th passage of document doc.
func passageID(doc string, i int) string { return doc + "#" + strconv.Itoa(i) }

// parentOf is the document ID of a passage ID.
func parentOf(pid string) string {
	if i := strings.LastIndexByte(pid, '#'); i >= 0 {
		return pid[:i]
	}
	return pid
}

// counter returns how passages of st are measured: the model's tokenizer
// when it exposes one (a fresh buffer per call, so writes may run
// concurrently), else chunk.WordCounter.
func (st *colState) counter() chunk.Counter {
	if t, ok := st.emb.(interface{ Tokenizer() *tokenizer.Tokenizer }); ok && t.Tokenizer() != nil {
		tok := t.Tokenizer()
		var ids []int32
		return chunk.CounterFunc(func(s string) int {
			ids = tok.AppendIDs(ids[:0], s)
			return len(ids)
		})
	}
	return chunk.WordCounter
}

// split cuts a document's text into passages by the collection's settings.
func (st *colState) split(text string, f chunk.Format, counter chunk.Counter) ([]chunk.Passage, error) {
	p := st.cfg.Chunking
	return chunk.Split(text, chunk.WithMaxTokens(int(p.MaxTokens)), chunk.WithOverlap(int(p.Overlap)), chunk.WithCounter(counter), chunk.WithFormat(f))
}

// writeChunked is write for a chunked collection: each document of the
// batch is validated, split into passages, its passages embedded, and the
// document with all its passages committed in one transaction, replacing
// an existing document's passages on upsert.
func (c *Collection) writeChunked(ctx context.Context, st *colState, docs []Document, upsert bool, o writeOptions) (WriteResult, error) {
	parents, bad := st.prepare(docs)
	for i, p := range parents {
		if p.rec != nil && !p.embed {
			bad = append(bad, &DocumentError{Index: i, ID: docs[i].ID, Err: invalid("collection %q is chunked: it embeds its documents' passages, so a document gives text, not a Vector", c.name)})
			parents[i] = prepared{}
		}
	}
	rejected := func() bool { return len(bad) > 0 && !o.skipInvalid }
	if rejected() {
		return WriteResult{}, newBatchError(c.name, len(docs), bad)
	}

	// Split every document; owner[j] is the document of passage j.
	var passes []prepared
	var pdocs []Document
	var owner []int
	first := make([]int, len(parents)) // index of each document's first passage
	counter := st.counter()
	for i, p := range parents {
		first[i] = len(passes)
		if p.rec == nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return WriteResult{}, err
		}
		ps, err := st.split(p.rec.Text, o.format, counter)
		if err == nil && len(ps) == 0 {
			// Not seen (a text that is not blank has a passage), but a
			// document without passages could never be found.
			err = errors.New("its text splits into no passage")
		}
		if err != nil {
			bad = append(bad, &DocumentError{Index: i, ID: docs[i].ID, Err: fmt.Errorf("%w: %w", ErrInvalidDocument, err)})
			parents[i] = prepared{}
			continue
		}
		p.rec.Passages = uint32(len(ps))
		for k, sp := range ps {
			passes = append(passes, prepared{
				rec: &storage.DocumentRecord{
					Id: passageID(p.rec.Id, k), Text: p.rec.Text[sp.Start:sp.End], Metadata: p.rec.Metadata,
					ParentId: p.rec.Id, Start: uint32(sp.Start), End: uint32(sp.End), Headings: sp.Headings,
				},
				md: p.md, embed: true,
			})
			pdocs = append(pdocs, Document{ID: p.rec.Id})
			owner = append(owner, i)
		}
	}
	if rejected() {
		return WriteResult{}, newBatchError(c.name, len(docs), bad)
	}
	if err := checkBatchBytes(passes, int(st.cfg.Dimension)); err != nil {
		return WriteResult{}, err
	}
	embedBad, err := c.embed(ctx, st, pdocs, passes)
	if err != nil {
		return WriteResult{}, err
	}
	for _, de := range embedBad {
		i := owner[de.Index]
		if parents[i].rec == nil {
			continue // already rejected for another of its passages
		}
		bad = append(bad, &DocumentError{Index: i, ID: docs[i].ID, Err: de.Err})
		parents[i] = prepared{}
	}
	if rejected() {
		return WriteResult{}, newBatchError(c.name, len(docs), bad)
	}
	// Each document is embedded whole as well: SearchDocuments adds its
	// similarity to the best passage's (see DocumentWeight). A transformer
	// sees the document's beginning, up to its maximum length.
	embedBad, err = c.embed(ctx, st, docs, parents)
	if err != nil {
		return WriteResult{}, err
	}
	bad = append(bad, embedBad...)
	if rejected() {
		return WriteResult{}, newBatchError(c.name, len(docs), bad)
	}
	// The passages of each document, their texts cleared: a passage's text
	// is its document's, sliced by its offsets.
	passagesOf := func(i int) []prepared {
		end := len(passes)
		if i+1 < len(first) {
			end = first[i+1]
		}
		return passes[first[i]:end]
	}
	for i := range parents {
		for _, p := range passagesOf(i) {
			p.rec.Text = ""
		}
	}

	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.dropped.Load() {
		return WriteResult{}, fmt.Errorf("%w: %q was deleted", ErrCollectionNotFound, c.name)
	}
	if cur := c.st.Load(); cur != st {
		if !sameVectors(cur, st) || !cur.chunked() {
			return WriteResult{}, fmt.Errorf("%w: collection %q was re-embedded during the write; retry", ErrModelMismatch, c.name)
		}
		st = cur
	}
	// The passages the batch replaces, found under writeMu (so they stay
	// as found) and marked for searches to skip while the write commits.
	old := make([][]oldPassage, len(parents))
	var txBad []*DocumentError
	err = c.db.store.View(func(tx *storage.Tx) error {
		ctx, err := tx.Collection(c.name)
		if err != nil {
			return err
		}
		for i, p := range parents {
			if p.rec == nil {
				continue
			}
			prev, ok, err := ctx.Parent(p.rec.Id)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if !upsert {
				txBad = append(txBad, &DocumentError{Index: i, ID: docs[i].ID, Err: fmt.Errorf("%w: %q exists in collection %q (use Upsert to replace it)", ErrDuplicateID, short(p.rec.Id), c.name)})
				continue
			}
			if old[i], err = passageLabels(ctx, prev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return WriteResult{}, fmt.Errorf("vecbolt: write to collection %q: %w", c.name, err)
	}
	for _, de := range txBad {
		parents[de.Index] = prepared{}
	}
	if len(txBad) > 0 && !o.skipInvalid {
		return WriteResult{}, newBatchError(c.name, len(docs), sortedRejections(bad, txBad))
	}
	var marked []uint64
	for _, ps := range old {
		for _, p := range ps {
			marked = append(marked, p.label)
		}
	}
	st.liveMu.Lock()
	for _, l := range marked {
		st.deleting[l] = struct{}{}
	}
	st.liveMu.Unlock()
	unmark := func() {
		st.liveMu.Lock()
		for _, l := range marked {
			delete(st.deleting, l)
		}
		st.liveMu.Unlock()
	}

	labels := make([][]uint64, len(parents))
	var fields fieldUpdate
	var fieldBad []*DocumentError
	err = c.db.store.Update(func(tx *storage.Tx) error {
		ctx, err := tx.Collection(c.name)
		if err != nil {
			return err
		}
		keep := slices.Clone(parents)
		if fields, fieldBad, err = st.recordFields(ctx, keep); err != nil {
			return err
		}
		ti, err := st.passageTextIndex(ctx)
		if err != nil {
			return err
		}
		for _, de := range fieldBad {
			keep[de.Index] = prepared{}
		}
		if len(fieldBad) > 0 && !o.skipInvalid {
			return newBatchError(c.name, len(docs), sortedRejections(bad, append(slices.Clone(txBad), fieldBad...)))
		}
		for i, p := range keep {
			if p.rec == nil {
				continue
			}
			for _, op := range old[i] {
				if err := deletePassage(ctx, ti, op.label, op.id); err != nil {
					return err
				}
			}
			if err := ctx.PutParent(p.rec); err != nil {
				return err
			}
			ps := passagesOf(i)
			labels[i] = make([]uint64, len(ps))
			for k, pp := range ps {
				if labels[i][k], err = ctx.NextLabel(); err != nil {
					return err
				}
				text := p.rec.Text[pp.rec.Start:pp.rec.End]
				if err := putPassage(ctx, ti, labels[i][k], pp.rec, text); err != nil {
					return err
				}
			}
		}
		if ti != nil {
			return ti.Flush()
		}
		return nil
	})
	if err != nil {
		unmark()
		if _, ok := err.(*BatchError); ok {
			return WriteResult{}, err
		}
		return WriteResult{}, fmt.Errorf("vecbolt: write to collection %q: %w", c.name, err)
	}
	for _, de := range fieldBad {
		parents[de.Index] = prepared{}
	}
	bad = sortedRejections(bad, append(txBad, fieldBad...))

	// Durable from here on; the live set and the index follow the file, as
	// in write.
	res := WriteResult{IDs: make([]string, len(docs))}
	if len(bad) > 0 {
		res.Rejected = newBatchError(c.name, len(docs), bad).Rejected
	}
	var stored, gone []uint64
	var vecs [][]float32
	st.liveMu.Lock()
	for i, p := range parents {
		if p.rec == nil {
			continue
		}
		for _, op := range old[i] {
			delete(st.live, op.label)
			st.repaired(op.label)
			gone = append(gone, op.label)
		}
		for k, pp := range passagesOf(i) {
			st.live[labels[i][k]] = liveDoc{id: pp.rec.Id, md: pp.md}
			st.repaired(labels[i][k])
			stored = append(stored, labels[i][k])
			vecs = append(vecs, pp.rec.Vector)
		}
		res.IDs[i] = p.rec.Id
	}
	st.applyFields(fields)
	st.liveMu.Unlock()
	for _, l := range gone {
		st.idx.Delete(l)
	}
	unmark()
	var idxErr error
	if len(stored) > 0 {
		if err := addAll(st.idx, stored, vecs); err != nil {
			st.unindexed = true
			idxErr = fmt.Errorf("vecbolt: index passages (stored; re-indexed on reopen): %w", err)
		}
	}
	st.pending += len(stored) + len(gone)
	if idxErr != nil {
		return res, idxErr
	}
	_ = c.checkpointLocked(false)
	return res, nil
}

// textIndex is what else a write keeps of each entry's text in the same
// transaction: the keyword index (package fulltext), so that passages are
// indexed with their own text, which their records do not hold.
type textIndex interface {
	Add(label uint64, text string) error
	Delete(label uint64) error
	Flush() error
}

// passageTextIndex returns the collection's keyword index inside a write
// transaction, or nil when it has none. The writer is returned only when
// not nil, since a nil *fulltext.Writer in a non-nil interface would be
// called.
func (st *colState) passageTextIndex(ct *storage.CollectionTx) (textIndex, error) {
	w, err := st.ftWriter(ct)
	if w == nil {
		return nil, err
	}
	return ftIndex{w}, nil
}

// ftIndex is the keyword index as a textIndex, its errors worded as
// write.go words them. Its Delete tolerates a label the index lacks, as
// ftDelete does for whole documents.
type ftIndex struct{ w *fulltext.Writer }

func (f ftIndex) Add(label uint64, text string) error {
	if err := f.w.Add(label, text); err != nil {
		return fmt.Errorf("keyword index: %w", ftErr(err))
	}
	return nil
}

func (f ftIndex) Delete(label uint64) error { return ftDelete(f.w, label) }

func (f ftIndex) Flush() error {
	if err := f.w.Flush(); err != nil {
		return fmt.Errorf("keyword index: %w", ftErr(err))
	}
	return nil
}

// putPassage and deletePassage are the only places writeChunked writes or
// removes a passage's entry, so that the text index follows in the same
// transaction; text is the passage's text. (Delete and DeleteWhere remove
// passages through deleteEntries, as any entry.)
func putPassage(ct *storage.CollectionTx, ti textIndex, label uint64, rec *storage.DocumentRecord, text string) error {
	if err := ct.PutDocument(label, rec); err != nil {
		return err
	}
	if ti != nil {
		return ti.Add(label, text)
	}
	return nil
}

func deletePassage(ct *storage.CollectionTx, ti textIndex, label uint64, id string) error {
	if err := ct.DeleteDocument(label, id); err != nil {
		return err
	}
	if ti != nil {
		return ti.Delete(label)
	}
	return nil
}

// entryText is the text of a stored entry: its own, or for a passage its
// slice of its document's text. What rebuilds an index of entry texts from
// the file (a keyword index's build or Reindex) reads texts through it.
func entryText(ct *storage.CollectionTx, rec *storage.DocumentRecord) (string, error) {
	if rec.ParentId == "" {
		return rec.Text, nil
	}
	p, ok, err := ct.Parent(rec.ParentId)
	if err != nil {
		return "", err
	}
	if !ok || rec.Start > rec.End || int(rec.End) > len(p.Text) {
		return "", fmt.Errorf("%w: passage %q does not fit its document %q", ErrCorrupt, short(rec.Id), short(rec.ParentId))
	}
	return p.Text[rec.Start:rec.End], nil
}

type oldPassage struct {
	label uint64
	id    string
}

// passageLabels finds the entries of a stored document's passages.
func passageLabels(ctx *storage.CollectionTx, parent *storage.DocumentRecord) ([]oldPassage, error) {
	out := make([]oldPassage, 0, parent.Passages)
	for k := range int(parent.Passages) {
		id := passageID(parent.Id, k)
		label, ok, err := ctx.Label(id)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: document %q lacks its passage %d", ErrCorrupt, short(parent.Id), k)
		}
		out = append(out, oldPassage{label, id})
	}
	return out, nil
}

// deleteDocuments deletes the documents of a chunked collection with all
// their passages, in one transaction, and returns how many existed. The
// caller holds writeMu and has entered the collection for writing.
func (c *Collection) deleteDocuments(st *colState, ids []string) (int, error) {
	var labels []uint64
	var pids, found []string
	err := c.db.store.View(func(tx *storage.Tx) error {
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
			parent, ok, err := ctx.Parent(id)
			if err != nil || !ok {
				return err
			}
			ps, err := passageLabels(ctx, parent)
			if err != nil {
				return err
			}
			found = append(found, id)
			for _, p := range ps {
				labels = append(labels, p.label)
				pids = append(pids, p.id)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("vecbolt: delete from collection %q: %w", c.name, err)
	}
	if len(found) == 0 {
		return 0, nil
	}
	_, err = c.deleteEntries(st, labels, pids, func(ctx *storage.CollectionTx) error {
		for _, id := range found {
			if err := ctx.DeleteParent(id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(found), nil
}

// documentExists says whether a document of that ID is stored: in a
// chunked collection's documents, else in its ID map.
func documentExists(ct *storage.CollectionTx, st *colState, id string) (bool, error) {
	if st.chunked() {
		_, ok, err := ct.Parent(id)
		return ok, err
	}
	_, ok, err := ct.Label(id)
	return ok, err
}

// documentsOf returns the distinct documents of passage entries, in
// first-seen order.
func documentsOf(ids []string) []string {
	seen := make(map[string]bool)
	var out []string
	for _, id := range ids {
		p := parentOf(id)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// countDocuments counts the distinct documents of the live entries with
// the given labels (all when labels is nil). The caller holds liveMu.
func (st *colState) countDocuments(labels []uint64, all bool) int {
	seen := make(map[string]struct{})
	if all {
		for _, d := range st.live {
			seen[parentOf(d.id)] = struct{}{}
		}
	} else {
		for _, l := range labels {
			seen[parentOf(st.live[l].id)] = struct{}{}
		}
	}
	return len(seen)
}

// getDocuments is GetFields for a chunked collection.
func (c *Collection) getDocuments(fields Field, ids []string) ([]Document, error) {
	var out []Document
	var missing []string
	err := c.db.store.View(func(tx *storage.Tx) error {
		ctx, err := tx.Collection(c.name)
		if err != nil {
			return err
		}
		for _, id := range ids {
			rec, ok, err := ctx.Parent(id)
			if err != nil {
				return err
			}
			if !ok {
				missing = append(missing, id)
				continue
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

// scanDocuments is scanPage for a chunked collection: it walks the
// documents, not their passages.
func (c *Collection) scanDocuments(ctx context.Context, o scanOptions, after string, want int) (page []Document, last string, more bool, err error) {
	err = c.db.store.View(func(tx *storage.Tx) error {
		ctx, err := tx.Collection(c.name)
		if err != nil {
			return err
		}
		visits, bytes := 0, 0
		return ctx.ForEachParent(after, func(rec *storage.DocumentRecord) (bool, error) {
			if len(page) == want || visits == scanPageVisits || bytes >= scanPageBytes {
				more = true
				return false, nil
			}
			visits++
			last = rec.Id
			if o.filter != nil {
				md, err := metadataFromRecord(rec.Metadata)
				if err != nil {
					return false, fmt.Errorf("%w: document %q: %v", ErrCorrupt, short(last), err)
				}
				ok, err := o.filter.Match(md)
				if err != nil {
					return false, fmt.Errorf("%w: filter on document %q: %w", ErrInvalidArgument, short(last), err)
				}
				if !ok {
					return true, nil
				}
			}
			d, err := documentFromRecord(rec, o.fields&^FieldVector)
			if err != nil {
				return false, err
			}
			bytes += len(d.ID) + len(d.Text) + len(rec.Metadata)*16
			page = append(page, d)
			return true, nil
		})
	})
	if err != nil {
		return nil, "", false, fmt.Errorf("vecbolt: scan collection %q: %w", c.name, err)
	}
	return page, last, more, ctx.Err()
}

// passageReader fills search results of a chunked collection with their
// document, offsets and text, reading each document once per search.
type passageReader struct {
	ctx     *storage.CollectionTx
	parents map[string]*storage.DocumentRecord
}

func (r *passageReader) fill(rec *storage.DocumentRecord, res *Result, fields Field) error {
	if rec.ParentId == "" {
		return nil
	}
	res.DocID, res.Start, res.End = rec.ParentId, int(rec.Start), int(rec.End)
	res.Headings = rec.Headings
	if fields&FieldText == 0 {
		return nil
	}
	p, ok := r.parents[rec.ParentId]
	if !ok {
		var err error
		p, ok, err = r.ctx.Parent(rec.ParentId)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: passage %q has no document %q", ErrCorrupt, short(rec.Id), short(rec.ParentId))
		}
		if r.parents == nil {
			r.parents = make(map[string]*storage.DocumentRecord)
		}
		r.parents[rec.ParentId] = p
	}
	if rec.Start > rec.End || int(rec.End) > len(p.Text) {
		return fmt.Errorf("%w: passage %q spans bytes %d..%d of a document of %d", ErrCorrupt, short(rec.Id), rec.Start, rec.End, len(p.Text))
	}
	res.Text = p.Text[rec.Start:rec.End]
	return nil
}

// passageFilter is what DeleteWhere deletes in a chunked collection: the
// documents of the matching passages (a document's passages carry its
// metadata, so they match together).
func (c *Collection) deleteWhereChunked(st *colState, f query.Filter) (int, error) {
	_, ids, err := st.matching(f)
	if err != nil {
		return 0, err
	}
	return c.deleteDocuments(st, documentsOf(ids))
}
