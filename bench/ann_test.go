package main

import (
	"testing"

	"github.com/vecbolt/vecbolt/bench/internal/synth"
)

// TestHNSWRecallFloorSizes: the fixed-ef floors hold for the sizes they
// were measured on and are not applied to larger sets, where the same ef
// legitimately gives less recall (0.9716 at ef 64 on 300k).
func TestHNSWRecallFloorSizes(t *testing.T) {
	text := synth.Default(100_000)
	text.Source = "text-r1-test"
	for _, tc := range []struct {
		spec  synth.Spec
		ef    int
		floor float64
		ok    bool
	}{
		{synth.Default(10_000), 64, 0.99, true},
		{synth.Default(100_000), 24, 0.93, true},
		{text, 64, 0.97, true},
		{synth.Default(100_000), 128, 0, false},
		{synth.Default(300_000), 64, 0, false},
		{synth.Default(1_000_000), 24, 0, false},
	} {
		f, ok := hnswRecallFloor(tc.spec, tc.ef)
		if f != tc.floor || ok != tc.ok {
			t.Errorf("%s ef %d: floor %v %v, want %v %v", tc.spec.Name(), tc.ef, f, ok, tc.floor, tc.ok)
		}
	}
}
