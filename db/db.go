// Package db is vecbolt's public API: an embedded vector database in one
// file, with a built-in text embedder.
//
//	d, err := db.Open("notes.vecbolt")
//	notes, err := d.CreateCollection(ctx, "notes")
//	_, err = notes.Insert(ctx, db.Document{Text: "Go has goroutines", Metadata: map[string]any{"lang": "en"}})
//	hits, err := notes.Search(ctx, "concurrency", db.TopK(5), db.Where(query.Eq("lang", "en")))
//
// A DB holds named collections. Each collection stores documents (ID, text,
// typed metadata, vector) durably in a bbolt file (package storage) and keeps
// a vector index in memory (package index) that is snapshotted into the same
// file. Texts are embedded by an embedder.Embedder; the default is the
// built-in static model, and collections created WithDimension hold
// caller-supplied vectors only. models.Load opens any other model by
// directory or registered name, as the vecbolt command's --model does.
//
// The built-in model's weights (about 14 MB) are linked into every program
// that imports db. A program that only stores and searches its own vectors
// leaves them out by building with the tag vecbolt_nomodel (go build -tags
// vecbolt_nomodel): Open then defaults to no model, as WithEmbedder(nil)
// does, and creating a text collection without WithEmbedder fails with
// ErrNoEmbedder. A vectors-only program measured 24.3 MB without the tag
// and 9.6 MB with it.
//
// Guarantees:
//   - A write (Insert, Upsert, Delete) that returned nil is on disk: it
//     survives kill -9 and power loss (bbolt fsyncs on commit).
//   - A write that returns an error has written nothing: validation and
//     embedding happen before the single transaction that stores the batch.
//     Every document it rejects is listed, each as a *DocumentError
//     (matching ErrInvalidDocument) in one *BatchError. With SkipInvalid
//     (InsertWith, UpsertWith) the rejected documents are left out and
//     returned, and the others are stored in that one transaction.
//     Validation runs the index's own check (index.CheckVector), so a
//     committed vector is one the index accepts, now and on every reopen;
//     and it bounds vector norms by index.MaxNorm, so every score is finite.
//   - Close cannot undo a write: if it fails to write an index snapshot
//     (a full disk, say), it returns an error wrapping ErrSnapshot, and the
//     next open re-indexes from the documents.
//   - Texts are embedded outside any lock or transaction, so a slow model
//     never blocks searches or other collections.
//   - All methods are safe for concurrent use. Writes to one collection are
//     serialized; searches run concurrently with them and with each other.
//   - A search never loses results to its filter or to concurrent deletes:
//     it returns min(K, matching documents) results. Each result is a
//     document that existed at some moment during the search, with its ID
//     and the fields asked for, however writes and deletes interleave.
//   - In a chunked collection (WithChunking; passages.go) a document and
//     all its passages are written, replaced and deleted in one
//     transaction: no passage outlives its document or points outside its
//     text, and Check verifies it.
//   - The index snapshot is a cache of the documents, never the only copy
//     of anything. When it (or its list of writes since) is damaged or
//     disagrees with the documents, loading the collection rebuilds the
//     index from the documents instead of failing, says so through
//     WithRecoveryLog and CollectionInfo.IndexRebuilt, and a writable
//     handle stores a fresh snapshot; DB.Reindex does the same on demand.
//     Damage to the data (configuration, documents, their heads, the ID
//     map) is never rebuilt around: it is reported as ErrCorrupt.
//   - A damaged vector (each is stored once, with its own checksum)
//     damages its document, not its collection: loading leaves the
//     document out of the index, so no search returns it; it stays stored
//     and counted, CollectionInfo.DamagedVectors and Check name it, Get
//     returns its text and metadata and a *DamagedVectorError (wrapping
//     ErrCorrupt) when asked for its vector, and Upsert or Delete of the
//     document repairs it. An int8 collection, which loads without reading
//     its float vectors, leaves such a document out from the first search
//     that re-ranks it. See damaged.go.
//   - On a damaged file: every read or write that meets damage fails with
//     ErrCorrupt and writes nothing. Once a handle has met damage to the
//     file's page structure (bbolt's pages, as opposed to one record that
//     fails its checksum), it refuses every later write with ErrCorrupt,
//     because bbolt would build new pages out of the damaged ones. Opening
//     walks the shape of the file's page trees, not every page (see the
//     storage package): a collection whose trees are damaged (a cycle, a
//     page reached twice, a pointer past the file) fails with ErrCorrupt
//     naming it, other collections read as before, and the handle refuses
//     writes; damage to the trees every lookup passes through refuses the
//     open. Damage the walk cannot see (inside leaf pages) blocks writes
//     only once met; writes that never meet it succeed, leave those pages
//     as they were, and `vecbolt check` keeps finding them. A record that
//     fails its checksum does not block writes: deleting or overwriting it
//     is the repair.
//   - Metadata fields are typed: a collection records each field's type
//     (string, number for int and float alike, bool, or list of strings;
//     see FieldType) in the transaction of the first write that has it,
//     and keeps it when the documents holding it are deleted. A document
//     that gives a field another type is a *DocumentError wrapping
//     ErrInvalidDocument, and its batch writes nothing. A filter is
//     type-checked against the recorded types before a search visits any
//     document, so whether it fails never depends on which documents
//     exist; a field no document has had yet is not an error. Collections
//     written before types were recorded have them inferred from their
//     documents when loaded (recorded on their next write); a field whose
//     documents hold several types is TypeMixed (see there).
//   - Backup, BackupFile and CompactTo copy one read transaction's view
//     of the file: writers are not blocked, and a copy holds each write
//     entirely or not at all. BackupFile, CompactTo and CompactFile put
//     only a complete, synced copy at their output (a rename), never part
//     of one; CompactFile checks the copy before it replaces the file.
//     Check writes nothing itself: what is wrong with the file is in its
//     report, not its error.
//   - A write's memory is bounded by its batch: Insert and Upsert refuse a
//     call of more than MaxBatchBytes, and hold about three times the
//     batch's bytes at their peak (see MaxBatchBytes).
//   - Delete and DeleteWhere are one transaction each: every document they
//     report deleted is gone, or, on error, none is.
//   - Scan and Export never hold a read transaction while the caller's code
//     runs: they read in pages (256 documents at most), each a snapshot of
//     the collection, in ID order. A document written or deleted during a
//     scan is seen as it was when its page was read, and never twice.
//   - Import's memory is bounded by its line limit (MaxLineBytes) and a
//     batch budget of 32 MiB, not by its input; each batch is one
//     transaction, so a stopped import keeps exactly the batches it
//     committed (ImportResult.Stored says how many documents).
//   - Export writes what Import reads, and the round trip is exact: the
//     same documents, with metadata of the same types and bits, and an
//     export of the imported copy is byte-identical.
//
// Scores are similarities, higher is closer: the cosine similarity for
// Cosine, the dot product for Dot, and the negated Euclidean distance for L2.
//
// Besides search, the toolbox uses the same vectors for other jobs: the
// embedder itself with its two sides explicit (EmbedQuery, EmbedDocuments,
// EmbedWith) and the cosine similarity of texts (Similarity,
// CosineMatrix; embed.go); more like a stored document (Collection.Similar;
// similar.go); recommendation from positive and negative examples
// (Collection.Recommend, two documented strategies; recommend.go); and a
// label by a similarity-weighted vote of labelled neighbours
// (Collection.Classify; classify.go). Each runs on the collection's index
// with Search's options, and what Similar and Recommend leave out (their
// examples) is excluded inside the index search, so they keep the
// min(K, matching) guarantee.
package db

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/index"
	"github.com/vecbolt/vecbolt/storage"
)

// Errors returned by the package. Branch on them with errors.Is; the
// returned errors wrap them with the details (names, IDs, positions).
var (
	// ErrClosed is returned by every call on a closed DB.
	ErrClosed = errors.New("vecbolt: database is closed")
	// ErrLocked means another process (or handle) holds the file: a writer,
	// or readers when opening for writing. The error says which and names
	// the remedy: a program that must read its file while it writes it
	// calls Backup, Check, Export or Scan itself, since no other process
	// can open the file meanwhile.
	ErrLocked = storage.ErrLocked
	// ErrReadOnly is returned by writes on a DB opened ReadOnly.
	ErrReadOnly = storage.ErrReadOnly
	// ErrCorrupt means stored data failed a checksum or did not decode.
	ErrCorrupt = storage.ErrCorrupt
	// ErrNewerFormat means the file was written by a newer vecbolt.
	ErrNewerFormat = storage.ErrNewerFormat
	// ErrNotVecbolt means the path names something that is not a vecbolt
	// database: an empty file, a file of other data, someone else's bbolt
	// file, or not a regular file at all (a directory, a FIFO, a device).
	ErrNotVecbolt = storage.ErrNotVecbolt
	// ErrCollectionNotFound is returned for an unknown collection name.
	ErrCollectionNotFound = storage.ErrCollectionNotFound
	// ErrCollectionExists is returned when creating a collection twice.
	ErrCollectionExists = storage.ErrCollectionExists
	// ErrNotFound is returned by Get for IDs that do not exist.
	ErrNotFound = errors.New("vecbolt: document not found")
	// ErrDuplicateID is returned by Insert for an ID that exists already or
	// appears twice in one batch.
	ErrDuplicateID = errors.New("vecbolt: duplicate document ID")
	// ErrInvalidDocument is returned for a document that cannot be stored.
	ErrInvalidDocument = errors.New("vecbolt: invalid document")
	// ErrInvalidArgument is returned for a bad option or parameter.
	ErrInvalidArgument = errors.New("vecbolt: invalid argument")
	// ErrModelMismatch means the DB's embedder is not the model that
	// produced a collection's vectors.
	ErrModelMismatch = errors.New("vecbolt: embedder does not match the collection's model")
	// ErrNoEmbedder means text must be embedded but no embedder is set.
	ErrNoEmbedder = errors.New("vecbolt: no embedder")
	// ErrSnapshot marks a failure to write an index snapshot at Close (a
	// full disk, say). The snapshot is a cache: every acknowledged write is
	// in the file regardless, and the next open re-indexes what the
	// snapshot lacks, so a caller that only needs its writes durable may
	// treat it as a warning.
	ErrSnapshot = errors.New("vecbolt: index snapshot not written")
)

// Option configures Open.
type Option func(*options)

type options struct {
	embedder     embedder.Embedder
	embedderSet  bool
	readOnly     bool
	lockTimeout  time.Duration
	embedBatch   int
	snapshotMin  int
	snapshotFrac float64
	recovery     func(RecoveryEvent)
	ftBuild      func(FullTextBuildEvent)
	// recallTarget is WithRecallTarget's value when recallTargetSet.
	recallTarget    float64
	recallTargetSet bool
}

// WithEmbedder sets the model that embeds texts on insert and at query time.
// Without this option the built-in static model is used (none in a build
// with the tag vecbolt_nomodel; see the package doc). WithEmbedder(nil)
// opens the database without any model: collections then take
// caller-supplied vectors only, and text search returns ErrNoEmbedder.
func WithEmbedder(e embedder.Embedder) Option {
	return func(o *options) { o.embedder, o.embedderSet = e, true }
}

// ReadOnly opens the file with a shared lock; every write returns
// ErrReadOnly. Several read-only handles may share a file, but not with a
// writer.
func ReadOnly() Option { return func(o *options) { o.readOnly = true } }

// WithLockTimeout bounds how long Open waits for another process to release
// the file (default 2s). When it expires Open returns ErrLocked.
func WithLockTimeout(d time.Duration) Option { return func(o *options) { o.lockTimeout = d } }

// WithEmbedBatchSize sets how many texts go to the embedder per call
// (default 64).
func WithEmbedBatchSize(n int) Option { return func(o *options) { o.embedBatch = n } }

// WithSnapshotPolicy sets when the vector index is snapshotted into the
// file: once the writes since the last snapshot exceed both minWrites and
// fraction × the collection size (defaults 2,000 and 0.2), and on Close.
// Snapshots only make reopening fast; no acknowledged write depends on them.
func WithSnapshotPolicy(minWrites int, fraction float64) Option {
	return func(o *options) { o.snapshotMin, o.snapshotFrac = minWrites, fraction }
}

// DB is an open database file. It is safe for concurrent use.
type DB struct {
	store *storage.Store
	opts  options

	// mu is held in read mode by every operation and in write mode by
	// Close, so Close waits for calls in flight and later calls see closed.
	mu     sync.RWMutex
	closed bool

	colMu sync.Mutex
	cols  map[string]*Collection

	embOnce sync.Once
	emb     embedder.Embedder
	embErr  error
}

// Open opens the database file at path, creating it if nothing exists
// there. An existing file that is not a vecbolt database (an empty file,
// other data, a directory, a FIFO, a device) is refused with an error
// wrapping ErrNotVecbolt and left as it is.
func Open(path string, opts ...Option) (*DB, error) {
	o := options{embedBatch: 64, snapshotMin: 2000, snapshotFrac: 0.2}
	for _, opt := range opts {
		opt(&o)
	}
	if o.embedBatch <= 0 {
		return nil, fmt.Errorf("%w: embed batch size %d must be positive", ErrInvalidArgument, o.embedBatch)
	}
	if o.snapshotMin < 0 || o.snapshotFrac < 0 {
		return nil, fmt.Errorf("%w: snapshot policy (%d, %g) must not be negative", ErrInvalidArgument, o.snapshotMin, o.snapshotFrac)
	}
	if err := checkRecallTarget(&o); err != nil {
		return nil, err
	}
	if path == "" {
		return nil, fmt.Errorf("%w: empty database path", ErrInvalidArgument)
	}
	st, err := storage.Open(path, storage.Options{ReadOnly: o.readOnly, LockTimeout: o.lockTimeout})
	if err != nil {
		return nil, fmt.Errorf("vecbolt: %w", err)
	}
	return &DB{store: st, opts: o, cols: make(map[string]*Collection)}, nil
}

// Path returns the database file's path.
func (d *DB) Path() string { return d.store.Path() }

// enter marks the start of an operation; the returned func ends it.
func (d *DB) enter() (func(), error) {
	d.mu.RLock()
	if d.closed {
		d.mu.RUnlock()
		return nil, ErrClosed
	}
	return d.mu.RUnlock, nil
}

// enterWrite is enter for operations that write.
func (d *DB) enterWrite() (func(), error) {
	leave, err := d.enter()
	if err != nil {
		return nil, err
	}
	if d.store.ReadOnly() {
		leave()
		return nil, ErrReadOnly
	}
	return leave, nil
}

// Close snapshots indexes with unsnapshotted writes, then closes the file.
// It waits for calls in flight; calls after Close return ErrClosed.
//
// A snapshot that cannot be written is reported by an error that wraps
// ErrSnapshot (and the cause, such as syscall.ENOSPC); it never means an
// acknowledged write was lost. Close still closes the file in that case.
func (d *DB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	var errs []error
	if !d.store.ReadOnly() {
		d.colMu.Lock()
		for _, c := range d.cols {
			if st := c.st.Load(); st != nil {
				st.tune.stop()
			}
			if err := c.checkpoint(true); err != nil {
				errs = append(errs, closeSnapshotError{err})
			}
		}
		d.colMu.Unlock()
	}
	// The indexes' vector memory outside the Go heap goes now rather
	// than when the collector finds the handles unreachable (package
	// index, arena.go); nothing uses them after d.mu is taken.
	d.colMu.Lock()
	for _, c := range d.cols {
		if st := c.st.Load(); st != nil {
			if ix, ok := st.idx.(interface{ Close() error }); ok {
				errs = append(errs, ix.Close())
			}
		}
	}
	d.colMu.Unlock()
	if e, ok := d.emb.(interface{ Close() error }); ok && !d.opts.embedderSet {
		// Only a model the DB loaded itself is the DB's to close.
		errs = append(errs, e.Close())
	}
	errs = append(errs, d.store.Close())
	return errors.Join(errs...)
}

// closeSnapshotError is a failed snapshot at Close: it matches ErrSnapshot and
// its cause with errors.Is, and reads as the cause (which names the
// collection and says "snapshot").
type closeSnapshotError struct{ err error }

func (e closeSnapshotError) Error() string   { return e.err.Error() }
func (e closeSnapshotError) Unwrap() []error { return []error{ErrSnapshot, e.err} }

// Embedder returns the DB's embedder, loading the built-in model on first
// use when none was given. It returns ErrNoEmbedder after WithEmbedder(nil).
func (d *DB) Embedder() (embedder.Embedder, error) {
	d.embOnce.Do(func() {
		if d.opts.embedderSet {
			d.emb = d.opts.embedder
		} else {
			d.emb, d.embErr = defaultEmbedder()
		}
		if d.emb == nil && d.embErr == nil {
			d.embErr = fmt.Errorf("%w: the database was opened WithEmbedder(nil)", ErrNoEmbedder)
		}
	})
	return d.emb, d.embErr
}

// Collections lists the collections in the file, in name order. It reads
// their configurations without loading them, so the fields only a loaded
// collection knows (IndexRebuilt, DamagedVectors) are empty: see
// Collection.Info.
func (d *DB) Collections(ctx context.Context) ([]CollectionInfo, error) {
	leave, err := d.enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []CollectionInfo
	err = d.store.View(func(tx *storage.Tx) error {
		names, err := tx.CollectionNames()
		if err != nil {
			return err
		}
		for _, n := range names {
			c, err := tx.Collection(n)
			if err != nil {
				return err
			}
			cfg, err := c.Config()
			if err != nil {
				return err
			}
			info := infoFromConfig(cfg)
			info.Count = c.Count()
			if cfg.Chunking != nil {
				info.Count, info.Passages = c.ParentCount(), info.Count
			}
			if info.Fields, err = storedFieldTypes(c); err != nil {
				return err
			}
			info.Recall = storedRecall(c, info, d.recallTarget())
			out = append(out, info)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("vecbolt: list collections: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// FileSize returns the size of the database file in bytes.
func (d *DB) FileSize() (int64, error) {
	leave, err := d.enter()
	if err != nil {
		return 0, err
	}
	defer leave()
	return d.store.Size()
}

// checkMetricDim validates a collection shape.
func checkMetricDim(m index.Metric, dim int) error {
	if !m.Valid() {
		return fmt.Errorf("%w: unknown metric %v", ErrInvalidArgument, m)
	}
	if dim <= 0 || dim > maxDimension {
		return fmt.Errorf("%w: dimension %d out of range 1..%d", ErrInvalidArgument, dim, maxDimension)
	}
	return nil
}
