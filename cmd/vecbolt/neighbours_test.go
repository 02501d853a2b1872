package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// neighbourDB writes a collection of 3-dimensional vectors: a tight group
// around the x axis (a0..a7), an exact copy of a0 (copy), and one vector
// on the z axis (far), the only isolated document.
func neighbourDB(t *testing.T, metric string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "n.vecbolt")
	var lines strings.Builder
	for i := range 8 {
		fmt.Fprintf(&lines, `{"id":"a%d","vector":[1,%g,%g],"metadata":{"g":"a"}}`+"\n", i, 0.01*float64(i), 0.02*float64(i%3))
	}
	lines.WriteString(`{"id":"copy","vector":[1,0,0],"metadata":{"g":"a"}}` + "\n")
	lines.WriteString(`{"id":"far","vector":[0,0.1,1],"metadata":{"g":"b"}}` + "\n")
	o := vb(t, lines.String(), "import", "--db", p, "--collection", "v", "--dim", "3", "--metric", metric, "-")
	if o.code != 0 {
		t.Fatalf("import: %d %s", o.code, o.stderr)
	}
	return p
}

func TestOutliersDuplicatesCommands(t *testing.T) {
	cos := neighbourDB(t, "cosine")
	l2 := neighbourDB(t, "l2")
	cases := []struct {
		name   string
		db     string
		args   []string
		code   int
		stdout string // prefix with ~ for "starts with"
		stderr string
	}{
		{"outliers json", cos, []string{"outliers", "--n", "1", "--k", "2", "--json"}, 0, "~[\n  {\n    \"id\": \"far\",", ""},
		{"outliers text", cos, []string{"outliers", "--n", "1", "--k", "2"}, 0, "~ 1. 0.", ""},
		{"outliers lof", cos, []string{"outliers", "--n", "1", "--k", "2", "--method", "lof"}, 0, "~ 1. ", ""},
		{"outliers where", cos, []string{"outliers", "--where", `g = "b"`}, 0, "no outliers (fewer than two documents considered)\n", ""},
		{"outliers bad method", cos, []string{"outliers", "--method", "x"}, exitUsage, "", "--method \"x\""},
		{"outliers bad n", cos, []string{"outliers", "--n", "-1"}, exitUsage, "", "--n -1"},
		{"outliers bad k", cos, []string{"outliers", "--k", "0"}, exitUsage, "", "--k 0"},
		{"outliers argument", cos, []string{"outliers", "x"}, exitUsage, "", "no arguments"},
		{"outliers bad where", cos, []string{"outliers", "--where", "g ="}, exitUsage, "", "--where: "},
		{"duplicates json", cos, []string{"duplicates", "--threshold", "0.9999", "--json"}, 0, "[\n  {\n    \"a\": \"a0\",\n    \"b\": \"copy\",\n    \"score\": 1\n  }\n]\n", ""},
		{"duplicates text", cos, []string{"duplicates", "--threshold", "0.9999"}, 0, "1.0000  a0  copy\n", ""},
		{"duplicates none", cos, []string{"duplicates", "--where", `g = "b"`}, 0, "no duplicates\n", ""},
		{"duplicates default threshold", cos, []string{"duplicates", "--json"}, 0, "~[\n  {\n    \"a\": \"a0\",\n    \"b\": \"copy\",", ""},
		{"duplicates threshold range", cos, []string{"duplicates", "--threshold", "1.5"}, exitRuntime, "", "out of range -1..1"},
		{"duplicates threshold nan", cos, []string{"duplicates", "--threshold", "NaN"}, exitUsage, "", "not a finite number"},
		{"duplicates l2 needs threshold", l2, []string{"duplicates"}, exitRuntime, "", "give a DuplicateThreshold of at most 0"},
		{"duplicates l2", l2, []string{"duplicates", "--threshold", "0"}, 0, "~0.0000  a0  copy\n", ""},
		{"duplicates l2 positive", l2, []string{"duplicates", "--threshold", "0.1"}, exitRuntime, "", "minus the Euclidean distance"},
		{"duplicates max pairs", cos, []string{"duplicates", "--threshold", "-1", "--max-pairs", "3"}, exitRuntime, "", "more than 3 pairs"},
		{"duplicates bad max pairs", cos, []string{"duplicates", "--max-pairs", "0"}, exitUsage, "", "--max-pairs 0"},
		{"missing collection", cos, []string{"duplicates", "--collection", ""}, exitUsage, "", "--collection NAME is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{tc.args[0], "--db", tc.db, "--collection", "v"}, tc.args[1:]...)
			o := vb(t, "", args...)
			okOut := o.stdout == tc.stdout
			if strings.HasPrefix(tc.stdout, "~") {
				okOut = strings.HasPrefix(o.stdout, tc.stdout[1:])
			}
			if o.code != tc.code || !okOut || !strings.Contains(o.stderr, tc.stderr) {
				t.Fatalf("exit %d, want %d\nstdout: %q\nwant:   %q\nstderr: %s", o.code, tc.code, o.stdout, tc.stdout, o.stderr)
			}
		})
	}
	// --json is one array of {"id","score"}, most isolated first, every
	// document with --n 0.
	o := vb(t, "", "outliers", "--db", cos, "--collection", "v", "--n", "0", "--k", "2", "--json")
	var got []struct {
		ID    string  `json:"id"`
		Score float64 `json:"score"`
	}
	if err := json.Unmarshal([]byte(o.stdout), &got); err != nil || len(got) != 10 || got[0].ID != "far" {
		t.Fatalf("outliers --n 0 --json: %v %+v", err, got)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Score > got[i-1].Score {
			t.Fatalf("not most isolated first: %+v", got)
		}
	}
}
