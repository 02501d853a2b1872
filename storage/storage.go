// Package storage keeps vecbolt's data in one bbolt file.
//
// Layout (bucket names in quotes):
//
//	"meta"          "header" -> FileHeader
//	"collections"   one sub-bucket per collection name:
//	    "config"    -> CollectionConfig
//	    "docs"      bucket: label (8-byte big endian) -> Document
//	    "heads"     bucket: label -> Document holding only ID and metadata
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
//   - "ids", "docs" and "heads" are updated in the same transaction, so each
//     ID maps to exactly one document and each document to its ID, and each
//     document has a head with the same ID and metadata.
//   - "heads" exists so that opening a collection reads only what its
//     in-memory view needs (IDs and metadata, tens of bytes per document)
//     instead of decoding every text and vector: at a million 384-dim
//     documents that is about 50 MB to read instead of 1.6 GB. Format 1
//     files lack it; a writable open adds it (see migrate), and a read-only
//     open of such a file reads the documents instead.
//   - A document written or deleted after the last snapshot has its label in
//     "pending", written in the same transaction as the document. Recovery
//     after a crash therefore re-indexes exactly what the snapshot lacks.
//   - Writes are durable when Update returns nil: bbolt fsyncs on commit and
//     this package never disables that.
//   - Damage to the page structure (a fault or failed assertion inside
//     bbolt, reported as ErrCorrupt) fails the transaction that meets it,
//     which then writes nothing, and from then on the store refuses every
//     Update with ErrCorrupt: bbolt would build new pages out of damaged
//     ones (merging with a damaged sibling, freeing page numbers read from
//     garbage) and spread or hide the damage. A record that fails its
//     checksum does not block writes: its damage stays inside its value,
//     and overwriting or deleting it is the repair. Opening does not scan
//     the file (that would cost a read of all of it), so writes that never
//     meet the damaged pages succeed; they leave those pages as they are,
//     and vecbolt check keeps reporting them. Snapshot and Pending report
//     damage to their own pages themselves, as the cache it is.
package storage

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"google.golang.org/protobuf/proto"

	"github.com/vecbolt/vecbolt/storage/pb"
)

// FormatVersion is the file format this package writes. Files with a larger
// version are refused rather than misread.
const FormatVersion = 2

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
	bucketHeads       = []byte("heads")
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
	// damage is the first fault or assertion failure inside bbolt met by a
	// transaction of this store; nil while none was.
	damage atomic.Pointer[error]
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
	// init reads the first pages of the file's tree, which may be damaged
	// where the meta pages were not.
	if err := guard(s.init); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// init writes the header of a new file, or checks the header of an old one
// and, when writable, upgrades an older format in place.
func (s *Store) init() error {
	// check returns the file's format version, 0 for an empty file.
	check := func(tx *bolt.Tx) (uint32, error) {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			// A file with buckets but no meta is someone else's bbolt file.
			empty := true
			_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
			if !empty {
				return 0, fmt.Errorf("%w: %s", ErrNotVecbolt, s.path)
			}
			return 0, nil
		}
		var h pb.FileHeader
		if err := unseal(meta.Get(keyHeader), &h); err != nil {
			return 0, fmt.Errorf("file header of %s: %w", s.path, err)
		}
		if h.FormatVersion > FormatVersion {
			return 0, fmt.Errorf("%w: %s has format %d, this build reads up to %d", ErrNewerFormat, s.path, h.FormatVersion, FormatVersion)
		}
		if h.FormatVersion == 0 {
			return 0, fmt.Errorf("%w: file header of %s has format 0", ErrCorrupt, s.path)
		}
		return h.FormatVersion, nil
	}
	var version uint32
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		version, err = check(tx)
		return err
	})
	if err != nil || version == FormatVersion || (version > 0 && s.readOnly) {
		// A read-only handle reads an older format as it is (ForEachHead
		// falls back to the documents).
		return err
	}
	if s.readOnly {
		return fmt.Errorf("%w: %s is empty", ErrNotVecbolt, s.path)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		version, err := check(tx)
		if err != nil || version == FormatVersion {
			return err
		}
		if version > 0 {
			return migrate(tx, version)
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(bucketCollections); err != nil {
			return err
		}
		return putHeader(meta, time.Now().Unix())
	})
}

func putHeader(meta *bolt.Bucket, created int64) error {
	v, err := seal(&pb.FileHeader{FormatVersion: FormatVersion, CreatedUnix: created})
	if err != nil {
		return err
	}
	return meta.Put(keyHeader, v)
}

// migrate upgrades a file written in an older format, in the caller's
// transaction so that a crash leaves either the old file or the new one.
// Format 1 lacked the per-collection "heads" bucket; it is derived from the
// documents.
func migrate(tx *bolt.Tx, from uint32) error {
	meta := tx.Bucket(bucketMeta)
	var h pb.FileHeader
	if err := unseal(meta.Get(keyHeader), &h); err != nil {
		return err
	}
	t := &Tx{tx: tx}
	names, err := t.CollectionNames()
	if err != nil {
		return err
	}
	for _, name := range names {
		c, err := t.Collection(name)
		if err != nil {
			return fmt.Errorf("storage: upgrading from format %d: %w", from, err)
		}
		if c.b.Bucket(bucketHeads) != nil {
			continue
		}
		heads, err := c.b.CreateBucket(bucketHeads)
		if err != nil {
			return err
		}
		err = c.ForEachDocument(func(label uint64, d *DocumentRecord) error {
			v, err := seal(headOf(d))
			if err != nil {
				return err
			}
			return heads.Put(LabelKey(label), v)
		})
		if err != nil {
			return fmt.Errorf("storage: upgrading collection %q from format %d: %w", name, from, err)
		}
	}
	return putHeader(meta, h.CreatedUnix)
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
	return s.run(fn, s.db.View)
}

// Update runs fn in a read-write transaction and commits it durably if fn
// returns nil. Nothing of a failed fn is written. Once the store has met
// damage to the file's page structure, Update refuses to run (see
// ErrCorrupt in the package doc).
func (s *Store) Update(fn func(*Tx) error) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if err := s.damage.Load(); err != nil {
		return fmt.Errorf("%w: writes are refused: this handle met damage to the file's page structure (%v); run vecbolt check", ErrCorrupt, *err)
	}
	return s.run(fn, s.db.Update)
}

// run runs fn in a transaction under guard, and records damage to the
// page structure: an ErrCorrupt that fn did not return itself came from a
// fault or assertion inside bbolt.
func (s *Store) run(fn func(*Tx) error, txn func(func(*bolt.Tx) error) error) error {
	var fnErr error
	err := guard(func() error {
		return txn(func(tx *bolt.Tx) error {
			fnErr = fn(&Tx{tx: tx})
			return fnErr
		})
	})
	if err != nil && errors.Is(err, ErrCorrupt) && !errors.Is(fnErr, ErrCorrupt) {
		s.damage.CompareAndSwap(nil, &err)
	}
	return err
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
