package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vecbolt/vecbolt/db"
)

// Metadata typing rule, shared by `add --meta` and `import`: a value is
// what its JSON says. Strings, booleans and lists of strings map to the
// same Go types; a number written as an integer (no '.', no exponent) is an
// int64 and must fit one; any other number is a float64. null, objects and
// lists holding anything but strings are errors. `add --meta key=value`
// is always the string "value"; `add --meta key:=JSON` gives a typed value.

// maxLineBytes bounds one JSONL line. It follows from db's limits: the
// largest document db stores (MaxTextBytes of text, MaxMetadataBytes of
// metadata, an ID of MaxIDBytes, a vector of MaxDimension components) fits
// in a line even when written in JSON's ASCII form, the default of common
// encoders such as Python's json.dumps, where every non-ASCII character is
// a \uXXXX escape (at most 3 bytes per byte of UTF-8), and with each
// vector component written in up to 26 bytes (a float32 printed as the
// float64 it widens to takes up to 23, and Python separates list elements
// with ", "). A longer line cannot hold a document db would store, so the
// line reader refuses it as it reads, without buffering it. About
// 25.8 MiB.
const maxLineBytes = 3*(db.MaxTextBytes+db.MaxMetadataBytes+db.MaxIDBytes) + 26*db.MaxDimension + 64

// importBatchBytes is the byte budget of one import transaction: a batch is
// written when it reaches --batch documents or this many bytes of documents
// (see docBytes), whichever comes first. It keeps an import's memory
// bounded whatever --batch says (a batch of 256 texts of 8 MiB would
// otherwise hold 2 GiB of text in one transaction), while staying well
// under db.MaxBatchBytes, which counts the same bytes slightly encoded.
const importBatchBytes = 32 << 20

// docBytes is what a document counts against importBatchBytes: its ID,
// text, metadata keys and values (8 bytes per number or boolean), and its
// vector or the dim-component vector it will be given, 4 bytes per
// component, plus 64 bytes of bookkeeping.
func docBytes(d db.Document, dim int) int {
	n := 64 + len(d.ID) + len(d.Text) + 4*max(len(d.Vector), dim)
	for k, v := range d.Metadata {
		n += len(k) + 8
		switch x := v.(type) {
		case string:
			n += len(x)
		case []string:
			for _, s := range x {
				n += len(s) + 8
			}
		}
	}
	return n
}

// parseNumber applies the integer/float rule to a JSON number literal.
func parseNumber(s string) (any, error) {
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

// metaFlag collects repeated --meta key=value / key:=JSON flags.
type metaFlag struct{ m map[string]any }

func (f *metaFlag) String() string { return "" }

func (f *metaFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("%q is not key=value or key:=JSON", s)
	}
	var val any = v
	if strings.HasSuffix(k, ":") {
		k = strings.TrimSuffix(k, ":")
		var j any
		if err := json.Unmarshal([]byte(v), &j); err != nil {
			return fmt.Errorf("%s: value is not JSON: %v", k, err)
		}
		sc := jscan{b: []byte(v)}
		sc.ws()
		var err error
		budget := db.MaxMetadataBytes
		if val, err = sc.metaValue(&budget); err == nil {
			err = sc.end("value")
		}
		if err != nil {
			return fmt.Errorf("%s: %v", k, err)
		}
	}
	if k == "" {
		return fmt.Errorf("%q has an empty key", s)
	}
	if f.m == nil {
		f.m = map[string]any{}
	}
	if _, dup := f.m[k]; dup {
		return fmt.Errorf("key %q given twice", k)
	}
	f.m[k] = val
	return nil
}

// importFields are the keys an import line may have.
const importFields = `"id", "text", "metadata" and "vector"`

// parseImportLine parses one JSONL line of `vecbolt import`:
//
//	{"id": "a1", "text": "...", "metadata": {"year": 2024}, "vector": [0.1, ...]}
//
// Everything is optional except that a document needs text or a vector.
// It is strict: the line must be valid UTF-8 holding exactly one JSON
// object; unknown keys, duplicate keys, nulls, wrong types and escapes that
// encode no character (an unpaired UTF-16 surrogate such as \ud800) are
// errors. The text and vector are held to db's limits as they are decoded,
// so an oversized field costs no more than its line.
func parseImportLine(line []byte) (db.Document, error) {
	var doc db.Document
	if !utf8.Valid(line) {
		return doc, fmt.Errorf("line is not valid UTF-8 (first bad byte at %d)", firstInvalidUTF8(line)+1)
	}
	s := jscan{b: line}
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
			if doc.ID, err = s.str(0, ""); err != nil { // db checks its length
				return fmt.Errorf(`"id": %w`, err)
			}
		case "text":
			if s.kind() != "a string" {
				return errors.New(`"text" must be a string`)
			}
			if doc.Text, err = s.str(db.MaxTextBytes, "text"); err != nil {
				return fmt.Errorf(`"text": %w`, err)
			}
		case "metadata":
			if doc.Metadata, err = s.metadata(); err != nil {
				return fmt.Errorf("metadata: %w", err)
			}
		case "vector":
			if doc.Vector, err = s.vector(db.MaxDimension); err != nil {
				return fmt.Errorf("vector: %w", err)
			}
			hasVector = true
		default:
			return fmt.Errorf("unknown key %q (allowed: %s)", key, importFields)
		}
		return nil
	})
	if err == nil {
		err = s.end("object")
	}
	if err != nil {
		return db.Document{}, err
	}
	if !hasVector && strings.TrimSpace(doc.Text) == "" {
		return doc, errors.New(`document has neither "text" nor "vector"`)
	}
	return doc, nil
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

// metadata decodes a metadata object; an empty one is nil.
func (s *jscan) metadata() (map[string]any, error) {
	md := map[string]any{}
	budget := db.MaxMetadataBytes
	err := s.object("an object", func(key string) error {
		if key == "" {
			return errors.New("empty key")
		}
		// An entry's record is its key and value plus at least 6 bytes of
		// protobuf framing; see metaValue for the value.
		if budget -= 6 + len(key); budget < 0 {
			return errMetaTooBig
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

// parseVector parses a --vector flag: a JSON list of numbers.
func parseVector(raw []byte) ([]float32, error) {
	s := jscan{b: raw}
	s.ws()
	v, err := s.vector(db.MaxDimension)
	if err == nil {
		err = s.end("list")
	}
	return v, err
}

// lineReader reads lines of at most max bytes; a longer line is reported
// (and skipped) rather than buffered whole.
type lineReader struct {
	r    *bufio.Reader
	max  int
	buf  []byte
	n    int   // lines read so far
	read int64 // bytes consumed
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// grow makes room for n more bytes by doubling, capped at the longest line
// it may hold: append's gentler growth for large slices leaves about five
// times a long line's size in discarded buffers for the collector.
func (lr *lineReader) grow(n int) {
	need := len(lr.buf) + n
	if need <= cap(lr.buf) {
		return
	}
	b := make([]byte, len(lr.buf), min(max(2*cap(lr.buf), need), lr.max+2))
	copy(b, lr.buf)
	lr.buf = b
}

// next returns the next line without its line ending, its number, and
// tooLong if it exceeded max (its content is then dropped). It returns
// io.EOF after the last line.
func (lr *lineReader) next() (line []byte, num int, tooLong bool, err error) {
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
