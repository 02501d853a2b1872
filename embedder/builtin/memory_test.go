package builtin

import (
	"context"
	"runtime"
	"strings"
	"testing"
)

// TestEmbedMemoryPerTextByte bounds what embedding one large text
// allocates, per byte of text, for the shapes of text that cost the most:
// the tokenizer must stream over a text rather than hold per-character
// state for all of it (a 8 MiB run of CJK without an ASCII space took
// 20 bytes per character in rune and offset slices, 735 MB of peak memory
// for one document). It measures bytes allocated, not time.
func TestEmbedMemoryPerTextByte(t *testing.T) {
	if testing.Short() {
		t.Skip("embeds a few MiB of text")
	}
	m := newModel(t)
	const size = 2 << 20
	fill := func(unit string) string { return strings.Repeat(unit, size/len(unit)) }
	cases := []struct {
		name string
		text string
	}{
		{"ASCII words", fill("alpha beta gamma ")},
		{"ASCII punctuation", fill(".,")},
		{"CJK without spaces", fill("中文")},
		{"accented letters, one word", fill("é")},
		{"Cyrillic words", fill("привет мир ")},
		{"emoji", fill("🙂")},
		{"mixed, no ASCII space", fill("café,中\u00a0x")},
	}
	// Warm the pools with small texts of each shape, so the measurement
	// is what a large text costs beyond them.
	for _, tc := range cases {
		_, _ = m.EmbedDocuments(context.Background(), []string{tc.text[:64]})
	}
	for _, tc := range cases {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := m.EmbedDocuments(context.Background(), []string{tc.text})
		runtime.ReadMemStats(&after)
		// A word too long for WordPiece, or only emoji, has no token the
		// model knows: the fallback embeds it, within the same bound.
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		perByte := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(tc.text))
		t.Logf("%-28s %.2f bytes allocated per text byte", tc.name, perByte)
		if perByte > 1 {
			t.Errorf("%s: embedding %d bytes allocated %.2f bytes per text byte, want at most 1", tc.name, len(tc.text), perByte)
		}
	}
}
