package static

import (
	"strings"
	"testing"
)

// drainRun is the run length of Tokenizer.EachIDs (drainRun in
// embedder/tokenizer/tokenizer.go): the limits below straddle its runs.
const drainRun = 4096

// TestStaticEmbedLongText: a Model pools the ids of a long text run by run
// exactly as it would pool them all at once, truncation included when the
// limit falls inside a later run, and Embed allocates nothing.
func TestStaticEmbedLongText(t *testing.T) {
	tok := staticTestTokenizer(t)
	emb := staticRows()
	// Different words before and after the first run's end, so that
	// where pooling stops shows in the vector.
	text := strings.Repeat("cat ", drainRun+100) + strings.Repeat("dog runs ", 2000)
	all := tok.AppendIDs(nil, text)
	if len(all) <= 2*drainRun {
		t.Fatalf("%d tokens; the text must span several runs", len(all))
	}
	for _, limit := range []int{0, 1, drainRun, drainRun + 1, 5000, len(all) + 1} {
		m, err := New(tok, emb, staticDim, WithMaxTokens(limit))
		if err != nil {
			t.Fatal(err)
		}
		ids := all
		if limit > 0 && limit < len(ids) {
			ids = ids[:limit]
		}
		want := make([]int, len(ids))
		for i, id := range ids {
			want[i] = int(id)
		}
		got := make([]float32, staticDim)
		if err := m.Embed(text, got); err != nil {
			t.Fatal(err)
		}
		staticCloseTo(t, got, staticExpected(want, emb, nil, nil, true), 1e-4)
	}
	if raceEnabled {
		return // the race detector makes sync.Pool drop items
	}
	m, _ := New(tok, emb, staticDim)
	dst := make([]float32, staticDim)
	if n := testing.AllocsPerRun(100, func() { _ = m.Embed("the cat and the dog", dst) }); n != 0 {
		t.Fatalf("Embed allocates %v times per call", n)
	}
}
