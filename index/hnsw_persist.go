package index

// Binary snapshot of an HNSW graph (format versions 1 to 3), little-endian:
//
//	header   magic "VBHNSW\r\n", version u32, then the parameters and
//	         counts (see hnswHeader), the storage u32 (0 float32, 1 int8,
//	         2 float32 kept outside; absent in version 1, which is always
//	         float32; 2 needs version 3), the level RNG state (u32 length
//	         + bytes)
//	ids      slots × u64          caller IDs (0 for free slots)
//	levels   slots × u8
//	states   slots × u8           0 live, 1 tombstone, 2 free
//	vectors  float32: slots × dim × f32 (zeros for free slots)
//	         int8:    slots × (dim × i8 codes, f32 scale); codes in
//	         [-127, 127], scale finite and ≥ 0. The L2 code norm kept in
//	         memory is derived, not stored.
//	         outside: tombstones × dim × f32, in slot order: only the
//	         vectors of tombstones, which nothing else keeps; the live
//	         vectors are the caller's to supply (WithVectorLoader)
//	layer 0  slots × (2M+1) × u32 [count, links..., zero padding]
//	upper    for each slot with level L > 0, L × (M+1) × u32
//	trailer  CRC-32C (Castagnoli) of every preceding byte, u32
//
// WriteTo writes version 2 (float32 or int8), which older builds read too;
// WriteLinksTo writes version 3 with the float32 vectors of live nodes left
// out, for a caller that stores them once, elsewhere (package db keeps them
// in its file's vector store and loads them straight into the graph's
// memory: see WithVectorLoader).
//
// The reader trusts nothing: every count, level, link and state is checked
// before it can index memory, allocations grow with the bytes actually read
// (a corrupt header cannot make it allocate gigabytes up front), and the
// checksum is verified last so the structural checks are reachable by the
// fuzzer. Vectors a loader supplies are checked as Add checks them.

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"
)

const (
	hnswMagic   = "VBHNSW\r\n"
	hnswVersion = 2
	// hnswLinksVersion is the version of snapshots whose live float32
	// vectors are kept outside (WriteLinksTo).
	hnswLinksVersion = 3
	// hnswMinVersion is the oldest version ReadHNSW still reads.
	hnswMinVersion = 1
	// hnswChunk is the decode/encode buffer size for bulk sections.
	hnswChunk = 64 << 10
	// hnswAllocSlack is how far an allocation may run ahead of the bytes
	// already read before the reader switches to growing the slice as data
	// arrives.
	hnswAllocSlack = 4 << 20
)

// ErrCorruptHNSW reports a snapshot that fails validation or its checksum.
var ErrCorruptHNSW = errors.New("index: corrupt HNSW snapshot")

// ErrHNSWVersion reports a snapshot written by an unknown format version.
var ErrHNSWVersion = errors.New("index: unsupported HNSW snapshot version")

// ErrNeedVectors reports a snapshot written by WriteLinksTo read without a
// WithVectorLoader to supply its vectors.
var ErrNeedVectors = errors.New("index: the HNSW snapshot keeps its vectors outside; ReadHNSW needs WithVectorLoader")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// VectorLoader supplies the live vectors of a snapshot written by
// WriteLinksTo. It is called once, after the snapshot has been read and
// verified, with newSlot, which returns a slot function for one goroutine:
// slot(id) returns the memory where the vector of ID id goes (Dim float32s
// inside the graph, to be filled as the vector was given to Add, before
// any normalization), or nil when the graph holds no live node of that ID
// (the loader skips it). Decoding straight into that memory keeps one copy
// of each vector. The loader may fill vectors from several goroutines,
// each with its own slot function (one must not be shared); a slot
// function finds IDs asked for in increasing order fastest. Each ID is
// filled once. Every live node must be filled; ReadHNSW then checks each
// vector as Add does (finite; a non-zero norm under Cosine) and prepares
// it. The loader must not keep the memory beyond its return.
type VectorLoader func(newSlot func() func(id uint64) []float32) error

// WithVectorLoader gives ReadHNSW the source of a links-only snapshot's
// vectors (see WriteLinksTo). Other snapshots, which hold their vectors,
// do not call it. NewHNSW ignores it.
func WithVectorLoader(l VectorLoader) HNSWOption { return func(c *hnswConfig) { c.loader = l } }

// WithStaleVectors names the IDs whose vectors the loader of a links-only
// snapshot may lack: nodes that the caller deleted or replaced after the
// snapshot was written and is about to delete or replace in the graph too
// (package db replays its pending writes). A live node of such an ID that
// the loader does not fill takes the vector of one of its neighbours, so
// that the node, which only routes searches until the caller deletes it
// and the repair drops it, routes them towards the right part of the
// graph; one the loader fills with its new vector routes as well as it
// can until it is replaced. Package db also names the IDs whose stored
// vectors it found damaged, which it then deletes. Any other node the
// loader misses fails the read (ErrMissingVector). NewHNSW ignores it.
func WithStaleVectors(stale func(id uint64) bool) HNSWOption {
	return func(c *hnswConfig) { c.stale = stale }
}

// Storage kinds recorded in a version 2 or 3 header.
const (
	hnswStorageFloat32 = 0
	hnswStorageInt8    = 1
	// hnswStorageOutside is float32 vectors of which the snapshot holds
	// only the tombstones' (version 3).
	hnswStorageOutside = 2
)

// hnswHeader holds the fixed-size fields after magic and version.
type hnswHeader struct {
	Dim, Metric, M, EfC, EfS  uint32
	Compact, ExactFrac        float64
	Seed                      uint64
	Slots, Live, Tomb, Free   uint32
	HasEntry, Entry, MaxLevel uint32
}

type hnswEncoder struct {
	w   *bufio.Writer
	crc uint32
	n   int64
	buf []byte
	err error
}

func (e *hnswEncoder) bytes(p []byte) {
	if e.err != nil {
		return
	}
	e.crc = crc32.Update(e.crc, castagnoli, p)
	k, err := e.w.Write(p)
	e.n += int64(k)
	e.err = err
}

func (e *hnswEncoder) u32(v uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	e.bytes(b[:])
}

// list writes one link list with the words past its count zeroed, so
// snapshots of equal graphs are equal bytes.
func (e *hnswEncoder) list(lst []uint32) {
	if len(e.buf)+4*len(lst) > hnswChunk {
		e.bytes(e.buf)
		e.buf = e.buf[:0]
	}
	cnt := min(int(lst[0]), len(lst)-1)
	for i, v := range lst {
		if i > cnt {
			v = 0
		}
		e.buf = binary.LittleEndian.AppendUint32(e.buf, v)
	}
}

func (e *hnswEncoder) flushList() {
	e.bytes(e.buf)
	e.buf = e.buf[:0]
}

func (e *hnswEncoder) f32s(vs []float32) {
	for len(vs) > 0 {
		k := min(len(vs), hnswChunk/4)
		e.buf = e.buf[:0]
		for _, v := range vs[:k] {
			e.buf = binary.LittleEndian.AppendUint32(e.buf, math.Float32bits(v))
		}
		e.bytes(e.buf)
		vs = vs[k:]
	}
}

// rows8 writes the int8 rows: codes and scale of each slot (the L2 norm
// word is derived on load).
func (e *hnswEncoder) rows8(h *HNSW) {
	per := h.dim + 4
	e.buf = e.buf[:0]
	for n := range h.ids {
		if len(e.buf)+per > hnswChunk && len(e.buf) > 0 {
			e.bytes(e.buf)
			e.buf = e.buf[:0]
		}
		e.buf = append(e.buf, asBytes(h.row8(uint32(n))[:per])...)
	}
	e.bytes(e.buf)
	e.buf = e.buf[:0]
}

// WriteTo writes a consistent snapshot of the graph to w. Searches continue
// while it runs; Add, Delete and Compact wait until it returns. w should be
// buffered or large-chunked storage; WriteTo buffers 64 KiB itself.
func (h *HNSW) WriteTo(w io.Writer) (int64, error) { return h.writeSnapshot(w, false) }

// WriteLinksTo writes a snapshot like WriteTo, but without the float32
// vectors of live nodes: a caller that stores every vector under its ID
// already keeps them once instead of twice, and supplies them to ReadHNSW
// through WithVectorLoader. The vectors of tombstones (deleted nodes the
// graph still routes through) are written, since nothing else holds them.
// An int8 graph writes its codes, as WriteTo does: its float vectors are
// not in memory.
func (h *HNSW) WriteLinksTo(w io.Writer) (int64, error) { return h.writeSnapshot(w, !h.q8) }

func (h *HNSW) writeSnapshot(w io.Writer, outside bool) (int64, error) {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return 0, ErrClosed
	}

	e := &hnswEncoder{w: bufio.NewWriterSize(w, hnswChunk), buf: make([]byte, 0, hnswChunk)}
	e.bytes([]byte(hnswMagic))
	if outside {
		e.u32(hnswLinksVersion)
	} else {
		e.u32(hnswVersion)
	}
	hd := hnswHeader{
		Dim: uint32(h.dim), Metric: uint32(h.metric), M: uint32(h.m),
		EfC: uint32(h.efC), EfS: uint32(h.efS), Compact: h.compact,
		ExactFrac: h.exactFrac, Seed: h.seed, Slots: uint32(len(h.ids)),
		Live: uint32(h.live), Tomb: uint32(h.tomb), Free: uint32(len(h.free)),
		Entry: h.entry, MaxLevel: uint32(h.maxLevel),
	}
	if h.hasEntry {
		hd.HasEntry = 1
	}
	var hb []byte
	hb, _ = binary.Append(hb, binary.LittleEndian, &hd)
	e.bytes(hb)
	switch {
	case h.q8:
		e.u32(hnswStorageInt8)
	case outside:
		e.u32(hnswStorageOutside)
	default:
		e.u32(hnswStorageFloat32)
	}
	rs, err := h.rng.MarshalBinary()
	if err != nil {
		return 0, fmt.Errorf("index: snapshot RNG state: %w", err)
	}
	e.u32(uint32(len(rs)))
	e.bytes(rs)

	for i := 0; i < len(h.ids); i += hnswChunk / 8 {
		e.buf = e.buf[:0]
		for _, id := range h.ids[i:min(i+hnswChunk/8, len(h.ids))] {
			e.buf = binary.LittleEndian.AppendUint64(e.buf, id)
		}
		e.bytes(e.buf)
	}
	e.bytes(h.levels)
	e.bytes(h.state)
	switch {
	case h.q8:
		e.rows8(h)
	case outside:
		for n, st := range h.state {
			if st == slotDeleted {
				e.f32s(h.vec(uint32(n)))
			}
		}
	default:
		for n := 0; n < len(h.ids); n += hnswSegSize {
			rows := min(hnswSegSize, len(h.ids)-n)
			e.f32s(h.vecSegs[n>>hnswSegShift][:rows*h.dim])
		}
	}
	e.buf = e.buf[:0]
	for n := range h.ids {
		e.list(h.links(uint32(n), 0))
	}
	for n := range h.ids {
		for l := 1; l <= int(h.levels[n]); l++ {
			e.list(h.links(uint32(n), l))
		}
	}
	e.flushList()
	if e.err == nil {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], e.crc)
		k, err := e.w.Write(b[:])
		e.n += int64(k)
		e.err = err
	}
	if e.err == nil {
		e.err = e.w.Flush()
	}
	if e.err != nil {
		return e.n, fmt.Errorf("index: write HNSW snapshot: %w", e.err)
	}
	return e.n, nil
}

type hnswDecoder struct {
	r   io.Reader
	crc uint32
	n   int64
	buf []byte
}

// read returns the next k bytes (k ≤ hnswChunk) in a buffer valid until the
// next call.
func (d *hnswDecoder) read(k int) ([]byte, error) {
	if cap(d.buf) < k {
		d.buf = make([]byte, k, max(k, hnswChunk))
	}
	b := d.buf[:k]
	if _, err := io.ReadFull(d.r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: truncated at byte %d", ErrCorruptHNSW, d.n)
		}
		return nil, fmt.Errorf("index: read HNSW snapshot: %w", err)
	}
	d.crc = crc32.Update(d.crc, castagnoli, b)
	d.n += int64(k)
	return b, nil
}

// mayAlloc reports whether allocating nbytes up front is justified by what
// has been read so far.
func (d *hnswDecoder) mayAlloc(nbytes int64) bool { return nbytes <= d.n+hnswAllocSlack }

// readInto fills p from the stream, like read but without the extra copy:
// snapshots are mostly vectors and links, which are read straight into the
// graph's own memory.
func (d *hnswDecoder) readInto(p []byte) error {
	if _, err := io.ReadFull(d.r, p); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: truncated at byte %d", ErrCorruptHNSW, d.n)
		}
		return fmt.Errorf("index: read HNSW snapshot: %w", err)
	}
	d.crc = crc32.Update(d.crc, castagnoli, p)
	d.n += int64(len(p))
	return nil
}

// wordBytes views 32-bit words as their bytes in memory order.
func wordBytes[T uint32 | float32](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*4)
}

// fromLittleEndian turns words read as little-endian bytes into native
// words: nothing to do on little-endian machines, a byte swap elsewhere.
func fromLittleEndian(b []byte) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		return
	}
	for i := 0; i+4 <= len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
}

// readWords reads len(dst) little-endian 32-bit words into dst.
func readWords[T uint32 | float32](d *hnswDecoder, dst []T) error {
	b := wordBytes(dst)
	if err := d.readInto(b); err != nil {
		return err
	}
	fromLittleEndian(b)
	return nil
}

// u32s reads count words into a slice of length size (≥ count), zero
// padded.
func (d *hnswDecoder) u32s(count, size int) ([]uint32, error) {
	var out []uint32
	if d.mayAlloc(int64(size) * 4) {
		out = make([]uint32, 0, size)
	}
	for count > 0 {
		k := min(count, hnswChunk/4)
		n := len(out)
		out = append(out, make([]uint32, k)...)
		if err := readWords(d, out[n:]); err != nil {
			return nil, err
		}
		count -= k
	}
	return padU32(out, size), nil
}

func padU32(s []uint32, size int) []uint32 {
	if cap(s) >= size {
		return s[:size]
	}
	out := make([]uint32, size)
	copy(out, s)
	return out
}

// f32s reads count float32s, rejecting non-finite values.
func (d *hnswDecoder) f32s(count int) ([]float32, error) {
	var out []float32
	if d.mayAlloc(int64(count) * 4) {
		out = make([]float32, count)
	}
	for i := 0; i < count; {
		k := min(count-i, hnswChunk/4)
		if len(out) < i+k {
			out = append(out, make([]float32, i+k-len(out))...)
		}
		dst := out[i : i+k]
		if err := readWords(d, dst); err != nil {
			return nil, err
		}
		if err := d.checkFinite(dst); err != nil {
			return nil, err
		}
		i += k
	}
	return out, nil
}

// checkFinite reports a non-finite component among the words just read.
func (d *hnswDecoder) checkFinite(dst []float32) error {
	var bad bool
	for _, x := range dst {
		// Exponent all ones: Inf or NaN.
		bad = bad || math.Float32bits(x)&0x7f800000 == 0x7f800000
	}
	if bad {
		return corruptf("non-finite vector component before byte %d", d.n)
	}
	return nil
}

// vecRows reads a segment of rows float32 vectors straight into the
// graph's memory (newVecSeg, in its arena once it is large), when the
// bytes read so far vouch for the segment's size; f32s otherwise.
func (d *hnswDecoder) vecRows(h *HNSW, rows int) ([]float32, error) {
	count := rows * h.dim
	if !d.mayAlloc(int64(count) * 4) {
		return d.f32s(count)
	}
	seg := h.newVecSeg(rows)
	if err := readWords(d, seg); err != nil {
		return nil, err
	}
	if err := d.checkFinite(seg); err != nil {
		return nil, err
	}
	return seg, nil
}

// linkRows is vecRows for a segment of rows layer-0 link lists (newWordSeg).
// With populate, one call maps the segment in, where the read would take
// a page fault per 4 KiB (as for the vectors, loadOutside).
func (d *hnswDecoder) linkRows(h *HNSW, rows int, populate bool) ([]uint32, error) {
	words := rows * (h.m0 + 1)
	if !d.mayAlloc(int64(words) * 4) {
		return d.u32s(words, words)
	}
	seg := h.newWordSeg(words, hnswSegSize*(h.m0+1))
	if populate {
		prefault(unsafe.Pointer(unsafe.SliceData(seg)), uintptr(len(seg))*4)
	}
	if err := readWords(d, seg); err != nil {
		return nil, err
	}
	return seg, nil
}

func (d *hnswDecoder) bytesN(count int) ([]byte, error) {
	var out []byte
	if d.mayAlloc(int64(count)) {
		out = make([]byte, 0, count)
	}
	for count > 0 {
		k := min(count, hnswChunk)
		b, err := d.read(k)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
		count -= k
	}
	return out, nil
}

// rows8 reads the int8 rows (codes, scale) of slots first..first+rows-1
// into a segment of in-memory rows, checking codes and scales and deriving
// the L2 norm word.
func (d *hnswDecoder) rows8(h *HNSW, first, rows int) ([]int8, error) {
	per := h.dim + 4
	raw, err := d.bytesN(rows * per)
	if err != nil {
		return nil, err
	}
	seg := h.newQ8Seg(rows)
	for i := range rows {
		src := raw[i*per : (i+1)*per]
		row := seg[i*h.rowLen : (i+1)*h.rowLen]
		var norm uint32
		for j, c := range src[:h.dim] {
			if c == 0x80 {
				return nil, corruptf("int8 code -128 in slot %d", first+i)
			}
			row[j] = int8(c)
			norm += uint32(int32(int8(c)) * int32(int8(c)))
		}
		u := binary.LittleEndian.Uint32(src[h.dim:])
		if f := math.Float32frombits(u); !(f >= 0) || math.IsInf(float64(f), 0) {
			return nil, corruptf("int8 slot %d has scale %v", first+i, f)
		}
		binary.LittleEndian.PutUint32(asBytes(row[h.dim:h.dim+4]), u)
		if h.metric == L2 {
			binary.LittleEndian.PutUint32(asBytes(row[h.dim+4:h.dim+8]), norm)
		}
	}
	return seg, nil
}

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorruptHNSW}, args...)...)
}

// ReadHNSW loads a graph written by WriteTo. Options may change run-time
// settings (efSearch, compact threshold, build workers, exact fraction);
// M and efConstruction are those of the snapshot, and options that
// contradict them are an error. Corrupt or truncated input yields an error
// wrapping ErrCorruptHNSW, never a panic.
func ReadHNSW(r io.Reader, opts ...HNSWOption) (*HNSW, error) {
	d := &hnswDecoder{r: r}
	b, err := d.read(len(hnswMagic) + 4)
	if err != nil {
		return nil, err
	}
	if string(b[:len(hnswMagic)]) != hnswMagic {
		return nil, corruptf("bad magic (not an HNSW snapshot)")
	}
	version := binary.LittleEndian.Uint32(b[len(hnswMagic):])
	if version < hnswMinVersion || version > hnswLinksVersion {
		return nil, fmt.Errorf("%w: %d (this build reads %d to %d)", ErrHNSWVersion, version, hnswMinVersion, hnswLinksVersion)
	}
	var hd hnswHeader
	if b, err = d.read(binary.Size(&hd)); err != nil {
		return nil, err
	}
	if _, err := binary.Decode(b, binary.LittleEndian, &hd); err != nil {
		return nil, corruptf("header: %v", err)
	}
	storage := uint32(hnswStorageFloat32)
	if version >= 2 {
		if b, err = d.read(4); err != nil {
			return nil, err
		}
		storage = binary.LittleEndian.Uint32(b)
		switch {
		case storage == hnswStorageOutside && version < hnswLinksVersion,
			storage != hnswStorageFloat32 && storage != hnswStorageInt8 && storage != hnswStorageOutside:
			return nil, corruptf("storage kind %d in a version %d snapshot", storage, version)
		}
	}
	cfg := hnswConfig{m: int(hd.M), efC: int(hd.EfC), efS: int(hd.EfS), seed: hd.Seed,
		compact: hd.Compact, exactFrac: hd.ExactFrac, workers: runtime.GOMAXPROCS(0)}
	if err := cfg.validate(int(hd.Dim), Metric(hd.Metric)); err != nil {
		return nil, corruptf("parameters: %v", err)
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.m != int(hd.M) || cfg.efC != int(hd.EfC) {
		return nil, fmt.Errorf("%w: snapshot has M=%d efConstruction=%d; options asked for M=%d efConstruction=%d",
			ErrHNSWConfig, hd.M, hd.EfC, cfg.m, cfg.efC)
	}
	if cfg.q8 && storage != hnswStorageInt8 {
		return nil, fmt.Errorf("%w: WithInt8 given for a snapshot of float32 vectors", ErrHNSWConfig)
	}
	outside := storage == hnswStorageOutside
	if outside && cfg.loader == nil {
		return nil, ErrNeedVectors
	}
	cfg.q8 = storage == hnswStorageInt8
	if err := cfg.validate(int(hd.Dim), Metric(hd.Metric)); err != nil {
		return nil, err
	}
	// A slot costs far more than 64 bytes, so a count beyond MaxInt/64
	// cannot be real on this machine; on 32-bit builds it would also
	// overflow the int conversions below.
	if uint64(hd.Slots) > uint64(math.MaxInt)/64 {
		return nil, corruptf("%d slots is more than this machine can address", hd.Slots)
	}
	slots := int(hd.Slots)
	if uint64(hd.Slots) > hnswMaxSlots || uint64(hd.Live)+uint64(hd.Tomb)+uint64(hd.Free) != uint64(hd.Slots) {
		return nil, corruptf("slot counts %d live + %d tombstones + %d free != %d slots", hd.Live, hd.Tomb, hd.Free, hd.Slots)
	}
	h := newHNSW(int(hd.Dim), Metric(hd.Metric), cfg)
	if b, err = d.read(4); err != nil {
		return nil, err
	}
	rsLen := binary.LittleEndian.Uint32(b)
	if rsLen > 256 {
		return nil, corruptf("RNG state of %d bytes", rsLen)
	}
	if b, err = d.read(int(rsLen)); err != nil {
		return nil, err
	}
	if err := h.rng.UnmarshalBinary(b); err != nil {
		return nil, corruptf("RNG state: %v", err)
	}

	// IDs.
	if d.mayAlloc(int64(slots) * 8) {
		h.ids = make([]uint64, 0, slots)
	}
	for left := slots; left > 0; {
		k := min(left, hnswChunk/8)
		if b, err = d.read(k * 8); err != nil {
			return nil, err
		}
		for i := 0; i < k; i++ {
			h.ids = append(h.ids, binary.LittleEndian.Uint64(b[i*8:]))
		}
		left -= k
	}
	if h.levels, err = d.bytesN(slots); err != nil {
		return nil, err
	}
	if h.state, err = d.bytesN(slots); err != nil {
		return nil, err
	}
	if h.levels == nil {
		h.levels, h.state = []uint8{}, []uint8{}
	}
	var live, tomb, upperWords int
	// Sized at once: growing a map to 10M entries rehashes it four times
	// past a 1M start. The header's live count is at most the slots, whose
	// IDs were read above, so the map is bounded by the bytes read.
	h.idmap = make(map[uint64]uint32, int(hd.Live))
	for n := range slots {
		lv := int(h.levels[n])
		switch st := h.state[n]; st {
		case slotLive:
			live++
			if _, dup := h.idmap[h.ids[n]]; dup {
				return nil, corruptf("ID %d stored twice", h.ids[n])
			}
			h.idmap[h.ids[n]] = uint32(n)
		case slotDeleted:
			tomb++
		case slotFree:
			if lv != 0 {
				return nil, corruptf("free slot %d has level %d", n, lv)
			}
			h.free = append(h.free, uint32(n))
		default:
			return nil, corruptf("slot %d has state %d", n, st)
		}
		if lv > hnswMaxLevel {
			return nil, corruptf("slot %d has level %d (max %d)", n, lv, hnswMaxLevel)
		}
		upperWords += lv * (h.m + 1)
	}
	if live != int(hd.Live) || tomb != int(hd.Tomb) {
		return nil, corruptf("header counts %d live/%d tombstones, slots hold %d/%d", hd.Live, hd.Tomb, live, tomb)
	}
	h.live, h.tomb = live, tomb
	// Recycle low slots first, as compaction does.
	for i, j := 0, len(h.free)-1; i < j; i, j = i+1, j-1 {
		h.free[i], h.free[j] = h.free[j], h.free[i]
	}

	// Vectors and links are read straight into the graph's segments, most
	// of them in its arena: huge-page advice waits until the graph is
	// loaded (segArena.setDeferAdvice says why).
	h.setArenaDefer(true)
	if outside {
		// Only the tombstones' vectors are here; segments are made as
		// rows arrive, so memory follows the bytes read and the loader's
		// vectors (see loadOutside).
		h.vecSegs = make([][]float32, (slots+hnswSegSize-1)/hnswSegSize)
		for n, st := range h.state {
			if st != slotDeleted {
				continue
			}
			if err := readWords(d, h.outsideRow(uint32(n))); err != nil {
				return nil, err
			}
			if err := checkVector(h.vec(uint32(n)), h.dim); err != nil {
				return nil, corruptf("tombstone %d: %v", n, err)
			}
		}
	}
	for n := 0; n < slots && !outside; n += hnswSegSize {
		rows := min(hnswSegSize, slots-n)
		if h.q8 {
			seg, err := d.rows8(h, n, rows)
			if err != nil {
				return nil, err
			}
			h.q8Segs = append(h.q8Segs, seg)
			continue
		}
		seg, err := d.vecRows(h, rows)
		if err != nil {
			return nil, err
		}
		h.vecSegs = append(h.vecSegs, seg)
	}
	for n := 0; n < slots; n += hnswSegSize {
		seg, err := d.linkRows(h, min(hnswSegSize, slots-n), !cfg.noPrefault)
		if err != nil {
			return nil, err
		}
		h.l0Segs = append(h.l0Segs, seg)
	}
	// Upper layers come from one arena so loading does not allocate per
	// node.
	arena, err := d.u32s(upperWords, upperWords)
	if err != nil {
		return nil, err
	}
	h.upper = make([]([]uint32), slots)
	for n := range slots {
		if w := int(h.levels[n]) * (h.m + 1); w > 0 {
			h.upper[n], arena = arena[:w:w], arena[w:]
		}
	}

	if err := h.validateLinks(); err != nil {
		return nil, err
	}
	// No list is known to be closed under the selection heuristic
	// (listClosed): the snapshot does not say, and checking would cost
	// what the first re-selection of each list costs anyway.
	h.selClosed = make([]uint32, slots)
	// In-link counts are derived, not stored.
	for n := 0; n < slots; n += hnswSegSize {
		h.inSegs = append(h.inSegs, h.newWordSeg(min(hnswSegSize, slots-n), hnswSegSize))
	}
	for n := range slots {
		lst := h.links(uint32(n), 0)
		for _, e := range lst[1 : 1+lst[0]] {
			h.inSegs[e>>hnswSegShift][e&hnswSegMask]++
		}
	}
	h.hasEntry = hd.HasEntry != 0
	switch {
	case hd.HasEntry > 1:
		return nil, corruptf("entry flag %d", hd.HasEntry)
	case h.hasEntry != (live > 0):
		return nil, corruptf("entry flag %d with %d live nodes", hd.HasEntry, live)
	case h.hasEntry && (int(hd.Entry) >= slots || h.state[hd.Entry] != slotLive):
		return nil, corruptf("entry point %d is not a live node", hd.Entry)
	case h.hasEntry && uint32(h.levels[hd.Entry]) != hd.MaxLevel:
		return nil, corruptf("entry point level %d, header says %d", h.levels[hd.Entry], hd.MaxLevel)
	}
	h.entry, h.maxLevel = hd.Entry, int(hd.MaxLevel)
	if !h.hasEntry {
		h.entry, h.maxLevel = 0, 0
	}

	want := d.crc
	if b, err = d.read(4); err != nil {
		return nil, err
	}
	if got := binary.LittleEndian.Uint32(b); got != want {
		return nil, corruptf("checksum %08x, computed %08x", got, want)
	}
	if outside {
		if err := h.loadOutside(cfg.loader, cfg.stale, !cfg.noPrefault); err != nil {
			return nil, err
		}
	}
	h.setArenaDefer(false)
	return h, nil
}

// outsideRow returns slot n's vector memory in a graph being read from a
// links-only snapshot, making its segment (of the rows the graph has, as
// a loaded graph's segments are) on first use.
func (h *HNSW) outsideRow(n uint32) []float32 {
	h.outsideSeg(int(n >> hnswSegShift))
	return h.vec(n)
}

// outsideSeg makes vector segment si of a graph being read from a
// links-only snapshot, if it is not made yet: the one place such a graph
// allocates vector memory.
func (h *HNSW) outsideSeg(si int) {
	if h.vecSegs[si] == nil {
		rows := min(hnswSegSize, len(h.ids)-si<<hnswSegShift)
		h.vecSegs[si] = h.newVecSeg(rows)
	}
}

// setArenaDefer switches the deferred huge-page advice of the graph's
// arena, present or future, on or off (segArena.setDeferAdvice). Only
// ReadHNSW, which owns the graph, calls it.
func (h *HNSW) setArenaDefer(on bool) {
	h.arenaDefer = on
	if h.arena != nil {
		h.arena.setDeferAdvice(on)
	}
}

// ErrMissingVector reports a live node of a links-only snapshot for which
// the loader supplied no vector (wrapped with the node's ID).
var ErrMissingVector = errors.New("index: the vector loader supplied no vector for a live node")

// loadOutside fills the live vectors of a graph read from a links-only
// snapshot through the caller's loader, then checks and prepares them as
// Add would have. With prefaultSegs, each vector segment is mapped in
// (prefault) when the loader first reaches it.
func (h *HNSW) loadOutside(load VectorLoader, stale func(uint64) bool, prefaultSegs bool) error {
	// The loader writes every vector at once: huge-page advice is given
	// after it, not before (segArena.setDeferAdvice says why).
	h.setArenaDefer(true)
	defer h.setArenaDefer(false)
	filled := make([]bool, len(h.ids))
	// Every segment is made before the loader runs, so that its
	// goroutines only write rows.
	for n, st := range h.state {
		if st == slotLive {
			h.outsideRow(uint32(n))
		}
	}
	// The live slots in ID order: a loader that reads its store in ID
	// order (package db's does) finds each slot by stepping through them,
	// where a map lookup per vector cost a cache miss at a million.
	byID := make([]uint32, 0, h.live)
	sorted := true
	for n, st := range h.state {
		if st == slotLive {
			if k := len(byID); k > 0 && h.ids[byID[k-1]] > h.ids[n] {
				sorted = false
			}
			byID = append(byID, uint32(n))
		}
	}
	if !sorted {
		slices.SortFunc(byID, func(a, b uint32) int { return cmp.Compare(h.ids[a], h.ids[b]) })
	}
	// Each row is checked and prepared (prepareLoaded) by the goroutine
	// that loaded it, at its next call of the slot function (the loader
	// has written the row by then) or, for its last row, once the loader
	// returns: the row is still in that core's cache, where a pass of its
	// own over the graph's 1.5 GB at a million vectors read it all again
	// from memory.
	var (
		mu      sync.Mutex
		workers []*loadWorker
	)
	// populated marks the vector segments mapped in ahead of their rows
	// (prefault): one madvise per segment, by whichever goroutine reaches
	// the segment first, where writing it page by page took 384 page
	// faults at 384 dimensions (BENCHMARKS.md, issue 19's open).
	populated := make([]atomic.Bool, len(h.vecSegs))
	newSlot := func() func(uint64) []float32 {
		w := &loadWorker{last: noSlot, seg: -1}
		mu.Lock()
		workers = append(workers, w)
		mu.Unlock()
		next := -1 // position in byID; -1 until the first call
		return func(id uint64) []float32 {
			w.finish(h)
			if next < 0 {
				next = sort.Search(len(byID), func(i int) bool { return h.ids[byID[i]] >= id })
			}
			for next < len(byID) && h.ids[byID[next]] < id {
				next++
			}
			var n uint32
			switch {
			case next < len(byID) && h.ids[byID[next]] == id:
				n = byID[next]
			case next > 0 && h.ids[byID[next-1]] >= id:
				// Out of order: look it up (a map read, safe
				// alongside other goroutines' reads).
				m, ok := h.idmap[id]
				if !ok {
					return nil
				}
				n = m
			default:
				return nil
			}
			if si := int(n >> hnswSegShift); si != w.seg {
				w.seg = si
				if prefaultSegs && !populated[si].Swap(true) {
					seg := h.vecSegs[si]
					prefault(unsafe.Pointer(unsafe.SliceData(seg)), uintptr(len(seg))*4)
				}
			}
			filled[n] = true
			w.last = n
			return h.vec(n)
		}
	}
	err := load(newSlot)
	for _, w := range workers {
		w.finish(h)
	}
	if err != nil {
		return fmt.Errorf("index: loading the snapshot's vectors: %w", err)
	}
	// The error of the lowest slot, whichever goroutine met it.
	var bad *loadWorker
	for _, w := range workers {
		if w.err != nil && (bad == nil || w.errAt < bad.errAt) {
			bad = w
		}
	}
	if bad != nil {
		return bad.err
	}
	var lacking []uint32
	for n, st := range h.state {
		if st == slotLive && !filled[n] {
			if stale == nil || !stale(h.ids[n]) {
				return fmt.Errorf("%w: ID %d", ErrMissingVector, h.ids[n])
			}
			lacking = append(lacking, uint32(n))
		}
	}
	if len(lacking) > 0 {
		// Any node with a vector, for those whose neighbours have none.
		fallback := noSlot
		for m := range h.ids {
			if filled[m] || h.state[m] == slotDeleted {
				fallback = uint32(m)
				break
			}
		}
		for _, n := range lacking {
			h.borrowVector(n, filled, fallback)
		}
	}
	// Segments whose slots are all free were never made; allocSlot
	// recycles free slots into them.
	for si := range h.vecSegs {
		h.outsideSeg(si)
	}
	return nil
}

// loadWorker is one loader goroutine's state in loadOutside: the slot it
// was last given, which it has written by its next call, the vector
// segment of that slot, and the lowest slot whose row failed its
// preparation, with that error.
type loadWorker struct {
	last  uint32
	seg   int
	errAt uint32
	err   error
}

// finish prepares the row last handed out (prepareLoaded), keeping the
// error of the lowest slot that fails, so that the error loadOutside
// reports does not depend on how the loader split its work.
func (w *loadWorker) finish(h *HNSW) {
	n := w.last
	if n == noSlot {
		return
	}
	w.last = noSlot
	if err := h.prepareLoaded(n); err != nil && (w.err == nil || n < w.errAt) {
		w.err, w.errAt = err, n
	}
}

// validateLinks checks every link list of a decoded graph: counts within
// bounds, targets in range, not self, not free, and present on the layer.
func (h *HNSW) validateLinks() error {
	for n := range h.ids {
		for l := 0; l <= int(h.levels[n]); l++ {
			lst := h.links(uint32(n), l)
			cnt := int(lst[0])
			if cnt > len(lst)-1 {
				return corruptf("slot %d layer %d has %d links (max %d)", n, l, cnt, len(lst)-1)
			}
			if h.state[n] == slotFree && cnt != 0 {
				return corruptf("free slot %d has links", n)
			}
			for _, e := range lst[1 : 1+cnt] {
				switch {
				case int(e) >= len(h.ids):
					return corruptf("slot %d layer %d links to %d of %d slots", n, l, e, len(h.ids))
				case int(e) == n:
					return corruptf("slot %d links to itself", n)
				case h.state[e] == slotFree:
					return corruptf("slot %d links to free slot %d", n, e)
				case int(h.levels[e]) < l:
					return corruptf("slot %d layer %d links to %d of level %d", n, l, e, h.levels[e])
				}
			}
			clear(lst[1+cnt:])
		}
	}
	return nil
}

// prepareLoaded checks the vector a loader put in slot n as Add checks
// vectors, and normalizes it under Cosine. A non-finite component makes
// the squared norm (one vectorized dot product) NaN or Inf; so does a norm
// beyond 1.8e19, which checkVector then tells apart (Add takes such a
// vector under Dot and L2, and so does a load).
func (h *HNSW) prepareLoaded(n uint32) error {
	v := h.vec(n)
	if h.metric == Cosine {
		inv, ok := unitScale(v)
		if !ok {
			err := checkVector(v, h.dim)
			if err == nil {
				err = ErrZeroNorm
			}
			return fmt.Errorf("index: the vector loaded for ID %d: %w", h.ids[n], err)
		}
		// A vector stored unit-norm (most are: embedders and callers
		// normalize) often has a scale of exactly 1 in float32, which
		// changes no bit: skipping the multiply then leaves the vector
		// as normalize would, and saves a write pass over each one.
		if inv != 1 {
			for i := range v {
				v[i] *= inv
			}
		}
	} else if sq := float64(dot32(v, v)); math.IsNaN(sq) || math.IsInf(sq, 0) {
		if err := checkVector(v, h.dim); err != nil {
			return fmt.Errorf("index: the vector loaded for ID %d: %w", h.ids[n], err)
		}
	}
	return nil
}

// borrowVector gives live node n, whose vector the loader lacked (see
// WithStaleVectors), the vector of its first neighbour on layer 0 that has
// one (a filled live node or a tombstone), else fallback's (noSlot: none;
// the vector stays zero). The vectors it copies are prepared already. Its
// own neighbours are what it was placed among, so theirs is the best
// stand-in the graph offers.
func (h *HNSW) borrowVector(n uint32, filled []bool, fallback uint32) {
	dst := h.outsideRow(n)
	lst := h.links(n, 0)
	for _, e := range lst[1 : 1+lst[0]] {
		if filled[e] || h.state[e] == slotDeleted {
			copy(dst, h.vec(e))
			filled[n] = true
			return
		}
	}
	if fallback != noSlot {
		copy(dst, h.vec(fallback))
	}
}
