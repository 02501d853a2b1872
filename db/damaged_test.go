package db

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vecbolt/vecbolt/storage"
)

// One damaged vector in a real file damages its document, not its
// collection: the collection opens (writable and read-only), searches
// never return the document, Get names it in a *DamagedVectorError when
// asked for its vector (and returns its text otherwise), Info and Check
// report it, and Upsert or Delete repairs it. Each case reaches the
// damaged vector through another load path: a links-only snapshot, the
// replay of a write after the snapshot, a rebuild from the documents (a
// flat index, or an HNSW one whose snapshot is unusable).
func TestDamagedVectorLeavesOneDocumentOut(t *testing.T) {
	const dim, n = 16, 300
	cases := []struct {
		name    string
		flat    bool
		int8    bool // found by the first search that re-ranks it
		pending bool // the damaged document was written after the snapshot
		badSnap bool // the graph snapshot does not decode: a rebuild
		delete  bool // repair by Delete (else Upsert)
	}{
		{name: "snapshot", delete: true},
		{name: "snapshot-upsert"},
		{name: "pending", pending: true},
		{name: "flat", flat: true, delete: true},
		{name: "rebuild", badSnap: true},
		{name: "int8", int8: true},
		{name: "int8-delete", int8: true, delete: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "d.vecbolt")
			rng := rand.New(rand.NewPCG(7, uint64(len(tc.name))))
			vec := func() []float32 {
				v := make([]float32, dim)
				for i := range v {
					v[i] = rng.Float32()*2 - 1
				}
				return v
			}
			want := map[string]Document{}
			var ids []string
			d, err := Open(path, WithEmbedder(nil), WithSnapshotPolicy(1<<30, 1))
			if err != nil {
				t.Fatal(err)
			}
			opts := []CollectionOption{WithDimension(dim), WithMetric(Cosine)}
			if tc.flat {
				opts = append(opts, WithFlatIndex())
			}
			if tc.int8 {
				opts = append(opts, WithInt8())
			}
			if tc.name == "snapshot" || tc.name == "int8" {
				// int8: the keyword side must skip a vector a re-rank
				// found damaged, not only one the load found.
				opts = append(opts, WithFullText(FullTextConfig{}))
			}
			c := mustCollection(t, d, "c", opts...)
			var docs []Document
			for i := range n {
				doc := Document{ID: fmt.Sprintf("doc-%03d", i), Text: fmt.Sprintf("text %d", i), Vector: vec(), Metadata: map[string]any{"i": int64(i)}}
				docs = append(docs, doc)
				want[doc.ID] = doc
				ids = append(ids, doc.ID)
			}
			if _, err := c.Insert(bg, docs...); err != nil {
				t.Fatal(err)
			}
			victim := ids[n/2]
			if tc.pending {
				// Replaced after the snapshot Close writes; the file
				// kept is the state a crash would leave.
				d.Close()
				if d, err = Open(path, WithEmbedder(nil), WithSnapshotPolicy(1<<30, 1)); err != nil {
					t.Fatal(err)
				}
				c, _ = d.Collection(bg, "c")
				doc := want[victim]
				doc.Vector = vec()
				want[victim] = doc
				if _, err := c.Upsert(bg, doc); err != nil {
					t.Fatal(err)
				}
				crash := filepath.Join(dir, "crash.vecbolt")
				if _, err := d.BackupFile(bg, crash); err != nil {
					t.Fatal(err)
				}
				d.Close()
				if err := os.Rename(crash, path); err != nil {
					t.Fatal(err)
				}
			} else {
				d.Close()
			}
			if tc.badSnap {
				breakSnapshot(t, path)
			}
			damageVector(t, path, want[victim].Vector)

			check := func(d *DB) *Collection {
				t.Helper()
				c, err := d.Collection(bg, "c")
				if err != nil {
					t.Fatalf("open with one damaged vector: %v", err)
				}
				if got := c.Info().DamagedVectors; !tc.int8 && !slices.Equal(got, []string{victim}) {
					t.Fatalf("DamagedVectors = %q, want [%q]", got, victim)
				}
				if got, err := c.Count(bg, nil); err != nil || got != n {
					t.Fatalf("Count = %d, %v; want %d", got, err, n)
				}
				res, err := c.SearchVector(bg, want[victim].Vector, TopK(n))
				if err != nil {
					t.Fatal(err)
				}
				if len(res) != n-1 {
					t.Fatalf("search for all returned %d, want %d", len(res), n-1)
				}
				for _, r := range res {
					if r.ID == victim {
						t.Fatalf("search returned the damaged document")
					}
				}
				if got := c.Info().DamagedVectors; !slices.Equal(got, []string{victim}) {
					t.Fatalf("after a search DamagedVectors = %q, want [%q]", got, victim)
				}
				if c.Info().FullText != nil {
					// Every text matches; the keyword side skips it too.
					res, err := c.Search(bg, "text", WithMode(ModeKeyword), TopK(n))
					if err != nil || len(res) != n-1 || slices.ContainsFunc(res, func(r Result) bool { return r.ID == victim }) {
						t.Fatalf("keyword search: %d results, %v", len(res), err)
					}
				}
				for _, id := range []string{ids[0], ids[n-1]} {
					res, err := c.SearchVector(bg, want[id].Vector, TopK(1), WithFields(FieldVector))
					if err != nil || len(res) != 1 || res[0].ID != id || !vecEqual(res[0].Vector, want[id].Vector) {
						t.Fatalf("search for %s: %+v %v", id, res, err)
					}
				}
				got, err := c.Get(bg, victim)
				if err != nil || len(got) != 1 || got[0].Text != want[victim].Text || got[0].Metadata["i"] != want[victim].Metadata["i"] {
					t.Fatalf("Get without the vector: %+v %v", got, err)
				}
				_, err = c.GetFields(bg, FieldText|FieldVector, victim)
				var de *DamagedVectorError
				if !errors.As(err, &de) || !errors.Is(err, ErrCorrupt) || de.ID != victim || de.Collection != "c" {
					t.Fatalf("Get of the damaged vector: %v, want a *DamagedVectorError naming %q", err, victim)
				}
				rep, err := d.Check(bg)
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, p := range rep.Problems {
					switch {
					case p.Kind == ProblemVector && p.Document == victim:
						found = true
					case p.Kind == ProblemSnapshot && tc.badSnap:
						// Until a writable open stores a good one.
					default:
						t.Errorf("check: unexpected problem %v", p)
					}
				}
				if !found {
					t.Fatalf("check did not report the damaged vector: %+v", rep.Problems)
				}
				return c
			}
			if tc.name == "snapshot" {
				// Reindex (vector and keyword indexes rebuilt from the
				// documents) goes past the damaged vector too.
				d, err := Open(path, WithEmbedder(nil))
				if err != nil {
					t.Fatal(err)
				}
				if err := d.Reindex(bg, "c", nil); err != nil {
					t.Fatalf("Reindex: %v", err)
				}
				d.Close()
			}
			// Read-only first (it writes nothing), then writable, twice:
			// the first writable open may store a snapshot without the
			// document, from which the next must find it again.
			ro, err := Open(path, WithEmbedder(nil), ReadOnly())
			if err != nil {
				t.Fatal(err)
			}
			check(ro)
			ro.Close()
			for range 2 {
				d, err = Open(path, WithEmbedder(nil))
				if err != nil {
					t.Fatal(err)
				}
				check(d)
				if err := d.Close(); err != nil {
					t.Fatal(err)
				}
			}
			if tc.badSnap {
				// The writable open stored a good snapshot: no rebuild now.
				d, _ = Open(path, WithEmbedder(nil))
				c, _ = d.Collection(bg, "c")
				if s := c.Info().IndexRebuilt; s != "" {
					t.Fatalf("rebuilt again: %s", s)
				}
				d.Close()
			}

			// The repair.
			d, err = Open(path, WithEmbedder(nil))
			if err != nil {
				t.Fatal(err)
			}
			c, err = d.Collection(bg, "c")
			if err != nil {
				t.Fatal(err)
			}
			left := n
			if tc.delete {
				if k, err := c.Delete(bg, victim); err != nil || k != 1 {
					t.Fatalf("Delete: %d %v", k, err)
				}
				left--
			} else {
				doc := want[victim]
				doc.Vector = vec()
				want[victim] = doc
				if _, err := c.Upsert(bg, doc); err != nil {
					t.Fatalf("Upsert: %v", err)
				}
			}
			verify := func(d *DB) {
				t.Helper()
				c, err := d.Collection(bg, "c")
				if err != nil {
					t.Fatal(err)
				}
				if got := c.Info().DamagedVectors; got != nil {
					t.Fatalf("after the repair DamagedVectors = %q", got)
				}
				res, err := c.SearchVector(bg, want[victim].Vector, TopK(1))
				if err != nil {
					t.Fatal(err)
				}
				if found := len(res) == 1 && res[0].ID == victim; found == tc.delete {
					t.Fatalf("after the repair a search for its vector returned %+v", res)
				}
				if got, err := c.Count(bg, nil); err != nil || got != left {
					t.Fatalf("Count = %d, %v; want %d", got, err, left)
				}
				rep, err := d.Check(bg)
				if err != nil {
					t.Fatal(err)
				}
				if !rep.OK() {
					t.Fatalf("check after the repair: %v", rep.Problems)
				}
			}
			verify(d)
			d.Close()
			d, err = Open(path, WithEmbedder(nil))
			if err != nil {
				t.Fatal(err)
			}
			verify(d)
			d.Close()
		})
	}
}

// damageVector flips one byte of every copy of vec (as the vector store
// keeps it: float32, little endian) in the file at path; there must be one.
func damageVector(t *testing.T, path string, vec []float32) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	for _, x := range vec {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	copies := 0
	for off := 0; ; {
		i := bytes.Index(data[off:], b)
		if i < 0 {
			break
		}
		data[off+i+5] ^= 0x10
		copies++
		off += i + len(b)
	}
	if copies == 0 {
		t.Fatal("the vector is not in the file")
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// breakSnapshot replaces collection "c"'s graph snapshot with one that
// does not decode, so that loading it rebuilds the index.
func breakSnapshot(t *testing.T, path string) {
	t.Helper()
	s, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Update(func(tx *storage.Tx) error {
		c, err := tx.Collection("c")
		if err != nil {
			return err
		}
		return c.PutSnapshot(IndexHNSW, func(w io.Writer) error {
			_, err := w.Write([]byte("not a graph"))
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReembedRepairsDamagedVector: re-embedding a collection replaces
// every vector, so a damaged one neither stops it nor survives it.
func TestReembedRepairsDamagedVector(t *testing.T) {
	const dim, n = 16, 50
	emb := newHashEmbedder("hash-a", dim)
	path := filepath.Join(t.TempDir(), "r.vecbolt")
	d, err := Open(path, WithEmbedder(emb))
	if err != nil {
		t.Fatal(err)
	}
	c := mustCollection(t, d, "c", WithDimension(dim))
	rng := rand.New(rand.NewPCG(3, 4))
	var docs []Document
	for i := range n {
		v := make([]float32, dim)
		for j := range v {
			v[j] = rng.Float32()*2 - 1
		}
		docs = append(docs, Document{ID: fmt.Sprint(i), Text: fmt.Sprintf("document number %d", i), Vector: v})
	}
	if _, err := c.Insert(bg, docs...); err != nil {
		t.Fatal(err)
	}
	d.Close()
	damageVector(t, path, docs[7].Vector)
	d, err = Open(path, WithEmbedder(emb))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Reembed(bg, "c", nil); err != nil {
		t.Fatalf("Reembed over a damaged vector: %v", err)
	}
	c, err = d.Collection(bg, "c")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Info().DamagedVectors; got != nil {
		t.Fatalf("DamagedVectors after Reembed: %q", got)
	}
	if got, err := c.GetFields(bg, FieldVector, "7"); err != nil || len(got[0].Vector) != dim {
		t.Fatalf("Get after Reembed: %v %v", got, err)
	}
	rep, err := d.Check(bg)
	if err != nil || !rep.OK() {
		t.Fatalf("check after Reembed: %v %v", err, rep.Problems)
	}
}
