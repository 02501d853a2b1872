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

// ErrNotFound is wrapped by Delete's error for a label that has no
// document in the index.
var ErrNotFound = errors.New("fulltext: no such document")

// postFillPercent is the fill of the posting bucket's pages after a
// split.
const postFillPercent = 0.9

var (
	keyMeta    = []byte("meta")
	bucketPost = []byte("post")
	bucketDocs = []byte("docs")
)

// Writer updates the index in a bucket of a writable transaction. Adds are
// buffered per term and written by [Writer.Flush], which the caller must
// call before committing the transaction (writing each term's posting list
// once per batch, not once per document, is what makes bulk inserts fast).
// A Writer is not safe for concurrent use, like the transaction it writes
// in, and it keeps the statistics in memory until Flush: use one Writer per
// bucket and transaction at a time (Flush before making another).
type Writer struct {
	a          *Analyzer
	root       *bbolt.Bucket
	post, docs *bbolt.Bucket
	st         stats
	dirty      bool

	pending     map[string][]posting
	pendingDocs map[uint64]struct{}
	nPending    int // postings in pending
	maxPending  int // flush when nPending reaches it
	cache       stemCache

	terms []string
	ps    []posting
}

// NewWriter returns a writer over bucket b, which must belong to a
// writable transaction; it creates the index's layout in b if b is empty.
// Use the same analyzer configuration for every writer and reader of b.
func NewWriter(b *bbolt.Bucket, a *Analyzer) (*Writer, error) {
	if b == nil || a == nil {
		return nil, errors.New("fulltext: NewWriter needs a bucket and an analyzer")
	}
	if !b.Writable() {
		return nil, errors.New("fulltext: NewWriter needs a bucket of a writable transaction")
	}
	w := &Writer{a: a, root: b, pending: map[string][]posting{}, pendingDocs: map[uint64]struct{}{}, cache: stemCache{}, maxPending: maxPending}
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

func labelKey(dst []byte, label uint64) []byte {
	return binary.BigEndian.AppendUint64(dst, label)
}

// blockKey is term 0x00 label.
func blockKey(dst []byte, term string, label uint64) []byte {
	dst = append(dst, term...)
	dst = append(dst, 0)
	return labelKey(dst, label)
}

// Add indexes text as the document with this label. A label that is
// already indexed is replaced (as by Delete, then Add).
//
// Labels are any uint64 except [math.MaxUint64], which searches use as a
// sentinel.
func (w *Writer) Add(label uint64, text string) error {
	if label == math.MaxUint64 {
		return fmt.Errorf("fulltext: label %d is reserved", label)
	}
	w.terms = w.a.terms(w.terms[:0], text, w.cache)
	if uint64(len(w.terms)) > math.MaxUint32 {
		return fmt.Errorf("fulltext: document %d has %d terms (at most %d)", label, len(w.terms), uint32(math.MaxUint32))
	}
	return w.add(label, w.terms)
}

// add indexes a document given its terms.
func (w *Writer) add(label uint64, terms []string) error {
	var kb [8]byte
	if w.docs.Get(labelKey(kb[:0], label)) != nil {
		if err := w.Delete(label); err != nil {
			return err
		}
	}
	slices.Sort(terms)
	rec := docRecord{length: uint32(len(terms))}
	for i := 0; i < len(terms); {
		j := i + 1
		for j < len(terms) && terms[j] == terms[i] {
			j++
		}
		rec.terms = append(rec.terms, termFreq{terms[i], uint32(j - i)})
		i = j
	}
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

// maxPending is the number of buffered postings (16 bytes each, plus the
// map) that makes Add flush by itself.
const maxPending = 1 << 22

// Delete removes the document with this label, wrapping [ErrNotFound] if
// there is none.
func (w *Writer) Delete(label uint64) error {
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

// findBlock positions c on the block of term that holds label, or would
// hold it: the last block starting at or before label, else the first
// block. It returns that block's key and value (nil if the term has no
// blocks) and the first label of the following block (ok false if none).
func findBlock(c *bbolt.Cursor, term string, label uint64, seek []byte) (k, v []byte, next uint64, hasNext bool) {
	prefixLen := len(term) + 1
	isBlock := func(k []byte) bool {
		return len(k) == prefixLen+8 && string(k[:len(term)]) == term && k[len(term)] == 0
	}
	sk, sv := c.Seek(seek)
	if sk != nil && isBlock(sk) && bytes.Equal(sk, seek) {
		nk, _ := c.Next()
		if nk != nil && isBlock(nk) {
			return sk, sv, binary.BigEndian.Uint64(nk[prefixLen:]), true
		}
		return sk, sv, 0, false
	}
	var pk, pv []byte
	if sk == nil {
		pk, pv = c.Last()
	} else {
		pk, pv = c.Prev()
	}
	if pk != nil && isBlock(pk) {
		if sk != nil && isBlock(sk) {
			return pk, pv, binary.BigEndian.Uint64(sk[prefixLen:]), true
		}
		return pk, pv, 0, false
	}
	if sk != nil && isBlock(sk) {
		// label precedes the term's first block.
		c.Seek(sk)
		nk, _ := c.Next()
		if nk != nil && isBlock(nk) {
			return sk, sv, binary.BigEndian.Uint64(nk[prefixLen:]), true
		}
		return sk, sv, 0, false
	}
	return nil, nil, 0, false
}

// removePosting deletes label's posting from term's list.
func (w *Writer) removePosting(term string, label uint64) error {
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
func (w *Writer) Flush() error {
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
		if err := w.root.Put(keyMeta, appendStats(nil, w.st)); err != nil {
			return fmt.Errorf("fulltext: %w", err)
		}
		w.dirty = false
	}
	return nil
}

// mergeTerm inserts news (distinct labels, none already in the list) into
// term's posting list.
func (w *Writer) mergeTerm(term string, news []posting) error {
	if !slices.IsSortedFunc(news, cmpPosting) {
		slices.SortFunc(news, cmpPosting)
	}
	var m termMeta
	if v := w.post.Get([]byte(term)); v != nil {
		var err error
		if m, err = decodeTermMeta(v); err != nil {
			return fmt.Errorf("term %q: %w", term, err)
		}
	} else {
		m.minDL = math.MaxUint32
	}
	for _, p := range news {
		m.maxTF = max(m.maxTF, p.tf)
		m.minDL = min(m.minDL, p.dl)
	}
	var seek []byte
	for len(news) > 0 {
		seek = blockKey(seek[:0], term, news[0].label)
		k, v, next, hasNext := findBlock(w.post.Cursor(), term, news[0].label, seek)
		var merged []posting
		take := len(news)
		if k != nil {
			if bytes.Equal(k, seek) {
				return fmt.Errorf("%w: document %d already has a posting for term %q", ErrCorrupt, news[0].label, term)
			}
			k = bytes.Clone(k)
			var err error
			var h blockHeader
			if h, w.ps, err = decodeBlock(v, w.ps); err != nil {
				return fmt.Errorf("term %q: %w", term, err)
			}
			_ = h
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
			merged = make([]posting, 0, len(w.ps)+take)
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
			if err := w.post.Delete(k); err != nil {
				return fmt.Errorf("fulltext: %w", err)
			}
		} else {
			merged = news
		}
		for i := 0; i < len(merged); i += BlockSize {
			chunk := merged[i:min(i+BlockSize, len(merged))]
			kv := appendBlock(blockKey(make([]byte, 0, len(term)+9+8+len(chunk)*4), term, chunk[0].label), chunk)
			n := len(term) + 9
			if err := w.post.Put(kv[:n:n], kv[n:]); err != nil {
				return fmt.Errorf("fulltext: %w", err)
			}
		}
		m.df += uint64(take)
		news = news[take:]
	}
	return w.post.Put([]byte(term), appendTermMeta(nil, m))
}

func cmpPosting(a, b posting) int {
	switch {
	case a.label < b.label:
		return -1
	case a.label > b.label:
		return 1
	}
	return 0
}
