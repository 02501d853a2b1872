package index

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
)

// checkLayer0 fails unless every layer-0 list holds at most m0 links and
// every slot's in-count equals the number of lists naming it. It returns
// the longest list's length.
func checkLayer0(t *testing.T, h *HNSW) int {
	t.Helper()
	h.mu.RLock()
	defer h.mu.RUnlock()
	counts := make([]uint32, len(h.ids))
	longest := 0
	for nd := range h.ids {
		l := h.links(uint32(nd), 0)
		if int(l[0]) > h.m0 {
			t.Fatalf("slot %d: %d layer-0 links, at most %d allowed", nd, l[0], h.m0)
		}
		longest = max(longest, int(l[0]))
		for _, e := range l[1 : 1+l[0]] {
			counts[e]++
		}
	}
	for nd := range h.ids {
		if c := *h.inCount(uint32(nd)); c != counts[nd] {
			t.Fatalf("slot %d in-count %d, lists name it %d times", nd, c, counts[nd])
		}
	}
	return longest
}

// TestNewNodeLinks: a new node selects WithNewNodeLinks links on layer 0
// (its list is at most that long right after its own insert), later
// inserts' back-links fill lists up to 2M and never beyond, also when
// several workers insert at once (where links added by concurrent inserts
// are re-selected down to 2M), and the graph finds its vectors.
func TestNewNodeLinks(t *testing.T) {
	const dim, m = 16, 8
	n := 2500
	if testing.Short() || raceEnabled {
		n = 1200
	}
	data := clusteredData(n, dim, 12, 0.4, 23)
	for _, tc := range []struct {
		newLinks, workers int
		batch             bool
	}{
		{m, 1, false}, {12, 1, false}, {2 * m, 1, false},
		{m, 4, true}, {2 * m, 4, true},
	} {
		t.Run(fmt.Sprintf("%d links, %d workers", tc.newLinks, tc.workers), func(t *testing.T) {
			h := mustHNSW(t, dim, Cosine, WithM(m), WithEfConstruction(64),
				WithBuildWorkers(tc.workers), WithNewNodeLinks(tc.newLinks))
			if tc.batch {
				ids := make([]uint64, n)
				for i := range ids {
					ids[i] = uint64(i)
				}
				if err := h.AddBatch(context.Background(), ids, data); err != nil {
					t.Fatal(err)
				}
			} else {
				for i, v := range data {
					if err := h.Add(uint64(i), v); err != nil {
						t.Fatal(err)
					}
					if i == 0 {
						continue
					}
					l := h.links(h.idmap[uint64(i)], 0)
					if int(l[0]) > tc.newLinks {
						t.Fatalf("insert %d: new node has %d layer-0 links, selected at most %d", i, l[0], tc.newLinks)
					}
				}
			}
			if longest := checkLayer0(t, h); longest != 2*m {
				t.Errorf("longest layer-0 list %d, want back-links to fill some to 2M = %d", longest, 2*m)
			}
			if u := unreachable(h); u != 0 {
				t.Errorf("%d live nodes unreachable", u)
			}
			found := 0
			for i := 0; i < n; i += 7 {
				rs, err := h.SearchWith(data[i], SearchOptions{K: 1, Ef: 64})
				if err != nil {
					t.Fatal(err)
				}
				if len(rs) == 1 && rs[0].Distance <= 1e-6 {
					found++
				}
			}
			if total := (n + 6) / 7; found < total*99/100 {
				t.Errorf("a vector's own search found it %d times of %d", found, total)
			}
		})
	}
}

// TestNewNodeLinksSnapshot: the option changes how the graph is built, not
// what a snapshot holds: a graph built with M new-node links reloads with
// the default and answers the same, and inserts into it keep lists within
// 2M.
func TestNewNodeLinksSnapshot(t *testing.T) {
	const dim, m = 16, 8
	data := clusteredData(1500, dim, 12, 0.4, 29)
	h := mustHNSW(t, dim, Cosine, WithM(m), WithNewNodeLinks(m))
	for i, v := range data[:1000] {
		if err := h.Add(uint64(i), v); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := h.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	g, err := ReadHNSW(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1500; i += 11 {
		a, err := h.SearchWith(data[i], SearchOptions{K: 10, Ef: 50})
		if err != nil {
			t.Fatal(err)
		}
		b, err := g.SearchWith(data[i], SearchOptions{K: 10, Ef: 50})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a, b) {
			t.Fatalf("query %d: reloaded graph answers %v, built graph %v", i, b, a)
		}
	}
	for i, v := range data[1000:] {
		if err := g.Add(uint64(1000+i), v); err != nil {
			t.Fatal(err)
		}
	}
	checkLayer0(t, g)
}
