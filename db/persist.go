package db

import (
	"fmt"
	"io"

	"github.com/vecbolt/vecbolt/index"
	"github.com/vecbolt/vecbolt/query"
	"github.com/vecbolt/vecbolt/storage"
	"github.com/vecbolt/vecbolt/storage/pb"
)

// defaultIndexKind is the index new collections get.
const defaultIndexKind = IndexFlat

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
	case IndexFlat, IndexHNSW:
		// HNSW is served by the exact index until the graph lands; the
		// configuration already records the parameters it will use.
		return index.NewFlat(int(cfg.Dimension), m), nil
	}
	return nil, fmt.Errorf("%w: collection %q has unknown index kind %q", ErrCorrupt, cfg.Name, kind)
}

// loadSnapshot reads an index snapshot of the given kind; ok is false when
// the kind has no snapshot form.
func loadSnapshot(kind string, r io.Reader) (idx index.Index, ok bool, err error) {
	return nil, false, nil
}

// restore fills a fresh state from the file: documents and metadata always,
// the index from its snapshot plus the writes since (the pending labels)
// when a snapshot exists, otherwise by re-adding every vector.
func (st *colState) restore(c *storage.CollectionTx) error {
	var pending []uint64
	if err := c.CheckCounts(); err != nil {
		return err
	}
	kind, r, ok, err := c.Snapshot()
	if err != nil {
		return err
	}
	fromSnapshot := false
	if ok {
		idx, loaded, err := loadSnapshot(kind, r)
		if err != nil {
			return fmt.Errorf("index snapshot: %w", err)
		}
		if loaded {
			if idx.Dim() != int(st.cfg.Dimension) || idx.Metric() != st.metric {
				return fmt.Errorf("%w: index snapshot has dimension %d and metric %v, collection has %d and %v", ErrCorrupt, idx.Dim(), idx.Metric(), st.cfg.Dimension, st.metric)
			}
			st.idx = idx
			fromSnapshot = true
			if pending, err = c.Pending(); err != nil {
				return err
			}
		}
	}
	err = c.ForEachDocument(func(label uint64, d *storage.DocumentRecord) error {
		md, err := metadataFromRecord(d.Metadata)
		if err != nil {
			return fmt.Errorf("document %q: %w", d.Id, err)
		}
		st.live[label] = liveDoc{id: d.Id, md: md}
		if !fromSnapshot {
			if err := st.idx.Add(label, d.Vector); err != nil {
				return fmt.Errorf("%w: document %q: %v", ErrCorrupt, d.Id, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Every ID must point at a document that carries that ID: a damaged key
	// in either bucket would otherwise surface later as a silent "not found".
	err = c.ForEachID(func(id string, label uint64) error {
		if d, ok := st.live[label]; !ok || d.id != id {
			return fmt.Errorf("%w: ID %q maps to label %d, which does not hold it", ErrCorrupt, id, label)
		}
		return nil
	})
	if err != nil {
		return err
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
	st.pending = c.PendingCount()
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
	if st.pending == 0 {
		return nil
	}
	if !force {
		st.liveMu.RLock()
		n := len(st.live)
		st.liveMu.RUnlock()
		if st.pending < c.db.opts.snapshotMin || float64(st.pending) < c.db.opts.snapshotFrac*float64(n) {
			return nil
		}
	}
	kind := st.cfg.Index.GetKind()
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
	return nil
}

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
