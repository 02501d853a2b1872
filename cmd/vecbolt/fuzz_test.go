package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzImportLine checks that parseImportLine never panics, that what it
// accepts is a storable shape (text or vector, finite vector, metadata of
// the supported types), that an accepted document written back as JSON
// parses to the same ID, text and vector, and that it agrees with
// encoding/json: what it accepts is valid JSON decoding to the same ID and
// text, with no U+FFFD that the line did not spell (encoding/json makes
// one of an unpaired surrogate escape; parseImportLine refuses those).
func FuzzImportLine(f *testing.F) {
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
		doc, err := parseImportLine(line)
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
			t.Fatalf("encoding/json decodes %q to %q %q (%v), parseImportLine to %q %q", line, ref.ID, ref.Text, err, doc.ID, doc.Text)
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
		again, err := parseImportLine(b)
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

// FuzzArgs runs whole command lines: whatever the arguments, run returns an
// exit status in {0, 1, 2} without panicking, and a failure says why on
// stderr. Arguments are separated by NUL bytes in the fuzz input; the
// working directory is a fresh temporary one and arguments may not name
// other directories, so fuzzed paths cannot touch anything outside it.
func FuzzArgs(f *testing.F) {
	for _, s := range []string{
		"add\x00--db\x00x.db\x00--collection\x00c\x00--meta\x00a:=1\x00hello world",
		"add\x00--db\x00x.db\x00--collection\x00c\x00--dim\x002\x00--vector\x00[1,2]\x00t",
		"search\x00--db\x00x.db\x00--collection\x00c\x00--where\x00a >= 1\x00--json\x00hello",
		"search\x00--db=x.db\x00--collection=c\x00--k=-1\x00q",
		"import\x00--db\x00x.db\x00--collection\x00c\x00--skip-bad\x00-",
		"get\x00--db\x00x.db\x00--collection\x00c\x00--json\x00a\x00b",
		"delete\x00--db\x00x.db\x00--collection\x00c\x00a",
		"stats\x00--db\x00x.db\x00--json",
		"collections\x00--db\x00x.db",
		"check\x00--db\x00x.db",
		"backup\x00--db\x00x.db\x00out.db",
		"reembed\x00--db\x00x.db\x00--collection\x00c",
		"tokenize\x00--json\x00hello",
		"help\x00search",
		"search\x00-h",
		"add\x00--\x00--db",
		"--lock-timeout\x00",
		"",
	} {
		f.Add(s, `{"text":"hello"}`+"\n"+`{"bad"`)
	}
	f.Fuzz(func(t *testing.T, argv, stdin string) {
		args := strings.Split(argv, "\x00")
		if argv == "" {
			args = nil
		}
		if len(args) > 32 {
			return
		}
		for _, a := range args {
			// Paths must stay inside the temporary directory; the demo is
			// too slow for fuzzing; a registered model name would be
			// downloaded.
			if strings.ContainsAny(a, "/\\") || strings.Contains(a, "..") || a == "demo" || strings.Contains(a, "model") {
				return
			}
		}
		t.Chdir(t.TempDir())
		var so, se bytes.Buffer
		code := run(context.Background(), args, strings.NewReader(stdin), &so, &se, withEmbedder(testModel()), withTerminal(false))
		switch code {
		case exitOK:
		case exitRuntime, exitUsage:
			if !strings.HasPrefix(se.String(), "vecbolt: ") {
				t.Fatalf("exit %d with stderr %q", code, se.String())
			}
		default:
			t.Fatalf("exit status %d", code)
		}
	})
}
