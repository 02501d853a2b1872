//go:build !race

// Like corrupt_test.go: under the race detector's checkptr, bbolt's reads of
// a damaged page are a fatal error that no recover catches.

package db

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestWritesOnDamagedFile zeroes one page of each kind and checks the
// documented policy for writers (package doc): a handle that meets damage
// to the page structure refuses every later write with ErrCorrupt, and
// writes nothing; a write that never meets the damage leaves the damaged
// page as it was (damage neither spread nor hidden).
func TestWritesOnDamagedFile(t *testing.T) {
	dir := t.TempDir()
	orig := filepath.Join(dir, "orig.vecbolt")
	d, err := Open(orig, WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	c := mustCollection(t, d, "c", WithDimension(crashDim), WithMetric(L2))
	v := mustCollection(t, d, "v", WithDimension(crashDim), WithFlatIndex())
	var ids []string
	for b := range 8 {
		var docs []Document
		for i := range 50 {
			doc := crashDoc(fmt.Sprintf("doc-%d-%02d", b, i), b)
			docs = append(docs, doc)
			ids = append(ids, doc.ID)
		}
		if _, err := c.Insert(bg, docs...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Insert(bg, crashDoc("v0", 0)); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	const ps = 4096
	roots := map[string]uint64{}
	bdb, err := bolt.Open(orig, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("collections")).Bucket([]byte("c"))
		for _, sub := range []string{"docs", "ids", "heads", "snapshot"} {
			roots[sub] = uint64(b.Bucket([]byte(sub)).RootPage())
		}
		return nil
	})
	bdb.Close()
	if err != nil {
		t.Fatal(err)
	}
	// A leaf of documents in the middle of the collection.
	at := bytes.Index(raw, []byte("text of doc-3-20 generation 3"))
	if at < 0 {
		t.Fatal("document text not found in the file")
	}
	cases := []struct {
		name  string
		page  uint64
		cache bool // the page is the index snapshot's
	}{
		{"documents root (branch)", roots["docs"], false},
		{"documents leaf", uint64(at / ps), false},
		{"ID map root", roots["ids"], false},
		{"heads root", roots["heads"], false},
		{"snapshot root", roots["snapshot"], true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.page < 2 {
				t.Fatalf("page %d: not a page of its own", tc.page)
			}
			path := filepath.Join(t.TempDir(), "d.vecbolt")
			damaged := bytes.Clone(raw)
			clear(damaged[tc.page*ps : (tc.page+1)*ps])
			if err := os.WriteFile(path, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			// 1. Read everything until the damage is met; then no write
			// may go through, to any collection.
			d, err := Open(path, WithEmbedder(nil))
			if err != nil {
				t.Fatal(err)
			}
			met := readUntilDamage(d, ids)
			if tc.cache {
				// Every document reads back through a rebuilt index;
				// the damage is met when the handle tries to replace
				// the damaged snapshot.
				if met != nil {
					t.Fatalf("damaged snapshot pages: reading the documents failed: %v", met)
				}
				c, err := d.Collection(bg, "c")
				if err != nil {
					t.Fatal(err)
				}
				if s := c.Info().IndexRebuilt; !strings.Contains(s, "writing a new snapshot failed") {
					t.Fatalf("IndexRebuilt = %q", s)
				}
				met = fmt.Errorf("%w: met while replacing the snapshot", ErrCorrupt)
			}
			if met == nil {
				t.Fatalf("reading every document never met the zeroed page %d", tc.page)
			}
			if !errors.Is(met, ErrCorrupt) {
				t.Fatalf("damage reported as %v, want ErrCorrupt", met)
			}
			vc, err := d.Collection(bg, "v")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := vc.Insert(bg, crashDoc("after", 1)); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("a write after meeting damage (%v): %v, want ErrCorrupt", met, err)
			}
			d.Close()
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(after, damaged) {
				t.Errorf("the refused handle changed the file")
			}

			// 2. A fresh handle writing to the undamaged collection
			// before any read: the write may succeed, but the zeroed
			// page stays as it was, for check to find.
			d, err = Open(path, WithEmbedder(nil))
			if err != nil {
				t.Fatal(err)
			}
			vc, err = d.Collection(bg, "v")
			if err != nil {
				t.Fatal(err)
			}
			_, werr := vc.Insert(bg, crashDoc("blind", 1))
			if werr != nil && !errors.Is(werr, ErrCorrupt) {
				t.Fatalf("a write that met damage: %v, want ErrCorrupt", werr)
			}
			d.Close()
			after, err = os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(after[tc.page*ps:(tc.page+1)*ps], damaged[tc.page*ps:(tc.page+1)*ps]) {
				t.Errorf("the zeroed page %d was rewritten by a write elsewhere (write error %v)", tc.page, werr)
			}
		})
	}
}

// readUntilDamage opens collection "c" and reads every document, returning
// the first error.
func readUntilDamage(d *DB, ids []string) error {
	c, err := d.Collection(bg, "c")
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := c.Get(bg, id); err != nil {
			return err
		}
	}
	return nil
}
