package storage

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/vecbolt/vecbolt/storage/internal/pb"
)

// Envelope layout of every stored record:
//
//	byte 0     envelope version (1)
//	bytes 1-4  CRC-32C (Castagnoli) of the payload, little endian
//	bytes 5-   protobuf payload
const (
	envelopeVersion = 1
	envelopeHeader  = 5
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// seal marshals m and wraps it in an envelope.
func seal(m proto.Message) ([]byte, error) {
	payload, err := marshal(m)
	if err != nil {
		return nil, fmt.Errorf("storage: encode %T: %w", m, err)
	}
	out := make([]byte, envelopeHeader+len(payload))
	out[0] = envelopeVersion
	binary.LittleEndian.PutUint32(out[1:5], crc32.Checksum(payload, castagnoli))
	copy(out[envelopeHeader:], payload)
	return out, nil
}

// openEnvelope checks an envelope and returns its payload (aliasing b).
func openEnvelope(b []byte) ([]byte, error) {
	if b == nil {
		return nil, fmt.Errorf("%w: record missing", ErrCorrupt)
	}
	if len(b) < envelopeHeader {
		return nil, fmt.Errorf("%w: record of %d bytes is shorter than its header", ErrCorrupt, len(b))
	}
	if b[0] != envelopeVersion {
		return nil, fmt.Errorf("%w: unknown record envelope version %d", ErrCorrupt, b[0])
	}
	payload := b[envelopeHeader:]
	if got, want := crc32.Checksum(payload, castagnoli), binary.LittleEndian.Uint32(b[1:5]); got != want {
		return nil, fmt.Errorf("%w: checksum mismatch (stored %08x, computed %08x)", ErrCorrupt, want, got)
	}
	return payload, nil
}

// unseal checks an envelope and decodes its payload into m. It never panics
// on arbitrary input; every failure wraps ErrCorrupt.
func unseal(b []byte, m proto.Message) error {
	payload, err := openEnvelope(b)
	if err != nil {
		return err
	}
	if err := proto.Unmarshal(payload, m); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return nil
}

// DecodeDocument decodes a sealed document record; exported for the
// consistency checker and fuzzing.
func DecodeDocument(b []byte) (*DocumentRecord, error) {
	d := new(DocumentRecord)
	if err := unseal(b, d); err != nil {
		return nil, err
	}
	return d, nil
}

// EncodeDocument seals a document record.
func EncodeDocument(d *DocumentRecord) ([]byte, error) { return seal(d) }

// docFieldVector and docFieldPassages are the field numbers of
// Document.vector and Document.passages in records.proto.
const (
	docFieldVector   = 4
	docFieldPassages = 8
)

// decodePassages returns the passage count of an encoded Document,
// scanning its fields without decoding them; bytes the scan cannot read go
// through proto.Unmarshal, so whenever that accepts them both agree
// (FuzzDecodeVector).
func decodePassages(payload []byte) (uint32, error) {
	var n uint32
	b := payload
	for len(b) > 0 {
		num, typ, k := protowire.ConsumeTag(b)
		if k < 0 || !num.IsValid() || typ == protowire.StartGroupType {
			return slowPassages(payload)
		}
		b = b[k:]
		if num == docFieldPassages && typ == protowire.VarintType {
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return slowPassages(payload)
			}
			n = uint32(v) // proto3: the last value wins, truncated to 32 bits
			b = b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return slowPassages(payload)
		}
		b = b[m:]
	}
	return n, nil
}

func slowPassages(payload []byte) (uint32, error) {
	var d pb.Document
	if err := proto.Unmarshal(payload, &d); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return d.Passages, nil
}

// decodeVector appends the vector of an encoded Document to dst. The
// canonical encoding (one packed field, as marshal writes it) is read in
// place; any other goes through proto.Unmarshal. Whenever the general
// decoder accepts the bytes, both give the same vector (FuzzDecodeVector);
// the fast path does not validate the other fields.
func decodeVector(payload []byte, dst []float32) ([]float32, error) {
	if v, ok := fastVector(payload, dst); ok {
		return v, nil
	}
	var d pb.Document
	if err := proto.Unmarshal(payload, &d); err != nil {
		return dst, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return append(dst, d.Vector...), nil
}

// fastVector handles the canonical encoding; ok is false for anything
// else, including malformed bytes (the general decoder then reports them).
func fastVector(b []byte, dst []float32) ([]float32, bool) {
	var packed []byte
	seen := false
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || !num.IsValid() || typ == protowire.StartGroupType {
			return dst, false
		}
		b = b[n:]
		if num == docFieldVector {
			if typ != protowire.BytesType || seen {
				return dst, false
			}
			v, m := protowire.ConsumeBytes(b)
			if m < 0 || len(v)%4 != 0 {
				return dst, false
			}
			packed, seen = v, true
			b = b[m:]
			continue
		}
		// The ID, text and metadata are skipped unchecked: they passed the
		// checksum, and Get and open validate them when they read them.
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return dst, false
		}
		b = b[m:]
	}
	for i := 0; i+4 <= len(packed); i += 4 {
		dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(packed[i:])))
	}
	return dst, true
}
