package fulltext

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"slices"

	"go.etcd.io/bbolt"
)

// Hit is one search result.
type Hit struct {
	Label uint64
	Score float64
}

// Stats are the index's collection statistics.
type Stats struct {
	// Documents counts the indexed documents, including those without
	// terms.
	Documents uint64
	// Length is the total number of terms of all documents.
	Length uint64
}

// AvgLength is the mean document length in terms (0 for an empty index).
func (s Stats) AvgLength() float64 {
	if s.Documents == 0 {
		return 0
	}
	return float64(s.Length) / float64(s.Documents)
}

// Reader searches the index in a bucket; it is valid as long as the
// transaction of that bucket. Like bbolt's transactions it is not safe for
// concurrent use: concurrent searches each use a Reader over a read
// transaction of their own.
type Reader struct {
	a          *Analyzer
	post, docs *bbolt.Bucket
	blocks     *bbolt.Bucket // nil in an index of format 1 never written since
	st         Stats
	k1, b      float64
	avg        float64
	// Pruning can be turned off by tests, to compare against exhaustive
	// scoring through the same code.
	noPrune bool
	// decoded counts the blocks searches decoded, so tests can see that
	// pruning skips some.
	decoded int
	// Scratch reused by successive searches (a Reader serves one
	// goroutine): cursors keep their bbolt cursor and block buffer.
	terms   []string
	pool    []*termCursor
	contrib []float64
	heap    []Hit
	cum     []float64
}

// NewReader returns a reader over bucket b. A bucket a [Writer] has never
// written is an empty index.
func NewReader(b *bbolt.Bucket, a *Analyzer) (*Reader, error) {
	if b == nil || a == nil {
		return nil, errors.New("fulltext: NewReader needs a bucket and an analyzer")
	}
	r := &Reader{a: a, post: b.Bucket(bucketPost), docs: b.Bucket(bucketDocs), blocks: b.Bucket(bucketBlocks), k1: a.cfg.K1, b: a.cfg.B}
	if v := b.Get(keyMeta); v != nil {
		st, err := decodeStats(v)
		if err != nil {
			return nil, err
		}
		r.st = Stats{Documents: st.docs, Length: st.length}
	}
	if (r.post == nil) != (r.docs == nil) || (r.post == nil && r.st.Documents > 0) {
		return nil, fmt.Errorf("%w: index buckets missing", ErrCorrupt)
	}
	r.avg = r.st.AvgLength()
	return r, nil
}

// Stats returns the collection statistics.
func (r *Reader) Stats() Stats { return r.st }

// idf is BM25's inverse document frequency, as in the bench's reference
// (bench/internal/retrieval): ln(1 + (N - df + 0.5) / (df + 0.5)).
func (r *Reader) idf(df uint64) float64 {
	n, d := float64(r.st.Documents), float64(df)
	return math.Log(1 + (n-d+0.5)/(d+0.5))
}

// score is one term's BM25 contribution, written as in the reference so
// that the two agree bit for bit.
func (r *Reader) score(idf float64, tf, dl uint32) float64 {
	t := float64(tf)
	norm := r.k1 * (1 - r.b + r.b*float64(dl)/r.avg)
	return idf * t * (r.k1 + 1) / (t + norm)
}

// Search returns the k best documents for query by BM25, best first (equal
// scores by label), among those that contain at least one query term and
// that accept (nil accepts all) returns true for. accept is called only for
// documents that would enter the current top k, at most once each.
func (r *Reader) Search(ctx context.Context, query string, k int, accept func(label uint64) bool) ([]Hit, error) {
	if k <= 0 {
		return nil, fmt.Errorf("fulltext: k %d must be positive", k)
	}
	if r.post == nil || r.st.Documents == 0 {
		return nil, nil
	}
	terms := r.a.Terms(r.terms[:0], query)
	slices.Sort(terms)
	terms = slices.Compact(terms)
	r.terms = terms
	s := searcher{r: r, ctx: ctx, k: k, accept: accept, heap: r.heap[:0], cur: make([]*termCursor, 0, 8)}
	defer func() { r.heap = s.heap }()
	var key []byte
	for ti, t := range terms {
		if len(s.cur) == len(r.pool) {
			r.pool = append(r.pool, &termCursor{c: r.post.Cursor(), r: r})
		}
		tc := r.pool[len(s.cur)]
		key = append(key[:0], t...)
		mk, mv := tc.c.Seek(key)
		if mk == nil || string(mk) != t {
			continue
		}
		rec, err := decodeTermRecord(mv)
		if err != nil {
			return nil, fmt.Errorf("term %q: %w", t, err)
		}
		*tc = termCursor{c: tc.c, bc: tc.bc, r: r, ps: tc.ps[:0], seek: tc.seek, term: t, prefix: len(t) + 1, slot: ti, idf: r.idf(rec.df)}
		tc.ub = r.score(tc.idf, rec.maxTF, rec.minDL)
		if err := tc.first(rec); err != nil {
			return nil, err
		}
		if tc.done {
			return nil, fmt.Errorf("%w: term %q has a record but no postings", ErrCorrupt, t)
		}
		s.cur = append(s.cur, tc)
	}
	if len(s.cur) == 0 {
		return nil, nil
	}
	if cap(r.contrib) < len(terms) {
		r.contrib = make([]float64, len(terms))
	}
	s.contrib = r.contrib[:len(terms)]
	if err := s.run(); err != nil {
		return nil, err
	}
	return s.results(), nil
}

// termCursor walks one term's posting list block by block: its blocks,
// then its tail (the record's, in format 2). A block's header is read when
// the cursor reaches it; its postings only when a document in it may
// matter. cur is a lower bound of the label of the cursor's next posting
// (every posting below it has been passed); it is that label exactly when
// the block is decoded.
type termCursor struct {
	c       *bbolt.Cursor // over the posting bucket
	bc      *bbolt.Cursor // over the blocks bucket, made when first needed
	blk     *bbolt.Cursor // the one of the two that holds the term's blocks
	r       *Reader
	term    string
	prefix  int // len(term)+1: key length before the label
	slot    int // index of the term in sorted query-term order
	idf, ub float64
	tail    []byte // the record's tail, nil if none
	seek    []byte
	// blockLast is the last label of the last block loaded (0 if none):
	// the tail must start after it.
	blockLast uint64

	done    bool
	inTail  bool
	cur     uint64
	h       blockHeader
	raw     []byte
	blockUB float64
	decoded bool
	ps      []posting
	pos     int
}

func (tc *termCursor) isBlock(k []byte) bool {
	return len(k) == tc.prefix+8 && string(k[:len(tc.term)]) == tc.term && k[len(tc.term)] == 0
}

// load makes the block (k, v), a block of the term, current.
func (tc *termCursor) load(k, v []byte) error {
	if err := tc.setBlock(v); err != nil {
		return err
	}
	if binary.BigEndian.Uint64(k[tc.prefix:]) != tc.h.first {
		return fmt.Errorf("%w: block key of term %q disagrees with its first label %d", ErrCorrupt, tc.term, tc.h.first)
	}
	tc.blockLast = tc.h.last
	return nil
}

func (tc *termCursor) setBlock(v []byte) error {
	h, _, err := decodeHeader(v)
	if err != nil {
		return fmt.Errorf("term %q: %w", tc.term, err)
	}
	tc.h, tc.raw, tc.decoded, tc.pos, tc.cur = h, v, false, 0, h.first
	tc.blockUB = tc.r.score(tc.idf, h.maxTF, h.minDL)
	return nil
}

// loadOrTail makes (k, v) current if it is a block of the term, else
// moves to the tail, else marks the cursor done.
func (tc *termCursor) loadOrTail(k, v []byte) error {
	if tc.isBlock(k) {
		return tc.load(k, v)
	}
	return tc.toTail()
}

func (tc *termCursor) toTail() error {
	if tc.inTail || len(tc.tail) == 0 {
		tc.done, tc.cur = true, math.MaxUint64
		return nil
	}
	tc.inTail = true
	if err := tc.setBlock(tc.tail); err != nil {
		return err
	}
	if tc.blockLast > 0 && tc.h.first <= tc.blockLast {
		return fmt.Errorf("%w: tail of term %q starts at %d, not after its blocks", ErrCorrupt, tc.term, tc.h.first)
	}
	return nil
}

// first positions the cursor on the term's first block (the posting
// cursor is on its record).
func (tc *termCursor) first(rec termRecord) error {
	if !rec.v2 {
		tc.blk = tc.c
		k, v := tc.c.Next()
		if !tc.isBlock(k) {
			tc.done, tc.cur = true, math.MaxUint64
			return nil
		}
		return tc.load(k, v)
	}
	tc.tail = rec.tail
	if tc.r.blocks == nil || uint64(rec.tailCount) == rec.df {
		// No blocks (most terms: fewer than BlockSize postings).
		return tc.toTail()
	}
	if tc.bc == nil || tc.bc.Bucket() != tc.r.blocks {
		tc.bc = tc.r.blocks.Cursor()
	}
	tc.blk = tc.bc
	tc.seek = blockKey(tc.seek[:0], tc.term, 0)
	k, v := tc.bc.Seek(tc.seek)
	return tc.loadOrTail(k, v)
}

// skipTo moves past every posting below target (target > cur), decoding
// nothing: a block is left undecoded and cur set to the bound.
func (tc *termCursor) skipTo(target uint64) error {
	if tc.done || target <= tc.cur {
		return nil
	}
	if target <= tc.h.last {
		if tc.decoded {
			for tc.ps[tc.pos].label < target {
				tc.pos++
			}
			tc.cur = tc.ps[tc.pos].label
		} else {
			tc.cur = target
		}
		return nil
	}
	if tc.inTail {
		tc.done, tc.cur = true, math.MaxUint64
		return nil
	}
	k, v := tc.blk.Next()
	if err := tc.loadOrTail(k, v); err != nil || tc.done {
		return err
	}
	if tc.h.last < target && !tc.inTail {
		// Far away: seek instead of walking.
		tc.seek = blockKey(tc.seek[:0], tc.term, target)
		k, v = tc.blk.Seek(tc.seek)
		if !bytes.Equal(k, tc.seek) {
			var pk, pv []byte
			if k == nil {
				pk, pv = tc.blk.Last()
			} else {
				pk, pv = tc.blk.Prev()
			}
			if tc.isBlock(pk) {
				if err := tc.load(pk, pv); err != nil {
					return err
				}
				if tc.h.last >= target {
					tc.cur = max(tc.h.first, target)
					return nil
				}
			}
			k, v = tc.blk.Next()
		}
		if err := tc.loadOrTail(k, v); err != nil || tc.done {
			return err
		}
	}
	if tc.h.last < target {
		// Only the tail can end below target here.
		tc.done, tc.cur = true, math.MaxUint64
		return nil
	}
	tc.cur = max(tc.h.first, target)
	return nil
}

// exact decodes the current block if needed and makes cur the label of
// the next posting.
func (tc *termCursor) exact() error {
	if tc.done || tc.decoded {
		return nil
	}
	tc.r.decoded++
	var err error
	if _, tc.ps, err = decodeBlock(tc.raw, tc.ps); err != nil {
		return fmt.Errorf("term %q: %w", tc.term, err)
	}
	tc.decoded, tc.pos = true, 0
	for tc.ps[tc.pos].label < tc.cur {
		tc.pos++
	}
	tc.cur = tc.ps[tc.pos].label
	return nil
}

// next moves past the current posting (the cursor must be exact).
func (tc *termCursor) next() error {
	if tc.done {
		return nil
	}
	if tc.pos+1 < len(tc.ps) {
		tc.pos++
		tc.cur = tc.ps[tc.pos].label
		return nil
	}
	if tc.inTail {
		tc.done, tc.cur = true, math.MaxUint64
		return nil
	}
	k, v := tc.blk.Next()
	return tc.loadOrTail(k, v)
}

// searcher runs one query: MaxScore over the terms' upper bounds, with
// block-max bounds to skip blocks and avoid decoding postings.
type searcher struct {
	r       *Reader
	ctx     context.Context
	k       int
	accept  func(uint64) bool
	cur     []*termCursor
	contrib []float64 // per query term (sorted order), for the current document
	heap    []Hit     // min-heap by (score, -label): heap[0] is the k-th best
}

// worse reports whether a ranks below b.
func worse(a, b Hit) bool {
	return a.Score < b.Score || (a.Score == b.Score && a.Label > b.Label)
}

// slack widens every bound: a bound is computed in a different order of
// floating-point operations than the score it bounds.
const slack = 1e-9

// mayEnter reports whether a document whose score is at most bound could
// enter the top k.
func (s *searcher) mayEnter(bound float64) bool {
	if len(s.heap) < s.k {
		return true
	}
	return bound*(1+slack)+slack >= s.heap[0].Score
}

func (s *searcher) push(h Hit) {
	if len(s.heap) < s.k {
		s.heap = append(s.heap, h)
		for i := len(s.heap) - 1; i > 0; {
			p := (i - 1) / 2
			if !worse(s.heap[i], s.heap[p]) {
				break
			}
			s.heap[i], s.heap[p] = s.heap[p], s.heap[i]
			i = p
		}
		return
	}
	if !worse(s.heap[0], h) {
		return
	}
	s.heap[0] = h
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(s.heap) && worse(s.heap[l], s.heap[m]) {
			m = l
		}
		if l+1 < len(s.heap) && worse(s.heap[l+1], s.heap[m]) {
			m = l + 1
		}
		if m == i {
			break
		}
		s.heap[i], s.heap[m] = s.heap[m], s.heap[i]
		i = m
	}
}

func (s *searcher) results() []Hit {
	out := slices.Clone(s.heap)
	slices.SortFunc(out, func(a, b Hit) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Label, b.Label))
	})
	return out
}

func (s *searcher) run() error {
	r := s.r
	// Ascending upper bounds: a prefix whose bounds sum below the
	// threshold cannot make a document enter on its own (non-essential).
	slices.SortFunc(s.cur, func(a, b *termCursor) int { return cmp.Compare(a.ub, b.ub) })
	n := len(s.cur)
	if cap(r.cum) < n+1 {
		r.cum = make([]float64, n+1)
	}
	cum := r.cum[:n+1] // cum[i] = sum of ub of cur[:i]
	cum[0] = 0
	for i, c := range s.cur {
		cum[i+1] = cum[i] + c.ub
	}
	firstEss := 0
	steps := 0
	for {
		if steps++; steps&1023 == 0 {
			if err := s.ctx.Err(); err != nil {
				return err
			}
		}
		if !r.noPrune {
			for firstEss < n && !s.mayEnter(cum[firstEss+1]) {
				firstEss++
			}
			if firstEss == n {
				return nil
			}
		}
		ess := s.cur[firstEss:]
		d := uint64(math.MaxUint64)
		for _, c := range ess {
			d = min(d, c.cur)
		}
		if d == math.MaxUint64 {
			return nil
		}
		// Block-max bound of the essential lists at d: the blocks that
		// cover d, plus everything non-essential.
		if !r.noPrune && len(s.heap) == s.k {
			bound := cum[firstEss]
			for _, c := range ess {
				if c.h.first <= d {
					bound += c.blockUB
				}
			}
			if !s.mayEnter(bound) {
				// No document before the end of the first covering block
				// to end, or before the next essential block, can enter.
				// Labels are below MaxUint64 (Writer.Add and decodeHeader
				// refuse it), so last+1 does not wrap.
				next := uint64(math.MaxUint64)
				for _, c := range ess {
					if c.h.first <= d {
						next = min(next, c.h.last+1)
					} else {
						next = min(next, c.cur)
					}
				}
				for _, c := range ess {
					if err := c.skipTo(next); err != nil {
						return err
					}
				}
				continue
			}
		}
		// Make the cursors at d exact; d may turn out to be a bound only.
		moved := false
		for _, c := range ess {
			if c.cur == d && !c.decoded {
				if err := c.exact(); err != nil {
					return err
				}
				moved = moved || c.cur != d
			}
		}
		if moved {
			continue
		}
		clear(s.contrib)
		partial := 0.0
		for _, c := range ess {
			if c.cur == d {
				p := c.ps[c.pos]
				v := r.score(c.idf, p.tf, p.dl)
				s.contrib[c.slot] = v
				partial += v
				if err := c.next(); err != nil {
					return err
				}
			}
		}
		ok := true
		for i := firstEss - 1; i >= 0; i-- {
			c := s.cur[i]
			if !s.mayEnter(partial + cum[i+1]) {
				ok = false
				break
			}
			if err := c.skipTo(d); err != nil {
				return err
			}
			if c.cur > d {
				continue
			}
			if !s.mayEnter(partial + c.blockUB + cum[i]) {
				ok = false
				break
			}
			if err := c.exact(); err != nil {
				return err
			}
			if c.cur == d {
				p := c.ps[c.pos]
				v := r.score(c.idf, p.tf, p.dl)
				s.contrib[c.slot] = v
				partial += v
			}
		}
		if !ok {
			continue
		}
		// The score is summed in query-term order, whatever order the
		// pruning visited the terms in, so results do not depend on it.
		score := 0.0
		for _, v := range s.contrib {
			score += v
		}
		h := Hit{Label: d, Score: score}
		if len(s.heap) == s.k && !worse(s.heap[0], h) {
			continue
		}
		if s.accept != nil && !s.accept(d) {
			continue
		}
		s.push(h)
	}
}

// Check verifies the index: every record decodes, the statistics match the
// forward records, and the posting lists hold exactly the postings the
// forward records imply (compared as multiset hashes, in constant memory).
// It returns an error wrapping [ErrCorrupt] describing the first problem.
func (r *Reader) Check(ctx context.Context) error {
	if r.post == nil {
		if r.st.Documents != 0 {
			return fmt.Errorf("%w: statistics count %d documents, no index buckets", ErrCorrupt, r.st.Documents)
		}
		return nil
	}
	seed := maphash.MakeSeed()
	tuple := func(term string, label uint64, tf, dl uint32) uint64 {
		var h maphash.Hash
		h.SetSeed(seed)
		h.WriteString(term)
		var b [17]byte
		binary.LittleEndian.PutUint64(b[1:], label)
		binary.LittleEndian.PutUint32(b[9:], tf)
		binary.LittleEndian.PutUint32(b[13:], dl)
		h.Write(b[:])
		return h.Sum64()
	}
	var fwdSum, fwdCount uint64
	var docs, length uint64
	i := 0
	err := r.docs.ForEach(func(k, v []byte) error {
		if i++; i&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if len(k) != 8 {
			return fmt.Errorf("%w: forward record key of %d bytes", ErrCorrupt, len(k))
		}
		label := binary.BigEndian.Uint64(k)
		d, err := decodeDocRecord(v)
		if err != nil {
			return fmt.Errorf("document %d: %w", label, err)
		}
		docs++
		length += uint64(d.length)
		for _, t := range d.terms {
			fwdSum += tuple(t.term, label, t.tf, d.length)
			fwdCount++
		}
		return nil
	})
	if err != nil {
		return err
	}
	if docs != r.st.Documents || length != r.st.Length {
		return fmt.Errorf("%w: statistics say %d documents of total length %d, forward records %d and %d", ErrCorrupt, r.st.Documents, r.st.Length, docs, length)
	}
	var postSum, postCount uint64
	var term string
	var meta termMeta
	var seen uint64 // postings of term so far
	var lastLabel uint64
	var ps []posting
	endTerm := func() error {
		if term != "" && seen != meta.df {
			return fmt.Errorf("%w: term %q has %d postings, its record says %d", ErrCorrupt, term, seen, meta.df)
		}
		return nil
	}
	// addBlock checks one block (or tail, key nil) of term and counts its
	// postings.
	addBlock := func(key, v []byte) error {
		var h blockHeader
		var err error
		if h, ps, err = decodeBlock(v, ps); err != nil {
			if key == nil {
				return fmt.Errorf("term %q tail: %w", term, err)
			}
			return fmt.Errorf("term %q block %d: %w", term, binary.BigEndian.Uint64(key[len(key)-8:]), err)
		}
		if key != nil {
			if label := binary.BigEndian.Uint64(key[len(key)-8:]); h.first != label {
				return fmt.Errorf("%w: term %q block key %d, first label %d", ErrCorrupt, term, label, h.first)
			}
		}
		if seen > 0 && h.first <= lastLabel {
			return fmt.Errorf("%w: term %q blocks overlap at label %d", ErrCorrupt, term, h.first)
		}
		if h.maxTF > meta.maxTF || h.minDL < meta.minDL {
			return fmt.Errorf("%w: term %q record bounds (tf %d, length %d) below those of its block at %d (%d, %d)", ErrCorrupt, term, meta.maxTF, meta.minDL, h.first, h.maxTF, h.minDL)
		}
		for _, p := range ps {
			postSum += tuple(term, p.label, p.tf, p.dl)
		}
		postCount += uint64(len(ps))
		seen += uint64(len(ps))
		lastLabel = h.last
		return nil
	}
	// Blocks of format-2 terms, in the blocks bucket, are walked along
	// with the records: both are in term order (a block key is its term,
	// 0, a label, and 0 sorts before any byte of a term).
	var bc *bbolt.Cursor
	var bk, bv []byte
	if r.blocks != nil {
		bc = r.blocks.Cursor()
		bk, bv = bc.First()
	}
	blockTerm := func(k []byte) (string, error) {
		if len(k) < 10 || k[len(k)-9] != 0 {
			return "", fmt.Errorf("%w: block key %q", ErrCorrupt, k)
		}
		return string(k[:len(k)-9]), nil
	}
	v2 := false
	c := r.post.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if i++; i&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if z := bytes.IndexByte(k, 0); z >= 0 {
			if string(k[:z]) != term || len(k) != z+9 {
				return fmt.Errorf("%w: block key %q has no term record before it", ErrCorrupt, k)
			}
			if v2 {
				return fmt.Errorf("%w: term %q has a tail and blocks in the posting bucket", ErrCorrupt, term)
			}
			if err := addBlock(k, v); err != nil {
				return err
			}
			continue
		}
		if err := endTerm(); err != nil {
			return err
		}
		term = string(k)
		if err := validTerm(term); err != nil {
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		rec, err := decodeTermRecord(v)
		if err != nil {
			return fmt.Errorf("term %q: %w", term, err)
		}
		meta, v2, seen = rec.termMeta, rec.v2, 0
		for ; bk != nil; bk, bv = bc.Next() {
			bt, err := blockTerm(bk)
			if err != nil {
				return err
			}
			if bt > term {
				break
			}
			if bt < term || !v2 {
				return fmt.Errorf("%w: block %q in the blocks bucket has no term record of format 2", ErrCorrupt, bk)
			}
			if err := addBlock(bk, bv); err != nil {
				return err
			}
		}
		if len(rec.tail) > 0 {
			if err := addBlock(nil, rec.tail); err != nil {
				return err
			}
		}
	}
	if err := endTerm(); err != nil {
		return err
	}
	if bk != nil {
		return fmt.Errorf("%w: block %q in the blocks bucket has no term record", ErrCorrupt, bk)
	}
	if postCount != fwdCount || postSum != fwdSum {
		return fmt.Errorf("%w: posting lists (%d postings) disagree with forward records (%d term occurrences)", ErrCorrupt, postCount, fwdCount)
	}
	return nil
}
