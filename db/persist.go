package db

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"

	"github.com/vecbolt/vecbolt/index"
	"github.com/vecbolt/vecbolt/query"
	"github.com/vecbolt/vecbolt/storage"
)

// defaultIndexKind is the index new collections get.
const defaultIndexKind = IndexHNSW

// snapshotter is an index that can write itself into the file so that
// reopening does not rebuild it.
type snapshotter interface {
	WriteTo(w io.Writer) (int64, error)
}

// linksSnapshotter is an index that can leave its float vectors out of
// its snapshot, to read them from the file's vector store on load (an
// HNSW graph; see index.HNSW.WriteLinksTo): the file then holds each
// vector once.
type linksSnapshotter interface {
	WriteLinksTo(w io.Writer) (int64, error)
	Int8() bool
}

// putSnapshot stores idx's snapshot in c: links only, with the vectors
// read from the vector store on load, where the index and the collection
// allow it; whole otherwise (a flat index stores an empty one, which
// clears the pending list: it is rebuilt from the documents on open).
func putSnapshot(c *storage.CollectionTx, kind string, idx index.Index) error {
	if l, ok := idx.(linksSnapshotter); ok && !l.Int8() {
		vs, err := c.VectorStoreInfo()
		if err != nil {
			return err
		}
		if vs != nil && !vs.Moving {
			return c.PutLinksSnapshot(kind, func(w io.Writer) error {
				_, err := l.WriteLinksTo(w)
				return err
			})
		}
	}
	return c.PutSnapshot(kind, func(w io.Writer) error {
		if s, ok := idx.(snapshotter); ok {
			_, err := s.WriteTo(w)
			return err
		}
		return nil
	})
}

// newIndex builds an empty index for a configuration.
func newIndex(cfg *storage.CollectionConfig, m index.Metric) (index.Index, error) {
	kind := ""
	if cfg.Index != nil {
		kind = cfg.Index.Kind
	}
	switch kind {
	case IndexFlat:
		return index.NewFlat(int(cfg.Dimension), m), nil
	case IndexHNSW:
		if q := cfg.Index.GetQuantization(); q != "" && q != QuantizationInt8 {
			return nil, fmt.Errorf("%w: collection %q uses quantization %q, which this build does not know", ErrNewerFormat, cfg.Name, q)
		}
		h, err := index.NewHNSW(int(cfg.Dimension), m, hnswOptions(cfg)...)
		if err != nil {
			return nil, fmt.Errorf("%w: collection %q: %v", ErrCorrupt, cfg.Name, err)
		}
		return h, nil
	}
	return nil, fmt.Errorf("%w: collection %q has unknown index kind %q", ErrCorrupt, cfg.Name, kind)
}

func hnswOptions(cfg *storage.CollectionConfig) []index.HNSWOption {
	p := cfg.Index
	opts := []index.HNSWOption{
		index.WithM(int(p.GetM())),
		index.WithEfConstruction(int(p.GetEfConstruction())),
		index.WithEfSearch(int(p.GetEfSearch())),
	}
	if p.GetQuantization() == QuantizationInt8 {
		opts = append(opts, index.WithInt8())
	}
	return opts
}

// loadSnapshot reads a graph snapshot. A links-only snapshot reads its
// vectors through load (the collection's vector store), which may lack
// those of the pending labels (changed since the snapshot, and replayed
// after it); outside reports whether it did.
//
// The loader leaves out damaged vectors, recording them in dam; their
// nodes are treated as stale (they borrow a neighbour's vector), and the
// caller deletes them from the graph (see damagedVectors).
func loadSnapshot(cfg *storage.CollectionConfig, r io.Reader, load index.VectorLoader, pending []uint64, dam *damagedVectors) (idx index.Index, outside bool, err error) {
	h, err := index.ReadHNSW(r, index.WithEfSearch(int(cfg.Index.GetEfSearch())),
		index.WithVectorLoader(func(newSlot func() func(uint64) []float32) error {
			outside = true
			return load(newSlot)
		}),
		index.WithStaleVectors(func(label uint64) bool {
			_, ok := slices.BinarySearch(pending, label)
			return ok || dam.has(label)
		}))
	if err != nil {
		return nil, outside, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if want := cfg.Index.GetQuantization() == QuantizationInt8; h.Int8() != want {
		return nil, outside, fmt.Errorf("%w: the graph snapshot's int8 mode (%v) is not the collection's (%v)", ErrCorrupt, h.Int8(), want)
	}
	return h, outside, nil
}

// restore fills a fresh state from the file: documents and metadata always,
// the index from its snapshot plus the writes since (the pending labels)
// when a snapshot exists, otherwise by re-adding every vector.
//
// The snapshot and the pending list are a cache of what the documents hold.
// When either cannot be used (damaged, of another format, or disagreeing
// with the documents), the index is rebuilt from the documents instead and
// st.rebuilt records why; only damage to the documents, heads or ID map
// (the data) fails the load. report, if not nil, hears of such a rebuild
// and its progress.
//
// ctx is checked every loadCheckEvery documents and between the index's
// chunks, so that a cancelled load returns ctx's error within moments; st
// is then unusable and must be dropped.
func (st *colState) restore(ctx context.Context, c *storage.CollectionTx, report func(RecoveryEvent)) error {
	used, err := st.restoreFromSnapshot(ctx, c)
	var unusable *snapshotError
	switch {
	case err == nil && used:
		return nil
	case errors.As(err, &unusable):
		// Start over: the snapshot path may have filled the live set and
		// the index halfway.
		st.live = make(map[uint64]liveDoc)
		st.damaged = make(map[uint64]error)
		if st.idx, err = newIndex(st.cfg, st.metric); err != nil {
			return err
		}
		st.rebuilt = unusable.err
		if report != nil {
			report(RecoveryEvent{Collection: st.cfg.Name, Reason: unusable.err})
		}
	case err != nil:
		return err
	}
	return st.rebuild(ctx, c, report)
}

// loadCheckEvery is how many documents a load reads between checks of its
// context: often enough to stop within milliseconds, rarely enough to cost
// nothing measurable.
const loadCheckEvery = 1024

// ticker checks a context every loadCheckEvery calls of tick.
type ticker struct {
	ctx context.Context
	n   int
}

func (t *ticker) tick() error {
	t.n++
	if t.n%loadCheckEvery == 0 {
		return t.ctx.Err()
	}
	return nil
}

// ctxReader fails its reads once ctx is done, so that decoding a large
// snapshot stops on cancellation.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// snapshotError marks a failure of the snapshot or the pending list, which
// restore answers by rebuilding from the documents.
type snapshotError struct{ err error }

func (e *snapshotError) Error() string { return e.err.Error() }
func (e *snapshotError) Unwrap() error { return e.err }

// snapshotErrorf formats a snapshot failure; callers wrap ErrCorrupt in it.
func snapshotErrorf(format string, args ...any) error {
	return &snapshotError{fmt.Errorf(format, args...)}
}

// restoreFromSnapshot loads the index from its snapshot and replays the
// pending labels. It returns used=false, with no error, when the collection
// has no snapshot of its own index kind, and a *snapshotError when the
// snapshot or the pending list cannot be trusted.
//
// The graph is decoded on a second goroutine while this one reads the
// documents' heads (IDs and metadata): the two are independent and each
// takes about half of the open time of a large collection.
func (st *colState) restoreFromSnapshot(ctx context.Context, c *storage.CollectionTx) (used bool, err error) {
	kind, r, ok, err := c.Snapshot()
	if err != nil {
		return false, &snapshotError{err}
	}
	// Only a graph snapshot of the collection's own kind is loaded; any
	// other index is rebuilt from the documents (a flat index is as fast to
	// rebuild as to read).
	if !ok || kind != st.cfg.Index.GetKind() || kind != IndexHNSW {
		return false, nil
	}
	type loaded struct {
		idx     index.Index
		outside bool
		err     error
	}
	// The pending labels (in label order) are the ones whose stored
	// vectors may not be the snapshot's.
	pending, pendErr := c.Pending()
	var dam damagedVectors
	snap := make(chan loaded, 1)
	go func() {
		// The vectors of a links-only snapshot are read here too, straight
		// into the graph's memory, while this goroutine's caller reads the
		// heads: a read-only transaction serves both (LoadVectors guards
		// its own reads).
		idx, outside, err := loadSnapshot(st.cfg, ctxReader{ctx, r}, func(newSlot func() func(uint64) []float32) error {
			// As many goroutines as the machine runs (this one waits):
			// at a million vectors decoding them is most of an open.
			return c.LoadVectors(func() func(uint64) []float32 {
				slot, tick := newSlot(), ticker{ctx: ctx}
				return func(label uint64) []float32 {
					if tick.tick() != nil {
						return nil
					}
					return slot(label)
				}
			}, runtime.GOMAXPROCS(0), dam.add)
		}, pending, &dam)
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		snap <- loaded{idx, outside, err}
	}()
	// The snapshot goroutine must finish before the transaction (and the
	// memory its reader and the vector store point into) ends, also when
	// reading the heads panics on a damaged page: the transaction's guard
	// recovers that panic and closes the transaction, and the goroutine
	// would go on reading through it.
	waited := false
	defer func() {
		if !waited {
			<-snap
		}
	}()
	// The live set is made at its size: growing a map of a million
	// entries rehashes it a score of times (a fifth of the heads' time,
	// measured). Count walks the ID map's pages, which checkIDs reads
	// anyway.
	if n := c.Count(); n > 0 && len(st.live) == 0 {
		st.live = make(map[uint64]liveDoc, n)
	}
	// live sums the (ID, label) pairs as the live set is filled, for the
	// ID map check.
	var live pairSum
	tick := ticker{ctx: ctx}
	// Heads first, then wait.
	headErr := c.ForEachHead(func(label uint64, payload []byte) error {
		if err := tick.tick(); err != nil {
			return err
		}
		id, md, err := readHead(payload)
		if err != nil {
			return fmt.Errorf("label %d: %w", label, err)
		}
		st.live[label] = liveDoc{id: id, md: md}
		addPair(&live, id, label)
		return nil
	})
	// The ID map is checked against the heads while the snapshot
	// goroutine still loads vectors, not after it, where the scan of a
	// million IDs ran alone at the end of the open (its cost at 1M is not
	// measured yet). Its error counts only where it did before, after
	// those of the heads and the snapshot.
	var idErr error
	if headErr == nil && ctx.Err() == nil {
		idErr = st.checkIDs(ctx, c, live)
	}
	l := <-snap
	waited = true
	if err := ctx.Err(); err != nil {
		// Not the snapshot's fault, whatever its decoder made of it.
		return false, err
	}
	if headErr != nil {
		// The heads are data: their damage is reported, not rebuilt around.
		return false, headErr
	}
	if l.err != nil {
		return false, snapshotErrorf("index snapshot: %w", l.err)
	}
	if pendErr != nil {
		return false, &snapshotError{pendErr}
	}
	if l.idx.Dim() != int(st.cfg.Dimension) || l.idx.Metric() != st.metric {
		return false, snapshotErrorf("%w: index snapshot has dimension %d and metric %v, collection has %d and %v", ErrCorrupt, l.idx.Dim(), l.idx.Metric(), st.cfg.Dimension, st.metric)
	}
	st.idx = l.idx
	if idErr != nil {
		return false, idErr
	}
	// Documents whose stored vector the loader found damaged leave the
	// graph (their nodes hold a neighbour's vector; see loadSnapshot).
	dam.apply(st)
	// Replay what the snapshot lacks: a pending label is either stored (add
	// or replace its vector) or gone (delete it).
	var vec []float32
	for _, label := range pending {
		if err := tick.tick(); err != nil {
			return false, err
		}
		if _, ok := st.live[label]; !ok {
			st.idx.Delete(label)
			continue
		}
		if _, bad := st.damaged[label]; bad {
			continue
		}
		var ok bool
		vec, ok, err = c.Vector(label, vec[:0])
		if st.leaveOut(label, err) {
			continue
		}
		if err != nil {
			return false, err
		}
		if !ok {
			return false, fmt.Errorf("%w: label %d has a head but no document", ErrCorrupt, label)
		}
		if err := st.idx.Add(label, vec); err != nil {
			// The same vector is refused by a rebuild too, which then
			// names the document.
			return false, snapshotErrorf("%w: replaying document %q: %v", ErrCorrupt, st.live[label].id, err)
		}
	}
	if n := st.idx.Len(); n != len(st.live)-len(st.damaged) {
		// A document the graph lacks may be one whose vector is missing
		// from the store altogether (no row to find damaged): one lookup
		// per document tells, on this path only.
		if err := st.findUnindexed(ctx, c); err != nil {
			return false, err
		}
	}
	if n := st.idx.Len(); n != len(st.live)-len(st.damaged) {
		// The snapshot and the pending list together must account for
		// every document; when they do not, the cache is wrong, not the
		// data.
		return false, snapshotErrorf("%w: the index snapshot and the pending list hold %d vectors for %d documents (%d with damaged vectors)", ErrCorrupt, n, len(st.live), len(st.damaged))
	}
	st.hasSnapshot = true
	st.pending = len(pending)
	if vs := st.cfg.GetVectors(); !l.outside && vs != nil && !vs.Moving && st.cfg.Index.GetQuantization() != QuantizationInt8 {
		// A snapshot of an upgraded file still holds the vectors the store
		// now has: a writable handle replaces it at Close, whatever the
		// number of pending writes, so that the file holds them once.
		st.hasSnapshot = false
		st.pending = max(st.pending, 1)
	}
	return true, nil
}

// rebuild fills the live set and the index from the documents.
func (st *colState) rebuild(ctx context.Context, c *storage.CollectionTx, report func(RecoveryEvent)) error {
	labels, vecs, err := st.readDocuments(ctx, c)
	if err != nil {
		return err
	}
	if st.rebuilt != nil {
		// The heads were read, or were about to be, when the snapshot
		// failed; the next open with a good snapshot reads them again. A
		// damaged head must fail this open as it would that one, not go
		// unnoticed until then.
		if err := st.checkHeads(ctx, c); err != nil {
			return err
		}
	}
	var progress func(done, total int)
	if report != nil && st.rebuilt != nil {
		progress = func(done, total int) {
			report(RecoveryEvent{Collection: st.cfg.Name, Reason: st.rebuilt, Done: done, Total: total})
		}
	}
	if err := addAllProgress(ctx, st.idx, labels, vecs, progress); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: rebuilding the index: %v", ErrCorrupt, err)
	}
	if st.rebuilt != nil {
		// Everything is unsnapshotted: the pending list cannot be trusted.
		st.pending = max(len(st.live), 1)
		return nil
	}
	pending, err := c.Pending()
	if err != nil {
		// Without a snapshot the pending list only decides when to write
		// one; a damaged list is replaced by the next snapshot.
		st.rebuilt = err
		if report != nil {
			report(RecoveryEvent{Collection: st.cfg.Name, Reason: err, Done: len(labels), Total: len(labels)})
		}
		st.pending = max(len(st.live), 1)
		return nil
	}
	st.pending = len(pending)
	return nil
}

// readDocuments fills the live set from the documents, checks them against
// the ID map, and returns every label with its vector for the index. A
// document whose vector is damaged is in the live set but not among the
// vectors (see colState.damaged).
func (st *colState) readDocuments(ctx context.Context, c *storage.CollectionTx) ([]uint64, [][]float32, error) {
	var live pairSum
	var labels []uint64
	var vecs [][]float32
	tick := ticker{ctx: ctx}
	err := c.EachDocument(func(label uint64, d *storage.DocumentRecord, vecErr error) error {
		if err := tick.tick(); err != nil {
			return err
		}
		md, err := metadataFromRecord(d.Metadata)
		if err != nil {
			return fmt.Errorf("document %q: %w", d.Id, err)
		}
		st.live[label] = liveDoc{id: d.Id, md: md}
		addPair(&live, d.Id, label)
		if vecErr == nil {
			if err := checkVector(d.Vector, int(st.cfg.Dimension), st.metric); err != nil {
				// Stored (its checksum holds) but not indexable: damage
				// all the same, and left out like a damaged vector.
				vecErr = &storage.VectorError{Label: label, Last: label, Err: fmt.Errorf("%w: %v", ErrCorrupt, err)}
			}
		}
		if st.leaveOut(label, vecErr) {
			return nil
		}
		labels = append(labels, label)
		vecs = append(vecs, d.Vector)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if err := st.checkIDs(ctx, c, live); err != nil {
		return nil, nil, err
	}
	return labels, vecs, nil
}

// checkHeads checks that every head decodes and that the heads hold the
// live set's (ID, label) pairs.
func (st *colState) checkHeads(ctx context.Context, c *storage.CollectionTx) error {
	var heads, live pairSum
	tick := ticker{ctx: ctx}
	err := c.ForEachHead(func(label uint64, payload []byte) error {
		if err := tick.tick(); err != nil {
			return err
		}
		id, _, err := readHead(payload)
		if err != nil {
			return fmt.Errorf("label %d: %w", label, err)
		}
		addPair(&heads, id, label)
		return nil
	})
	if err != nil {
		return err
	}
	for label, d := range st.live {
		addPair(&live, d.id, label)
	}
	if heads != live {
		return fmt.Errorf("%w: the heads (%d) do not match the documents (%d)", ErrCorrupt, heads.n, live.n)
	}
	return nil
}

// checkIDs checks the ID map against the live set.
//
// Every ID must point at a document that carries that ID, and there must be
// one ID per document: a damaged key in either bucket would otherwise
// surface later as a silent "not found". The ID map and the documents must
// hold the same set of (ID, label) pairs; comparing the sizes and
// order-independent sums of a 64-bit hash of each pair checks that with two
// sequential scans, where looking each ID up in the live set cost a cache
// miss per document (half a second at a million).
func (st *colState) checkIDs(ctx context.Context, c *storage.CollectionTx, live pairSum) error {
	var stored pairSum
	tick := ticker{ctx: ctx}
	err := c.ForEachID(func(id []byte, label uint64) error {
		if err := tick.tick(); err != nil {
			return err
		}
		addPair(&stored, id, label)
		return nil
	})
	if err != nil {
		return err
	}
	if stored != live {
		return fmt.Errorf("%w: the ID map (%d IDs) does not match the documents (%d)", ErrCorrupt, stored.n, live.n)
	}
	return nil
}

// pairSum summarizes a set of (ID, label) pairs: its size and the sum of a
// 64-bit hash of each pair, so two sets built in different orders compare
// equal exactly when they match (up to a 2^-64 chance per damaged pair).
type pairSum struct {
	n   int
	sum uint64
}

// addPair adds one pair to p.
func addPair[S []byte | string](p *pairSum, id S, label uint64) {
	// FNV-1a over the ID, the label folded in, then a splitmix64 finish
	// so that similar pairs spread over all 64 bits before summing.
	h := uint64(14695981039346656037)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	h ^= label * 0x9e3779b97f4a7c15
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	p.n++
	p.sum += h
}

// batchAdder is an index that builds faster from a batch (in parallel).
type batchAdder interface {
	AddBatch(ctx context.Context, ids []uint64, vecs [][]float32) error
}

// rebuildChunk is how many vectors addAll adds between progress reports.
const rebuildChunk = 2048

// addAll adds vectors to an index, in parallel where the index can.
func addAll(idx index.Index, labels []uint64, vecs [][]float32) error {
	return addSome(context.Background(), idx, labels, vecs)
}

// addAllProgress is addAll with progress: if progress is not nil it is
// called after each chunk of rebuildChunk vectors; without it the whole
// batch goes to the index at once.
func addAllProgress(ctx context.Context, idx index.Index, labels []uint64, vecs [][]float32, progress func(done, total int)) error {
	chunk := len(labels)
	if progress != nil {
		chunk = rebuildChunk
	}
	for start := 0; start < len(labels); start += chunk {
		end := min(start+chunk, len(labels))
		if err := addSome(ctx, idx, labels[start:end], vecs[start:end]); err != nil {
			return err
		}
		if progress != nil {
			progress(end, len(labels))
		}
	}
	if progress != nil && len(labels) == 0 {
		progress(0, 0)
	}
	return nil
}

func addSome(ctx context.Context, idx index.Index, labels []uint64, vecs [][]float32) error {
	if b, ok := idx.(batchAdder); ok && len(labels) > 1 {
		return b.AddBatch(ctx, labels, vecs)
	}
	for i, l := range labels {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := idx.Add(l, vecs[i]); err != nil {
			return err
		}
	}
	return nil
}

// checkpoint writes the index snapshot when enough writes have accumulated
// (or always when force and anything is pending). The caller must not hold
// c.writeMu.
func (c *Collection) checkpoint(force bool) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.checkpointLocked(force)
}

func (c *Collection) checkpointLocked(force bool) error {
	if c.dropped.Load() {
		return nil
	}
	if !force {
		c.maybeTune(c.st.Load()) // after each write; see recall.go
	}
	st := c.st.Load()
	if st.pending == 0 || st.unindexed {
		// unindexed: a snapshot would drop from the pending list writes
		// the index lacks; the next open must replay them.
		return nil
	}
	kind := st.cfg.Index.GetKind()
	_, canSnapshot := st.idx.(snapshotter)
	st.liveMu.RLock()
	n := len(st.live)
	st.liveMu.RUnlock()
	switch {
	case !canSnapshot:
		// Only the pending list is cleared; that is always cheap.
	case force:
		// At Close, a snapshot is worth writing when replaying the pending
		// writes on the next open would cost more than writing it: always
		// for small collections or when none exists, otherwise once the
		// pending writes reach 1% of the collection. Rewriting gigabytes
		// of graph for a handful of writes would make Close slow.
		if st.hasSnapshot && n >= closeSnapshotSmall && st.pending*100 < n {
			return nil
		}
	default:
		if st.pending < c.db.opts.snapshotMin || float64(st.pending) < c.db.opts.snapshotFrac*float64(n) {
			return nil
		}
	}
	err := c.db.store.Update(func(tx *storage.Tx) error {
		ctx, err := tx.Collection(c.name)
		if err != nil {
			return err
		}
		// An index without a snapshot form is rebuilt from the documents
		// on open; its empty snapshot just clears the pending list.
		return putSnapshot(ctx, kind, st.idx)
	})
	if err != nil {
		return fmt.Errorf("vecbolt: snapshot collection %q: %w", c.name, err)
	}
	st.pending = 0
	st.hasSnapshot = canSnapshot
	return nil
}

// closeSnapshotSmall is the collection size below which Close always
// snapshots pending writes.
const closeSnapshotSmall = 10000

// metadataFromRecord converts stored metadata.
func metadataFromRecord(m map[string]*storage.Value) (query.Metadata, error) {
	if len(m) == 0 {
		return nil, nil
	}
	md := make(query.Metadata, len(m))
	for k, v := range m {
		qv, err := valueFromRecord(v)
		if err != nil {
			return nil, fmt.Errorf("metadata %q: %w", k, err)
		}
		md[k] = qv
	}
	return md, nil
}
