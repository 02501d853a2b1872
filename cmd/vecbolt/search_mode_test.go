package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/storage"
)

// TestSearchModes runs vecbolt search in each mode, with and without
// --explain, and its usage errors.
func TestSearchModes(t *testing.T) {
	dbp := tempDB(t)
	in := jsonl(
		`{"id":"vim","text":"configurable text editor for programmers"}`,
		`{"id":"gimp","text":"image manipulation program"}`,
		`{"id":"nethack","text":"dungeon exploration game"}`)
	if o := vb(t, in, "import", "--db", dbp, "--collection", "p", "-"); o.code != 0 {
		t.Fatalf("import: %+v", o)
	}
	type explained struct {
		ID           string         `json:"id"`
		Score        float32        `json:"score"`
		Text         string         `json:"text"`
		Metadata     map[string]any `json:"metadata"`
		VectorScore  *float32       `json:"vector_score"`
		VectorRank   *int           `json:"vector_rank"`
		KeywordScore *float32       `json:"keyword_score"`
		KeywordRank  *int           `json:"keyword_rank"`
	}
	tests := []struct {
		name      string
		args      []string
		wantFirst string
		explain   bool
		// wantKeywordRank1 says the first result must be first by keyword.
		wantKeywordRank1 bool
	}{
		{name: "keyword", args: []string{"--mode", "keyword", "dungeon"}, wantFirst: "nethack"},
		{name: "keyword explained", args: []string{"--mode", "keyword", "--explain", "dungeon"}, wantFirst: "nethack", explain: true, wantKeywordRank1: true},
		{name: "hybrid explained", args: []string{"--mode", "hybrid", "--alpha", "0.2", "--explain", "image program"}, wantFirst: "gimp", explain: true, wantKeywordRank1: true},
		{name: "vector", args: []string{"--mode", "vector", "image program"}},
		{name: "default", args: []string{"--explain", "text editor"}, wantFirst: "vim", explain: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"search", "--db", dbp, "--collection", "p", "--json"}, tc.args...)
			o := vb(t, "", args...)
			if o.code != 0 {
				t.Fatalf("%+v", o)
			}
			var res []explained
			if err := json.Unmarshal([]byte(o.stdout), &res); err != nil || len(res) == 0 {
				t.Fatalf("%v: %s", err, o.stdout)
			}
			if tc.wantFirst != "" && res[0].ID != tc.wantFirst {
				t.Errorf("first %s, want %s", res[0].ID, tc.wantFirst)
			}
			for _, r := range res {
				has := r.VectorScore != nil && r.VectorRank != nil && r.KeywordScore != nil && r.KeywordRank != nil
				if has != tc.explain || r.Text == "" || r.Metadata == nil {
					t.Errorf("%s: explain fields present %v, want %v; %+v", r.ID, has, tc.explain, r)
				}
			}
			if tc.wantKeywordRank1 && *res[0].KeywordRank != 1 {
				t.Errorf("first result's keyword rank %d", *res[0].KeywordRank)
			}
			// The text output shows the explanation under each result.
			plain := vb(t, "", append([]string{"search", "--db", dbp, "--collection", "p"}, tc.args...)...)
			if plain.code != 0 || strings.Contains(plain.stdout, ": vector ") != tc.explain {
				t.Errorf("text output: %+v", plain)
			}
		})
	}
	for _, bad := range [][]string{
		{"--mode", "fuzzy", "q"},
		{"--mode", "hybrid", "--alpha", "1.5", "q"},
		{"--mode", "keyword", "--alpha", "0.5", "q"},
		{"--mode", "keyword", "--vector", "[1,0]"},
	} {
		o := vb(t, "", append([]string{"search", "--db", dbp, "--collection", "p"}, bad...)...)
		if o.code != exitUsage {
			t.Errorf("%v: exit %d, want usage error; %s", bad, o.code, o.stderr)
		}
	}
}

// TestKeywordIndexUpgrade runs the CLI on a file written before keyword
// indexes (db/testdata/format2): a read-only search says to open it
// writable once, a writable command builds the index and says so, and
// keyword search works from then on.
func TestKeywordIndexUpgrade(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "db", "testdata", "format2", "release-b3e2947.vecbolt"))
	if err != nil {
		t.Fatal(err)
	}
	dbp := tempDB(t)
	if err := os.WriteFile(dbp, src, 0o600); err != nil {
		t.Fatal(err)
	}
	search := []string{"search", "--db", dbp, "--collection", "pkgs", "--mode", "keyword", "dungeon"}
	if o := vb(t, "", search...); o.code != exitRuntime || !strings.Contains(o.stderr, "writable") {
		t.Fatalf("read-only keyword search of a format-2 file: %+v", o)
	}
	o := vb(t, "", "delete", "--db", dbp, "--collection", "pkgs", "no-such-id")
	if o.code != 0 || !strings.Contains(o.stderr, `collection "pkgs": building its keyword index`) || !strings.Contains(o.stderr, "keyword index built (5 documents)") {
		t.Fatalf("writable open of a format-2 file: %+v", o)
	}
	if o := vb(t, "", search...); o.code != 0 || !strings.Contains(o.stdout, "nethack") || o.stderr != "" {
		t.Fatalf("keyword search after the upgrade: %+v", o)
	}
}

// TestCheckKeywordIndex: a document written behind db's back (straight
// through storage, so its keyword index misses it) makes check report the
// keyword index as a damaged cache, and reindex repairs it.
func TestCheckKeywordIndex(t *testing.T) {
	dbp := tempDB(t)
	if o := vb(t, "", "add", "--db", dbp, "--collection", "c", "--id", "a", "first text"); o.code != 0 {
		t.Fatalf("add: %+v", o)
	}
	st, err := storage.Open(dbp, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(func(tx *storage.Tx) error {
		c, err := tx.Collection("c")
		if err != nil {
			return err
		}
		l, err := c.NextLabel()
		if err != nil {
			return err
		}
		vec := make([]float32, 64)
		vec[1] = 1
		return c.PutDocument(l, &storage.DocumentRecord{Id: "b", Text: "second text", Vector: vec})
	})
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	o := vb(t, "", "check", "--db", dbp)
	if o.code != 1 || !strings.Contains(o.stdout, `collection "c": keyword index: it indexes 1 documents, the collection holds 2`) || !strings.Contains(o.stdout, "damaged cache: collection \"c\": its keyword index") {
		t.Fatalf("check: exit %d\n%s", o.code, o.stdout)
	}
	if o := vb(t, "", "reindex", "--db", dbp, "--collection", "c"); o.code != 0 {
		t.Fatalf("reindex: %+v", o)
	}
	if o := vb(t, "", "check", "--db", dbp); o.code != 0 {
		t.Fatalf("check after reindex: exit %d\n%s", o.code, o.stdout)
	}
	if o := vb(t, "", "search", "--db", dbp, "--collection", "c", "--mode", "keyword", "second"); o.code != 0 || !strings.Contains(o.stdout, " b") {
		t.Fatalf("keyword search after reindex: %+v", o)
	}
}
