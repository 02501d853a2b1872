package db

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vecbolt/vecbolt/storage"
)

// TestLinksSnapshotWithPendingChanges: a collection whose links-only
// snapshot is older than some deletes, replacements and inserts (the
// state a crash leaves, taken here as a backup of the open file) loads
// from that snapshot without a rebuild, although the vector store no
// longer holds the changed documents' old vectors, and then holds exactly
// the current documents, each found by its own vector.
func TestLinksSnapshotWithPendingChanges(t *testing.T) {
	for _, kind := range []string{"float32", "int8"} {
		t.Run(kind, func(t *testing.T) {
			const n, dim = 600, 16
			vecs := wordBag(n+101, dim, 9)
			d, _ := openTest(t, WithEmbedder(nil), WithRecallTarget(0))
			opts := []CollectionOption{WithDimension(dim)}
			if kind == "int8" {
				opts = append(opts, WithInt8())
			}
			c := mustCollection(t, d, "c", opts...)
			insertVectors(t, c, vecs[:n], 0)
			if err := c.checkpoint(true); err != nil {
				t.Fatal(err)
			}
			want := map[string][]float32{}
			for i := range n {
				want[fmt.Sprint(i)] = vecs[i]
			}
			var del []string
			for i := 0; i < n; i += 7 {
				del = append(del, fmt.Sprint(i))
				delete(want, fmt.Sprint(i))
			}
			if _, err := c.Delete(bg, del...); err != nil {
				t.Fatal(err)
			}
			var up []Document
			for i := 3; i < n; i += 7 {
				v := vecs[n+i%100]
				up = append(up, Document{ID: fmt.Sprint(i), Vector: v})
				want[fmt.Sprint(i)] = v
			}
			up = append(up, Document{ID: "new", Vector: vecs[n+100]})
			want["new"] = vecs[n+100]
			if _, err := c.Upsert(bg, up...); err != nil {
				t.Fatal(err)
			}
			if c.st.Load().pending == 0 {
				t.Fatal("nothing pending: the test needs writes after the snapshot")
			}
			backup := filepath.Join(t.TempDir(), "crashed.vecbolt")
			if _, err := d.BackupFile(bg, backup); err != nil {
				t.Fatal(err)
			}
			for _, ro := range []bool{true, false} {
				opts := []Option{WithEmbedder(nil), WithRecallTarget(0)}
				if ro {
					opts = append(opts, ReadOnly())
				}
				b, err := Open(backup, opts...)
				if err != nil {
					t.Fatal(err)
				}
				bc, err := b.Collection(bg, "c")
				if err != nil {
					t.Fatal(err)
				}
				if msg := bc.Info().IndexRebuilt; msg != "" {
					t.Errorf("read-only %v: index rebuilt: %s", ro, msg)
				}
				if got := bc.st.Load().idx.Len(); got != len(want) {
					t.Errorf("read-only %v: index holds %d vectors, want %d", ro, got, len(want))
				}
				for id, v := range want {
					res, err := bc.SearchVector(bg, v, TopK(1), WithEf(n))
					if err != nil || len(res) != 1 || res[0].ID != id {
						t.Fatalf("read-only %v: %s not found by its own vector: %v %v", ro, id, res, err)
					}
				}
				for _, id := range del {
					if _, err := bc.Get(bg, id); !errors.Is(err, ErrNotFound) {
						t.Errorf("deleted %s: %v", id, err)
					}
				}
				rep, err := b.Check(bg)
				if err != nil || !rep.OK() {
					t.Errorf("check: %v %v", err, rep.Problems)
				}
				b.Close()
			}
		})
	}
}

// TestFloat16Collection: WithFloat16 stores half the bytes per vector;
// what Get returns is the vector rounded to float16, before and after a
// reopen, and the index answers from the same rounded vectors; vectors
// float16 cannot hold are refused with a clear error.
func TestFloat16Collection(t *testing.T) {
	const n, dim = 2000, 64
	vecs := wordBag(n, dim, 5)
	dir := t.TempDir()
	sizes := map[bool]int64{}
	for _, f16 := range []bool{false, true} {
		path := filepath.Join(dir, fmt.Sprint("f16-", f16, ".vecbolt"))
		d, err := Open(path, WithEmbedder(nil), WithRecallTarget(0))
		if err != nil {
			t.Fatal(err)
		}
		opts := []CollectionOption{WithDimension(dim)}
		if f16 {
			opts = append(opts, WithFloat16())
		}
		c := mustCollection(t, d, "c", opts...)
		if c.Info().Float16 != f16 {
			t.Errorf("Info().Float16 = %v", c.Info().Float16)
		}
		insertVectors(t, c, vecs, 0)
		rounded := func(v []float32) []float32 {
			r := slices.Clone(v)
			if f16 {
				storage.RoundFloat16(r)
			}
			return r
		}
		check := func(c *Collection, when string) {
			t.Helper()
			for i := 0; i < n; i += 97 {
				got, err := c.GetFields(bg, FieldVector, fmt.Sprint(i))
				if err != nil || !slices.Equal(got[0].Vector, rounded(vecs[i])) {
					t.Fatalf("%s, f16 %v: vector of %d = %v (%v), want %v", when, f16, i, got, err, rounded(vecs[i]))
				}
				res, err := c.SearchVector(bg, got[0].Vector, TopK(1), WithEf(200))
				if err != nil || len(res) != 1 || res[0].ID != fmt.Sprint(i) {
					t.Fatalf("%s, f16 %v: own-vector search for %d: %v %v", when, f16, i, res, err)
				}
			}
		}
		check(c, "before reopen")
		if f16 {
			_, err := c.Insert(bg, Document{ID: "big", Vector: append(make([]float32, dim-1), 70000)})
			if !errors.Is(err, ErrInvalidDocument) {
				t.Errorf("a component beyond float16's range: %v", err)
			}
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		d, err = Open(path, WithEmbedder(nil), WithRecallTarget(0))
		if err != nil {
			t.Fatal(err)
		}
		c, err = d.Collection(bg, "c")
		if err != nil {
			t.Fatal(err)
		}
		if c.Info().IndexRebuilt != "" || c.Info().Float16 != f16 {
			t.Errorf("reopened: rebuilt %q, Float16 %v", c.Info().IndexRebuilt, c.Info().Float16)
		}
		check(c, "after reopen")
		d.Close()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		sizes[f16] = fi.Size()
	}
	// The vectors are 256 of the 64-dim float32 file's bytes per document;
	// float16 saves about half of them.
	if saved := sizes[false] - sizes[true]; saved < n*dim*2*8/10 {
		t.Errorf("float16 file %d bytes, float32 %d: saved %d, want about %d", sizes[true], sizes[false], saved, n*dim*2)
	}
}
