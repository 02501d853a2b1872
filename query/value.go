package query

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is the type of a metadata value.
type Kind uint8

// The metadata kinds. The zero Kind is invalid so that a zero Value is
// recognisably unset.
const (
	KindString Kind = iota + 1
	KindInt
	KindFloat
	KindBool
	KindStrings
)

// String returns the kind's name as used in error messages: "string",
// "int", "float", "bool" or "strings" ("invalid" for the zero Kind).
func (k Kind) String() string {
	switch k {
	case 0:
		return "invalid"
	case KindString:
		return "string"
	case KindInt:
		return "int"
	case KindFloat:
		return "float"
	case KindBool:
		return "bool"
	case KindStrings:
		return "strings"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// numeric reports whether k is int or float; the two compare with each other.
func (k Kind) numeric() bool { return k == KindInt || k == KindFloat }

// Value is one typed metadata value. Values are immutable: constructors and
// StringList copy slices, so a Value can be shared between goroutines. The
// zero Value is invalid (Kind 0).
type Value struct {
	kind Kind
	s    string   // KindString
	n    int64    // KindInt; KindBool as 0/1
	f    float64  // KindFloat
	ss   []string // KindStrings; never aliased by callers
}

// String returns a string Value. Invalid UTF-8 is accepted here but
// reported by Value.Validate and rejected by ValueOf.
func String(s string) Value { return Value{kind: KindString, s: s} }

// Int returns an int Value.
func Int(i int64) Value { return Value{kind: KindInt, n: i} }

// Float returns a float Value. NaN and ±Inf are accepted here (the
// constructor cannot fail) but reported by Value.Validate and rejected by
// ValueOf and by filter validation.
func Float(f float64) Value { return Value{kind: KindFloat, f: f} }

// Bool returns a bool Value.
func Bool(b bool) Value {
	v := Value{kind: KindBool}
	if b {
		v.n = 1
	}
	return v
}

// Strings returns a list-of-strings Value holding a copy of ss. A nil or
// empty ss gives an empty list, which is a valid value.
func Strings(ss ...string) Value {
	return Value{kind: KindStrings, ss: slices.Clone(ss)}
}

// Kind returns the value's kind; 0 for the zero Value.
func (v Value) Kind() Kind { return v.kind }

// IsValid reports whether v was built by a constructor (is not the zero
// Value). It does not check the content; see Validate.
func (v Value) IsValid() bool { return v.kind >= KindString && v.kind <= KindStrings }

// Validate reports whether v may be stored or used as a literal: it must not
// be the zero Value, floats must be finite and strings valid UTF-8. The
// error wraps ErrInvalidValue.
func (v Value) Validate() error {
	switch v.kind {
	case KindString:
		if !utf8.ValidString(v.s) {
			return fmt.Errorf("%w: string %s is not valid UTF-8", ErrInvalidValue, v)
		}
	case KindInt, KindBool:
	case KindFloat:
		if math.IsNaN(v.f) || math.IsInf(v.f, 0) {
			return fmt.Errorf("%w: float %v is not finite", ErrInvalidValue, v.f)
		}
	case KindStrings:
		for i, s := range v.ss {
			if !utf8.ValidString(s) {
				return fmt.Errorf("%w: element %d of string list is not valid UTF-8", ErrInvalidValue, i)
			}
		}
	default:
		return fmt.Errorf("%w: zero Value (use String, Int, Float, Bool, Strings or ValueOf)", ErrInvalidValue)
	}
	return nil
}

// Interface returns the value as a Go value: string, int64, float64, bool or
// []string (a fresh copy). It returns nil for the zero Value.
func (v Value) Interface() any {
	switch v.kind {
	case KindString:
		return v.s
	case KindInt:
		return v.n
	case KindFloat:
		return v.f
	case KindBool:
		return v.n != 0
	case KindStrings:
		return slices.Clone(v.ss)
	}
	return nil
}

// The accessors below do not convert between kinds: on a value of another
// kind they return the zero value of their result type ("" , 0, false,
// nil). Check Kind first when the kind is not known.

// Str returns the string of a KindString value, "" otherwise. (It is not
// named String because String formats any value as a literal.)
func (v Value) Str() string {
	if v.kind != KindString {
		return ""
	}
	return v.s
}

// Int returns the integer of a KindInt value, 0 otherwise (a float is not
// truncated).
func (v Value) Int() int64 {
	if v.kind != KindInt {
		return 0
	}
	return v.n
}

// Float returns the number of a KindFloat value, 0 otherwise (an int is not
// converted).
func (v Value) Float() float64 {
	if v.kind != KindFloat {
		return 0
	}
	return v.f
}

// Bool returns the boolean of a KindBool value, false otherwise.
func (v Value) Bool() bool { return v.kind == KindBool && v.n != 0 }

// StringList returns a copy of a KindStrings value's list, nil otherwise.
// An empty list gives a non-nil empty slice.
func (v Value) StringList() []string {
	if v.kind != KindStrings {
		return nil
	}
	return append([]string{}, v.ss...)
}

// String formats v as a literal of the text syntax: "en" (double-quoted,
// escaped), 2020, 1.5 (a float always shows a '.' or an exponent so that it
// parses back as a float), true, ["a","b"]. The zero Value prints as
// <invalid>; NaN, Inf and invalid UTF-8 print in a form Parse rejects or
// replaces, since they are not valid literals.
func (v Value) String() string {
	var b strings.Builder
	v.appendLiteral(&b)
	return b.String()
}

func (v Value) appendLiteral(b *strings.Builder) {
	switch v.kind {
	case KindString:
		quoteTo(b, v.s, '"')
	case KindInt:
		b.WriteString(strconv.FormatInt(v.n, 10))
	case KindFloat:
		b.WriteString(formatFloat(v.f))
	case KindBool:
		if v.n != 0 {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case KindStrings:
		b.WriteByte('[')
		for i, s := range v.ss {
			if i > 0 {
				b.WriteByte(',')
			}
			quoteTo(b, s, '"')
		}
		b.WriteByte(']')
	default:
		b.WriteString("<invalid>")
	}
}

// formatFloat gives the shortest decimal that parses back to f, forced to
// look like a float.
func formatFloat(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEnN") { // n/N: NaN and Inf, which are never valid anyway
		s += ".0"
	}
	return s
}

// quoteTo writes s as a quoted literal of the text syntax. Only escapes the
// parser understands are produced; printable runes (including non-ASCII)
// are written as they are. Invalid UTF-8 bytes become \ufffd, which is lossy,
// but such strings are rejected by validation anyway.
func quoteTo(b *strings.Builder, s string, quote byte) {
	b.WriteByte(quote)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < utf8.RuneSelf && r >= 0x20 && r != 0x7f:
			b.WriteByte(byte(r))
		case r >= utf8.RuneSelf && unicode.IsPrint(r):
			b.WriteRune(r)
		case r > 0xFFFF:
			// Non-printable astral rune: escape as a UTF-16 surrogate pair,
			// as JSON does, since \u takes exactly four hex digits.
			r -= 0x10000
			fmt.Fprintf(b, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			fmt.Fprintf(b, `\u%04x`, r)
		}
	}
	b.WriteByte(quote)
}

// Equal reports whether v and o have the same kind and the same content.
// It does not compare across kinds: Int(2) does not equal Float(2) here,
// although the filter operators treat them as equal numbers. Floats compare
// with ==, so 0.0 equals -0.0.
func (v Value) Equal(o Value) bool {
	if v.kind != o.kind {
		return false
	}
	switch v.kind {
	case KindString:
		return v.s == o.s
	case KindInt, KindBool:
		return v.n == o.n
	case KindFloat:
		return v.f == o.f
	case KindStrings:
		return slices.Equal(v.ss, o.ss)
	}
	return true // two zero Values
}

// ValueOf converts a Go value to a Value:
//
//   - string                                  -> KindString
//   - int, int8..int64, uint8..uint32          -> KindInt
//   - uint, uint64, uintptr when ≤ MaxInt64    -> KindInt
//   - float32, float64                         -> KindFloat (NaN and ±Inf rejected)
//   - json.Number                              -> KindInt if written as an integer (must fit int64), KindFloat if it has '.' or an exponent
//   - bool                                     -> KindBool
//   - []string, or []any whose elements are all strings -> KindStrings
//   - Value                                    -> itself, after Validate
//   - named types whose underlying type is one of the above (e.g. type Lang string)
//
// Strings must be valid UTF-8. Anything else is an error wrapping
// ErrUnsupportedType that names the Go type; a representable but forbidden
// value (NaN, out-of-range integer, invalid UTF-8) wraps ErrInvalidValue.
func ValueOf(x any) (Value, error) {
	var v Value
	switch t := x.(type) {
	case Value:
		v = t
	case string:
		v = String(t)
	case int:
		v = Int(int64(t))
	case int8:
		v = Int(int64(t))
	case int16:
		v = Int(int64(t))
	case int32:
		v = Int(int64(t))
	case int64:
		v = Int(t)
	case uint8:
		v = Int(int64(t))
	case uint16:
		v = Int(int64(t))
	case uint32:
		v = Int(int64(t))
	case uint:
		return uintValue(uint64(t))
	case uint64:
		return uintValue(t)
	case uintptr:
		return uintValue(uint64(t))
	case float32:
		v = Float(float64(t))
	case float64:
		v = Float(t)
	case json.Number:
		return numberValue(t)
	case bool:
		v = Bool(t)
	case []string:
		v = Strings(t...)
	case []any:
		ss := make([]string, len(t))
		for i, e := range t {
			s, ok := e.(string)
			if !ok {
				return Value{}, fmt.Errorf("%w: list element %d is %s; lists may hold only strings", ErrUnsupportedType, i, typeName(e))
			}
			ss[i] = s
		}
		v = Value{kind: KindStrings, ss: ss}
	case nil:
		return Value{}, fmt.Errorf("%w: nil", ErrUnsupportedType)
	default:
		var ok bool
		if v, ok = reflectValue(reflect.ValueOf(x)); !ok {
			return Value{}, fmt.Errorf("%w: %s (want string, integer, float, bool or []string)", ErrUnsupportedType, typeName(x))
		}
	}
	if err := v.Validate(); err != nil {
		return Value{}, err
	}
	return v, nil
}

// reflectValue handles named types over the supported basic kinds, so that
// a caller's `type Lang string` works without conversion.
func reflectValue(rv reflect.Value) (Value, bool) {
	switch rv.Kind() {
	case reflect.String:
		return String(rv.String()), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return Int(rv.Int()), true
	case reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return Int(int64(rv.Uint())), true
	case reflect.Uint, reflect.Uint64, reflect.Uintptr:
		if rv.Uint() > math.MaxInt64 {
			return Value{}, false
		}
		return Int(int64(rv.Uint())), true
	case reflect.Float32, reflect.Float64:
		return Float(rv.Float()), true
	case reflect.Bool:
		return Bool(rv.Bool()), true
	case reflect.Slice:
		if rv.Type().Elem().Kind() != reflect.String {
			return Value{}, false
		}
		ss := make([]string, rv.Len())
		for i := range ss {
			ss[i] = rv.Index(i).String()
		}
		return Value{kind: KindStrings, ss: ss}, true
	}
	return Value{}, false
}

func uintValue(u uint64) (Value, error) {
	if u > math.MaxInt64 {
		return Value{}, fmt.Errorf("%w: unsigned integer %d exceeds the int64 range", ErrInvalidValue, u)
	}
	return Int(int64(u)), nil
}

// numberValue decides int versus float from the text, as Parse does: 2020
// is an int, 2020.0 and 2e3 are floats, and an integer beyond int64 is an
// error rather than a silently rounded float.
func numberValue(n json.Number) (Value, error) {
	if strings.ContainsAny(string(n), ".eE") {
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return Value{}, fmt.Errorf("%w: json.Number %q is not a finite float64", ErrInvalidValue, string(n))
		}
		return Float(f), nil
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		return Value{}, fmt.Errorf("%w: json.Number %q is not an int64", ErrInvalidValue, string(n))
	}
	return Int(i), nil
}

func typeName(x any) string {
	if x == nil {
		return "nil"
	}
	return reflect.TypeOf(x).String()
}

// Metadata is a document's metadata: field name to typed value.
type Metadata map[string]Value

// FromMap converts a map of Go values with ValueOf. Keys must be non-empty
// valid UTF-8. On failure the error names the offending key; keys are
// checked in sorted order so the reported key is deterministic.
func FromMap(m map[string]any) (Metadata, error) {
	if m == nil {
		return nil, nil
	}
	md := make(Metadata, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if err := checkKey(k); err != nil {
			return nil, err
		}
		v, err := ValueOf(m[k])
		if err != nil {
			return nil, fmt.Errorf("metadata key %q: %w", k, err)
		}
		md[k] = v
	}
	return md, nil
}

func checkKey(k string) error {
	if k == "" {
		return fmt.Errorf("%w: empty metadata key", ErrInvalidValue)
	}
	if !utf8.ValidString(k) {
		return fmt.Errorf("%w: metadata key %q is not valid UTF-8", ErrInvalidValue, k)
	}
	return nil
}

// Validate checks every key (non-empty, valid UTF-8) and value
// (Value.Validate), in sorted key order. Use it on Metadata built by hand
// rather than by FromMap.
func (m Metadata) Validate() error {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if err := checkKey(k); err != nil {
			return err
		}
		if err := m[k].Validate(); err != nil {
			return fmt.Errorf("metadata key %q: %w", k, err)
		}
	}
	return nil
}

// ToMap converts back to Go values (see Value.Interface); lists are copied.
// A nil Metadata gives a nil map.
func (m Metadata) ToMap() map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v.Interface()
	}
	return out
}

// Clone returns a copy of m. Values are immutable, so a shallow copy is a
// deep one.
func (m Metadata) Clone() Metadata { return maps.Clone(m) }

// MarshalJSON encodes v as a JSON string, number, boolean or array of
// strings. Floats keep a '.' or an exponent (2.0, not 2) so UnmarshalJSON
// restores the kind; the zero Value, NaN and Inf are errors.
func (v Value) MarshalJSON() ([]byte, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	// HTML escaping is left to the caller's encoder (json.Marshal applies
	// it, an Encoder with SetEscapeHTML(false) does not), so it is off here.
	var x any
	switch v.kind {
	case KindString:
		x = v.s
	case KindStrings:
		x = v.ss
		if v.ss == nil {
			x = []string{}
		}
	default:
		// Numbers and bools: the literal syntax is valid JSON for them.
		return []byte(v.String()), nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON decodes a JSON string, number, boolean or array of strings.
// A number without '.' or exponent that fits int64 becomes KindInt,
// otherwise KindFloat, so {"year": 2020} stores an int. null, objects and
// arrays holding non-strings are errors wrapping ErrUnsupportedType.
// Together with MarshalJSON this lets Metadata itself be (un)marshalled.
func (v *Value) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidValue, err)
	}
	nv, err := ValueOf(x)
	if err != nil {
		if x == nil {
			return fmt.Errorf("%w: JSON null", ErrUnsupportedType)
		}
		return err
	}
	*v = nv
	return nil
}

// UnmarshalJSON decodes a JSON object of values (see Value.UnmarshalJSON)
// and, unlike decoding into a plain map, names the offending key in errors
// and rejects empty keys. JSON null leaves m nil.
func (m *Metadata) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("%w: metadata must be a JSON object: %w", ErrInvalidValue, err)
	}
	if raw == nil {
		*m = nil
		return nil
	}
	md := make(Metadata, len(raw))
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		if err := checkKey(k); err != nil {
			return err
		}
		var v Value
		if err := v.UnmarshalJSON(raw[k]); err != nil {
			return fmt.Errorf("metadata key %q: %w", k, err)
		}
		md[k] = v
	}
	*m = md
	return nil
}
