package main

import (
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// blobDB holds collection "c" of 4-dimensional vectors in three
// well-separated blobs of six documents: "x0".."x5" near e0 (texts about
// fonts), "y0".. near e1 (kernels), "z0".. near e2 (games), with metadata
// "kind" = the blob letter.
func blobDB(t *testing.T) string {
	t.Helper()
	dbp := tempDB(t)
	words := map[string]string{"x": "font glyph", "y": "kernel driver", "z": "game puzzle"}
	var lines []string
	for b, name := range []string{"x", "y", "z"} {
		for i := range 6 {
			v := []float64{0.01 * float64(i), 0.01 * float64(5-i), 0.01, 1}
			v[b] += 10
			vec, _ := json.Marshal(v)
			lines = append(lines, fmt.Sprintf(`{"id":"%s%d","text":"a %s number %d","metadata":{"kind":%q},"vector":%s}`, name, i, words[name], i, name, vec))
		}
	}
	if o := vb(t, jsonl(lines...), "import", "--db", dbp, "--collection", "c", "--dim", "4", "-"); o.code != 0 {
		t.Fatalf("import: %s", o.stderr)
	}
	return dbp
}

func TestClusterCommand(t *testing.T) {
	dbp := blobDB(t)
	o := vb(t, "", "cluster", "--db", dbp, "--collection", "c", "--k", "3", "--json")
	if o.code != 0 {
		t.Fatalf("cluster: %s", o.stderr)
	}
	var got struct {
		Clusters []struct {
			ID              int      `json:"id"`
			Size            int      `json:"size"`
			Members         []string `json:"members"`
			Representatives []string `json:"representatives"`
			Terms           []string `json:"terms"`
		} `json:"clusters"`
	}
	dec := json.NewDecoder(strings.NewReader(o.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("%v in %s", err, o.stdout)
	}
	if len(got.Clusters) != 3 {
		t.Fatalf("%d clusters", len(got.Clusters))
	}
	var blobs []string
	for i, cl := range got.Clusters {
		b := cl.Members[0][:1]
		blobs = append(blobs, b)
		want := []string{b + "0", b + "1", b + "2", b + "3", b + "4", b + "5"}
		if cl.ID != i || cl.Size != 6 || !slices.Equal(cl.Members, want) || len(cl.Representatives) != 5 {
			t.Fatalf("cluster %d: %+v", i, cl)
		}
		if len(cl.Terms) != 2 {
			t.Fatalf("cluster %d terms %q", i, cl.Terms)
		}
	}
	// Equal sizes: clusters are ordered by their smallest member ID.
	if !slices.Equal(blobs, []string{"x", "y", "z"}) {
		t.Fatalf("cluster order %v", blobs)
	}

	o = vb(t, "", "cluster", "--db", dbp, "--collection", "c", "--where", `kind != "z"`)
	if o.code != 0 || !strings.Contains(o.stdout, "2 clusters of 12 documents") || !strings.Contains(o.stdout, "k chosen by silhouette") ||
		!strings.Contains(o.stdout, "terms: ") {
		t.Fatalf("text output: %d %q %s", o.code, o.stdout, o.stderr)
	}

	o = vb(t, "", "cluster", "--db", dbp, "--collection", "c", "--k", "3", "--label-field", "group")
	if o.code != 0 || !strings.Contains(o.stdout, `of 18 documents into field "group"`) {
		t.Fatalf("label: %d %q %s", o.code, o.stdout, o.stderr)
	}
	if o := vb(t, "", "count", "--db", dbp, "--collection", "c", "--where", "group = 2"); o.stdout != "6\n" {
		t.Fatalf("documents labelled 2: %q", o.stdout)
	}

	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--k", "-2"}, exitUsage, "--k -2"},
		{[]string{"--k", "19"}, exitRuntime, "exceeds the 18 documents"},
		{[]string{"--where", `kind = "none"`}, exitRuntime, "matches no documents"},
		{[]string{"--where", `kind =`}, exitUsage, "--where"},
		{[]string{"--label-field", "kind", "--k", "2"}, exitRuntime, "holds string values"},
		{[]string{"extra"}, exitUsage, "no arguments"},
	} {
		args := append([]string{"cluster", "--db", dbp, "--collection", "c"}, tc.args...)
		if o := vb(t, "", args...); o.code != tc.code || !strings.Contains(o.stderr, tc.msg) {
			t.Errorf("%v: %d %q, want %d and %q", tc.args, o.code, o.stderr, tc.code, tc.msg)
		}
	}
}

func TestMapCommand(t *testing.T) {
	dbp := blobDB(t)
	dir := t.TempDir()
	svg := filepath.Join(dir, "m.svg")
	o := vb(t, "", "map", "--db", dbp, "--collection", "c", "--color-by", "kind", svg)
	if o.code != 0 || !strings.Contains(o.stdout, "18 documents in 3 groups") {
		t.Fatalf("map svg: %d %q %s", o.code, o.stdout, o.stderr)
	}
	b, err := os.ReadFile(svg)
	if err != nil || !strings.Contains(string(b), "<svg") {
		t.Fatalf("svg: %v %.60q", err, b)
	}
	pngPath := filepath.Join(dir, "m.PNG")
	if o := vb(t, "", "map", "--db", dbp, "--collection", "c", "--color-by", "cluster", "--k", "3", pngPath); o.code != 0 {
		t.Fatalf("map png: %s", o.stderr)
	}
	if o := vb(t, "", "map", "--db", dbp, "--collection", "c", "--projection", "neighbors", "--color-by", "kind", svg); o.code != 0 {
		t.Fatalf("map neighbors: %s", o.stderr)
	}
	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{filepath.Join(dir, "m.gif")}, exitUsage, "must end in .svg or .png"},
		{nil, exitUsage, "one output file"},
		{[]string{"--k", "2", svg}, exitUsage, "--color-by cluster only"},
		{[]string{"--projection", "tsne", svg}, exitUsage, "want pca or neighbors"},
		{[]string{"--where", `kind = "q"`, filepath.Join(dir, "none.svg")}, exitRuntime, "matches no documents"},
	} {
		args := append([]string{"map", "--db", dbp, "--collection", "c"}, tc.args...)
		if o := vb(t, "", args...); o.code != tc.code || !strings.Contains(o.stderr, tc.msg) {
			t.Errorf("%v: %d %q, want %d and %q", tc.args, o.code, o.stderr, tc.code, tc.msg)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "none.svg")); !os.IsNotExist(err) {
		t.Errorf("a failed map left a file: %v", err)
	}
}
