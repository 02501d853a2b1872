package fulltext

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// BlockSize is the largest number of postings in one block of a posting
// list.
const BlockSize = 128

// ErrCorrupt is wrapped by every error about index data that cannot be
// decoded or contradicts the rest of the index.
var ErrCorrupt = errors.New("fulltext: corrupt index")

// posting is one document of a term's posting list.
type posting struct {
	label uint64
	tf    uint32 // occurrences of the term in the document, ≥ 1
	dl    uint32 // the document's length in terms, ≥ tf
}

// blockHeader is the part of a block a search reads to decide whether to
// decode the rest.
type blockHeader struct {
	count       int
	first, last uint64
	maxTF       uint32
	minDL       uint32
}

// appendBlock encodes ps (sorted by label, distinct, 1 ≤ len ≤ BlockSize)
// onto dst.
func appendBlock(dst []byte, ps []posting) []byte {
	h := blockHeader{count: len(ps), first: ps[0].label, last: ps[len(ps)-1].label, minDL: math.MaxUint32}
	for _, p := range ps {
		h.maxTF = max(h.maxTF, p.tf)
		h.minDL = min(h.minDL, p.dl)
	}
	dst = appendHeader(dst, h)
	dst = appendPosting(dst, 0, ps[0])
	return appendPostings(dst, ps[0].label, ps[1:])
}

func appendHeader(dst []byte, h blockHeader) []byte {
	dst = binary.AppendUvarint(dst, uint64(h.count))
	dst = binary.AppendUvarint(dst, h.first)
	dst = binary.AppendUvarint(dst, h.last-h.first)
	dst = binary.AppendUvarint(dst, uint64(h.maxTF))
	return binary.AppendUvarint(dst, uint64(h.minDL))
}

// appendPosting encodes p, whose label is prev + delta (a block's first
// posting has no delta: pass 0 and its label's encoding is skipped).
func appendPosting(dst []byte, delta uint64, p posting) []byte {
	if delta > 0 {
		dst = binary.AppendUvarint(dst, delta)
	}
	dst = binary.AppendUvarint(dst, uint64(p.tf))
	return binary.AppendUvarint(dst, uint64(p.dl-p.tf))
}

// appendPostings encodes ps (sorted, distinct, above prev), the postings
// of a block after one of label prev.
func appendPostings(dst []byte, prev uint64, ps []posting) []byte {
	for _, p := range ps {
		dst = appendPosting(dst, p.label-prev, p)
		prev = p.label
	}
	return dst
}

// reader of uvarints that remembers the first error.
type uvarints struct {
	b   []byte
	err error
}

func (r *uvarints) next(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("%w: bad varint for %s", ErrCorrupt, what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *uvarints) next32(what string) uint32 {
	v := r.next(what)
	if v > math.MaxUint32 && r.err == nil {
		r.err = fmt.Errorf("%w: %s %d out of range", ErrCorrupt, what, v)
	}
	return uint32(v)
}

// decodeHeader reads a block's header and returns the rest of the block.
func decodeHeader(b []byte) (blockHeader, []byte, error) {
	r := uvarints{b: b}
	var h blockHeader
	count := r.next("posting count")
	h.first = r.next("first label")
	span := r.next("label span")
	h.maxTF = r.next32("max term frequency")
	h.minDL = r.next32("min document length")
	if r.err != nil {
		return h, nil, r.err
	}
	if count == 0 || count > BlockSize {
		return h, nil, fmt.Errorf("%w: block of %d postings (want 1..%d)", ErrCorrupt, count, BlockSize)
	}
	h.count = int(count)
	if span >= math.MaxUint64-h.first {
		return h, nil, fmt.Errorf("%w: block label span overflows", ErrCorrupt)
	}
	// Labels stay below MaxUint64, which searches use as a sentinel.
	h.last = h.first + span
	if span < count-1 {
		return h, nil, fmt.Errorf("%w: %d distinct labels cannot span %d", ErrCorrupt, count, span)
	}
	if h.maxTF == 0 {
		return h, nil, fmt.Errorf("%w: block max term frequency 0", ErrCorrupt)
	}
	return h, r.b, nil
}

// uvar reads the uvarint at b[i:], returning it and the index after it,
// or an index of -1 if there is none. The one-byte case, most values of a
// block, is inlined.
func uvar(b []byte, i int) (uint64, int) {
	if i < len(b) && b[i] < 0x80 {
		return uint64(b[i]), i + 1
	}
	return uvarSlow(b, i)
}

func uvarSlow(b []byte, i int) (uint64, int) {
	if i >= len(b) {
		return 0, -1
	}
	v, n := binary.Uvarint(b[i:])
	if n <= 0 {
		return 0, -1
	}
	return v, i + n
}

// decodeBlock decodes a whole block into ps (reusing its storage) and
// checks it against its header.
func decodeBlock(b []byte, ps []posting) (blockHeader, []posting, error) {
	h, rest, err := decodeHeader(b)
	if err != nil {
		return h, ps[:0], err
	}
	ps = slices.Grow(ps[:0], h.count)[:h.count]
	label := h.first
	var maxTF uint32
	minDL := uint32(math.MaxUint32)
	i := 0
	for j := range ps {
		if j > 0 {
			var d uint64
			if d, i = uvar(rest, i); i < 0 {
				return h, ps[:0], fmt.Errorf("%w: bad varint for a label delta in block %d", ErrCorrupt, h.first)
			}
			if d == 0 || d > h.last-label {
				return h, ps[:0], fmt.Errorf("%w: label delta %d after %d in block %d..%d", ErrCorrupt, d, label, h.first, h.last)
			}
			label += d
		}
		var tf, extra uint64
		if tf, i = uvar(rest, i); i < 0 {
			return h, ps[:0], fmt.Errorf("%w: bad varint for a term frequency in block %d", ErrCorrupt, h.first)
		}
		if extra, i = uvar(rest, i); i < 0 {
			return h, ps[:0], fmt.Errorf("%w: bad varint for a document length in block %d", ErrCorrupt, h.first)
		}
		if tf == 0 {
			return h, ps[:0], fmt.Errorf("%w: term frequency 0 for label %d", ErrCorrupt, label)
		}
		if tf+extra > math.MaxUint32 || tf+extra < tf {
			return h, ps[:0], fmt.Errorf("%w: document length overflows for label %d", ErrCorrupt, label)
		}
		p := posting{label: label, tf: uint32(tf), dl: uint32(tf + extra)}
		maxTF = max(maxTF, p.tf)
		minDL = min(minDL, p.dl)
		ps[j] = p
	}
	switch {
	case i != len(rest):
		return h, ps[:0], fmt.Errorf("%w: %d bytes after the last posting of block %d", ErrCorrupt, len(rest)-i, h.first)
	case label != h.last:
		return h, ps[:0], fmt.Errorf("%w: block %d ends at label %d, header says %d", ErrCorrupt, h.first, label, h.last)
	case maxTF != h.maxTF || minDL != h.minDL:
		return h, ps[:0], fmt.Errorf("%w: block %d bounds (tf %d, length %d) disagree with its postings (%d, %d)", ErrCorrupt, h.first, h.maxTF, h.minDL, maxTF, minDL)
	}
	return h, ps, nil
}

// termMeta is a term's record: its document frequency and bounds of its
// postings. The bounds are exact after inserts and stay valid (possibly
// loose) after deletes.
type termMeta struct {
	df    uint64
	maxTF uint32
	minDL uint32
}

func appendTermMeta(dst []byte, m termMeta) []byte {
	dst = binary.AppendUvarint(dst, m.df)
	dst = binary.AppendUvarint(dst, uint64(m.maxTF))
	return binary.AppendUvarint(dst, uint64(m.minDL))
}

func decodeTermMeta(b []byte) (termMeta, error) {
	r := uvarints{b: b}
	m, err := readTermMeta(&r)
	if err == nil && len(r.b) != 0 {
		err = fmt.Errorf("%w: %d bytes after a term record", ErrCorrupt, len(r.b))
	}
	return m, err
}

func readTermMeta(r *uvarints) (termMeta, error) {
	m := termMeta{df: r.next("document frequency"), maxTF: r.next32("max term frequency"), minDL: r.next32("min document length")}
	switch {
	case r.err != nil:
		return m, r.err
	case m.df == 0 || m.maxTF == 0:
		return m, fmt.Errorf("%w: term record with document frequency %d, max term frequency %d", ErrCorrupt, m.df, m.maxTF)
	case m.minDL < 1:
		return m, fmt.Errorf("%w: term record with min document length 0", ErrCorrupt)
	}
	return m, nil
}

// recordTail marks a term record of the current layout (format 2 of the
// index, see doc.go): statistics, then the tail of the posting list. A
// record of format 1 starts with its document frequency, a uvarint of at
// least 1, whose first byte is never 0.
const recordTail = 0x00

// termRecord is a term's record as stored.
type termRecord struct {
	termMeta
	// v2: the record has the tail layout; its blocks are in the blocks
	// bucket. Otherwise (format 1) they follow it in the posting bucket,
	// and it has no tail.
	v2 bool
	// tail is the raw block of the postings after the last block, empty
	// if none; tailCount its number of postings.
	tail      []byte
	tailCount int
}

// appendTermRecord encodes a record of the current layout: m, then tail
// (0..BlockSize postings, sorted) as a block.
func appendTermRecord(dst []byte, m termMeta, tail []posting) []byte {
	dst = appendTermMeta(append(dst, recordTail), m)
	if len(tail) > 0 {
		dst = appendBlock(dst, tail)
	}
	return dst
}

// decodeTermRecord decodes a term record of either layout. A tail's
// header is checked against the record; its postings are decoded (and
// checked) by whoever reads them.
func decodeTermRecord(b []byte) (termRecord, error) {
	if len(b) == 0 || b[0] != recordTail {
		m, err := decodeTermMeta(b)
		return termRecord{termMeta: m}, err
	}
	r := uvarints{b: b[1:]}
	m, err := readTermMeta(&r)
	if err != nil {
		return termRecord{}, err
	}
	rec := termRecord{termMeta: m, v2: true, tail: r.b}
	if len(r.b) > 0 {
		h, _, err := decodeHeader(r.b)
		if err != nil {
			return termRecord{}, fmt.Errorf("tail: %w", err)
		}
		if uint64(h.count) > m.df || h.maxTF > m.maxTF || h.minDL < m.minDL {
			return termRecord{}, fmt.Errorf("%w: tail of %d postings (tf ≤ %d, length ≥ %d) outside its record's bounds (df %d, tf ≤ %d, length ≥ %d)", ErrCorrupt, h.count, h.maxTF, h.minDL, m.df, m.maxTF, m.minDL)
		}
		rec.tailCount = h.count
	}
	return rec, nil
}

// docRecord is a document's forward record.
type docRecord struct {
	length uint32
	terms  []termFreq // sorted by term, distinct
}

type termFreq struct {
	term string
	tf   uint32
}

func appendDocRecord(dst []byte, d docRecord) []byte {
	dst = binary.AppendUvarint(dst, uint64(d.length))
	dst = binary.AppendUvarint(dst, uint64(len(d.terms)))
	for _, t := range d.terms {
		dst = binary.AppendUvarint(dst, uint64(len(t.term)))
		dst = append(dst, t.term...)
		dst = binary.AppendUvarint(dst, uint64(t.tf))
	}
	return dst
}

func decodeDocRecord(b []byte) (docRecord, error) {
	r := uvarints{b: b}
	var d docRecord
	d.length = r.next32("document length")
	n := r.next("term count")
	if r.err != nil {
		return d, r.err
	}
	if n > uint64(d.length) || n > uint64(len(r.b)) {
		return d, fmt.Errorf("%w: forward record claims %d terms in a document of length %d", ErrCorrupt, n, d.length)
	}
	d.terms = make([]termFreq, 0, n)
	var sum uint64
	for i := uint64(0); i < n; i++ {
		l := r.next("term length")
		if r.err != nil {
			return d, r.err
		}
		if l == 0 || l > MaxTermLen || l > uint64(len(r.b)) {
			return d, fmt.Errorf("%w: forward record term of %d bytes", ErrCorrupt, l)
		}
		t := string(r.b[:l])
		r.b = r.b[l:]
		tf := r.next32("term frequency")
		if r.err != nil {
			return d, r.err
		}
		if tf == 0 {
			return d, fmt.Errorf("%w: forward record term %q with frequency 0", ErrCorrupt, t)
		}
		if i > 0 && d.terms[i-1].term >= t {
			return d, fmt.Errorf("%w: forward record terms out of order at %q", ErrCorrupt, t)
		}
		if err := validTerm(t); err != nil {
			return d, fmt.Errorf("%w: forward record: %v", ErrCorrupt, err)
		}
		sum += uint64(tf)
		d.terms = append(d.terms, termFreq{t, tf})
	}
	switch {
	case len(r.b) != 0:
		return d, fmt.Errorf("%w: %d bytes after a forward record", ErrCorrupt, len(r.b))
	case sum != uint64(d.length):
		return d, fmt.Errorf("%w: forward record frequencies sum to %d, length is %d", ErrCorrupt, sum, d.length)
	}
	return d, nil
}

// validTerm reports why t cannot be a term.
func validTerm(t string) error {
	if t == "" || len(t) > MaxTermLen {
		return fmt.Errorf("term of %d bytes (want 1..%d)", len(t), MaxTermLen)
	}
	for i := 0; i < len(t); i++ {
		if t[i] == 0 {
			return fmt.Errorf("term %q contains NUL", t)
		}
	}
	return nil
}

// stats is the "meta" record.
type stats struct {
	docs, length uint64
	// version is the layout's (see doc.go): decodeStats reads 1 and 2,
	// appendStats writes formatVersion.
	version uint64
}

// formatVersion is the layout writers write: 2 since term records hold
// their tails (an index of version 1 reads as it is and is converted term
// by term as writes touch it).
const formatVersion = 2

func appendStats(dst []byte, s stats) []byte {
	dst = binary.AppendUvarint(dst, formatVersion)
	dst = binary.AppendUvarint(dst, s.docs)
	return binary.AppendUvarint(dst, s.length)
}

func decodeStats(b []byte) (stats, error) {
	r := uvarints{b: b}
	v := r.next("format version")
	s := stats{docs: r.next("document count"), length: r.next("total length"), version: v}
	switch {
	case r.err != nil:
		return s, r.err
	case v != 1 && v != formatVersion:
		return s, fmt.Errorf("%w: format version %d (this build reads 1 to %d)", ErrCorrupt, v, formatVersion)
	case len(r.b) != 0:
		return s, fmt.Errorf("%w: %d bytes after the statistics", ErrCorrupt, len(r.b))
	}
	return s, nil
}
