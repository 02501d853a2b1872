package db

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/vecbolt/vecbolt/index"
	"github.com/vecbolt/vecbolt/query"
	"github.com/vecbolt/vecbolt/storage"
)

// Document is what a collection stores.
type Document struct {
	// ID identifies the document within its collection. Insert generates a
	// random one (a UUID) when it is empty. At most 512 bytes of UTF-8.
	ID string
	// Text is embedded unless Vector is set. Valid UTF-8, at most 8 MiB.
	Text string
	// Metadata holds typed values: string, int64 (and the smaller integer
	// types), float64 (and float32), bool and []string. Filters search it.
	// Each field keeps the type its first value in the collection had
	// (ints and floats are both numbers; see FieldType).
	Metadata map[string]any
	// Vector, when set, is stored as given instead of embedding Text. It
	// must have the collection's dimension, finite components and a norm
	// of at most index.MaxNorm (about 1.15e18, so that every score is a
	// finite float32); under Cosine its squared norm, summed in float32 as
	// the index sums it, must not be zero (components below about 3e-23
	// square to zero), or it has no direction. A model's output is held to
	// the same rules.
	Vector []float32
}

// DocumentError reports which document of a batch was rejected and why.
// It always matches ErrInvalidDocument with errors.Is, and it wraps the
// cause: ErrDuplicateID for an ID that exists or repeats in the batch,
// ErrNoEmbedder, the embedder's own error for a text the model failed on,
// or a description of what was wrong. Writes report their rejected
// documents in a *BatchError, or in WriteResult.Rejected with SkipInvalid.
type DocumentError struct {
	// Index is the document's position in the batch.
	Index int
	// ID is the document's ID (empty if it had none yet).
	ID  string
	Err error
}

func (e *DocumentError) Error() string {
	// The cause usually wraps a sentinel that starts with "vecbolt: "
	// too; one prefix per message reads better.
	cause := strings.TrimPrefix(e.Err.Error(), "vecbolt: ")
	if e.ID == "" {
		return fmt.Sprintf("vecbolt: document %d: %s", e.Index, cause)
	}
	return fmt.Sprintf("vecbolt: document %d (id %q): %s", e.Index, short(e.ID), cause)
}

func (e *DocumentError) Unwrap() error { return e.Err }

// Is makes every DocumentError match ErrInvalidDocument, whatever its cause
// (a duplicate ID or an embedder's error included), so that callers tell a
// rejected document from a failed write with one test.
func (e *DocumentError) Is(target error) bool { return target == ErrInvalidDocument }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidDocument, fmt.Sprintf(format, args...))
}

// prepared is a validated document on its way to the file.
type prepared struct {
	rec   *storage.DocumentRecord
	md    query.Metadata
	embed bool // Text must be embedded into rec.Vector
	newID bool // the ID was generated here
}

// newID returns a random UUID (version 4).
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// prepare validates a batch against a collection's shape. It checks
// everything that does not need the model or the file, so a bad batch is
// rejected before any embedding work. Every document is checked: out[i].rec
// is nil for a rejected document, and bad lists each rejection once, in
// batch order.
func (st *colState) prepare(docs []Document) (out []prepared, bad []*DocumentError) {
	out = make([]prepared, len(docs))
	seen := make(map[string]int, len(docs))
	for i, d := range docs {
		p, err := st.prepareOne(d)
		if err == nil {
			// Only a document that passed its own checks claims its ID, so
			// that a valid document is never rejected as the duplicate of
			// an invalid one.
			if j, dup := seen[p.rec.Id]; dup {
				err = fmt.Errorf("%w: %q also appears at position %d of the batch", ErrDuplicateID, short(p.rec.Id), j)
			} else {
				seen[p.rec.Id] = i
			}
		}
		if err != nil {
			bad = append(bad, &DocumentError{Index: i, ID: d.ID, Err: err})
			continue
		}
		out[i] = p
	}
	// Field types last: only documents that passed their own checks claim
	// a field's type for the rest of the batch.
	if fieldBad := st.checkBatchFields(out); len(fieldBad) > 0 {
		for _, de := range fieldBad {
			out[de.Index] = prepared{}
		}
		bad = append(bad, fieldBad...)
		slices.SortFunc(bad, func(a, b *DocumentError) int { return a.Index - b.Index })
	}
	return out, bad
}

// prepareOne validates one document, generating its ID if it has none.
func (st *colState) prepareOne(d Document) (prepared, error) {
	dim := int(st.cfg.Dimension)
	id := d.ID
	if id == "" {
		id = newID()
	}
	if len(id) > maxIDBytes {
		return prepared{}, invalid("ID of %d bytes exceeds %d", len(id), maxIDBytes)
	}
	if !utf8.ValidString(id) {
		return prepared{}, invalid("ID is not valid UTF-8")
	}
	if len(d.Text) > maxTextBytes {
		return prepared{}, invalid("text of %d bytes exceeds %d", len(d.Text), maxTextBytes)
	}
	if !utf8.ValidString(d.Text) {
		return prepared{}, invalid("text is not valid UTF-8")
	}
	p := prepared{rec: &storage.DocumentRecord{Id: id, Text: d.Text}, newID: d.ID == ""}
	if d.Vector != nil {
		p.rec.Vector = append([]float32(nil), d.Vector...)
		if err := st.checkStored(p.rec.Vector, dim); err != nil {
			return prepared{}, err
		}
	} else {
		if isBlank(d.Text) {
			return prepared{}, invalid("text is empty and no vector is given")
		}
		if st.cfg.Model == nil {
			return prepared{}, invalid("collection %q holds caller-supplied vectors (created WithDimension); the document needs a Vector", st.cfg.Name)
		}
		if st.emb == nil {
			return prepared{}, fmt.Errorf("%w to embed the text: open the database WithEmbedder of %v, or give the document a Vector", ErrNoEmbedder, st.info.Model)
		}
		p.embed = true
	}
	md, rec, err := convertMetadata(d.Metadata)
	if err != nil {
		return prepared{}, err
	}
	if len(rec) > 0 {
		if n := proto.Size(&storage.DocumentRecord{Metadata: rec}); n > maxMetadataBytes {
			return prepared{}, invalid("metadata of %d encoded bytes exceeds %d", n, maxMetadataBytes)
		}
	}
	p.md, p.rec.Metadata = md, rec
	return p, nil
}

func isBlank(s string) bool {
	for _, r := range s {
		if !(r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f' || r == 0x85 || r == 0xA0 || r == 0x3000 || (r >= 0x2000 && r <= 0x200B) || r == 0x2028 || r == 0x2029 || r == 0xFEFF) {
			return false
		}
	}
	return true
}

// checkVector reports whether the index of a collection of dimension dim
// and metric m accepts v, with an error saying what is wrong. It defers to
// index.CheckVector, which is the index's own arithmetic: a float64 norm
// accepts vectors whose float32 norm, the one the index normalizes by,
// underflows to 0 or overflows to +Inf. Restoring a collection checks
// stored vectors with it alone, without checkNewVector's bound, so that
// vectors stored before the bound existed still load.
func checkVector(v []float32, dim int, m Metric) error {
	if len(v) != dim {
		return invalid("vector has dimension %d, collection has %d", len(v), dim)
	}
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return invalid("vector component %d is %v", i, x)
		}
	}
	if err := index.CheckVector(v, dim, m); err != nil {
		// Dimension and finiteness passed, so only the cosine norm is left.
		n := norm(v)
		switch {
		case n == 0:
			return invalid("vector is all zeros, which has no direction for cosine similarity")
		case n < 1:
			return invalid("vector norm %.3g is too small: its square underflows to zero in float32, so it cannot be normalized for cosine similarity", n)
		default:
			return invalid("vector norm %.3g is too large: its square overflows float32, so it cannot be normalized for cosine similarity", n)
		}
	}
	return nil
}

// checkStored validates a vector about to be stored (checkNewVector) and,
// in a collection that stores float16 (WithFloat16), rounds it in place to
// what the file will hold, so that the index holds what a reopened
// collection reads back and Get returns the same vector before and after.
// Rounding can lose a cosine vector's norm (every component below float16's
// smallest, 6e-8) or overflow (above 65,504): both are refused.
func (st *colState) checkStored(v []float32, dim int) error {
	if err := checkNewVector(v, dim, st.metric); err != nil {
		return err
	}
	if st.cfg.GetVectors().GetPrecision() != storage.PrecisionFloat16 {
		return nil
	}
	if i, ok := storage.RoundFloat16(v); !ok {
		return invalid("vector component %d (%v) is beyond float16's range (±65504) of a collection created WithFloat16", i, v[i])
	}
	if err := checkVector(v, dim, st.metric); err != nil {
		return fmt.Errorf("%w (after rounding to float16)", err)
	}
	return nil
}

// checkNewVector validates a vector about to be stored or searched for:
// the index must accept it (checkVector), and its norm must be at most
// index.MaxNorm, so that every score between two vectors that passed is
// finite. Documents, embedder output (on insert and Reembed) and query
// vectors all pass through it.
func checkNewVector(v []float32, dim int, m Metric) error {
	if err := checkVector(v, dim, m); err != nil {
		return err
	}
	if n := norm(v); n > index.MaxNorm {
		return invalid("vector norm %.3g exceeds the limit %.3g (2^60), beyond which scores can overflow float32", n, float64(index.MaxNorm))
	}
	return nil
}

// norm is v's Euclidean norm in float64, which neither overflows nor
// underflows for float32 components.
func norm(v []float32) float64 {
	var n2 float64
	for _, x := range v {
		n2 += float64(x) * float64(x)
	}
	return math.Sqrt(n2)
}

// convertMetadata validates user metadata and returns both its in-memory
// and its stored form.
func convertMetadata(m map[string]any) (query.Metadata, map[string]*storage.Value, error) {
	if len(m) == 0 {
		return nil, nil, nil
	}
	for k := range m {
		// Before FromMap, whose errors would quote an overlong key whole.
		if len(k) > maxMetadataKeyLen {
			return nil, nil, invalid("metadata key %q of %d bytes exceeds %d", short(k), len(k), maxMetadataKeyLen)
		}
	}
	md, err := query.FromMap(m)
	if err != nil {
		return nil, nil, invalid("metadata: %v", err)
	}
	rec := make(map[string]*storage.Value, len(md))
	for k, v := range md {
		if k == "" {
			return nil, nil, invalid("metadata has an empty key")
		}
		if len(k) > maxMetadataKeyLen {
			return nil, nil, invalid("metadata key of %d bytes exceeds %d", len(k), maxMetadataKeyLen)
		}
		if !utf8.ValidString(k) {
			return nil, nil, invalid("metadata key %q is not valid UTF-8", short(k))
		}
		if err := checkMetadataValue(k, v); err != nil {
			return nil, nil, err
		}
		rec[k] = valueToRecord(v)
	}
	return md, rec, nil
}

func checkMetadataValue(k string, v query.Value) error {
	switch v.Kind() {
	case query.KindString:
		if !utf8.ValidString(v.Str()) {
			return invalid("metadata %q: string value is not valid UTF-8", short(k))
		}
	case query.KindStrings:
		for i, s := range v.StringList() {
			if !utf8.ValidString(s) {
				return invalid("metadata %q: list element %d is not valid UTF-8", short(k), i)
			}
		}
	}
	return nil
}

func valueToRecord(v query.Value) *storage.Value {
	switch v.Kind() {
	case query.KindString:
		return &storage.Value{Kind: &storage.StringValue{StringValue: v.Str()}}
	case query.KindInt:
		return &storage.Value{Kind: &storage.IntValue{IntValue: v.Int()}}
	case query.KindFloat:
		return &storage.Value{Kind: &storage.FloatValue{FloatValue: v.Float()}}
	case query.KindBool:
		return &storage.Value{Kind: &storage.BoolValue{BoolValue: v.Bool()}}
	default:
		return &storage.Value{Kind: &storage.StringsValue{StringsValue: &storage.StringList{Values: v.StringList()}}}
	}
}

var errBadValue = errors.New("stored metadata value has no kind")

func valueFromRecord(v *storage.Value) (query.Value, error) {
	switch k := v.GetKind().(type) {
	case *storage.StringValue:
		return query.String(k.StringValue), nil
	case *storage.IntValue:
		return query.Int(k.IntValue), nil
	case *storage.FloatValue:
		return query.Float(k.FloatValue), nil
	case *storage.BoolValue:
		return query.Bool(k.BoolValue), nil
	case *storage.StringsValue:
		return query.Strings(k.StringsValue.GetValues()...), nil
	}
	return query.Value{}, errBadValue
}

// documentFromRecord builds the public form of a stored document.
func documentFromRecord(r *storage.DocumentRecord, fields Field) (Document, error) {
	d := Document{ID: r.Id}
	if fields&FieldText != 0 {
		d.Text = r.Text
	}
	if fields&FieldMetadata != 0 && len(r.Metadata) > 0 {
		md, err := metadataFromRecord(r.Metadata)
		if err != nil {
			return Document{}, fmt.Errorf("%w: document %q: %v", ErrCorrupt, short(r.Id), err)
		}
		d.Metadata = md.ToMap()
	}
	if fields&FieldVector != 0 {
		d.Vector = append([]float32(nil), r.Vector...)
	}
	return d, nil
}
