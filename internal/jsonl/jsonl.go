// Package jsonl reads and writes vecbolt's JSON Lines document format, one
// document per line:
//
//	{"id": "a1", "text": "...", "metadata": {"year": 2024, "tags": ["x"]}, "vector": [0.1, ...]}
//
// It is the format of `vecbolt import` and `vecbolt export`, and of
// db.Collection's Import and Export, which use this package; it depends on
// no other vecbolt package (db passes its limits in as Limits).
//
// Decoding is strict: a line must be valid UTF-8 holding exactly one JSON
// object (RFC 8259); unknown keys, duplicate keys, nulls, wrong types and
// escapes that encode no character (an unpaired UTF-16 surrogate such as
// \ud800) are errors naming what was wrong. Fields are held to the Limits as
// they are decoded, so an oversized field costs no more than its line, and
// Reader refuses a line longer than Limits.MaxLine without buffering it.
//
// Metadata typing: a value is what its JSON says. Strings, booleans and
// lists of strings map to string, bool and []string; a number written as an
// integer (no '.', no exponent) is an int64 and must fit one; any other
// number is a float64. AppendDocument writes every float64 with a '.' or an
// exponent (2.0, not 2), so decoding what it wrote gives the same types and
// values, bit for bit: ParseLine(AppendDocument(d)) == d.
package jsonl

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits bound what a decoded document may hold; db passes its own.
type Limits struct {
	// ID bounds an ID's bytes, for MaxLine; ParseLine leaves the check to
	// the caller (db's error names the document).
	ID int
	// Text bounds the text's bytes.
	Text int
	// Metadata bounds the metadata's size as db stores it (a lower bound
	// of its protobuf encoding is charged as it is decoded).
	Metadata int
	// Dimension bounds a vector's components.
	Dimension int
}

// MaxLine is the longest line that can hold a document within l: the
// largest document (l.Text of text, l.Metadata of metadata, an ID of l.ID,
// a vector of l.Dimension components) fits in a line even when written in
// JSON's ASCII form, the default of common encoders such as Python's
// json.dumps, where every non-ASCII character is a \uXXXX escape (at most 3
// bytes per byte of UTF-8), and with each vector component written in up to
// 26 bytes (a float32 printed as the float64 it widens to takes up to 23,
// and Python separates list elements with ", "). A longer line cannot hold
// a document within l, so Reader refuses it as it reads. For db's limits it
// is about 25.8 MiB.
func (l Limits) MaxLine() int {
	return 3*(l.Text+l.Metadata+l.ID) + 26*l.Dimension + 64
}

// Document is one decoded line. Metadata values are string, int64, float64,
// bool or []string; Metadata is nil when the line has none (or an empty
// object), Vector nil when it has none.
type Document struct {
	ID       string
	Text     string
	Metadata map[string]any
	Vector   []float32
}

// Fields names the keys a line may have, for error messages.
const Fields = `"id", "text", "metadata" and "vector"`

// ParseNumber applies the integer/float rule to a JSON number literal.
func ParseNumber(s string) (any, error) {
	if !strings.ContainsAny(s, ".eE") {
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("integer %s does not fit in int64 (write it as %s.0 for a float)", s, s)
		}
		return i, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, fmt.Errorf("number %s is out of float64 range", s)
	}
	return f, nil
}

// ParseLine decodes one line. Everything is optional except that a
// document needs text or a vector. The text and vector are held to lim as
// they are decoded; the ID's length is checked against lim.ID when set.
func ParseLine(line []byte, lim Limits) (Document, error) {
	var doc Document
	if !utf8.Valid(line) {
		return doc, fmt.Errorf("line is not valid UTF-8 (first bad byte at %d)", firstInvalidUTF8(line)+1)
	}
	s := jscan{b: line, metaMax: lim.Metadata}
	hasVector := false
	err := s.object("a JSON object", func(key string) error {
		if s.isNull() {
			return fmt.Errorf("%q is null (omit the key instead)", key)
		}
		var err error
		switch key {
		case "id":
			if s.kind() != "a string" {
				return errors.New(`"id" must be a string`)
			}
			if doc.ID, err = s.str(0, ""); err != nil { // the caller checks its length
				return fmt.Errorf(`"id": %w`, err)
			}
		case "text":
			if s.kind() != "a string" {
				return errors.New(`"text" must be a string`)
			}
			if doc.Text, err = s.str(lim.Text, "text"); err != nil {
				return fmt.Errorf(`"text": %w`, err)
			}
		case "metadata":
			if doc.Metadata, err = s.metadata(lim.Metadata); err != nil {
				return fmt.Errorf("metadata: %w", err)
			}
		case "vector":
			if doc.Vector, err = s.vector(lim.Dimension); err != nil {
				return fmt.Errorf("vector: %w", err)
			}
			hasVector = true
		default:
			return fmt.Errorf("unknown key %q (allowed: %s)", key, Fields)
		}
		return nil
	})
	if err == nil {
		err = s.end("object")
	}
	if err != nil {
		return Document{}, err
	}
	if !hasVector && strings.TrimSpace(doc.Text) == "" {
		return doc, errors.New(`document has neither "text" nor "vector"`)
	}
	return doc, nil
}

// ParseValue decodes one metadata value (the JSON of `add --meta
// key:=JSON`) under the same rules and budget as a line's metadata.
func ParseValue(raw []byte, budget int) (any, error) {
	if !utf8.Valid(raw) {
		return nil, fmt.Errorf("value is not valid UTF-8 (first bad byte at %d)", firstInvalidUTF8(raw)+1)
	}
	s := jscan{b: raw, metaMax: budget}
	s.ws()
	v, err := s.metaValue(&budget)
	if err == nil {
		err = s.end("value")
	}
	return v, err
}

// ParseVector decodes a JSON list of at most max numbers into float32s.
func ParseVector(raw []byte, max int) ([]float32, error) {
	s := jscan{b: raw}
	s.ws()
	v, err := s.vector(max)
	if err == nil {
		err = s.end("list")
	}
	return v, err
}

// firstInvalidUTF8 returns the offset of the first byte of b that is not
// part of a valid UTF-8 sequence, or len(b).
func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// metadata decodes a metadata object within budget bytes; an empty one is
// nil.
func (s *jscan) metadata(budget int) (map[string]any, error) {
	md := map[string]any{}
	err := s.object("an object", func(key string) error {
		if key == "" {
			return errors.New("empty key")
		}
		// An entry's record is its key and value plus at least 6 bytes of
		// protobuf framing; see metaValue for the value.
		if budget -= 6 + len(key); budget < 0 {
			return s.errMetaTooBig()
		}
		v, err := s.metaValue(&budget)
		if err != nil {
			return fmt.Errorf("%q: %w", key, err)
		}
		md[key] = v
		return nil
	})
	if err != nil || len(md) == 0 {
		return nil, err
	}
	return md, nil
}

// Reader reads lines of at most max bytes; a longer line is reported (and
// skipped) rather than buffered whole.
type Reader struct {
	r    *bufio.Reader
	max  int
	buf  []byte
	n    int   // lines read so far
	read int64 // bytes consumed
}

// NewReader returns a Reader of lines of at most max bytes (without their
// line ending).
func NewReader(r io.Reader, max int) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// Offset returns the number of bytes consumed so far.
func (lr *Reader) Offset() int64 { return lr.read }

// grow makes room for n more bytes by doubling, capped at the longest line
// it may hold: append's gentler growth for large slices leaves about five
// times a long line's size in discarded buffers for the collector.
func (lr *Reader) grow(n int) {
	need := len(lr.buf) + n
	if need <= cap(lr.buf) {
		return
	}
	b := make([]byte, len(lr.buf), min(max(2*cap(lr.buf), need), lr.max+2))
	copy(b, lr.buf)
	lr.buf = b
}

// Next returns the next line without its line ending (valid until the next
// call), its number from 1, and tooLong if it exceeded max (its content is
// then dropped). It returns io.EOF after the last line; a last line without
// a line ending is a line.
func (lr *Reader) Next() (line []byte, num int, tooLong bool, err error) {
	lr.buf = lr.buf[:0]
	got := false
	for {
		chunk, err := lr.r.ReadSlice('\n')
		lr.read += int64(len(chunk))
		if len(chunk) > 0 {
			got = true
		}
		if !tooLong {
			if len(lr.buf)+len(chunk) > lr.max+2 { // +2: the line ending
				tooLong = true
				lr.buf = lr.buf[:0]
			} else {
				lr.grow(len(chunk))
				lr.buf = append(lr.buf, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			return nil, lr.n + 1, false, err
		}
		if err == io.EOF && !got {
			return nil, lr.n, false, io.EOF
		}
		lr.n++
		if tooLong {
			return nil, lr.n, true, nil
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(lr.buf, []byte("\n")), []byte("\r"))
		if len(line) > lr.max {
			return nil, lr.n, true, nil
		}
		return line, lr.n, false, nil
	}
}
