package jsonl

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseLine checks that ParseLine never panics, that what it
// accepts is a storable shape (text or vector, finite vector, metadata of
// the supported types), that an accepted document written back as JSON
// parses to the same ID, text and vector, and that it agrees with
// encoding/json: what it accepts is valid JSON decoding to the same ID and
// text, with no U+FFFD that the line did not spell (encoding/json makes
// one of an unpaired surrogate escape; ParseLine refuses those).
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","text":"hello","metadata":{"n":1,"f":1.5,"b":true,"s":"x","l":["a","b"]}}`,
		`{"vector":[1,2,3]}`,
		`{"text":"t","vector":[1e38,-1e-45]}`,
		`{"text":"a","metadata":{"k":9223372036854775807}}`,
		`{"text":"a","metadata":{"k":9223372036854775808}}`,
		`{"text":"\u00e9\ud83d\ude00"}`,
		`{"text":"a"} x`,
		`{"text":"a","text":"b"}`,
		`[1]`,
		`{`,
		"",
		"\xff",
		`{"id":"\ud800","text":"a"}`,
		`{"id":"\udc00","text":"a"}`,
		`{"id":"\ud800\u0041","text":"a"}`,
		`{"id":"\ud83d\ude00","text":"\\ud800"}`,
		`{"text":"a","metadata":{"\udbff\udfff":["\ud800"]}}`,
		`{"text":"\ufffd\uFFFD\u0000"}`,
		`{"text":"a\u00"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		doc, err := ParseLine(line, testLimits)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if !utf8.Valid(line) {
			t.Fatal("accepted invalid UTF-8")
		}
		if !json.Valid(line) {
			t.Fatalf("accepted %q, which is not JSON", line)
		}
		var ref struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(line, &ref); err != nil || ref.ID != doc.ID || ref.Text != doc.Text {
			t.Fatalf("encoding/json decodes %q to %q %q (%v), ParseLine to %q %q", line, ref.ID, ref.Text, err, doc.ID, doc.Text)
		}
		spelled := bytes.Count(line, []byte("\ufffd")) + bytes.Count(bytes.ToLower(line), []byte(`\ufffd`))
		if n := strings.Count(doc.ID+doc.Text, "\ufffd"); n > spelled {
			t.Fatalf("%q decodes to %d U+FFFD, but spells only %d", line, n, spelled)
		}
		if strings.TrimSpace(doc.Text) == "" && len(doc.Vector) == 0 {
			t.Fatal("accepted a document with neither text nor vector")
		}
		for _, x := range doc.Vector {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("accepted vector component %v", x)
			}
		}
		for k, v := range doc.Metadata {
			if k == "" {
				t.Fatal("accepted an empty metadata key")
			}
			switch x := v.(type) {
			case string, int64, bool, []string:
			case float64:
				if math.IsNaN(x) || math.IsInf(x, 0) {
					t.Fatalf("accepted metadata %q = %v", k, x)
				}
			default:
				t.Fatalf("metadata %q has type %T", k, v)
			}
		}
		// AppendDocument writes it back to the same document, types and
		// bits included (what Export and Import rely on).
		out, err := AppendDocument(nil, doc, true)
		if err != nil {
			t.Fatalf("AppendDocument(%#v): %v", doc, err)
		}
		back, err := ParseLine(bytes.TrimSuffix(out, []byte("\n")), testLimits)
		if err != nil {
			t.Fatalf("AppendDocument wrote %s, which does not parse: %v", out, err)
		}
		if !sameDocument(back, doc) {
			t.Fatalf("AppendDocument round trip: %#v → %s → %#v", doc, out, back)
		}
		if again, _ := AppendDocument(nil, back, true); !bytes.Equal(again, out) {
			t.Fatalf("AppendDocument is not stable: %s then %s", out, again)
		}
		// Round trip.
		m := map[string]any{"text": doc.Text}
		if doc.ID != "" {
			m["id"] = doc.ID
		}
		if doc.Vector != nil {
			m["vector"] = doc.Vector
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseLine(b, testLimits)
		if err != nil {
			t.Fatalf("re-encoded %s does not parse: %v", b, err)
		}
		if again.ID != doc.ID || again.Text != doc.Text || len(again.Vector) != len(doc.Vector) {
			t.Fatalf("round trip changed the document: %#v → %#v", doc, again)
		}
		for i := range doc.Vector {
			if again.Vector[i] != doc.Vector[i] {
				t.Fatalf("round trip changed component %d: %v → %v", i, doc.Vector[i], again.Vector[i])
			}
		}
	})
}
