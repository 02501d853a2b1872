package storage

import (
	"fmt"

	"github.com/vecbolt/vecbolt/storage/internal/pb"
)

// RecallTuning is a collection's last recall measurement and the efSearch
// chosen from it (package db, recall.go), stored under the collection's key
// "recall". It is a cache: a missing or damaged record only means the
// collection is measured again.
type RecallTuning = pb.RecallTuning

var keyRecall = []byte("recall")

// RecallTuning reads the collection's recall record; ok is false when it
// has none.
func (c *CollectionTx) RecallTuning() (t *RecallTuning, ok bool, err error) {
	v := c.b.Get(keyRecall)
	if v == nil {
		return nil, false, nil
	}
	t = new(RecallTuning)
	if err := unseal(v, t); err != nil {
		return nil, false, fmt.Errorf("collection %q, recall record: %w", c.name, err)
	}
	return t, true, nil
}

// PutRecallTuning replaces the collection's recall record.
func (c *CollectionTx) PutRecallTuning(t *RecallTuning) error {
	v, err := seal(t)
	if err != nil {
		return err
	}
	if err := c.b.Put(keyRecall, v); err != nil {
		return fmt.Errorf("storage: collection %q, recall record: %w", c.name, err)
	}
	return nil
}
