package query

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns wraps at least one of
// them, so callers can branch with errors.Is.
var (
	// ErrTypeMismatch: a field was compared with a literal of a different
	// kind (int and float count as the same kind here), or an operator was
	// used with a kind it is not defined for (ordering on bool or lists).
	ErrTypeMismatch = errors.New("query: type mismatch")
	// ErrUnsupportedType: ValueOf was given a Go value that has no metadata
	// representation.
	ErrUnsupportedType = errors.New("query: unsupported metadata type")
	// ErrInvalidValue: a value or key that has a representation but is not
	// allowed: NaN or Inf, invalid UTF-8, an empty key, the zero Value.
	ErrInvalidValue = errors.New("query: invalid metadata value")
	// ErrInvalidFilter: a filter built programmatically is malformed (empty
	// field name, nil operand, AND/OR without operands, bad literal, nesting
	// deeper than MaxDepth). Validate reports it; Match returns it too.
	ErrInvalidFilter = errors.New("query: invalid filter")
	// ErrSyntax is wrapped by every *SyntaxError returned by Parse.
	ErrSyntax = errors.New("query: syntax error")
)

// TypeError reports that Match compared a stored value with a literal of an
// incompatible kind. It wraps ErrTypeMismatch.
type TypeError struct {
	Field   string // the metadata field
	Op      string // the operator as written in the text syntax, e.g. ">=" or "CONTAINS"
	Stored  Kind   // kind of the value stored in the document
	Literal Value  // the literal the filter compared it with
}

// Error names the field, both kinds and the literal, and hints at CONTAINS
// when a list field was compared with a single string, the most likely
// mistake.
func (e *TypeError) Error() string {
	msg := fmt.Sprintf("query: type mismatch: field %q holds %s, but the filter compares it (%s) with %s %s",
		e.Field, e.Stored, e.Op, e.Literal.Kind(), e.Literal)
	if e.Stored == KindStrings && e.Literal.Kind() == KindString {
		msg += "; use CONTAINS to test list membership"
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrTypeMismatch) hold.
func (e *TypeError) Unwrap() error { return ErrTypeMismatch }

// SyntaxError is the error Parse returns. Pos is a byte offset into the
// expression (len(expr) for "end of input").
type SyntaxError struct {
	Pos int
	Msg string
}

// Error formats as `query: syntax error at POS: MSG`.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("query: syntax error at %d: %s", e.Pos, e.Msg)
}

// Unwrap makes errors.Is(err, ErrSyntax) hold.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }
