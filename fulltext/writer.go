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
// split. Every transaction appends to the tail of each term it touches,
// in the term's record, so pages need room to grow: at 0.9 most of them
// split again at the next commit, and each split is another page to
// write. Ten thousand Debian descriptions in batches of 256 wrote 21,783
// pages at 0.9, 15,874 at 0.7, 15,299 at 0.5 (bbolt's default); with the
// format-1 layout, 36,157, 27,304 and 26,503.
const postFillPercent = 0.5

var (
	keyMeta      = []byte("meta")
	bucketPost   = []byte("post")
	bucketDocs   = []byte("docs")
	bucketBlocks = []byte("blocks")
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
	blocks     *bbolt.Bucket
	pc         *bbolt.Cursor // over post, see record
	st         stats
	dirty      bool
	// maxLabel bounds the labels of the forward records, if hasDocs.
	maxLabel uint64
	hasDocs  bool

	// pending holds the buffered postings: pendIdx maps a term to its
	// index in pendTerms and pendLists. The lists keep their memory from
	// one Flush to the next.
	pendIdx     map[string]int32
	pendTerms   []string
	pendLists   [][]posting
	pendingDocs map[uint64]struct{}
	nPending    int // postings in pending
	maxPending  int // flush when nPending reaches it

	terms []string
	rec   []termFreq
	ps    []posting
	tail  []posting
	// batchPs holds a term's postings in AddBatch (mergeTerm uses ps).
	batchPs []posting
	merged  []posting
	seek    []byte
	arena   []byte
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
	w := &Writer{a: a, root: b, pendIdx: map[string]int32{}, pendingDocs: map[uint64]struct{}{}, maxPending: maxPending}
	if v := b.Get(keyMeta); v != nil {
		st, err := decodeStats(v)
		if err != nil {
			return nil, err
		}
		w.st = st
		// The statistics record says which layout the index is in (see
		// doc.go): once this Writer may have written records of the
		// current one, it must say so.
		w.dirty = st.version != formatVersion
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
	if w.blocks, err = b.CreateBucketIfNotExists(bucketBlocks); err != nil {
		return nil, fmt.Errorf("fulltext: %w", err)
	}
	if k, _ := w.docs.Cursor().Last(); k != nil {
		if len(k) != 8 {
			return nil, fmt.Errorf("%w: forward record key of %d bytes", ErrCorrupt, len(k))
		}
		w.hasDocs, w.maxLabel = true, binary.BigEndian.Uint64(k)
	}
	// Labels mostly grow, so forward records are appended: full pages
	// waste nothing (bbolt's default splits leave them half empty).
	w.docs.FillPercent = 1
	w.post.FillPercent = postFillPercent
	w.blocks.FillPercent = postFillPercent
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
	w.terms = w.a.Terms(w.terms[:0], text)
	if uint64(len(w.terms)) > math.MaxUint32 {
		return fmt.Errorf("fulltext: document %d has %d terms (at most %d)", label, len(w.terms), uint32(math.MaxUint32))
	}
	rec := countTerms(w.terms, w.rec[:0])
	w.rec = rec.terms
	return w.add(label, rec, nil)
}

// AddDoc indexes a document that [Analyzer.Analyze] analyzed, as Add
// indexes its text. The analyzer must be the Writer's, or one of the same
// configuration.
func (w *Writer) AddDoc(label uint64, d *Doc) error {
	if label == math.MaxUint64 {
		return fmt.Errorf("fulltext: label %d is reserved", label)
	}
	if d == nil {
		return errors.New("fulltext: AddDoc of a nil Doc")
	}
	return w.add(label, d.rec, d.enc)
}

// Doc is a text analyzed for the index by [Analyzer.Analyze], for
// [Writer.AddDoc]. Analysis needs no transaction: a writer can analyze its
// documents before taking one, or beside other work (db analyzes a batch
// while the embedder works on it), and keep the transaction short.
type Doc struct {
	rec docRecord
	enc []byte // the forward record, encoded
}

// Analyze analyzes text for [Writer.AddDoc]. It is safe for concurrent
// use.
func (a *Analyzer) Analyze(text string) (*Doc, error) {
	s, _ := a.scratch.Get().(*analyzeScratch)
	if s == nil {
		s = &analyzeScratch{}
	}
	defer a.scratch.Put(s)
	s.terms = a.Terms(s.terms[:0], text)
	if uint64(len(s.terms)) > math.MaxUint32 {
		return nil, fmt.Errorf("fulltext: a text of %d terms (at most %d)", len(s.terms), uint32(math.MaxUint32))
	}
	rec := countTerms(s.terms, s.rec[:0])
	s.rec = rec.terms
	// The Doc keeps its own copy of the distinct terms (s is reused).
	rec.terms = slices.Clone(rec.terms)
	return &Doc{rec: rec, enc: appendDocRecord(make([]byte, 0, 8+len(rec.terms)*8), rec)}, nil
}

// analyzeScratch is the memory one Analyze call reuses from the last.
type analyzeScratch struct {
	terms []string
	rec   []termFreq
}

// countTerms returns the document record of terms (in text order, which
// it changes): its length and its distinct terms with their frequencies,
// sorted, appended to dst. Sorting the terms and counting runs costs less
// than counting in a map and sorting the distinct terms (5.5-6.5 against
// 8.6-9.1 CPU µs per Debian description).
func countTerms(terms []string, dst []termFreq) docRecord {
	rec := docRecord{length: uint32(len(terms)), terms: dst}
	slices.Sort(terms)
	for i := 0; i < len(terms); {
		j := i + 1
		for j < len(terms) && terms[j] == terms[i] {
			j++
		}
		rec.terms = append(rec.terms, termFreq{terms[i], uint32(j - i)})
		i = j
	}
	return rec
}

// add indexes a document given its record and, if not nil, the record
// encoded (memory of its own, which the Put keeps).
func (w *Writer) add(label uint64, rec docRecord, enc []byte) error {
	// Labels mostly grow: one above every forward record's is new, and
	// needs no look-up.
	if w.hasDocs && label <= w.maxLabel {
		var kb [8]byte
		if w.docs.Get(labelKey(kb[:0], label)) != nil {
			if err := w.Delete(label); err != nil {
				return err
			}
		}
	}
	if !w.hasDocs || label > w.maxLabel {
		w.hasDocs, w.maxLabel = true, label
	}
	for _, t := range rec.terms {
		i, ok := w.pendIdx[t.term]
		if !ok {
			// Keys must not pin the document's text.
			t.term = strings.Clone(t.term)
			i = int32(len(w.pendTerms))
			w.pendIdx[t.term] = i
			w.pendTerms = append(w.pendTerms, t.term)
			if int(i) < len(w.pendLists) {
				w.pendLists[i] = w.pendLists[i][:0]
			} else {
				w.pendLists = append(w.pendLists, nil)
			}
		}
		w.pendLists[i] = append(w.pendLists[i], posting{label: label, tf: t.tf, dl: rec.length})
	}
	// bbolt keeps references to keys and values until the transaction
	// ends: every Put gets memory of its own.
	if enc == nil {
		enc = appendDocRecord(w.alloc(8+len(rec.terms)*12), rec)
	}
	key := labelKey(w.alloc(8), label)
	if err := w.docs.Put(key, enc); err != nil {
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
	rec, err := w.record(term)
	if err != nil {
		return err
	}
	if rec == nil {
		return fmt.Errorf("%w: term %q of document %d has no posting list", ErrCorrupt, term, label)
	}
	m := rec.termMeta
	if w.tail, err = decodeTail(rec.tail, w.tail); err != nil {
		return fmt.Errorf("term %q: %w", term, err)
	}
	if len(w.tail) > 0 && label >= w.tail[0].label {
		i, found := slices.BinarySearchFunc(w.tail, label, cmpLabel)
		if !found {
			return fmt.Errorf("%w: term %q has no posting for document %d", ErrCorrupt, term, label)
		}
		w.tail = slices.Delete(w.tail, i, i+1)
	} else if err := w.removeFromBlocks(term, label); err != nil {
		return err
	}
	if m.df--; m.df == 0 {
		if len(w.tail) > 0 {
			return fmt.Errorf("%w: term %q has more postings than its document frequency", ErrCorrupt, term)
		}
		return w.post.Delete([]byte(term))
	}
	return w.putRecord(term, m, w.tail)
}

// removeFromBlocks deletes label's posting from the blocks (not the tail)
// of term, in the blocks bucket.
func (w *Writer) removeFromBlocks(term string, label uint64) error {
	seek := blockKey(nil, term, label)
	k, v, _, _ := findBlock(w.blocks.Cursor(), term, label, seek)
	if k == nil {
		return fmt.Errorf("%w: term %q has no posting for document %d", ErrCorrupt, term, label)
	}
	k = bytes.Clone(k)
	var h blockHeader
	var err error
	h, w.ps, err = decodeBlock(v, w.ps)
	if err != nil {
		return fmt.Errorf("term %q: %w", term, err)
	}
	if binary.BigEndian.Uint64(k[len(term)+1:]) != h.first {
		return fmt.Errorf("%w: block key of term %q says label %d, block starts at %d", ErrCorrupt, term, binary.BigEndian.Uint64(k[len(term)+1:]), h.first)
	}
	i, found := slices.BinarySearchFunc(w.ps, label, cmpLabel)
	if !found {
		return fmt.Errorf("%w: term %q has no posting for document %d", ErrCorrupt, term, label)
	}
	w.ps = slices.Delete(w.ps, i, i+1)
	if len(w.ps) == 0 || w.ps[0].label != h.first {
		if err := w.blocks.Delete(k); err != nil {
			return fmt.Errorf("fulltext: %w", err)
		}
	}
	if len(w.ps) > 0 {
		return w.putBlock(term, w.ps)
	}
	return nil
}

// record returns term's record (nil if the term has none), first moving
// a term still in the first layout to the current one: its blocks from
// the posting bucket to the blocks bucket, the last of them into the
// record as its tail. Indexes written before the tail existed are so
// converted term by term, as writes touch them.
func (w *Writer) record(term string) (*termRecord, error) {
	// One cursor serves every term of the transaction (a Seek starts
	// afresh from the root, whatever was written since), instead of one
	// allocated, and its stack grown, per term.
	if w.pc == nil {
		w.pc = w.post.Cursor()
	}
	c := w.pc
	w.seek = append(w.seek[:0], term...)
	k, v := c.Seek(w.seek)
	if k == nil || string(k) != term {
		if isBlockOf(k, term) {
			return nil, fmt.Errorf("%w: term %q has blocks but no record", ErrCorrupt, term)
		}
		return nil, nil
	}
	rec, err := decodeTermRecord(v)
	if err != nil {
		return nil, fmt.Errorf("term %q: %w", term, err)
	}
	if rec.v2 {
		return &rec, nil
	}
	// Collect first: deleting under a cursor makes it skip keys.
	var keys, vals [][]byte
	for k, v := c.Next(); isBlockOf(k, term); k, v = c.Next() {
		keys = append(keys, bytes.Clone(k))
		vals = append(vals, v)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: term %q has a record but no blocks", ErrCorrupt, term)
	}
	last := len(keys) - 1
	tail := bytes.Clone(vals[last])
	for i := range keys {
		if i < last {
			// Values of a writable transaction's pages change with its
			// writes: the blocks bucket gets copies.
			if err := w.blocks.Put(keys[i], bytes.Clone(vals[i])); err != nil {
				return nil, fmt.Errorf("fulltext: %w", err)
			}
		}
	}
	for _, k := range keys {
		if err := w.post.Delete(k); err != nil {
			return nil, fmt.Errorf("fulltext: %w", err)
		}
	}
	if w.tail, err = decodeTail(tail, w.tail); err != nil {
		return nil, fmt.Errorf("term %q: %w", term, err)
	}
	if err := w.putRecord(term, rec.termMeta, w.tail); err != nil {
		return nil, err
	}
	return &termRecord{termMeta: rec.termMeta, v2: true, tail: tail}, nil
}

func isBlockOf(k []byte, term string) bool {
	return len(k) == len(term)+9 && string(k[:len(term)]) == term && k[len(term)] == 0
}

func cmpLabel(p posting, l uint64) int {
	switch {
	case p.label < l:
		return -1
	case p.label > l:
		return 1
	}
	return 0
}

// decodeTail decodes a record's tail (none if raw is empty) into ps.
func decodeTail(raw []byte, ps []posting) ([]posting, error) {
	if len(raw) == 0 {
		return ps[:0], nil
	}
	_, ps, err := decodeBlock(raw, ps)
	return ps, err
}

func (w *Writer) putRecord(term string, m termMeta, tail []posting) error {
	kv := appendTermRecord(append(w.alloc(len(term)+16+len(tail)*8+24), term...), m, tail)
	n := len(term)
	if err := w.post.Put(kv[:n:n], kv[n:len(kv):len(kv)]); err != nil {
		return fmt.Errorf("fulltext: %w", err)
	}
	return nil
}

// putBlock writes ps (sorted, 1..BlockSize postings) as a block of term in
// the blocks bucket.
func (w *Writer) putBlock(term string, ps []posting) error {
	kv := appendBlock(blockKey(w.alloc(len(term)+9+8+len(ps)*8), term, ps[0].label), ps)
	n := len(term) + 9
	if err := w.blocks.Put(kv[:n:n], kv[n:len(kv):len(kv)]); err != nil {
		return fmt.Errorf("fulltext: %w", err)
	}
	return nil
}

// Flush writes the buffered postings and the statistics. Call it before
// committing the transaction.
func (w *Writer) Flush() error {
	if len(w.pendTerms) > 0 {
		order := make([]int32, len(w.pendTerms))
		for i := range order {
			order[i] = int32(i)
		}
		// Key order keeps bbolt's page accesses sequential.
		slices.SortFunc(order, func(a, b int32) int { return strings.Compare(w.pendTerms[a], w.pendTerms[b]) })
		for _, i := range order {
			if err := w.mergeTerm(w.pendTerms[i], w.pendLists[i]); err != nil {
				return err
			}
		}
		clear(w.pendIdx)
		clear(w.pendTerms)
		w.pendTerms = w.pendTerms[:0]
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
// term's posting list. Labels above every posting of the term's blocks go
// to the tail in its record (the common case: labels grow, so a batch
// rewrites one small value per term); the tail's first BlockSize postings
// become a block of their own whenever it grows past BlockSize. Others,
// rarer (a reused label), are merged into the blocks that cover them.
func (w *Writer) mergeTerm(term string, news []posting) error {
	if !slices.IsSortedFunc(news, cmpPosting) {
		slices.SortFunc(news, cmpPosting)
	}
	rec, err := w.record(term)
	if err != nil {
		return err
	}
	if rec != nil && len(rec.tail) > 0 {
		// The common case, labels that grow: the new postings follow
		// the tail's and fit in it. The tail's encoded postings stay as
		// they are; only its header changes.
		h, body, err := decodeHeader(rec.tail)
		if err != nil {
			return fmt.Errorf("term %q: %w", term, err)
		}
		if news[0].label > h.last && h.count+len(news) <= BlockSize {
			return w.appendTail(term, rec.termMeta, h, body, news)
		}
	}
	var m termMeta
	hasBlocks := false
	if rec == nil {
		m.minDL = math.MaxUint32
		w.tail = w.tail[:0]
	} else {
		m = rec.termMeta
		if w.tail, err = decodeTail(rec.tail, w.tail); err != nil {
			return fmt.Errorf("term %q: %w", term, err)
		}
		hasBlocks = rec.df > uint64(len(w.tail))
	}
	for _, p := range news {
		m.maxTF = max(m.maxTF, p.tf)
		m.minDL = min(m.minDL, p.dl)
	}
	m.df += uint64(len(news))
	toTail := news
	if hasBlocks && (len(w.tail) == 0 || news[0].label < w.tail[0].label) {
		// Some labels may belong in blocks: those up to the last label
		// of the last block.
		last, err := w.lastBlockLabel(term)
		if err != nil {
			return err
		}
		i, _ := slices.BinarySearchFunc(news, last+1, cmpLabel)
		if i > 0 {
			if err := w.mergeBlocks(term, news[:i]); err != nil {
				return err
			}
		}
		toTail = news[i:]
	}
	tail := w.tail
	if len(toTail) > 0 {
		merged, err := w.mergePostings(term, tail, toTail)
		if err != nil {
			return err
		}
		for len(merged) > BlockSize {
			if err := w.putBlock(term, merged[:BlockSize]); err != nil {
				return err
			}
			merged = merged[BlockSize:]
		}
		tail = merged
	}
	return w.putRecord(term, m, tail)
}

// appendTail writes term's record with news (sorted, above the tail's
// last label, fitting in it) appended to its tail, whose header is h and
// encoded postings body.
func (w *Writer) appendTail(term string, m termMeta, h blockHeader, body []byte, news []posting) error {
	prev := h.last
	h.count += len(news)
	h.last = news[len(news)-1].label
	for _, p := range news {
		m.maxTF, h.maxTF = max(m.maxTF, p.tf), max(h.maxTF, p.tf)
		m.minDL, h.minDL = min(m.minDL, p.dl), min(h.minDL, p.dl)
	}
	m.df += uint64(len(news))
	kv := append(w.alloc(len(term)+1+3*binary.MaxVarintLen64+5*binary.MaxVarintLen64+len(body)+len(news)*3*binary.MaxVarintLen32), term...)
	kv = appendTermMeta(append(kv, recordTail), m)
	kv = appendPostings(append(appendHeader(kv, h), body...), prev, news)
	n := len(term)
	if err := w.post.Put(kv[:n:n], kv[n:len(kv):len(kv)]); err != nil {
		return fmt.Errorf("fulltext: %w", err)
	}
	return nil
}

// lastBlockLabel returns the last label of term's last block, which must
// exist.
func (w *Writer) lastBlockLabel(term string) (uint64, error) {
	c := w.blocks.Cursor()
	w.seek = blockKey(w.seek[:0], term, math.MaxUint64)
	k, _ := c.Seek(w.seek)
	var v []byte
	if k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	if !isBlockOf(k, term) {
		return 0, fmt.Errorf("%w: term %q has fewer postings in its tail than its document frequency, and no blocks", ErrCorrupt, term)
	}
	h, _, err := decodeHeader(v)
	if err != nil {
		return 0, fmt.Errorf("term %q: %w", term, err)
	}
	return h.last, nil
}

// mergeBlocks inserts news (sorted, distinct, each at most the last label
// of term's blocks) into the blocks that cover them.
func (w *Writer) mergeBlocks(term string, news []posting) error {
	c := w.blocks.Cursor()
	for len(news) > 0 {
		w.seek = blockKey(w.seek[:0], term, news[0].label)
		k, v, next, hasNext := findBlock(c, term, news[0].label, w.seek)
		if k == nil {
			return fmt.Errorf("%w: term %q lost its blocks", ErrCorrupt, term)
		}
		if bytes.Equal(k, w.seek) {
			return fmt.Errorf("%w: document %d already has a posting for term %q", ErrCorrupt, news[0].label, term)
		}
		oldFirst := binary.BigEndian.Uint64(k[len(term)+1:])
		var err error
		if _, w.ps, err = decodeBlock(v, w.ps); err != nil {
			return fmt.Errorf("term %q: %w", term, err)
		}
		take := len(news)
		if hasNext {
			take, _ = slices.BinarySearchFunc(news, next, cmpLabel)
		}
		merged, err := w.mergePostings(term, w.ps, news[:take])
		if err != nil {
			return err
		}
		if merged[0].label != oldFirst {
			// The new postings precede the term's first block, whose key
			// changes; otherwise the first chunk's Put replaces it.
			if err := w.blocks.Delete(k); err != nil {
				return fmt.Errorf("fulltext: %w", err)
			}
		}
		for i := 0; i < len(merged); i += BlockSize {
			if err := w.putBlock(term, merged[i:min(i+BlockSize, len(merged))]); err != nil {
				return err
			}
		}
		news = news[take:]
	}
	return nil
}

// alloc returns an empty slice of capacity at least n for a key or value
// to Put. bbolt keeps references to them until the transaction ends, so
// each gets memory of its own; carving them from chunks saves an
// allocation per Put.
func (w *Writer) alloc(n int) []byte {
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

const allocChunk = 64 << 10

func cmpPosting(a, b posting) int {
	switch {
	case a.label < b.label:
		return -1
	case a.label > b.label:
		return 1
	}
	return 0
}

// mergePostings merges two label-sorted posting lists into w.merged's
// storage and returns it; a label in both is damage (a document has one
// posting per term).
func (w *Writer) mergePostings(term string, a, b []posting) ([]posting, error) {
	merged := slices.Grow(w.merged[:0], len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		switch {
		case a[0].label < b[0].label:
			merged = append(merged, a[0])
			a = a[1:]
		case a[0].label > b[0].label:
			merged = append(merged, b[0])
			b = b[1:]
		default:
			return nil, fmt.Errorf("%w: document %d already has a posting for term %q", ErrCorrupt, a[0].label, term)
		}
	}
	merged = append(append(merged, a...), b...)
	w.merged = merged
	return merged, nil
}
