package db

import (
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/vecbolt/vecbolt/query"
	"github.com/vecbolt/vecbolt/storage"
)

// Field numbers of storage's Document and Value messages (records.proto).
const (
	docFieldID       = 1
	docFieldText     = 2
	docFieldMetadata = 3
	docFieldVector   = 4
	docFieldParentID = 5
	docFieldHeadings = 9
	entryFieldKey    = 1
	entryFieldValue  = 2
	valueFieldString = 1
	valueFieldInt    = 2
	valueFieldFloat  = 3
	valueFieldBool   = 4
	valueFieldList   = 5
	listFieldValues  = 1
)

// errUnusualEncoding sends decodeHead's caller to the general decoder.
var errUnusualEncoding = errors.New("unusual encoding")

// readHead returns a document's ID and metadata from the protobuf encoding
// of a storage Document (a head, or a whole document in a format-1 file).
//
// Opening a collection decodes one head per document, and the general path
// (proto.Unmarshal into generated maps, then a second map for the query
// package) spent most of a large open in map building and allocation.
// decodeHead builds the query form directly from the wire bytes. It accepts
// only the canonical encoding that storage writes (each field once, known
// fields with their declared wire types, fields of a Value in one piece);
// anything else goes through proto.Unmarshal, so the two never disagree on
// what a record means. FuzzDecodeHead checks that.
func readHead(payload []byte) (string, query.Metadata, error) {
	id, md, err := decodeHead(payload)
	if err == nil {
		return id, md, nil
	}
	if !errors.Is(err, errUnusualEncoding) {
		return "", nil, err
	}
	var d storage.DocumentRecord
	if err := proto.Unmarshal(payload, &d); err != nil {
		return "", nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	md, err = metadataFromRecord(d.Metadata)
	if err != nil {
		return "", nil, fmt.Errorf("document %q: %w", d.Id, err)
	}
	return d.Id, md, nil
}

// docStringField reports whether num is one of Document's string fields
// other than the ID, which proto.Unmarshal refuses unless they are valid
// UTF-8. TestDecodeHeadKnowsStringFields keeps it complete: a string field
// added to records.proto and missing here would let the fast path accept
// what the general decoder refuses.
func docStringField(num protowire.Number) bool {
	switch num {
	case docFieldText, docFieldParentID, docFieldHeadings:
		return true
	}
	return false
}

// decodeHead is readHead's fast path. It fails with errUnusualEncoding on
// any encoding it does not handle itself.
func decodeHead(b []byte) (id string, md query.Metadata, err error) {
	seenID := false
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return "", nil, errUnusualEncoding
		}
		b = b[n:]
		switch {
		case num == docFieldID && typ == protowire.BytesType && !seenID:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 || !utf8.Valid(v) {
				return "", nil, errUnusualEncoding
			}
			id, seenID = string(v), true
			b = b[n:]
		case num == docFieldMetadata && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return "", nil, errUnusualEncoding
			}
			if md == nil {
				md = make(query.Metadata)
			}
			if err := decodeEntry(v, md); err != nil {
				return "", nil, err
			}
			b = b[n:]
		case num == docFieldID || num == docFieldMetadata:
			return "", nil, errUnusualEncoding
		case docStringField(num) && typ == protowire.BytesType:
			// Skipped, but checked as proto.Unmarshal checks it: a
			// string must be valid UTF-8.
			v, n := protowire.ConsumeBytes(b)
			if n < 0 || !utf8.Valid(v) {
				return "", nil, errUnusualEncoding
			}
			b = b[n:]
		case num == docFieldVector && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 || len(v)%4 != 0 {
				return "", nil, errUnusualEncoding
			}
			b = b[n:]
		default:
			// Text, vector and fields this build does not know: skipped,
			// as proto.Unmarshal does.
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 || typ == protowire.StartGroupType {
				return "", nil, errUnusualEncoding
			}
			b = b[n:]
		}
	}
	return id, md, nil
}

// decodeEntry decodes one metadata map entry into md.
func decodeEntry(b []byte, md query.Metadata) error {
	var key string
	var val query.Value
	seenKey, seenVal := false, false
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 || typ != protowire.BytesType || (num != entryFieldKey && num != entryFieldValue) {
			return errUnusualEncoding
		}
		v, m := protowire.ConsumeBytes(b[n:])
		if m < 0 {
			return errUnusualEncoding
		}
		b = b[n+m:]
		if num == entryFieldKey {
			if seenKey || !utf8.Valid(v) {
				return errUnusualEncoding
			}
			key, seenKey = string(v), true
			continue
		}
		if seenVal {
			return errUnusualEncoding
		}
		var err error
		if val, err = decodeValue(v); err != nil {
			return err
		}
		seenVal = true
	}
	if !seenVal || val.Kind() == 0 {
		return errUnusualEncoding // the general path names the error
	}
	if _, dup := md[key]; dup {
		return errUnusualEncoding
	}
	md[key] = val
	return nil
}

// decodeValue decodes a Value message holding exactly one of its kinds.
func decodeValue(b []byte) (query.Value, error) {
	num, typ, n := consumeTag(b)
	if n < 0 {
		return query.Value{}, errUnusualEncoding
	}
	b = b[n:]
	var v query.Value
	switch {
	case num == valueFieldString && typ == protowire.BytesType:
		s, m := protowire.ConsumeBytes(b)
		if m < 0 || !utf8.Valid(s) {
			return v, errUnusualEncoding
		}
		v, n = query.String(string(s)), m
	case num == valueFieldInt && typ == protowire.VarintType:
		x, m := protowire.ConsumeVarint(b)
		v, n = query.Int(int64(x)), m
	case num == valueFieldFloat && typ == protowire.Fixed64Type:
		x, m := protowire.ConsumeFixed64(b)
		v, n = query.Float(math.Float64frombits(x)), m
	case num == valueFieldBool && typ == protowire.VarintType:
		x, m := protowire.ConsumeVarint(b)
		v, n = query.Bool(protowire.DecodeBool(x)), m
	case num == valueFieldList && typ == protowire.BytesType:
		l, m := protowire.ConsumeBytes(b)
		if m < 0 {
			return v, errUnusualEncoding
		}
		ss, err := decodeStrings(l)
		if err != nil {
			return v, err
		}
		v, n = query.Strings(ss...), m
	default:
		return v, errUnusualEncoding
	}
	if n < 0 || n != len(b) {
		// Truncated, or more fields follow (a oneof set twice).
		return query.Value{}, errUnusualEncoding
	}
	return v, nil
}

// decodeStrings decodes a StringList message.
func decodeStrings(b []byte) ([]string, error) {
	var ss []string
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 || num != listFieldValues || typ != protowire.BytesType {
			return nil, errUnusualEncoding
		}
		s, m := protowire.ConsumeBytes(b[n:])
		if m < 0 || !utf8.Valid(s) {
			return nil, errUnusualEncoding
		}
		ss = append(ss, string(s))
		b = b[n+m:]
	}
	return ss, nil
}

// consumeTag is protowire.ConsumeTag that also refuses field numbers above
// protobuf's limit, as proto.Unmarshal does.
func consumeTag(b []byte) (protowire.Number, protowire.Type, int) {
	num, typ, n := protowire.ConsumeTag(b)
	if n >= 0 && !num.IsValid() {
		return 0, 0, -1
	}
	return num, typ, n
}
