package index

import (
	"math/rand/v2"
	"testing"
)

// TestVisitedSetMatchesMap checks visitedSet against a map over random
// searches: few visits (the touched-word reset), many (the whole-bitmap
// clear), slots at word edges, and a graph that grows between searches
// (the reallocation).
func TestVisitedSetMatchesMap(t *testing.T) {
	tests := []struct {
		name   string
		slots  []int // graph size at each search
		visits int   // visits per search
	}{
		{"few visits", []int{1000, 1000, 1000, 1000}, 20},
		{"most of the graph", []int{300, 300, 300}, 1000},
		{"one slot", []int{1, 1, 1}, 3},
		{"word edges", []int{64, 65, 128, 129}, 200},
		{"growing", []int{10, 100, 1000, 10000, 100000}, 500},
		{"shrinking after growth", []int{5000, 70, 5000}, 300},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(len(tc.name))))
			var v visitedSet
			for si, n := range tc.slots {
				v.reset(n)
				seen := map[uint32]bool{}
				for range tc.visits {
					var i uint32
					switch rng.IntN(4) {
					case 0:
						i = uint32(n - 1)
					case 1:
						i = uint32(rng.IntN(n)) &^ 63
					default:
						i = uint32(rng.IntN(n))
					}
					if got, want := v.visit(i), !seen[i]; got != want {
						t.Fatalf("search %d (%d slots): visit(%d) = %v, want %v", si, n, i, got, want)
					}
					seen[i] = true
				}
				// Every bit, read directly so the next search starts from
				// what this one left: set exactly for the visited slots.
				for i := range uint32(len(v.words) * 64) {
					if got := v.words[i>>6]&(1<<(i&63)) != 0; got != seen[i] {
						t.Fatalf("search %d (%d slots): slot %d marked %v, visited %v", si, n, i, got, seen[i])
					}
				}
			}
		})
	}
}
