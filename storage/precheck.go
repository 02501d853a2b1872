package storage

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt maps the file into memory and trusts its meta page: a file cut
// short (a copy that stopped early, a full disk during a copy) makes it
// touch pages past the end of the file, which is a SIGBUS that no recover
// can catch. precheck reads the two meta pages the way bbolt lays them out
// and refuses a file shorter than the pages the newest valid meta page
// claims, before bbolt ever maps it.
//
// bbolt's on-disk meta page (stable since bbolt 1.0, format version 2):
//
//	page header: id u64, flags u16, count u16, overflow u32   (16 bytes)
//	meta:        magic u32, version u32, pageSize u32, flags u32,
//	             root {pgid u64, sequence u64}, freelist u64, pgid u64,
//	             txid u64, checksum u64 (FNV-64a of the meta bytes before it)
const (
	boltMagic      = 0xED0CDAED
	boltPageHeader = 16
	boltMetaSize   = 64
)

type boltMeta struct {
	pageSize uint32
	pgid     uint64
	txid     uint64
}

func parseBoltMeta(b []byte) (boltMeta, bool) {
	if len(b) < boltPageHeader+boltMetaSize {
		return boltMeta{}, false
	}
	m := b[boltPageHeader : boltPageHeader+boltMetaSize]
	le := binary.LittleEndian
	if le.Uint32(m[0:4]) != boltMagic {
		return boltMeta{}, false
	}
	h := fnv.New64a()
	_, _ = h.Write(m[:56])
	if h.Sum64() != le.Uint64(m[56:64]) {
		return boltMeta{}, false
	}
	return boltMeta{pageSize: le.Uint32(m[8:12]), pgid: le.Uint64(m[40:48]), txid: le.Uint64(m[48:56])}, true
}

// precheck returns an error wrapping ErrCorrupt for a file bbolt must not
// map. A missing or empty file passes: bbolt creates it.
func precheck(path string) error {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("storage: open %s: %w", path, err)
	}
	defer f.Close()
	first := make([]byte, boltPageHeader+boltMetaSize)
	if n, err := io.ReadFull(f, first); err != nil {
		if n == 0 {
			return nil // empty: bbolt initializes it
		}
		return fmt.Errorf("%w: %s is too short (%d bytes) to be a database", ErrCorrupt, path, n)
	}
	best, ok := parseBoltMeta(first)
	// The second meta page sits one page in; its size comes from the
	// first, or, if that is damaged, from the common page sizes.
	sizes := []int64{4096, 8192, 16384, 65536}
	if ok {
		sizes = []int64{int64(best.pageSize)}
	}
	for _, ps := range sizes {
		second := make([]byte, boltPageHeader+boltMetaSize)
		if _, err := f.ReadAt(second, ps); err != nil {
			continue
		}
		if m, ok2 := parseBoltMeta(second); ok2 && (!ok || m.txid > best.txid) {
			best, ok = m, true
		}
	}
	if !ok {
		return fmt.Errorf("%w: %s has no valid bbolt meta page", ErrCorrupt, path)
	}
	if best.pageSize < 512 || best.pageSize > 1<<20 {
		return fmt.Errorf("%w: %s claims page size %d", ErrCorrupt, path, best.pageSize)
	}
	// The size is read after the meta pages: a writer in another process
	// grows the file before it commits a meta page that needs the growth.
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("storage: stat %s: %w", path, err)
	}
	size := st.Size()
	if need := int64(best.pgid) * int64(best.pageSize); best.pgid > 1<<40 || need > size {
		return fmt.Errorf("%w: %s is truncated: %d bytes, its pages need %d", ErrCorrupt, path, size, need)
	}
	return nil
}
