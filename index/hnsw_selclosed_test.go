package index

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// graphLists copies every slot's state, level and link list on every
// layer, in slot order, so that two graphs can be compared list for list.
func graphLists(h *HNSW) [][]uint32 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([][]uint32, len(h.ids))
	for n := range h.ids {
		rec := []uint32{uint32(h.state[n]), uint32(h.levels[n]), uint32(h.ids[n])}
		if h.state[n] != slotFree {
			for l := 0; l <= int(h.levels[n]); l++ {
				lst := h.links(uint32(n), l)
				rec = append(rec, lst[:1+lst[0]]...)
			}
		}
		out[n] = rec
	}
	return out
}

// checkClosedFlags fails unless every list flagged closed (listClosed)
// is one: re-running the selection heuristic over its members, scored
// as link scores them, keeps all of them. It returns how many flagged
// lists are full, the ones link's shortcut works on.
func checkClosedFlags(t *testing.T, h *HNSW) (full int) {
	t.Helper()
	h.mu.RLock()
	defer h.mu.RUnlock()
	for n := range h.ids {
		if h.state[n] == slotFree {
			continue
		}
		for l := 0; l <= int(h.levels[n]); l++ {
			if !h.listClosed(uint32(n), l) {
				continue
			}
			lst := h.links(uint32(n), l)
			tv := h.node(uint32(n))
			var cands []hnswItem
			for _, e := range lst[1 : 1+lst[0]] {
				cands = append(cands, hnswItem{h.dist(e, &tv), e})
			}
			slices.SortFunc(cands, cmpItem)
			maxLinks := h.m
			if l == 0 {
				maxLinks = h.m0
			}
			// With the list's own capacity, so that the copy cap is the
			// one its selection ran under (or looser, for a new node's
			// shorter first list).
			if sel := h.selectNeighbors(uint32(n), cands, maxLinks, nil); !slices.Equal(sel, cands) {
				t.Fatalf("slot %d layer %d flagged closed, but the heuristic keeps %d of its %d links", n, l, len(sel), len(cands))
			}
			if len(cands) == maxLinks {
				full++
			}
		}
	}
	return full
}

// TestSelectClosedPlusMatchesHeuristic: for full closed lists (a selection
// over random candidates that kept exactly max) and a new candidate,
// selectClosedPlus returns what selectNeighbors returns over the list and
// the candidate. The new candidate is random, a copy of a member (a tie at
// the member's distance, broken by slot id on either side), a copy of the
// base (distance 0), or farther than every member.
func TestSelectClosedPlusMatchesHeuristic(t *testing.T) {
	for _, tc := range []struct {
		dim, max int
		metric   Metric
		q8       bool
	}{
		{48, 8, Cosine, false}, {128, 8, L2, false}, {128, 10, Dot, false},
		{24, 4, L2, false}, {128, 8, Cosine, true}, {64, 8, L2, true}, {64, 8, Dot, true},
	} {
		t.Run(fmt.Sprintf("dim=%d max=%d %v int8=%v", tc.dim, tc.max, tc.metric, tc.q8), func(t *testing.T) {
			opts := []HNSWOption{WithM(tc.max), WithBuildWorkers(1)}
			if tc.q8 {
				opts = append(opts, WithInt8())
			}
			h := mustHNSW(t, tc.dim, tc.metric, opts...)
			// Slots are filled directly: the test needs vectors, not a graph.
			const pool = 400
			data := clusteredData(pool, tc.dim, 1, 4, uint64(tc.dim*tc.max))
			h.mu.Lock()
			for i, v := range data {
				p, err := prepare(v, tc.dim, tc.metric)
				if err != nil {
					t.Fatal(err)
				}
				h.allocSlot(uint64(i), p)
			}
			// Copies of vectors already stored, for ties.
			r := rand.New(rand.NewPCG(uint64(tc.dim), 9))
			for i := range pool / 4 {
				h.allocSlot(uint64(pool+i), h.vecCopy(uint32(r.IntN(pool))))
			}
			h.mu.Unlock()
			slots := uint32(len(h.ids))
			trials, checked, kept, dropped := 0, 0, 0, 0
			for trials < 8000 && checked < 600 {
				trials++
				base := uint32(r.IntN(int(slots)))
				bv := h.node(base)
				var cands []hnswItem
				for _, c := range r.Perm(int(slots))[:4*tc.max] {
					if uint32(c) != base {
						cands = append(cands, hnswItem{h.dist(uint32(c), &bv), uint32(c)})
					}
				}
				slices.SortFunc(cands, cmpItem)
				list := h.selectNeighbors(base, cands, tc.max, nil)
				if len(list) < tc.max {
					continue
				}
				var n uint32
				switch trials % 4 {
				case 0: // a copy of a member, if one is stored
					n = noSlot
					for _, it := range list {
						if c := h.findCopy(it.n, base, list); c != noSlot {
							n = c
							break
						}
					}
				case 1: // a copy of the base
					n = h.findCopy(base, base, list)
				case 2: // beyond the farthest member
					for _, c := range cands {
						if !slices.Contains(list, c) && c.d > list[len(list)-1].d {
							n = c.n
							break
						}
					}
				}
				if n == noSlot || n == base || trials%4 == 3 || slices.ContainsFunc(list, func(it hnswItem) bool { return it.n == n }) {
					for {
						n = uint32(r.IntN(int(slots)))
						if n != base && !slices.ContainsFunc(list, func(it hnswItem) bool { return it.n == n }) {
							break
						}
					}
				}
				all := append(slices.Clone(list), hnswItem{h.dist(n, &bv), n})
				slices.SortFunc(all, cmpItem)
				want := h.selectNeighbors(base, all, tc.max, nil)
				got := h.selectClosedPlus(base, all, n, tc.max, nil)
				if !slices.Equal(got, want) {
					t.Fatalf("trial %d: base %d, new %d: shortcut selects %v, heuristic %v", trials, base, n, got, want)
				}
				checked++
				if slices.ContainsFunc(want, func(it hnswItem) bool { return it.n == n }) {
					kept++
				} else {
					dropped++
				}
			}
			// Both outcomes must have been exercised, or the test proves
			// little.
			if checked < 20 || kept == 0 || dropped == 0 {
				t.Fatalf("%d full lists checked (%d trials), new candidate kept %d times, dropped %d", checked, trials, kept, dropped)
			}
		})
	}
}

// vecCopy returns a copy of slot n's stored vector (decoded on int8
// graphs, whose re-encoding gives back the same codes for these vectors
// only approximately; findCopy looks for exact distance ties instead).
func (h *HNSW) vecCopy(n uint32) []float32 {
	if h.q8 {
		return h.decode8(n, make([]float32, h.dim))
	}
	return slices.Clone(h.vec(n))
}

// findCopy returns a slot other than of and not in list whose distance to
// base equals of's, bit for bit (noSlot if none).
func (h *HNSW) findCopy(of, base uint32, list []hnswItem) uint32 {
	bv := h.node(base)
	want := h.dist(of, &bv)
	for c := range uint32(len(h.ids)) {
		if c != of && c != base && !slices.ContainsFunc(list, func(it hnswItem) bool { return it.n == c }) &&
			h.dist(c, &bv) == want {
			return c
		}
	}
	return noSlot
}

// TestSelectClosedPlusExact: a graph built with link's shortcut
// (selectClosedPlus on closed lists) is identical, every list on every
// layer, to one built with the full re-selection, for one build worker and
// a fixed seed, through inserts, duplicate vectors, upserts and deletes
// with the repairs they trigger. Every list flagged closed must be closed,
// also after a concurrent build.
func TestSelectClosedPlusExact(t *testing.T) {
	type tc struct {
		dim, n, m int
		metric    Metric
		q8        bool
	}
	cases := []tc{
		{16, 3000, 4, L2, false},
		{48, 3000, 8, Cosine, false},
		{96, 2000, 8, Dot, false},
		{64, 2500, 6, Cosine, true},
		{32, 2500, 4, L2, true},
	}
	if testing.Short() || raceEnabled {
		for i := range cases {
			cases[i].n /= 3
		}
	}
	build := func(t *testing.T, c tc, workers int, extra ...HNSWOption) *HNSW {
		opts := append([]HNSWOption{WithM(c.m), WithEfConstruction(40), WithBuildWorkers(workers),
			WithSeed(int64(c.dim)), withCompactThreshold(0.05)}, extra...)
		if c.q8 {
			opts = append(opts, WithInt8())
		}
		h := mustHNSW(t, c.dim, c.metric, opts...)
		data := clusteredData(c.n, c.dim, 8, 0.35, uint64(c.n+c.dim))
		r := rand.New(rand.NewPCG(uint64(c.dim), 5))
		const chunk = 250
		for start := 0; start < c.n; start += chunk {
			var ids []uint64
			var vecs [][]float32
			for i := start; i < min(start+chunk, c.n); i++ {
				ids = append(ids, uint64(i))
				vecs = append(vecs, data[i])
				if i%37 == 0 {
					// A duplicate: its distance ties with the original's
					// everywhere, and only the slot ids order them.
					ids = append(ids, uint64(c.n+i))
					vecs = append(vecs, data[i])
				}
			}
			if err := h.AddBatch(context.Background(), ids, vecs); err != nil {
				t.Fatal(err)
			}
			// Deletes (past the compaction threshold now and then) and
			// upserts that move an ID to another vector.
			for range chunk / 12 {
				h.Delete(uint64(r.IntN(start + 1)))
			}
			for range chunk / 25 {
				id := uint64(r.IntN(start + 1))
				if err := h.Add(id, data[r.IntN(c.n)]); err != nil {
					t.Fatal(err)
				}
			}
		}
		return h
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("dim=%d n=%d M=%d %v int8=%v", c.dim, c.n, c.m, c.metric, c.q8), func(t *testing.T) {
			fast := build(t, c, 1)
			full := build(t, c, 1, withFullReselect())
			a, b := graphLists(fast), graphLists(full)
			if len(a) != len(b) {
				t.Fatalf("%d slots with the shortcut, %d without", len(a), len(b))
			}
			diff := 0
			for n := range a {
				if !slices.Equal(a[n], b[n]) {
					if diff == 0 {
						t.Errorf("slot %d: with the shortcut %v, without %v", n, a[n], b[n])
					}
					diff++
				}
			}
			if diff > 0 {
				t.Fatalf("%d of %d slots differ", diff, len(a))
			}
			if st := fast.Stats(); st.FreeSlots == 0 && st.Tombstones == 0 {
				t.Fatal("no delete reached the graph: the repairs went untested")
			}
			if nFull := checkClosedFlags(t, fast); nFull == 0 {
				t.Fatal("no full list is flagged closed: the shortcut had nothing to work on")
			}
			checkClosedFlags(t, build(t, c, 4))
		})
	}
}
