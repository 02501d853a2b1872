package db

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A write that fails for lack of disk space returns an error, and the
// database stays usable and consistent: everything acknowledged before is
// readable and searchable, now and after reopening. It runs on a real 3 MiB
// tmpfs, so it needs root (CI and the development machines are root).
func TestDiskFull(t *testing.T) {
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=3m"); err != nil {
		t.Skipf("cannot mount a small tmpfs here (%v); the test needs root", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(mnt, syscall.MNT_DETACH) })
	path := filepath.Join(mnt, "full.vecbolt")
	d, err := Open(path, WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	c := mustCollection(t, d, "c", WithDimension(crashDim), WithMetric(L2), WithFlatIndex())
	acked := map[string]Document{}
	var writeErr error
	for b := 0; b < 10000 && writeErr == nil; b++ {
		var docs []Document
		for i := range 10 {
			doc := crashDoc(fmt.Sprintf("doc-%d-%d", b, i), b)
			doc.Text = strings.Repeat(doc.Text+" ", 40)
			docs = append(docs, doc)
		}
		if _, writeErr = c.Insert(bg, docs...); writeErr == nil {
			for _, doc := range docs {
				acked[doc.ID] = doc
			}
		}
	}
	if writeErr == nil {
		t.Fatal("a 3 MiB file system never filled up")
	}
	if !errors.Is(writeErr, syscall.ENOSPC) {
		t.Fatalf("write error does not wrap ENOSPC: %v", writeErr)
	}
	t.Logf("disk full after %d documents: %v", len(acked), writeErr)
	check := func(c *Collection) {
		t.Helper()
		if n, _ := c.Count(bg, nil); n != len(acked) {
			t.Fatalf("count %d, acknowledged %d", n, len(acked))
		}
		for id, w := range acked {
			got, err := c.GetFields(bg, FieldText|FieldMetadata|FieldVector, id)
			if err != nil || got[0].Text != w.Text || !vecEqual(got[0].Vector, w.Vector) {
				t.Fatalf("%s after disk full: %v", id, err)
			}
		}
		res, err := c.SearchVector(bg, acked["doc-0-3"].Vector, TopK(1))
		if err != nil || res[0].ID != "doc-0-3" {
			t.Fatalf("search after disk full: %v %v", res, err)
		}
	}
	check(c)
	// Deleting frees pages, and small writes can go through again.
	var victims []string
	for id := range acked {
		if strings.HasPrefix(id, "doc-1-") {
			victims = append(victims, id)
		}
	}
	if _, err := c.Delete(bg, victims...); err == nil {
		for _, id := range victims {
			delete(acked, id)
		}
	}
	check(c)
	if err := d.Close(); err != nil {
		// Close writes the index snapshot, which may not fit: that loses
		// nothing, it only means the next open re-indexes.
		t.Logf("close on a full disk: %v", err)
	}
	_ = os.Remove(path + ".tmp")
	d2, err := Open(path, WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	c2, err := d2.Collection(bg, "c")
	if err != nil {
		t.Fatal(err)
	}
	check(c2)
}
