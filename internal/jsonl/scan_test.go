package jsonl

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

// TestImportLineEscapes: an escape that encodes no character (an unpaired
// UTF-16 surrogate) is an error naming its position wherever it appears,
// since encoding/json would turn it into U+FFFD and make distinct IDs
// collide; valid escapes decode exactly.
func TestImportLineEscapes(t *testing.T) {
	cases := []struct {
		line string
		err  string // substring; "" means valid
		want Document
	}{
		{`{"id":"\ud800","text":"a"}`, `"id": invalid escape at byte 8: \ud800 is a UTF-16 high surrogate not followed by a low surrogate`, Document{}},
		{`{"id":"\udc00","text":"a"}`, `"id": invalid escape at byte 8: \udc00 is a UTF-16 low surrogate without a high surrogate`, Document{}},
		{`{"id":"\ud800\u0041","text":"a"}`, `\ud800 is a UTF-16 high surrogate not followed`, Document{}},
		{`{"id":"\ud800\ud800","text":"a"}`, `\ud800 is a UTF-16 high surrogate not followed`, Document{}},
		{`{"id":"\ud800x","text":"a"}`, `high surrogate`, Document{}},
		{`{"id":"\uDBFF","text":"a"}`, `\udbff is a UTF-16 high surrogate`, Document{}},
		{`{"text":"ok \ud83d then"}`, `"text": invalid escape at byte 13`, Document{}},
		{`{"text":"\ude00\ud83d"}`, `low surrogate`, Document{}},
		{`{"text":"a","metadata":{"\ud800":1}}`, `metadata: a key: invalid escape`, Document{}},
		{`{"text":"a","metadata":{"k":"\udfff"}}`, `metadata: "k": invalid escape`, Document{}},
		{`{"text":"a","metadata":{"k":["x","\ud800"]}}`, `metadata: "k": invalid escape`, Document{}},
		{`{"\ud800":"a"}`, `a key: invalid escape`, Document{}},
		{`{"text":"\x"}`, `invalid escape "\\x"`, Document{}},
		{`{"text":"\u12"}`, `four hex digits`, Document{}},
		{`{"text":"\u12G4"}`, `four hex digits`, Document{}},
		{"{\"text\":\"a\tb\"}", "control character U+0009", Document{}},
		// Valid escapes.
		{`{"id":"\ud83d\ude00","text":"\u00e9\u4e2d\"\\\/\b\f\n\r\t"}`, "", Document{ID: "😀", Text: "é中\"\\/\b\f\n\r\t"}},
		{`{"id":"\uD83D\uDE00","text":"a"}`, "", Document{ID: "😀", Text: "a"}},
		{`{"text":"\\ud800"}`, "", Document{Text: `\ud800`}},
		{`{"text":"\\\ud83d\ude00"}`, "", Document{Text: `\😀`}},
		{`{"text":"a\u0000b"}`, "", Document{Text: "a\x00b"}},
		{`{"text":"a","metadata":{"\u00e9":"\u00e9","l":["\ud83d\ude00"]}}`, "", Document{Text: "a", Metadata: map[string]any{"é": "é", "l": []string{"😀"}}}},
		// Raw bytes that are not UTF-8, anywhere in the line.
		{"{\"id\":\"\xed\xa0\x80\",\"text\":\"a\"}", "not valid UTF-8 (first bad byte at 8)", Document{}},
		{"{\"text\":\"a\",\"metadata\":{\"k\":\"\xff\"}}", "not valid UTF-8", Document{}},
		{"{\"text\":\"a\"}\xc0", "not valid UTF-8", Document{}},
	}
	for _, tc := range cases {
		got, err := ParseLine([]byte(tc.line), testLimits)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want one containing %q", tc.line, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.line, err)
			continue
		}
		if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tc.want) {
			t.Errorf("%s:\n got %#v\nwant %#v", tc.line, got, tc.want)
		}
	}
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestImportLineMemory: parsing a line allocates at most about its own
// size, whatever it holds. A 16 MiB line of vector components took 842 MB
// (encoding/json decoded it into []any); now the vector stops at
// testLimits.Dimension components and a text over testLimits.Text is refused
// before it is copied.
func TestImportLineMemory(t *testing.T) {
	const size = 16 << 20
	zeros := bytes.Repeat([]byte("0,"), size/2)
	cases := []struct {
		name string
		line []byte
		err  string
		max  float64 // bytes allocated per line byte
	}{
		{"long vector", append(append([]byte(`{"vector":[`), zeros...), "0]}"...), "more than 65536 components", 0.1},
		{"long text", []byte(`{"text":"` + strings.Repeat("word ", size/5) + `"}`), "exceeds the limit of 8388608", 0.1},
		{"long escaped text", []byte(`{"text":"` + strings.Repeat(`\u00e9`, testLimits.Text/2+1) + `"}`), "exceeds the limit of 8388608", 0.4},
		{"vector in metadata", append(append([]byte(`{"text":"a","metadata":{"k":[`), zeros...), "0]}}"...), "only strings", 0.1},
		{"long metadata list", []byte(`{"text":"a","metadata":{"k":[` + strings.Repeat(`"",`, size/3) + `""]}}`), "65536 bytes once stored", 0.25},
		{"many metadata keys", manyKeys(size), "65536 bytes once stored", 0.1},
		{"largest text", []byte(`{"text":"` + strings.Repeat("word ", testLimits.Text/5) + `"}`), "", 1.1},
	}
	for _, tc := range cases {
		var err error
		n := allocated(func() { _, err = ParseLine(tc.line, testLimits) })
		if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		}
		per := float64(n) / float64(len(tc.line))
		t.Logf("%-20s %d bytes: %.3f bytes allocated per line byte", tc.name, len(tc.line), per)
		if per > tc.max {
			t.Errorf("%s: %.2f bytes allocated per line byte, want at most %.2f", tc.name, per, tc.max)
		}
	}
}

func manyKeys(size int) []byte {
	b := []byte(`{"text":"a","metadata":{"k":1`)
	for i := 0; len(b) < size; i++ {
		b = fmt.Appendf(b, `,"k%d":1`, i)
	}
	return append(b, "}}"...)
}

// TestLargestDocumentFitsLine: the largest document db stores, written by
// an encoder that escapes every non-ASCII character (Python's json.dumps
// by default), fits in testLimits.MaxLine() and parses.
func TestLargestDocumentFitsLine(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`{"id":"`)
	b.WriteString(strings.Repeat(`\u00e9`, testLimits.ID/2))
	b.WriteString(`","text":"`)
	b.WriteString(strings.Repeat(`\u00e9`, testLimits.Text/2)) // 2 bytes of UTF-8 each
	b.WriteString(`","metadata":{"k":"`)
	b.WriteString(strings.Repeat(`\u00e9`, (testLimits.Metadata-16)/2))
	b.WriteString(`"},"vector":[`)
	for i := range testLimits.Dimension {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("-1.1754943508222875e-38") // float32's smallest normal, as float64 prints it
	}
	b.WriteString("]}")
	if b.Len() > testLimits.MaxLine() {
		t.Fatalf("the largest document takes %d bytes, over the line limit of %d", b.Len(), testLimits.MaxLine())
	}
	d, err := ParseLine(b.Bytes(), testLimits)
	if err != nil || len(d.Text) != testLimits.Text || len(d.ID) != testLimits.ID || len(d.Vector) != testLimits.Dimension {
		t.Fatalf("largest document: %v (text %d bytes, id %d, vector %d)", err, len(d.Text), len(d.ID), len(d.Vector))
	}
	t.Logf("largest document, ASCII-escaped: %d bytes of %d", b.Len(), testLimits.MaxLine())
}

// TestLineReaderBoundsBuffer: a line over the limit is skipped without
// being buffered, and reading goes on with the next line.
func TestLineReaderBoundsBuffer(t *testing.T) {
	const max = 1 << 20
	in := "first\n" + strings.Repeat("x", 10*max) + "\nlast\n"
	lr := NewReader(strings.NewReader(in), max)
	var lines []string
	var long []int
	for {
		line, num, tooLong, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if tooLong {
			long = append(long, num)
			continue
		}
		lines = append(lines, string(line))
	}
	if fmt.Sprint(lines, long) != "[first last] [2]" {
		t.Fatalf("lines %q, too long %v", lines, long)
	}
	if c := cap(lr.buf); c > max+max/2 {
		t.Fatalf("the reader buffered %d bytes for a line limit of %d", c, max)
	}
}
