package index

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// copyGroupData is clustered vectors plus groups of exact copies of some of
// them (sizes cycling through sizes), shuffled: the shape of texts repeated
// word for word. It returns the data and each group's vector.
func copyGroupData(n, dim, groups int, sizes []int, seed uint64) (data, srcs [][]float32) {
	base := clusteredData(n, dim, 32, 0.35, seed)
	data = append(data, base...)
	rng := rand.New(rand.NewPCG(seed, 2))
	for g := range groups {
		src := base[rng.IntN(len(base))]
		srcs = append(srcs, src)
		for range sizes[g%len(sizes)] {
			data = append(data, src)
		}
	}
	rng.Shuffle(len(data), func(i, j int) { data[i], data[j] = data[j], data[i] })
	return data, srcs
}

// TestHNSWCopyGroupsNoIslands: groups of exact copies larger than a list
// must not close into islands. Before the copy cap (selectNeighbors) every
// copy's list held only other copies, so a walk that entered a group of
// 40 to 300 copies could not leave it, and with ef above the group's size
// the search ended short and fell back to the exact scan (104 of 1,003
// searches at ef 200 here). The copies must also still be found: a search
// for a group's vector with k at most a list's half returns k copies.
func TestHNSWCopyGroupsNoIslands(t *testing.T) {
	n, every := 12000, 23
	if testing.Short() || raceEnabled {
		n, every = 4000, 71
	}
	const dim = 48
	data, srcs := copyGroupData(n, dim, 20, []int{20, 40, 80, 150, 300}, 7)
	for _, tc := range []struct {
		int8  bool
		batch bool
	}{{false, false}, {false, true}, {true, false}, {true, true}} {
		t.Run(fmt.Sprintf("int8=%v batch=%v", tc.int8, tc.batch), func(t *testing.T) {
			opts := []HNSWOption{WithM(16), WithEfConstruction(100), WithBuildWorkers(2)}
			if tc.int8 {
				opts = append(opts, WithInt8())
			}
			h := mustHNSW(t, dim, Cosine, opts...)
			ids := make([]uint64, len(data))
			for i := range ids {
				ids[i] = uint64(i)
			}
			if tc.batch {
				if err := h.AddBatch(t.Context(), ids, data); err != nil {
					t.Fatal(err)
				}
			} else {
				for i, v := range data {
					if err := h.Add(ids[i], v); err != nil {
						t.Fatal(err)
					}
				}
			}
			rng := rand.New(rand.NewPCG(3, 4))
			for _, ef := range []int{64, 200, 640} {
				short := 0
				for i := 0; i < len(data); i += every {
					q := append([]float32(nil), data[i]...)
					for j := range q {
						q[j] += float32(rng.NormFloat64()) * 0.01
					}
					qv, err := prepare(q, dim, Cosine)
					if err != nil {
						t.Fatal(err)
					}
					hq := hnswQuery{f: qv}
					if tc.int8 {
						row := make([]int8, h.rowLen)
						encodeRow8(row, qv, Cosine)
						hq.q = h.ref8Row(row)
					}
					s := h.getScratch()
					h.mu.RLock()
					reached, exhausted := h.walk(s, &hq, ef, nil, 0)
					if h.walkEndedShort(s, ef, reached, exhausted) {
						short++
					}
					h.mu.RUnlock()
					h.putScratch(s)
				}
				if short != 0 {
					t.Errorf("ef %d: %d walks ended short in a group of copies (exact-scan fallbacks)", ef, short)
				}
			}
			for _, k := range []int{10, 16} {
				missed := 0
				for _, src := range srcs {
					got, err := h.searchEf(src, k, 64, nil)
					if err != nil {
						t.Fatal(err)
					}
					// Every group has at least 20 copies, all at the
					// query's own distance from itself.
					if len(got) < k || got[k-1].Distance != got[0].Distance {
						missed++
					}
				}
				if missed != 0 {
					t.Errorf("k %d: %d of %d searches for a copied vector returned fewer than k copies", k, missed, len(srcs))
				}
			}
		})
	}
}
