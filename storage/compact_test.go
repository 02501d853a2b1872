package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// dump lists every bucket (with its sequence) and every key and value of a
// bbolt file's transaction, one line each, in order.
func dump(tx *bolt.Tx) []string {
	var out []string
	var walk func(path string, b *bolt.Bucket)
	walk = func(path string, b *bolt.Bucket) {
		out = append(out, fmt.Sprintf("bucket %s seq %d", path, b.Sequence()))
		_ = b.ForEach(func(k, v []byte) error {
			if sub := b.Bucket(k); sub != nil && v == nil {
				walk(fmt.Sprintf("%s/%q", path, k), sub)
				return nil
			}
			out = append(out, fmt.Sprintf("%s/%q = %x (nil %v)", path, k, v, v == nil))
			return nil
		})
	}
	_ = tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		walk(fmt.Sprintf("%q", name), b)
		return nil
	})
	return out
}

// compactFixture fills a store with two collections: documents (some
// deleted, leaving free pages and a docs sequence past the last label),
// pending entries (empty values), a multi-chunk snapshot and field records.
func compactFixture(t *testing.T, s *Store) {
	t.Helper()
	for ci, name := range []string{"a", "b"} {
		err := s.Update(func(tx *Tx) error {
			c, err := tx.CreateCollection(&CollectionConfig{Name: name, Dimension: 3, Metric: "cosine"})
			if err != nil {
				return err
			}
			if err := c.PutFieldTypes(map[string]FieldType{"n": 1}); err != nil {
				return err
			}
			if ci == 0 {
				// A snapshot of three chunks.
				err := c.PutSnapshot("hnsw", func(w io.Writer) error {
					_, err := w.Write(bytes.Repeat([]byte("graph"), 2*snapshotChunk/5+1000))
					return err
				})
				if err != nil {
					return err
				}
			}
			for i := range 2000 {
				l, err := c.NextLabel()
				if err != nil {
					return err
				}
				doc := &DocumentRecord{Id: fmt.Sprintf("%s-%d", name, i), Text: strings.Repeat("t", i%300), Vector: []float32{1, float32(i), 2}}
				if err := c.PutDocument(l, doc); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	err := s.Update(func(tx *Tx) error {
		c, err := tx.Collection("a")
		if err != nil {
			return err
		}
		for i := 0; i < 2000; i += 3 {
			l, ok, err := c.Label(fmt.Sprintf("a-%d", i))
			if err != nil || !ok {
				return fmt.Errorf("label: %v %v", ok, err)
			}
			if err := c.DeleteDocument(l, fmt.Sprintf("a-%d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The copy holds exactly the file's buckets, sequences, keys and values,
// in fewer bytes; a cancelled copy stops with ctx's error.
func TestCompactToCopiesEverything(t *testing.T) {
	s, path := openTemp(t)
	compactFixture(t, s)
	var want []string
	if err := s.db.View(func(tx *bolt.Tx) error { want = dump(tx); return nil }); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(t.TempDir(), "copy")
	f, err := os.OpenFile(out, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var last [2]int64
	published := false
	err = s.CompactTo(context.Background(), f, func(done, total int64) { last = [2]int64{done, total} }, func(cp *Store) error {
		published = true
		var got []string
		if err := cp.db.View(func(tx *bolt.Tx) error { got = dump(tx); return nil }); err != nil {
			return err
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("the copy differs: %d lines, want %d", len(got), len(want))
		}
		return cp.View(func(tx *Tx) error {
			names, err := tx.CollectionNames()
			if err != nil || len(names) != 2 {
				return fmt.Errorf("collections %v %v", names, err)
			}
			c, err := tx.Collection("a")
			if err != nil {
				return err
			}
			if n := c.Count(); n != 2000-667 {
				t.Errorf("a holds %d documents", n)
			}
			_, r, ok, err := c.Snapshot()
			if err != nil || !ok {
				return fmt.Errorf("snapshot %v %v", ok, err)
			}
			n, err := io.Copy(io.Discard, r)
			if err != nil || n != int64(len("graph")*(2*snapshotChunk/5+1000)) {
				return fmt.Errorf("snapshot of %d bytes: %v", n, err)
			}
			return nil
		})
	})
	if err != nil || !published {
		t.Fatalf("CompactTo: %v (published %v)", err, published)
	}
	if last[0] != last[1] || last[1] != int64(len(want))-2 {
		// want has a line per key, bucket and top-level bucket; progress
		// counts all but the two top-level buckets.
		t.Errorf("last progress %v, %d lines", last, len(want))
	}
	src, _ := os.Stat(path)
	dst, _ := f.Stat()
	t.Logf("%d bytes -> %d", src.Size(), dst.Size())
	if dst.Size() >= src.Size() {
		t.Errorf("the copy has %d bytes, the file %d", dst.Size(), src.Size())
	}
	// The copy opens as a vecbolt file.
	cp, err := Open(out, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if probs, err := cp.CheckPages(); err != nil || len(probs) != 0 {
		t.Errorf("the copy's pages: %v %v", probs, err)
	}
	cp.Close()

	// Cancelled at the first progress call.
	f2, err := os.OpenFile(out+"2", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	ctx, cancel := context.WithCancel(context.Background())
	err = s.CompactTo(ctx, f2, func(int64, int64) { cancel() }, func(*Store) error {
		t.Error("a cancelled copy was published")
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}

	// A store that has met damage to the page structure refuses.
	damage := fmt.Errorf("%w: a test's damage", ErrCorrupt)
	s.damage.Store(&damage)
	err = s.CompactTo(context.Background(), f2, nil, func(*Store) error {
		t.Error("a damaged store's copy was published")
		return nil
	})
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("damaged store: %v", err)
	}
}
