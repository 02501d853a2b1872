package db

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countdownCtx is a context that is done from its n-th Err call on, with
// cause err: a test can stop a load at each of its checks in turn,
// deterministically. n < 0 never ends it, and counts the checks.
type countdownCtx struct {
	n     int64
	cause error
	calls atomic.Int64
	once  sync.Once
	done  chan struct{}
}

func newCountdown(n int64, cause error) *countdownCtx {
	return &countdownCtx{n: n, cause: cause, done: make(chan struct{})}
}

func (c *countdownCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *countdownCtx) Value(any) any               { return nil }
func (c *countdownCtx) Done() <-chan struct{}       { return c.done }
func (c *countdownCtx) Err() error {
	if k := c.calls.Add(1); c.n >= 0 && k >= c.n {
		c.once.Do(func() { close(c.done) })
		return c.cause
	}
	return nil
}

// TestCollectionLoadHonoursContext stops the load of a collection at each
// of its context checks in turn, through the snapshot path and through a
// rebuild from the documents, and checks that the load returns the
// context's error, registers nothing, and that the next load succeeds.
func TestCollectionLoadHonoursContext(t *testing.T) {
	const n = 2500
	const dim = 8
	tests := []struct {
		name  string
		opts  []CollectionOption
		cause error
	}{
		{"hnsw from its snapshot, cancelled", []CollectionOption{WithDimension(dim)}, context.Canceled},
		{"hnsw from its snapshot, deadline", []CollectionOption{WithDimension(dim)}, context.DeadlineExceeded},
		{"flat, rebuilt from the documents", []CollectionOption{WithDimension(dim), WithFlatIndex()}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, path := openTest(t)
			c := mustCollection(t, d, "c", tt.opts...)
			r := rand.New(rand.NewPCG(1, 2))
			docs := make([]Document, n)
			for i := range docs {
				v := make([]float32, dim)
				for j := range v {
					v[j] = r.Float32() + 0.01
				}
				docs[i] = Document{ID: fmt.Sprint("d", i), Vector: v, Metadata: map[string]any{"i": i}}
			}
			if _, err := c.Insert(bg, docs...); err != nil {
				t.Fatal(err)
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}

			reopen := func() *DB {
				d, err := Open(path, WithEmbedder(nil))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { d.Close() })
				return d
			}
			// How many checks a whole load makes.
			count := newCountdown(-1, nil)
			d = reopen()
			if _, err := d.Collection(count, "c"); err != nil {
				t.Fatal(err)
			}
			d.Close()
			total := count.calls.Load()
			if total < 5 {
				t.Fatalf("a load of %d documents checked its context %d times", n, total)
			}
			d = reopen()
			// The first check is Collection's own, before the load.
			for _, k := range []int64{2, 3, 4, total / 2, total - 1, total} {
				ctx := newCountdown(k, tt.cause)
				_, err := d.Collection(ctx, "c")
				if !errors.Is(err, tt.cause) {
					t.Fatalf("stopped at check %d of %d: got %v, want %v", k, total, err, tt.cause)
				}
				d.colMu.Lock()
				_, registered := d.cols["c"]
				d.colMu.Unlock()
				if registered {
					t.Fatalf("stopped at check %d: the collection is registered", k)
				}
			}
			c, err := d.Collection(bg, "c")
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := c.Count(bg, nil); got != n {
				t.Fatalf("count %d after the cancelled loads, want %d", got, n)
			}
			hits, err := c.SearchVector(bg, docs[7].Vector, TopK(1))
			if err != nil || len(hits) != 1 || hits[0].ID != "d7" {
				t.Fatalf("search after the cancelled loads: %v %v", hits, err)
			}
			if info := c.Info(); info.IndexRebuilt != "" {
				t.Fatalf("a cancelled load left a trace: %s", info.IndexRebuilt)
			}
		})
	}
}

// TestCollectionLoadCancelRace cancels loads at random moments from
// another goroutine: each load either finishes or returns the context's
// error, and the collection stays loadable. It is for -race.
func TestCollectionLoadCancelRace(t *testing.T) {
	d, path := openTest(t)
	c := mustCollection(t, d, "c", WithDimension(4), WithFlatIndex())
	docs := make([]Document, 2000)
	for i := range docs {
		docs[i] = Document{ID: fmt.Sprint(i), Vector: []float32{float32(i%7) + 1, 1, float32(i % 3), 1}}
	}
	if _, err := c.Insert(bg, docs...); err != nil {
		t.Fatal(err)
	}
	d.Close()
	for i := range 6 {
		d, err := Open(path, WithEmbedder(nil))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(bg)
		go func() {
			time.Sleep(time.Duration(i) * 200 * time.Microsecond)
			cancel()
		}()
		_, err = d.Collection(ctx, "c")
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("load %d: %v", i, err)
		}
		c, err := d.Collection(bg, "c")
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := c.Count(bg, nil); n != len(docs) {
			t.Fatalf("count %d", n)
		}
		cancel()
		d.Close()
	}
}
