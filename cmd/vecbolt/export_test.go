package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vecbolt/vecbolt/embedder"
)

// opsDB holds collection "c" of 2-dimensional vectors: a, b, c, d, e with
// "n" = 1..5, "f" = n/2 (2.0 for b), "even" and "tags".
func opsDB(t *testing.T) string {
	t.Helper()
	dbp := tempDB(t)
	var lines []string
	for i, id := range []string{"e", "c", "a", "d", "b"} {
		n := map[string]int{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}[id]
		lines = append(lines, fmt.Sprintf(`{"id":%q,"text":"text %s","metadata":{"n":%d,"f":%.1f,"even":%v,"tags":["t%d"]},"vector":[1,%d]}`, id, id, n, float64(n)/2, n%2 == 0, i, n))
	}
	if o := vb(t, jsonl(lines...), "import", "--db", dbp, "--collection", "c", "--dim", "2", "-"); o.code != 0 {
		t.Fatalf("import: %s", o.stderr)
	}
	return dbp
}

// TestExportCountListDelete runs the commands over one collection.
func TestExportCountListDelete(t *testing.T) {
	dbp := opsDB(t)
	a := `{"id":"a","text":"text a","metadata":{"even":false,"f":0.5,"n":1,"tags":["t2"]}}`
	b := `{"id":"b","text":"text b","metadata":{"even":true,"f":1.0,"n":2,"tags":["t4"]}}`
	d := `{"id":"d","text":"text d","metadata":{"even":true,"f":2.0,"n":4,"tags":["t3"]}}`
	cases := []struct {
		name   string
		args   []string
		code   int
		stdout string // exact, or a substring when it starts with "~"
		stderr string // substring
	}{
		{"export all", []string{"export"}, 0, "~" + a + "\n" + b + "\n", ""},
		{"export where", []string{"export", "--where", "even = true", "-"}, 0, b + "\n" + d + "\n", ""},
		{"export vectors", []string{"export", "--vectors", "--where", "n = 2"}, 0, strings.TrimSuffix(b, "}") + `,"vector":[1,2]}` + "\n", ""},
		{"export bad where", []string{"export", "--where", "n >"}, exitUsage, "", "--where: "},
		{"export two outputs", []string{"export", "x", "y"}, exitUsage, "", "at most one OUT"},
		{"export unknown collection", []string{"export", "--collection", "nope"}, exitRuntime, "", "not found"},
		{"count", []string{"count"}, 0, "5\n", ""},
		{"count where", []string{"count", "--where", "n >= 2 AND even = false"}, 0, "2\n", ""},
		{"count none", []string{"count", "--where", `missing = "x"`}, 0, "0\n", ""},
		{"count argument", []string{"count", "x"}, exitUsage, "", "no arguments"},
		{"list", []string{"list"}, 0, "a\nb\nc\nd\ne\n", ""},
		{"list page", []string{"list", "--after", "b", "--limit", "2"}, 0, "c\nd\n", ""},
		{"list where", []string{"list", "--where", "even = true", "--after", "bb"}, 0, "d\n", ""},
		{"list json", []string{"list", "--json", "--limit", "1"}, 0, "[\n  {\"id\":\"a\",\"text\":\"text a\",\"metadata\":{\"even\":false,\"f\":0.5,\"n\":1,\"tags\":[\"t2\"]}}\n]\n", ""},
		{"list json empty", []string{"list", "--json", "--after", "z"}, 0, "[]\n", ""},
		{"list negative limit", []string{"list", "--limit", "-1"}, exitUsage, "", "--limit -1"},
		{"delete IDs and where", []string{"delete", "--where", "n = 1", "a"}, exitUsage, "", "not both"},
		{"delete nothing", []string{"delete"}, exitUsage, "", "or --where"},
		{"delete bad where", []string{"delete", "--where", "n = "}, exitUsage, "", "--where: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{tc.args[0], "--db", dbp}, tc.args[1:]...)
			if !strings.Contains(strings.Join(tc.args, " "), "--collection") {
				args = append(args, "--collection", "c")
			}
			o := vb(t, "", args...)
			okOut := o.stdout == tc.stdout
			if strings.HasPrefix(tc.stdout, "~") {
				okOut = strings.HasPrefix(o.stdout, tc.stdout[1:])
			}
			if o.code != tc.code || !okOut || !strings.Contains(o.stderr, tc.stderr) {
				t.Fatalf("exit %d, want %d\nstdout: %s\nwant:   %s\nstderr: %s", o.code, tc.code, o.stdout, tc.stdout, o.stderr)
			}
		})
	}
	// delete --where deletes every match in one go and says how many.
	o := vb(t, "", "delete", "--db", dbp, "--collection", "c", "--where", "even = false")
	if o.code != 0 || o.stdout != "deleted 3 documents\n" {
		t.Fatalf("delete --where: exit %d %q %s", o.code, o.stdout, o.stderr)
	}
	if o := vb(t, "", "list", "--db", dbp, "--collection", "c"); o.stdout != "b\nd\n" {
		t.Fatalf("after delete --where: %q", o.stdout)
	}
}

// TestExportImportCLIRoundTrip: export to a file, import it into a new
// database, export again: the same bytes.
func TestExportImportCLIRoundTrip(t *testing.T) {
	dbp := opsDB(t)
	dir := t.TempDir()
	first := filepath.Join(dir, "first.jsonl")
	if o := vb(t, "", "export", "--db", dbp, "--collection", "c", "--vectors", first); o.code != 0 || !strings.Contains(o.stderr, "exported 5 documents") {
		t.Fatalf("export: exit %d %s", o.code, o.stderr)
	}
	db2 := filepath.Join(dir, "second.vecbolt")
	if o := vb(t, "", "import", "--db", db2, "--collection", "c", "--dim", "2", first); o.code != 0 {
		t.Fatalf("import: %s", o.stderr)
	}
	o := vb(t, "", "export", "--db", db2, "--collection", "c", "--vectors")
	want, _ := os.ReadFile(first)
	if o.code != 0 || o.stdout != string(want) {
		t.Fatalf("second export differs:\n%s\nwant\n%s", o.stdout, want)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(matches) != 0 {
		t.Fatalf("temporary files left: %v", matches)
	}
}

// countingEmbedder counts the texts embedded.
type countingEmbedder struct {
	embedder.Embedder
	texts atomic.Int64
}

func (c *countingEmbedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	c.texts.Add(int64(len(texts)))
	return c.Embedder.EmbedDocuments(ctx, texts)
}

// TestReimportSkipBadEmbedsNothing is the regression test for re-importing
// a file over existing IDs with --skip-bad taking 27 s against 3.8 s for
// the first import: each duplicate failed its batch's transaction after
// the batch was embedded, and the rest of the batch was embedded again,
// about batch²/2 texts per batch. Now the batch's IDs are checked first and
// the duplicates rejected alone, so nothing is embedded; the import still
// exits 1, saying how many lines it rejected.
func TestReimportSkipBadEmbedsNothing(t *testing.T) {
	dbp := tempDB(t)
	var lines []string
	for i := range 100 {
		lines = append(lines, fmt.Sprintf(`{"id":"d%d","text":"document number %d"}`, i, i))
	}
	emb := &countingEmbedder{Embedder: testModel()}
	opts := []option{withEmbedder(emb), withTerminal(false)}
	if o := vbOpts(t, jsonl(lines...), opts, "import", "--db", dbp, "--collection", "c", "-"); o.code != 0 {
		t.Fatalf("first import: %s", o.stderr)
	}
	first := emb.texts.Load()
	o := vbOpts(t, jsonl(lines...), opts, "import", "--db", dbp, "--collection", "c", "--skip-bad", "-")
	if again := emb.texts.Load() - first; again != 0 {
		t.Fatalf("re-import embedded %d texts (the first import %d), want none", again, first)
	}
	if o.code != exitRuntime || !strings.Contains(o.stdout, "imported 0 documents") || !strings.Contains(o.stderr, "100 lines rejected (listed above), 0 documents stored") || strings.Count(o.stderr, "duplicate document ID") != 100 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %.500s", o.code, o.stdout, o.stderr)
	}
}
