package storage

import "github.com/vecbolt/vecbolt/storage/internal/pb"

// The protobuf messages live in an internal package so that no program
// outside vecbolt can depend on the generated code; the names package db
// needs are re-exported here as aliases, which keeps values convertible
// without copying.

// IndexParams is the stored configuration of a collection's vector index.
type IndexParams = pb.IndexParams

// ModelIdentity is the stored identity of the embedder whose vectors a
// collection holds.
type ModelIdentity = pb.ModelIdentity

// Value is one stored metadata value; its Kind is one of StringValue,
// IntValue, FloatValue, BoolValue or StringsValue.
type Value = pb.Value

// StringList is a stored metadata value holding a list of strings.
type StringList = pb.StringList

// StringValue is the Kind of a Value holding a string.
type StringValue = pb.Value_StringValue

// IntValue is the Kind of a Value holding an integer.
type IntValue = pb.Value_IntValue

// FloatValue is the Kind of a Value holding a float.
type FloatValue = pb.Value_FloatValue

// BoolValue is the Kind of a Value holding a bool.
type BoolValue = pb.Value_BoolValue

// StringsValue is the Kind of a Value holding a list of strings.
type StringsValue = pb.Value_StringsValue

// The stored types of a metadata field (see FieldType).
const (
	FieldTypeUnspecified = pb.FieldType_FIELD_TYPE_UNSPECIFIED
	FieldTypeString      = pb.FieldType_FIELD_TYPE_STRING
	// FieldTypeNumber covers integers and floats alike.
	FieldTypeNumber = pb.FieldType_FIELD_TYPE_NUMBER
	FieldTypeBool   = pb.FieldType_FIELD_TYPE_BOOL
	// FieldTypeStrings is a list of strings.
	FieldTypeStrings = pb.FieldType_FIELD_TYPE_STRINGS
	// FieldTypeMixed marks a field that documents written before types were
	// recorded hold with several types.
	FieldTypeMixed = pb.FieldType_FIELD_TYPE_MIXED
)

// ChunkParams is the stored chunking configuration of a collection whose
// documents are split into passages (see parents.go).
type ChunkParams = pb.ChunkParams
