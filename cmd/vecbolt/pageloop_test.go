package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/storage"
)

// pageLoopChild names the damaged file a child process of
// TestDamagedTreesNeverKill works on.
const pageLoopChild = "VECBOLT_PAGELOOP_CHILD"

// pageLoopDB builds a database with collection "c" of 800 vector-only
// documents of dimension 384 (its documents bucket has three levels: a root
// branch page, branch pages, leaves) and a small collection "v".
func pageLoopDB(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "loop.vecbolt")
	d, err := db.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err := d.CreateCollection(ctx, "c", db.WithDimension(384), db.WithFlatIndex())
	if err != nil {
		t.Fatal(err)
	}
	docs := make([]db.Document, 800)
	for i := range docs {
		vec := make([]float32, 384)
		vec[i%384], vec[(i+1)%384] = 1, float32(i+1)
		// A text as large as the vector: the document records (which
		// hold no vector since format 4) make a tree three levels deep.
		docs[i] = db.Document{ID: fmt.Sprintf("doc-%04d", i), Vector: vec, Text: strings.Repeat(fmt.Sprint(i, " "), 1536/len(fmt.Sprint(i, " ")))}
	}
	if _, err := c.Insert(ctx, docs...); err != nil {
		t.Fatal(err)
	}
	v, err := d.CreateCollection(ctx, "v", db.WithDimension(4), db.WithFlatIndex())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Insert(ctx, db.Document{ID: "x", Vector: []float32{1, 2, 3, 4}}); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDamagedTreesNeverKill damages one page pointer of a real database at
// a time so that a bucket's page tree has a cycle, a page reached twice or
// a page beyond the file, and runs, in a child process, the library's
// Open, Collections, Collection, Get, SearchVector and a write, and the
// CLI's get and stats. bbolt's cursor recurses down branch pages without a
// limit: before storage walked the trees' shape at open, a cycle killed the
// process with "fatal error: stack overflow", which no recover catches.
// Now the child must exit normally, the damaged collection (or, for the
// trees every lookup passes through, the open) must report ErrCorrupt, and
// the intact collection must still read. VECBOLT_PAGELOOP_ALL=1 adds every
// branch element of the documents' tree pointed at each of its ancestors
// (810 cases, 90 s).
func TestDamagedTreesNeverKill(t *testing.T) {
	if path := os.Getenv(pageLoopChild); path != "" {
		limitChildMemory()
		pageLoopRun(t, path)
		return
	}
	path := pageLoopDB(t)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, hwm, pages, sites := boltLayout(t, raw)
	pageAt := map[uint64]boltPage{}
	for _, p := range pages {
		pageAt[p.id] = p
	}
	// rootOf is the root page of a bucket, site the site of the first
	// pointer matching a condition.
	rootOf := map[string]uint64{"": binary.LittleEndian.Uint64(raw[pageHeaderSize+16:])}
	for _, s := range sites {
		if s.kind == "bucket root" {
			rootOf[pageAt[s.target].path] = s.target
		}
	}
	site := func(what string, ok func(s pointerSite) bool) pointerSite {
		for _, s := range sites {
			if ok(s) {
				return s
			}
		}
		t.Fatalf("the fixture has no %s", what)
		return pointerSite{}
	}
	const docs = "/collections/c/docs"
	inDocs := func(s pointerSite) bool {
		return strings.HasPrefix(s.kind, "branch element") && pageAt[s.parent].path == docs
	}
	// A branch element of the documents' root pointing at a branch page,
	// and one of such a branch page (whose parent is the root).
	top := site("branch page below the documents' root", func(s pointerSite) bool {
		return inDocs(s) && s.kind == "branch element → branch" && s.parent == rootOf[docs]
	})
	low := site("branch element of a second-level branch page", func(s pointerSite) bool {
		return inDocs(s) && s.parent == top.target
	})
	second := site("second element of the documents' root", func(s pointerSite) bool {
		return inDocs(s) && s.parent == rootOf[docs] && s.off != top.off
	})
	// The IDs tree: Get looks an ID up there (a cursor search, which
	// recurses), and loading a collection does not read it.
	idsTop := site("branch element of the IDs' root", func(s pointerSite) bool {
		return strings.HasPrefix(s.kind, "branch element") && s.parent == rootOf["/collections/c/ids"]
	})
	docsHeader := site("header of the documents bucket", func(s pointerSite) bool {
		return s.kind == "bucket root" && s.target == rootOf[docs]
	})
	collsHeader := site("header of the collections bucket", func(s pointerSite) bool {
		return s.kind == "bucket root" && s.target == rootOf["/collections"]
	})
	type damage struct {
		name   string
		off    int64
		to     uint64
		atOpen bool // the open is refused
	}
	cases := []damage{
		{"branch element → its own page", top.off, top.parent, false},
		{"branch element → its parent", low.off, rootOf[docs], false},
		{"IDs' branch element → its own page", idsTop.off, idsTop.parent, false},
		{"branch element → the root of another bucket", low.off, rootOf["/collections/c/ids"], false},
		{"two branch elements → one child", second.off, top.target, false},
		{"sub-bucket root → an ancestor page", docsHeader.off, rootOf["/collections/c"], false},
		{"branch element → beyond the high-water mark", top.off, hwm + 5, false},
		{"collections bucket root → the file's root", collsHeader.off, rootOf[""], true},
	}
	if os.Getenv("VECBOLT_PAGELOOP_ALL") != "" {
		// Every branch element of the documents' tree pointing at every
		// one of its ancestors.
		for _, s := range sites {
			if !inDocs(s) {
				continue
			}
			for anc := s.parent; ; {
				cases = append(cases, damage{fmt.Sprintf("element at %d → ancestor %d", s.off, anc), s.off, anc, false})
				up := site("parent", func(p pointerSite) bool { return p.target == anc })
				if up.kind == "bucket root" {
					break
				}
				anc = up.parent
			}
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			damaged := append([]byte(nil), raw...)
			binary.LittleEndian.PutUint64(damaged[tc.off:], tc.to)
			p := filepath.Join(t.TempDir(), "damaged.vecbolt")
			if err := os.WriteFile(p, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestDamagedTreesNeverKill$", "-test.count=1")
			cmd.Env = append(os.Environ(), pageLoopChild+"="+p)
			b, err := cmd.CombinedOutput()
			got := string(b)
			if err != nil || strings.Contains(got, "fatal error") || strings.Contains(got, "panic") {
				t.Fatalf("child: %v\n%s", err, firstLines(got, 30))
			}
			want := []string{"open: ok", "collection c: corrupt", "collection v: ok", "get v: ok", "search v: ok", "write: corrupt", "cli get c: corrupt", "cli stats: "}
			if tc.atOpen {
				want = []string{"open: corrupt", "cli get c: corrupt", "cli stats: corrupt"}
			}
			for _, w := range want {
				if !strings.Contains(got, "\n"+w) {
					t.Errorf("want %q in\n%s", w, got)
				}
			}
		})
	}
}

// firstLines keeps the start of a child's output: a fatal error's message
// and the stack of the goroutine that raised it.
func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// pageLoopRun is the child's part: it prints one line per step, "STEP:
// ok", "STEP: corrupt: ERROR" for an error wrapping storage.ErrCorrupt (or
// a CLI error saying so), "STEP: error: ERROR" otherwise.
func pageLoopRun(t *testing.T, path string) {
	ctx := context.Background()
	say := func(step string, err error) bool {
		switch {
		case err == nil:
			fmt.Printf("\n%s: ok\n", step)
		case errors.Is(err, storage.ErrCorrupt):
			fmt.Printf("\n%s: corrupt: %v\n", step, err)
		default:
			fmt.Printf("\n%s: error: %v\n", step, err)
		}
		return err == nil
	}
	d, err := db.Open(path)
	if say("open", err) {
		_, err = d.Collections(ctx)
		say("collections", err)
		for _, name := range []string{"c", "v"} {
			c, err := d.Collection(ctx, name)
			if !say("collection "+name, err) {
				continue
			}
			id, vec := "doc-0001", make([]float32, 384)
			if name == "v" {
				id, vec = "x", []float32{1, 2, 3, 4}
			}
			_, err = c.Get(ctx, id)
			say("get "+name, err)
			_, err = c.SearchVector(ctx, vec, db.TopK(3))
			say("search "+name, err)
			if name == "v" {
				_, err = c.Upsert(ctx, db.Document{ID: "y", Vector: []float32{4, 3, 2, 1}})
				say("write", err)
			}
		}
		say("close", d.Close())
	}
	cli := func(step string, args ...string) {
		o := vb(t, "", args...)
		switch {
		case o.code == 0:
			fmt.Printf("\n%s: ok\n", step)
		case strings.Contains(o.stderr, "corrupt"):
			fmt.Printf("\n%s: corrupt: %s", step, o.stderr)
		default:
			fmt.Printf("\n%s: error: %s", step, o.stderr)
		}
	}
	cli("cli get c", "get", "--db", path, "--collection", "c", "doc-0001")
	cli("cli stats", "stats", "--db", path)
}
