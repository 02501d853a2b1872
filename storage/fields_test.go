package storage

import (
	"errors"
	"maps"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/vecbolt/vecbolt/storage/internal/pb"
)

// TestFieldTypes: a new collection has an empty, complete record; puts add
// and replace types; a collection without the marker (made before records
// existed) reads as unrecorded until its first put; a damaged record is
// ErrCorrupt.
func TestFieldTypes(t *testing.T) {
	s, _ := openTemp(t)
	read := func() (map[string]FieldType, bool, error) {
		var types map[string]FieldType
		var recorded bool
		err := s.View(func(tx *Tx) error {
			c, err := tx.Collection("c")
			if err != nil {
				return err
			}
			types, recorded, err = c.FieldTypes()
			return err
		})
		return types, recorded, err
	}
	update := func(fn func(c *CollectionTx, b *bolt.Bucket) error) {
		t.Helper()
		err := s.Update(func(tx *Tx) error {
			c, err := tx.Collection("c")
			if err != nil {
				return err
			}
			return fn(c, c.b)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	err := s.Update(func(tx *Tx) error {
		_, err := tx.CreateCollection(&CollectionConfig{Name: "c", Dimension: 4, Metric: "l2"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	num, str := pb.FieldType_FIELD_TYPE_NUMBER, pb.FieldType_FIELD_TYPE_STRING
	steps := []struct {
		name     string
		do       func(c *CollectionTx, b *bolt.Bucket) error
		want     map[string]FieldType
		recorded bool
	}{
		{"new collection", nil, map[string]FieldType{}, true},
		{"put", func(c *CollectionTx, _ *bolt.Bucket) error {
			return c.PutFieldTypes(map[string]FieldType{"n": num, "s": str, "odd key:": num})
		}, map[string]FieldType{"n": num, "s": str, "odd key:": num}, true},
		{"replace one", func(c *CollectionTx, _ *bolt.Bucket) error {
			return c.PutFieldTypes(map[string]FieldType{"n": pb.FieldType_FIELD_TYPE_MIXED})
		}, map[string]FieldType{"n": pb.FieldType_FIELD_TYPE_MIXED, "s": str, "odd key:": num}, true},
		{"no marker (an older collection)", func(_ *CollectionTx, b *bolt.Bucket) error {
			return b.Delete(keyFieldsRecorded)
		}, nil, false},
		{"first put records", func(c *CollectionTx, _ *bolt.Bucket) error {
			return c.PutFieldTypes(nil)
		}, map[string]FieldType{"n": pb.FieldType_FIELD_TYPE_MIXED, "s": str, "odd key:": num}, true},
	}
	for _, st := range steps {
		if st.do != nil {
			update(st.do)
		}
		types, recorded, err := read()
		if err != nil || recorded != st.recorded || !maps.Equal(types, st.want) {
			t.Fatalf("%s: %v %v %v, want %v %v", st.name, types, recorded, err, st.want, st.recorded)
		}
	}
	if err := s.Update(func(tx *Tx) error {
		c, _ := tx.Collection("c")
		return c.PutFieldTypes(map[string]FieldType{"": num})
	}); err == nil {
		t.Fatal("empty field name accepted")
	}
	for _, key := range []string{"field:s", "fields"} {
		update(func(_ *CollectionTx, b *bolt.Bucket) error {
			return b.Put([]byte(key), []byte{1, 2, 3})
		})
		if _, _, err := read(); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("damaged %q: %v", key, err)
		}
	}
}
