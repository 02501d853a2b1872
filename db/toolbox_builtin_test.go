//go:build !vecbolt_nomodel

package db

import (
	"testing"
)

// TestSimilarityBuiltin is the classic check of an embedding model, run
// on the built-in one through the DB's default embedder.
func TestSimilarityBuiltin(t *testing.T) {
	d, _ := openTest(t, WithLockTimeout(0)) // no WithEmbedder: the built-in model
	tests := []struct {
		anchor, near, far string
	}{
		{"I love machine learning", "Artificial intelligence is amazing", "Bananas are yellow"},
		{"The cat sleeps on the sofa", "A kitten naps on the couch", "Stock markets fell sharply today"},
		{"How do I bake bread?", "A recipe for sourdough loaves", "The goalkeeper saved a penalty"},
	}
	for _, tc := range tests {
		t.Run(tc.anchor, func(t *testing.T) {
			m, err := d.Similarity(bg, tc.anchor, tc.near, tc.far)
			if err != nil {
				t.Fatal(err)
			}
			if m[0][1] <= m[0][2] {
				t.Errorf("sim(%q, %q) = %.4f is not above sim(%q, %q) = %.4f", tc.anchor, tc.near, m[0][1], tc.anchor, tc.far, m[0][2])
			}
			t.Logf("near %.4f far %.4f", m[0][1], m[0][2])
		})
	}
}

// TestClassifyBuiltin runs Classify end to end: the built-in model, the
// file and the index.
func TestClassifyBuiltin(t *testing.T) {
	d, _ := openTest(t, WithLockTimeout(0))
	c := mustCollection(t, d, "docs")
	docs := []Document{
		{Text: "apples, pears and plums from the orchard", Metadata: map[string]any{"topic": "fruit"}},
		{Text: "ripe bananas and mangoes", Metadata: map[string]any{"topic": "fruit"}},
		{Text: "fresh strawberries and cherries", Metadata: map[string]any{"topic": "fruit"}},
		{Text: "a compiler translates source code to machine code", Metadata: map[string]any{"topic": "computing"}},
		{Text: "the operating system schedules processes on the CPU", Metadata: map[string]any{"topic": "computing"}},
		{Text: "a database stores records on disk", Metadata: map[string]any{"topic": "computing"}},
		{Text: "oranges and lemons are citrus fruit"}, // unlabelled: must not vote
	}
	if _, err := c.Insert(bg, docs...); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ text, want string }{
		{"a bowl of grapes and peaches", "fruit"},
		{"the kernel's memory allocator and the file system", "computing"},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			got, err := c.Classify(bg, tc.text, "topic", TopK(3))
			if err != nil {
				t.Fatal(err)
			}
			if got.Label != tc.want {
				t.Errorf("label %q (scores %v), want %q", got.Label, got.Scores, tc.want)
			}
			for _, v := range got.Voters {
				if v.Metadata["topic"] == nil {
					t.Errorf("unlabelled document %s voted", v.ID)
				}
			}
		})
	}
}
