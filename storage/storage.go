// Package storage keeps vecbolt's data in one bbolt file.
//
// Storage is vecbolt's internal layer, exported only so that package db can
// be built on it: its API may change in any release, and programs should use
// package db, which is the public API. The protobuf messages it stores live in
// storage/internal/pb (records.proto), which no program outside this module
// can import; the names db needs are aliases here (DocumentRecord, Value, ...).
//
// Layout (bucket names in quotes):
//
//	"meta"          "header" -> FileHeader
//	"collections"   one sub-bucket per collection name:
//	    "config"    -> CollectionConfig
//	    "docs"      bucket: label (8-byte big endian) -> Document, without
//	                its vector (format 4)
//	    "vectors"   bucket: slab number -> the vectors of a run of labels
//	                (format 4; see vectors.go)
//	    "heads"     bucket: label -> Document holding only ID and metadata
//	    "ids"       bucket: document ID -> label
//	    "snapshot"  bucket: "info" -> SnapshotInfo, chunk number -> bytes
//	    "pending"   bucket: label -> empty; labels changed since the snapshot
//	    "fields"    -> FieldRecord (empty): the field types below are complete
//	    "field:" + metadata field name -> FieldRecord (the field's type)
//	    "parents"   bucket: document ID -> Document (chunked collections
//	                only; its passages are in "docs"; see parents.go)
//	    "fulltext"  bucket: the keyword index, whose layout belongs to
//	                package fulltext (format 3; see FullText)
//	    "recall"    -> RecallTuning: the last recall measurement (recall.go)
//
// A label is a collection-local uint64 drawn from the docs bucket's sequence.
// It never changes for a document ID (an upsert keeps it) and is never
// reused, so the vector index can key on it.
//
// Invariants:
//   - Every value other than bucket markers, ids/pending entries, vector
//     slabs and the keyword index's (package fulltext's own encoding, which
//     it validates as it decodes) is a protobuf message in an envelope (see
//     envelope.go) carrying a CRC-32C; a vector slab carries a CRC-32C of
//     its header and one per vector, over the vector and its label
//     (vectors.go). bbolt verifies its page structure, not the bytes of
//     values, so a flipped bit inside a value would otherwise decode to
//     silently wrong data.
//   - Each vector is stored once (format 4): in the "vectors" bucket, not
//     in its document record, and not in a float32 graph's snapshot, which
//     holds links and the vectors of deleted nodes only and reads the
//     others from the bucket on load (PutLinksSnapshot, LoadVectors). At a
//     million 384-dim vectors the file held 5,323 bytes per vector in
//     format 3, 3.5 times the raw 1,536; BENCHMARKS.md ("Vectors stored
//     once") has format 4's.
//   - "ids", "docs", "vectors" and "heads" are updated in the same
//     transaction, so each ID maps to exactly one document and each
//     document to its ID, each document has its vector and a head with the
//     same ID and metadata, and each stored vector belongs to a document
//     (a format 3 file being upgraded may still hold a vector in its
//     document record instead; readers take it from there).
//   - "heads" exists so that opening a collection reads only what its
//     in-memory view needs (IDs and metadata, tens of bytes per document)
//     instead of decoding every text and vector: at a million 384-dim
//     documents that is about 50 MB to read instead of 1.6 GB. Format 1
//     files lack it; a writable open adds it (see migrate), and a read-only
//     open of such a file reads the documents instead.
//   - "field:" keys record the type of each metadata field, and package db
//     writes it in the same transaction as the first document that has the
//     field, so no committed document has a field whose type is missing.
//     Collections made before records existed lack "fields" (format 2
//     files may or may not have it; no format bump, because old readers
//     ignore these keys); db infers their types from the documents and
//     records them on the collection's next write.
//   - A document written or deleted after the last snapshot has its label in
//     "pending", written in the same transaction as the document. Recovery
//     after a crash therefore re-indexes exactly what the snapshot lacks.
//     Those are also the only labels whose stored vector may differ from
//     the one a links-only snapshot was written with (replaced, or gone
//     with its document), so loading that snapshot lets exactly them
//     borrow a neighbour's vector until the replay replaces or deletes
//     them (package index's WithStaleVectors).
//   - "fulltext" is written by package db through package fulltext in the
//     same transaction as the documents it indexes, so it never disagrees
//     with them after a commit. Storage hands fulltext its bucket
//     (FullText) and knows nothing of its keys; the page walker treats it
//     as a bucket that may hold sub-buckets. Format 2 files lack it; the
//     format 2 -> 3 upgrade here only rewrites the header, and package db
//     builds each collection's index on its first load by a writable
//     handle (the collection's config records when it is built), so the
//     storage layer needs no knowledge of text analysis.
//   - Writes are durable when Update returns nil: bbolt fsyncs on commit and
//     this package never disables that.
//   - Damage to the page structure (a fault or failed assertion inside
//     bbolt, reported as ErrCorrupt) fails the transaction that meets it,
//     which then writes nothing, and from then on the store refuses every
//     Update with ErrCorrupt: bbolt would build new pages out of damaged
//     ones (merging with a damaged sibling, freeing page numbers read from
//     garbage) and spread or hide the damage. A record that fails its
//     checksum does not block writes: its damage stays inside its value,
//     and overwriting or deleting it is the repair. Opening does not read
//     every page (that would cost a read of the whole file), so writes that
//     never meet damaged leaf pages succeed; they leave those pages as they
//     are, and vecbolt check keeps reporting them. Snapshot and Pending
//     report damage to their own pages themselves, as the cache it is.
//   - Open walks the shape of every bucket's page tree with a bounds-checked
//     reader of its own (pages.go): its branch pages, and the leaves only of
//     the buckets that hold sub-buckets (about 1% of a file's pages: 674 of
//     59,596 for 100,000 documents of dimension 384, 2 to 5 ms). bbolt's
//     cursor recurses down branch pages without a limit, so a cycle in a
//     tree would end the program with a stack overflow (or run it out of
//     memory), which no recover catches. A damaged tree of a collection's
//     bucket or of its documents, heads or IDs makes Collection return
//     ErrCorrupt naming the collection, without bbolt reading that tree; a
//     damaged snapshot or pending tree makes Snapshot and Pending do so (the
//     collection opens by rebuilding its index); other collections read as
//     before; and the store refuses every Update, as for damage met later.
//     Damage to the trees every lookup passes through (the root bucket,
//     "meta", "collections") refuses the open with ErrCorrupt: nothing in
//     the file could be found safely. One limit: a leaf page of a big
//     bucket overwritten with a well-formed branch page is found only by
//     reading every leaf, which vecbolt check does (CheckPages).
//   - The bbolt handle never leaves this package: callers read and write
//     through Tx and CollectionTx, check through CheckPages and CheckBbolt,
//     and copy through Tx.WriteTo and CompactTo, so every access to the
//     file goes through guard and the damage rules above; the one
//     exception, CheckBbolt (bbolt walks pages on a goroutine of its own),
//     is for a file whose pages CheckPages found sound. The keyword index's
//     bucket (CollectionTx.FullText) is handed out inside a transaction
//     only, so its reads run under that transaction's guard too.
//   - A panic inside a transaction is reported as ErrCorrupt only when it
//     comes from the file: raised in bbolt's code, which panics on damaged
//     pages, or a memory fault at an address in the file's mapping. Any
//     other panic, such as a nil-map write in a View or Update callback, is
//     a bug and is raised again with its value and stack (see fileFault).
//   - A write transaction's memory is what it writes, once: bbolt maps the
//     file initialMmapSize long from the open, so a commit that grows the
//     file does not remap it (a remap copies every value the transaction
//     put onto the heap), and a snapshot's chunks come from a chunkSlab
//     outside the heap, unmapped when the transaction commits
//     (chunkslab.go). The file itself grows by growStep. Since the
//     mapping is never replaced, a write transaction drops its resident
//     pages each time the file has grown by mappedDropStep
//     (dropmap_linux.go), as replacing it used to.
package storage

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"google.golang.org/protobuf/proto"

	"github.com/vecbolt/vecbolt/storage/internal/pb"
)

// FormatVersion is the file format this package writes. Files with a larger
// version are refused rather than misread.
const FormatVersion = 4

// Errors returned by the package. Callers branch on them with errors.Is.
var (
	// ErrLocked means another process (or another handle in this process)
	// holds the file: a writer, which keeps every other handle out, or, when
	// opening for writing, readers, which keep writers out. Open's error says
	// which, and what to do.
	ErrLocked = errors.New("storage: database file is locked by another process")
	// ErrCorrupt means a stored value failed its checksum or did not decode.
	ErrCorrupt = errors.New("storage: corrupt record")
	// ErrNewerFormat means the file was written by a newer vecbolt.
	ErrNewerFormat = errors.New("storage: file format is newer than this vecbolt supports")
	// ErrNotVecbolt means the path names something that is not a vecbolt
	// database: an empty file, a file of other data, a bbolt database
	// without vecbolt's header, or not a regular file at all (a directory,
	// a FIFO, a device). Open creates a database only where nothing exists.
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
	bucketFullText    = []byte("fulltext")
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
	// transaction of this store, or the first damaged tree found by the
	// walk at open; nil while none was.
	damage atomic.Pointer[error]
	// damaged holds what the walk at open found wrong with the trees of
	// collections' buckets, keyed by damageKey; nothing lets bbolt read
	// those trees. It is not changed after Open.
	damaged map[string]string
	// dropAt is the file size at which the next write transaction drops
	// the mapping's resident pages (dropMapped), and dropStep how far past
	// the size of that drop the one after comes. Only write transactions
	// use them, one at a time, under bbolt's writer lock.
	dropAt, dropStep int64
}

// damageKey is the key of damaged for the tree of collection name's bucket
// (sub "") or of its sub-bucket sub.
func damageKey(name, sub string) string { return name + "\x00" + sub }

// lockRemedy says what to do about a file whose lock stayed held. bbolt
// locks the whole file (flock): a writer excludes every other handle,
// readers exclude only writers, and the lock holds across processes, so no
// second process can read a file while a program has it open for writing;
// live inspection has to run inside that program. A user who meets this
// from the CLI, running backup or check against an app's file, needs that
// said, not only that the file is locked.
func lockRemedy(readOnly bool) string {
	if readOnly {
		return "a writer holds it, and nothing can read the file until the writer closes it; " +
			"wait for that, or have the program that writes it call vecbolt's Backup, Check, Export or Scan from its own process"
	}
	return "a writer or a reader holds it, and a writer needs the file to itself; " +
		"wait until every other handle closes it, or make the change from the program that holds it"
}

// Open opens the database file at path and checks its header, or creates
// it if nothing exists at path. It refuses (with ErrNotVecbolt) an existing
// file that is empty or not a regular file.
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
	err := guard(0, func() error {
		bo := &bolt.Options{
			Timeout:         timeout,
			ReadOnly:        opt.ReadOnly,
			FreelistType:    bolt.FreelistMapType,
			OpenFile:        openRegular,
			InitialMmapSize: initialMmapSize,
		}
		var err error
		db, err = bolt.Open(path, mode, bo)
		if errors.Is(err, syscall.ENOMEM) && bo.InitialMmapSize > 0 {
			// A process limited in address space (ulimit -v) cannot map
			// initialMmapSize; bbolt's own policy maps what the file needs.
			bo.InitialMmapSize = 0
			db, err = bolt.Open(path, mode, bo)
		}
		return err
	})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s (waited %v): %s", ErrLocked, path, timeout, lockRemedy(opt.ReadOnly))
		}
		if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrVersionMismatch) {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
		}
		if errors.Is(err, ErrNotVecbolt) {
			return nil, err
		}
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	s := &Store{db: db, path: path, readOnly: opt.ReadOnly, dropStep: mappedDropStep}
	if st, err := os.Stat(path); err == nil {
		db.AllocSize = growStep(st.Size())
		s.dropAt = st.Size() + s.dropStep
	}
	if err := s.checkShape(); err != nil {
		_ = db.Close()
		return nil, err
	}
	// init reads the first pages of the file's tree, which may be damaged
	// where the meta pages were not.
	if err := guard(0, s.init); err != nil {
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
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		version, err = check(tx)
		return err
	})
	if err != nil || (version > 0 && (s.readOnly || s.damage.Load() != nil)) {
		// A read-only handle reads an older format as it is (ForEachHead
		// falls back to the documents, vectors come from the document
		// records), and so does one that found damaged trees at open: it
		// refuses writes, and upgrading would read the documents of every
		// collection.
		return err
	}
	if version == FormatVersion {
		// A crash may have stopped an upgrade while it moved vectors.
		return s.moveVectors()
	}
	if s.readOnly {
		return fmt.Errorf("%w: %s is empty", ErrNotVecbolt, s.path)
	}
	err = s.update(func(tx *bolt.Tx) error {
		version, err := check(tx)
		if err != nil || version == FormatVersion {
			return err
		}
		if version > 0 {
			return migrate(&Tx{tx: tx, damaged: s.damaged}, version)
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
	if err != nil || version == 0 {
		return err
	}
	return s.moveVectors()
}

// moveVectors finishes the format 4 upgrade of every collection whose
// vectors are still in its document records, one batch of documents per
// transaction (see moveSome), so that the upgrade of a large file holds
// little in memory and a crash loses at most the batch in flight, which
// the next writable open moves again.
func (s *Store) moveVectors() error {
	var names []string
	err := s.view(func(tx *bolt.Tx) error {
		t := &Tx{tx: tx, damaged: s.damaged}
		all, err := t.CollectionNames()
		if err != nil {
			return err
		}
		for _, name := range all {
			c, err := t.Collection(name)
			if err != nil {
				// A damaged collection stays as it is; opening it
				// reports the damage.
				continue
			}
			if cfg, err := c.Config(); err == nil && cfg.Vectors != nil && cfg.Vectors.Moving {
				names = append(names, name)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, name := range names {
		for done := false; !done; {
			err := s.update(func(tx *bolt.Tx) error {
				c, err := (&Tx{tx: tx, damaged: s.damaged}).Collection(name)
				if err != nil {
					return err
				}
				done, err = moveSome(c)
				return err
			})
			if err != nil {
				return fmt.Errorf("storage: upgrading %s to format %d: moving the vectors of collection %q: %w", s.path, FormatVersion, name, err)
			}
		}
	}
	return nil
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
// documents. Format 2 lacked the "fulltext" bucket; package db builds it
// per collection (see FullText). Format 3 kept vectors in the document
// records; the upgrade gives each collection its vector store here, and
// moveVectors moves the vectors over after this transaction, in batches
// (see vectors.go): the header says 4 from the first batch on, so an older
// build never reads a document whose vector has moved.
func migrate(t *Tx, from uint32) error {
	meta := t.tx.Bucket(bucketMeta)
	var h pb.FileHeader
	if err := unseal(meta.Get(keyHeader), &h); err != nil {
		return err
	}
	names, err := t.CollectionNames()
	if err != nil {
		return err
	}
	for _, name := range names {
		c, err := t.Collection(name)
		if err != nil {
			return fmt.Errorf("storage: upgrading from format %d: %w", from, err)
		}
		if err := startMove(c); err != nil {
			return fmt.Errorf("storage: upgrading collection %q from format %d: %w", name, from, err)
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

// Damaged reports whether this handle has met damage to the file's page
// structure and so refuses every Update.
func (s *Store) Damaged() bool { return s.damage.Load() != nil }

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// ReadOnly reports whether the store was opened read-only.
func (s *Store) ReadOnly() bool { return s.readOnly }

// Close releases the file.
func (s *Store) Close() error { return s.db.Close() }

// CheckBbolt runs bbolt's own consistency check (the freelist, pages
// neither reachable nor free, key order) in a read transaction and returns
// what it found. bbolt walks the pages on a goroutine of its own, where no
// guard applies and a damaged page pointer ends the program: call it only
// when CheckPages found nothing wrong.
func (s *Store) CheckBbolt() ([]error, error) {
	var found []error
	err := s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			found = append(found, err)
		}
		return nil
	})
	return found, err
}

// WithoutWriters runs fn while no transaction of this store can write: it
// holds bbolt's writer lock (an empty write transaction, rolled back) for
// fn's duration. CheckPages reads the file as it is on disk and bbolt's
// Tx.Check compares the pages it reaches with the live freelist, so a
// commit in the middle (db writes in the background: the recall
// measurement stores its result) makes either report damage that is not
// there: pages freed by the commit but still reachable from the older
// view. A read-only store has no writers in this process, and the file
// lock keeps other processes' writers out, so fn runs at once. fn must not
// write to the store: that would wait for itself.
func (s *Store) WithoutWriters(fn func() error) error {
	if s.readOnly {
		return fn()
	}
	tx, err := s.db.Begin(true)
	if err != nil {
		return fmt.Errorf("storage: holding writers off: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	return fn()
}

// HeadMatches reports whether head holds exactly the ID and metadata of
// doc, as the heads invariant requires.
func HeadMatches(head, doc *DocumentRecord) bool {
	return head.Id == doc.Id && proto.Equal(headOf(head), headOf(doc))
}

// Size returns the file size in bytes.
func (s *Store) Size() (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n, err
}

// View runs fn in a read-only transaction.
//
// A panic inside fn that comes from the file (see fileFault) is returned
// as an error wrapping ErrCorrupt; any other panic, a bug in fn, is raised
// again after the transaction is released.
func (s *Store) View(fn func(*Tx) error) error {
	return s.run(fn, s.view)
}

// Update runs fn in a read-write transaction and commits it durably if fn
// returns nil. Nothing of a failed fn is written. Panics are treated as in
// View, and roll the transaction back. Once the store has met damage to the
// file's page structure, Update refuses to run (see ErrCorrupt in the
// package doc).
func (s *Store) Update(fn func(*Tx) error) error {
	if s.readOnly {
		return ErrReadOnly
	}
	if err := s.damage.Load(); err != nil {
		return fmt.Errorf("%w: writes are refused: this handle met damage to the file's page structure (%v); run vecbolt check", ErrCorrupt, *err)
	}
	return s.run(fn, s.update)
}

// run runs fn in a transaction under guard, and records damage to the
// page structure: an ErrCorrupt that fn did not return itself came from a
// fault or assertion inside bbolt.
func (s *Store) run(fn func(*Tx) error, txn func(func(*bolt.Tx) error) error) error {
	var fnErr error
	err := guard(0, func() error {
		return txn(func(tx *bolt.Tx) error {
			fnErr = fn(&Tx{tx: tx, damaged: s.damaged})
			return fnErr
		})
	})
	if err != nil && errors.Is(err, ErrCorrupt) && !errors.Is(fnErr, ErrCorrupt) {
		s.damage.CompareAndSwap(nil, &err)
	}
	return err
}

// view and update run fn in a bbolt transaction with recoverFault deferred
// inside it, where the mapping fn reads is known. The caller provides the
// outer guard, which sets SetPanicOnFault and catches what happens outside
// fn (bbolt's commit, which may remap the file), where only the frame rule
// applies.
func (s *Store) view(fn func(*bolt.Tx) error) error {
	return s.db.View(func(tx *bolt.Tx) (err error) {
		defer recoverFault(mapBase(tx), &err)
		return fn(tx)
	})
}

func (s *Store) update(fn func(*bolt.Tx) error) error {
	return s.db.Update(func(tx *bolt.Tx) (err error) {
		base := mapBase(tx)
		defer recoverFault(base, &err)
		// Only write transactions read AllocSize, and they run one at a
		// time: this one holds bbolt's writer lock.
		size := tx.Size()
		s.db.AllocSize = growStep(size)
		if size >= s.dropAt {
			dropMapped(base, size)
			s.dropAt = size + s.dropStep
		}
		return fn(tx)
	})
}

// mappedDropStep is how much the file grows between two drops of the
// mapping's resident pages (Store.dropAt).
//
// Why: a page of the file that bbolt reads through its mapping (a leaf on
// the way to a put, the first page of each freed snapshot chunk, a vector
// slab read at open) stays in the process's resident set for as long as
// the mapping lives. bbolt used to replace the mapping whenever the file
// outgrew it, which dropped them all every 1 GiB of growth; the mapping
// is now initialMmapSize long from the open and never replaced, and at 3M
// 96-dim vectors the file pages held at the peak of an insert went from
// 818 MB to 1,506 MB (BENCHMARKS.md, "3M × 96"). Dropping them every
// quarter GiB costs one madvise over the file (a walk of its page tables:
// 1.6 ms for 2 GB all resident, on the machine of that section) and minor
// faults on the pages the next transactions read again (all 506,000 pages
// of that file faulted back in 32 ms, the kernel mapping 16 per fault).
const mappedDropStep = 256 << 20

// growStep is how far bbolt grows a file of size bytes past what a commit
// needs (bolt.DB.AllocSize): a quarter of it, from 32 KiB (bbolt's
// smallest mapping) up to bbolt's own 16 MiB.
//
// Why: with the mapping initialMmapSize long from the start, bbolt no
// longer grows a small file to the end of its mapping (which doubled) but
// by AllocSize each time, so a new database would be a 16 MiB file. A
// quarter of the size keeps growths about as rare as doubling did.
func growStep(size int64) int {
	step := min(max(size/4, 32<<10), 16<<20)
	return int(step+4095) &^ 4095
}

// guard runs fn with memory faults made recoverable and turns a panic that
// comes from the file into an error wrapping ErrCorrupt. Any other panic is
// raised again with its original value, from the frame that recovered it, so
// that the traceback still shows where it started.
//
// bbolt trusts the page structure it reads through mmap: a damaged page can
// make it panic on an internal assertion or index, or read outside the
// mapping (SIGSEGV) or past the end of the file (SIGBUS). Those mean the file
// is damaged, and a database must report that rather than take the program
// down. SetPanicOnFault turns such a fault into a recoverable panic for this
// goroutine only, for the duration of the call; bbolt's own deferred
// rollback releases the transaction when the panic unwinds it.
//
// base is the address of bbolt's mapping of the file, or 0 where it is not
// known (see fileFault for how panics are told apart).
func guard(base uintptr, fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if p := recover(); p != nil {
			err = fault(p, base)
		}
	}()
	return fn()
}

// recoverFault is deferred inside every transaction callback. It sets
// *err for a panic that comes from the file (base is the address of the
// file's mapping) and re-panics on anything else; bbolt then rolls the
// transaction back.
func recoverFault(base uintptr, err *error) {
	if p := recover(); p != nil {
		*err = fault(p, base)
	}
}

// mapBase returns the address of the file's mapping. It is read when a
// callback starts, because reading it touches the mapping's first byte,
// which faults once the file is gone. The mapping stays where it is for
// the whole callback: bbolt remaps the file only to grow it, while a write
// transaction commits.
func mapBase(tx *bolt.Tx) uintptr { return tx.DB().Info().Data }

// fault returns the error for a recovered panic value p that came from the
// file, and re-panics with p otherwise. It must be called directly by the
// deferred function that recovered p, whose stack still holds the frames
// of the panic.
func fault(p any, base uintptr) error {
	where, ok := fileFault(p, base)
	if !ok {
		panic(p)
	}
	return fmt.Errorf("%w: the file's structure is damaged (%v, in %s)", ErrCorrupt, p, where)
}

// bboltPkg is the import path of bbolt; its internal packages share it as a
// prefix.
const bboltPkg = "go.etcd.io/bbolt"

// fileFault reports whether p, a panic value recovered by a deferred
// function that called fault, came from the file, and names the frame that
// decided it. The rule:
//
//   - The panic was raised by bbolt's code: the innermost frame of the
//     panicking stack that is neither the runtime nor the standard library
//     is in package go.etcd.io/bbolt (or one of its internal packages).
//     bbolt panics only on what it reads from the file (its page assertions,
//     an index computed from a damaged page, a damaged pointer); the
//     standard library is skipped because bbolt reaches the mapping through
//     it too (bytes.Compare on keys, sort.Search in a page).
//   - Or the panic is a memory fault at an address (a runtime.Error with
//     Addr, which SetPanicOnFault gives for any fault but a nil
//     dereference), in whatever code read it. Go code without unsafe cannot
//     make such an address; the unsafe pointers in play are bbolt's over the
//     file's bytes: value slices that alias the mapping, and those that
//     alias bbolt's heap copy of an unaligned inline bucket, whose damaged
//     offsets point anywhere, outside the mapping. So the address is not
//     compared with the mapping's (base only names it in the message).
//
// Everything else is a bug and must surface as one: a nil-map write, an
// explicit panic, a nil dereference (whose address is near 0), an index out
// of range in vecbolt's own decoders (which check every length and are
// fuzzed, so such a panic means the check is wrong, not the file). The
// callback runs below bbolt's frames, which is why only the innermost frame
// counts. One limit: bbolt also asserts on misuse of its API (a transaction
// used after it closed), which this rule reports as damage; storage never
// hands out a transaction beyond its callback.
func fileFault(p any, base uintptr) (where string, ok bool) {
	where = panicFrame()
	if pkg := pkgPath(where); pkg == bboltPkg || strings.HasPrefix(pkg, bboltPkg+"/") {
		return where, true
	}
	if f, isFault := p.(interface {
		runtime.Error
		Addr() uintptr
	}); isFault {
		return fmt.Sprintf("%s, address %#x; the file is mapped at %#x", where, f.Addr(), base), true
	}
	return where, false
}

// panicFrame returns the function name of the innermost frame of the
// panicking stack outside the runtime and the standard library ("" if
// none). Called below a deferred function, the stack reads: this function,
// fileFault, fault, the deferred function, runtime.gopanic, the runtime's
// panic helpers (sigpanic, panicmem, panicBounds, mapassign...), then the
// code that panicked.
func panicFrame() string {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(1, pcs)])
	panicking := false
	for {
		f, more := frames.Next()
		switch {
		case !panicking:
			panicking = f.Function == "runtime.gopanic"
		case !isStd(f.Function):
			return f.Function
		}
		if !more {
			return ""
		}
	}
}

// pkgPath returns the import path of a function name as runtime.Frame
// spells it ("go.etcd.io/bbolt.(*Cursor).search" -> "go.etcd.io/bbolt").
func pkgPath(fn string) string {
	if i := strings.IndexByte(fn, '['); i >= 0 {
		fn = fn[:i] // type arguments may contain paths
	}
	slash := strings.LastIndexByte(fn, '/') + 1
	if dot := strings.IndexByte(fn[slash:], '.'); dot >= 0 {
		return fn[:slash+dot]
	}
	return fn
}

// isStd reports whether a function belongs to the runtime or the standard
// library, whose import paths have no dot in their first element. A module
// named without a dot ("myapp") is taken for the standard library too,
// which is harmless here: a caller's callback always runs below storage's
// own frames (View and Update wrap it), so skipping the caller's frames
// lands on storage's, never on bbolt's.
func isStd(fn string) bool {
	path := pkgPath(fn)
	first, _, _ := strings.Cut(path, "/")
	return path != "main" && !strings.Contains(first, ".")
}

// marshal is deterministic so that equal records produce equal bytes (map
// order would otherwise vary), which keeps checksums and backups stable.
func marshal(m proto.Message) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}
