package db

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/storage"
)

// TestUpgradeFromFormat2 opens a file written by the release before the
// keyword index (testdata/format2, made by commit b3e2947's db package):
// read-only it works but keyword search says to open it writable once;
// the first writable load builds the index, reporting progress, and from
// then on keyword search works, read-only too.
func TestUpgradeFromFormat2(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "format2", "release-b3e2947.vecbolt"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "old.vecbolt")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	// No model needed: keyword search and the build read only texts.
	keyword := func(d *DB) ([]Result, error) {
		c, err := d.Collection(bg, "pkgs")
		if err != nil {
			t.Fatal(err)
		}
		return c.Search(bg, "dungeons", WithMode(ModeKeyword))
	}

	ro, err := Open(path, ReadOnly(), WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keyword(ro); !errors.Is(err, ErrNoFullText) || !strings.Contains(err.Error(), "writable") {
		t.Errorf("read-only keyword search on a format-2 file: err = %v, want ErrNoFullText saying to open it writable", err)
	}
	if got, err := ro.Collection(bg, "pkgs"); err != nil || got.Info().Count != 5 {
		t.Fatalf("read-only open of a format-2 file: %v", err)
	}
	ro.Close()

	var events []FullTextBuildEvent
	rw, err := Open(path, WithEmbedder(nil), WithFullTextBuildLog(func(e FullTextBuildEvent) { events = append(events, e) }))
	if err != nil {
		t.Fatal(err)
	}
	res, err := keyword(rw)
	if err != nil || len(res) != 1 || res[0].ID != "nethack" {
		t.Fatalf("keyword search after the upgrade: %v %v", res, err)
	}
	if len(events) < 2 || events[0].Done != 0 || !events[len(events)-1].Finished || events[len(events)-1].Total != 5 || events[0].Collection != "pkgs" {
		t.Errorf("build events %+v", events)
	}
	vecs, err := rw.Collection(bg, "vecs")
	if err != nil {
		t.Fatal(err)
	}
	if vecs.Info().FullText != nil || len(events) > 3 {
		t.Errorf("a collection of caller-supplied vectors got a keyword index on upgrade: %+v, events %+v", vecs.Info().FullText, events)
	}
	if _, err := vecs.Search(bg, "vector", WithMode(ModeKeyword)); !errors.Is(err, ErrNoFullText) {
		t.Errorf("keyword search of the vector collection: err = %v", err)
	}
	rep, err := rw.Check(bg)
	if err != nil || !rep.OK() {
		t.Fatalf("check after the upgrade: %v %+v", err, rep.Problems)
	}
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}

	// Built once: a read-only handle now searches by keyword, and a
	// writable one builds nothing again.
	ro, err = Open(path, ReadOnly(), WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := keyword(ro); err != nil || len(res) != 1 {
		t.Errorf("read-only keyword search after the upgrade: %v %v", res, err)
	}
	ro.Close()
	events = nil
	rw, err = Open(path, WithEmbedder(nil), WithFullTextBuildLog(func(e FullTextBuildEvent) { events = append(events, e) }))
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	if _, err := keyword(rw); err != nil || len(events) != 0 {
		t.Errorf("second writable open: %v, events %+v", err, events)
	}
}

// f3vec is testdata/format3's vector of document i (dimension dim,
// generation gen: 1 for the documents it replaced).
func f3vec(i, dim, gen int) []float32 {
	v := make([]float32, dim)
	for j := range v {
		v[j] = float32(math.Sin(float64(i*dim+j)*0.37 + float64(gen)))
	}
	return v
}

// dumpAll reads every document of every collection, with its vector.
func dumpAll(t *testing.T, d *DB) map[string]map[string]Document {
	t.Helper()
	out := make(map[string]map[string]Document)
	names, err := d.Collections(bg)
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range names {
		c, err := d.Collection(bg, info.Name)
		if err != nil {
			t.Fatal(err)
		}
		docs := make(map[string]Document)
		for doc, err := range c.Scan(bg, ScanFields(FieldText|FieldMetadata|FieldVector)) {
			if err != nil {
				t.Fatalf("scan %s: %v", info.Name, err)
			}
			docs[doc.ID] = doc
		}
		out[info.Name] = docs
	}
	return out
}

// TestUpgradeFromFormat3 opens a file written by the last release of
// format 3 (testdata/format3, made by its main.go at commit 4113dad: every
// vector in its document record and again in the graph snapshot, with
// writes pending since the snapshots). Read-only it reads as it is; the
// first writable open moves the vectors into the vector store (format 4),
// after which every document reads back the same, the pending writes are
// replayed, the indexes find each document by its own vector, Check finds
// nothing, and Close replaces the old snapshots (which held the vectors)
// with links-only ones that the next open loads without a rebuild.
func TestUpgradeFromFormat3(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "format3", "release-4113dad.vecbolt"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "old.vecbolt")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	dims := map[string]int{"hnsw": 8, "int8": 16, "flat": 3}
	sizes := map[string]int{"hnsw": 300, "int8": 200, "flat": 40}
	// want checks the vector collections against the generator's formula.
	want := func(all map[string]map[string]Document) {
		t.Helper()
		for name, dim := range dims {
			docs := all[name]
			n := sizes[name]
			if len(docs) != n-n/10+1 {
				t.Errorf("%s: %d documents, want %d", name, len(docs), n-n/10+1)
			}
			for i := 0; i <= n; i++ {
				id, gen := fmt.Sprintf("%s-%03d", name, i), 0
				switch {
				case i == n:
					id = name + "-new"
				case i%10 == 0:
					if _, ok := docs[id]; ok {
						t.Errorf("%s: deleted %s is back", name, id)
					}
					continue
				case i%10 == 5:
					gen = 1
				}
				d, ok := docs[id]
				if !ok {
					t.Errorf("%s: %s missing", name, id)
					continue
				}
				if !slices.Equal(d.Vector, f3vec(i, dim, gen)) {
					t.Errorf("%s: %s has vector %v, want %v", name, id, d.Vector, f3vec(i, dim, gen))
				}
			}
		}
	}
	ro, err := Open(path, ReadOnly(), WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	before := dumpAll(t, ro)
	want(before)
	if len(before["texts"]) != 3 {
		t.Fatalf("texts: %d documents", len(before["texts"]))
	}
	ro.Close()

	rw, err := Open(path, WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	after := dumpAll(t, rw)
	want(after)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("documents changed in the upgrade")
	}
	for name := range dims {
		c, err := rw.Collection(bg, name)
		if err != nil {
			t.Fatal(err)
		}
		if c.Info().IndexRebuilt != "" {
			t.Errorf("%s: the upgrade rebuilt the index: %s", name, c.Info().IndexRebuilt)
		}
		for id, d := range after[name] {
			res, err := c.SearchVector(bg, d.Vector, TopK(1), WithEf(64))
			if err != nil || len(res) != 1 || res[0].ID != id {
				t.Errorf("%s: own-vector search for %s: %v %v", name, id, res, err)
			}
		}
	}
	rep, err := rw.Check(bg)
	if err != nil || !rep.OK() {
		t.Fatalf("check after the upgrade: %v %+v", err, rep.Problems)
	}
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}

	// The header says 4, every vector is in its store, and the float32
	// graph's snapshot (rewritten at Close) keeps links only.
	s, err := storage.Open(path, storage.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(func(tx *storage.Tx) error {
		for name := range before {
			c, err := tx.Collection(name)
			if err != nil {
				return err
			}
			vs, err := c.VectorStoreInfo()
			if err != nil {
				return err
			}
			if vs == nil || vs.Moving {
				t.Errorf("%s: vector store %v after the upgrade", name, vs)
			}
			if name == "hnsw" {
				if ext, err := c.SnapshotKeepsVectorsOutside(); err != nil || !ext {
					t.Errorf("hnsw: snapshot after Close keeps vectors outside = %v (%v), want true", ext, err)
				}
			}
		}
		return nil
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	ro, err = Open(path, ReadOnly(), WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if again := dumpAll(t, ro); !reflect.DeepEqual(before, again) {
		t.Errorf("documents changed after the links-only snapshot")
	}
	for name := range dims {
		c, err := ro.Collection(bg, name)
		if err != nil {
			t.Fatal(err)
		}
		if c.Info().IndexRebuilt != "" {
			t.Errorf("%s: reopening rebuilt the index: %s", name, c.Info().IndexRebuilt)
		}
	}
}

// TestFullTextFormat1 opens a format-3 file whose keyword index is in the
// index's first layout (testdata/format3/fulltext-v1-4113dad.vecbolt, made by commit 4113dad
// package: every posting block in the posting bucket, no tails; 400
// documents, so "common" spans several blocks): read-only it searches as
// it is; written to, its touched terms move to the current layout, and
// the index keeps agreeing with one rebuilt from the documents.
func TestFullTextFormat1(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "format3", "fulltext-v1-4113dad.vecbolt"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "old.vecbolt")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	search := func(d *DB, q string) []Result {
		t.Helper()
		c, err := d.Collection(bg, "docs")
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Search(bg, q, WithMode(ModeKeyword), TopK(20))
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		return res
	}
	ids := func(rs []Result) string {
		var s []string
		for _, r := range rs {
			s = append(s, r.ID)
		}
		return strings.Join(s, " ")
	}
	queries := []string{"unicorn", "even river", "common", "common glacier even", "number77 number310"}

	ro, err := Open(path, ReadOnly(), WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(search(ro, "unicorn")); got != "d123" {
		t.Errorf("read-only: unicorn finds %q, want d123", got)
	}
	if got := search(ro, "common"); len(got) != 20 {
		t.Errorf("read-only: common finds %d, want 20", len(got))
	}
	if rep, err := ro.Check(bg); err != nil || !rep.OK() {
		t.Fatalf("check of the format-1 index: %v %+v", err, rep.Problems)
	}
	ro.Close()

	rw, err := Open(path, WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	c, err := rw.Collection(bg, "docs")
	if err != nil {
		t.Fatal(err)
	}
	var ds []Document
	for i := range 150 {
		ds = append(ds, Document{ID: fmt.Sprintf("n%03d", i), Text: fmt.Sprintf("common unicorn river number%d", 500+i), Vector: []float32{1, 2, 3, 4}})
	}
	if _, err := c.Insert(bg, ds...); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Delete(bg, "d123", "d200", "n005"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Upsert(bg, Document{ID: "d077", Text: "now about a glacier", Vector: []float32{1, 1, 1, 1}}); err != nil {
		t.Fatal(err)
	}
	if rep, err := rw.Check(bg); err != nil || !rep.OK() {
		t.Fatalf("check after writes to a format-1 index: %v %+v", err, rep.Problems)
	}
	got := map[string][]Result{}
	for _, q := range queries {
		got[q] = search(rw, q)
	}
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}

	// The same documents, the index rebuilt from them.
	fresh := filepath.Join(dir, "rebuilt.vecbolt")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fresh, b, 0o600); err != nil {
		t.Fatal(err)
	}
	rb, err := Open(fresh, WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	if err := rb.Reindex(bg, "docs", nil); err != nil {
		t.Fatal(err)
	}
	for _, q := range queries {
		want := search(rb, q)
		if len(got[q]) != len(want) {
			t.Fatalf("%q: %d results, rebuilt index %d", q, len(got[q]), len(want))
		}
		for i := range want {
			if got[q][i].ID != want[i].ID || got[q][i].Score != want[i].Score {
				t.Errorf("%q result %d: %s %v, rebuilt index %s %v", q, i, got[q][i].ID, got[q][i].Score, want[i].ID, want[i].Score)
			}
		}
	}
}
