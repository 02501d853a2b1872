package jsonl

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// jscan is a strict JSON reader over one import line or flag value. It
// exists instead of encoding/json for two reasons: encoding/json turns an
// unpaired UTF-16 escape (\ud800) into U+FFFD without a word, so distinct
// IDs would collide, and decoding a long list into []any costs tens of
// bytes per element (a 16 MiB vector line took 842 MB). jscan decodes each
// value straight into its final type, rejects bad escapes with their
// position, and stops a vector at its limit of components.
//
// It accepts exactly RFC 8259 JSON, minus strings holding an unpaired
// surrogate escape; FuzzImportLine checks it against encoding/json.
// Positions in errors count bytes from 1.
type jscan struct {
	b []byte
	i int
	// metaMax is the metadata budget (Limits.Metadata), for errors.
	metaMax int
}

// errEnd is the error for input that stops inside a value.
var errEnd = errors.New("invalid JSON: unexpected end of line")

func (s *jscan) syntax(format string, args ...any) error {
	if s.i >= len(s.b) {
		return errEnd
	}
	return fmt.Errorf("invalid JSON at byte %d: %s", s.i+1, fmt.Sprintf(format, args...))
}

func (s *jscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *jscan) eof() bool { return s.i >= len(s.b) }

// kind names the value starting at the current byte, for errors.
func (s *jscan) kind() string {
	if s.eof() {
		return "nothing"
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return "a string"
	case c == '{':
		return "an object"
	case c == '[':
		return "a list"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a number"
	}
	return fmt.Sprintf("%q", rune(s.b[s.i]))
}

// expect consumes byte c or fails.
func (s *jscan) expect(c byte, what string) error {
	if s.eof() || s.b[s.i] != c {
		return s.syntax("expected %s, found %s", what, s.found())
	}
	s.i++
	return nil
}

// found describes the current byte for a syntax error.
func (s *jscan) found() string {
	if s.eof() {
		return "the end of the line"
	}
	r, _ := utf8.DecodeRune(s.b[s.i:])
	return fmt.Sprintf("%q", r)
}

// literal consumes true, false or null.
func (s *jscan) literal() (string, error) {
	for _, lit := range []string{"true", "false", "null"} {
		if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
			s.i += len(lit)
			return lit, nil
		}
	}
	return "", s.syntax("invalid literal starting with %s", s.found())
}

// isNull reports (and consumes) a null literal.
func (s *jscan) isNull() bool {
	if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// str decodes a string. limit > 0 refuses a decoded string longer than
// limit bytes (what names it in the error); the check happens before the
// string is copied when it has no escapes, which is the common case.
func (s *jscan) str(limit int, what string) (string, error) {
	if err := s.expect('"', "a string"); err != nil {
		return "", err
	}
	start := s.i
	escaped := false
	j := start
	for ; j < len(s.b); j++ {
		c := s.b[j]
		if c == '"' {
			break
		}
		if c == '\\' {
			escaped = true
			j++ // the escaped byte; \u's digits are checked below
			continue
		}
		if c < 0x20 {
			s.i = j
			return "", s.syntax("control character U+%04X in a string (write it as an escape)", c)
		}
	}
	if j >= len(s.b) {
		s.i = len(s.b)
		return "", errEnd
	}
	raw := s.b[start:j]
	if !escaped {
		if limit > 0 && len(raw) > limit {
			return "", fmt.Errorf("%s of %d bytes exceeds the limit of %d", what, len(raw), limit)
		}
		s.i = j + 1
		return string(raw), nil
	}
	var sb strings.Builder
	grow := len(raw) // decoding never lengthens a string
	if limit > 0 {
		grow = min(grow, limit+utf8.UTFMax)
	}
	sb.Grow(grow)
	for k := 0; k < len(raw); {
		if limit > 0 && sb.Len() > limit {
			return "", fmt.Errorf("%s exceeds the limit of %d bytes", what, limit)
		}
		c := raw[k]
		if c != '\\' {
			n := k + 1
			for n < len(raw) && raw[n] != '\\' && (limit <= 0 || n-k <= limit) {
				n++
			}
			sb.Write(raw[k:n])
			k = n
			continue
		}
		at := start + k // position of the backslash, for errors
		e := raw[k+1]
		k += 2
		switch e {
		case '"', '\\', '/':
			sb.WriteByte(e)
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		case 'u':
			r, ok := hex4(raw[k:])
			if !ok {
				s.i = at
				return "", s.syntax("invalid escape %s (\\u needs four hex digits)", escText(raw[k-2:]))
			}
			k += 4
			switch {
			case utf16.IsSurrogate(r) && r < 0xDC00:
				lo, ok := rune(0), false
				if len(raw)-k >= 6 && raw[k] == '\\' && raw[k+1] == 'u' {
					lo, ok = hex4(raw[k+2:])
				}
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					s.i = at
					return "", fmt.Errorf("invalid escape at byte %d: \\u%04x is a UTF-16 high surrogate not followed by a low surrogate escape (\\udc00-\\udfff); it encodes no character", at+1, r)
				}
				k += 6
				r = utf16.DecodeRune(r, lo)
			case utf16.IsSurrogate(r):
				s.i = at
				return "", fmt.Errorf("invalid escape at byte %d: \\u%04x is a UTF-16 low surrogate without a high surrogate before it; it encodes no character", at+1, r)
			}
			sb.WriteRune(r)
		default:
			s.i = at
			return "", s.syntax("invalid escape %s", escText(raw[k-2:]))
		}
	}
	if limit > 0 && sb.Len() > limit {
		return "", fmt.Errorf("%s of %d bytes exceeds the limit of %d", what, sb.Len(), limit)
	}
	s.i = j + 1
	return sb.String(), nil
}

// escText quotes the start of an escape for an error message.
func escText(b []byte) string {
	n := min(len(b), 6)
	for n > 0 && !utf8.Valid(b[:n]) {
		n--
	}
	return strconv.Quote(string(b[:n]))
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number consumes a number literal (RFC 8259 grammar) and returns it.
func (s *jscan) number() (string, error) {
	b, st := s.b, s.i
	i := st
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		s.i = i
		return "", s.syntax("invalid number: expected a digit, found %s", s.found())
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			s.i = i
			return "", s.syntax("invalid number: expected a digit after '.', found %s", s.found())
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			s.i = i
			return "", s.syntax("invalid number: expected a digit in the exponent, found %s", s.found())
		}
	}
	s.i = i
	return string(b[st:i]), nil
}

// next consumes the ',' or closing byte after an element and reports
// whether another element follows.
func (s *jscan) next(end byte) (bool, error) {
	if s.eof() {
		return false, errEnd
	}
	switch s.b[s.i] {
	case ',':
		s.i++
		return true, nil
	case end:
		s.i++
		return false, nil
	}
	return false, s.syntax("expected ',' or '%c', found %s", end, s.found())
}

// object calls field for each key of an object, with the scanner at the
// key's value; field must consume the value. Duplicate keys are errors.
func (s *jscan) object(what string, field func(key string) error) error {
	s.ws()
	if s.eof() || s.b[s.i] != '{' {
		return fmt.Errorf("expected %s, found %s", what, s.kind())
	}
	s.i++
	s.ws()
	if !s.eof() && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	seen := map[string]bool{}
	for {
		s.ws()
		if s.eof() || s.b[s.i] != '"' {
			return s.syntax("expected a string key, found %s", s.found())
		}
		key, err := s.str(0, "")
		if err != nil {
			return fmt.Errorf("a key: %w", err)
		}
		if seen[key] {
			return fmt.Errorf("key %q appears twice", key)
		}
		seen[key] = true
		s.ws()
		if err := s.expect(':', "':'"); err != nil {
			return err
		}
		s.ws()
		if err := field(key); err != nil {
			return err
		}
		s.ws()
		if more, err := s.next('}'); err != nil || !more {
			return err
		}
	}
}

// errMetaTooBig refuses metadata that db would refuse too, before it is
// all decoded: a 16 MiB list of empty strings would otherwise cost 30 bytes
// of memory per byte of line.
func (s *jscan) errMetaTooBig() error {
	return fmt.Errorf("takes more than %d bytes once stored, the limit", s.metaMax)
}

// metaValue decodes a metadata value by the typing rule at the top of
// jsonl.go. It takes from *budget a lower bound of the value's size in
// db's record (protobuf: at least a tag and a length or a varint byte per
// value and per list element) and fails with errMetaTooBig when the budget
// runs out, so whatever it refuses db would refuse as well.
func (s *jscan) metaValue(budget *int) (any, error) {
	if s.eof() {
		return nil, errEnd
	}
	if *budget -= 2; *budget < 0 {
		return nil, s.errMetaTooBig()
	}
	switch c := s.b[s.i]; {
	case c == '"':
		v, err := s.str(0, "")
		if *budget -= len(v); *budget < 0 {
			return nil, s.errMetaTooBig()
		}
		return v, err
	case c == '-' || (c >= '0' && c <= '9'):
		lit, err := s.number()
		if err != nil {
			return nil, err
		}
		return ParseNumber(lit)
	case c == 't' || c == 'f' || c == 'n':
		lit, err := s.literal()
		if err != nil {
			return nil, err
		}
		if lit == "null" {
			return nil, errors.New("null is not a metadata value (omit the key instead)")
		}
		return lit == "true", nil
	case c == '[':
		s.i++
		out := []string{}
		s.ws()
		if !s.eof() && s.b[s.i] == ']' {
			s.i++
			return out, nil
		}
		for {
			s.ws()
			if s.eof() || s.b[s.i] != '"' {
				if k := s.kind(); k != "nothing" && !strings.HasPrefix(k, `'`) {
					return nil, fmt.Errorf("list element %d is %s; lists may hold only strings", len(out), k)
				}
				return nil, s.syntax("expected a list element, found %s", s.found())
			}
			el, err := s.str(0, "")
			if err != nil {
				return nil, err
			}
			if *budget -= 2 + len(el); *budget < 0 {
				return nil, s.errMetaTooBig()
			}
			out = append(out, el)
			s.ws()
			if more, err := s.next(']'); err != nil || !more {
				return out, err
			}
		}
	case c == '{':
		return nil, errors.New("an object is not a metadata value (use a string, number, boolean or list of strings)")
	}
	return nil, s.syntax("expected a value, found %s", s.found())
}

// vector decodes a list of numbers into float32s, refusing more than max
// components as soon as it sees one too many.
func (s *jscan) vector(max int) ([]float32, error) {
	if s.eof() || s.b[s.i] != '[' {
		return nil, fmt.Errorf("must be a list of numbers, not %s", s.kind())
	}
	s.i++
	s.ws()
	if !s.eof() && s.b[s.i] == ']' {
		return nil, errors.New("is empty")
	}
	var out []float32
	for {
		s.ws()
		if s.eof() {
			return nil, errEnd
		}
		if c := s.b[s.i]; c != '-' && (c < '0' || c > '9') {
			if k := s.kind(); !strings.HasPrefix(k, `'`) {
				return nil, fmt.Errorf("must be a list of numbers: component %d is %s", len(out), k)
			}
			return nil, s.syntax("expected a number, found %s", s.found())
		}
		if len(out) == max {
			return nil, fmt.Errorf("has more than %d components, the most a collection allows", max)
		}
		lit, err := s.number()
		if err != nil {
			return nil, err
		}
		f, err := strconv.ParseFloat(lit, 32)
		if err != nil || math.IsInf(f, 0) {
			return nil, fmt.Errorf("component %d (%s) does not fit in float32", len(out), lit)
		}
		out = append(out, float32(f))
		s.ws()
		if more, err := s.next(']'); err != nil || !more {
			return out, err
		}
	}
}

// end checks that nothing but whitespace follows.
func (s *jscan) end(what string) error {
	s.ws()
	if !s.eof() {
		return fmt.Errorf("trailing data after the JSON %s", what)
	}
	return nil
}
