package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jl "github.com/vecbolt/vecbolt/internal/jsonl"

	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/embedder"
)

// out is the result of one run.
type out struct {
	code           int
	stdout, stderr string
}

// testModel is the default model of CLI tests.
func testModel() *wordEmbedder { return newWordEmbedder("test-words", 64) }

// vb runs the CLI in-process with the test model and no terminal.
func vb(t testing.TB, stdin string, args ...string) out {
	t.Helper()
	return vbOpts(t, stdin, []option{withEmbedder(testModel()), withTerminal(false)}, args...)
}

func vbOpts(t testing.TB, stdin string, opts []option, args ...string) out {
	t.Helper()
	var so, se bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &so, &se, opts...)
	o := out{code, so.String(), se.String()}
	checkStderr(t, args, o)
	return o
}

// checkStderr enforces the error conventions: success prints nothing on
// stderr unless it reports skipped lines; a runtime error prints one line
// starting with "vecbolt: "; a usage error adds a usage hint.
func checkStderr(t testing.TB, args []string, o out) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(o.stderr, "\n"), "\n")
	switch o.code {
	case exitOK:
	case exitRuntime:
		last := lines[len(lines)-1]
		if !strings.HasPrefix(last, "vecbolt: ") || strings.HasPrefix(last, "vecbolt: vecbolt:") {
			t.Errorf("%q: runtime error line %q lacks a single vecbolt: prefix", args, last)
		}
	case exitUsage:
		if !strings.HasPrefix(o.stderr, "vecbolt: ") {
			t.Errorf("%q: usage error %q lacks the vecbolt: prefix", args, o.stderr)
		}
	default:
		t.Errorf("%q: exit status %d", args, o.code)
	}
}

func tempDB(t testing.TB) string { return filepath.Join(t.TempDir(), "test.vecbolt") }

func TestUsage(t *testing.T) {
	dbp := tempDB(t)
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{"no args", nil, 2, "", "no command given"},
		{"unknown command", []string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{"help", []string{"help"}, 0, "Commands:", ""},
		{"help add", []string{"help", "add"}, 0, "key:=JSON", ""},
		{"help unknown", []string{"help", "nope"}, 2, "", "unknown command"},
		{"help two", []string{"help", "a", "b"}, 2, "", "at most one"},
		{"--help", []string{"--help"}, 0, "Commands:", ""},
		{"add -h", []string{"add", "-h"}, 0, "usage: vecbolt add", ""},
		{"search --help", []string{"search", "--help"}, 0, "--where", ""},
		{"add no db", []string{"add", "--collection", "c", "text"}, 2, "", "--db FILE is required"},
		{"add no collection", []string{"add", "--db", dbp, "text"}, 2, "", "--collection NAME is required"},
		{"add two texts", []string{"add", "--db", dbp, "--collection", "c", "a", "b"}, 2, "", "exactly one TEXT"},
		{"add bad meta", []string{"add", "--db", dbp, "--collection", "c", "--meta", "novalue", "x"}, 2, "", "not key=value"},
		{"add bad typed meta", []string{"add", "--db", dbp, "--collection", "c", "--meta", "n:={", "x"}, 2, "", "not JSON"},
		{"add null meta", []string{"add", "--db", dbp, "--collection", "c", "--meta", "n:=null", "x"}, 2, "", "null"},
		{"add dup meta", []string{"add", "--db", dbp, "--collection", "c", "--meta", "a=1", "--meta", "a=2", "x"}, 2, "", "given twice"},
		{"add bad metric", []string{"add", "--db", dbp, "--collection", "c", "--metric", "hamming", "x"}, 2, "", "--metric"},
		{"add bad vector", []string{"add", "--db", dbp, "--collection", "c", "--vector", "[1,", "x"}, 2, "", "--vector"},
		{"unknown flag", []string{"search", "--db", dbp, "--collection", "c", "--bogus", "q"}, 2, "", "unknown flag -bogus"},
		{"bad flag value", []string{"search", "--db", dbp, "--collection", "c", "--k", "ten", "q"}, 2, "", "--k"},
		{"search k 0", []string{"search", "--db", dbp, "--collection", "c", "--k", "0", "q"}, 2, "", "--k 0"},
		{"search no query", []string{"search", "--db", dbp, "--collection", "c"}, 2, "", "exactly one QUERY"},
		{"search query and vector", []string{"search", "--db", dbp, "--collection", "c", "--vector", "[1]", "q"}, 2, "", "not both"},
		{"import no file", []string{"import", "--db", dbp, "--collection", "c"}, 2, "", "exactly one FILE"},
		{"import batch 0", []string{"import", "--db", dbp, "--collection", "c", "--batch", "0", "-"}, 2, "", "--batch 0"},
		{"get no ids", []string{"get", "--db", dbp, "--collection", "c"}, 2, "", "at least one ID"},
		{"delete no ids", []string{"delete", "--db", dbp, "--collection", "c"}, 2, "", "at least one ID"},
		{"collections extra", []string{"collections", "--db", dbp, "x"}, 2, "", "no arguments"},
		{"check negative sample", []string{"check", "--db", dbp, "--sample", "-1"}, 2, "", "--sample"},
		{"backup no out", []string{"backup", "--db", dbp}, 2, "", "exactly one OUT"},
		{"negative lock timeout", []string{"collections", "--db", dbp, "--lock-timeout", "-1s"}, 2, "", "--lock-timeout"},
		{"tokenize no text", []string{"tokenize"}, 2, "", "exactly one TEXT"},
		{"demo extra", []string{"demo", "x"}, 2, "", "no arguments"},
		// Runtime errors on a file that does not exist: read commands must
		// not create it.
		{"search missing file", []string{"search", "--db", dbp, "--collection", "c", "q"}, 1, "", "no such file"},
		{"delete missing file", []string{"delete", "--db", dbp, "--collection", "c", "x"}, 1, "", "no such file"},
		{"check missing file", []string{"check", "--db", dbp}, 1, "", "no such file"},
		{"import missing input", []string{"import", "--db", dbp, "--collection", "c", filepath.Join(t.TempDir(), "none.jsonl")}, 1, "", "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := vb(t, "", tc.args...)
			if o.code != tc.code || !strings.Contains(o.stdout, tc.stdout) || !strings.Contains(o.stderr, tc.stderr) {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s\nwant stdout ⊇ %q, stderr ⊇ %q", o.code, tc.code, o.stdout, o.stderr, tc.stdout, tc.stderr)
			}
			if tc.code == exitUsage && tc.name != "no args" && !strings.Contains(o.stderr, "help") {
				t.Errorf("usage error without a hint: %s", o.stderr)
			}
		})
	}
	if _, err := os.Stat(dbp); err == nil {
		t.Errorf("a usage error or read command created %s", dbp)
	}
}

func TestParseFlagsInterspersed(t *testing.T) {
	fs := newFlagSet("x")
	a := fs.String("a", "", "")
	b := fs.Bool("b", false, "")
	pos, err := parseFlags(fs, []string{"p1", "-a", "v", "p2", "--b", "--", "-p3", "--a"})
	if err != nil {
		t.Fatal(err)
	}
	if *a != "v" || !*b || strings.Join(pos, "|") != "p1|p2|-p3|--a" {
		t.Fatalf("a=%q b=%v pos=%q", *a, *b, pos)
	}
}

// searchJSON runs search --json and decodes the result.
func searchJSON(t *testing.T, dbp, coll string, extra ...string) []jsonResult {
	t.Helper()
	args := append([]string{"search", "--db", dbp, "--collection", coll, "--json"}, extra...)
	o := vb(t, "", args...)
	if o.code != 0 {
		t.Fatalf("search %q: exit %d: %s", extra, o.code, o.stderr)
	}
	var res []jsonResult
	if err := json.Unmarshal([]byte(o.stdout), &res); err != nil {
		t.Fatalf("search --json output is not one JSON array: %v\n%s", err, o.stdout)
	}
	return res
}

func ids(res []jsonResult) []string {
	var s []string
	for _, r := range res {
		s = append(s, r.ID)
	}
	return s
}

func TestWorkflow(t *testing.T) {
	dbp := tempDB(t)
	must := func(o out) out {
		t.Helper()
		if o.code != 0 {
			t.Fatalf("exit %d: %s", o.code, o.stderr)
		}
		return o
	}
	must(vb(t, "", "add", "--db", dbp, "--collection", "notes", "--id", "go", "--meta", "lang=en", "--meta", "year:=2024", "--meta", `tags:=["code","fast"]`, "--meta", "score:=0.5", "--meta", "ok:=true", "Go has goroutines and channels for concurrency"))
	must(vb(t, "", "add", "--db", dbp, "--collection", "notes", "--id", "bread", "--meta", "lang=en", "--meta", "year:=2019", "Bake bread with flour water and yeast"))
	// Flags after the text work too.
	must(vb(t, "", "add", "Les chats dorment beaucoup", "--db", dbp, "--collection", "notes", "--id", "chats", "--meta", "lang=fr", "--meta", "year:=2024"))
	o := must(vb(t, "", "add", "--db", dbp, "--collection", "notes", "Rust has ownership and borrowing"))
	if gen := strings.TrimSpace(o.stdout); len(gen) != 36 {
		t.Errorf("generated ID %q is not a UUID", gen)
	}
	dup := vb(t, "", "add", "--db", dbp, "--collection", "notes", "--id", "go", "again")
	if dup.code != 1 || !strings.Contains(dup.stderr, `"go"`) {
		t.Errorf("duplicate add: exit %d, %s", dup.code, dup.stderr)
	}
	must(vb(t, "", "add", "--db", dbp, "--collection", "notes", "--id", "go", "--upsert", "--meta", "lang=en", "--meta", "year:=2024", "--meta", `tags:=["code","fast"]`, "Go has goroutines and channels for concurrency"))

	res := searchJSON(t, dbp, "notes", "goroutines concurrency")
	if len(res) != 4 || res[0].ID != "go" {
		t.Fatalf("search: %v", ids(res))
	}
	if res[0].Metadata["year"] != float64(2024) || res[0].Metadata["lang"] != "en" {
		t.Errorf("metadata in JSON: %v", res[0].Metadata)
	}
	if res[0].Score < res[1].Score {
		t.Errorf("results not sorted by score: %v", res)
	}
	res = searchJSON(t, dbp, "notes", "--where", `lang = "en" AND year < 2020`, "--k", "3", "goroutines")
	if len(res) != 1 || res[0].ID != "bread" {
		t.Fatalf("filtered search: %v", ids(res))
	}
	res = searchJSON(t, dbp, "notes", "--where", `tags CONTAINS "code"`, "bread")
	if len(res) != 1 || res[0].ID != "go" {
		t.Fatalf("CONTAINS search: %v", ids(res))
	}
	res = searchJSON(t, dbp, "notes", "--min-score", "0.5", "goroutines and channels")
	if len(res) != 1 || res[0].ID != "go" {
		t.Fatalf("min-score search: %v", ids(res))
	}
	if res := searchJSON(t, dbp, "notes", "--where", `lang = "de"`, "x"); len(res) != 0 {
		t.Fatalf("empty search: %v", res)
	}
	// A filter error names its position; a type mismatch is an error.
	if o := vb(t, "", "search", "--db", dbp, "--collection", "notes", "--where", "year >=", "q"); o.code != 1 || !strings.Contains(o.stderr, "filter") {
		t.Errorf("bad filter: exit %d, %s", o.code, o.stderr)
	}
	if o := vb(t, "", "search", "--db", dbp, "--collection", "notes", "--where", `year = "2024"`, "q"); o.code != 1 {
		t.Errorf("type mismatch filter: exit %d, %s", o.code, o.stderr)
	}
	o = must(vb(t, "", "search", "--db", dbp, "--collection", "notes", "--k", "2", "bread flour"))
	if !strings.Contains(o.stdout, " 1. ") || !strings.Contains(o.stdout, "bread") || strings.Contains(o.stdout, " 3. ") {
		t.Errorf("table output:\n%s", o.stdout)
	}
	if o := vb(t, "", "search", "--db", dbp, "--collection", "nope", "q"); o.code != 1 || !strings.Contains(o.stderr, "not found") {
		t.Errorf("unknown collection: exit %d, %s", o.code, o.stderr)
	}

	o = must(vb(t, "", "get", "--db", dbp, "--collection", "notes", "--json", "bread", "go"))
	var docs []jsonDoc
	if err := json.Unmarshal([]byte(o.stdout), &docs); err != nil || len(docs) != 2 || docs[0].ID != "bread" || docs[1].Metadata["ok"] != nil {
		t.Fatalf("get --json: %v %s", err, o.stdout)
	}
	o = vb(t, "", "get", "--db", dbp, "--collection", "notes", "bread", "ghost")
	if o.code != 1 || !strings.Contains(o.stdout, "Bake bread") || !strings.Contains(o.stderr, `"ghost"`) {
		t.Errorf("get with a missing ID: exit %d\n%s\n%s", o.code, o.stdout, o.stderr)
	}

	o = must(vb(t, "", "collections", "--db", dbp))
	if !strings.Contains(o.stdout, "notes\t4 documents") {
		t.Errorf("collections: %s", o.stdout)
	}
	o = must(vb(t, "", "stats", "--db", dbp, "--json"))
	var st statsJSON
	if err := json.Unmarshal([]byte(o.stdout), &st); err != nil || len(st.Collections) != 1 {
		t.Fatalf("stats --json: %v %s", err, o.stdout)
	}
	c := st.Collections[0]
	if c.Count != 4 || c.Dimension != 64 || c.Metric != "cosine" || c.Model == nil || c.Model.Name != "test-words" || st.FileSize <= 0 {
		t.Errorf("stats: %+v", st)
	}
	o = must(vb(t, "", "stats", "--db", dbp, "--collection", "notes"))
	for _, want := range []string{"documents:  4", "dimension:  64", "test-words", "index:"} {
		if !strings.Contains(o.stdout, want) {
			t.Errorf("stats lacks %q:\n%s", want, o.stdout)
		}
	}
	if o := vb(t, "", "stats", "--db", dbp, "--collection", "ghost"); o.code != 1 {
		t.Errorf("stats of an unknown collection: exit %d", o.code)
	}

	o = must(vb(t, "", "delete", "--db", dbp, "--collection", "notes", "bread", "ghost"))
	if !strings.Contains(o.stdout, "deleted 1 of 2") {
		t.Errorf("delete: %s", o.stdout)
	}
	if res := searchJSON(t, dbp, "notes", "bread flour yeast"); len(res) != 3 || strings.Contains(strings.Join(ids(res), ","), "bread") {
		t.Errorf("deleted document still found: %v", ids(res))
	}
	o = must(vb(t, "", "check", "--db", dbp))
	if !strings.Contains(o.stdout, "ok") || !strings.Contains(o.stdout, "3 documents") {
		t.Errorf("check: %s", o.stdout)
	}

	// A model with another identity is refused, and reembed moves the
	// collection to it.
	other := []option{withEmbedder(newWordEmbedder("other-words", 32)), withTerminal(false)}
	if o := vbOpts(t, "", other, "search", "--db", dbp, "--collection", "notes", "q"); o.code != 1 || !strings.Contains(o.stderr, "test-words") {
		t.Errorf("model mismatch: exit %d, %s", o.code, o.stderr)
	}
	o = vbOpts(t, "", other, "reembed", "--db", dbp, "--collection", "notes")
	if o.code != 0 || !strings.Contains(o.stdout, "re-embedded 3 documents") {
		t.Fatalf("reembed: exit %d %s %s", o.code, o.stdout, o.stderr)
	}
	if o := vbOpts(t, "", other, "search", "--db", dbp, "--collection", "notes", "--json", "goroutines"); o.code != 0 || !strings.Contains(o.stdout, `"go"`) {
		t.Errorf("search after reembed: %d %s %s", o.code, o.stdout, o.stderr)
	}
	if o := vb(t, "", "check", "--db", dbp); o.code != 0 {
		t.Errorf("check after reembed: %s %s", o.stdout, o.stderr)
	}
}

// TestVectorCollection uses caller-supplied vectors: no model at all.
func TestVectorCollection(t *testing.T) {
	dbp := tempDB(t)
	noModel := []option{withTerminal(false), withEmbedder(nil), withBuiltin(func() (embedder.Embedder, error) { return nil, errNoBuiltin })}
	in := `{"id":"x","vector":[1,0,0],"metadata":{"axis":"x"}}
{"id":"y","vector":[0,1,0],"metadata":{"axis":"y"}}
{"id":"xy","text":"between","vector":[0.7,0.7,0]}
`
	o := vbOpts(t, in, noModel, "import", "--db", dbp, "--collection", "v", "--dim", "3", "--metric", "l2", "--index", "flat", "-")
	if o.code != 0 || !strings.Contains(o.stdout, "imported 3 documents") {
		t.Fatalf("import: %d %s %s", o.code, o.stdout, o.stderr)
	}
	o = vbOpts(t, "", noModel, "search", "--db", dbp, "--collection", "v", "--vector", "[0.9,0.1,0]", "--json", "--k", "2")
	var res []jsonResult
	if err := json.Unmarshal([]byte(o.stdout), &res); err != nil || len(res) != 2 || res[0].ID != "x" || res[1].ID != "xy" {
		t.Fatalf("vector search: %v %s %s", err, o.stdout, o.stderr)
	}
	if o := vbOpts(t, "", noModel, "search", "--db", dbp, "--collection", "v", "text"); o.code != 1 {
		t.Errorf("text search on a vector collection: exit %d", o.code)
	}
	if o := vbOpts(t, "", noModel, "add", "--db", dbp, "--collection", "v", "--vector", "[1,2]", "t"); o.code != 1 || !strings.Contains(o.stderr, "dimension 2") {
		t.Errorf("wrong dimension: %d %s", o.code, o.stderr)
	}
	if o := vbOpts(t, "", noModel, "check", "--db", dbp); o.code != 0 {
		t.Errorf("check: %s %s", o.stdout, o.stderr)
	}
	// Without a model, creating a text collection is a clear error.
	if o := vbOpts(t, "", noModel, "add", "--db", dbp, "--collection", "text", "hello"); o.code != 1 || !strings.Contains(o.stderr, "embedder") {
		t.Errorf("text collection without a model: %d %s", o.code, o.stderr)
	}
}

// TestInt8Flag makes an int8 collection from the command line.
func TestInt8Flag(t *testing.T) {
	dbp := tempDB(t)
	noModel := []option{withTerminal(false), withEmbedder(nil), withBuiltin(func() (embedder.Embedder, error) { return nil, errNoBuiltin })}
	in := `{"id":"x","vector":[1,0,0]}
{"id":"y","vector":[0,1,0]}
{"id":"xy","vector":[0.7,0.7,0.1]}
`
	if o := vbOpts(t, in, noModel, "import", "--db", dbp, "--collection", "q", "--dim", "3", "--int8", "--index", "flat", "-"); o.code != 2 || !strings.Contains(o.stderr, "--int8 needs the hnsw index") {
		t.Fatalf("--int8 with a flat index: %d %s", o.code, o.stderr)
	}
	if o := vbOpts(t, in, noModel, "import", "--db", dbp, "--collection", "q", "--dim", "3", "--int8", "-"); o.code != 0 {
		t.Fatalf("import: %d %s %s", o.code, o.stdout, o.stderr)
	}
	o := vbOpts(t, "", noModel, "search", "--db", dbp, "--collection", "q", "--vector", "[0.9,0.1,0]", "--json", "--k", "2")
	var res []jsonResult
	if err := json.Unmarshal([]byte(o.stdout), &res); err != nil || len(res) != 2 || res[0].ID != "x" || res[1].ID != "xy" {
		t.Fatalf("search: %v %s %s", err, o.stdout, o.stderr)
	}
	if o := vbOpts(t, "", noModel, "stats", "--db", dbp); o.code != 0 || !strings.Contains(o.stdout, "int8 vectors") {
		t.Fatalf("stats: %d %s %s", o.code, o.stdout, o.stderr)
	}
}

// collectionCount reads a collection's size through the library.
func collectionCount(t *testing.T, dbp, name string) int {
	t.Helper()
	d, err := db.Open(dbp, db.ReadOnly(), db.WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	infos, err := d.Collections(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range infos {
		if c.Name == name {
			return c.Count
		}
	}
	return 0
}

func jsonl(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

func TestImport(t *testing.T) {
	good := func(i int) string {
		return fmt.Sprintf(`{"id":"d%d","text":"document number %d about topic %d","metadata":{"n":%d,"f":1.5,"tags":["a"]}}`, i, i, i%3, i)
	}
	var many []string
	for i := range 10 {
		many = append(many, good(i))
	}
	cases := []struct {
		name    string
		input   string
		args    []string
		code    int
		count   int    // documents stored afterwards
		stdout  string // substring
		stderr  string // substring
		skipped int
	}{
		{"all good, small batches", jsonl(many...), []string{"--batch", "3"}, 0, 10, "imported 10 documents", "", 0},
		{"blank lines and CRLF", good(1) + "\r\n\r\n   \n" + good(2) + "\r\n", nil, 0, 2, "imported 2", "", 0},
		{"no final newline", good(1) + "\n" + good(2), nil, 0, 2, "imported 2", "", 0},
		{"byte order mark", "\ufeff" + jsonl(good(1)), nil, 0, 1, "imported 1", "", 0},
		{"bad JSON stops, earlier lines committed", jsonl(good(1), good(2), "{nope", good(4)), []string{"--batch", "1"}, 1, 2, "", "line 3: invalid JSON", 0},
		{"bad line in one batch commits those before", jsonl(good(1), good(2), `{"id":"x","txt":"t"}`, good(4)), []string{"--batch", "100"}, 1, 2, "", `line 3: unknown key "txt"`, 0},
		{"skip bad", jsonl(good(1), "[1,2]", good(3), `{"text":""}`, good(5)), []string{"--skip-bad"}, 1, 3, "skipped 2 bad lines", "skipped line 2: expected a JSON object", 2},
		{"duplicate ID stops at its line", jsonl(good(1), good(2), good(1), good(4)), nil, 1, 2, "", `line 3 (id "d1")`, 0},
		{"duplicate ID skipped", jsonl(good(1), good(2), good(1), good(4)), []string{"--skip-bad"}, 1, 3, "skipped 1", `line 3 (id "d1")`, 1},
		{"upsert replaces", jsonl(good(1), good(2), good(1)), []string{"--upsert", "--batch", "1"}, 0, 2, "imported 3", "", 0},
		{"document db rejects", jsonl(good(1), `{"id":"`+strings.Repeat("m", 600)+`","text":"t"}`, good(3)), []string{"--skip-bad"}, 1, 2, "skipped 1", "line 2 (id \"mmm", 1},
		{"embedder fails on one text", jsonl(good(1), good(2), `{"text":"an unembeddable text"}`, good(4), good(5)), []string{"--skip-bad"}, 1, 4, "skipped 1", "line 3", 1},
		{"embedder fails, stop", jsonl(good(1), good(2), `{"text":"an unembeddable text"}`, good(4), good(5)), nil, 1, 2, "", "line 3", 0},
		{"invalid UTF-8", good(1) + "\n{\"text\":\"bad \xff\"}\n", nil, 1, 1, "", "line 2: line is not valid UTF-8", 0},
		{"too long line", jsonl(good(1), `{"text":"`+strings.Repeat("a", maxLineBytes)+`"}`, good(3)), []string{"--skip-bad"}, 1, 2, "skipped 1", "line 2: line longer than", 1},
		{"too long line stops", jsonl(good(1), strings.Repeat("x", maxLineBytes+10), good(3)), nil, 1, 1, "", "line 2: line longer than", 0},
		{"empty input", "", nil, 0, 0, "imported 0", "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dbp := tempDB(t)
			args := append([]string{"import", "--db", dbp, "--collection", "c"}, tc.args...)
			o := vb(t, tc.input, append(args, "-")...)
			if o.code != tc.code || !strings.Contains(o.stdout, tc.stdout) || !strings.Contains(o.stderr, tc.stderr) {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %.300s", o.code, tc.code, o.stdout, o.stderr)
			}
			if tc.code == exitRuntime && tc.skipped == 0 && (strings.Count(o.stderr, "\n") != 1 || !strings.Contains(o.stderr, "before it committed")) {
				t.Errorf("failed import must print one line saying what was committed: %q", o.stderr)
			}
			// --skip-bad stores the good lines but still fails, saying how
			// many lines were rejected and how many documents stored.
			if want := fmt.Sprintf("import: %s rejected (listed above), %s stored", plural(tc.skipped, "line"), plural(tc.count, "document")); tc.skipped > 0 && !strings.Contains(o.stderr, want) {
				t.Errorf("stderr lacks %q: %s", want, o.stderr)
			}
			if got := strings.Count(o.stderr, "vecbolt: skipped"); got != tc.skipped {
				t.Errorf("%d skipped lines reported, want %d: %s", got, tc.skipped, o.stderr)
			}
			if n := collectionCount(t, dbp, "c"); n != tc.count {
				t.Errorf("%d documents stored, want %d", n, tc.count)
			}
		})
	}
}

func TestImportFileAndProgress(t *testing.T) {
	dbp := tempDB(t)
	p := filepath.Join(t.TempDir(), "in.jsonl")
	var lines []string
	for i := range 300 {
		lines = append(lines, fmt.Sprintf(`{"text":"line %d of the file"}`, i))
	}
	if err := os.WriteFile(p, []byte(jsonl(lines...)), 0o600); err != nil {
		t.Fatal(err)
	}
	o := vbOpts(t, "", []option{withEmbedder(testModel()), withTerminal(true)}, "import", "--db", dbp, "--collection", "c", "--batch", "64", p)
	if o.code != 0 || !strings.Contains(o.stdout, "imported 300") {
		t.Fatalf("%d %s %s", o.code, o.stdout, o.stderr)
	}
	if !strings.Contains(o.stderr, "importing: 300 documents, 100%") {
		t.Errorf("no progress on a terminal: %q", o.stderr)
	}
	o = vb(t, "", "import", "--db", dbp, "--collection", "d", p)
	if o.stderr != "" {
		t.Errorf("progress drawn without a terminal: %q", o.stderr)
	}
}

func TestParseImportLine(t *testing.T) {
	cases := []struct {
		line string
		err  string // substring; "" means valid
		want db.Document
	}{
		{`{"text":"hi"}`, "", db.Document{Text: "hi"}},
		{` {"id":"a","text":"hi","metadata":{"s":"x","i":-3,"f":2.5,"e":1e3,"b":false,"l":["p","q"],"z":0}} `, "", db.Document{ID: "a", Text: "hi", Metadata: map[string]any{"s": "x", "i": int64(-3), "f": 2.5, "e": 1000.0, "b": false, "l": []string{"p", "q"}, "z": int64(0)}}},
		{`{"vector":[1,2.5,-3e-2]}`, "", db.Document{Vector: []float32{1, 2.5, -0.03}}},
		{`{"text":"t","metadata":{}}`, "", db.Document{Text: "t"}},
		{``, "found nothing", db.Document{}},
		{`[]`, "expected a JSON object, found a list", db.Document{}},
		{`"text"`, "found a string", db.Document{}},
		{`null`, "found null", db.Document{}},
		{`{"text":"a"} {"text":"b"}`, "trailing data", db.Document{}},
		{`{"text":"a"`, "unexpected end", db.Document{}},
		{`{"text":"a",}`, "invalid JSON", db.Document{}},
		{`{"Text":"a"}`, `unknown key "Text"`, db.Document{}},
		{`{"text":"a","text":"b"}`, `"text" appears twice`, db.Document{}},
		{`{"text":null}`, "is null", db.Document{}},
		{`{"id":7,"text":"a"}`, `"id" must be a string`, db.Document{}},
		{`{"text":["a"]}`, `"text" must be a string`, db.Document{}},
		{`{"text":"  "}`, "neither", db.Document{}},
		{`{"id":"x"}`, "neither", db.Document{}},
		{`{"text":"a","metadata":[]}`, "expected an object", db.Document{}},
		{`{"text":"a","metadata":{"k":null}}`, "null is not", db.Document{}},
		{`{"text":"a","metadata":{"k":{"x":1}}}`, "an object is not", db.Document{}},
		{`{"text":"a","metadata":{"k":[1]}}`, "only strings", db.Document{}},
		{`{"text":"a","metadata":{"k":1,"k":2}}`, `"k" appears twice`, db.Document{}},
		{`{"text":"a","metadata":{"":1}}`, "empty key", db.Document{}},
		{`{"text":"a","metadata":{"k":99999999999999999999}}`, "does not fit in int64", db.Document{}},
		{`{"text":"a","metadata":{"k":1e999}}`, "out of float64 range", db.Document{}},
		{`{"vector":[]}`, "vector: is empty", db.Document{}},
		{`{"vector":[1,"2"]}`, "list of numbers", db.Document{}},
		{`{"vector":[1e39]}`, "does not fit in float32", db.Document{}},
		{"{\"text\":\"\xc3\"}", "not valid UTF-8", db.Document{}},
	}
	for _, tc := range cases {
		got, err := parseImportLine([]byte(tc.line))
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

func TestMetaFlag(t *testing.T) {
	var m metaFlag
	for _, s := range []string{"a=x=y", "b:=12", "c:=1.0", "d:=true", `e:="quoted"`, `f:=["x"]`, "g=", "h=12"} {
		if err := m.Set(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	want := map[string]any{"a": "x=y", "b": int64(12), "c": 1.0, "d": true, "e": "quoted", "f": []string{"x"}, "g": "", "h": "12"}
	if fmt.Sprint(m.m) != fmt.Sprint(want) {
		t.Fatalf("got %#v", m.m)
	}
	for _, s := range []string{"=x", ":=1", "k:=1 2", "k:=[1]", "k:={}"} {
		var m metaFlag
		if err := m.Set(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// parseImportLine decodes a line as `vecbolt import` does.
func parseImportLine(line []byte) (db.Document, error) {
	d, err := jl.ParseLine(line, jl.Limits{ID: db.MaxIDBytes, Text: db.MaxTextBytes, Metadata: db.MaxMetadataBytes, Dimension: db.MaxDimension})
	return db.Document{ID: d.ID, Text: d.Text, Metadata: d.Metadata, Vector: d.Vector}, err
}

// maxLineBytes is the longest line import reads.
const maxLineBytes = db.MaxLineBytes

// TestImportEscapesCollide: two lines whose IDs differ only in their
// unpaired surrogates are both bad lines, not one document and a
// duplicate (or, with --upsert, one document replacing the other).
func TestImportEscapesCollide(t *testing.T) {
	dbp := tempDB(t)
	in := `{"id":"\ud800","text":"first"}` + "\n" + `{"id":"\ud801","text":"second"}` + "\n" + `{"id":"ok","text":"third"}` + "\n"
	o := vb(t, in, "import", "--db", dbp, "--collection", "c", "--upsert", "--skip-bad", "-")
	if o.code != exitRuntime || !strings.Contains(o.stdout, "imported 1 documents") || !strings.Contains(o.stderr, "line 1: \"id\": invalid escape") || !strings.Contains(o.stderr, "line 2: \"id\": invalid escape") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", o.code, o.stdout, o.stderr)
	}
	o = vb(t, "", "add", "--db", dbp, "--collection", "c", "--meta", `k:="\udc00"`, "text")
	if o.code != exitUsage || !strings.Contains(o.stderr, "invalid escape") {
		t.Fatalf("add --meta with a lone surrogate: exit %d, %s", o.code, o.stderr)
	}
}
