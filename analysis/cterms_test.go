package analysis

import (
	"slices"
	"testing"
)

func TestClusterTerms(t *testing.T) {
	texts := []string{
		"Python library for parsing YAML files",
		"A Python module for YAML and JSON",
		"Fonts: a TrueType font family for the console",
		"Bitmap font family with many glyphs",
		"The the the 2024 of a",
	}
	labels := []int{0, 0, 1, 1, 2}
	got := ClusterTerms(texts, labels, 4, 2)
	want := [][]string{{"python", "yaml"}, {"family", "font"}, {}, {}}
	for c := range want {
		if !slices.Equal(got[c], want[c]) {
			t.Errorf("cluster %d: terms %q, want %q", c, got[c], want[c])
		}
	}
	// Terms from one text of a larger group are not candidates.
	if slices.Contains(got[0], "parsing") {
		t.Error("a term of one member was chosen")
	}
	if got := ClusterTerms(texts, labels, 0, 3); len(got) != 0 {
		t.Errorf("k=0: %v", got)
	}
	// A single-text group may use its one text's terms.
	if got := ClusterTerms([]string{"zebra zebra crossing"}, []int{0}, 1, 1); !slices.Equal(got[0], []string{"zebra"}) {
		t.Errorf("single text: %v", got)
	}
}
