// Code generated from the format-1 writer (fulltext/writer.go before the
// tails of format 2, commit 4113dad) for the compatibility tests: it
// writes indexes as vecbolt did before. Do not change.

package fulltext

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"go.etcd.io/bbolt"
)

// v1Writer updates the index in a bucket of a writable transaction. Adds are
// buffered per term and written by [v1Writer.Flush], which the caller must
// call before committing the transaction (writing each term's posting list
// once per batch, not once per document, is what makes bulk inserts fast).
// A v1Writer is not safe for concurrent use, like the transaction it writes
// in, and it keeps the statistics in memory until Flush: use one v1Writer per
// bucket and transaction at a time (Flush before making another).
type v1Writer struct {
	a          *Analyzer
	root       *bbolt.Bucket
	post, docs *bbolt.Bucket
	st         stats
	dirty      bool

	pending     map[string][]posting
	pendingDocs map[uint64]struct{}
	nPending    int // postings in pending
	maxPending  int // flush when nPending reaches it

	terms  []string
	counts map[string]uint32
	rec    []termFreq
	ps     []posting
	merged []posting
	seek   []byte
	arena  []byte
}

// NewWriter returns a writer over bucket b, which must belong to a
// writable transaction; it creates the index's layout in b if b is empty.
// Use the same analyzer configuration for every writer and reader of b.
func newV1Writer(b *bbolt.Bucket, a *Analyzer) (*v1Writer, error) {
	if b == nil || a == nil {
		return nil, errors.New("fulltext: NewWriter needs a bucket and an analyzer")
	}
	if !b.Writable() {
		return nil, errors.New("fulltext: NewWriter needs a bucket of a writable transaction")
	}
	w := &v1Writer{a: a, root: b, pending: map[string][]posting{}, pendingDocs: map[uint64]struct{}{}, counts: map[string]uint32{}, maxPending: maxPending}
	if v := b.Get(keyMeta); v != nil {
		st, err := decodeStats(v)
		if err != nil {
			return nil, err
		}
		w.st = st
	} else {
		w.dirty = true
	}
	var err error
	if w.post, err = b.CreateBucketIfNotExists(bucketPost); err != nil {
		return nil, fmt.Errorf("fulltext: %w", err)
	}
	if w.docs, err = b.CreateBucketIfNotExists(bucketDocs); err != nil {
		return nil, fmt.Errorf("fulltext: %w", err)
	}
	// Labels mostly grow, so forward records are appended: full pages
	// waste nothing (bbolt's default splits leave them half empty).
	w.docs.FillPercent = 1
	w.post.FillPercent = postFillPercent

	return w, nil
}

// Add indexes text as the document with this label. A label that is
// already indexed is replaced (as by Delete, then Add).
//
// Labels are any uint64 except [math.MaxUint64], which searches use as a
// sentinel.
func (w *v1Writer) Add(label uint64, text string) error {
	if label == math.MaxUint64 {
		return fmt.Errorf("fulltext: label %d is reserved", label)
	}
	w.terms = w.a.Terms(w.terms[:0], text)
	if uint64(len(w.terms)) > math.MaxUint32 {
		return fmt.Errorf("fulltext: document %d has %d terms (at most %d)", label, len(w.terms), uint32(math.MaxUint32))
	}
	return w.add(label, w.terms)
}

// add indexes a document given its terms.
func (w *v1Writer) add(label uint64, terms []string) error {
	var kb [8]byte
	if w.docs.Get(labelKey(kb[:0], label)) != nil {
		if err := w.Delete(label); err != nil {
			return err
		}
	}
	// Counting in a map and sorting the distinct terms costs less than
	// sorting all of them (a description repeats many of its words).
	for _, t := range terms {
		w.counts[t]++
	}
	rec := docRecord{length: uint32(len(terms)), terms: w.rec[:0]}
	for t, n := range w.counts {
		rec.terms = append(rec.terms, termFreq{t, n})
	}
	clear(w.counts)
	slices.SortFunc(rec.terms, func(a, b termFreq) int { return strings.Compare(a.term, b.term) })
	w.rec = rec.terms
	for _, t := range rec.terms {
		ps, ok := w.pending[t.term]
		if !ok {
			// Keys must not pin the document's text.
			t.term = strings.Clone(t.term)
		}
		w.pending[t.term] = append(ps, posting{label: label, tf: t.tf, dl: rec.length})
	}
	// bbolt keeps references to keys and values until the transaction
	// ends: every Put gets memory of its own.
	kv := appendDocRecord(labelKey(make([]byte, 0, 16+len(terms)*8), label), rec)
	if err := w.docs.Put(kv[:8:8], kv[8:]); err != nil {
		return fmt.Errorf("fulltext: %w", err)
	}
	if len(rec.terms) > 0 {
		w.pendingDocs[label] = struct{}{}
	}
	w.nPending += len(rec.terms)
	w.st.docs++
	w.st.length += uint64(rec.length)
	w.dirty = true
	if w.nPending >= w.maxPending {
		// Bounded memory when one transaction adds a whole collection
		// (building the index of an existing file).
		return w.Flush()
	}
	return nil
}

// Delete removes the document with this label, wrapping [ErrNotFound] if
// there is none.
func (w *v1Writer) Delete(label uint64) error {
	if _, ok := w.pendingDocs[label]; ok {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	key := labelKey(nil, label)
	v := w.docs.Get(key)
	if v == nil {
		return fmt.Errorf("%w: label %d", ErrNotFound, label)
	}
	rec, err := decodeDocRecord(v)
	if err != nil {
		return fmt.Errorf("document %d: %w", label, err)
	}
	if w.st.docs == 0 || w.st.length < uint64(rec.length) {
		return fmt.Errorf("%w: statistics (%d documents, length %d) cannot hold document %d", ErrCorrupt, w.st.docs, w.st.length, label)
	}
	for _, t := range rec.terms {
		if err := w.removePosting(t.term, label); err != nil {
			return err
		}
	}
	if err := w.docs.Delete(key); err != nil {
		return fmt.Errorf("fulltext: %w", err)
	}
	w.st.docs--
	w.st.length -= uint64(rec.length)
	w.dirty = true
	return nil
}

// removePosting deletes label's posting from term's list.
func (w *v1Writer) removePosting(term string, label uint64) error {
	metaV := w.post.Get([]byte(term))
	if metaV == nil {
		return fmt.Errorf("%w: term %q of document %d has no posting list", ErrCorrupt, term, label)
	}
	m, err := decodeTermMeta(metaV)
	if err != nil {
		return fmt.Errorf("term %q: %w", term, err)
	}
	seek := blockKey(nil, term, label)
	k, v, _, _ := findBlock(w.post.Cursor(), term, label, seek)
	if k == nil {
		return fmt.Errorf("%w: term %q has a record but no blocks", ErrCorrupt, term)
	}
	k = bytes.Clone(k)
	var h blockHeader
	h, w.ps, err = decodeBlock(v, w.ps)
	if err != nil {
		return fmt.Errorf("term %q: %w", term, err)
	}
	if binary.BigEndian.Uint64(k[len(term)+1:]) != h.first {
		return fmt.Errorf("%w: block key of term %q says label %d, block starts at %d", ErrCorrupt, term, binary.BigEndian.Uint64(k[len(term)+1:]), h.first)
	}
	i, found := slices.BinarySearchFunc(w.ps, label, func(p posting, l uint64) int {
		switch {
		case p.label < l:
			return -1
		case p.label > l:
			return 1
		}
		return 0
	})
	if !found {
		return fmt.Errorf("%w: term %q has no posting for document %d", ErrCorrupt, term, label)
	}
	w.ps = slices.Delete(w.ps, i, i+1)
	if err := w.post.Delete(k); err != nil {
		return fmt.Errorf("fulltext: %w", err)
	}
	if len(w.ps) > 0 {
		kv := appendBlock(blockKey(nil, term, w.ps[0].label), w.ps)
		n := len(term) + 9
		if err := w.post.Put(kv[:n:n], kv[n:]); err != nil {
			return fmt.Errorf("fulltext: %w", err)
		}
	}
	if m.df--; m.df == 0 {
		if len(w.ps) > 0 {
			return fmt.Errorf("%w: term %q has more postings than its document frequency", ErrCorrupt, term)
		}
		return w.post.Delete([]byte(term))
	}
	return w.post.Put([]byte(term), appendTermMeta(nil, m))
}

// Flush writes the buffered postings and the statistics. Call it before
// committing the transaction.
func (w *v1Writer) Flush() error {
	if len(w.pending) > 0 {
		terms := make([]string, 0, len(w.pending))
		for t := range w.pending {
			terms = append(terms, t)
		}
		// Key order keeps bbolt's page accesses sequential.
		slices.Sort(terms)
		for _, t := range terms {
			if err := w.mergeTerm(t, w.pending[t]); err != nil {
				return err
			}
		}
		clear(w.pending)
		clear(w.pendingDocs)
		w.nPending = 0
	}
	if w.dirty {
		if err := w.root.Put(keyMeta, appendV1Stats(w.st)); err != nil {
			return fmt.Errorf("fulltext: %w", err)
		}
		w.dirty = false
	}
	return nil
}

// mergeTerm inserts news (distinct labels, none already in the list) into
// term's posting list.
func (w *v1Writer) mergeTerm(term string, news []posting) error {
	if !slices.IsSortedFunc(news, cmpPosting) {
		slices.SortFunc(news, cmpPosting)
	}
	var m termMeta
	// One cursor serves the record and the blocks (Bucket.Get would make
	// a cursor of its own each time).
	c := w.post.Cursor()
	w.seek = append(w.seek[:0], term...)
	exists := false
	if k, v := c.Seek(w.seek); k != nil && string(k) == term {
		var err error
		if m, err = decodeTermMeta(v); err != nil {
			return fmt.Errorf("term %q: %w", term, err)
		}
		exists = true
	} else {
		if k != nil && len(k) == len(term)+9 && string(k[:len(term)]) == term && k[len(term)] == 0 {
			return fmt.Errorf("%w: term %q has blocks but no record", ErrCorrupt, term)
		}
		m.minDL = math.MaxUint32
	}
	for _, p := range news {
		m.maxTF = max(m.maxTF, p.tf)
		m.minDL = min(m.minDL, p.dl)
	}
	for len(news) > 0 {
		var k, v []byte
		var next uint64
		var hasNext bool
		if exists {
			// A new term has no blocks to look for (it had no record,
			// and the key after where it would be is not one of its
			// blocks): its postings are written as they are.
			w.seek = blockKey(w.seek[:0], term, news[0].label)
			k, v, next, hasNext = findBlock(c, term, news[0].label, w.seek)
		}
		merged := news
		take := len(news)
		if k != nil {
			if bytes.Equal(k, w.seek) {
				return fmt.Errorf("%w: document %d already has a posting for term %q", ErrCorrupt, news[0].label, term)
			}
			oldFirst := binary.BigEndian.Uint64(k[len(term)+1:])
			var err error
			if _, w.ps, err = decodeBlock(v, w.ps); err != nil {
				return fmt.Errorf("term %q: %w", term, err)
			}
			if hasNext {
				take, _ = slices.BinarySearchFunc(news, next, func(p posting, l uint64) int {
					switch {
					case p.label < l:
						return -1
					case p.label > l:
						return 1
					}
					return 0
				})
			}
			merged = slices.Grow(w.merged[:0], len(w.ps)+take)
			a, b := w.ps, news[:take]
			for len(a) > 0 && len(b) > 0 {
				switch {
				case a[0].label < b[0].label:
					merged = append(merged, a[0])
					a = a[1:]
				case a[0].label > b[0].label:
					merged = append(merged, b[0])
					b = b[1:]
				default:
					return fmt.Errorf("%w: document %d already has a posting for term %q", ErrCorrupt, a[0].label, term)
				}
			}
			merged = append(append(merged, a...), b...)
			w.merged = merged
			if merged[0].label != oldFirst {
				// The new postings precede the term's first block, whose
				// key changes. Otherwise the first chunk's Put below
				// replaces the block in place: a Delete would cost a
				// search and a rebalance of the page for nothing.
				if err := w.post.Delete(k); err != nil {
					return fmt.Errorf("fulltext: %w", err)
				}
			}
		}
		for i := 0; i < len(merged); i += BlockSize {
			chunk := merged[i:min(i+BlockSize, len(merged))]
			kv := appendBlock(blockKey(w.alloc(len(term)+9+8+len(chunk)*4), term, chunk[0].label), chunk)
			n := len(term) + 9
			if err := w.post.Put(kv[:n:n], kv[n:len(kv):len(kv)]); err != nil {
				return fmt.Errorf("fulltext: %w", err)
			}
		}
		m.df += uint64(take)
		news = news[take:]
	}
	kv := appendTermMeta(append(w.alloc(len(term)+24), term...), m)
	n := len(term)
	return w.post.Put(kv[:n:n], kv[n:len(kv):len(kv)])
}

// alloc returns an empty slice of capacity at least n for a key or value
// to Put. bbolt keeps references to them until the transaction ends, so
// each gets memory of its own; carving them from chunks saves an
// allocation per Put.
func (w *v1Writer) alloc(n int) []byte {
	if n > allocChunk/8 {
		return make([]byte, 0, n)
	}
	if cap(w.arena)-len(w.arena) < n {
		w.arena = make([]byte, 0, allocChunk)
	}
	b := w.arena[len(w.arena) : len(w.arena) : len(w.arena)+n]
	w.arena = w.arena[:len(w.arena)+n]
	return b
}

// appendV1Stats encodes the statistics record as format 1 did.
func appendV1Stats(s stats) []byte {
	dst := binary.AppendUvarint(nil, 1)
	dst = binary.AppendUvarint(dst, s.docs)
	return binary.AppendUvarint(dst, s.length)
}
