package index

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// refGraphSearch is the textbook walk the search loop implements, scoring
// one neighbour at a time with distance(): greedy descent through the
// upper layers, then the ef-bounded best-first search of layer 0 (no
// filter, no tombstones). It returns the whole ef list, sorted.
func refGraphSearch(h *HNSW, q []float32, ef int) []hnswItem {
	ep := h.entry
	cur := hnswItem{distance(h.metric, h.vec(ep), q), ep}
	for l := h.maxLevel; l > 0; l-- {
		for changed := true; changed; {
			changed = false
			lst := h.links(cur.n, l)
			for _, nb := range lst[1 : 1+lst[0]] {
				if d := distance(h.metric, h.vec(nb), q); d < cur.d {
					cur, changed = hnswItem{d, nb}, true
				}
			}
		}
	}
	seen := map[uint32]bool{cur.n: true}
	var cand minItemHeap
	var top maxItemHeap
	cand.push(cur)
	top.push(cur)
	for len(cand) > 0 {
		c := cand.pop()
		if len(top) >= ef && c.d > top[0].d {
			break
		}
		lst := h.links(c.n, 0)
		for _, nb := range lst[1 : 1+lst[0]] {
			if seen[nb] {
				continue
			}
			seen[nb] = true
			d := distance(h.metric, h.vec(nb), q)
			if len(top) < ef || d < top[0].d {
				cand.push(hnswItem{d, nb})
				if len(top) < ef {
					top.push(hnswItem{d, nb})
				} else {
					top.replaceTop(hnswItem{d, nb})
				}
			}
		}
	}
	out := []hnswItem(top)
	slices.SortFunc(out, cmpItem)
	return out
}

// TestHNSWSearchMatchesReference checks that the batched search loop (one
// kernel call per neighbour list, in chunks of hnswHop) walks exactly as
// the one-neighbour-at-a-time reference: same list, same distances, bit
// for bit, for every metric, and with lists longer than one chunk.
func TestHNSWSearchMatchesReference(t *testing.T) {
	const n, dim = 3000, 24
	data := clusteredData(n, dim, 32, 0.3, 71)
	queries := clusteredData(100, dim, 32, 0.3, 72)
	for _, m := range []Metric{Cosine, Dot, L2} {
		for _, M := range []int{4, 16, 40} { // 2M = 80 spans two chunks
			t.Run(fmt.Sprintf("%v/M=%d", m, M), func(t *testing.T) {
				h := mustHNSW(t, dim, m, WithM(M), WithEfConstruction(60), WithBuildWorkers(1))
				ids := make([]uint64, n)
				for i := range ids {
					ids[i] = uint64(i)
				}
				if err := h.AddBatch(context.Background(), ids, data); err != nil {
					t.Fatal(err)
				}
				s := h.getScratch()
				defer h.putScratch(s)
				for _, ef := range []int{1, 10, 50} {
					for qi, q := range queries {
						q = append([]float32(nil), q...)
						if m == Cosine {
							normalize(q)
						}
						want := refGraphSearch(h, q, ef)
						h.graphSearch(s, q, ef, nil, 0)
						got := slices.Clone([]hnswItem(s.top))
						slices.SortFunc(got, cmpItem)
						if !slices.Equal(got, want) {
							t.Fatalf("ef=%d query %d: search list differs from the reference\n got %v\nwant %v", ef, qi, got, want)
						}
					}
				}
			})
		}
	}
}
