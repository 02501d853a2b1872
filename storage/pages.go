package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"slices"
	"strings"
)

// The page walk below reads bbolt's on-disk format itself, with every
// offset and page number bounds-checked, instead of through bbolt. bbolt
// trusts the pages it reads through its mmap: a damaged page pointer makes
// it read outside the mapping (a fault, which guard catches), fail an
// assertion (also caught), or follow a cycle: its Cursor recurses down
// branch pages without a limit, and the stack overflow that a cycle gives
// is a fatal error of the Go runtime, which no recover catches. Its own
// Tx.Check walks pages on a goroutine of its own, where no recover or
// SetPanicOnFault of ours applies.
//
// The walk has two modes:
//
//   - full (CheckPages, for vecbolt check): every page reachable from the
//     root bucket, leaves included, then the freelist.
//   - shape (Open): the branch pages of every bucket tree, and the leaves
//     only of the buckets that hold sub-buckets (the root, "collections"
//     and each collection's bucket), where the sub-bucket roots are. The
//     big buckets (documents, heads, IDs, snapshot, pending) hold none, so
//     their leaves are never read: that would cost a read of the whole
//     file on every open. A bbolt tree is balanced (all leaves at one
//     depth), so the walk learns the depth of a tree's leaves from its
//     leftmost path and, below that, only claims the page numbers the last
//     branch level points to. That finds every damaged pointer in a branch
//     page or bucket header (a cycle or any page reached twice, a page
//     beyond the file's pages or listed as free, a page that is not a
//     branch or leaf page, a tree deeper than maxTreeDepth). What it cannot
//     find is a page at the leaf level of a big bucket overwritten with a
//     well-formed branch page: only reading every leaf finds that, and
//     vecbolt check does.
//
// Layout (go.etcd.io/bbolt/internal/common, little-endian):
//
//	page header, 16 bytes: id u64, flags u16, count u16, overflow u32
//	branch element, 16 bytes: pos u32, ksize u32, pgid u64
//	leaf element, 16 bytes: flags u32, pos u32, ksize u32, vsize u32
//	(pos counts from the element itself)
//	bucket value: root pgid u64, sequence u64, then an inline leaf page
//	when root is 0
//	meta, after the page header: magic u32, version u32, pageSize u32,
//	flags u32, root bucket (16), freelist u64, pgid (high water) u64,
//	txid u64, checksum u64 (FNV-64a of the fields before it)

const (
	pageElemSize    = 16
	branchPageFlag  = 0x01
	leafPageFlag    = 0x02
	freelistFlag    = 0x10
	bucketLeafFlag  = 0x01
	boltVersion     = 2
	noFreelist      = ^uint64(0)
	maxTreeDepth    = 64
	maxProblemsWalk = 1000
)

// Owners of pages that belong to no bucket (see pageWalk.owner).
const (
	ownerMeta     = -1
	ownerFreelist = -2
)

// PageProblem is one defect of the file's page structure, found in the
// tree of the bucket at Path (nil: the root bucket, or the file outside
// any bucket).
type PageProblem struct {
	Path []string
	Msg  string
}

func (p PageProblem) String() string {
	if len(p.Path) == 0 {
		return "file structure: " + p.Msg
	}
	return fmt.Sprintf("file structure, bucket %s: %s", quotePath(p.Path), p.Msg)
}

func quotePath(path []string) string {
	q := make([]string, len(path))
	for i, s := range path {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, "/")
}

// CheckPages walks the page structure of the whole file with a
// bounds-checked reader of its own (see the full mode above): the meta
// pages, then every page reachable from the root bucket (in range, with a
// header naming the page itself, of the right type, with elements and
// their keys and values inside the page, reached once), then the freelist.
// It reads the whole file. Only where it finds nothing wrong may bbolt's
// own Tx.Check run safely.
func (s *Store) CheckPages() ([]PageProblem, error) {
	return walkFile(s.path, s.db.Info().PageSize, true)
}

// walkFile walks the bbolt file at path; pageSize is the page size bbolt
// opened it with.
func walkFile(path string, pageSize int, full bool) ([]PageProblem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	w := walkPagesAt(f, st.Size(), pageSize, full)
	return w.problems, nil
}

// pageWalk is one walk over a database file.
type pageWalk struct {
	r        io.ReaderAt
	size     int64
	pageSize int
	hwm      uint64 // pages below this are in use or free
	full     bool
	// owner holds, for each page below hwm, 1 + the index in paths of
	// the bucket whose tree holds it, ownerMeta, ownerFreelist, or 0 while
	// it was not reached. (A slice: a map cost half the shape walk's time
	// on a file of 100,000 documents.)
	owner    []int32
	paths    [][]string
	problems []PageProblem
	// reads counts the pages read (for measuring the shape walk).
	reads int
}

// walkPagesAt walks size bytes of r, in full or shape mode.
func walkPagesAt(r io.ReaderAt, size int64, pageSize int, full bool) *pageWalk {
	w := &pageWalk{r: r, size: size, full: full}
	root, freelist, err := w.meta(pageSize)
	if err != nil {
		w.problems = []PageProblem{{Msg: err.Error()}}
		return w
	}
	w.tree(nil, root, 0)
	if freelist != noFreelist {
		w.freelist(freelist)
	}
	return w
}

func (w *pageWalk) addf(path []string, format string, args ...any) {
	if len(w.problems) < maxProblemsWalk {
		w.problems = append(w.problems, PageProblem{Path: append([]string(nil), path...), Msg: fmt.Sprintf(format, args...)})
	}
}

// holdsBuckets reports whether the bucket at path is one whose leaves hold
// sub-buckets that vecbolt opens: the root, "collections", each
// collection's bucket and its "fulltext" bucket.
func holdsBuckets(path []string) bool {
	if len(path) == 3 && path[0] == string(bucketCollections) && path[2] == string(bucketFullText) {
		// Package fulltext may keep sub-buckets in its bucket.
		return true
	}
	return len(path) == 0 || (path[0] == string(bucketCollections) && len(path) <= 2)
}

// meta picks the meta page bbolt uses (the valid one with the higher
// transaction ID) and returns the root page and the freelist page.
func (w *pageWalk) meta(pageSize int) (root, freelist uint64, err error) {
	type meta struct {
		pageSize            uint32
		root, free, hwm, tx uint64
	}
	read := func(off int64) (meta, error) {
		b := make([]byte, boltPageHeader+boltMetaSize)
		if _, err := w.r.ReadAt(b, off); err != nil {
			return meta{}, fmt.Errorf("meta page at offset %d: %w", off, err)
		}
		m := b[boltPageHeader:]
		le := binary.LittleEndian
		if le.Uint32(m[0:]) != boltMagic || le.Uint32(m[4:]) != boltVersion {
			return meta{}, errors.New("meta page lacks bbolt's magic number or version")
		}
		h := fnv.New64a()
		_, _ = h.Write(m[:56])
		if h.Sum64() != le.Uint64(m[56:]) {
			return meta{}, errors.New("meta page fails its checksum")
		}
		return meta{pageSize: le.Uint32(m[8:]), root: le.Uint64(m[16:]), free: le.Uint64(m[32:]), hwm: le.Uint64(m[40:]), tx: le.Uint64(m[48:])}, nil
	}
	m0, err0 := read(0)
	m1, err1 := read(int64(pageSize))
	var m meta
	switch {
	case err0 == nil && (err1 != nil || m0.tx >= m1.tx):
		m = m0
	case err1 == nil:
		m = m1
	default:
		return 0, 0, fmt.Errorf("both meta pages are damaged: %v; %v", err0, err1)
	}
	ps := int(m.pageSize)
	if ps < 512 || ps > 1<<20 || ps&(ps-1) != 0 {
		return 0, 0, fmt.Errorf("meta page gives a page size of %d", ps)
	}
	w.pageSize = ps
	if pages := uint64(w.size) / uint64(ps); m.hwm > pages || m.hwm < 3 {
		return 0, 0, fmt.Errorf("meta page says the file has %d pages; it has %d", m.hwm, pages)
	}
	w.hwm = m.hwm
	w.owner = make([]int32, m.hwm)
	w.owner[0], w.owner[1] = ownerMeta, ownerMeta
	return m.root, m.free, nil
}

// read returns n pages starting at id, or nil with a problem recorded.
func (w *pageWalk) read(path []string, id uint64, n uint64) []byte {
	w.reads++
	size := n * uint64(w.pageSize)
	b := make([]byte, size)
	if _, err := w.r.ReadAt(b, int64(id)*int64(w.pageSize)); err != nil {
		w.addf(path, "page %d: %v", id, err)
		return nil
	}
	return b
}

// ownerName names the owner of a page in messages.
func (w *pageWalk) ownerName(o int32) string {
	switch {
	case o == ownerMeta:
		return "meta"
	case o == ownerFreelist:
		return "the freelist"
	case len(w.paths[o-1]) == 0:
		return "the root"
	}
	return quotePath(w.paths[o-1])
}

// pathIndex returns the index of path in w.paths, adding it if it is not
// the last one added (a tree's pages are claimed together).
func (w *pageWalk) pathIndex(path []string) int32 {
	if n := len(w.paths); n > 0 && slices.Equal(w.paths[n-1], path) {
		return int32(n)
	}
	w.paths = append(w.paths, append([]string(nil), path...))
	return int32(len(w.paths))
}

// claim records that the n pages from id belong to the tree at path, and
// reports a page reached twice (which also stops cycles). Both trees that
// reach the page are reported: either pointer may be the damaged one.
func (w *pageWalk) claim(path []string, id, n uint64) bool {
	for i := id; i < id+n; i++ {
		if prev := w.owner[i]; prev != 0 {
			if prev > 0 && slices.Equal(w.paths[prev-1], path) {
				w.addf(path, "page %d is reached twice in this tree (a cycle, or two pointers to one page)", i)
				return false
			}
			w.addf(path, "page %d is reached twice (also from %s)", i, w.ownerName(prev))
			if prev > 0 {
				w.addf(w.paths[prev-1], "page %d is reached twice (also from %s)", i, quotePathOrRoot(path))
			}
			return false
		}
	}
	o := w.pathIndex(path)
	for i := id; i < id+n; i++ {
		w.owner[i] = o
	}
	return true
}

func quotePathOrRoot(path []string) string {
	if len(path) == 0 {
		return "the root"
	}
	return quotePath(path)
}

// tree checks the tree of the bucket at path from its root page.
func (w *pageWalk) tree(path []string, root uint64, depth int) {
	leafAt := -1
	w.page(path, root, depth, 0, &leafAt)
}

// page checks page id of the tree of a bucket: depth counts pages from the
// file's root, level from the bucket's root. *leafAt is the level of the
// tree's leaves once one was read; in shape mode the pages at that level of
// a bucket that holds no sub-buckets are claimed without being read.
func (w *pageWalk) page(path []string, id uint64, depth, level int, leafAt *int) {
	if depth > maxTreeDepth {
		w.addf(path, "the tree is deeper than %d levels at page %d", maxTreeDepth, id)
		return
	}
	if id < 2 || id >= w.hwm {
		w.addf(path, "a pointer to page %d, outside the file's pages 2..%d", id, w.hwm-1)
		return
	}
	if !w.full && level == *leafAt && !holdsBuckets(path) {
		w.claim(path, id, 1)
		return
	}
	hdr := w.read(path, id, 1)
	if hdr == nil {
		return
	}
	le := binary.LittleEndian
	if got := le.Uint64(hdr); got != id {
		w.addf(path, "page %d holds page %d's header (flags %#x): overwritten, zeroed, or a wrong pointer", id, got, le.Uint16(hdr[8:]))
		return
	}
	flags := le.Uint16(hdr[8:])
	if flags != branchPageFlag && flags != leafPageFlag {
		w.addf(path, "page %d is not a branch or leaf page (flags %#x)", id, flags)
		return
	}
	if flags == leafPageFlag && *leafAt < 0 {
		*leafAt = level
	}
	overflow := uint64(le.Uint32(hdr[12:]))
	if overflow >= w.hwm-id {
		w.addf(path, "page %d claims %d overflow pages, past the end of the file", id, overflow)
		return
	}
	if !w.claim(path, id, overflow+1) {
		return
	}
	if !w.full && flags == leafPageFlag && !holdsBuckets(path) {
		// The header told the leaves' level; the elements point at no
		// sub-bucket vecbolt opens. Not reading them matters for the
		// snapshot's leaves: each holds a 4 MiB chunk, which cost every
		// open about 2.5 ms (a tenth of opening 10,000 documents).
		return
	}
	p := hdr
	if overflow > 0 {
		if p = w.read(path, id, overflow+1); p == nil {
			return
		}
	}
	w.elements(path, fmt.Sprintf("page %d", id), p, depth, level, leafAt)
}

// elements checks the elements of a page (or inline page) p; where names
// it in messages.
func (w *pageWalk) elements(path []string, where string, p []byte, depth, level int, leafAt *int) {
	le := binary.LittleEndian
	flags, count := le.Uint16(p[8:]), int(le.Uint16(p[10:]))
	if boltPageHeader+count*pageElemSize > len(p) {
		w.addf(path, "%s has %d elements, more than fit in it", where, count)
		return
	}
	if count == 0 && flags == branchPageFlag {
		w.addf(path, "%s is an empty branch page", where)
		return
	}
	for i := range count {
		at := boltPageHeader + i*pageElemSize
		e := p[at : at+pageElemSize]
		if flags == branchPageFlag {
			pos, ksize := uint64(le.Uint32(e[0:])), uint64(le.Uint32(e[4:]))
			if uint64(at)+pos+ksize > uint64(len(p)) {
				w.addf(path, "%s: key %d lies outside the page", where, i)
				return
			}
			w.page(path, le.Uint64(e[8:]), depth+1, level+1, leafAt)
			continue
		}
		eflags, pos, ksize, vsize := le.Uint32(e[0:]), uint64(le.Uint32(e[4:])), uint64(le.Uint32(e[8:])), uint64(le.Uint32(e[12:]))
		if uint64(at)+pos+ksize+vsize > uint64(len(p)) {
			w.addf(path, "%s: key or value %d lies outside the page", where, i)
			return
		}
		if eflags&bucketLeafFlag == 0 || (!w.full && !holdsBuckets(path)) {
			// vecbolt opens no sub-bucket of such a bucket: bbolt never
			// reads what it points to.
			continue
		}
		k := p[uint64(at)+pos : uint64(at)+pos+ksize]
		v := p[uint64(at)+pos+ksize : uint64(at)+pos+ksize+vsize]
		sub := append(append([]string(nil), path...), string(k))
		if len(v) < 16 {
			w.addf(sub, "its bucket header is %d bytes long", len(v))
			continue
		}
		if root := le.Uint64(v); root != 0 {
			w.tree(sub, root, depth+1)
			continue
		}
		inline := v[16:]
		if len(inline) < boltPageHeader || le.Uint16(inline[8:]) != leafPageFlag {
			w.addf(sub, "its inline page is damaged")
			continue
		}
		w.elements(sub, "its inline page", inline, depth+1, 0, nil)
	}
}

// freelist checks the freelist page and the page numbers it lists. A page
// that is reached from a bucket's tree and listed as free is reported in
// that bucket: either its pointer is damaged (bbolt would read a stale
// page) or the freelist is (bbolt would hand the page out again and
// overwrite live data).
func (w *pageWalk) freelist(id uint64) {
	path := []string(nil)
	if id < 2 || id >= w.hwm {
		w.addf(path, "the freelist pointer %d is outside the file's pages", id)
		return
	}
	hdr := w.read(path, id, 1)
	if hdr == nil {
		return
	}
	le := binary.LittleEndian
	if le.Uint64(hdr) != id || le.Uint16(hdr[8:]) != freelistFlag {
		w.addf(path, "page %d is not the freelist page the meta page names", id)
		return
	}
	overflow := uint64(le.Uint32(hdr[12:]))
	if overflow >= w.hwm-id {
		w.addf(path, "the freelist page %d claims %d overflow pages, past the end of the file", id, overflow)
		return
	}
	for i := id; i <= id+overflow; i++ {
		if prev := w.owner[i]; prev != 0 {
			w.addf(w.ownerPath(prev), "page %d is reached from %s and is also the freelist's", i, w.ownerName(prev))
			return
		}
		w.owner[i] = ownerFreelist
	}
	p := hdr
	if overflow > 0 {
		if p = w.read(path, id, overflow+1); p == nil {
			return
		}
	}
	start, count := boltPageHeader, uint64(le.Uint16(p[10:]))
	if count == 0xFFFF {
		count = le.Uint64(p[boltPageHeader:])
		start += 8
	}
	if count > uint64(len(p)-start)/8 {
		w.addf(path, "the freelist lists %d pages, more than fit in it", count)
		return
	}
	for i := range count {
		free := le.Uint64(p[start+int(i)*8:])
		if free < 2 || free >= w.hwm {
			w.addf(path, "the freelist lists page %d, outside the file's pages", free)
			return
		}
		if prev := w.owner[free]; prev != 0 {
			w.addf(w.ownerPath(prev), "page %d is free but also reached from %s", free, w.ownerName(prev))
		}
	}
}

// ownerPath is the bucket path of an owner, nil for the meta pages and the
// freelist.
func (w *pageWalk) ownerPath(o int32) []string {
	if o < 0 {
		return nil
	}
	return w.paths[o-1]
}

// checkShape walks the shape of the file's trees (the shape mode above),
// records the damaged trees of collections' buckets in s.damaged and makes
// the store refuse writes if there are any. Damage to the trees every
// lookup passes through (the root bucket, "meta", "collections") refuses
// the open: nothing in the file could be found without bbolt reading them.
func (s *Store) checkShape() error {
	probs, err := walkFile(s.path, s.db.Info().PageSize, false)
	if err != nil {
		return fmt.Errorf("storage: open %s: %w", s.path, err)
	}
	for _, p := range probs {
		if len(p.Path) < 2 || p.Path[0] != string(bucketCollections) {
			if len(p.Path) == 0 || p.Path[0] == string(bucketMeta) || p.Path[0] == string(bucketCollections) {
				return fmt.Errorf("%w: %s: %s; nothing in the file can be found safely (vecbolt check reports all the damage)", ErrCorrupt, s.path, p)
			}
		} else {
			sub := ""
			if len(p.Path) > 2 {
				sub = p.Path[2]
			}
			if s.damaged == nil {
				s.damaged = make(map[string]string)
			}
			if k := damageKey(p.Path[1], sub); s.damaged[k] == "" {
				s.damaged[k] = p.Msg
			}
		}
		if s.damage.Load() == nil {
			err := fmt.Errorf("%w: %s", ErrCorrupt, p)
			s.damage.Store(&err)
		}
	}
	return nil
}
