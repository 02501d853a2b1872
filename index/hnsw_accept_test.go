package index

import (
	"math/rand/v2"
	"testing"
)

// TestHNSWCompactedGraphReturnsOnlyLive guards the invariant acceptsAll
// rests on: once Compact has freed the tombstones, no walk reaches a free
// slot, so a search without a filter, which no longer checks each node's
// state, returns only live IDs. A freed slot still linked would come back
// as ID 0 (the IDs here start at 1) or as a deleted ID.
func TestHNSWCompactedGraphReturnsOnlyLive(t *testing.T) {
	tests := []struct {
		name string
		opts []HNSWOption
	}{
		{"float32", nil},
		{"int8", []HNSWOption{WithInt8()}},
	}
	const n, dim = 3000, 16
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 6))
			h := mustHNSW(t, dim, Cosine, append([]HNSWOption{withCompactThreshold(0)}, tc.opts...)...)
			vecs := make([][]float32, n)
			for i := range vecs {
				v := make([]float32, dim)
				for j := range v {
					v[j] = float32(rng.NormFloat64())
				}
				vecs[i] = v
				if err := h.Add(uint64(i+1), v); err != nil {
					t.Fatal(err)
				}
			}
			live := map[uint64]bool{}
			for i := range n {
				id := uint64(i + 1)
				if rng.IntN(10) < 6 {
					if !h.Delete(id) {
						t.Fatalf("Delete(%d) = false", id)
					}
				} else {
					live[id] = true
				}
			}
			h.Compact()
			if st := h.Stats(); st.Tombstones != 0 || st.FreeSlots == 0 {
				t.Fatalf("after Compact %+v: want no tombstones and some free slots", st)
			}
			for i, v := range vecs {
				got, err := h.Search(v, 50, nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 50 {
					t.Fatalf("query %d: %d results, want 50", i, len(got))
				}
				seen := map[uint64]bool{}
				for _, r := range got {
					if !live[r.ID] || seen[r.ID] {
						t.Fatalf("query %d: result ID %d (live %v, repeated %v)", i, r.ID, live[r.ID], seen[r.ID])
					}
					seen[r.ID] = true
				}
			}
		})
	}
}
