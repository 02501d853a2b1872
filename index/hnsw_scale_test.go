package index

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestScoreNodesMatchesDist: the batched scoring that link uses to re-rank
// a full list must return dist's values bit for bit, on float32 and int8
// graphs under every metric, for every list length up to hnswHop.
func TestScoreNodesMatchesDist(t *testing.T) {
	const n, dim = 300, 37 // an odd dim exercises the kernels' tails
	data := clusteredData(n, dim, 8, 0.5, 3)
	r := rand.New(rand.NewPCG(5, 5))
	for _, q8 := range []bool{false, true} {
		for _, m := range []Metric{Cosine, Dot, L2} {
			var opts []HNSWOption
			if q8 {
				opts = append(opts, WithInt8())
			}
			h := mustHNSW(t, dim, m, opts...)
			for i, v := range data {
				if err := h.Add(uint64(i), v); err != nil {
					t.Fatal(err)
				}
			}
			q := h.node(uint32(r.IntN(n)))
			for k := 1; k <= hnswHop; k++ {
				nodes := make([]uint32, k)
				for i := range nodes {
					nodes[i] = uint32(r.IntN(n))
				}
				got := make([]float32, k)
				h.scoreNodes(&q, nodes, got)
				for i, nd := range nodes {
					if want := h.dist(nd, &q); math.Float32bits(got[i]) != math.Float32bits(want) {
						t.Fatalf("int8 %v %v, %d nodes: node %d scored %v, dist says %v", q8, m, k, i, got[i], want)
					}
				}
			}
		}
	}
}

// TestLinkRescoresFullList: when a back-link meets a full list, link
// re-scores the list's members (in several kernel calls once the list is
// longer than hnswHop) and keeps the heuristic's selection of them and the
// new node. The result must be exactly the selection computed from dist one
// pair at a time, with in-link counts that match the lists.
func TestLinkRescoresFullList(t *testing.T) {
	for _, m := range []int{8, 40} { // layer-0 lists of 16 and 80 links
		for _, q8 := range []bool{false, true} {
			const n, dim = 200, 16
			data := clusteredData(n, dim, 4, 0.6, 11)
			opts := []HNSWOption{WithM(m)}
			if q8 {
				opts = append(opts, WithInt8())
			}
			h := mustHNSW(t, dim, L2, opts...)
			for i, v := range data {
				if err := h.Add(uint64(i), v); err != nil {
					t.Fatal(err)
				}
			}
			const tgt = uint32(0)
			lst := h.links(tgt, 0)
			for _, e := range lst[1 : 1+lst[0]] {
				h.decIn(e)
			}
			lst[0] = 0
			s := h.getScratch()
			tv := h.node(tgt)
			// Fill tgt's list with the slots 1..m0, then offer slot m0+1.
			for x := uint32(1); x <= uint32(h.m0); x++ {
				h.link(s, tgt, x, h.dist(x, &tv), 0)
			}
			if int(lst[0]) != h.m0 {
				t.Fatalf("M %d int8 %v: list holds %d links after %d back-links", m, q8, lst[0], h.m0)
			}
			newcomer := uint32(h.m0 + 1)
			var want []hnswItem
			for x := uint32(1); x <= newcomer; x++ {
				want = append(want, hnswItem{h.dist(x, &tv), x})
			}
			slices.SortFunc(want, cmpItem)
			want = h.selectNeighbors(tgt, want, h.m0, nil)
			h.link(s, tgt, newcomer, h.dist(newcomer, &tv), 0)
			h.putScratch(s)
			got := lst[1 : 1+lst[0]]
			if len(got) != len(want) {
				t.Fatalf("M %d int8 %v: %d links after re-selection, want %d", m, q8, len(got), len(want))
			}
			for i, it := range want {
				if got[i] != it.n {
					t.Fatalf("M %d int8 %v: link %d is %d, want %d (got %v)", m, q8, i, got[i], it.n, got)
				}
			}
			// In-counts must still equal the number of lists naming each slot.
			counts := make([]uint32, len(h.ids))
			for nd := range h.ids {
				l := h.links(uint32(nd), 0)
				for _, e := range l[1 : 1+l[0]] {
					counts[e]++
				}
			}
			for nd := range h.ids {
				if c := *h.inCount(uint32(nd)); c != counts[nd] {
					t.Fatalf("M %d int8 %v: slot %d in-count %d, lists name it %d times", m, q8, nd, c, counts[nd])
				}
			}
		}
	}
}
