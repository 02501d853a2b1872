package storage

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"google.golang.org/protobuf/proto"
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
