package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/vecbolt/vecbolt/storage/internal/pb"
)

// DocumentRecord is the stored form of a document.
type DocumentRecord = pb.Document

// CollectionConfig is the stored configuration of a collection.
type CollectionConfig = pb.CollectionConfig

// FullTextConfig is the stored keyword-index configuration of a collection.
type FullTextConfig = pb.FullTextConfig

// FieldType is the stored type of a metadata field.
type FieldType = pb.FieldType

// A collection records its metadata fields' types as keys of its own
// bucket: keyFieldsRecorded marks a collection whose record is complete
// (those created before records existed lack it), and keyFieldPrefix+name
// holds a FieldRecord per field. Not a field of CollectionConfig, so that
// recording a new field is one small put (a collection may have thousands
// of fields) and no rewrite of the configuration (Reembed builds a new
// one) can drop it. Not a sub-bucket either: a small sub-bucket is stored
// inline, and bbolt copies an unaligned inline bucket to the heap, where a
// damaged one makes reads fault outside the file's mapping, which guard
// cannot tell from a bug. A collection's bucket holds sub-buckets, so it is
// never inline, and its values are read from the mapping.
var (
	keyFieldsRecorded = []byte("fields")
	keyFieldPrefix    = []byte("field:")
)

// Errors about collections.
var (
	ErrCollectionNotFound = errors.New("storage: collection not found")
	ErrCollectionExists   = errors.New("storage: collection already exists")
)

// snapshotChunk bounds one bbolt value of an index snapshot. Each value
// must fit in a contiguous run of pages, and a rewritten snapshot is
// written while the old one still holds its pages (bbolt frees them at
// commit), so the new one can only go into free runs long enough for its
// chunks, or at the end of the file. The pages that deletes free are
// scattered; with 4 MiB chunks (1,024 pages) none of them could take a
// chunk, and deleting half of 4,000 documents grew the file by 27% while
// the pages it freed stayed unused. bbolt puts two values on a page at
// least, so chunks go in pairs: this size makes a pair fill four pages
// exactly (16-byte page header; per value a 16-byte element header and a
// 5-byte key). With the vectors out of the snapshot (format 4) it is
// about a tenth of its old size and its free runs fewer, and 64 KiB chunks
// (33-page pairs) grew the file by 15% on those deletes; four-page pairs
// leave it within 2% (db's TestDeleteThenInsertReusesPages). A links-only
// snapshot of 1M 384-dim vectors is about 18,000 chunks. Readers do not
// depend on the size.
const snapshotChunk = (4*4096-16)/2 - 16 - 5

// Tx is a transaction over the whole file.
type Tx struct {
	tx *bolt.Tx
	// damaged is the store's record of damaged trees (see Store.damaged).
	damaged map[string]string
}

// damagedErr returns an error wrapping ErrCorrupt if the walk at open
// found the tree of collection name's bucket (sub "") or of its sub-bucket
// sub damaged, and nil otherwise. bbolt must not read such a tree: a cycle
// in it overflows the stack of bbolt's cursor, a fatal error no recover
// catches.
func damagedErr(damaged map[string]string, name, sub string) error {
	msg, ok := damaged[damageKey(name, sub)]
	if !ok {
		return nil
	}
	if sub == "" {
		return fmt.Errorf("%w: collection %q: the pages of its bucket are damaged: %s", ErrCorrupt, name, msg)
	}
	return fmt.Errorf("%w: collection %q: the pages of its %q bucket are damaged: %s", ErrCorrupt, name, sub, msg)
}

func (t *Tx) collections() (*bolt.Bucket, error) {
	b := t.tx.Bucket(bucketCollections)
	if b == nil {
		return nil, fmt.Errorf("%w: collections bucket missing", ErrCorrupt)
	}
	return b, nil
}

// CreateCollection stores a new collection's configuration and buckets.
func (t *Tx) CreateCollection(cfg *CollectionConfig) (*CollectionTx, error) {
	cs, err := t.collections()
	if err != nil {
		return nil, err
	}
	name := []byte(cfg.Name)
	if cs.Bucket(name) != nil {
		return nil, fmt.Errorf("%w: %q", ErrCollectionExists, cfg.Name)
	}
	b, err := cs.CreateBucket(name)
	if err != nil {
		return nil, fmt.Errorf("storage: create collection %q: %w", cfg.Name, err)
	}
	for _, sub := range [][]byte{bucketDocs, bucketHeads, bucketIDs, bucketSnapshot, bucketPending, bucketVectors} {
		if _, err := b.CreateBucket(sub); err != nil {
			return nil, fmt.Errorf("storage: create collection %q: %w", cfg.Name, err)
		}
	}
	if cfg.Vectors == nil {
		cfg.Vectors = NewVectorStore(int(cfg.Dimension), PrecisionFloat32)
	} else if cfg.Vectors.SlabRows == 0 {
		cfg.Vectors.SlabRows = NewVectorStore(int(cfg.Dimension), cfg.Vectors.Precision).SlabRows
	}
	if _, err := layoutOf(cfg); err != nil {
		return nil, err
	}
	c := &CollectionTx{name: cfg.Name, b: b}
	if err := c.PutConfig(cfg); err != nil {
		return nil, err
	}
	if err := c.PutFieldTypes(nil); err != nil {
		return nil, err
	}
	return c, nil
}

// Collection opens an existing collection inside the transaction.
func (t *Tx) Collection(name string) (*CollectionTx, error) {
	cs, err := t.collections()
	if err != nil {
		return nil, err
	}
	if err := damagedErr(t.damaged, name, ""); err != nil {
		return nil, err
	}
	b := cs.Bucket([]byte(name))
	if b == nil {
		return nil, fmt.Errorf("%w: %q", ErrCollectionNotFound, name)
	}
	// The snapshot and pending buckets are a cache: with their trees
	// damaged the collection still opens, and Snapshot and Pending report
	// the damage.
	for _, sub := range [][]byte{bucketDocs, bucketHeads, bucketIDs, bucketParents, bucketVectors} {
		if err := damagedErr(t.damaged, name, string(sub)); err != nil {
			return nil, err
		}
	}
	for _, sub := range [][]byte{bucketDocs, bucketIDs, bucketSnapshot, bucketPending} {
		if b.Bucket(sub) == nil {
			return nil, fmt.Errorf("%w: collection %q lacks its %q bucket", ErrCorrupt, name, sub)
		}
	}
	return &CollectionTx{name: name, b: b, damaged: t.damaged}, nil
}

// FullText returns the collection's keyword-index bucket, or nil if it has
// none (a collection of a format-2 file not yet upgraded, or one made
// without an index). Package fulltext owns what the bucket holds. This is
// the one place a bbolt handle leaves the package: the index's posting
// lists must live in the documents' transaction, and fulltext reads and
// writes them itself. The bucket is valid only inside the transaction;
// every read of it runs under the transaction's guard, so damage in its
// pages is reported as ErrCorrupt like damage anywhere else. Damage found
// by the walk at open is reported here, before bbolt reads the tree.
func (c *CollectionTx) FullText() (*bolt.Bucket, error) {
	if err := damagedErr(c.damaged, c.name, string(bucketFullText)); err != nil {
		return nil, err
	}
	return c.b.Bucket(bucketFullText), nil
}

// ResetFullText replaces the keyword-index bucket with an empty one (a
// first build, or a rebuild from the documents) and returns it.
func (c *CollectionTx) ResetFullText() (*bolt.Bucket, error) {
	if c.b.Bucket(bucketFullText) != nil {
		if err := damagedErr(c.damaged, c.name, string(bucketFullText)); err != nil {
			return nil, err
		}
		if err := c.b.DeleteBucket(bucketFullText); err != nil {
			return nil, fmt.Errorf("storage: collection %q: drop keyword index: %w", c.name, err)
		}
	}
	b, err := c.b.CreateBucket(bucketFullText)
	if err != nil {
		return nil, fmt.Errorf("storage: collection %q: create keyword index: %w", c.name, err)
	}
	return b, nil
}

// DropFullText removes the keyword-index bucket, if any.
func (c *CollectionTx) DropFullText() error {
	if c.b.Bucket(bucketFullText) == nil {
		return nil
	}
	if err := damagedErr(c.damaged, c.name, string(bucketFullText)); err != nil {
		return err
	}
	return c.b.DeleteBucket(bucketFullText)
}

// DeleteCollection removes a collection and everything in it.
func (t *Tx) DeleteCollection(name string) error {
	cs, err := t.collections()
	if err != nil {
		return err
	}
	if cs.Bucket([]byte(name)) == nil {
		return fmt.Errorf("%w: %q", ErrCollectionNotFound, name)
	}
	return cs.DeleteBucket([]byte(name))
}

// CollectionNames lists the collections in name order.
func (t *Tx) CollectionNames() ([]string, error) {
	cs, err := t.collections()
	if err != nil {
		return nil, err
	}
	var names []string
	err = cs.ForEachBucket(func(k []byte) error {
		names = append(names, string(k))
		return nil
	})
	return names, err
}

// WriteTo writes a consistent copy of the whole file (bbolt's hot backup):
// Size bytes.
func (t *Tx) WriteTo(w io.Writer) (int64, error) { return t.tx.WriteTo(w) }

// Size is the size of the file as this transaction sees it, which is what
// WriteTo writes.
func (t *Tx) Size() int64 { return t.tx.Size() }

// ReleaseMapped tells the system that this process no longer needs the
// pages of the file it has read so far: they leave its resident memory and
// stay in the page cache, and a later read maps them again, unchanged, at
// the cost of a minor fault. It does nothing outside Linux.
//
// Why: opening a collection reads its vectors, heads and links through
// bbolt's mapping of the file into memory of the index's own, and the
// mapping, which is never replaced (initialMmapSize), would keep those
// pages resident as a second copy for as long as the store is open: at
// 3M 96-dim vectors 2.0 GB beside the index's 1.9 GB (BENCHMARKS.md, "3M
// × 96"). Any transaction may call it: bbolt replaces the mapping only
// when a writer commits, after every reader has ended.
func (t *Tx) ReleaseMapped() { dropMapped(mapBase(t.tx), t.tx.Size()) }

// CollectionTx is one collection inside a transaction.
type CollectionTx struct {
	name    string
	b       *bolt.Bucket
	damaged map[string]string
	// vs is the vector store, read on first use (see vecs).
	vs *vecState
}

// Name is the collection's name.
func (c *CollectionTx) Name() string { return c.name }

// Config reads the collection's configuration.
func (c *CollectionTx) Config() (*CollectionConfig, error) {
	cfg := new(CollectionConfig)
	if err := unseal(c.b.Get(keyConfig), cfg); err != nil {
		return nil, fmt.Errorf("config of collection %q: %w", c.name, err)
	}
	return cfg, nil
}

// PutConfig replaces the collection's configuration.
//
// The vector store's layout goes with the dimension: a cfg without one
// keeps the stored layout (its Vectors field is set to it), unless the
// dimension or the precision changes, and then the store is emptied for
// the new layout, with the index snapshot that reads it; the caller must
// rewrite every document in the same transaction (DB.Reembed does).
func (c *CollectionTx) PutConfig(cfg *CollectionConfig) error {
	if err := c.keepLayout(cfg); err != nil {
		return err
	}
	c.vs = nil
	v, err := seal(cfg)
	if err != nil {
		return err
	}
	return c.b.Put(keyConfig, v)
}

// keepLayout fills cfg's vector store layout from the stored one and empties
// the store when the layout changes (see PutConfig).
func (c *CollectionTx) keepLayout(cfg *CollectionConfig) error {
	if c.b.Get(keyConfig) == nil {
		return nil // CreateCollection's first put
	}
	old, err := c.Config()
	if err != nil {
		return err
	}
	ov := old.GetVectors()
	if ov == nil {
		return nil // an older collection, not yet upgraded
	}
	nv := cfg.GetVectors()
	switch {
	case nv == nil && cfg.Dimension == old.Dimension:
		cfg.Vectors = proto.Clone(ov).(*VectorStore)
		return nil
	case nv == nil:
		cfg.Vectors = NewVectorStore(int(cfg.Dimension), ov.Precision)
	case nv.SlabRows == 0:
		nv.SlabRows = NewVectorStore(int(cfg.Dimension), nv.Precision).SlabRows
	}
	nv = cfg.Vectors
	if cfg.Dimension == old.Dimension && nv.Precision == ov.Precision && nv.SlabRows == ov.SlabRows {
		return nil
	}
	if _, err := layoutOf(cfg); err != nil {
		return err
	}
	for _, sub := range [][]byte{bucketVectors, bucketSnapshot} {
		if err := damagedErr(c.damaged, c.name, string(sub)); err != nil {
			return err
		}
		if err := c.b.DeleteBucket(sub); err != nil {
			return fmt.Errorf("storage: collection %q: %w", c.name, err)
		}
		if _, err := c.b.CreateBucket(sub); err != nil {
			return fmt.Errorf("storage: collection %q: %w", c.name, err)
		}
	}
	return nil
}

// docs returns the documents bucket. New labels are the largest yet, so
// documents are appended: pages filled to the brim (bbolt's default of
// half) hold twice as many of them, and a later change in the middle
// splits a page in two as before.
func (c *CollectionTx) docs() *bolt.Bucket {
	b := c.b.Bucket(bucketDocs)
	b.FillPercent = 1
	return b
}

// FieldTypes reads the recorded types of the collection's metadata fields.
// recorded is false for a collection written before types were recorded
// (it has no record yet, and the types must be inferred from its
// documents); types is then empty.
func (c *CollectionTx) FieldTypes() (types map[string]FieldType, recorded bool, err error) {
	if v := c.b.Get(keyFieldsRecorded); v == nil {
		return nil, false, nil
	} else if err := unseal(v, new(pb.FieldRecord)); err != nil {
		return nil, false, fmt.Errorf("collection %q, field types: %w", c.name, err)
	}
	types = make(map[string]FieldType)
	cur := c.b.Cursor()
	for k, v := cur.Seek(keyFieldPrefix); k != nil && bytes.HasPrefix(k, keyFieldPrefix); k, v = cur.Next() {
		name := string(k[len(keyFieldPrefix):])
		var r pb.FieldRecord
		if err := unseal(v, &r); err != nil {
			return nil, false, fmt.Errorf("collection %q, type of field %q: %w", c.name, name, err)
		}
		types[name] = r.Type
	}
	return types, true, nil
}

// PutFieldTypes records the types of the given fields, replacing earlier
// records of the same fields; other fields keep theirs. It marks the record
// complete (FieldTypes then reports it as recorded), so the first call on
// a collection that had no record must pass every field's type.
func (c *CollectionTx) PutFieldTypes(types map[string]FieldType) error {
	for name, t := range types {
		if name == "" {
			return fmt.Errorf("storage: collection %q: empty field name", c.name)
		}
		v, err := seal(&pb.FieldRecord{Type: t})
		if err != nil {
			return err
		}
		k := append(bytes.Clone(keyFieldPrefix), name...)
		if err := c.b.Put(k, v); err != nil {
			return fmt.Errorf("storage: collection %q, type of field %q: %w", c.name, name, err)
		}
	}
	if c.b.Get(keyFieldsRecorded) != nil {
		return nil
	}
	v, err := seal(&pb.FieldRecord{})
	if err != nil {
		return err
	}
	return c.b.Put(keyFieldsRecorded, v)
}

// LabelKey encodes a label as a bbolt key; big endian keeps cursor order
// equal to label order.
func LabelKey(label uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], label)
	return k[:]
}

func decodeLabel(v []byte) (uint64, error) {
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: label of %d bytes", ErrCorrupt, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// Label returns the label of a document ID.
func (c *CollectionTx) Label(id string) (uint64, bool, error) {
	v := c.b.Bucket(bucketIDs).Get([]byte(id))
	if v == nil {
		return 0, false, nil
	}
	l, err := decodeLabel(v)
	if err != nil {
		return 0, false, fmt.Errorf("collection %q, id %q: %w", c.name, id, err)
	}
	return l, true, nil
}

// NextLabel allocates a fresh label.
func (c *CollectionTx) NextLabel() (uint64, error) {
	return c.b.Bucket(bucketDocs).NextSequence()
}

// PutDocument stores d under label, maps its ID to the label and marks the
// label pending for the index. d's vector goes to the vector store, and
// the document record is stored without it; d.Vector is cleared during
// the call and restored before it returns, so d must not be read
// concurrently.
func (c *CollectionTx) PutDocument(label uint64, d *DocumentRecord) error {
	vs, err := c.vecs()
	if err != nil {
		return err
	}
	vec := d.Vector
	if vs.l != nil {
		if len(vec) == 0 {
			return fmt.Errorf("storage: collection %q: document %q has no vector", c.name, d.Id)
		}
		if err := vs.put(label, vec); err != nil {
			return fmt.Errorf("storage: collection %q, document %q: %w", c.name, d.Id, err)
		}
		d.Vector = nil
	}
	v, err := seal(d)
	d.Vector = vec
	if err != nil {
		return err
	}
	hv, err := seal(headOf(d))
	if err != nil {
		return err
	}
	k := LabelKey(label)
	if err := c.docs().Put(k, v); err != nil {
		return err
	}
	heads := c.heads()
	heads.FillPercent = 1 // appended, as the documents are
	if err := heads.Put(k, hv); err != nil {
		return err
	}
	if err := c.b.Bucket(bucketIDs).Put([]byte(d.Id), k); err != nil {
		return err
	}
	return c.b.Bucket(bucketPending).Put(k, nil)
}

// Document reads the document stored under label, with its vector; ok is
// false if none. A vector that cannot be read is a *VectorError (the
// record itself may be fine: see Record).
func (c *CollectionTx) Document(label uint64) (*DocumentRecord, bool, error) {
	v := c.b.Bucket(bucketDocs).Get(LabelKey(label))
	if v == nil {
		return nil, false, nil
	}
	d, err := DecodeDocument(v)
	if err == nil && len(d.Vector) == 0 {
		d.Vector, err = c.storedVector(label, nil)
	}
	if err != nil {
		return nil, false, fmt.Errorf("collection %q, label %d: %w", c.name, label, err)
	}
	return d, true, nil
}

// Record reads the document stored under label without reading its
// vector: the ID, text and metadata, which a damaged vector (a
// *VectorError from Document) leaves readable. ok is false if none. The
// record carries a vector only in a collection whose vectors an upgrade
// has not moved yet.
func (c *CollectionTx) Record(label uint64) (*DocumentRecord, bool, error) {
	v := c.b.Bucket(bucketDocs).Get(LabelKey(label))
	if v == nil {
		return nil, false, nil
	}
	d, err := DecodeDocument(v)
	if err != nil {
		return nil, false, fmt.Errorf("collection %q, label %d: %w", c.name, label, err)
	}
	return d, true, nil
}

// storedVector appends label's vector from the vector store to dst; a
// document without one is damage.
func (c *CollectionTx) storedVector(label uint64, dst []float32) ([]float32, error) {
	vs, err := c.vecs()
	if err != nil {
		return dst, err
	}
	if vs.l == nil {
		return dst, vectorErr(label, fmt.Errorf("%w: document has no vector", ErrCorrupt))
	}
	p, err := vs.row(label)
	switch {
	case err != nil:
		return dst, err
	case p == nil:
		return dst, vectorErr(label, fmt.Errorf("%w: document has no vector in the vector store", ErrCorrupt))
	}
	n := len(dst)
	dst = append(dst, make([]float32, vs.l.dim)...)
	if err := vs.l.decodeInto(p, dst[n:]); err != nil {
		return dst[:n], vectorErr(label, err)
	}
	return dst, nil
}

// Vector appends the vector of the document stored under label to dst; ok
// is false if there is none. It reads the vector store (one row, checked
// against its checksum), which is what re-ranking the candidates of a
// quantized search needs for each of them; in a collection whose vectors
// an upgrade has not moved yet, the vector field of the record.
func (c *CollectionTx) Vector(label uint64, dst []float32) (vec []float32, ok bool, err error) {
	vs, err := c.vecs()
	if err != nil {
		return dst, false, fmt.Errorf("collection %q, label %d: %w", c.name, label, err)
	}
	if vs.l != nil {
		p, err := vs.row(label)
		if err != nil {
			return dst, false, fmt.Errorf("collection %q, label %d: %w", c.name, label, err)
		}
		if p != nil {
			n := len(dst)
			dst = append(dst, make([]float32, vs.l.dim)...)
			if err := vs.l.decodeInto(p, dst[n:]); err != nil {
				return dst[:n], false, fmt.Errorf("collection %q, label %d: %w", c.name, label, vectorErr(label, err))
			}
			return dst, true, nil
		}
	}
	v := c.b.Bucket(bucketDocs).Get(LabelKey(label))
	if v == nil {
		return dst, false, nil
	}
	payload, err := openEnvelope(v)
	if err == nil {
		vec, err = decodeVector(payload, dst)
	}
	if err == nil && len(vec) == len(dst) {
		err = vectorErr(label, fmt.Errorf("%w: document has no vector", ErrCorrupt))
	}
	if err != nil {
		return dst, false, fmt.Errorf("collection %q, label %d: %w", c.name, label, err)
	}
	return vec, true, nil
}

// DeleteDocument removes the document with the given ID and label and marks
// the label pending.
func (c *CollectionTx) DeleteDocument(label uint64, id string) error {
	vs, err := c.vecs()
	if err != nil {
		return err
	}
	if vs.l != nil {
		if err := vs.delete(label); err != nil {
			return fmt.Errorf("storage: collection %q: %w", c.name, err)
		}
	}
	k := LabelKey(label)
	if err := c.b.Bucket(bucketDocs).Delete(k); err != nil {
		return err
	}
	if err := c.heads().Delete(k); err != nil {
		return err
	}
	if err := c.b.Bucket(bucketIDs).Delete([]byte(id)); err != nil {
		return err
	}
	return c.b.Bucket(bucketPending).Put(k, nil)
}

// Count returns the number of documents.
func (c *CollectionTx) Count() int { return c.b.Bucket(bucketIDs).Stats().KeyN }

// ForEachDocument calls fn for every document, with its vector, in label
// order. The record is only valid during the call. A document whose vector
// is damaged or missing stops the walk with a *VectorError (see
// EachDocument to go on past it).
func (c *CollectionTx) ForEachDocument(fn func(label uint64, d *DocumentRecord) error) error {
	return c.EachDocument(func(label uint64, d *DocumentRecord, vecErr error) error {
		if vecErr != nil {
			return fmt.Errorf("collection %q, document %q (label %d): %w", c.name, d.Id, label, vecErr)
		}
		return fn(label, d)
	})
}

// EachDocument is ForEachDocument for a checker: a document whose vector
// cannot be read is passed to fn with the reason in vecErr (and no
// vector), and the walk goes on. A record that does not decode still
// stops it.
func (c *CollectionTx) EachDocument(fn func(label uint64, d *DocumentRecord, vecErr error) error) error {
	vs, err := c.vecs()
	if err != nil {
		return err
	}
	var vc *vecCursor
	if vs.l != nil {
		vc = &vecCursor{vs: vs, cur: vs.b.Cursor()}
	}
	return c.eachRecord(c.b.Bucket(bucketDocs), "", func(label uint64, payload []byte) error {
		d := new(DocumentRecord)
		if err := proto.Unmarshal(payload, d); err != nil {
			return fmt.Errorf("collection %q, label %d: %w: %v", c.name, label, ErrCorrupt, err)
		}
		var vecErr error
		switch {
		case len(d.Vector) > 0:
		case vc == nil:
			vecErr = vectorErr(label, fmt.Errorf("%w: document has no vector", ErrCorrupt))
		default:
			d.Vector, vecErr = vc.vector(label)
		}
		return fn(label, d, vecErr)
	})
}

// vecCursor reads the vector store in label order, one slab at a time.
type vecCursor struct {
	vs    *vecState
	cur   *bolt.Cursor
	no    uint64
	have  bool
	s     slab
	slabE error
}

// vector returns label's vector from the store; labels must come in
// increasing order.
func (vc *vecCursor) vector(label uint64) ([]float32, error) {
	l := vc.vs.l
	no := label / l.rows
	if !vc.have || no != vc.no {
		vc.have, vc.no, vc.s, vc.slabE = true, no, slab{}, nil
		var key [8]byte
		binary.BigEndian.PutUint64(key[:], no)
		if k, v := vc.cur.Seek(key[:]); k != nil && bytes.Equal(k, key[:]) {
			vc.s, vc.slabE = l.openSlab(v)
		}
	}
	if vc.slabE != nil {
		return nil, vectorErr(label, vc.slabE)
	}
	r := l.rowAt(vc.s, label%l.rows)
	if r == nil {
		return nil, vectorErr(label, fmt.Errorf("%w: document has no vector in the vector store", ErrCorrupt))
	}
	p, err := l.checkRow(label, r)
	if err != nil {
		return nil, vectorErr(label, err)
	}
	out := make([]float32, l.dim)
	if err := l.decodeInto(p, out); err != nil {
		return nil, vectorErr(label, err)
	}
	return out, nil
}

// eachRecord calls fn, in label order, with the checksum-verified payload
// of every record in b, a bucket keyed by label. what names the bucket in
// errors ("" for the documents).
func (c *CollectionTx) eachRecord(b *bolt.Bucket, what string, fn func(label uint64, payload []byte) error) error {
	cur := b.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		label, err := decodeLabel(k)
		if err != nil {
			return fmt.Errorf("collection %q%s: %w", c.name, what, err)
		}
		payload, err := openEnvelope(v)
		if err != nil {
			return fmt.Errorf("collection %q%s, label %d: %w", c.name, what, label, err)
		}
		if err := fn(label, payload); err != nil {
			return err
		}
	}
	return nil
}

// headOf is the part of a document that a collection keeps in memory.
func headOf(d *DocumentRecord) *DocumentRecord {
	return &DocumentRecord{Id: d.Id, Metadata: d.Metadata}
}

// heads returns the collection's heads bucket. Only a read-only handle on a
// format-1 file can lack it, and such a handle never writes.
func (c *CollectionTx) heads() *bolt.Bucket { return c.b.Bucket(bucketHeads) }

// ForEachHead calls fn for every document in label order with the
// checksum-verified protobuf encoding (a Document message) of its head: its
// ID and metadata, what a collection keeps in memory, read without touching
// texts and vectors. In a format-1 file opened read-only the encoding is the
// whole document, which decodes to the same ID and metadata. The bytes are
// only valid during the call; DecodeHead decodes them.
func (c *CollectionTx) ForEachHead(fn func(label uint64, payload []byte) error) error {
	if b := c.heads(); b != nil {
		return c.eachRecord(b, " heads", fn)
	}
	return c.eachRecord(c.b.Bucket(bucketDocs), "", fn)
}

// DecodeHead decodes a payload from ForEachHead with the general protobuf
// decoder.
func DecodeHead(payload []byte) (*DocumentRecord, error) {
	d := new(DocumentRecord)
	if err := proto.Unmarshal(payload, d); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return headOf(d), nil
}

// ForEachID calls fn for every (ID, label) pair in ID order. The ID's bytes
// are only valid during the call.
func (c *CollectionTx) ForEachID(fn func(id []byte, label uint64) error) error {
	cur := c.b.Bucket(bucketIDs).Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		label, err := decodeLabel(v)
		if err != nil {
			return fmt.Errorf("collection %q, id %q: %w", c.name, k, err)
		}
		if err := fn(k, label); err != nil {
			return err
		}
	}
	return nil
}

// Pending lists the labels changed since the last snapshot, in order.
//
// Like Snapshot, it reports damage to the bucket's pages as ErrCorrupt
// itself, so that the caller can fall back to the documents within the same
// transaction.
func (c *CollectionTx) Pending() (labels []uint64, err error) {
	if err := damagedErr(c.damaged, c.name, string(bucketPending)); err != nil {
		return nil, err
	}
	err = guard(mapBase(c.b.Tx()), func() error {
		var err error
		labels, err = c.pending()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("collection %q pending list: %w", c.name, err)
	}
	return labels, nil
}

func (c *CollectionTx) pending() ([]uint64, error) {
	var out []uint64
	cur := c.b.Bucket(bucketPending).Cursor()
	for k, _ := cur.First(); k != nil; k, _ = cur.Next() {
		l, err := decodeLabel(k)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// PendingCount is the number of labels changed since the last snapshot.
func (c *CollectionTx) PendingCount() (int, error) {
	if err := damagedErr(c.damaged, c.name, string(bucketPending)); err != nil {
		return 0, err
	}
	return c.b.Bucket(bucketPending).Stats().KeyN, nil
}

// PutSnapshot replaces the index snapshot with the bytes produced by write
// and clears the pending list, atomically with the rest of the transaction.
func (c *CollectionTx) PutSnapshot(kind string, write func(io.Writer) error) error {
	return c.putSnapshot(kind, false, write)
}

// PutLinksSnapshot is PutSnapshot for a snapshot that reads its live
// vectors from the vector store when it is loaded (LoadVectors). A
// document changed or deleted after it has its label pending: its stored
// vector is the new one, or none, and the loader makes do (see
// index.WithStaleVectors) until the pending list is replayed.
func (c *CollectionTx) PutLinksSnapshot(kind string, write func(io.Writer) error) error {
	vs, err := c.vecs()
	if err != nil {
		return err
	}
	if vs.l == nil || vs.l.moving {
		return fmt.Errorf("storage: collection %q: a links-only snapshot needs the vectors in the vector store", c.name)
	}
	return c.putSnapshot(kind, true, write)
}

func (c *CollectionTx) putSnapshot(kind string, external bool, write func(io.Writer) error) error {
	// Deleting a bucket frees the pages of its tree, walking all of it.
	for _, sub := range [][]byte{bucketSnapshot, bucketPending} {
		if err := damagedErr(c.damaged, c.name, string(sub)); err != nil {
			return err
		}
	}
	if err := c.b.DeleteBucket(bucketSnapshot); err != nil {
		return err
	}
	sb, err := c.b.CreateBucket(bucketSnapshot)
	if err != nil {
		return err
	}
	w := &chunkWriter{b: sb, crc: crc32.New(castagnoli), slab: newChunkSlab(c.b.Tx())}
	if err := write(w); err != nil {
		return fmt.Errorf("storage: snapshot of collection %q: %w", c.name, err)
	}
	if err := w.flush(); err != nil {
		return err
	}
	si := &pb.SnapshotInfo{Kind: kind, TotalBytes: w.total, Chunks: w.n, Crc32C: w.crc.Sum32(), CreatedUnix: time.Now().Unix(), ExternalVectors: external}
	info, err := seal(si)
	if err != nil {
		return err
	}
	if err := sb.Put(keySnapshotInfo, info); err != nil {
		return err
	}
	if err := c.b.DeleteBucket(bucketPending); err != nil {
		return err
	}
	_, err = c.b.CreateBucket(bucketPending)
	return err
}

// Snapshot returns a reader over the stored index snapshot, verified against
// its checksum, or ok=false if there is none. The reader is only valid
// inside the transaction.
//
// Damage to the snapshot's pages is reported as ErrCorrupt here rather than
// by the guard of the whole transaction: the snapshot is a cache, and the
// caller can go on to rebuild the index from the documents in the same
// transaction.
func (c *CollectionTx) Snapshot() (kind string, r io.Reader, ok bool, err error) {
	if err := damagedErr(c.damaged, c.name, string(bucketSnapshot)); err != nil {
		return "", nil, false, err
	}
	err = guard(mapBase(c.b.Tx()), func() error {
		var err error
		kind, r, ok, err = c.snapshot()
		return err
	})
	if err != nil {
		return "", nil, false, fmt.Errorf("snapshot of collection %q: %w", c.name, err)
	}
	return kind, r, ok, nil
}

func (c *CollectionTx) snapshot() (kind string, r io.Reader, ok bool, err error) {
	sb := c.b.Bucket(bucketSnapshot)
	raw := sb.Get(keySnapshotInfo)
	if raw == nil {
		return "", nil, false, nil
	}
	var info pb.SnapshotInfo
	if err := unseal(raw, &info); err != nil {
		return "", nil, false, fmt.Errorf("info: %w", err)
	}
	readers := make([]io.Reader, 0, info.Chunks)
	crc := crc32.New(castagnoli)
	var total uint64
	for i := uint32(0); i < info.Chunks; i++ {
		v := sb.Get(chunkKey(i))
		if v == nil {
			return "", nil, false, fmt.Errorf("%w: chunk %d of %d is missing", ErrCorrupt, i, info.Chunks)
		}
		_, _ = crc.Write(v)
		total += uint64(len(v))
		readers = append(readers, bytes.NewReader(v))
	}
	if total != info.TotalBytes || crc.Sum32() != info.Crc32C {
		return "", nil, false, fmt.Errorf("%w: the chunks fail their checksum", ErrCorrupt)
	}
	return info.Kind, faultReader{r: io.MultiReader(readers...), base: mapBase(c.b.Tx())}, true, nil
}

// faultReader reads mmap-backed bytes and turns a memory fault in the
// file's mapping, which starts at base, into ErrCorrupt. guard protects
// only the goroutine that runs the transaction; a snapshot may be decoded
// on another one while the transaction reads something else. base is taken
// when the reader is made: the reader is only valid inside its
// transaction, during which bbolt keeps the mapping where it is.
type faultReader struct {
	r    io.Reader
	base uintptr
}

func (f faultReader) Read(p []byte) (n int, err error) {
	err = guard(f.base, func() error {
		var err error
		n, err = f.r.Read(p)
		return err
	})
	return n, err
}

func chunkKey(i uint32) []byte {
	k := make([]byte, 5)
	k[0] = 'c'
	binary.BigEndian.PutUint32(k[1:], i)
	return k
}

// chunkWriter splits a stream into bbolt values of snapshotChunk bytes,
// whose buffers come from slab (chunkSlab says why).
type chunkWriter struct {
	b     *bolt.Bucket
	buf   []byte
	n     uint32
	total uint64
	crc   hash.Hash32
	slab  *chunkSlab
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	written := len(p)
	for len(p) > 0 {
		if w.buf == nil {
			w.buf = w.slab.alloc(snapshotChunk)[:0]
		}
		n := min(len(p), snapshotChunk-len(w.buf))
		w.buf = append(w.buf, p[:n]...)
		p = p[n:]
		if len(w.buf) == snapshotChunk {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return written, nil
}

func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, _ = w.crc.Write(w.buf)
	w.total += uint64(len(w.buf))
	// bbolt keeps a reference to the value until commit, so each chunk
	// needs its own buffer.
	if err := w.b.Put(chunkKey(w.n), w.buf); err != nil {
		return err
	}
	w.n++
	w.buf = nil
	return nil
}
