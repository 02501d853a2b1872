package db

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestReindex rebuilds the index of a collection whose snapshot is damaged,
// and checks the arguments and failures of Reindex.
func TestReindex(t *testing.T) {
	t.Run("damaged snapshot", func(t *testing.T) {
		path, want := snapshotFixture(t)
		snapshotDamage[0].edit(t, path)
		// No recovery on this open: Reindex is what fixes the file.
		d, err := Open(path, WithEmbedder(nil))
		if err != nil {
			t.Fatal(err)
		}
		var calls, lastDone, lastTotal int
		err = d.Reindex(bg, "c", func(done, total int) { calls++; lastDone, lastTotal = done, total })
		if err != nil {
			t.Fatal(err)
		}
		if calls < 1 || lastDone != snapDocs || lastTotal != snapDocs {
			t.Errorf("progress: %d calls, last %d/%d", calls, lastDone, lastTotal)
		}
		c, err := d.Collection(bg, "c")
		if err != nil {
			t.Fatal(err)
		}
		checkAllFound(t, c, want)
		if s := c.Info().IndexRebuilt; s != "" && !strings.HasSuffix(s, "a new snapshot was written") {
			t.Errorf("IndexRebuilt after Reindex: %q", s)
		}
		d.Close()
		var rec recorder
		d, err = Open(path, WithEmbedder(nil), ReadOnly(), WithRecoveryLog(rec.log))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		c, err = d.Collection(bg, "c")
		if err != nil {
			t.Fatal(err)
		}
		checkAllFound(t, c, want)
		if len(rec.events) != 0 {
			t.Errorf("the snapshot Reindex wrote was not used: %+v", rec.events)
		}
	})
	t.Run("writes since a rebuild on load", func(t *testing.T) {
		path, want := snapshotFixture(t)
		snapshotDamage[0].edit(t, path)
		d, err := Open(path, WithEmbedder(nil))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		c, err := d.Collection(bg, "c")
		if err != nil {
			t.Fatal(err)
		}
		doc := crashDoc("new", 0)
		want[doc.ID] = doc
		if _, err := c.Insert(bg, doc); err != nil {
			t.Fatal(err)
		}
		last := 0
		if err := d.Reindex(bg, "c", func(done, total int) { last = total }); err != nil {
			t.Fatal(err)
		}
		if last != snapDocs+1 {
			t.Errorf("progress total %d, want %d", last, snapDocs+1)
		}
		checkAllFound(t, c, want)
		if s := c.Info().IndexRebuilt; s != "" {
			t.Errorf("IndexRebuilt after a full Reindex: %q", s)
		}
	})
	t.Run("flat index", func(t *testing.T) {
		d, _ := openTest(t, WithEmbedder(nil))
		c := mustCollection(t, d, "f", WithDimension(crashDim), WithFlatIndex())
		want := map[string]Document{}
		for i := range 10 {
			doc := crashDoc(fmt.Sprint("f", i), 0)
			want[doc.ID] = doc
			if _, err := c.Insert(bg, doc); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Reindex(bg, "f", nil); err != nil {
			t.Fatal(err)
		}
		checkAllFound(t, c, want)
	})
	t.Run("errors", func(t *testing.T) {
		path, want := snapshotFixture(t)
		d, err := Open(path, WithEmbedder(nil))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Reindex(bg, "nope", nil); !errors.Is(err, ErrCollectionNotFound) {
			t.Errorf("unknown collection: %v", err)
		}
		ctx, cancel := context.WithCancel(bg)
		cancel()
		if err := d.Reindex(ctx, "c", nil); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: %v", err)
		}
		d.Close()
		if err := d.Reindex(bg, "c", nil); !errors.Is(err, ErrClosed) {
			t.Errorf("closed: %v", err)
		}
		d, err = Open(path, WithEmbedder(nil), ReadOnly())
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Reindex(bg, "c", nil); !errors.Is(err, ErrReadOnly) {
			t.Errorf("read-only: %v", err)
		}
		d.Close()
		// Damaged data is reported, not indexed around.
		editBolt(t, path, func(b *bolt.Bucket) error {
			k, _ := b.Bucket([]byte("docs")).Cursor().First()
			return flipValue(b.Bucket([]byte("docs")), k)
		})
		d, err = Open(path, WithEmbedder(nil))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if err := d.Reindex(bg, "c", nil); !errors.Is(err, ErrCorrupt) {
			t.Errorf("damaged document: %v, want ErrCorrupt", err)
		}
		_ = want
	})
}

// TestReindexRacesWrites runs Reindex over and over while other goroutines
// insert, upsert and delete: every acknowledged write must be in the index
// afterwards and after reopening. It starts on an unloaded collection, so
// that Reindex and the writers must share one handle.
func TestReindexRacesWrites(t *testing.T) {
	path, want := snapshotFixture(t)
	d, err := Open(path, WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := d.Collection(bg, "c")
			if err != nil {
				t.Error(err)
				return
			}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				doc := crashDoc(fmt.Sprintf("w%d-%d", w, i), i)
				if _, err := c.Upsert(bg, doc); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				want[doc.ID] = doc
				mu.Unlock()
				if i%3 == 2 {
					old := fmt.Sprintf("w%d-%d", w, i-1)
					if _, err := c.Delete(bg, old); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					delete(want, old)
					mu.Unlock()
				}
			}
		}()
	}
	for range 15 {
		if err := d.Reindex(bg, "c", nil); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	c, err := d.Collection(bg, "c")
	if err != nil {
		t.Fatal(err)
	}
	checkAllFound(t, c, want)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = Open(path, WithEmbedder(nil), ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err = d.Collection(bg, "c")
	if err != nil {
		t.Fatal(err)
	}
	checkAllFound(t, c, want)
	if s := c.Info().IndexRebuilt; s != "" {
		t.Errorf("after reopening: %s", s)
	}
}
