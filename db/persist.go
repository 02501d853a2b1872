package db

import (
	"context"
	"fmt"
	"io"

	"github.com/vecbolt/vecbolt/index"
	"github.com/vecbolt/vecbolt/query"
	"github.com/vecbolt/vecbolt/storage"
	"github.com/vecbolt/vecbolt/storage/pb"
)

// defaultIndexKind is the index new collections get.
const defaultIndexKind = IndexHNSW

// snapshotter is an index that can write itself into the file so that
// reopening does not rebuild it.
type snapshotter interface {
	WriteTo(w io.Writer) (int64, error)
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

// loadSnapshot reads a graph snapshot.
func loadSnapshot(cfg *storage.CollectionConfig, r io.Reader) (index.Index, error) {
	h, err := index.ReadHNSW(r, index.WithEfSearch(int(cfg.Index.GetEfSearch())))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if want := cfg.Index.GetQuantization() == QuantizationInt8; h.Int8() != want {
		return nil, fmt.Errorf("%w: the graph snapshot's int8 mode (%v) is not the collection's (%v)", ErrCorrupt, h.Int8(), want)
	}
	return h, nil
}

// restore fills a fresh state from the file: documents and metadata always,
// the index from its snapshot plus the writes since (the pending labels)
// when a snapshot exists, otherwise by re-adding every vector.
//
// With a snapshot, the graph is decoded on a second goroutine while this one
// reads the documents' heads (IDs and metadata): the two are independent and
// each takes about half of the open time of a large collection.
func (st *colState) restore(c *storage.CollectionTx) error {
	var pending []uint64
	kind, r, ok, err := c.Snapshot()
	if err != nil {
		return err
	}
	type loaded struct {
		idx index.Index
		err error
	}
	var snap chan loaded
	// Only a graph snapshot of the collection's own kind is loaded; any
	// other index is rebuilt from the documents (a flat index is as fast to
	// rebuild as to read).
	if ok && kind == st.cfg.Index.GetKind() && kind == IndexHNSW {
		snap = make(chan loaded, 1)
		go func() {
			idx, err := loadSnapshot(st.cfg, r)
			snap <- loaded{idx, err}
		}()
		if pending, err = c.Pending(); err != nil {
			<-snap
			return err
		}
	}
	// live sums the (ID, label) pairs as the live set is filled, for the
	// ID map check below.
	var live pairSum
	fromSnapshot := false
	if snap != nil {
		// Heads first, then wait: the snapshot goroutine must finish before
		// the transaction (and the memory its reader points into) ends.
		headErr := c.ForEachHead(func(label uint64, payload []byte) error {
			id, md, err := readHead(payload)
			if err != nil {
				return fmt.Errorf("label %d: %w", label, err)
			}
			st.live[label] = liveDoc{id: id, md: md}
			addPair(&live, id, label)
			return nil
		})
		l := <-snap
		if l.err != nil {
			return fmt.Errorf("index snapshot: %w", l.err)
		}
		if headErr != nil {
			return headErr
		}
		if l.idx.Dim() != int(st.cfg.Dimension) || l.idx.Metric() != st.metric {
			return fmt.Errorf("%w: index snapshot has dimension %d and metric %v, collection has %d and %v", ErrCorrupt, l.idx.Dim(), l.idx.Metric(), st.cfg.Dimension, st.metric)
		}
		st.idx = l.idx
		fromSnapshot = true
		st.hasSnapshot = true
	}
	if !fromSnapshot {
		var labels []uint64
		var vecs [][]float32
		err = c.ForEachDocument(func(label uint64, d *storage.DocumentRecord) error {
			md, err := metadataFromRecord(d.Metadata)
			if err != nil {
				return fmt.Errorf("document %q: %w", d.Id, err)
			}
			st.live[label] = liveDoc{id: d.Id, md: md}
			addPair(&live, d.Id, label)
			if err := checkVector(d.Vector, int(st.cfg.Dimension), st.metric); err != nil {
				return fmt.Errorf("%w: document %q: %v", ErrCorrupt, d.Id, err)
			}
			labels = append(labels, label)
			vecs = append(vecs, d.Vector)
			return nil
		})
		if err != nil {
			return err
		}
		if err := addAll(st.idx, labels, vecs); err != nil {
			return fmt.Errorf("%w: rebuilding the index: %v", ErrCorrupt, err)
		}
	}
	// Every ID must point at a document that carries that ID, and there must
	// be one ID per document: a damaged key in either bucket would otherwise
	// surface later as a silent "not found". The ID map and the documents
	// must hold the same set of (ID, label) pairs; comparing the sizes and
	// order-independent sums of a 64-bit hash of each pair checks that with
	// two sequential scans, where looking each ID up in the live set cost a
	// cache miss per document (half a second at a million).
	var stored pairSum
	err = c.ForEachID(func(id []byte, label uint64) error {
		addPair(&stored, id, label)
		return nil
	})
	if err != nil {
		return err
	}
	if stored != live {
		return fmt.Errorf("%w: the ID map (%d IDs) does not match the documents (%d)", ErrCorrupt, stored.n, live.n)
	}
	// Replay what the snapshot lacks: a pending label is either stored (add
	// or replace its vector) or gone (delete it).
	for _, label := range pending {
		if _, ok := st.live[label]; !ok {
			st.idx.Delete(label)
			continue
		}
		d, ok, err := c.Document(label)
		if err != nil || !ok {
			return fmt.Errorf("%w: pending label %d vanished: %v", ErrCorrupt, label, err)
		}
		if err := st.idx.Add(label, d.Vector); err != nil {
			return fmt.Errorf("%w: document %q: %v", ErrCorrupt, d.Id, err)
		}
	}
	if n := st.idx.Len(); n != len(st.live) {
		return fmt.Errorf("%w: index holds %d vectors for %d documents", ErrCorrupt, n, len(st.live))
	}
	if fromSnapshot {
		st.pending = len(pending)
	} else {
		st.pending = c.PendingCount()
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

// addAll adds vectors to an index, in parallel where the index can.
func addAll(idx index.Index, labels []uint64, vecs [][]float32) error {
	if b, ok := idx.(batchAdder); ok && len(labels) > 1 {
		return b.AddBatch(context.Background(), labels, vecs)
	}
	for i, l := range labels {
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
		return ctx.PutSnapshot(kind, func(w io.Writer) error {
			if s, ok := st.idx.(snapshotter); ok {
				_, err := s.WriteTo(w)
				return err
			}
			// An index without a snapshot form is rebuilt from the
			// documents on open; the empty snapshot just clears the
			// pending list.
			return nil
		})
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
func metadataFromRecord(m map[string]*pb.Value) (query.Metadata, error) {
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
