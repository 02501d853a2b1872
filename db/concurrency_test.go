package db

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Many searches run while one writer inserts, upserts and deletes; run with
// -race. Every search must succeed and return min(K, live) results.
func TestConcurrentInsertSearch(t *testing.T) {
	d, _ := openTest(t)
	c := mustCollection(t, d, "c")
	if _, err := c.Insert(bg, animals...); err != nil {
		t.Fatal(err)
	}
	const writes = 60
	var stop atomic.Bool
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				res, err := c.Search(bg, fmt.Sprintf("document %d animal", i), TopK(5), WhereExpr(`EXISTS n OR kind = "pet"`))
				if err != nil {
					errc <- fmt.Errorf("reader %d: %w", r, err)
					return
				}
				// 3 pets always exist, so at least 3 results.
				if len(res) < 3 {
					errc <- fmt.Errorf("reader %d: %d results", r, len(res))
					return
				}
				// Unfiltered, with the stored text: a document the index
				// already holds must already have its ID.
				res, err = c.Search(bg, fmt.Sprintf("document %d written", i), TopK(8), WithFields(FieldText))
				if err != nil {
					errc <- fmt.Errorf("reader %d: %w", r, err)
					return
				}
				for _, x := range res {
					if x.ID == "" || x.Text == "" {
						errc <- fmt.Errorf("reader %d: result without ID or text: %+v", r, x)
						return
					}
				}
			}
		}()
	}
	for i := range writes {
		docs := []Document{
			{ID: fmt.Sprint("w", i), Text: fmt.Sprintf("document %d written concurrently", i), Metadata: map[string]any{"n": i}},
			{ID: fmt.Sprint("x", i), Text: fmt.Sprintf("another document %d", i), Metadata: map[string]any{"n": i}},
		}
		if _, err := c.Upsert(bg, docs...); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if _, err := c.Delete(bg, fmt.Sprint("x", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if n, _ := c.Count(bg, nil); n != 5+writes*2-writes/3 {
		t.Fatalf("count %d", n)
	}
}

// Close while searches run returns cleanly; later calls get ErrClosed.
func TestCloseDuringSearches(t *testing.T) {
	d, _ := openTest(t)
	c := mustCollection(t, d, "c")
	if _, err := c.Insert(bg, animals...); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var ok, closed atomic.Int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, err := c.Search(bg, "cat", TopK(3))
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, ErrClosed):
					closed.Add(1)
					return
				default:
					t.Errorf("search: %v", err)
					return
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if ok.Load() == 0 || closed.Load() != 4 {
		t.Fatalf("ok %d, closed %d", ok.Load(), closed.Load())
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := d.Collections(bg); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

// Reembed and DeleteCollection racing must not deadlock (they take the
// collection's write lock and the collection map's lock in the same order).
func TestReembedDeleteCollectionRace(t *testing.T) {
	for i := range 20 {
		d, _ := openTest(t)
		name := fmt.Sprint("c", i)
		c := mustCollection(t, d, name)
		if _, err := c.Insert(bg, animals...); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{}, 2)
		go func() { _ = d.Reembed(bg, name, nil); done <- struct{}{} }()
		go func() { _ = d.DeleteCollection(bg, name); done <- struct{}{} }()
		for range 2 {
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Reembed and DeleteCollection deadlocked")
			}
		}
		d.Close()
	}
}
