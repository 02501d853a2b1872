// Package storage keeps vecbolt's data in one bbolt file.
//
// Layout (bucket names in quotes):
//
//	"meta"          "header" -> FileHeader
//	"collections"   one sub-bucket per collection name:
//	    "config"    -> CollectionConfig
//	    "docs"      bucket: label (8-byte big endian) -> Document
//	    "ids"       bucket: document ID -> label
//	    "snapshot"  bucket: "info" -> SnapshotInfo, chunk number -> bytes
//	    "pending"   bucket: label -> empty; labels changed since the snapshot
//
// A label is a collection-local uint64 drawn from the docs bucket's sequence.
// It never changes for a document ID (an upsert keeps it) and is never
// reused, so the vector index can key on it.
//
// Invariants:
//   - Every value other than bucket markers and ids/pending entries is a
//     protobuf message in an envelope (see envelope.go) carrying a CRC-32C:
//     bbolt verifies its page structure, not the bytes of values, so a flipped
//     bit inside a value would otherwise decode to silently wrong data.
//   - "ids" and "docs" are updated in the same transaction, so each ID maps
//     to exactly one document and each document to its ID.
//   - A document written or deleted after the last snapshot has its label in
//     "pending", written in the same transaction as the document. Recovery
//     after a crash therefore re-indexes exactly what the snapshot lacks.
//   - Writes are durable when Update returns nil: bbolt fsyncs on commit and
//     this package never disables that.
package storage

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"google.golang.org/protobuf/proto"

	"github.com/vecbolt/vecbolt/storage/pb"
)

// FormatVersion is the file format this package writes. Files with a larger
// version are refused rather than misread.
const FormatVersion = 1

// Errors returned by the package. Callers branch on them with errors.Is.
var (
	// ErrLocked means another process (or another handle in this process)
	// holds the file open for writing.
	ErrLocked = errors.New("storage: database file is locked by another process")
	// ErrCorrupt means a stored value failed its checksum or did not decode.
	ErrCorrupt = errors.New("storage: corrupt record")
	// ErrNewerFormat means the file was written by a newer vecbolt.
	ErrNewerFormat = errors.New("storage: file format is newer than this vecbolt supports")
	// ErrNotVecbolt means the file is a bbolt database without vecbolt's header.
	ErrNotVecbolt = errors.New("storage: not a vecbolt database file")
	// ErrReadOnly is returned for writes through a read-only store.
	ErrReadOnly = errors.New("storage: database opened read-only")
)

var (
	bucketMeta        = []byte("meta")
	bucketCollections = []byte("collections")
	keyHeader         = []byte("header")
	keyConfig         = []byte("config")
	bucketDocs        = []byte("docs")
	bucketIDs         = []byte("ids")
	bucketSnapshot    = []byte("snapshot")
	bucketPending     = []byte("pending")
	keySnapshotInfo   = []byte("info")
)

// Options configure Open.
type Options struct {
	// ReadOnly opens the file with a shared lock and refuses writes.
	ReadOnly bool
	// LockTimeout bounds the wait for the file lock. Zero means 2 seconds; a
	// negative value fails at once if the lock is taken.
	LockTimeout time.Duration
	// Mode is the permission for a new file; zero means 0o600.
	Mode os.FileMode
}

// Store is an open database file.
type Store struct {
	db       *bolt.DB
	path     string
	readOnly bool
}

// Open opens or creates the database file at path and checks its header.
func Open(path string, opt Options) (*Store, error) {
	timeout := opt.LockTimeout
	switch {
	case timeout == 0:
		timeout = 2 * time.Second
	case timeout < 0:
		// bbolt treats 0 as "wait forever"; the smallest positive value
		// gives a single non-blocking attempt instead.
		timeout = time.Nanosecond
	}
	mode := opt.Mode
	if mode == 0 {
		mode = 0o600
	}
	if opt.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("storage: open %s read-only: %w", path, err)
		}
	}
	if err := precheck(path); err != nil {
		return nil, err
	}
	// The freelist is synced (bbolt's default): without it bbolt walks every
	// page of the file on open, which costs seconds on large files.
	var db *bolt.DB
	err := guard(func() error {
		var err error
		db, err = bolt.Open(path, mode, &bolt.Options{
			Timeout:      timeout,
			ReadOnly:     opt.ReadOnly,
			FreelistType: bolt.FreelistMapType,
		})
		return err
	})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s (waited %v)", ErrLocked, path, timeout)
		}
		if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrVersionMismatch) {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
		}
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	s := &Store{db: db, path: path, readOnly: opt.ReadOnly}
	if err := s.init(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// init writes the header of a new file, or checks the header of an old one.
func (s *Store) init() error {
	check := func(tx *bolt.Tx) (bool, error) {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			// A file with buckets but no meta is someone else's bbolt file.
			empty := true
			_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
			if !empty {
				return false, fmt.Errorf("%w: %s", ErrNotVecbolt, s.path)
			}
			return false, nil
		}
		var h pb.FileHeader
		if err := unseal(meta.Get(keyHeader), &h); err != nil {
			return false, fmt.Errorf("file header of %s: %w", s.path, err)
		}
		if h.FormatVersion > FormatVersion {
			return false, fmt.Errorf("%w: %s has format %d, this build reads up to %d", ErrNewerFormat, s.path, h.FormatVersion, FormatVersion)
		}
		return true, nil
	}
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		ok, err = check(tx)
		return err
	})
	if err != nil || ok {
		return err
	}
	if s.readOnly {
		return fmt.Errorf("%w: %s is empty", ErrNotVecbolt, s.path)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if ok, err := check(tx); err != nil || ok {
			return err
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(bucketCollections); err != nil {
			return err
		}
		v, err := seal(&pb.FileHeader{FormatVersion: FormatVersion, CreatedUnix: time.Now().Unix()})
		if err != nil {
			return err
		}
		return meta.Put(keyHeader, v)
	})
}

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// ReadOnly reports whether the store was opened read-only.
func (s *Store) ReadOnly() bool { return s.readOnly }

// Close releases the file.
func (s *Store) Close() error { return s.db.Close() }

// Bolt exposes the underlying bbolt handle for consistency checks and
// backups; callers must not write through it.
func (s *Store) Bolt() *bolt.DB { return s.db }

// Size returns the file size in bytes.
func (s *Store) Size() (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n, err
}

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(*Tx) error) error {
	return guard(func() error {
		return s.db.View(func(tx *bolt.Tx) error { return fn(&Tx{tx: tx}) })
	})
}

// Update runs fn in a read-write transaction and commits it durably if fn
// returns nil. Nothing of a failed fn is written.
func (s *Store) Update(fn func(*Tx) error) error {
	if s.readOnly {
		return ErrReadOnly
	}
	return guard(func() error {
		return s.db.Update(func(tx *bolt.Tx) error { return fn(&Tx{tx: tx}) })
	})
}

// guard turns a panic or memory fault inside bbolt into ErrCorrupt.
//
// bbolt trusts the page structure it reads through mmap: a damaged page can
// make it panic on an internal assertion or read outside the mapping. Both
// mean the file is damaged, and a database must report that rather than
// take the program down. SetPanicOnFault turns a fault into a recoverable
// panic for this goroutine only, for the duration of the call; bbolt's own
// deferred rollback releases the transaction when the panic unwinds it.
func guard(fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: the file's structure is damaged (%v)", ErrCorrupt, r)
		}
	}()
	return fn()
}

// marshal is deterministic so that equal records produce equal bytes (map
// order would otherwise vary), which keeps checksums and backups stable.
func marshal(m proto.Message) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}
