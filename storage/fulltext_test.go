package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestFullTextBucket: the keyword-index bucket is created, replaced and
// dropped with the collection's other buckets, and its sub-buckets (package
// fulltext keeps its posting lists in one) are walked at open: a cycle in
// the tree of such a sub-bucket is found without bbolt reading it, and
// only FullText reports it; the documents read as before.
func TestFullTextBucket(t *testing.T) {
	path := vecboltFile(t, 10)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(func(tx *Tx) error {
		c, err := tx.Collection("a")
		if err != nil {
			return err
		}
		if b, err := c.FullText(); err != nil || b != nil {
			return fmt.Errorf("a new collection has a keyword bucket: %v %v", b, err)
		}
		b, err := c.ResetFullText()
		if err != nil {
			return err
		}
		post, err := b.CreateBucket([]byte("post"))
		if err != nil {
			return err
		}
		// Enough keys for a branch page at the sub-bucket's root.
		for i := range 2000 {
			if err := post.Put(fmt.Appendf(nil, "term-%05d", i), make([]byte, 40)); err != nil {
				return err
			}
		}
		// Reset empties it.
		if _, err := c.ResetFullText(); err != nil {
			return err
		}
		if b, _ := c.FullText(); b == nil || b.Bucket([]byte("post")) != nil {
			return errors.New("ResetFullText kept the old contents")
		}
		if err := c.DropFullText(); err != nil {
			return err
		}
		if b, _ := c.FullText(); b != nil {
			return errors.New("DropFullText left the bucket")
		}
		b, err = c.ResetFullText()
		if err != nil {
			return err
		}
		post, err = b.CreateBucket([]byte("post"))
		if err != nil {
			return err
		}
		for i := range 2000 {
			if err := post.Put(fmt.Appendf(nil, "term-%05d", i), make([]byte, 40)); err != nil {
				return err
			}
		}
		return nil
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const ps = 4096
	root := bucketRoot(t, path, "collections", "a", "fulltext", "post")
	page := raw[root*ps:]
	if binary.LittleEndian.Uint16(page[8:]) != branchPageFlag {
		t.Fatalf("the posting bucket's root page %d is not a branch page", root)
	}
	binary.LittleEndian.PutUint64(page[boltPageHeader+8:], root)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.View(func(tx *Tx) error {
		c, err := tx.Collection("a")
		if err != nil {
			return fmt.Errorf("the keyword index is a cache; its damage must not hide the documents: %w", err)
		}
		if d, ok, err := c.Document(1); err != nil || !ok || d.Id != "doc-00000" {
			t.Errorf("documents: %v %v %v", d, ok, err)
		}
		if _, err := c.FullText(); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `"fulltext"`) {
			t.Errorf("FullText on damaged pages: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	probs, err := s.CheckPages()
	if err != nil || len(probs) == 0 || strings.Join(probs[0].Path, "/") != "collections/a/fulltext/post" {
		t.Errorf("CheckPages: %v %v", probs, err)
	}
}
