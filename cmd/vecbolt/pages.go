package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"strings"
)

// The page walk below reads bbolt's on-disk format itself, with every
// offset and page number bounds-checked, instead of through bbolt. bbolt
// trusts the pages it reads through its mmap: a damaged page pointer makes
// it read outside the mapping (a fault), fail an assertion, or follow a
// cycle forever. Its own Tx.Check does that on a goroutine of its own,
// where no recover or SetPanicOnFault of ours applies, so one bad pointer
// killed `vecbolt check`. The walk runs first; bbolt's check, and every
// read through bbolt of a damaged part of the tree, run only where the walk
// found the pages sound.
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
	pageHeaderSize  = 16
	pageElemSize    = 16
	branchPageFlag  = 0x01
	leafPageFlag    = 0x02
	metaPageFlag    = 0x04
	freelistFlag    = 0x10
	bucketLeafFlag  = 0x01
	boltMagic       = 0xED0CDAED
	boltVersion     = 2
	noFreelist      = ^uint64(0)
	maxTreeDepth    = 64
	maxProblemsWalk = 1000
)

// pageProblem is one defect of the file's page structure, found in the
// tree of the bucket at path (nil: the root of the file).
type pageProblem struct {
	path []string
	msg  string
}

func (p pageProblem) String() string {
	if len(p.path) == 0 {
		return "file structure: " + p.msg
	}
	return fmt.Sprintf("file structure, bucket %s: %s", quotePath(p.path), p.msg)
}

func quotePath(path []string) string {
	q := make([]string, len(path))
	for i, s := range path {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, "/")
}

// pageWalk is one walk over a database file.
type pageWalk struct {
	r        io.ReaderAt
	size     int64
	pageSize int
	hwm      uint64 // pages below this are in use or free
	owner    map[uint64]string
	problems []pageProblem
}

// walkPages checks the page structure of the bbolt file at path: the meta
// pages, then every page reachable from the root bucket (in range, with a
// header naming the page itself, of the right type, with elements and
// their keys and values inside the page, reached once), then the freelist.
// pageSize is the page size bbolt opened the file with.
func walkPages(path string, pageSize int) ([]pageProblem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return walkPagesAt(f, st.Size(), pageSize), nil
}

// walkPagesAt is walkPages over size bytes of r.
func walkPagesAt(r io.ReaderAt, size int64, pageSize int) []pageProblem {
	w := &pageWalk{r: r, size: size, owner: make(map[uint64]string)}
	root, freelist, err := w.meta(pageSize)
	if err != nil {
		return []pageProblem{{msg: err.Error()}}
	}
	w.page(nil, root, 0)
	if freelist != noFreelist {
		w.freelist(freelist)
	}
	return w.problems
}

func (w *pageWalk) addf(path []string, format string, args ...any) {
	if len(w.problems) < maxProblemsWalk {
		w.problems = append(w.problems, pageProblem{path: append([]string(nil), path...), msg: fmt.Sprintf(format, args...)})
	}
}

// meta picks the meta page bbolt uses (the valid one with the higher
// transaction ID) and returns the root page and the freelist page.
func (w *pageWalk) meta(pageSize int) (root, freelist uint64, err error) {
	type meta struct {
		pageSize            uint32
		root, free, hwm, tx uint64
	}
	read := func(off int64) (meta, error) {
		b := make([]byte, pageHeaderSize+64)
		if _, err := w.r.ReadAt(b, off); err != nil {
			return meta{}, fmt.Errorf("meta page at offset %d: %w", off, err)
		}
		m := b[pageHeaderSize:]
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
	w.owner[0], w.owner[1] = "meta", "meta"
	return m.root, m.free, nil
}

// read returns n pages starting at id, or nil with a problem recorded.
func (w *pageWalk) read(path []string, id uint64, n uint64) []byte {
	size := n * uint64(w.pageSize)
	b := make([]byte, size)
	if _, err := w.r.ReadAt(b, int64(id)*int64(w.pageSize)); err != nil {
		w.addf(path, "page %d: %v", id, err)
		return nil
	}
	return b
}

// claim records that the n pages from id belong to the tree at path, and
// reports a page reached twice (which also stops cycles).
func (w *pageWalk) claim(path []string, id, n uint64) bool {
	for i := id; i < id+n; i++ {
		if prev, ok := w.owner[i]; ok {
			w.addf(path, "page %d is reached twice (also from %s)", i, prev)
			return false
		}
	}
	name := quotePath(path)
	if len(path) == 0 {
		name = "the root"
	}
	for i := id; i < id+n; i++ {
		w.owner[i] = name
	}
	return true
}

// page checks the tree of a bucket from page id.
func (w *pageWalk) page(path []string, id uint64, depth int) {
	if depth > maxTreeDepth {
		w.addf(path, "the tree is deeper than %d levels at page %d", maxTreeDepth, id)
		return
	}
	if id < 2 || id >= w.hwm {
		w.addf(path, "a pointer to page %d, outside the file's pages 2..%d", id, w.hwm-1)
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
	overflow := uint64(le.Uint32(hdr[12:]))
	if overflow >= w.hwm-id {
		w.addf(path, "page %d claims %d overflow pages, past the end of the file", id, overflow)
		return
	}
	if !w.claim(path, id, overflow+1) {
		return
	}
	p := hdr
	if overflow > 0 {
		if p = w.read(path, id, overflow+1); p == nil {
			return
		}
	}
	w.elements(path, fmt.Sprintf("page %d", id), p, depth)
}

// elements checks the elements of a page (or inline page) p; where names
// it in messages.
func (w *pageWalk) elements(path []string, where string, p []byte, depth int) {
	le := binary.LittleEndian
	flags, count := le.Uint16(p[8:]), int(le.Uint16(p[10:]))
	if pageHeaderSize+count*pageElemSize > len(p) {
		w.addf(path, "%s has %d elements, more than fit in it", where, count)
		return
	}
	if count == 0 && flags == branchPageFlag {
		w.addf(path, "%s is an empty branch page", where)
		return
	}
	for i := range count {
		at := pageHeaderSize + i*pageElemSize
		e := p[at : at+pageElemSize]
		if flags == branchPageFlag {
			pos, ksize := uint64(le.Uint32(e[0:])), uint64(le.Uint32(e[4:]))
			if uint64(at)+pos+ksize > uint64(len(p)) {
				w.addf(path, "%s: key %d lies outside the page", where, i)
				return
			}
			w.page(path, le.Uint64(e[8:]), depth+1)
			continue
		}
		eflags, pos, ksize, vsize := le.Uint32(e[0:]), uint64(le.Uint32(e[4:])), uint64(le.Uint32(e[8:])), uint64(le.Uint32(e[12:]))
		if uint64(at)+pos+ksize+vsize > uint64(len(p)) {
			w.addf(path, "%s: key or value %d lies outside the page", where, i)
			return
		}
		if eflags&bucketLeafFlag == 0 {
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
			w.page(sub, root, depth+1)
			continue
		}
		inline := v[16:]
		if len(inline) < pageHeaderSize || le.Uint16(inline[8:]) != leafPageFlag {
			w.addf(sub, "its inline page is damaged")
			continue
		}
		w.elements(sub, "its inline page", inline, depth+1)
	}
}

// freelist checks the freelist page and the page numbers it lists.
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
		if prev, ok := w.owner[i]; ok {
			w.addf(path, "freelist page %d is also reached from %s", i, prev)
			return
		}
		w.owner[i] = "the freelist"
	}
	p := w.read(path, id, overflow+1)
	if p == nil {
		return
	}
	start, count := pageHeaderSize, uint64(le.Uint16(p[10:]))
	if count == 0xFFFF {
		count = le.Uint64(p[pageHeaderSize:])
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
		if prev, ok := w.owner[free]; ok {
			w.addf(path, "page %d is free but also reached from %s", free, prev)
		}
	}
}
