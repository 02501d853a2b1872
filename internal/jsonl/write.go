package jsonl

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// AppendDocument appends d to dst as one line (with its '\n'), in the form
// ParseLine reads back to the same document: keys "id" and "text" always,
// "metadata" when d has some (keys sorted, so that the output depends on
// the document only), and "vector" when vector is true and d has one.
// Every rune that is not printable (controls, format characters such as
// bidirectional overrides, separators other than the space) is written as
// a \u escape, so a line is safe to show on a terminal and survives tools
// that split on U+2028. It fails on a metadata value of a type other than
// those ParseLine returns, on a non-finite float and on invalid UTF-8,
// none of which ParseLine could return.
func AppendDocument(dst []byte, d Document, vector bool) ([]byte, error) {
	start := len(dst)
	fail := func(err error) ([]byte, error) { return dst[:start], err }
	var err error
	dst = append(dst, `{"id":`...)
	if dst, err = appendString(dst, d.ID); err != nil {
		return fail(fmt.Errorf("id: %w", err))
	}
	dst = append(dst, `,"text":`...)
	if dst, err = appendString(dst, d.Text); err != nil {
		return fail(fmt.Errorf("text: %w", err))
	}
	if len(d.Metadata) > 0 {
		dst = append(dst, `,"metadata":{`...)
		keys := make([]string, 0, len(d.Metadata))
		for k := range d.Metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendString(dst, k); err != nil {
				return fail(fmt.Errorf("metadata key: %w", err))
			}
			dst = append(dst, ':')
			if dst, err = appendValue(dst, d.Metadata[k]); err != nil {
				return fail(fmt.Errorf("metadata %q: %w", k, err))
			}
		}
		dst = append(dst, '}')
	}
	if vector && len(d.Vector) > 0 {
		dst = append(dst, `,"vector":[`...)
		for i, x := range d.Vector {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fail(fmt.Errorf("vector component %d is %v", i, x))
			}
			if i > 0 {
				dst = append(dst, ',')
			}
			// The shortest form that parses back to the same float32.
			dst = strconv.AppendFloat(dst, float64(x), 'g', -1, 32)
		}
		dst = append(dst, ']')
	}
	return append(dst, "}\n"...), nil
}

func appendValue(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return appendString(dst, x)
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case float64:
		return appendFloat(dst, x)
	case bool:
		return strconv.AppendBool(dst, x), nil
	case []string:
		dst = append(dst, '[')
		for i, s := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendString(dst, s); err != nil {
				return dst, fmt.Errorf("list element %d: %w", i, err)
			}
		}
		return append(dst, ']'), nil
	}
	return dst, fmt.Errorf("value of type %T (want string, int64, float64, bool or []string)", v)
}

// appendFloat writes f so that ParseNumber reads back a float64 of the same
// bits: the shortest decimal that round-trips, always with a '.' or an
// exponent (an integral 2 is "2.0", or ParseNumber would make it an int64),
// and -0 as "-0.0".
func appendFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, fmt.Errorf("float %v is not finite", f)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e' // as encoding/json chooses, so numbers stay short
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	for _, c := range dst[start:] {
		if c == '.' || c == 'e' {
			return dst, nil
		}
	}
	return append(dst, ".0"...), nil
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string, escaping '"', '\\' and every rune
// strconv.IsPrint rejects.
func appendString(dst []byte, s string) ([]byte, error) {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c < 0x20 || c == 0x7f:
				dst = appendU(dst, rune(c))
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return dst, fmt.Errorf("invalid UTF-8 at byte %d", i)
		}
		if strconv.IsPrint(r) {
			dst = append(dst, s[i:i+n]...)
		} else if r > 0xffff {
			r1, r2 := surrogates(r)
			dst = appendU(appendU(dst, r1), r2)
		} else {
			dst = appendU(dst, r)
		}
		i += n
	}
	return append(dst, '"'), nil
}

func appendU(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&15], hexDigits[r>>8&15], hexDigits[r>>4&15], hexDigits[r&15])
}

// surrogates splits a rune beyond the BMP into its UTF-16 pair.
func surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}
