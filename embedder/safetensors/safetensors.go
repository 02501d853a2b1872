package safetensors

// This file reads and writes the safetensors format used by Model2Vec and
// sentence-transformers static models. It is written here rather than taken
// from a library because the format is small (an 8-byte little-endian header
// length, a JSON header, raw little-endian data), no pure-Go module on the
// proxy validates it as strictly as a loader of untrusted files should, and
// static models need only a handful of dtypes.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
)

// MaxHeader caps the JSON header of a safetensors file. The
// reference implementation uses the same limit; a larger header is either
// corrupt or an attempt to make the parser allocate without bound.
const MaxHeader = 100 << 20

// ErrInvalid is wrapped by every error that reports a malformed
// safetensors file or a tensor of the wrong dtype or shape.
var ErrInvalid = errors.New("embedder: invalid safetensors")

// Tensor is one named array of a safetensors file. Data holds the raw
// little-endian bytes, row-major, len(Data) == product(Shape) × size of DType.
type Tensor struct {
	Name  string
	DType string
	Shape []int
	Data  []byte
}

// File is a parsed safetensors file. Tensor data aliases the buffer
// it was parsed from.
type File struct {
	// Metadata is the optional free-form "__metadata__" string map.
	Metadata map[string]string
	tensors  map[string]Tensor
	names    []string
}

// dtypeSize gives the element size of every dtype the format defines.
// Unknown dtypes are rejected so a size can always be checked.
var dtypeSize = map[string]int{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8,
}

func stErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

type stHeaderEntry struct {
	DType       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// Parse parses a whole safetensors file held in memory. It checks
// that the header is a JSON object of known dtypes, that every shape times
// its element size equals the tensor's byte range, and that the ranges tile
// the data section exactly (no gaps, no overlaps, nothing past the end),
// as the reference implementation requires.
func Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, stErr("file is %d bytes, shorter than the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b[:8])
	if n > MaxHeader {
		return nil, stErr("header length %d exceeds the limit of %d bytes", n, MaxHeader)
	}
	if n > uint64(len(b)-8) {
		return nil, stErr("header length %d exceeds the %d bytes after the length field", n, len(b)-8)
	}
	header := b[8 : 8+n]
	data := b[8+n:]
	entries, meta, order, err := parseSTHeader(header)
	if err != nil {
		return nil, err
	}
	st := &File{Metadata: meta, tensors: make(map[string]Tensor, len(entries))}
	type span struct {
		name       string
		begin, end int64
	}
	spans := make([]span, 0, len(entries))
	for _, name := range order {
		e := entries[name]
		size, ok := dtypeSize[e.DType]
		if !ok {
			return nil, stErr("tensor %q has unknown dtype %q", name, e.DType)
		}
		if len(e.DataOffsets) != 2 {
			return nil, stErr("tensor %q: data_offsets must have 2 entries, has %d", name, len(e.DataOffsets))
		}
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		if begin < 0 || end < begin || end > int64(len(data)) {
			return nil, stErr("tensor %q: data_offsets [%d, %d] outside the %d-byte data section", name, begin, end, len(data))
		}
		count := int64(1)
		shape := make([]int, len(e.Shape))
		for i, d := range e.Shape {
			if d < 0 {
				return nil, stErr("tensor %q: negative dimension %d", name, d)
			}
			if d != 0 && count > math.MaxInt32*int64(256)/d {
				return nil, stErr("tensor %q: shape %v is too large", name, e.Shape)
			}
			count *= d
			shape[i] = int(d)
		}
		if count*int64(size) != end-begin {
			return nil, stErr("tensor %q: shape %v of %s needs %d bytes, data_offsets give %d", name, e.Shape, e.DType, count*int64(size), end-begin)
		}
		st.tensors[name] = Tensor{Name: name, DType: e.DType, Shape: shape, Data: data[begin:end:end]}
		st.names = append(st.names, name)
		spans = append(spans, span{name, begin, end})
	}
	sort.SliceStable(spans, func(i, j int) bool {
		if spans[i].begin != spans[j].begin {
			return spans[i].begin < spans[j].begin
		}
		return spans[i].end < spans[j].end
	})
	var pos int64
	for _, s := range spans {
		if s.begin < pos {
			return nil, stErr("tensor %q overlaps the previous tensor (starts at %d, previous ends at %d)", s.name, s.begin, pos)
		}
		if s.begin > pos {
			return nil, stErr("gap in the data section before tensor %q (bytes %d to %d unused)", s.name, pos, s.begin)
		}
		pos = s.end
	}
	if pos != int64(len(data)) {
		return nil, stErr("data section is %d bytes but the tensors cover %d", len(data), pos)
	}
	sort.Strings(st.names)
	return st, nil
}

// parseSTHeader decodes the header object key by key so that duplicate
// tensor names (which encoding/json would silently merge) are an error.
func parseSTHeader(h []byte) (map[string]stHeaderEntry, map[string]string, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(h))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, nil, stErr("header is not JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, nil, stErr("header is not a JSON object")
	}
	entries := map[string]stHeaderEntry{}
	var meta map[string]string
	var order []string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, nil, stErr("header is not valid JSON: %v", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, nil, nil, stErr("header key is not a string")
		}
		if seen[key] {
			return nil, nil, nil, stErr("header names %q twice", key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, nil, stErr("header value of %q is not valid JSON: %v", key, err)
		}
		if key == "__metadata__" {
			if err := json.Unmarshal(raw, &meta); err != nil {
				return nil, nil, nil, stErr("__metadata__ must map strings to strings: %v", err)
			}
			continue
		}
		if key == "" {
			// Write refuses an unnamed tensor, so a file that had one
			// would parse but not rewrite (FuzzSafetensors); no model
			// names a tensor "".
			return nil, nil, nil, stErr("a tensor has an empty name")
		}
		var e stHeaderEntry
		d2 := json.NewDecoder(bytes.NewReader(raw))
		d2.DisallowUnknownFields()
		if err := d2.Decode(&e); err != nil {
			return nil, nil, nil, stErr("tensor %q: %v", key, err)
		}
		if e.DType == "" || e.Shape == nil || e.DataOffsets == nil {
			return nil, nil, nil, stErr("tensor %q lacks dtype, shape or data_offsets", key)
		}
		entries[key] = e
		order = append(order, key)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, nil, stErr("header is not valid JSON: %v", err)
	}
	// Anything but trailing spaces after the object is corruption (the
	// writer pads the header with spaces for alignment).
	rest, _ := io.ReadAll(dec.Buffered())
	if len(bytes.TrimRight(rest, " \t\r\n\x00")) != 0 {
		return nil, nil, nil, stErr("trailing data after the header object")
	}
	return entries, meta, order, nil
}

// Names lists the tensors in name order.
func (s *File) Names() []string { return slices.Clone(s.names) }

// Tensor returns the named tensor.
func (s *File) Tensor(name string) (Tensor, bool) {
	t, ok := s.tensors[name]
	return t, ok
}

// Len returns the number of elements.
func (t Tensor) Len() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Float32s converts a floating-point tensor (F32, F16, BF16, F64) to
// float32. Integer tensors are rejected: they need a scale to mean anything.
func (t Tensor) Float32s() ([]float32, error) {
	n := t.Len()
	out := make([]float32, n)
	d := t.Data
	switch t.DType {
	case "F32":
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:]))
		}
	case "F16":
		for i := range out {
			out[i] = f16ToF32(binary.LittleEndian.Uint16(d[2*i:]))
		}
	case "BF16":
		for i := range out {
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(d[2*i:])) << 16)
		}
	case "F64":
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:])))
		}
	default:
		return nil, stErr("tensor %q has dtype %s, want a float type (F32, F16, BF16, F64)", t.Name, t.DType)
	}
	return out, nil
}

// Ints converts an integer tensor to int. Values must fit in int32, which
// is all a token mapping or an index needs.
func (t Tensor) Ints() ([]int, error) {
	n := t.Len()
	out := make([]int, n)
	d := t.Data
	switch t.DType {
	case "I64":
		for i := range out {
			v := int64(binary.LittleEndian.Uint64(d[8*i:]))
			if v < math.MinInt32 || v > math.MaxInt32 {
				return nil, stErr("tensor %q: value %d out of range", t.Name, v)
			}
			out[i] = int(v)
		}
	case "U64":
		for i := range out {
			v := binary.LittleEndian.Uint64(d[8*i:])
			if v > math.MaxInt32 {
				return nil, stErr("tensor %q: value %d out of range", t.Name, v)
			}
			out[i] = int(v)
		}
	case "I32":
		for i := range out {
			out[i] = int(int32(binary.LittleEndian.Uint32(d[4*i:])))
		}
	case "U32":
		for i := range out {
			v := binary.LittleEndian.Uint32(d[4*i:])
			if v > math.MaxInt32 {
				return nil, stErr("tensor %q: value %d out of range", t.Name, v)
			}
			out[i] = int(v)
		}
	case "I16":
		for i := range out {
			out[i] = int(int16(binary.LittleEndian.Uint16(d[2*i:])))
		}
	case "U16":
		for i := range out {
			out[i] = int(binary.LittleEndian.Uint16(d[2*i:]))
		}
	case "I8":
		for i := range out {
			out[i] = int(int8(d[i]))
		}
	case "U8":
		for i := range out {
			out[i] = int(d[i])
		}
	default:
		return nil, stErr("tensor %q has dtype %s, want an integer type", t.Name, t.DType)
	}
	return out, nil
}

// f16ToF32 converts IEEE 754 half precision, subnormals, infinities and NaN
// included.
func f16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0:
		if frac == 0 {
			return math.Float32frombits(sign)
		}
		// Subnormal: value = frac × 2^-24.
		v := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	default:
		return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
	}
}

// F32ToF16 converts to IEEE 754 half precision with round-to-nearest-even,
// saturating to infinity. It is exported for writers of F16 models.
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	frac := b & 0x7fffff
	if exp == 0xff {
		if frac != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		m := frac | 0x800000
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		r := m >> shift
		rem := m & (1<<shift - 1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(e)<<10 | frac>>13
	rem := frac & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++
	}
	return sign | uint16(r)
}

// Write writes tensors in the safetensors layout, in the order
// given, with the header padded by spaces to a multiple of 8 bytes so the
// data section is aligned. It validates each tensor's size against its
// dtype and shape.
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	hdr := make(map[string]any, len(tensors)+1)
	if len(metadata) > 0 {
		hdr["__metadata__"] = metadata
	}
	var off int64
	for _, t := range tensors {
		size, ok := dtypeSize[t.DType]
		if !ok {
			return stErr("tensor %q has unknown dtype %q", t.Name, t.DType)
		}
		if t.Name == "" || t.Name == "__metadata__" {
			return stErr("invalid tensor name %q", t.Name)
		}
		if _, dup := hdr[t.Name]; dup {
			return stErr("tensor %q given twice", t.Name)
		}
		if t.Len()*size != len(t.Data) {
			return stErr("tensor %q: shape %v of %s needs %d bytes, has %d", t.Name, t.Shape, t.DType, t.Len()*size, len(t.Data))
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		hdr[t.Name] = map[string]any{"dtype": t.DType, "shape": shape, "data_offsets": []int64{off, off + int64(len(t.Data))}}
		off += int64(len(t.Data))
	}
	js, err := json.Marshal(hdr)
	if err != nil {
		return fmt.Errorf("embedder: encoding safetensors header: %w", err)
	}
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(js)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return fmt.Errorf("embedder: writing safetensors: %w", err)
	}
	if _, err := w.Write(js); err != nil {
		return fmt.Errorf("embedder: writing safetensors: %w", err)
	}
	for _, t := range tensors {
		if _, err := w.Write(t.Data); err != nil {
			return fmt.Errorf("embedder: writing safetensors: %w", err)
		}
	}
	return nil
}

// F32Tensor builds an F32 tensor from values.
func F32Tensor(name string, shape []int, v []float32) Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return Tensor{Name: name, DType: "F32", Shape: shape, Data: b}
}

// F16Tensor builds an F16 tensor from values (rounded to nearest even).
func F16Tensor(name string, shape []int, v []float32) Tensor {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], F32ToF16(x))
	}
	return Tensor{Name: name, DType: "F16", Shape: shape, Data: b}
}

// I8Tensor builds an I8 tensor from values.
func I8Tensor(name string, shape []int, v []int8) Tensor {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return Tensor{Name: name, DType: "I8", Shape: shape, Data: b}
}
