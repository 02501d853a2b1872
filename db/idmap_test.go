package db

import (
	"errors"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/vecbolt/vecbolt/storage"
)

// TestIDMapMismatchIsCorrupt edits the ID map behind the documents' back
// (bbolt does not checksum keys): opening the collection must report it.
func TestIDMapMismatchIsCorrupt(t *testing.T) {
	cases := []struct {
		name string
		edit func(ids *bolt.Bucket) error
	}{
		{"renamed ID", func(ids *bolt.Bucket) error {
			v := ids.Get([]byte("dog"))
			if err := ids.Delete([]byte("dog")); err != nil {
				return err
			}
			return ids.Put([]byte("dof"), v)
		}},
		{"swapped labels", func(ids *bolt.Bucket) error {
			a, b := append([]byte(nil), ids.Get([]byte("cat"))...), append([]byte(nil), ids.Get([]byte("dog"))...)
			if err := ids.Put([]byte("cat"), b); err != nil {
				return err
			}
			return ids.Put([]byte("dog"), a)
		}},
		{"missing ID", func(ids *bolt.Bucket) error { return ids.Delete([]byte("eagle")) }},
		{"extra ID", func(ids *bolt.Bucket) error { return ids.Put([]byte("ghost"), storage.LabelKey(2)) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, path := openTest(t)
			c := mustCollection(t, d, "c")
			if _, err := c.Insert(bg, animals...); err != nil {
				t.Fatal(err)
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			bdb, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = bdb.Update(func(tx *bolt.Tx) error {
				return tc.edit(tx.Bucket([]byte("collections")).Bucket([]byte("c")).Bucket([]byte("ids")))
			})
			if cerr := bdb.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
			d2, err := Open(path, WithEmbedder(newHashEmbedder("hash-a", 64)))
			if err != nil {
				t.Fatal(err)
			}
			defer d2.Close()
			if _, err := d2.Collection(bg, "c"); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("opening the collection: %v, want ErrCorrupt", err)
			}
		})
	}
}
