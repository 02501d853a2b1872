package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
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

// precheck returns an error for a path bbolt must not open or map. Only a
// path where nothing exists passes without a file: bbolt creates the
// database there.
//
//   - Anything but a regular file (after symlinks) wraps ErrNotVecbolt. A
//     FIFO in particular must be refused before it is opened: opening one
//     for reading blocks until a writer appears, which may be never.
//   - An empty file wraps ErrNotVecbolt. bbolt would initialize it (or, read
//     only, fail with "bad file descriptor" trying to), but an existing file
//     that is not a database is not vecbolt's to take over; the user may
//     have named the wrong file.
//   - A file without a bbolt meta page wraps ErrNotVecbolt if neither
//     possible meta page even has bbolt's magic number (it is some other
//     data), and ErrCorrupt if one has but fails its checksum.
//   - A file shorter than its newest valid meta page claims wraps
//     ErrCorrupt.
func precheck(path string) error {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	if err := regular(path, st); err != nil {
		return err
	}
	// O_NONBLOCK, and the check of what was opened, keep a FIFO put in the
	// file's place since the Stat from blocking the open.
	f, err := os.OpenFile(path, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	if err := regular(path, st); err != nil {
		return err
	}
	if st.Size() == 0 {
		return fmt.Errorf("%w: %s is an empty file; vecbolt creates a database only where no file exists (remove it to start a new database there)", ErrNotVecbolt, path)
	}
	first := make([]byte, boltPageHeader+boltMetaSize)
	if n, err := io.ReadFull(f, first); err != nil {
		if !hasMagic(first[:n]) {
			return fmt.Errorf("%w: %s (%d bytes) does not start with a bbolt meta page", ErrNotVecbolt, path, n)
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
	magic := hasMagic(first)
	for _, ps := range sizes {
		second := make([]byte, boltPageHeader+boltMetaSize)
		if _, err := f.ReadAt(second, ps); err != nil {
			continue
		}
		magic = magic || hasMagic(second)
		if m, ok2 := parseBoltMeta(second); ok2 && (!ok || m.txid > best.txid) {
			best, ok = m, true
		}
	}
	if !ok && !magic {
		return fmt.Errorf("%w: %s is not a bbolt file (no meta page has bbolt's magic number)", ErrNotVecbolt, path)
	}
	if !ok {
		return fmt.Errorf("%w: %s has no valid bbolt meta page", ErrCorrupt, path)
	}
	if best.pageSize < 512 || best.pageSize > 1<<20 {
		return fmt.Errorf("%w: %s claims page size %d", ErrCorrupt, path, best.pageSize)
	}
	// The size is read after the meta pages: a writer in another process
	// grows the file before it commits a meta page that needs the growth.
	st, err = f.Stat()
	if err != nil {
		return fmt.Errorf("storage: stat %s: %w", path, err)
	}
	size := st.Size()
	if need := int64(best.pgid) * int64(best.pageSize); best.pgid > 1<<40 || need > size {
		return fmt.Errorf("%w: %s is truncated: %d bytes, its pages need %d", ErrCorrupt, path, size, need)
	}
	return nil
}

// hasMagic reports whether page starts like a bbolt meta page.
func hasMagic(page []byte) bool {
	return len(page) >= boltPageHeader+4 && binary.LittleEndian.Uint32(page[boltPageHeader:]) == boltMagic
}

// regular returns an error wrapping ErrNotVecbolt unless st is a regular
// file's.
func regular(path string, st fs.FileInfo) error {
	m := st.Mode()
	if m.IsRegular() {
		return nil
	}
	what := fmt.Sprintf("not a regular file (mode %v)", m)
	switch {
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeCharDevice != 0:
		what = "a character device"
	case m&fs.ModeDevice != 0:
		what = "a device"
	}
	return fmt.Errorf("%w: %s is %s; a database must be a regular file", ErrNotVecbolt, path, what)
}

// openRegular is bbolt's OpenFile: it refuses anything but a regular file,
// checked on what it opened, so that a path replaced since precheck still
// cannot make bbolt block on a FIFO or map a device.
func openRegular(name string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(name, flag|openNonblock, perm)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil {
		err = regular(name, st)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
