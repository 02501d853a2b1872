package db

// Documents with damaged vectors. Since format 4 a vector is stored once,
// in the collection's vector store (storage/vectors.go), with a checksum
// per vector; the document's record (ID, text, metadata) has its own. A
// vector that fails its checksum, or is missing from the store, damages
// one document, not its collection: loading the collection leaves the
// document out of the index (so no search returns it), keeps it in the
// live set (it is stored, counted, and readable but for its vector),
// lists it in CollectionInfo.DamagedVectors, and Get names it in a
// *DamagedVectorError when asked for its vector. Upsert or Delete of the
// document writes or removes the vector, which is the repair. Check
// reports each such document as a ProblemVector. An int8 collection loads
// from its snapshot without reading float vectors: a damaged one is met
// by the first search that re-ranks it, which records it and runs again
// without it (searchInt8).

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/vecbolt/vecbolt/storage"
)

// DamagedVectorError reports a document whose stored vector cannot be read:
// it failed its checksum, or the file holds none. It wraps ErrCorrupt.
// The document's text and metadata are unaffected (Get without FieldVector
// returns them); Upsert or Delete of the document repairs it.
type DamagedVectorError struct {
	Collection string
	ID         string
	Err        error
}

func (e *DamagedVectorError) Error() string {
	return fmt.Sprintf("vecbolt: collection %q: document %q: damaged vector (upsert or delete the document to repair it): %v", e.Collection, short(e.ID), e.Err)
}

func (e *DamagedVectorError) Unwrap() error { return e.Err }

// asDamagedVector turns a *storage.VectorError met reading document id into
// a *DamagedVectorError; other errors are returned as they are.
func asDamagedVector(collection, id string, err error) error {
	var ve *storage.VectorError
	if errors.As(err, &ve) {
		return &DamagedVectorError{Collection: collection, ID: id, Err: err}
	}
	return err
}

// damagedVectors collects what the vector loader found damaged; the
// loader's goroutines add to it concurrently.
type damagedVectors struct {
	mu    sync.Mutex
	rows  map[uint64]error
	slabs []storage.VectorProblem
}

// add records one problem (storage.LoadVectors' damaged callback).
func (d *damagedVectors) add(p storage.VectorProblem) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p.Slab {
		d.slabs = append(d.slabs, p)
		return
	}
	if d.rows == nil {
		d.rows = make(map[uint64]error)
	}
	d.rows[p.Label] = p.Err
}

// has reports whether label's vector was found damaged.
func (d *damagedVectors) has(label uint64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.rows[label]; ok {
		return true
	}
	for _, s := range d.slabs {
		if label >= s.Label && label <= s.Last {
			return true
		}
	}
	return false
}

// apply leaves the live documents among the damaged labels out of st's
// index. Damaged rows of labels without a document are Check's to report.
func (d *damagedVectors) apply(st *colState) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for label, err := range d.rows {
		if _, ok := st.live[label]; ok {
			st.leaveOut(label, &storage.VectorError{Label: label, Last: label, Err: err})
		}
	}
	for _, s := range d.slabs {
		for label := s.Label; label <= s.Last && label >= s.Label; label++ {
			if _, ok := st.live[label]; ok {
				st.leaveOut(label, &storage.VectorError{Label: s.Label, Last: s.Last, Err: s.Err})
			}
		}
	}
}

// leaveOut reports whether err (from reading label's vector while
// loading) says the vector is damaged; if so label is recorded in
// st.damaged and taken out of the index. The caller holds liveMu for
// writing or owns st alone (a load).
func (st *colState) leaveOut(label uint64, err error) bool {
	var ve *storage.VectorError
	if !errors.As(err, &ve) {
		return false
	}
	st.damaged[label] = err
	st.idx.Delete(label)
	return true
}

// findUnindexed looks for live documents the index lacks whose vector
// cannot be read (a document whose row is missing from the vector store
// leaves nothing for the loader to find damaged) and leaves them out. One
// index lookup per document: only a load whose counts disagree runs it.
func (st *colState) findUnindexed(ctx context.Context, c *storage.CollectionTx) error {
	h, ok := st.idx.(interface{ Contains(id uint64) bool })
	if !ok {
		return nil
	}
	tick := ticker{ctx: ctx}
	var buf []float32
	for label := range st.live {
		if err := tick.tick(); err != nil {
			return err
		}
		if _, bad := st.damaged[label]; bad || h.Contains(label) {
			continue
		}
		var err error
		buf, _, err = c.Vector(label, buf[:0])
		if err != nil && !st.leaveOut(label, err) {
			return err
		}
	}
	return nil
}

// damagedIDs lists the IDs of the documents in st.damaged and
// st.rerankBad, sorted; nil when none. The caller holds liveMu.
func (st *colState) damagedIDs() []string {
	st.rerankMu.Lock()
	defer st.rerankMu.Unlock()
	if len(st.damaged)+len(st.rerankBad) == 0 {
		return nil
	}
	var ids []string
	for label := range maps.Keys(st.damaged) {
		ids = append(ids, st.live[label].id)
	}
	for label := range maps.Keys(st.rerankBad) {
		if d, ok := st.live[label]; ok {
			if _, dup := st.damaged[label]; !dup {
				ids = append(ids, d.id)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// rerankBadSet returns a copy of st.rerankBad for one search (nil when
// empty: the common case costs one lock).
func (st *colState) rerankBadSet() map[uint64]struct{} {
	st.rerankMu.Lock()
	defer st.rerankMu.Unlock()
	if len(st.rerankBad) == 0 {
		return nil
	}
	out := make(map[uint64]struct{}, len(st.rerankBad))
	for l := range st.rerankBad {
		out[l] = struct{}{}
	}
	return out
}

// noteRerankBad records label's damaged vector, met by a re-rank.
func (st *colState) noteRerankBad(label uint64, err error) {
	st.rerankMu.Lock()
	defer st.rerankMu.Unlock()
	if st.rerankBad == nil {
		st.rerankBad = make(map[uint64]error)
	}
	st.rerankBad[label] = err
}

// repaired forgets the damage recorded for labels that a write or delete
// just replaced or removed. The caller holds liveMu for writing.
func (st *colState) repaired(labels ...uint64) {
	for _, l := range labels {
		delete(st.damaged, l)
	}
	st.rerankMu.Lock()
	for _, l := range labels {
		delete(st.rerankBad, l)
	}
	st.rerankMu.Unlock()
}

// readRecord reads the document under label with the fields a reader
// asked for: the vector store is read only for FieldVector, so a damaged
// vector fails only the reads that want it (as a *DamagedVectorError
// naming the document), and the others skip 4 bytes per component.
func readRecord(ct *storage.CollectionTx, label uint64, fields Field) (*storage.DocumentRecord, bool, error) {
	if fields&FieldVector == 0 {
		return ct.Record(label)
	}
	rec, ok, err := ct.Document(label)
	if err != nil {
		var ve *storage.VectorError
		if errors.As(err, &ve) {
			// The record is readable: name the document.
			if r, ok2, err2 := ct.Record(label); err2 == nil && ok2 {
				return nil, false, asDamagedVector(ct.Name(), r.Id, err)
			}
		}
	}
	return rec, ok, err
}
