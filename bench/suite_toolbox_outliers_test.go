package main

import (
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestROCAUC(t *testing.T) {
	cases := []struct {
		name   string
		scores []float64
		pos    []bool
		want   float64
	}{
		{"perfect", []float64{0.1, 0.2, 0.9, 0.8}, []bool{false, false, true, true}, 1},
		{"reversed", []float64{0.9, 0.8, 0.1, 0.2}, []bool{false, false, true, true}, 0},
		{"all tied", []float64{1, 1, 1, 1}, []bool{false, true, false, true}, 0.5},
		// Pairs (pos, neg): (0.5>0.1) (0.5<0.7) (0.9>0.1) (0.9>0.7) → 3/4.
		{"mixed", []float64{0.1, 0.5, 0.7, 0.9}, []bool{false, true, false, true}, 0.75},
		// A tie between a positive and a negative counts half: (0.5=0.5) ½, (0.5>0.1) 1 → 3/4.
		{"tie", []float64{0.1, 0.5, 0.5}, []bool{false, true, false}, 0.75},
		{"no positives", []float64{1, 2}, []bool{false, false}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := rocAUC(tc.scores, tc.pos); math.Abs(got-tc.want) > 1e-12 {
				t.Fatalf("AUC %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNearCopy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	text := "one two three four five six seven eight nine ten"
	for range 100 {
		c, n := nearCopy(rng, text, []string{"alpha beta", "gamma"})
		if n < 1 || n > 5 {
			t.Fatalf("%d changes", n)
		}
		a, b := strings.Fields(text), strings.Fields(c)
		if len(a) != len(b) {
			t.Fatalf("copy %q changed the word count", c)
		}
		diff := 0
		for i := range a {
			if a[i] != b[i] {
				diff++
			}
		}
		if diff < 1 || diff > n {
			t.Fatalf("copy %q differs in %d words, %d changes made", c, diff, n)
		}
	}
}

func TestParseArgsToolboxSuite(t *testing.T) {
	c, err := parseArgs([]string{"--cache", t.TempDir(), toolboxOutliersSuite}, io.Discard)
	if err != nil || len(c.suites) != 1 || c.suites[0] != toolboxOutliersSuite {
		t.Fatalf("suites %v, %v", c.suites, err)
	}
}
