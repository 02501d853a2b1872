package chunk

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// texts returns each passage's text.
func texts(text string, ps []Passage) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = text[p.Start:p.End]
	}
	return out
}

// runeCounter counts every non-space rune as a token: exact and easy to
// reason about in tables.
var runeCounter = CounterFunc(func(s string) int {
	n := 0
	for _, r := range s {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
})

func TestSplitTable(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		opts     []Option
		want     []string
		headings [][]string
	}{
		{name: "empty", text: "", want: []string{}},
		{name: "only space", text: " \n\t\n ", want: []string{}},
		{name: "one short text", text: "  Hello world.  ", want: []string{"Hello world."}},
		{
			name: "paragraphs packed while they fit",
			text: "one two.\n\nthree four.\n\nfive six.",
			opts: []Option{WithMaxTokens(6), WithOverlap(0)},
			want: []string{"one two.\n\nthree four.", "five six."},
		},
		{
			name: "long paragraph cut at sentences",
			text: "Alpha beta gamma. Delta epsilon zeta. Eta theta iota.",
			opts: []Option{WithMaxTokens(8), WithOverlap(0)},
			want: []string{"Alpha beta gamma. Delta epsilon zeta.", "Eta theta iota."},
		},
		{
			name: "long sentence cut at words",
			text: "a b c d e f g",
			opts: []Option{WithMaxTokens(3), WithOverlap(0)},
			want: []string{"a b c", "d e f", "g"},
		},
		{
			name: "overlap repeats the last words",
			text: "a b c d e f g",
			opts: []Option{WithMaxTokens(4), WithOverlap(1)},
			want: []string{"a b c d", "d e f g"},
		},
		{
			name: "word longer than the limit is cut at characters",
			text: "abcdefgh ij",
			opts: []Option{WithMaxTokens(3), WithOverlap(0), WithCounter(runeCounter)},
			want: []string{"abc", "def", "gh", "ij"},
		},
		{
			name: "multibyte characters are never split",
			text: "ééééé",
			opts: []Option{WithMaxTokens(2), WithOverlap(0), WithCounter(runeCounter)},
			want: []string{"éé", "éé", "é"},
		},
		{
			name: "no sentence cut inside a run without space",
			text: "see e.g.Foo now. Then more words here.",
			opts: []Option{WithMaxTokens(8), WithOverlap(0)},
			want: []string{"see e.g.Foo now.", "Then more words here."},
		},
		{
			name:     "markdown headings start sections",
			text:     "# Install\n\nRun it.\n\n## Debian\n\napt install x\n\n# Use\n\nCall it.",
			opts:     []Option{WithFormat(Markdown)},
			want:     []string{"# Install\n\nRun it.", "## Debian\n\napt install x", "# Use\n\nCall it."},
			headings: [][]string{{"Install"}, {"Install", "Debian"}, {"Use"}},
		},
		{
			name:     "skipped heading levels and closing hashes",
			text:     "# A #\n\nx\n\n### C\n\ny\n\n## B ##\n\nz",
			opts:     []Option{WithFormat(Markdown)},
			want:     []string{"# A #\n\nx", "### C\n\ny", "## B ##\n\nz"},
			headings: [][]string{{"A"}, {"A", "C"}, {"A", "B"}},
		},
		{
			name:     "headings are plain text in plain format",
			text:     "# Install\n\nRun it.",
			want:     []string{"# Install\n\nRun it."},
			headings: [][]string{nil},
		},
		{
			name: "code fence keeps blank lines and a hash line",
			text: "Intro.\n\n```sh\n# not a heading\n\necho hi\n```\n\nAfter.",
			opts: []Option{WithFormat(Markdown), WithMaxTokens(14), WithOverlap(0)},
			want: []string{"Intro.", "```sh\n# not a heading\n\necho hi\n```", "After."},
		},
		{
			name: "long code block cut between lines",
			text: "```\na = 1\nb = 2\nc = 3\n```",
			opts: []Option{WithFormat(Markdown), WithMaxTokens(7), WithOverlap(0)},
			want: []string{"```\na = 1", "b = 2\nc = 3", "```"},
		},
		{
			name: "unclosed fence runs to the end",
			text: "~~~\ncode\n\nmore",
			opts: []Option{WithFormat(Markdown)},
			want: []string{"~~~\ncode\n\nmore"},
		},
		{
			name:     "four spaces of indent is not a heading",
			text:     "    # code\n\n# Title",
			opts:     []Option{WithFormat(Markdown)},
			want:     []string{"# code", "# Title"},
			headings: [][]string{nil, {"Title"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := Split(tc.text, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			got := texts(tc.text, ps)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("passages %q, want %q", got, tc.want)
			}
			for i, h := range tc.headings {
				if !reflect.DeepEqual(ps[i].Headings, h) && !(len(h) == 0 && len(ps[i].Headings) == 0) {
					t.Errorf("passage %d headings %q, want %q", i, ps[i].Headings, h)
				}
			}
			cfg, _ := newConfig(tc.opts)
			checkInvariants(t, tc.text, ps, cfg)
		})
	}
}

func TestSplitErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		opts []Option
		want string
	}{
		{"invalid UTF-8", "ok \xff bad", nil, "offset 3"},
		{"zero max", "x", []Option{WithMaxTokens(0)}, "max tokens 0"},
		{"negative overlap", "x", []Option{WithOverlap(-1)}, "overlap -1"},
		{"overlap not below max", "x", []Option{WithMaxTokens(4), WithOverlap(4)}, "smaller than max tokens 4"},
		{"nil counter", "x", []Option{WithCounter(nil)}, "nil Counter"},
		{"unknown format", "x", []Option{WithFormat(Format(7))}, "Format(7)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := Split(tc.text, tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Split = %v, %v; want error containing %q", ps, err, tc.want)
			}
		})
	}
	if _, err := Split("\xc3"); !errors.Is(err, ErrInvalidText) {
		t.Fatalf("err %v, want ErrInvalidText", err)
	}
}

// checkInvariants verifies the package doc's promises for one split.
func checkInvariants(t *testing.T, text string, ps []Passage, cfg config) {
	t.Helper()
	isSpace := func(r rune) bool { return unicode.IsSpace(r) }
	covered := make([]bool, len(text))
	prevStart, prevEnd := -1, -1
	for i, p := range ps {
		if p.Start < 0 || p.End > len(text) || p.Start >= p.End {
			t.Fatalf("passage %d: bad range [%d,%d) in %d bytes", i, p.Start, p.End, len(text))
		}
		if p.Start < prevStart || p.End <= prevEnd {
			t.Fatalf("passage %d [%d,%d) out of order after [%d,%d)", i, p.Start, p.End, prevStart, prevEnd)
		}
		prevStart, prevEnd = p.Start, p.End
		s := text[p.Start:p.End]
		if !utf8.ValidString(s) {
			t.Fatalf("passage %d cuts a UTF-8 sequence: %q", i, s)
		}
		if r, _ := utf8.DecodeRuneInString(s); isSpace(r) {
			t.Fatalf("passage %d starts with space: %q", i, s)
		}
		if r, _ := utf8.DecodeLastRuneInString(s); isSpace(r) {
			t.Fatalf("passage %d ends with space: %q", i, s)
		}
		if n := cfg.counter.CountTokens(s); n != p.Tokens {
			t.Fatalf("passage %d: Tokens %d, counter says %d", i, p.Tokens, n)
		}
		if p.Tokens > cfg.max && utf8.RuneCountInString(s) > 1 {
			t.Fatalf("passage %d has %d tokens, limit %d: %q", i, p.Tokens, cfg.max, s)
		}
		// A cut inside a word is allowed only in a word over the limit.
		for _, at := range []int{p.Start, p.End} {
			if at == 0 || at == len(text) {
				continue
			}
			before, _ := utf8.DecodeLastRuneInString(text[:at])
			after, _ := utf8.DecodeRuneInString(text[at:])
			if isSpace(before) || isSpace(after) {
				continue
			}
			ws := strings.LastIndexFunc(text[:at], isSpace) + 1
			we := strings.IndexFunc(text[at:], isSpace)
			if we < 0 {
				we = len(text)
			} else {
				we += at
			}
			if cfg.counter.CountTokens(text[ws:we]) <= cfg.max {
				t.Fatalf("passage %d cuts the word %q at %d", i, text[ws:we], at)
			}
		}
		for j := p.Start; j < p.End; j++ {
			covered[j] = true
		}
	}
	for j, r := range text {
		if !isSpace(r) && !covered[j] {
			t.Fatalf("byte %d (%q) is in no passage", j, r)
		}
	}
}

// TestSplitProperties runs the invariants over random texts made of words,
// sentences, paragraphs, headings and fences, with random limits.
func TestSplitProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"alpha", "beta", "γάμμα", "delta.", "epsilon!", "zeta?", "x", "日本語", "e.g.Foo", "verylongwordwithoutanyspaces", "#", "```", "##", "-", "🙂"}
	seps := []string{" ", " ", " ", "\n", "\n\n", "\t", "  "}
	for iter := 0; iter < 400; iter++ {
		var b strings.Builder
		for n := rng.IntN(80); n > 0; n-- {
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteString(seps[rng.IntN(len(seps))])
		}
		text := b.String()
		maxTok := 1 + rng.IntN(20)
		opts := []Option{WithMaxTokens(maxTok), WithOverlap(rng.IntN(maxTok)), WithFormat(Format(rng.IntN(2)))}
		if rng.IntN(2) == 0 {
			opts = append(opts, WithCounter(runeCounter))
		}
		ps, err := Split(text, opts...)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := newConfig(opts)
		checkInvariants(t, text, ps, cfg)
		again, _ := Split(text, opts...)
		if !reflect.DeepEqual(ps, again) {
			t.Fatalf("Split is not deterministic on %q", text)
		}
	}
}

func TestWordCounter(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"", 0},
		{"hello world", 2},
		{"don't stop.", 5},
		{"naïve café", 2},
		{"e\u0301t\u00e9", 1},
		{"x1 2y", 2},
		{"日本語", 1},
	}
	for _, tc := range tests {
		if got := WordCounter.CountTokens(tc.text); got != tc.want {
			t.Errorf("WordCounter(%q) = %d, want %d", tc.text, got, tc.want)
		}
	}
}

func TestLongWordIsLinear(t *testing.T) {
	// A 1 MB run without spaces must be cut without counting every prefix:
	// count the calls.
	calls := 0
	c := CounterFunc(func(s string) int { calls++; return runeCounter(s) })
	text := strings.Repeat("a", 1<<20)
	ps, err := Split(text, WithMaxTokens(1000), WithOverlap(0), WithCounter(c))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1049 {
		t.Fatalf("%d passages, want 1049", len(ps))
	}
	if calls > 200*len(ps) {
		t.Fatalf("%d counter calls for %d passages", calls, len(ps))
	}
}
