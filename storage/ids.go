package storage

import "fmt"

// ForEachIDAfter is ForEachID starting after the ID after (exclusive; ""
// starts at the first ID, since no ID is empty) and stopping when fn
// returns false or an error. It lets a caller read the ID map in pages,
// one transaction each, without walking the IDs before its page again.
func (c *CollectionTx) ForEachIDAfter(after string, fn func(id []byte, label uint64) (bool, error)) error {
	cur := c.b.Bucket(bucketIDs).Cursor()
	k, v := cur.First()
	if after != "" {
		k, v = cur.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, v = cur.Next()
		}
	}
	for ; k != nil; k, v = cur.Next() {
		label, err := decodeLabel(v)
		if err != nil {
			return fmt.Errorf("collection %q, id %q: %w", c.name, k, err)
		}
		more, err := fn(k, label)
		if err != nil || !more {
			return err
		}
	}
	return nil
}
