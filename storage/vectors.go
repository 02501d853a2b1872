package storage

// The vector store (format 4): each collection keeps its documents' float
// vectors once, in its "vectors" bucket, apart from the document records
// (which no longer carry them) and from the index snapshot (which holds
// links only; see index.WriteLinksTo). Opening a collection reads the
// bucket front to back, decoding each vector straight into the index's
// memory.
//
// Slabs. Label l's vector lives in slab l / R, a value under the slab
// number (8 bytes, big endian), where R (VectorStore.slab_rows) is fixed
// when the store is made. A slab holds the rows of its labels that exist:
//
//	byte 0      slab version (1)
//	bytes 1-8   bitmap, little endian: bit i set = label slab*R+i has a row
//	bytes 9-12  CRC-32C of bytes 0-8, little endian
//	rows        one per set bit, in bit order: the components (float32 or
//	            float16, little endian), then the CRC-32C of the label
//	            (8 bytes, little endian) followed by the components
//
// Each row carries its own checksum, so reading one vector (a quantized
// search re-ranks its candidates one by one) checks a few bytes, not a
// whole slab, and a row that moved (a damaged bitmap) fails its check
// because the label is in it. The header's checksum covers the bitmap.
//
// Why slabs and not one value per label: bbolt puts at least two values on
// a page, and a value that does not fit spills to overflow pages of its
// own, so page runs, not values, decide the bytes per vector. A 384-dim
// float32 row with its key and element header is 1,564 bytes: two per 4 KiB
// page, 2,048 bytes per vector (1.33× raw). A node of two slabs takes a
// whole number of pages; slabRows picks the smallest R for which two slabs
// fill their pages to 90% or more: 5 rows for 384 dims (two slabs in four
// pages: 1,638 bytes per vector, 1.07× raw; float16: 819, and 96 dims: 410
// bytes per vector for 384 raw). Larger slabs pack a few percent better,
// but every write to a vector rewrites its node (two slabs), 16 KiB here.
//
// Upgrades: a collection of a format 2 or 3 file has no store; its
// document records carry their vectors. The writable open that upgrades
// the file makes the store and then moves the vectors over in batches of
// their own transactions (moveVectors), recording its progress in the
// collection's configuration, so a crash in between resumes where it
// stopped. Readers take a vector from the document record when the record
// has one, and from the store otherwise, so every state in between reads
// the same documents.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/bits"
	"sync"
	"unsafe"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/vecbolt/vecbolt/storage/internal/pb"
)

// VectorStore is the stored layout of a collection's vector store.
type VectorStore = pb.VectorStore

// Vector precisions (VectorStore.Precision).
const (
	// PrecisionFloat32 stores each component as given.
	PrecisionFloat32 = 0
	// PrecisionFloat16 stores each component as an IEEE 754 half (11
	// significant bits; magnitudes above 65,504 cannot be stored), half
	// the bytes. Readers get the stored value back as float32.
	PrecisionFloat16 = 1
)

var bucketVectors = []byte("vectors")

const (
	slabVersion = 1
	slabHeader  = 13
	rowCRC      = 4
	// maxSlabRows is the bitmap's width.
	maxSlabRows = 64
	// slabPageSize is the page size slabRows packs for: bbolt's default,
	// the OS page size on the machines vecbolt runs on. A file with other
	// pages still works; only the packing is less tight.
	slabPageSize = 4096
	// slabMinFill is the page fill slabRows settles for (see the package
	// doc above for the trade).
	slabMinFill = 0.9
)

// slabRows picks how many rows of rowBytes bytes share a slab: the
// smallest count for which a bbolt node of two slabs (bbolt's minimum per
// page, each with its 16-byte element header and 8-byte key, behind the
// page's 16-byte header) fills its pages to slabMinFill, looking at nodes
// of up to 16 pages; failing that, the best fill seen.
func slabRows(rowBytes int) int {
	best, bestFill := 1, 0.0
	for pages := 1; pages <= 16; pages++ {
		per := (pages*slabPageSize-16)/2 - 16 - 8 - slabHeader
		k := min(per/rowBytes, maxSlabRows)
		if k < 1 {
			continue
		}
		fill := float64(2*k*rowBytes) / float64(pages*slabPageSize)
		if fill >= slabMinFill {
			return k
		}
		if fill > bestFill {
			best, bestFill = k, fill
		}
	}
	return best
}

// NewVectorStore returns the layout of a new vector store for vectors of
// dim components stored at precision (PrecisionFloat32 or
// PrecisionFloat16).
func NewVectorStore(dim int, precision uint32) *VectorStore {
	l := vecLayout{dim: dim, f16: precision == PrecisionFloat16}
	l.setRow()
	return &VectorStore{Precision: precision, SlabRows: uint32(slabRows(l.row))}
}

// vecLayout is a collection's vector store layout, checked.
type vecLayout struct {
	dim     int
	f16     bool
	rows    uint64 // rows per slab
	payload int    // bytes of components per row
	row     int    // payload + rowCRC
	moving  bool   // VectorStore.moving
	// halves, when set, maps every float16 to its float32: LoadVectors
	// makes it (256 KiB, 65,536 conversions) to decode a whole store,
	// where the arithmetic conversion of each component cost twice the
	// time of the rest of the load.
	halves []float32
}

func (l *vecLayout) setRow() {
	l.payload = l.dim * 4
	if l.f16 {
		l.payload = l.dim * 2
	}
	l.row = l.payload + rowCRC
}

// layoutOf checks a configuration's vector store layout; nil, with no
// error, for a collection without a store (an older file's, read as it
// is).
func layoutOf(cfg *CollectionConfig) (*vecLayout, error) {
	vs := cfg.GetVectors()
	if vs == nil {
		return nil, nil
	}
	switch {
	case cfg.Dimension < 1 || cfg.Dimension > 1<<16:
		return nil, fmt.Errorf("%w: collection %q: vector store for dimension %d", ErrCorrupt, cfg.Name, cfg.Dimension)
	case vs.Precision != PrecisionFloat32 && vs.Precision != PrecisionFloat16:
		return nil, fmt.Errorf("%w: collection %q: vector precision %d, which this build does not know", ErrCorrupt, cfg.Name, vs.Precision)
	case vs.SlabRows < 1 || vs.SlabRows > maxSlabRows:
		return nil, fmt.Errorf("%w: collection %q: %d rows per vector slab", ErrCorrupt, cfg.Name, vs.SlabRows)
	}
	l := &vecLayout{dim: int(cfg.Dimension), f16: vs.Precision == PrecisionFloat16, rows: uint64(vs.SlabRows), moving: vs.Moving}
	l.setRow()
	return l, nil
}

// slab is a checked view of a stored slab value (aliasing it).
type slab struct {
	bits uint64
	rows []byte
}

// openSlab checks a slab's header and length.
func (l *vecLayout) openSlab(v []byte) (slab, error) {
	if len(v) < slabHeader {
		return slab{}, fmt.Errorf("%w: vector slab of %d bytes is shorter than its header", ErrCorrupt, len(v))
	}
	if v[0] != slabVersion {
		return slab{}, fmt.Errorf("%w: unknown vector slab version %d", ErrCorrupt, v[0])
	}
	if got, want := crc32.Checksum(v[:9], castagnoli), binary.LittleEndian.Uint32(v[9:13]); got != want {
		return slab{}, fmt.Errorf("%w: vector slab header checksum mismatch (stored %08x, computed %08x)", ErrCorrupt, want, got)
	}
	s := slab{bits: binary.LittleEndian.Uint64(v[1:9]), rows: v[slabHeader:]}
	if l.rows < maxSlabRows && s.bits>>l.rows != 0 {
		return slab{}, fmt.Errorf("%w: vector slab bitmap %#x has bits past its %d rows", ErrCorrupt, s.bits, l.rows)
	}
	if n := bits.OnesCount64(s.bits); len(s.rows) != n*l.row {
		return slab{}, fmt.Errorf("%w: vector slab of %d rows holds %d bytes, want %d", ErrCorrupt, n, len(s.rows), n*l.row)
	}
	return s, nil
}

// rowAt returns the row of bit i, or nil if the slab has none.
func (l *vecLayout) rowAt(s slab, i uint64) []byte {
	if s.bits&(1<<i) == 0 {
		return nil
	}
	k := bits.OnesCount64(s.bits & (1<<i - 1))
	return s.rows[k*l.row : (k+1)*l.row]
}

// rowSum is the checksum of label's row payload.
func rowSum(label uint64, payload []byte) uint32 {
	var lb [8]byte
	binary.LittleEndian.PutUint64(lb[:], label)
	return crc32.Update(crc32.Checksum(lb[:], castagnoli), castagnoli, payload)
}

// checkRow verifies a row's checksum and returns its payload.
func (l *vecLayout) checkRow(label uint64, row []byte) ([]byte, error) {
	payload := row[:l.payload]
	if got, want := rowSum(label, payload), binary.LittleEndian.Uint32(row[l.payload:]); got != want {
		return nil, fmt.Errorf("%w: vector checksum mismatch (stored %08x, computed %08x)", ErrCorrupt, want, got)
	}
	return payload, nil
}

// decodeInto decodes a checked payload into dst (dim float32s), rejecting
// non-finite components.
func (l *vecLayout) decodeInto(payload []byte, dst []float32) error {
	return l.decode(payload, dst, true)
}

// decode is decodeInto; without finite, float32 components are not
// scanned for Inf and NaN: LoadVectors leaves that to the index, which
// checks every vector it loads anyway (float16 ones are checked in the
// same pass as their conversion, at no cost).
func (l *vecLayout) decode(payload []byte, dst []float32, finite bool) error {
	bad := false
	switch {
	case l.f16 && l.halves != nil:
		for i := range dst {
			x := binary.LittleEndian.Uint16(payload[2*i:])
			bad = bad || x&0x7c00 == 0x7c00
			dst[i] = l.halves[x]
		}
	case l.f16:
		for i := range dst {
			x := binary.LittleEndian.Uint16(payload[2*i:])
			bad = bad || x&0x7c00 == 0x7c00
			dst[i] = float16To32(x)
		}
	default:
		// Opening a collection decodes every vector here: on
		// little-endian machines one copy of the bytes, then a scan of
		// the words for an all-ones exponent (Inf or NaN).
		words := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(dst))), len(dst))
		if littleEndian() {
			copy(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(dst))), 4*len(dst)), payload)
		} else {
			for i := range words {
				words[i] = binary.LittleEndian.Uint32(payload[4*i:])
			}
		}
		if finite {
			for _, x := range words {
				bad = bad || x&0x7f800000 == 0x7f800000
			}
		}
	}
	if bad {
		return fmt.Errorf("%w: stored vector has a non-finite component", ErrCorrupt)
	}
	return nil
}

// littleEndian reports whether the machine stores words least significant
// byte first, as the file does.
func littleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}

// encodeRow appends label's row for vec.
func (l *vecLayout) encodeRow(dst []byte, label uint64, vec []float32) ([]byte, error) {
	if len(vec) != l.dim {
		return nil, fmt.Errorf("storage: vector of %d components in a store of dimension %d", len(vec), l.dim)
	}
	start := len(dst)
	for i, x := range vec {
		if l.f16 {
			h := float32To16(x)
			if h&0x7c00 == 0x7c00 {
				return nil, fmt.Errorf("%w: component %d (%v) is not finite in float16 (largest: 65504)", ErrVectorRange, i, x)
			}
			dst = binary.LittleEndian.AppendUint16(dst, h)
		} else {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, fmt.Errorf("%w: component %d is %v", ErrVectorRange, i, x)
			}
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(x))
		}
	}
	return binary.LittleEndian.AppendUint32(dst, rowSum(label, dst[start:])), nil
}

// ErrVectorRange reports a vector the store cannot hold: a non-finite
// component, or under float16 one whose magnitude float16 cannot hold.
var ErrVectorRange = errors.New("storage: vector component out of range")

// withRow returns a new slab value: s with bit i's row set to row (added
// or replaced).
func (l *vecLayout) withRow(s slab, i uint64, row []byte) []byte {
	nb := s.bits | 1<<i
	k := bits.OnesCount64(s.bits & (1<<i - 1))
	out := make([]byte, slabHeader, slabHeader+bits.OnesCount64(nb)*l.row)
	out = append(out, s.rows[:k*l.row]...)
	out = append(out, row...)
	if s.bits&(1<<i) != 0 {
		k++
	}
	out = append(out, s.rows[k*l.row:]...)
	putSlabHeader(out, nb)
	return out
}

// withoutRow returns s without bit i's row; nil when no row is left.
func (l *vecLayout) withoutRow(s slab, i uint64) []byte {
	nb := s.bits &^ (1 << i)
	if nb == 0 {
		return nil
	}
	k := bits.OnesCount64(s.bits & (1<<i - 1))
	out := make([]byte, slabHeader, slabHeader+bits.OnesCount64(nb)*l.row)
	out = append(out, s.rows[:k*l.row]...)
	if s.bits&(1<<i) != 0 {
		k++
	}
	out = append(out, s.rows[k*l.row:]...)
	putSlabHeader(out, nb)
	return out
}

func putSlabHeader(out []byte, bitmap uint64) {
	out[0] = slabVersion
	binary.LittleEndian.PutUint64(out[1:9], bitmap)
	binary.LittleEndian.PutUint32(out[9:13], crc32.Checksum(out[:9], castagnoli))
}

// float32To16 rounds x to the nearest IEEE 754 half (ties to even);
// magnitudes beyond the largest half become infinity.
func float32To16(x float32) uint16 {
	b := math.Float32bits(x)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case b&0x7f800000 == 0x7f800000: // Inf or NaN
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp >= 31:
		return sign | 0x7c00
	case exp <= 0:
		if exp < -10 {
			return sign // underflows to zero
		}
		// Subnormal half: shift the full significand into place.
		m := mant | 0x800000
		shift := uint(14 - exp)
		h := m >> shift
		rem := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(exp)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // may carry into the exponent, up to infinity: still correct
	}
	return sign | uint16(h)
}

// float16To32 converts an IEEE 754 half to float32 exactly.
func float16To32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h >> 10 & 0x1f)
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		// Subnormal: value mant × 2^-24.
		f := float32(mant) / (1 << 24)
		if sign != 0 {
			return -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// RoundFloat16 rounds every component of v to the nearest float16 value in
// place, as a float16 store keeps it, and reports false (leaving the rest
// unrounded) at the first component float16 cannot hold. Package db rounds
// a float16 collection's vectors before indexing them, so that the index
// holds what a reopened collection reads back.
func RoundFloat16(v []float32) (bad int, ok bool) {
	for i, x := range v {
		h := float32To16(x)
		if h&0x7c00 == 0x7c00 {
			return i, false
		}
		v[i] = float16To32(h)
	}
	return 0, true
}

// vecState is a collection's vector store inside one transaction.
type vecState struct {
	l      *vecLayout
	b      *bolt.Bucket
	key    [8]byte
	rowBuf []byte
}

// vecs returns the collection's vector store in this transaction, with a
// nil layout for a collection without one.
func (c *CollectionTx) vecs() (*vecState, error) {
	if c.vs != nil {
		return c.vs, nil
	}
	cfg, err := c.Config()
	if err != nil {
		return nil, err
	}
	l, err := layoutOf(cfg)
	if err != nil {
		return nil, err
	}
	vs := &vecState{l: l}
	if l != nil {
		if err := damagedErr(c.damaged, c.name, string(bucketVectors)); err != nil {
			return nil, err
		}
		if vs.b = c.b.Bucket(bucketVectors); vs.b == nil {
			return nil, fmt.Errorf("%w: collection %q lacks its %q bucket", ErrCorrupt, c.name, bucketVectors)
		}
		// Slabs are appended in label order; see docs().
		vs.b.FillPercent = 1
	}
	c.vs = vs
	return vs, nil
}

func (vs *vecState) slabKey(label uint64) ([]byte, uint64) {
	binary.BigEndian.PutUint64(vs.key[:], label/vs.l.rows)
	return vs.key[:], label % vs.l.rows
}

// row returns label's checked payload, or nil if the store has none;
// damage is a *VectorError.
func (vs *vecState) row(label uint64) ([]byte, error) {
	k, i := vs.slabKey(label)
	v := vs.b.Get(k)
	if v == nil {
		return nil, nil
	}
	s, err := vs.l.openSlab(v)
	if err != nil {
		return nil, vectorErr(label, err)
	}
	r := vs.l.rowAt(s, i)
	if r == nil {
		return nil, nil
	}
	p, err := vs.l.checkRow(label, r)
	if err != nil {
		return nil, vectorErr(label, err)
	}
	return p, nil
}

// vectorErr is a *VectorError for one label's vector.
func vectorErr(label uint64, err error) error {
	return &VectorError{Label: label, Last: label, Err: err}
}

// put stores label's vector.
func (vs *vecState) put(label uint64, vec []float32) error {
	var err error
	vs.rowBuf, err = vs.l.encodeRow(vs.rowBuf[:0], label, vec)
	if err != nil {
		return err
	}
	k, i := vs.slabKey(label)
	var s slab
	if v := vs.b.Get(k); v != nil {
		// A slab whose header is damaged has no readable row: writing
		// to it starts it afresh, which is the repair (the documents
		// whose vectors it held stay damaged until they are written
		// again or deleted, as a damaged record does).
		s, _ = vs.l.openSlab(v)
	}
	return vs.b.Put(k, vs.l.withRow(s, i, vs.rowBuf))
}

// delete removes label's vector, if any.
func (vs *vecState) delete(label uint64) error {
	k, i := vs.slabKey(label)
	v := vs.b.Get(k)
	if v == nil {
		return nil
	}
	s, err := vs.l.openSlab(v)
	if err != nil {
		// No readable row: see put.
		return vs.b.Delete(k)
	}
	if s.bits&(1<<i) == 0 {
		return nil
	}
	if nv := vs.l.withoutRow(s, i); nv != nil {
		return vs.b.Put(k, nv)
	}
	return vs.b.Delete(k)
}

// LoadVectors decodes the stored vectors that the index snapshot needs
// into the memory a slot function gives for each label (nil: not needed).
// It reads the store in label order with up to workers goroutines, each
// over its own range of slabs and with its own slot function from newSlot.
// Each row's checksum is verified before slot is asked for its memory,
// wanted or not, so slot only ever sees good rows.
//
// A row or slab that fails its check is passed to damaged, which the
// workers call concurrently (it must synchronize), and the load goes on
// without it; with a nil damaged the first such problem stops the load
// with its error. Damage that leaves the store unreadable as a whole (a
// slab key of the wrong length, a missing bucket) is an error either way.
// Errors wrap ErrCorrupt. Like Snapshot, it runs under guards of its own,
// so it may run on goroutines other than the transaction's while that one
// reads other buckets, in a read-only transaction (whose cursors change
// nothing they share).
func (c *CollectionTx) LoadVectors(newSlot func() func(label uint64) []float32, workers int, damaged func(VectorProblem)) error {
	// A range of fewer slabs than this is not worth a goroutine.
	const minRange = 1024
	return c.loadVectors(newSlot, workers, minRange, damaged)
}

func (c *CollectionTx) loadVectors(newSlot func() func(label uint64) []float32, workers int, minRange uint64, damaged func(VectorProblem)) error {
	base := mapBase(c.b.Tx())
	var vs *vecState
	var first, last uint64
	empty := false
	err := guard(base, func() error {
		var err error
		if vs, err = c.vecs(); err != nil {
			return err
		}
		if vs.l == nil || vs.l.moving {
			return fmt.Errorf("%w: the collection's vectors are not all in its vector store", ErrCorrupt)
		}
		if vs.l.f16 && vs.l.halves == nil {
			vs.l.halves = make([]float32, 1<<16)
			for h := range vs.l.halves {
				vs.l.halves[h] = float16To32(uint16(h))
			}
		}
		cur := vs.b.Cursor()
		k, _ := cur.First()
		if k == nil {
			empty = true
			return nil
		}
		lk, _ := cur.Last()
		if len(k) != 8 || len(lk) != 8 {
			return fmt.Errorf("%w: vector slab key of %d bytes", ErrCorrupt, max(len(k), len(lk)))
		}
		first, last = binary.BigEndian.Uint64(k), binary.BigEndian.Uint64(lk)
		return nil
	})
	if err != nil || empty {
		return wrapVectors(c.name, err)
	}
	span := last - first + 1
	workers = int(min(uint64(max(workers, 1)), (span+minRange-1)/minRange))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo := first + span*uint64(w)/uint64(workers)
		hi := first + span*uint64(w+1)/uint64(workers) // exclusive
		wg.Go(func() {
			errs[w] = guard(base, func() error { return c.loadSlabs(vs, lo, hi, newSlot(), damaged) })
		})
	}
	wg.Wait()
	return wrapVectors(c.name, errors.Join(errs...))
}

func wrapVectors(name string, err error) error {
	if err != nil {
		return fmt.Errorf("collection %q vectors: %w", name, err)
	}
	return nil
}

// loadSlabs is LoadVectors over the slabs numbered lo to hi-1.
func (c *CollectionTx) loadSlabs(vs *vecState, lo, hi uint64, slot func(uint64) []float32, damaged func(VectorProblem)) error {
	var key [8]byte
	binary.BigEndian.PutUint64(key[:], lo)
	cur := vs.b.Cursor()
	for k, v := cur.Seek(key[:]); k != nil; k, v = cur.Next() {
		if len(k) != 8 {
			return fmt.Errorf("%w: vector slab key of %d bytes", ErrCorrupt, len(k))
		}
		no := binary.BigEndian.Uint64(k)
		if no >= hi {
			return nil
		}
		first := no * vs.l.rows
		s, err := vs.l.openSlab(v)
		if err != nil {
			p := VectorProblem{Label: first, Last: first + vs.l.rows - 1, Slab: true, Err: err}
			if damaged == nil {
				return &VectorError{Label: first, Last: p.Last, Err: err}
			}
			damaged(p)
			continue
		}
		for b := s.bits; b != 0; b &= b - 1 {
			i := uint64(bits.TrailingZeros64(b))
			label := first + i
			payload, err := vs.l.checkRow(label, vs.l.rowAt(s, i))
			if err != nil {
				if damaged == nil {
					return &VectorError{Label: label, Last: label, Err: err}
				}
				damaged(VectorProblem{Label: label, Last: label, Err: err})
				continue
			}
			if err := c.loadRow(vs, label, payload, slot); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadRow decodes a checked row payload into the memory slot gives.
func (c *CollectionTx) loadRow(vs *vecState, label uint64, payload []byte, slot func(uint64) []float32) error {
	dst := slot(label)
	if dst == nil {
		return nil
	}
	if len(dst) != vs.l.dim {
		return fmt.Errorf("%w: label %d: the index wants %d components, the store holds %d", ErrCorrupt, label, len(dst), vs.l.dim)
	}
	if err := vs.l.decode(payload, dst, false); err != nil {
		return fmt.Errorf("label %d: %w", label, err)
	}
	return nil
}

// VectorError reports a document's stored vector that cannot be read:
// its row fails its checksum, its slab's header does (the error then
// concerns every label from Label to Last), or the store holds no row for
// a document that must have one. It wraps ErrCorrupt. The document's
// other fields (its record) are not affected; writing or deleting the
// document repairs it.
type VectorError struct {
	// Label is the document's label, or the first label of a damaged
	// slab; Last is Label, or the slab's last label.
	Label, Last uint64
	Err         error
}

func (e *VectorError) Error() string {
	if e.Last != e.Label {
		return fmt.Sprintf("vector slab of labels %d-%d: %v", e.Label, e.Last, e.Err)
	}
	return fmt.Sprintf("vector of label %d: %v", e.Label, e.Err)
}

func (e *VectorError) Unwrap() error { return e.Err }

// VectorProblem is one finding of CheckVectors.
type VectorProblem struct {
	// Label is the label of the damaged row, or the first label of a
	// damaged slab.
	Label uint64
	// Last is Label for a row; for a slab, its last label.
	Last uint64
	// Slab is true when the whole slab (all its rows) is unreadable.
	Slab bool
	Err  error
}

// CheckVectors reads the whole vector store, verifying every slab and row,
// and calls fn with the label of every row that holds a good vector (for
// the caller to match against the documents) or with a problem. It returns
// an error only when the store cannot be read at all, or when fn fails.
// A collection without a store (an older file read as it is) has nothing
// to check.
func (c *CollectionTx) CheckVectors(fn func(label uint64, problem *VectorProblem) error) error {
	vs, err := c.vecs()
	if err != nil {
		return err
	}
	if vs.l == nil {
		return nil
	}
	dst := make([]float32, vs.l.dim)
	cur := vs.b.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if len(k) != 8 {
			if err := fn(0, &VectorProblem{Slab: true, Err: fmt.Errorf("%w: vector slab key of %d bytes", ErrCorrupt, len(k))}); err != nil {
				return err
			}
			continue
		}
		first := binary.BigEndian.Uint64(k) * vs.l.rows
		s, err := vs.l.openSlab(v)
		if err != nil {
			if err := fn(first, &VectorProblem{Label: first, Last: first + vs.l.rows - 1, Slab: true, Err: err}); err != nil {
				return err
			}
			continue
		}
		for b := s.bits; b != 0; b &= b - 1 {
			i := uint64(bits.TrailingZeros64(b))
			label := first + i
			payload, err := vs.l.checkRow(label, vs.l.rowAt(s, i))
			if err == nil {
				err = vs.l.decodeInto(payload, dst)
			}
			var p *VectorProblem
			if err != nil {
				p = &VectorProblem{Label: label, Last: label, Err: err}
			}
			if err := fn(label, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// VectorStoreInfo reports a collection's vector store layout: nil for a
// collection without one (an older file read as it is).
func (c *CollectionTx) VectorStoreInfo() (*VectorStore, error) {
	cfg, err := c.Config()
	if err != nil {
		return nil, err
	}
	if cfg.Vectors == nil {
		return nil, nil
	}
	return proto.Clone(cfg.Vectors).(*VectorStore), nil
}

// moveBatch is how many documents one transaction of the format upgrade
// moves: about 3 MB of 384-dim records, so the upgrade's memory stays
// small however large the collection.
const moveBatch = 2048

// startMove gives collection c a vector store to which moveVectors then
// moves the vectors of its document records (part of the format 2/3 -> 4
// upgrade, in the transaction that writes the new header).
func startMove(c *CollectionTx) error {
	cfg, err := c.Config()
	if err != nil {
		return err
	}
	if cfg.Vectors != nil {
		return nil
	}
	if cfg.Dimension < 1 || cfg.Dimension > 1<<16 {
		return fmt.Errorf("%w: collection %q has dimension %d", ErrCorrupt, c.name, cfg.Dimension)
	}
	if _, err := c.b.CreateBucketIfNotExists(bucketVectors); err != nil {
		return err
	}
	cfg.Vectors = NewVectorStore(int(cfg.Dimension), PrecisionFloat32)
	cfg.Vectors.Moving = true
	c.vs = nil
	return c.PutConfig(cfg)
}

// moveSome moves the vectors of up to moveBatch document records of c into
// its vector store, from the label its configuration records; done is
// true once none is left.
func moveSome(c *CollectionTx) (done bool, err error) {
	cfg, err := c.Config()
	if err != nil {
		return false, err
	}
	if cfg.Vectors == nil || !cfg.Vectors.Moving {
		return true, nil
	}
	vs, err := c.vecs()
	if err != nil {
		return false, err
	}
	docs := c.docs()
	cur := docs.Cursor()
	type moved struct {
		k []byte
		v []byte
	}
	var batch []moved
	next := uint64(0)
	k, v := cur.Seek(LabelKey(cfg.Vectors.MoveFrom))
	for ; k != nil && len(batch) < moveBatch; k, v = cur.Next() {
		label, err := decodeLabel(k)
		if err != nil {
			return false, fmt.Errorf("collection %q: %w", c.name, err)
		}
		next = label + 1
		d, err := DecodeDocument(v)
		if err != nil {
			return false, fmt.Errorf("collection %q, label %d: %w", c.name, label, err)
		}
		if len(d.Vector) == 0 {
			continue
		}
		if err := vs.put(label, d.Vector); err != nil {
			return false, fmt.Errorf("collection %q, label %d: %w", c.name, label, err)
		}
		d.Vector = nil
		nv, err := seal(d)
		if err != nil {
			return false, err
		}
		batch = append(batch, moved{append([]byte(nil), k...), nv})
	}
	// Puts after the cursor walk: changing a bucket under a cursor moves it.
	for _, m := range batch {
		if err := docs.Put(m.k, m.v); err != nil {
			return false, err
		}
	}
	done = k == nil
	if done {
		cfg.Vectors.Moving, cfg.Vectors.MoveFrom = false, 0
	} else {
		cfg.Vectors.MoveFrom = next
	}
	c.vs = nil
	return done, c.PutConfig(cfg)
}

// SnapshotKeepsVectorsOutside reports whether the collection's index
// snapshot was written by PutLinksSnapshot (false when there is none).
func (c *CollectionTx) SnapshotKeepsVectorsOutside() (bool, error) {
	if err := damagedErr(c.damaged, c.name, string(bucketSnapshot)); err != nil {
		return false, err
	}
	raw := c.b.Bucket(bucketSnapshot).Get(keySnapshotInfo)
	if raw == nil {
		return false, nil
	}
	var info pb.SnapshotInfo
	if err := unseal(raw, &info); err != nil {
		return false, fmt.Errorf("collection %q snapshot info: %w", c.name, err)
	}
	return info.ExternalVectors, nil
}
