package db

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/vecbolt/vecbolt/index"
	"github.com/vecbolt/vecbolt/storage"
)

// snapDocs is the number of documents of the snapshot fixtures: 40 in the
// snapshot and 3 written after it (pending).
const snapDocs = 43

// snapshotFixture writes a database whose HNSW collection "c" has a graph
// snapshot of 40 documents and 3 more documents in the pending list, and
// returns its path and the documents.
func snapshotFixture(t *testing.T) (string, map[string]Document) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "snap.vecbolt")
	d, err := Open(path, WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	c := mustCollection(t, d, "c", WithDimension(crashDim), WithMetric(L2))
	want := map[string]Document{}
	var docs []Document
	for i := range 40 {
		doc := crashDoc(fmt.Sprintf("doc-%02d", i), 0)
		docs = append(docs, doc)
		want[doc.ID] = doc
	}
	if _, err := c.Insert(bg, docs...); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	// Writes after the snapshot, stored the way Insert stores them but
	// without a Close that would snapshot them.
	editStore(t, path, func(c *storage.CollectionTx) error {
		for i := range 3 {
			doc := crashDoc(fmt.Sprintf("late-%d", i), 1)
			want[doc.ID] = doc
			rec, err := recordOf(doc)
			if err != nil {
				return err
			}
			label, err := c.NextLabel()
			if err != nil {
				return err
			}
			if err := c.PutDocument(label, rec); err != nil {
				return err
			}
		}
		if p, err := c.Pending(); err != nil || len(p) != 3 {
			return fmt.Errorf("pending %v, %v; want 3 labels", p, err)
		}
		return nil
	})
	return path, want
}

// recordOf is the stored form of a test document.
func recordOf(doc Document) (*storage.DocumentRecord, error) {
	_, md, err := convertMetadata(doc.Metadata)
	if err != nil {
		return nil, err
	}
	return &storage.DocumentRecord{Id: doc.ID, Text: doc.Text, Metadata: md, Vector: doc.Vector}, nil
}

// editStore runs edit on collection "c" in a write transaction of the file.
func editStore(t *testing.T, path string, edit func(c *storage.CollectionTx) error) {
	t.Helper()
	st, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(func(tx *storage.Tx) error {
		c, err := tx.Collection("c")
		if err != nil {
			return err
		}
		return edit(c)
	})
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// editBolt runs edit on the bbolt bucket of collection "c".
func editBolt(t *testing.T, path string, edit func(b *bolt.Bucket) error) {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		return edit(tx.Bucket([]byte("collections")).Bucket([]byte("c")))
	})
	if cerr := bdb.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// flipValue flips one byte in the middle of the value under key in b.
func flipValue(b *bolt.Bucket, key []byte) error {
	v := b.Get(key)
	if v == nil {
		return fmt.Errorf("no value under %q", key)
	}
	v = append([]byte(nil), v...)
	v[len(v)/2] ^= 0x10
	return b.Put(key, v)
}

// snapshotDamage lists ways the index cache can be wrong while every
// document is intact.
var snapshotDamage = []struct {
	name string
	edit func(t *testing.T, path string)
}{
	{"flipped byte in a graph chunk", func(t *testing.T, path string) {
		editBolt(t, path, func(b *bolt.Bucket) error {
			return flipValue(b.Bucket([]byte("snapshot")), []byte{'c', 0, 0, 0, 0})
		})
	}},
	{"flipped byte in the snapshot info", func(t *testing.T, path string) {
		editBolt(t, path, func(b *bolt.Bucket) error { return flipValue(b.Bucket([]byte("snapshot")), []byte("info")) })
	}},
	{"missing graph chunk", func(t *testing.T, path string) {
		editBolt(t, path, func(b *bolt.Bucket) error { return b.Bucket([]byte("snapshot")).Delete([]byte{'c', 0, 0, 0, 0}) })
	}},
	{"checksummed garbage graph", func(t *testing.T, path string) {
		editStore(t, path, func(c *storage.CollectionTx) error {
			pending, err := c.Pending()
			if err != nil {
				return err
			}
			err = c.PutSnapshot(IndexHNSW, func(w io.Writer) error {
				_, err := w.Write([]byte(strings.Repeat("not a graph ", 100)))
				return err
			})
			if err != nil {
				return err
			}
			return keepPending(c, pending)
		})
	}},
	{"graph lacks a document", func(t *testing.T, path string) {
		// The state the extreme-vector bug of issue #12 left behind: a
		// valid snapshot without one stored document, nothing pending.
		editStore(t, path, func(c *storage.CollectionTx) error {
			h, err := index.NewHNSW(crashDim, L2)
			if err != nil {
				return err
			}
			err = c.ForEachDocument(func(label uint64, d *storage.DocumentRecord) error {
				if d.Id == "doc-07" {
					return nil
				}
				return h.Add(label, d.Vector)
			})
			if err != nil {
				return err
			}
			return c.PutSnapshot(IndexHNSW, func(w io.Writer) error { _, err := h.WriteTo(w); return err })
		})
	}},
	{"graph of another dimension", func(t *testing.T, path string) {
		editStore(t, path, func(c *storage.CollectionTx) error {
			h, err := index.NewHNSW(crashDim+1, L2)
			if err != nil {
				return err
			}
			return c.PutSnapshot(IndexHNSW, func(w io.Writer) error { _, err := h.WriteTo(w); return err })
		})
	}},
	{"damaged pending list", func(t *testing.T, path string) {
		// Keys of the pending list are bare labels (no checksum); one of
		// the wrong length cannot be a label.
		editBolt(t, path, func(b *bolt.Bucket) error { return b.Bucket([]byte("pending")).Put([]byte("bad"), nil) })
	}},
	{"pending list lost an entry", func(t *testing.T, path string) {
		editBolt(t, path, func(b *bolt.Bucket) error {
			k, _ := b.Bucket([]byte("pending")).Cursor().First()
			return b.Bucket([]byte("pending")).Delete(k)
		})
	}},
}

// keepPending puts labels back in the pending list after PutSnapshot
// cleared it.
func keepPending(c *storage.CollectionTx, labels []uint64) error {
	for _, l := range labels {
		d, ok, err := c.Document(l)
		if err != nil || !ok {
			return fmt.Errorf("label %d: %v", l, err)
		}
		if err := c.PutDocument(l, d); err != nil {
			return err
		}
	}
	return nil
}

// recorder collects RecoveryEvents.
type recorder struct {
	mu     sync.Mutex
	events []RecoveryEvent
}

func (r *recorder) log(e RecoveryEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// TestDamagedSnapshotRebuilds damages only the index snapshot or the
// pending list: the collection must still open with every document, say
// that it rebuilt the index, and a writable open must store a good
// snapshot again.
func TestDamagedSnapshotRebuilds(t *testing.T) {
	for _, tc := range snapshotDamage {
		t.Run(tc.name, func(t *testing.T) {
			path, want := snapshotFixture(t)
			tc.edit(t, path)

			// Read-only: rebuilt in memory, reported, the file untouched.
			var rec recorder
			d, err := Open(path, WithEmbedder(nil), ReadOnly(), WithRecoveryLog(rec.log))
			if err != nil {
				t.Fatal(err)
			}
			c, err := d.Collection(bg, "c")
			if err != nil {
				t.Fatalf("a damaged snapshot made the collection unopenable: %v", err)
			}
			checkAllFound(t, c, want)
			info := c.Info()
			if !strings.Contains(info.IndexRebuilt, "rebuilt from the documents") || !strings.Contains(info.IndexRebuilt, "read-only") {
				t.Errorf("IndexRebuilt = %q", info.IndexRebuilt)
			}
			checkEvents(t, rec.events, false)
			d.Close()

			// Writable: rebuilt and a fresh snapshot written.
			rec = recorder{}
			d, err = Open(path, WithEmbedder(nil), WithRecoveryLog(rec.log))
			if err != nil {
				t.Fatal(err)
			}
			c, err = d.Collection(bg, "c")
			if err != nil {
				t.Fatal(err)
			}
			checkAllFound(t, c, want)
			if s := c.Info().IndexRebuilt; !strings.Contains(s, "a new snapshot was written") {
				t.Errorf("IndexRebuilt = %q", s)
			}
			checkEvents(t, rec.events, true)
			d.Close()

			// The next open uses the new snapshot.
			rec = recorder{}
			d, err = Open(path, WithEmbedder(nil), ReadOnly(), WithRecoveryLog(rec.log))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			c, err = d.Collection(bg, "c")
			if err != nil {
				t.Fatal(err)
			}
			checkAllFound(t, c, want)
			if s := c.Info().IndexRebuilt; s != "" || len(rec.events) != 0 {
				t.Errorf("after the rewrite: IndexRebuilt %q, %d events", s, len(rec.events))
			}
			err = d.store.View(func(tx *storage.Tx) error {
				c, err := tx.Collection("c")
				if err != nil {
					return err
				}
				if _, _, ok, err := c.Snapshot(); err != nil || !ok {
					return fmt.Errorf("snapshot ok=%v err=%v", ok, err)
				}
				p, err := c.Pending()
				if err != nil || len(p) != 0 {
					return fmt.Errorf("pending %v err=%v", p, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// checkEvents checks the recovery log of one load that rebuilt.
func checkEvents(t *testing.T, ev []RecoveryEvent, writable bool) {
	t.Helper()
	if len(ev) < 2 {
		t.Fatalf("%d recovery events, want a start and an end: %+v", len(ev), ev)
	}
	first, last := ev[0], ev[len(ev)-1]
	if first.Collection != "c" || first.Reason == nil || first.Done != 0 || first.Finished {
		t.Errorf("first event %+v", first)
	}
	if !last.Finished || last.Done != snapDocs || last.Total != snapDocs || last.SaveErr != nil {
		t.Errorf("last event %+v (writable %v)", last, writable)
	}
}

// checkAllFound checks that every document is stored and found by its own
// vector.
func checkAllFound(t *testing.T, c *Collection, want map[string]Document) {
	t.Helper()
	if n, err := c.Count(bg, nil); err != nil || n != len(want) {
		t.Fatalf("count %d, %v; want %d", n, err, len(want))
	}
	for id, w := range want {
		got, err := c.GetFields(bg, FieldText|FieldMetadata|FieldVector, id)
		if err != nil || got[0].Text != w.Text || !vecEqual(got[0].Vector, w.Vector) {
			t.Fatalf("get %s: %+v, %v", id, got, err)
		}
		res, err := c.SearchVector(bg, w.Vector, TopK(1))
		if err != nil || len(res) != 1 || res[0].ID != id {
			t.Fatalf("search by the vector of %s: %+v, %v", id, res, err)
		}
	}
}

// TestDamagedDataStillCorrupt damages the documents, heads or ID map, with
// or without the snapshot: that is data, not cache, and must be reported
// with ErrCorrupt rather than rebuilt around. Opening with a good snapshot
// reads no document, so a damaged document may instead fail its Get.
func TestDamagedDataStillCorrupt(t *testing.T) {
	cases := []struct {
		name string
		edit func(b *bolt.Bucket) error
	}{
		{"first document", func(b *bolt.Bucket) error {
			k, _ := b.Bucket([]byte("docs")).Cursor().First()
			return flipValue(b.Bucket([]byte("docs")), k)
		}},
		{"pending document", func(b *bolt.Bucket) error {
			k, _ := b.Bucket([]byte("docs")).Cursor().Last()
			return flipValue(b.Bucket([]byte("docs")), k)
		}},
		{"head", func(b *bolt.Bucket) error {
			k, _ := b.Bucket([]byte("heads")).Cursor().First()
			return flipValue(b.Bucket([]byte("heads")), k)
		}},
		{"ID map", func(b *bolt.Bucket) error { return b.Bucket([]byte("ids")).Delete([]byte("doc-03")) }},
	}
	for _, tc := range cases {
		for _, alsoSnapshot := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/snapshot damaged too=%v", tc.name, alsoSnapshot), func(t *testing.T) {
				path, want := snapshotFixture(t)
				editBolt(t, path, tc.edit)
				if alsoSnapshot {
					snapshotDamage[0].edit(t, path)
				}
				for _, ro := range []bool{true, false} {
					opts := []Option{WithEmbedder(nil)}
					if ro {
						opts = append(opts, ReadOnly())
					}
					d, err := Open(path, opts...)
					if err != nil {
						t.Fatal(err)
					}
					c, err := d.Collection(bg, "c")
					if err == nil {
						err = getAll(c, want)
					}
					d.Close()
					if !errors.Is(err, ErrCorrupt) {
						t.Fatalf("read-only %v: opening the collection and reading every document: %v, want ErrCorrupt", ro, err)
					}
				}
			})
		}
	}
}

// getAll reads every document and returns the first error.
func getAll(c *Collection, want map[string]Document) error {
	for id := range want {
		if _, err := c.Get(bg, id); err != nil {
			return err
		}
	}
	return nil
}
