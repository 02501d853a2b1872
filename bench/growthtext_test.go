package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/db"
)

func TestGrowthCorpus(t *testing.T) {
	descs := []string{
		"Fast tools for the shell. They read files and write reports.\n .\n The package holds the command line programs.",
		"A library for images.\nIt decodes PNG and JPEG files quickly. Short.",
		"the the the the a file",
	}
	g := newGrowthCorpus(descs)
	// Sentences of 4 to 60 words, split at ". " and line breaks; the
	// paragraph separator " ." and "Short." (one word) are not sentences.
	wantSentences := []string{
		"Fast tools for the shell.",
		"They read files and write reports.",
		"The package holds the command line programs.",
		"A library for images.",
		"It decodes PNG and JPEG files quickly.",
		"the the the the a file",
	}
	var got []string
	for _, s := range g.sentences {
		got = append(got, strings.Join(s, " "))
	}
	if strings.Join(got, "|") != strings.Join(wantSentences, "|") {
		t.Fatalf("sentences:\n got %q\nwant %q", got, wantSentences)
	}
	// The most frequent word comes first; punctuation and case are folded.
	if g.words[0] != "the" {
		t.Errorf("most frequent word %q, want \"the\"", g.words[0])
	}
	for _, w := range g.words {
		if w != wordKey(w) || w == "" {
			t.Errorf("word %q is not folded", w)
		}
	}
	if n := len(g.cum); n != len(g.words) || g.cum[n-1] == 0 {
		t.Fatalf("cumulative counts %v for %d words", g.cum, len(g.words))
	}

	// Deterministic per (seed, i), varied across i, never empty.
	seen := map[string]bool{}
	for i := range uint64(200) {
		a, b := g.text(1, i), g.text(1, i)
		if a != b {
			t.Fatalf("text(1, %d) not deterministic: %q then %q", i, a, b)
		}
		if len(strings.Fields(a)) < 4 {
			t.Fatalf("text(1, %d) = %q, shorter than a sentence", i, a)
		}
		seen[a] = true
	}
	if len(seen) < 150 {
		t.Errorf("only %d distinct texts of 200", len(seen))
	}
	if g.text(1, 0) == g.text(2, 0) && g.text(1, 1) == g.text(2, 1) {
		t.Error("the seed does not change the stream")
	}
}

func TestGrowthWordFrequencies(t *testing.T) {
	// One sentence of 12 words: "common" 9 times, three others once.
	// Replacements (0.15 per word) and insertions (0.05) draw by these
	// frequencies, so per place in the sentence every word is expected
	// equally often: 0.85 + 12 x 0.2 x (its count / 12) / its count = 1.05.
	// Uniform draws over the distinct words would give "common" 0.85 +
	// 0.2 x 12/4/9 = 0.92 per place and "here" 1.45.
	g := newGrowthCorpus([]string{strings.Repeat("common ", 9) + "rare word here"})
	counts := map[string]int{}
	places := 0
	for i := range uint64(20000) {
		ws := strings.Fields(g.text(7, i))
		for _, w := range ws {
			counts[w]++
		}
		places += 12 * (len(ws) / 12) // about: insertions add a few
	}
	perPlace := func(w string, n int) float64 { return float64(counts[w]) / float64(n*places/12) }
	for _, c := range []struct {
		w string
		n int
	}{{"common", 9}, {"rare", 1}, {"word", 1}, {"here", 1}} {
		if got := perPlace(c.w, c.n); got < 0.98 || got > 1.12 {
			t.Errorf("%q: %.3f per place, want about 1.05", c.w, got)
		}
	}
}

func TestTiedTop(t *testing.T) {
	type doc struct {
		id    string
		score float64
	}
	tests := []struct {
		name           string
		docs           []doc
		k              int
		returned       []string
		byID, withTies int
		kept           int
	}{
		{name: "no ties", k: 2, docs: []doc{{"a", 0.1}, {"b", 0.9}, {"c", 0.5}}, returned: []string{"b", "a"}, byID: 1, withTies: 1, kept: 2},
		{name: "duplicates at the boundary", k: 2, docs: []doc{{"a", 0.9}, {"b", 0.5}, {"c", 0.5}, {"d", 0.5}, {"e", 0.1}},
			returned: []string{"a", "d"}, byID: 1, withTies: 2, kept: 4},
		{name: "ties capped at k", k: 2, docs: []doc{{"a", 0.5}, {"b", 0.5}, {"c", 0.5}}, returned: []string{"c", "b", "a"}, byID: 2, withTies: 2, kept: 3},
		{name: "a tie later outscored", k: 2, docs: []doc{{"a", 0.5}, {"b", 0.5}, {"c", 0.5}, {"d", 0.7}, {"e", 0.8}},
			returned: []string{"e", "c"}, byID: 1, withTies: 1, kept: 2},
		{name: "fewer documents than k", k: 3, docs: []doc{{"a", 0.2}}, returned: []string{"a"}, byID: 1, withTies: 1, kept: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var top tiedTop
			for _, d := range tt.docs {
				top.offer(d.id, d.score, tt.k)
			}
			if len(top.hs) != tt.kept {
				t.Fatalf("kept %v, want %d documents", top.hs, tt.kept)
			}
			byID, withTies := top.hits(tt.returned, tt.k)
			if byID != tt.byID || withTies != tt.withTies {
				t.Errorf("hits = %d by ID, %d with ties; want %d, %d", byID, withTies, tt.byID, tt.withTies)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{0.9, 0.78, 0.84}, 0.84},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		in := slices.Clone(tc.xs)
		if got := median(tc.xs); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
		if !slices.Equal(in, tc.xs) {
			t.Errorf("median reordered its argument: %v, was %v", tc.xs, in)
		}
	}
}

// TestGrowthReplay replays a step from a checkpoint the way the growth
// suite's --growth-repeat does, through the real database and built-in
// model: the replay inserts the step's documents into a copy, leaves the
// checkpoint as it was, and refuses a checkpoint that does not hold the
// documents before the step.
func TestGrowthReplay(t *testing.T) {
	ctx := context.Background()
	g := newGrowthCorpus([]string{
		"Fast tools for the shell. They read files and write reports.",
		"A library for images. It decodes PNG and JPEG files quickly.",
		"The package holds the command line programs of the suite.",
	})
	dir := t.TempDir()
	d, err := db.Open(filepath.Join(dir, "growth.vecbolt"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err := d.CreateCollection(ctx, "texts")
	if err != nil {
		t.Fatal(err)
	}
	if err := insertGenerated(ctx, c, g, 0, 300); err != nil {
		t.Fatal(err)
	}
	ck := growthCkpt{path: filepath.Join(dir, "ckpt.vecbolt"), from: 300, to: 450}
	if _, err := d.BackupFile(ctx, ck.path); err != nil {
		t.Fatal(err)
	}
	b := &bench{}
	for range 2 { // the second replay starts from the same 300 documents
		rate, cpuRate, err := b.growthReplay(ctx, g, dir, ck)
		if err != nil {
			t.Fatal(err)
		}
		if rate <= 0 || cpuRate <= 0 {
			t.Errorf("replay rates %v, %v: want both positive", rate, cpuRate)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "replay.vecbolt")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("replay copy left behind: %v", err)
	}
	bad := ck
	bad.from = 250
	if _, _, err := b.growthReplay(ctx, g, dir, bad); err == nil || !strings.Contains(err.Error(), "holds 300 documents, want 250") {
		t.Errorf("replay of a checkpoint with the wrong count: %v", err)
	}
}
