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

func TestClusterTermsSkipsSharedWords(t *testing.T) {
	texts := []string{"alpha shared", "alpha shared", "beta shared", "beta shared"}
	got := ClusterTerms(texts, []int{0, 0, 1, 1}, 2, 5)
	if !slices.Equal(got[0], []string{"alpha"}) || !slices.Equal(got[1], []string{"beta"}) {
		t.Fatalf("terms %q: a word every group uses alike was listed", got)
	}
	// With one group there is no rest to compare with: its words stand.
	if got := ClusterTerms(texts, []int{0, 0, 0, 0}, 1, 5); !slices.Equal(got[0], []string{"shared", "alpha", "beta"}) {
		t.Fatalf("one group: %q", got[0])
	}
}
