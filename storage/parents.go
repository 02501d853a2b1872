package storage

import (
	"fmt"

	"google.golang.org/protobuf/proto"
)

// bucketParents holds the documents of a chunked collection (see
// ChunkParams): document ID -> Document with its text, metadata, passage
// count and the vector of its whole text (not in the index). Its passages are ordinary entries of "docs",
// "heads" and "ids" (so the index, filters, snapshots and recovery treat
// them as they treat any document), each naming its document in parent_id
// with byte offsets into the document's text, and no text of their own.
// Package db writes a document and all its passages in one transaction.
// The bucket is made by the first PutParent: a collection that was never
// chunked has none, and readers treat a missing bucket as empty.
var bucketParents = []byte("parents")

// PutParent stores the document record d of a chunked collection under
// its ID, replacing any record of that ID.
func (c *CollectionTx) PutParent(d *DocumentRecord) error {
	b, err := c.b.CreateBucketIfNotExists(bucketParents)
	if err != nil {
		return fmt.Errorf("storage: collection %q: parents bucket: %w", c.name, err)
	}
	v, err := seal(d)
	if err != nil {
		return err
	}
	return b.Put([]byte(d.Id), v)
}

// Parent reads the document record of a chunked collection; ok is false
// if none has that ID.
func (c *CollectionTx) Parent(id string) (*DocumentRecord, bool, error) {
	b := c.b.Bucket(bucketParents)
	if b == nil {
		return nil, false, nil
	}
	v := b.Get([]byte(id))
	if v == nil {
		return nil, false, nil
	}
	d, err := DecodeDocument(v)
	if err != nil {
		return nil, false, fmt.Errorf("collection %q, document %q: %w", c.name, id, err)
	}
	return d, true, nil
}

// DeleteParent removes the document record of that ID, if any. Its
// passages are the caller's to delete in the same transaction.
func (c *CollectionTx) DeleteParent(id string) error {
	b := c.b.Bucket(bucketParents)
	if b == nil {
		return nil
	}
	return b.Delete([]byte(id))
}

// ParentCount returns the number of document records.
func (c *CollectionTx) ParentCount() int {
	b := c.b.Bucket(bucketParents)
	if b == nil {
		return 0
	}
	return b.Stats().KeyN
}

// ForEachParent calls fn for every document record, in ID order, starting
// after the ID after (from the first when after is ""); fn returns false to
// stop. The record is only valid during the call.
func (c *CollectionTx) ForEachParent(after string, fn func(d *DocumentRecord) (bool, error)) error {
	b := c.b.Bucket(bucketParents)
	if b == nil {
		return nil
	}
	cur := b.Cursor()
	var k, v []byte
	if after == "" {
		k, v = cur.First()
	} else {
		k, v = cur.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, v = cur.Next()
		}
	}
	for ; k != nil; k, v = cur.Next() {
		payload, err := openEnvelope(v)
		if err != nil {
			return fmt.Errorf("collection %q, document %q: %w", c.name, k, err)
		}
		d := new(DocumentRecord)
		if err := proto.Unmarshal(payload, d); err != nil {
			return fmt.Errorf("collection %q, document %q: %w: %v", c.name, k, ErrCorrupt, err)
		}
		more, err := fn(d)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// ParentVector appends the vector of the document record id to dst (the
// whole document's embedding, in a chunked collection) and returns its
// passage count, reading only those fields after checking the record's
// checksum; ok is false if there is no such record.
func (c *CollectionTx) ParentVector(id string, dst []float32) (vec []float32, passages int, ok bool, err error) {
	b := c.b.Bucket(bucketParents)
	if b == nil {
		return dst, 0, false, nil
	}
	v := b.Get([]byte(id))
	if v == nil {
		return dst, 0, false, nil
	}
	payload, err := openEnvelope(v)
	var n uint32
	if err == nil {
		vec, err = decodeVector(payload, dst)
	}
	if err == nil {
		n, err = decodePassages(payload)
	}
	if err != nil {
		return dst, 0, false, fmt.Errorf("collection %q, document %q: %w", c.name, id, err)
	}
	return vec, int(n), true, nil
}
