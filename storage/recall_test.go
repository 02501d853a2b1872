package storage

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"
)

// TestRecallTuning: a collection has no record until one is put; a put
// replaces it; a damaged record is ErrCorrupt (db then measures anew).
func TestRecallTuning(t *testing.T) {
	s, _ := openTemp(t)
	err := s.Update(func(tx *Tx) error {
		_, err := tx.CreateCollection(&CollectionConfig{Name: "c", Dimension: 4, Metric: "l2"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	read := func() (*RecallTuning, bool, error) {
		var rec *RecallTuning
		var ok bool
		err := s.View(func(tx *Tx) error {
			c, err := tx.Collection("c")
			if err != nil {
				return err
			}
			rec, ok, err = c.RecallTuning()
			return err
		})
		return rec, ok, err
	}
	if _, ok, err := read(); ok || err != nil {
		t.Fatalf("new collection: ok %v, %v", ok, err)
	}
	for _, want := range []*RecallTuning{
		{Target: 0.95, Recall: 0.961, Ef: 96, Met: true, K: 10, Queries: 200, Count: 20000, MeasuredUnix: 1, ModelHash: "h"},
		{Target: 0.99, Recall: 0.98, Ef: 2048, K: 10, Queries: 200, Count: 40000, MeasuredUnix: 2},
	} {
		err := s.Update(func(tx *Tx) error {
			c, err := tx.Collection("c")
			if err != nil {
				return err
			}
			return c.PutRecallTuning(want)
		})
		if err != nil {
			t.Fatal(err)
		}
		got, ok, err := read()
		if err != nil || !ok || !proto.Equal(got, want) {
			t.Fatalf("got %v, %v, %v; want %v", got, ok, err, want)
		}
	}
	err = s.Update(func(tx *Tx) error {
		c, err := tx.Collection("c")
		if err != nil {
			return err
		}
		v := append([]byte(nil), c.b.Get(keyRecall)...)
		v[len(v)-1] ^= 1
		return c.b.Put(keyRecall, v)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := read(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("damaged record: %v", err)
	}
}
