package db

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/fulltext"
	"github.com/vecbolt/vecbolt/index"
	"github.com/vecbolt/vecbolt/query"
	"github.com/vecbolt/vecbolt/storage"
)

// Metric selects how vectors are compared; see package index.
type Metric = index.Metric

// The metrics a collection can use.
const (
	Cosine = index.Cosine
	Dot    = index.Dot
	L2     = index.L2
)

// Index kinds.
const (
	// IndexHNSW is the approximate graph index, the default.
	IndexHNSW = "hnsw"
	// IndexFlat is the exact index: every search compares every vector.
	IndexFlat = "flat"
)

// collectionFormat is the per-collection format version written for a
// collection of one vector per document; chunkedFormat is written for a
// chunked one (WithChunking), whose passages an older build would take for
// documents without text, so that such a build refuses it with
// ErrNewerFormat. maxCollectionFormat is the newest this build reads.
const (
	collectionFormat    = 1
	chunkedFormat       = 2
	maxCollectionFormat = chunkedFormat
)

const (
	maxDimension      = 65536
	maxNameBytes      = 255
	maxIDBytes        = 512
	maxTextBytes      = 8 << 20
	maxMetadataBytes  = 64 << 10
	maxMetadataKeyLen = 256
)

// CollectionOption configures CreateCollection.
type CollectionOption func(*collectionOptions)

type collectionOptions struct {
	dim     int
	metric  index.Metric
	kind    string
	m       int
	efC     int
	efS     int
	quant   string
	ifNotEx bool
	chunk   *chunkSetting
	ft      *FullTextConfig
	ftSet   bool
	f16     bool
}

// WithDimension makes a collection of caller-supplied vectors of length n:
// it records no model, and every document must carry a Vector.
func WithDimension(n int) CollectionOption { return func(o *collectionOptions) { o.dim = n } }

// WithMetric sets the comparison (default Cosine).
func WithMetric(m Metric) CollectionOption { return func(o *collectionOptions) { o.metric = m } }

// WithFlatIndex makes the collection use exact search. It is the right
// choice for a few thousand documents or when exact results are required.
func WithFlatIndex() CollectionOption { return func(o *collectionOptions) { o.kind = IndexFlat } }

// WithHNSW sets the graph's parameters: m links per node (default 16),
// efConstruction (default 200) and the default efSearch (default
// automatic: the smallest ef whose measured recall@10 meets the DB's
// recall target, 0.95 unless WithRecallTarget says otherwise, measured on
// the collection's own vectors as it grows; index.AutoEf of the document
// count until the first measurement, at 1,000 documents). Zero keeps a
// default. A fixed efSearch is kept as the collection grows, and recall at
// a fixed ef falls with size: the collection still measures it, and Info
// reports it (CollectionInfo.Recall).
func WithHNSW(m, efConstruction, efSearch int) CollectionOption {
	return func(o *collectionOptions) { o.kind, o.m, o.efC, o.efS = IndexHNSW, m, efConstruction, efSearch }
}

// QuantizationInt8 is the value of CollectionInfo.Quantization for a
// collection created WithInt8.
const QuantizationInt8 = "int8"

// WithInt8 keeps the graph's vectors in memory as int8 codes (one byte per
// component plus a scale per vector) instead of float32: about a quarter of
// the vector memory, and a smaller snapshot to load on open. Searches walk
// the graph on the codes and then re-score the best max(2×TopK, 20)
// candidates with the exact float32 vectors read from the file, so scores
// are exact and so is the order among them; recall at the same ef stays
// within about a point of float32 from ef 16 up (BENCHMARKS.md). The
// documents keep their float32 vectors, so GetFields returns them unchanged. It
// needs the HNSW index.
func WithInt8() CollectionOption { return func(o *collectionOptions) { o.quant = QuantizationInt8 } }

// WithFloat16 stores the collection's vectors in the file as IEEE float16
// (half the bytes of float32: 819 bytes per 384-dim vector instead of
// 1,638), rounding each component to 11 significant bits when it is
// written; components beyond ±65,504 are refused. Get, Export and the
// index see the rounded vectors (the index keeps them in memory as
// float32, or as int8 codes WithInt8), before and after a reopen alike.
// Rounding moves a unit vector by about 3e-4 relative, far below the
// differences between neighbours that search tells apart.
func WithFloat16() CollectionOption { return func(o *collectionOptions) { o.f16 = true } }

// IfNotExists makes CreateCollection return the existing collection of that
// name instead of ErrCollectionExists. The existing collection's
// configuration wins; it is not compared with the options given.
func IfNotExists() CollectionOption { return func(o *collectionOptions) { o.ifNotEx = true } }

// CollectionInfo describes a collection.
type CollectionInfo struct {
	Name      string
	Dimension int
	Metric    Metric
	// Model is the embedder identity; zero for vector-only collections.
	Model embedder.Identity
	// Index is "hnsw" or "flat"; M, EfConstruction and EfSearch apply to
	// hnsw. EfSearch 0 means automatic: Recall.Ef is the ef in use.
	Index          string
	M              int
	EfConstruction int
	EfSearch       int
	// Quantization is "" (float32 vectors) or QuantizationInt8 (WithInt8).
	Quantization string
	// Float16 reports that the file stores the vectors as float16
	// (WithFloat16).
	Float16 bool
	// Count is the number of documents; Passages, in a chunked collection
	// (WithChunking), the number of their passages.
	Count    int
	Passages int
	Created  time.Time
	// IndexRebuilt is empty unless this handle could not use the index
	// snapshot stored in the file (a cache of the documents: damaged, or
	// disagreeing with them) and rebuilt the index from the documents when
	// it loaded the collection. It then says why, and whether a fresh
	// snapshot was written. See WithRecoveryLog. DB.Reindex clears it,
	// except when there was nothing left to redo (the load stored a fresh
	// snapshot and nothing was written since).
	IndexRebuilt string
	// DamagedVectors lists, in ID order, the documents whose stored vector
	// failed its checksum (or is missing from the file) when this handle
	// loaded the collection. Such a document is left out of the index, so
	// no search returns it; Get
	// returns its text and metadata, and a *DamagedVectorError when asked
	// for its vector. Upsert or Delete of the document repairs it and takes
	// it off this list. nil when there are none. An int8 collection
	// (WithInt8) loaded from its snapshot reads no float vector: a
	// damaged one joins the list when a search first re-ranks it, and
	// that search runs again without it (Check finds them all).
	// DB.Collections, which loads no collection, leaves it nil: it is
	// Collection.Info's.
	DamagedVectors []string
	// FullText is the keyword index's configuration; nil when the
	// collection has none (see ErrNoFullText).
	FullText *FullTextConfig
	// Recall is the HNSW index's measured recall and the efSearch a
	// search without WithEf uses (see WithRecallTarget); zero for flat.
	Recall RecallStats
	// Fields holds the type recorded for each metadata field (nil when no
	// document has had metadata). A field keeps its type after the last
	// document holding it is deleted. See FieldType.
	Fields map[string]FieldType
}

func infoFromConfig(cfg *storage.CollectionConfig) CollectionInfo {
	m, _ := index.ParseMetric(cfg.Metric)
	info := CollectionInfo{
		Name:      cfg.Name,
		Dimension: int(cfg.Dimension),
		Metric:    m,
		Created:   time.Unix(cfg.CreatedUnix, 0),
	}
	info.FullText, _ = fullTextConfig(cfg.FullText)
	if cfg.Model != nil {
		info.Model = embedder.Identity{Name: cfg.Model.Name, Hash: cfg.Model.Hash, Dim: int(cfg.Model.Dimension), Pooling: cfg.Model.Pooling}
	}
	if cfg.Index != nil {
		info.Index = cfg.Index.Kind
		info.M = int(cfg.Index.M)
		info.EfConstruction = int(cfg.Index.EfConstruction)
		info.EfSearch = int(cfg.Index.EfSearch)
		info.Quantization = cfg.Index.Quantization
	}
	info.Float16 = cfg.GetVectors().GetPrecision() == storage.PrecisionFloat16
	return info
}

// Collection is a handle on one collection. It is safe for concurrent use
// and stays valid until the collection is deleted or the DB closed.
type Collection struct {
	db   *DB
	name string

	// writeMu serializes writers: validation against stored IDs, the commit
	// and the index update form one step.
	writeMu sync.Mutex
	// st is swapped whole by Reembed.
	st      atomic.Pointer[colState]
	dropped atomic.Bool
}

// colState is a collection's loaded configuration and in-memory index.
type colState struct {
	cfg    *storage.CollectionConfig
	info   CollectionInfo
	metric index.Metric
	idx    index.Index
	emb    embedder.Embedder // nil for vector-only collections or no embedder

	// live holds every stored label with its metadata (nil when none). It
	// answers filters during searches without touching the file. deleting
	// holds labels whose deletion is being committed: searches skip them so
	// that a concurrent delete cannot make results go missing.
	liveMu   sync.RWMutex
	live     map[uint64]liveDoc
	deleting map[uint64]struct{}

	// pending counts writes since the last index snapshot, and hasSnapshot
	// says whether one exists; unindexed says the index refused a write
	// that was committed, so no snapshot may be written (it would take the
	// write off the pending list that the next open replays). All guarded
	// by the collection's writeMu.
	pending     int
	hasSnapshot bool
	unindexed   bool

	// damaged holds the live labels whose stored vector could not be read
	// (a *storage.VectorError) when the collection loaded: they are left
	// out of the index until a write or delete of the document repairs
	// them. Guarded by liveMu, as live is.
	damaged map[uint64]error
	// rerankBad holds the labels of an int8 collection whose vector a
	// search's re-rank found damaged (see searchInt8): searches leave
	// them out. Guarded by rerankMu, since searches add to it while they
	// hold liveMu for reading.
	rerankMu  sync.Mutex
	rerankBad map[uint64]error

	// rebuilt is why the index was rebuilt from the documents on load
	// instead of read from its snapshot; nil when nothing was wrong.
	rebuilt error

	// fields holds the metadata fields' types; see fieldSet.
	fields fieldSet

	// ft is the keyword index's configuration, nil when the collection has
	// no usable one (see Collection.fullTextErr); ana is its analyzer.
	ft  *FullTextConfig
	ana *fulltext.Analyzer
	// tune is the recall measurement and the ef it chose (recall.go).
	tune *recallTuner
}

// liveDoc is what searches need of a document without reading the file.
type liveDoc struct {
	id string
	md query.Metadata
}

// Name returns the collection's name.
func (c *Collection) Name() string { return c.name }

// Info returns the collection's configuration and current size.
func (c *Collection) Info() CollectionInfo {
	s := c.st.Load()
	info := s.info
	s.liveMu.RLock()
	info.Count = len(s.live)
	if s.chunked() {
		info.Passages = info.Count
		info.Count = s.countDocuments(nil, true)
	}
	info.Fields = s.fieldTypes()
	info.DamagedVectors = s.damagedIDs()
	s.liveMu.RUnlock()
	info.Recall = c.recallStats(s, info.Count)
	return info
}

func validateCollectionName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty collection name", ErrInvalidArgument)
	case len(name) > maxNameBytes:
		return fmt.Errorf("%w: collection name of %d bytes exceeds %d", ErrInvalidArgument, len(name), maxNameBytes)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: collection name %q is not valid UTF-8", ErrInvalidArgument, name)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: collection name %q contains a control character", ErrInvalidArgument, name)
		}
	}
	return nil
}

// CreateCollection creates a collection. Unless WithDimension is given it
// uses the DB's embedder and records the model's identity, so that the
// collection can never mix vectors of two models.
func (d *DB) CreateCollection(ctx context.Context, name string, opts ...CollectionOption) (*Collection, error) {
	if err := validateCollectionName(name); err != nil {
		return nil, err
	}
	o := collectionOptions{metric: Cosine, kind: defaultIndexKind, m: 16, efC: 200}
	for _, opt := range opts {
		opt(&o)
	}
	if o.ifNotEx {
		c, err := d.Collection(ctx, name)
		if err == nil || !errors.Is(err, ErrCollectionNotFound) {
			return c, err
		}
	}
	if o.kind != IndexFlat && o.kind != IndexHNSW {
		return nil, fmt.Errorf("%w: unknown index kind %q", ErrInvalidArgument, o.kind)
	}
	switch o.quant {
	case "":
	case QuantizationInt8:
		if o.kind != IndexHNSW {
			return nil, fmt.Errorf("%w: int8 quantization needs the HNSW index, not %q", ErrInvalidArgument, o.kind)
		}
	default:
		return nil, fmt.Errorf("%w: unknown quantization %q", ErrInvalidArgument, o.quant)
	}
	if o.m == 0 {
		o.m = 16
	}
	if o.efC == 0 {
		o.efC = 200
	}
	if o.m < 2 || o.m > 256 || o.efC < 1 || o.efC > 10000 || o.efS < 0 || o.efS > 10000 {
		return nil, fmt.Errorf("%w: HNSW parameters m=%d (2..256), efConstruction=%d and efSearch=%d (0 for automatic, or 1..10000)", ErrInvalidArgument, o.m, o.efC, o.efS)
	}
	if !o.ftSet && o.dim == 0 {
		o.ft = &FullTextConfig{}
	}
	if o.ft != nil {
		ft, err := checkFullText(*o.ft)
		if err != nil {
			return nil, err
		}
		o.ft = &ft
	}
	ftRec, err := fullTextRecord(o.ft)
	if err != nil {
		return nil, err
	}
	cfg := &storage.CollectionConfig{
		FullText:      ftRec,
		Name:          name,
		Metric:        o.metric.String(),
		FormatVersion: collectionFormat,
		CreatedUnix:   time.Now().Unix(),
		Index:         &storage.IndexParams{Kind: o.kind, M: uint32(o.m), EfConstruction: uint32(o.efC), EfSearch: uint32(o.efS), Quantization: o.quant},
	}
	if o.f16 {
		// CreateCollection fills in the rest of the layout.
		cfg.Vectors = &storage.VectorStore{Precision: storage.PrecisionFloat16}
	}
	if o.dim != 0 {
		cfg.Dimension = uint32(o.dim)
	} else {
		emb, err := d.Embedder()
		if err != nil {
			return nil, fmt.Errorf("vecbolt: create collection %q: %w (or create it WithDimension for your own vectors)", name, err)
		}
		id := emb.Identity()
		cfg.Dimension = uint32(id.Dim)
		cfg.Model = &storage.ModelIdentity{Name: id.Name, Hash: id.Hash, Dimension: uint32(id.Dim), Pooling: id.Pooling}
		if o.chunk != nil {
			if cfg.Chunking, err = chunkParams(o.chunk, emb); err != nil {
				return nil, err
			}
			cfg.FormatVersion = chunkedFormat
		}
	}
	if o.chunk != nil && cfg.Chunking == nil {
		return nil, fmt.Errorf("%w: a chunked collection embeds its passages with a model; WithChunking does not go with WithDimension", ErrInvalidArgument)
	}
	if err := checkMetricDim(o.metric, int(cfg.Dimension)); err != nil {
		return nil, err
	}
	leave, err := d.enterWrite()
	if err != nil {
		return nil, err
	}
	defer leave()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d.colMu.Lock()
	defer d.colMu.Unlock()
	err = d.store.Update(func(tx *storage.Tx) error {
		ct, err := tx.CreateCollection(cfg)
		if err != nil || o.ft == nil {
			return err
		}
		_, err = ct.ResetFullText()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("vecbolt: create collection %q: %w", name, err)
	}
	st, err := d.newState(cfg)
	if err != nil {
		return nil, err
	}
	if c := d.cols[name]; c != nil && c.st.Load() == nil {
		// A Reembed of this name, begun before the collection existed,
		// registered the handle; sharing it serializes the two.
		c.st.Store(st)
		return c, nil
	}
	c := &Collection{db: d, name: name}
	c.st.Store(st)
	d.cols[name] = c
	return c, nil
}

// Collection returns the named collection, loading its index on first use.
// It returns ErrCollectionNotFound for an unknown name and ErrModelMismatch
// when the DB's embedder is not the collection's model (see Reembed).
//
// The first load reads every document's head (or every document, when the
// index is rebuilt) and can take seconds on a large collection; it stops
// when ctx is done, returning an error that wraps ctx.Err(), and leaves
// nothing behind: the next call loads the collection afresh.
func (d *DB) Collection(ctx context.Context, name string) (*Collection, error) {
	leave, err := d.enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(name) > maxNameBytes {
		// No collection has such a name; and the lookup's error would
		// quote it whole.
		return nil, fmt.Errorf("%w: %q (names have at most %d bytes)", ErrCollectionNotFound, short(name), maxNameBytes)
	}
	d.colMu.Lock()
	defer d.colMu.Unlock()
	c, ok := d.cols[name]
	if ok && c.st.Load() != nil {
		return c, nil
	}
	st, err := d.load(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := d.upgradeFullText(ctx, st); err != nil {
		return nil, err
	}
	if ok {
		// Registered by a Reembed that has not stored its state yet (it
		// does so under colMu): the handle gets the current state, and its
		// writes wait for the re-embedding on the handle's writeMu.
		d.reportRebuilt(c, st, false)
		c.st.Store(st)
		return c, nil
	}
	c = &Collection{db: d, name: name}
	c.st.Store(st)
	d.reportRebuilt(c, st, true)
	d.cols[name] = c
	c.maybeTune(st) // a record missing or out of date (recall.go)
	return c, nil
}

// DeleteCollection removes a collection and all its documents.
func (d *DB) DeleteCollection(ctx context.Context, name string) error {
	leave, err := d.enterWrite()
	if err != nil {
		return err
	}
	defer leave()
	if err := ctx.Err(); err != nil {
		return err
	}
	// Lock order is a collection's writeMu before colMu (Reembed holds its
	// writeMu when it registers the new state), so colMu is not held while
	// waiting for the writer.
	d.colMu.Lock()
	c := d.cols[name]
	d.colMu.Unlock()
	if c != nil {
		// Wait for a writer in flight, and keep new ones out.
		c.writeMu.Lock()
		defer c.writeMu.Unlock()
	}
	if err := d.store.Update(func(tx *storage.Tx) error { return tx.DeleteCollection(name) }); err != nil {
		return fmt.Errorf("vecbolt: delete collection %q: %w", name, err)
	}
	d.colMu.Lock()
	defer d.colMu.Unlock()
	if c != nil {
		c.dropped.Store(true)
	}
	if cur := d.cols[name]; cur != nil {
		cur.dropped.Store(true)
		delete(d.cols, name)
	}
	return nil
}

// newState builds an empty in-memory state for a configuration, checking
// the model identity against the DB's embedder.
func (d *DB) newState(cfg *storage.CollectionConfig) (*colState, error) {
	if cfg.FormatVersion > maxCollectionFormat {
		return nil, fmt.Errorf("%w: collection %q has format %d, this build reads up to %d", ErrNewerFormat, cfg.Name, cfg.FormatVersion, maxCollectionFormat)
	}
	m, err := index.ParseMetric(cfg.Metric)
	if err != nil {
		return nil, fmt.Errorf("%w: collection %q: %v", ErrCorrupt, cfg.Name, err)
	}
	if err := checkMetricDim(m, int(cfg.Dimension)); err != nil {
		return nil, fmt.Errorf("%w: collection %q: %v", ErrCorrupt, cfg.Name, err)
	}
	st := &colState{
		cfg:      cfg,
		info:     infoFromConfig(cfg),
		metric:   m,
		live:     make(map[uint64]liveDoc),
		deleting: make(map[uint64]struct{}),
		damaged:  make(map[uint64]error),
		fields:   fieldSet{types: make(map[string]FieldType), mixed: make(map[string][]FieldType)},
		tune:     new(recallTuner),
	}
	if st.ft, err = fullTextConfig(cfg.FullText); err != nil {
		return nil, fmt.Errorf("collection %q: %w", cfg.Name, err)
	}
	if err := st.setFullText(st.ft); err != nil {
		return nil, fmt.Errorf("collection %q: %w", cfg.Name, err)
	}
	if cfg.Model != nil {
		emb, err := d.Embedder()
		switch {
		case errors.Is(err, ErrNoEmbedder):
			// Readable and searchable by vector; text needs a model.
		case err != nil:
			return nil, fmt.Errorf("vecbolt: collection %q: %w", cfg.Name, err)
		default:
			if have := emb.Identity(); !have.Equal(st.info.Model) {
				return nil, fmt.Errorf("%w: collection %q was embedded with %v, the database was opened with %v; open it WithEmbedder of that model, or re-embed it with DB.Reembed", ErrModelMismatch, cfg.Name, st.info.Model, have)
			}
			st.emb = emb
		}
	}
	st.idx, err = newIndex(cfg, m)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// load reads a collection from the file and rebuilds its in-memory state.
//
// When the index snapshot cannot be used, the index is rebuilt from the
// documents (see colState.restore), and the caller reports it with
// reportRebuilt once the state has its handle.
func (d *DB) load(ctx context.Context, name string) (*colState, error) {
	var st *colState
	err := d.store.View(func(tx *storage.Tx) error {
		c, err := tx.Collection(name)
		if err != nil {
			return err
		}
		cfg, err := c.Config()
		if err != nil {
			return err
		}
		st, err = d.newState(cfg)
		if err != nil {
			return err
		}
		if err := st.restore(ctx, c, d.opts.recovery); err != nil {
			return err
		}
		d.loadRecall(c, st)
		if err := st.initFields(c); err != nil {
			return err
		}
		// The index now holds what the load read through the file's
		// mapping; the mapping's copy need not stay resident too.
		tx.ReleaseMapped()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("vecbolt: open collection %q: %w", name, err)
	}
	return st, nil
}

// reportRebuilt tells the caller about an index that load rebuilt from the
// documents, and on a writable handle replaces the unusable snapshot at
// once, so that the next open is fast again (a read-only handle keeps the
// rebuilt index in memory only). fresh says c was made for st and is not
// shared yet, so its writeMu is free; a handle registered by a running
// Reembed is not saved here, since Reembed holds its writeMu and writes a
// snapshot of its own.
func (d *DB) reportRebuilt(c *Collection, st *colState, fresh bool) {
	if st.rebuilt == nil {
		return
	}
	msg := fmt.Sprintf("index rebuilt from the documents because its snapshot could not be used: %v", st.rebuilt)
	var saveErr error
	switch {
	case d.store.ReadOnly():
		msg += " (read-only: the rebuilt index is kept in memory; run vecbolt reindex to store it)"
	case !fresh:
		msg += " (not stored: a re-embedding of the collection is writing its own)"
	default:
		c.writeMu.Lock()
		saveErr = c.checkpointLocked(true)
		c.writeMu.Unlock()
		if saveErr != nil {
			msg += fmt.Sprintf("; writing a new snapshot failed: %v", saveErr)
		} else {
			msg += "; a new snapshot was written"
		}
	}
	st.info.IndexRebuilt = msg
	if d.opts.recovery != nil {
		n := len(st.live)
		d.opts.recovery(RecoveryEvent{Collection: c.name, Reason: st.rebuilt, Done: n, Total: n, Finished: true, SaveErr: saveErr})
	}
}

// enter is DB.enter plus the check that the collection still exists.
func (c *Collection) enter(write bool) (func(), *colState, error) {
	var leave func()
	var err error
	if write {
		leave, err = c.db.enterWrite()
	} else {
		leave, err = c.db.enter()
	}
	if err != nil {
		return nil, nil, err
	}
	if c.dropped.Load() {
		leave()
		return nil, nil, fmt.Errorf("%w: %q was deleted", ErrCollectionNotFound, c.name)
	}
	return leave, c.st.Load(), nil
}

// Count returns the number of documents whose metadata matches f, or of
// all documents when f is nil. It reads the collection's in-memory copy of
// the metadata, not the file.
func (c *Collection) Count(ctx context.Context, f query.Filter) (int, error) {
	if f != nil {
		if err := query.Validate(f); err != nil {
			return 0, fmt.Errorf("%w: filter: %w", ErrInvalidArgument, err)
		}
	}
	leave, st, err := c.enter(false)
	if err != nil {
		return 0, err
	}
	defer leave()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if f == nil {
		st.liveMu.RLock()
		defer st.liveMu.RUnlock()
		if st.chunked() {
			return st.countDocuments(nil, true), nil
		}
		return len(st.live), nil
	}
	labels, ids, err := st.matching(f)
	if st.chunked() {
		return len(documentsOf(ids)), err
	}
	return len(labels), err
}
