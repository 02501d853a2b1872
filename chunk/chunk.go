// Package chunk splits long texts into passages small enough to embed.
//
// A static model averages a long document into a vector close to nothing in
// particular, and a transformer truncates it at its maximum length, so
// retrieval works on passages: a few sentences to a few paragraphs, each
// embedded on its own and pointing back into its document by byte offsets.
//
// Split cuts a text at the largest boundary that keeps a passage within the
// token limit: a heading (Markdown), then a blank line (paragraph), then a
// sentence (Unicode UAX #29 sentence boundaries), then a line inside a
// fenced code block, then whitespace between words. A passage ends where its
// section ends, so it keeps one heading path ("Install > Debian"). With an
// overlap, a passage after the first of its section starts with the last
// words of the one before it, up to the overlap's tokens, so a sentence cut
// by the limit is seen whole by one of the two.
//
// Invariants (fuzzed in chunk_fuzz_test.go):
//   - Passages appear in text order; each is text[Start:End], starts and ends
//     on a non-space character, and lies on UTF-8 boundaries.
//   - Every non-space byte of the text lies in at least one passage.
//   - No passage has more than the limit's tokens, counted by the Counter on
//     the passage text itself.
//   - A passage never starts or ends inside a word (a maximal run of
//     non-space characters), except a single word longer than the limit,
//     which alone is cut, at character boundaries: there is no better place.
//   - The result depends only on the text and the options.
//
// Sentence boundaries come from github.com/clipperhouse/uax29/v2, which
// implements UAX #29 and reports byte offsets; headings and code fences are
// recognised here, because a CommonMark parser would give a syntax tree
// without the byte offsets of each block, and only ATX headings and fences
// matter for cutting.
package chunk

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/clipperhouse/uax29/v2/sentences"
)

// Defaults. 256 tokens is half of a BERT model's 512-position limit: long
// enough for a paragraph of context, short enough that one topic dominates
// its vector. The overlap of 32 tokens carries about one sentence over.
const (
	DefaultMaxTokens = 256
	DefaultOverlap   = 32
)

// Passage is one piece of a text.
type Passage struct {
	// Start and End are byte offsets into the text: the passage is
	// text[Start:End].
	Start, End int
	// Headings is the path of Markdown headings the passage sits under,
	// outermost first; empty for plain text and before the first heading.
	Headings []string
	// Tokens is the passage's token count by the Counter.
	Tokens int
}

// Counter counts the tokens a model would see in a text, without special
// tokens such as [CLS] and [SEP].
type Counter interface {
	CountTokens(text string) int
}

// CounterFunc adapts a function to Counter.
type CounterFunc func(text string) int

// CountTokens calls f.
func (f CounterFunc) CountTokens(text string) int { return f(text) }

// WordCounter approximates a BERT tokenizer's pre-tokenization: each run of
// letters and digits is one token and every other non-space character is one
// token. It undercounts words a model splits into pieces; pass the model's
// own tokenizer (WithCounter) where the limit must hold exactly.
var WordCounter Counter = CounterFunc(countWords)

func countWords(s string) int {
	n := 0
	inWord := false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) && inWord:
			if !inWord {
				n++
				inWord = true
			}
		case unicode.IsSpace(r):
			inWord = false
		default:
			n++
			inWord = false
		}
	}
	return n
}

// Format says how a text is structured.
type Format int

const (
	// Plain text: paragraphs separated by blank lines.
	Plain Format = iota
	// Markdown: ATX headings ("# Title") start sections, fenced code blocks
	// (``` or ~~~) are kept apart from prose and cut only between lines.
	Markdown
)

// String names the format.
func (f Format) String() string {
	switch f {
	case Plain:
		return "plain"
	case Markdown:
		return "markdown"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ErrInvalidText is returned for a text that is not valid UTF-8.
var ErrInvalidText = errors.New("chunk: text is not valid UTF-8")

// Option configures Split.
type Option func(*config)

type config struct {
	max, overlap int
	counter      Counter
	format       Format
}

// WithMaxTokens sets the largest passage, in tokens (default 256). For a
// transformer model it must leave room for the special tokens within the
// model's maximum length.
func WithMaxTokens(n int) Option { return func(c *config) { c.max = n } }

// WithOverlap sets how many tokens of a passage's end the next passage of
// the same section repeats (default 32; 0 for none). It must be smaller than
// the maximum.
func WithOverlap(n int) Option { return func(c *config) { c.overlap = n } }

// WithCounter sets how tokens are counted (default WordCounter).
func WithCounter(c Counter) Option { return func(cf *config) { cf.counter = c } }

// WithFormat sets the text's format (default Plain).
func WithFormat(f Format) Option { return func(c *config) { c.format = f } }

func newConfig(opts []Option) (config, error) {
	c := config{max: DefaultMaxTokens, overlap: DefaultOverlap, counter: WordCounter}
	for _, o := range opts {
		o(&c)
	}
	switch {
	case c.max < 1:
		return c, fmt.Errorf("chunk: max tokens %d: must be at least 1", c.max)
	case c.overlap < 0:
		return c, fmt.Errorf("chunk: overlap %d: must not be negative", c.overlap)
	case c.overlap >= c.max:
		return c, fmt.Errorf("chunk: overlap %d: must be smaller than max tokens %d", c.overlap, c.max)
	case c.counter == nil:
		return c, errors.New("chunk: nil Counter")
	case c.format != Plain && c.format != Markdown:
		return c, fmt.Errorf("chunk: unknown format %v", c.format)
	}
	return c, nil
}

// Split cuts text into passages (see the package doc for the rules). A text
// with no non-space character has no passages.
func Split(text string, opts ...Option) ([]Passage, error) {
	c, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if !utf8.ValidString(text) {
		off := 0
		for off < len(text) {
			r, n := utf8.DecodeRuneInString(text[off:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			off += n
		}
		return nil, fmt.Errorf("%w: invalid byte at offset %d", ErrInvalidText, off)
	}
	s := splitter{cfg: c, text: text}
	for _, sec := range sections(text, c.format) {
		s.section(sec)
	}
	return s.out, nil
}

// span is a byte range of the text.
type span struct{ start, end int }

// section is a run of blocks under one heading path.
type section struct {
	headings []string
	levels   []int // levels[i] is the level of headings[i]
	blocks   []block
}

// block is a paragraph, a heading line or a fenced code block.
type block struct {
	span
	code bool
}

// sections divides the text into sections of blocks. Blank lines end a
// paragraph; in Markdown a heading line is a block of its own that opens a
// new section, and a fenced code block is one block, blank lines included.
func sections(text string, f Format) []section {
	var out []section
	cur := section{}
	var para span
	inPara := false
	endPara := func() {
		if inPara {
			cur.blocks = append(cur.blocks, block{span: para})
			inPara = false
		}
	}
	var fence string // the opening fence while inside a code block
	var code span
	for off := 0; off < len(text); {
		end := strings.IndexByte(text[off:], '\n')
		next := len(text)
		if end < 0 {
			end = len(text)
		} else {
			end += off
			next = end + 1
		}
		line := text[off:end]
		content := trimSpan(text, span{off, end})
		switch {
		case fence != "":
			if isClosingFence(line, fence) {
				code.end = content.end
				cur.blocks = append(cur.blocks, block{span: code, code: true})
				fence = ""
			} else if content.start < content.end {
				code.end = content.end
			}
		case content.start == content.end:
			endPara()
		case f == Markdown && openingFence(line) != "":
			endPara()
			fence = openingFence(line)
			code = content
		case f == Markdown && headingLevel(line) > 0:
			endPara()
			if len(cur.blocks) > 0 {
				out = append(out, cur)
			}
			// A heading closes every open heading of its level or deeper.
			level := headingLevel(line)
			keep := len(cur.levels)
			for keep > 0 && cur.levels[keep-1] >= level {
				keep--
			}
			cur = section{
				headings: append(cur.headings[:keep:keep], headingText(line)),
				levels:   append(cur.levels[:keep:keep], level),
				blocks:   []block{{span: content}},
			}
		default:
			if !inPara {
				para = content
				inPara = true
			}
			para.end = content.end
		}
		off = next
	}
	if fence != "" && code.end > code.start {
		// An unclosed fence runs to the end of the text, as in CommonMark.
		cur.blocks = append(cur.blocks, block{span: code, code: true})
	}
	endPara()
	if len(cur.blocks) > 0 {
		out = append(out, cur)
	}
	return out
}

// trimSpan shrinks sp to exclude leading and trailing white space.
func trimSpan(text string, sp span) span {
	for sp.start < sp.end {
		r, n := utf8.DecodeRuneInString(text[sp.start:sp.end])
		if !unicode.IsSpace(r) {
			break
		}
		sp.start += n
	}
	for sp.end > sp.start {
		r, n := utf8.DecodeLastRuneInString(text[sp.start:sp.end])
		if !unicode.IsSpace(r) {
			break
		}
		sp.end -= n
	}
	return sp
}

// indent returns line without up to three leading spaces, or false if it is
// indented further (CommonMark: then it is not a heading or a fence).
func indent(line string) (string, bool) {
	for i := 0; i < 4; i++ {
		if i == len(line) || line[i] != ' ' {
			return line[i:], true
		}
	}
	return "", false
}

// headingLevel returns the level of an ATX heading line ("## Title"), or 0.
func headingLevel(line string) int {
	l, ok := indent(line)
	if !ok {
		return 0
	}
	n := 0
	for n < len(l) && l[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || (n < len(l) && l[n] != ' ' && l[n] != '\t' && l[n] != '\r') {
		return 0
	}
	return n
}

// headingText is the heading's title without its markers.
func headingText(line string) string {
	l, _ := indent(line)
	l = strings.TrimSpace(strings.TrimLeft(l, "#"))
	// A closing sequence of #s is decoration, if a space precedes it.
	if t := strings.TrimRight(l, "#"); t != l && (t == "" || strings.HasSuffix(t, " ") || strings.HasSuffix(t, "\t")) {
		l = strings.TrimSpace(t)
	}
	return l
}

// openingFence returns the fence (``` or ~~~, three or more) that opens a
// code block on this line, or "".
func openingFence(line string) string {
	l, ok := indent(line)
	if !ok || len(l) < 3 || (l[0] != '`' && l[0] != '~') {
		return ""
	}
	n := 0
	for n < len(l) && l[n] == l[0] {
		n++
	}
	if n < 3 || (l[0] == '`' && strings.Contains(l[n:], "`")) {
		return ""
	}
	return l[:n]
}

// isClosingFence reports whether line closes a block opened by fence: the
// same character, at least as many, nothing after but spaces.
func isClosingFence(line, fence string) bool {
	l, ok := indent(line)
	if !ok {
		return false
	}
	n := 0
	for n < len(l) && l[n] == fence[0] {
		n++
	}
	return n >= len(fence) && strings.TrimSpace(l[n:]) == ""
}

// splitter packs the units of each section into passages.
type splitter struct {
	cfg  config
	text string
	out  []Passage
}

// unit is a piece that goes into a passage whole: a block, sentence, line or
// word that fits the limit.
type unit struct {
	span
	tokens int
}

func (s *splitter) count(sp span) int { return s.cfg.counter.CountTokens(s.text[sp.start:sp.end]) }

// section cuts one section into passages: units are packed greedily, in
// order, while the sum of their token counts stays within the limit. The
// sum is exact for counters that split words at white space, as model
// tokenizers do; the passage is then counted as a whole, and if a counter
// disagrees with the sum the passage gives back units until it fits. So a
// passage costs one count of its text, not one per unit.
func (s *splitter) section(sec section) {
	var units []unit
	for _, b := range sec.blocks {
		units = s.units(units, b)
	}
	first := len(s.out)
	for i := 0; i < len(units); {
		start := units[i].start
		if len(s.out) > first {
			start = s.overlapStart(s.out[len(s.out)-1], units[i])
		}
		lead := s.count(span{start, units[i].end})
		if lead > s.cfg.max {
			start, lead = units[i].start, units[i].tokens
		}
		j, sum := i+1, lead
		for j < len(units) && sum+units[j].tokens <= s.cfg.max {
			sum += units[j].tokens
			j++
		}
		tokens := lead
		if j > i+1 {
			tokens = s.count(span{start, units[j-1].end})
			for tokens > s.cfg.max && j > i+2 {
				j--
				tokens = s.count(span{start, units[j-1].end})
			}
			if tokens > s.cfg.max {
				j, tokens = i+1, lead
			}
		}
		s.out = append(s.out, Passage{Start: start, End: units[j-1].end, Headings: sec.headings, Tokens: tokens})
		i = j
	}
}

// overlapStart picks where a passage starting with unit u begins: at the
// earliest word start in the previous passage prev whose tail, with u, fits
// both the overlap and the limit; at u itself if none does. The tail is
// counted word by word (one count per word, not per candidate tail); the
// caller counts the chosen passage as a whole and drops the overlap if a
// counter disagrees with the sum.
func (s *splitter) overlapStart(prev Passage, u unit) int {
	if s.cfg.overlap == 0 {
		return u.start
	}
	best, tail, end := u.start, 0, prev.End
	for _, w := range s.wordStartsBackward(span{prev.Start, prev.End}) {
		if w >= u.start {
			end = w
			continue
		}
		tail += s.count(span{w, end})
		if tail > s.cfg.overlap || tail+u.tokens > s.cfg.max {
			break
		}
		best, end = w, w
	}
	return best
}

// wordStartsBackward lists the starts of the words in sp, last first.
func (s *splitter) wordStartsBackward(sp span) []int {
	var starts []int
	for i := sp.end; i > sp.start; {
		r, n := utf8.DecodeLastRuneInString(s.text[sp.start:i])
		i -= n
		if unicode.IsSpace(r) {
			continue
		}
		if i == sp.start {
			starts = append(starts, i)
			break
		}
		if p, _ := utf8.DecodeLastRuneInString(s.text[sp.start:i]); unicode.IsSpace(p) {
			starts = append(starts, i)
		}
	}
	return starts
}

// units appends the units of block b: b whole if it fits, else its
// sentences (prose) or lines (code), each cut further into words, and a word
// longer than the limit into runs of characters.
func (s *splitter) units(dst []unit, b block) []unit {
	if t := s.count(b.span); t <= s.cfg.max {
		return append(dst, unit{b.span, t})
	}
	var parts []span
	if b.code {
		parts = s.lines(b.span)
	} else {
		parts = s.sentences(b.span)
	}
	for _, p := range parts {
		if t := s.count(p); t <= s.cfg.max {
			dst = append(dst, unit{p, t})
			continue
		}
		for _, w := range s.words(p) {
			if t := s.count(w); t <= s.cfg.max {
				dst = append(dst, unit{w, t})
				continue
			}
			dst = s.runes(dst, w)
		}
	}
	return dst
}

// sentences splits sp at UAX #29 sentence boundaries that fall on white
// space. UAX #29 also breaks inside runs such as "e.g.Foo" or after an
// ideographic full stop with no space; cutting there would cut a word as
// this package defines it, so such boundaries are skipped.
func (s *splitter) sentences(sp span) []span {
	var out []span
	start := sp.start
	it := sentences.FromString(s.text[sp.start:sp.end])
	for it.Next() {
		b := sp.start + it.End()
		if b < sp.end {
			if r, _ := utf8.DecodeLastRuneInString(s.text[:b]); !unicode.IsSpace(r) {
				continue
			}
		}
		if p := trimSpan(s.text, span{start, b}); p.start < p.end {
			out = append(out, p)
		}
		start = b
	}
	return out
}

// lines splits sp at line ends.
func (s *splitter) lines(sp span) []span {
	var out []span
	for off := sp.start; off < sp.end; {
		end := strings.IndexByte(s.text[off:sp.end], '\n')
		next := sp.end
		if end < 0 {
			end = sp.end
		} else {
			end += off
			next = end + 1
		}
		if p := trimSpan(s.text, span{off, end}); p.start < p.end {
			out = append(out, p)
		}
		off = next
	}
	return out
}

// words splits sp at white space.
func (s *splitter) words(sp span) []span {
	var out []span
	start := -1
	for i, r := range s.text[sp.start:sp.end] {
		i += sp.start
		if unicode.IsSpace(r) {
			if start >= 0 {
				out = append(out, span{start, i})
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, span{start, sp.end})
	}
	return out
}

// runes cuts a word longer than the limit into the longest runs of whole
// characters that fit. A window doubles until it no longer fits, then a
// binary search over its rune boundaries finds the cut (a token count never
// falls as a text grows), so a long word costs O(n log n) counting, not
// O(n²). A character that alone exceeds the limit (a counter that charges
// more than the limit for one rune) becomes a unit by itself: nothing
// smaller exists.
func (s *splitter) runes(dst []unit, w span) []unit {
	var bounds []int
	for start := w.start; start < w.end; {
		lim := s.runeCeil(start+64, w.end)
		for lim < w.end && s.count(span{start, lim}) <= s.cfg.max {
			lim = s.runeCeil(start+2*(lim-start), w.end)
		}
		bounds = bounds[:0]
		for i := start; i < lim; {
			_, n := utf8.DecodeRuneInString(s.text[i:lim])
			i += n
			bounds = append(bounds, i)
		}
		k := sort.Search(len(bounds), func(k int) bool {
			return s.count(span{start, bounds[k]}) > s.cfg.max
		})
		end := bounds[max(k, 1)-1]
		dst = append(dst, unit{span{start, end}, s.count(span{start, end})})
		start = end
	}
	return dst
}

// runeCeil returns the first rune boundary at or after i, at most end.
func (s *splitter) runeCeil(i, end int) int {
	if i >= end {
		return end
	}
	for i < end && !utf8.RuneStart(s.text[i]) {
		i++
	}
	return i
}
