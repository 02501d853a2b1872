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

// maxLineBytes bounds one JSONL line; the longest legal document is 8 MiB
// of text plus metadata and a vector, so 16 MiB leaves room without letting
// a file with no newlines exhaust memory.
const maxLineBytes = 16 << 20

// metaValue converts a JSON value decoded with UseNumber to a metadata value.
func metaValue(v any) (any, error) {
	switch x := v.(type) {
	case string, bool:
		return x, nil
	case json.Number:
		return parseNumber(string(x))
	case []any:
		out := make([]string, len(x))
		for i, el := range x {
			s, ok := el.(string)
			if !ok {
				return nil, fmt.Errorf("list element %d is %s; lists may hold only strings", i, jsonKind(el))
			}
			out[i] = s
		}
		return out, nil
	case nil:
		return nil, errors.New("null is not a metadata value (omit the key instead)")
	default:
		return nil, fmt.Errorf("%s is not a metadata value (use a string, number, boolean or list of strings)", jsonKind(v))
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case []any:
		return "a list"
	case nil:
		return "null"
	default:
		return "an object"
	}
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

// decodeJSONValue decodes exactly one JSON value from b (UseNumber).
func decodeJSONValue(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
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
		j, err := decodeJSONValue([]byte(v))
		if err != nil {
			return fmt.Errorf("%s: value is not JSON: %v", k, err)
		}
		if val, err = metaValue(j); err != nil {
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
// object; unknown keys, duplicate keys, nulls and wrong types are errors.
func parseImportLine(line []byte) (db.Document, error) {
	var doc db.Document
	if !utf8.Valid(line) {
		return doc, errors.New("line is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := expectDelim(dec, '{', "a JSON object"); err != nil {
		return doc, err
	}
	seen := map[string]bool{}
	hasVector := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return doc, jsonErr(err)
		}
		key, _ := tok.(string) // object keys are always strings
		if seen[key] {
			return doc, fmt.Errorf("key %q appears twice", key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return doc, jsonErr(err)
		}
		if string(raw) == "null" {
			return doc, fmt.Errorf("%q is null (omit the key instead)", key)
		}
		switch key {
		case "id":
			if err := json.Unmarshal(raw, &doc.ID); err != nil {
				return doc, fmt.Errorf(`"id" must be a string`)
			}
		case "text":
			if err := json.Unmarshal(raw, &doc.Text); err != nil {
				return doc, fmt.Errorf(`"text" must be a string`)
			}
		case "metadata":
			if doc.Metadata, err = parseMetadataObject(raw); err != nil {
				return doc, fmt.Errorf("metadata: %w", err)
			}
		case "vector":
			if doc.Vector, err = parseVector(raw); err != nil {
				return doc, fmt.Errorf("vector: %w", err)
			}
			hasVector = true
		default:
			return doc, fmt.Errorf("unknown key %q (allowed: %s)", key, importFields)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return doc, jsonErr(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return doc, errors.New("trailing data after the JSON object")
	}
	if !hasVector && strings.TrimSpace(doc.Text) == "" {
		return doc, errors.New(`document has neither "text" nor "vector"`)
	}
	return doc, nil
}

func expectDelim(dec *json.Decoder, want json.Delim, what string) error {
	tok, err := dec.Token()
	if err == io.EOF {
		return fmt.Errorf("expected %s, found nothing", what)
	}
	if err != nil {
		return jsonErr(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %s, found %s", what, describeToken(tok))
	}
	return nil
}

func describeToken(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return "a list"
		}
		return fmt.Sprintf("%q", string(t))
	case nil:
		return "null"
	default:
		return jsonKind(t)
	}
}

func jsonErr(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.New("invalid JSON: unexpected end of line")
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

func parseMetadataObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := expectDelim(dec, '{', "an object"); err != nil {
		return nil, err
	}
	md := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonErr(err)
		}
		key, _ := tok.(string)
		if _, dup := md[key]; dup {
			return nil, fmt.Errorf("key %q appears twice", key)
		}
		if key == "" {
			return nil, errors.New("empty key")
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, jsonErr(err)
		}
		if md[key], err = metaValue(v); err != nil {
			return nil, fmt.Errorf("%q: %w", key, err)
		}
	}
	if len(md) == 0 {
		return nil, nil
	}
	return md, nil
}

func parseVector(raw []byte) ([]float32, error) {
	v, err := decodeJSONValue(raw)
	if err != nil {
		return nil, fmt.Errorf("must be a JSON list of numbers: %v", err)
	}
	xs, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("must be a list of numbers, not %s", jsonKind(v))
	}
	if len(xs) == 0 {
		return nil, errors.New("is empty")
	}
	out := make([]float32, len(xs))
	for i, x := range xs {
		// A json.Number only comes from a number literal here: decoding
		// into it directly would also accept strings such as "2".
		n, ok := x.(json.Number)
		if !ok {
			return nil, fmt.Errorf("must be a list of numbers: component %d is %s", i, jsonKind(x))
		}
		f, err := strconv.ParseFloat(string(n), 32)
		if err != nil || math.IsInf(f, 0) {
			return nil, fmt.Errorf("component %d (%s) does not fit in float32", i, n)
		}
		out[i] = float32(f)
	}
	return out, nil
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
