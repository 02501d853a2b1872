package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestModelFlagWordVectors: --model takes a word-vector file (GloVe text
// here, and the same content gzip-compressed, which has the same
// identity); a malformed file is refused naming its line.
func TestModelFlagWordVectors(t *testing.T) {
	dir := t.TempDir()
	glove := []byte("the 0.1 0.1 0.1\ncat 1 0.2 0\ndog 0.9 0.3 0\ncar 0 0 1\ntruck 0.1 0 0.9\n")
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(glove)
	zw.Close()
	plain, gz, bad := filepath.Join(dir, "tiny.txt"), filepath.Join(dir, "tiny.txt.gz"), filepath.Join(dir, "bad.txt")
	for p, b := range map[string][]byte{plain: glove, gz: zipped.Bytes(), bad: []byte("the 1 2\ncat 1\n")} {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dbp := tempDB(t)
	noDefault := []option{withTerminal(false)}
	for _, text := range []string{"The cat", "a dog", "the car", "a truck"} {
		if o := vbOpts(t, "", noDefault, "add", "--db", dbp, "--collection", "c", "--model", plain, "--id", text, text); o.code != 0 {
			t.Fatalf("add with --model FILE: %s", o.stderr)
		}
	}
	o := vbOpts(t, "", noDefault, "search", "--db", dbp, "--collection", "c", "--model", gz, "--json", "--k", "2", "Truck")
	var res []jsonResult
	if err := json.Unmarshal([]byte(o.stdout), &res); err != nil || len(res) != 2 || res[0].ID != "a truck" || res[1].ID != "the car" {
		t.Fatalf("search with --model FILE.gz: %v %s %s", err, o.stdout, o.stderr)
	}
	if o := vbOpts(t, "", noDefault, "search", "--db", dbp, "--collection", "c", "--model", bad, "truck"); o.code != 1 || !strings.Contains(o.stderr, "line 2") {
		t.Errorf("malformed word-vector file: %d %s", o.code, o.stderr)
	}
}
