package tokenizer

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// TestTokenizeLongTextsInRuns: on texts far longer than a normalization
// chunk and with more tokens than a run of EachIDs, the tokens do not
// depend on where the text is cut (chunk sizes from one byte to the whole
// text), EachIDs hands over exactly AppendIDs' ids in bounded runs, and a
// word longer than the WordPiece limit that crosses cuts is one [UNK]
// spanning all of it.
func TestTokenizeLongTextsInRuns(t *testing.T) {
	pieces := []string{
		"word", " ", "naïve", "中文", "\u00a0", ",", "İstanbul", "e\u0301", "\xff", "🙂",
		"\u200b", "x", "Ǆ", "\t", "한국어", "résumé", "...", "\u3000", strings.Repeat("é", 150),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	whole := bertTokenizer(t, WithMaxLength(0))
	whole.chunk = 1 << 30
	def := bertTokenizer(t, WithMaxLength(0))
	odd := bertTokenizer(t, WithMaxLength(0))
	odd.chunk = 7
	for trial := range 6 {
		var b strings.Builder
		for b.Len() < 30*normChunk+trial*1000 {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		text := b.String()
		want := whole.Encode(text, false)
		if len(want.IDs) <= drainRun {
			t.Fatalf("trial %d: only %d tokens; the text must exceed a run", trial, len(want.IDs))
		}
		for _, tok := range []*Tokenizer{def, odd} {
			got := tok.Encode(text, false)
			if !reflect.DeepEqual(got.IDs, want.IDs) || !reflect.DeepEqual(got.Offsets, want.Offsets) {
				t.Fatalf("trial %d: chunks of %d bytes change the tokens", trial, tok.chunk)
			}
		}
		var each []int32
		longest := 0
		def.EachIDs(text, nil, func(ids []int32) {
			longest = max(longest, len(ids))
			each = append(each, ids...)
		})
		if !reflect.DeepEqual(each, want.IDs) {
			t.Fatalf("trial %d: EachIDs differs from Encode", trial)
		}
		if longest > drainRun+def.maxWordChars {
			t.Fatalf("trial %d: EachIDs handed over a run of %d ids", trial, longest)
		}
	}
	// A 3000-character word across many chunks.
	text := "a " + strings.Repeat("é", 3000) + " b"
	enc := odd.Encode(text, false)
	if len(enc.IDs) != 3 || enc.IDs[1] != odd.unk || enc.Offsets[1] != [2]int{2, len(text) - 2} {
		t.Fatalf("long word: %v %v", enc.IDs, enc.Offsets)
	}
}
