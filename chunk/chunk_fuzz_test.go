package chunk

import "testing"

// FuzzSplit checks the package invariants on arbitrary text and limits.
func FuzzSplit(f *testing.F) {
	f.Add("# Title\n\nSome text. More text.\n\n```\ncode\n```\n", 8, 2, true)
	f.Add("plain words only", 1, 0, false)
	f.Add("é\u0301日本語 🙂 e.g.Foo", 3, 1, false)
	f.Fuzz(func(t *testing.T, text string, maxTok, overlap int, md bool) {
		maxTok = 1 + abs(maxTok)%64
		overlap = abs(overlap) % maxTok
		format := Plain
		if md {
			format = Markdown
		}
		for _, c := range []Counter{WordCounter, runeCounter} {
			opts := []Option{WithMaxTokens(maxTok), WithOverlap(overlap), WithFormat(format), WithCounter(c)}
			ps, err := Split(text, opts...)
			if err != nil {
				if _, verr := Split("ok", opts...); verr != nil {
					t.Fatalf("valid options refused: %v", verr)
				}
				continue // invalid UTF-8
			}
			cfg, _ := newConfig(opts)
			checkInvariants(t, text, ps, cfg)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		if n == -n {
			return 0
		}
		return -n
	}
	return n
}
