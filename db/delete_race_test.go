package db

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vecbolt/vecbolt/query"
)

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// raceDoc is document i of the delete-race tests: its text and metadata
// derive from its ID, so a result can be checked for completeness alone.
func raceDoc(i, dim int) Document {
	id := fmt.Sprintf("d%04d", i)
	v := make([]float32, dim)
	r := rand.New(rand.NewPCG(uint64(i), 7))
	for j := range v {
		v[j] = float32(r.NormFloat64())
	}
	return Document{ID: id, Text: "text of " + id, Metadata: map[string]any{"id": id}, Vector: v}
}

// checkRaceResult reports what is wrong with a search result, or "".
func checkRaceResult(r Result) string {
	switch {
	case r.ID == "":
		return fmt.Sprintf("empty ID (score %v, text %q)", r.Score, r.Text)
	case r.Text != "text of "+r.ID:
		return fmt.Sprintf("%s has text %q", r.ID, r.Text)
	case r.Metadata["id"] != r.ID:
		return fmt.Sprintf("%s has metadata %v", r.ID, r.Metadata)
	}
	return ""
}

// TestSearchDuringDeletes is the regression test for searches that ran
// while documents were deleted and returned results with an empty ID, or
// failed with a false "corrupt record" error: Delete took its labels out
// of the live set before it took them out of the index, so a search in
// between found a label that had no ID and no document any more. Searches
// run against deletes, re-inserts and upserts of the same documents; every
// result must be a whole document that existed during the search.
//
// It runs a fixed number of write rounds (about a second); on the original
// code it found hundreds of bad results per run.
func TestSearchDuringDeletes(t *testing.T) {
	const (
		dim    = 16
		n      = 120
		batch  = 30
		rounds = 8
	)
	for _, kind := range indexKinds {
		t.Run(kind.name, func(t *testing.T) {
			d, _ := openTest(t, WithEmbedder(nil))
			// A small efConstruction keeps the graph builds cheap under -race.
			opts := append([]CollectionOption{WithDimension(dim), WithHNSW(8, 32, 0)}, kind.opts...)
			c := mustCollection(t, d, "c", opts...)
			docs := make([]Document, n)
			for i := range docs {
				docs[i] = raceDoc(i, dim)
			}
			if _, err := c.Insert(bg, docs...); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(bg)
			defer cancel()
			var bad, searches atomic.Int64
			var firstBad atomic.Value
			report := func(s string) {
				if bad.Add(1) == 1 {
					firstBad.Store(s)
				}
			}
			var wg sync.WaitGroup
			for w := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(w), 1))
					for ctx.Err() == nil {
						q := docs[r.IntN(n)].Vector
						res, err := c.SearchVector(bg, q, TopK(20))
						searches.Add(1)
						if err != nil {
							report("search error: " + err.Error())
							continue
						}
						for _, x := range res {
							if s := checkRaceResult(x); s != "" {
								report(s)
							}
						}
					}
				}()
			}
			// Delete a batch, put it back (alternately by Insert and by
			// Upsert), and upsert another batch over existing documents.
			for round := range rounds {
				lo := (round * batch) % n
				ids := make([]string, batch)
				for i := range ids {
					ids[i] = docs[lo+i].ID
				}
				// Delete and DeleteWhere share the commit path that keeps
				// searches whole; exercise both.
				del := func() (int, error) { return c.Delete(bg, ids...) }
				if round%2 == 1 {
					del = func() (int, error) { return c.DeleteWhere(bg, query.In("id", anys(ids)...)) }
				}
				if got, err := del(); err != nil || got != batch {
					t.Fatalf("delete: %d %v", got, err)
				}
				var err error
				if round%2 == 0 {
					_, err = c.Insert(bg, docs[lo:lo+batch]...)
				} else {
					_, err = c.Upsert(bg, docs[lo:lo+batch]...)
				}
				if err != nil {
					t.Fatal(err)
				}
				other := (lo + n/2) % n
				if _, err := c.Upsert(bg, docs[other:other+batch]...); err != nil {
					t.Fatal(err)
				}
				if round == rounds-1 {
					// Keep the searchers going until they have overlapped a
					// few writes even on a slow machine.
					deadline := time.Now().Add(5 * time.Second)
					for searches.Load() < 50 && time.Now().Before(deadline) {
						time.Sleep(time.Millisecond)
					}
				}
			}
			cancel()
			wg.Wait()
			if b := bad.Load(); b > 0 {
				t.Fatalf("%d bad results or errors in %d searches; first: %v", b, searches.Load(), firstBad.Load())
			}
			t.Logf("%d searches, none bad", searches.Load())
		})
	}
}

// A search still running on the state that Reembed replaced, when a delete
// on the new state has removed one of its hits from the file, must not
// report damage: the file is fine. (The deterministic form of a race
// between a long search, Reembed and Delete.)
func TestSearchOnReplacedStateIsNotCorrupt(t *testing.T) {
	for _, kind := range indexKinds {
		t.Run(kind.name, func(t *testing.T) {
			d, _ := openTest(t)
			c := mustCollection(t, d, "c", kind.opts...)
			if _, err := c.Insert(bg, animals...); err != nil {
				t.Fatal(err)
			}
			old := c.st.Load()
			if err := d.Reembed(bg, "c", nil); err != nil {
				t.Fatal(err)
			}
			if n, err := c.Delete(bg, "cat"); err != nil || n != 1 {
				t.Fatalf("delete: %d %v", n, err)
			}
			q, err := old.emb.EmbedQuery(bg, animals[0].Text)
			if err != nil {
				t.Fatal(err)
			}
			o, err := parseSearchOptions([]SearchOption{TopK(3)})
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.search(bg, old, q, o)
			if errors.Is(err, ErrCorrupt) || (err == nil && slices.ContainsFunc(res, func(r Result) bool { return r.ID == "cat" })) {
				t.Fatalf("search on the replaced state: %+v %v", res, err)
			}
			if err != nil && !errors.Is(err, ErrModelMismatch) {
				t.Fatalf("search on the replaced state: %v, want ErrModelMismatch (retry)", err)
			}
		})
	}
}
