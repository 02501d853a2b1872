package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func pendingCount(t *testing.T, c *CollectionTx) int {
	t.Helper()
	n, err := c.PendingCount()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// vecboltFile builds a database with collection "a" of n documents of
// dimension 384 (several levels of branch pages in its documents bucket
// for n in the hundreds) and collection "b" of 3, and returns its path.
func vecboltFile(t testing.TB, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.vecbolt")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		name string
		n    int
	}{{"a", n}, {"b", 3}} {
		err := s.Update(func(tx *Tx) error {
			ct, err := tx.CreateCollection(&CollectionConfig{Name: c.name, Dimension: 384, Metric: "cosine"})
			if err != nil {
				return err
			}
			vec := make([]float32, 384)
			for i := range c.n {
				vec[i%384] = float32(i + 1)
				label, err := ct.NextLabel()
				if err != nil {
					return err
				}
				if err := ct.PutDocument(label, &DocumentRecord{Id: fmt.Sprintf("doc-%05d", i), Vector: vec}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// bucketRoot returns the root page of the bucket at path in a sound file.
func bucketRoot(t *testing.T, file string, path ...string) uint64 {
	t.Helper()
	bdb, err := bolt.Open(file, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	var root uint64
	err = bdb.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(path[0]))
		for _, p := range path[1:] {
			b = b.Bucket([]byte(p))
		}
		root = uint64(b.RootPage())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestOpenRecordsDamagedTrees: a cycle in the tree of one collection's
// documents is found at open, without bbolt reading it. That collection
// reports ErrCorrupt naming it and the bucket, the other collection reads
// as before, and the store refuses writes. Before the walk at open, a Get
// in that collection overflowed the stack (a fatal error); here the test
// asks Collection, which let it through.
func TestOpenRecordsDamagedTrees(t *testing.T) {
	path := vecboltFile(t, 400)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const ps = 4096
	root := bucketRoot(t, path, "collections", "a", "docs")
	page := raw[root*ps:]
	if binary.LittleEndian.Uint16(page[8:]) != branchPageFlag {
		t.Fatalf("the documents' root page %d is not a branch page", root)
	}
	// The root's first element points at the root itself.
	binary.LittleEndian.PutUint64(page[boltPageHeader+8:], root)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, readOnly := range []bool{false, true} {
		s, err := Open(path, Options{ReadOnly: readOnly})
		if err != nil {
			t.Fatalf("open (read-only %v): %v", readOnly, err)
		}
		err = s.View(func(tx *Tx) error {
			names, err := tx.CollectionNames()
			if err != nil || len(names) != 2 {
				t.Errorf("names %v, %v", names, err)
			}
			_, err = tx.Collection("a")
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `collection "a"`) || !strings.Contains(err.Error(), `"docs"`) {
				t.Errorf("damaged collection: %v", err)
			}
			b, err := tx.Collection("b")
			if err != nil {
				return err
			}
			if d, ok, err := b.Document(1); err != nil || !ok || d.Id != "doc-00000" {
				t.Errorf("intact collection: %v %v %v", d, ok, err)
			}
			if n := pendingCount(t, b); n != 3 {
				t.Errorf("intact collection: %d pending", n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !readOnly {
			err = s.Update(func(tx *Tx) error { return tx.DeleteCollection("b") })
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "writes are refused") {
				t.Errorf("write: %v", err)
			}
		}
		probs, err := s.CheckPages()
		if err != nil || len(probs) == 0 || strings.Join(probs[0].Path, "/") != "collections/a/docs" {
			t.Errorf("CheckPages: %v %v", probs, err)
		}
		s.Close()
	}
}

// FuzzWalkPages feeds arbitrary bytes to the page walk, in both modes: it
// must never panic, never loop, and never allocate more than the file's
// size per page read. Seeds: small bbolt files of 512-byte pages
// (testdata/fuzz).
func FuzzWalkPages(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, ps := range []int{512, 4096} {
			for _, full := range []bool{true, false} {
				w := walkPagesAt(bytes.NewReader(data), int64(len(data)), ps, full)
				for _, p := range w.problems {
					if p.Msg == "" {
						t.Fatalf("a problem without a message: %+v", p)
					}
				}
			}
		}
	})
}

// TestWalkPagesSound: the walk finds nothing wrong in sound files of
// several shapes, in either mode, so that every problem it reports is
// real; the shape walk reads a small part of a vecbolt file's pages.
func TestWalkPagesSound(t *testing.T) {
	for _, ps := range []int{512, 4096} {
		raw := smallBolt(t, ps, 300)
		for _, full := range []bool{true, false} {
			if w := walkPagesAt(bytes.NewReader(raw), int64(len(raw)), ps, full); len(w.problems) != 0 {
				t.Errorf("page size %d, full %v: %v", ps, full, w.problems)
			}
		}
	}
	raw, err := os.ReadFile(vecboltFile(t, 600))
	if err != nil {
		t.Fatal(err)
	}
	var reads [2]int
	for i, full := range []bool{true, false} {
		w := walkPagesAt(bytes.NewReader(raw), int64(len(raw)), 4096, full)
		if len(w.problems) != 0 {
			t.Errorf("vecbolt file, full %v: %v", full, w.problems)
		}
		reads[i] = w.reads
	}
	if reads[1]*10 > reads[0] {
		t.Errorf("the shape walk read %d pages, the full walk %d", reads[1], reads[0])
	}
	t.Logf("pages read: full walk %d, shape walk %d", reads[0], reads[1])
}

// smallBolt builds a bbolt file with nested, inline and multi-page buckets.
func smallBolt(t testing.TB, pageSize, n int) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "small.bolt")
	bdb, err := bolt.Open(p, 0o600, &bolt.Options{PageSize: pageSize})
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		a, err := tx.CreateBucket([]byte("a"))
		if err != nil {
			return err
		}
		for i := range n {
			if err := a.Put(fmt.Appendf(nil, "key-%05d", i), bytes.Repeat([]byte{byte(i)}, i%40)); err != nil {
				return err
			}
		}
		in, err := a.CreateBucket([]byte("inline"))
		if err != nil {
			return err
		}
		if err := in.Put([]byte("k"), []byte("v")); err != nil {
			return err
		}
		big, err := tx.CreateBucket([]byte("big"))
		if err != nil {
			return err
		}
		return big.Put([]byte("v"), bytes.Repeat([]byte("x"), 3*pageSize))
	})
	if cerr := bdb.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
