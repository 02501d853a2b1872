package db

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/vecbolt/vecbolt/query"
	"github.com/vecbolt/vecbolt/storage"
)

func headDocs() []*storage.DocumentRecord {
	str := func(s string) *storage.Value { return &storage.Value{Kind: &storage.StringValue{StringValue: s}} }
	return []*storage.DocumentRecord{
		{},
		{Id: "a"},
		{Id: "plain", Text: "some text", Vector: []float32{1, -2, 3.5}},
		{Id: "all kinds", Text: "héllo", Vector: []float32{0.25}, Metadata: map[string]*storage.Value{
			"s":     str("value"),
			"empty": str(""),
			"i":     {Kind: &storage.IntValue{IntValue: -42}},
			"big":   {Kind: &storage.IntValue{IntValue: math.MaxInt64}},
			"f":     {Kind: &storage.FloatValue{FloatValue: 2.5}},
			"zero":  {Kind: &storage.FloatValue{FloatValue: 0}},
			"t":     {Kind: &storage.BoolValue{BoolValue: true}},
			"false": {Kind: &storage.BoolValue{BoolValue: false}},
			"tags":  {Kind: &storage.StringsValue{StringsValue: &storage.StringList{Values: []string{"x", "", "ü"}}}},
			"none":  {Kind: &storage.StringsValue{StringsValue: &storage.StringList{}}},
			"":      str("empty key"),
		}},
	}
}

// The fast path must take every record storage writes: falling back would
// be correct but would silently lose the speed it exists for.
func TestDecodeHeadCanonical(t *testing.T) {
	for _, d := range headDocs() {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		id, md, err := decodeHead(b)
		if err != nil {
			t.Fatalf("%q: fast path refused a canonical record: %v", d.Id, err)
		}
		want, err := metadataFromRecord(d.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		if id != d.Id || !sameMetadata(md, want) {
			t.Fatalf("%q: got %q %v, want %v", d.Id, id, md, want)
		}
	}
}

func TestReadHeadUnusual(t *testing.T) {
	tag := func(num protowire.Number, typ protowire.Type) []byte { return protowire.AppendTag(nil, num, typ) }
	cat := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	bytesField := func(num protowire.Number, v []byte) []byte {
		return protowire.AppendBytes(tag(num, protowire.BytesType), v)
	}
	intValue := cat(tag(valueFieldInt, protowire.VarintType), protowire.AppendVarint(nil, 7))
	entry := func(key string, val []byte) []byte {
		return bytesField(docFieldMetadata, cat(bytesField(entryFieldKey, []byte(key)), bytesField(entryFieldValue, val)))
	}
	cases := []struct {
		name    string
		b       []byte
		id      string
		md      query.Metadata
		wantErr bool
	}{
		{"ID twice: last wins", cat(bytesField(docFieldID, []byte("a")), bytesField(docFieldID, []byte("b"))), "b", nil, false},
		{"duplicate key: last wins", cat(entry("k", intValue), entry("k", cat(tag(valueFieldBool, protowire.VarintType), protowire.AppendVarint(nil, 1)))),
			"", query.Metadata{"k": query.Bool(true)}, false},
		{"oneof set twice: last wins", entry("k", cat(intValue, bytesField(valueFieldString, []byte("s")))), "", query.Metadata{"k": query.String("s")}, false},
		{"value missing", bytesField(docFieldMetadata, bytesField(entryFieldKey, []byte("k"))), "", nil, true},
		{"ID not UTF-8", bytesField(docFieldID, []byte{0xff}), "", nil, true},
		{"text not UTF-8", bytesField(docFieldText, []byte{0xff}), "", nil, true},
		{"vector of 5 bytes", bytesField(docFieldVector, []byte{1, 2, 3, 4, 5}), "", nil, true},
		{"truncated", bytesField(docFieldID, []byte("abc"))[:3], "", nil, true},
		{"unknown field skipped", cat(tag(99, protowire.VarintType), protowire.AppendVarint(nil, 5), bytesField(docFieldID, []byte("z"))), "z", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, md, err := readHead(tc.b)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if err == nil && (id != tc.id || !sameMetadata(md, tc.md)) {
				t.Fatalf("got %q %v, want %q %v", id, md, tc.id, tc.md)
			}
		})
	}
}

// FuzzDecodeHead checks the fast path against the general decoder: whatever
// it accepts must mean exactly what proto.Unmarshal plus metadataFromRecord
// make of the same bytes, and it must refuse what they refuse.
func FuzzDecodeHead(f *testing.F) {
	for _, d := range headDocs() {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(d)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d storage.DocumentRecord
		refErr := proto.Unmarshal(b, &d)
		var refMD query.Metadata
		if refErr == nil {
			refMD, refErr = metadataFromRecord(d.Metadata)
		}
		id, md, err := decodeHead(b)
		if err != nil && !errors.Is(err, errUnusualEncoding) {
			t.Fatalf("fast path failed with %v, not errUnusualEncoding", err)
		}
		if err == nil {
			if refErr != nil {
				t.Fatalf("fast path accepted what the general decoder refuses (%v)", refErr)
			}
			if id != d.Id || !sameMetadata(md, refMD) {
				t.Fatalf("fast path: %q %v; general: %q %v", id, md, d.Id, refMD)
			}
		}
		// readHead as a whole agrees with the general decoder.
		id, md, err = readHead(b)
		if (err != nil) != (refErr != nil) {
			t.Fatalf("readHead error %v, general decoder %v", err, refErr)
		}
		if err == nil && (id != d.Id || !sameMetadata(md, refMD)) {
			t.Fatalf("readHead: %q %v; general: %q %v", id, md, d.Id, refMD)
		}
	})
}

// sameMetadata compares metadata, treating NaNs with equal bits as equal.
func sameMetadata(a, b query.Metadata) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		vb, ok := b[k]
		if !ok {
			return false
		}
		if va.Kind() == query.KindFloat && vb.Kind() == query.KindFloat {
			if math.Float64bits(va.Float()) != math.Float64bits(vb.Float()) {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(va, vb) {
			return false
		}
	}
	return true
}

// TestDecodeHeadKnowsStringFields fails when records.proto gains a string
// field of Document that the fast path does not check for valid UTF-8
// (docStringField): the fast path would then accept records that
// proto.Unmarshal refuses (FuzzDecodeHead found it for parent_id).
func TestDecodeHeadKnowsStringFields(t *testing.T) {
	fields := (&storage.DocumentRecord{}).ProtoReflect().Descriptor().Fields()
	for i := range fields.Len() {
		f := fields.Get(i)
		if f.Kind() != protoreflect.StringKind || f.Number() == docFieldID {
			continue
		}
		if !docStringField(f.Number()) {
			t.Errorf("Document's string field %s (%d) is not checked by decodeHead's fast path", f.Name(), f.Number())
		}
	}
}
