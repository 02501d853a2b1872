package tokenizer

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// scratch holds the buffers of the general path; Tokenizer pools them so a
// call allocates only when a text outgrows every buffer seen before.
//
// Without normalized added tokens the general path streams: it normalizes a
// segment normChunk bytes at a time and keeps at most maxWordChars
// characters of the current word (a longer word becomes [UNK] whatever its
// content), so the buffers stay small however long the text runs without
// ASCII whitespace. Holding a whole 8 MiB segment took 20 bytes per
// character.
type scratch struct {
	runes     []rune   // normalized characters of the current chunk
	offs      [][2]int // original byte range of each normalized character
	word      []byte   // current word, UTF-8, while it has at most maxWordChars characters
	wordOffs  [][2]int // original byte range of each byte of word
	wordChars int      // characters in the current word, kept or not
	wordSpan  [2]int   // original byte range of the whole current word
	src       [utf8.UTFMax]byte
}

// normChunk is how many bytes of text the streaming general path
// normalizes at a time.
const normChunk = 4096

func (sc *scratch) reset() {
	sc.runes, sc.offs = sc.runes[:0], sc.offs[:0]
	sc.resetWord()
}

func (sc *scratch) resetWord() {
	sc.word, sc.wordOffs, sc.wordChars = sc.word[:0], sc.wordOffs[:0], 0
}

func (sc *scratch) push(r rune, o [2]int) {
	sc.runes = append(sc.runes, r)
	sc.offs = append(sc.offs, o)
}

//go:generate go run unicode_gen.go

// isControlHF is HF's is_control: Cc, Cf or Co at its Unicode version,
// except \t \n \r, which count as whitespace.
func isControlHF(r rune) bool {
	if r < 0x80 {
		return asciiClassTable[r] == acOther
	}
	return unicode.Is(hfOther, r)
}

// isWhitespaceHF is Rust's char::is_whitespace (the White_Space property,
// which is stable across Unicode versions) plus \t \n \r.
func isWhitespaceHF(r rune) bool {
	if r < 0x80 {
		return r == ' ' || (r >= '\t' && r <= '\r')
	}
	return unicode.Is(unicode.White_Space, r)
}

// isPunctHF is BertPreTokenizer's punctuation: all ASCII punctuation (which
// includes symbols such as $ + < = > ^ ` | ~) plus the P* categories.
func isPunctHF(r rune) bool {
	if r < 0x80 {
		return asciiClassTable[r] == acPunct
	}
	return unicode.Is(hfPunct, r)
}

// isMnHF reports a nonspacing mark as of HF's Unicode version.
func isMnHF(r rune) bool { return r >= 0x300 && unicode.Is(hfMn, r) }

// isCJK reports the CJK ideograph blocks BertNormalizer surrounds with
// spaces (the "Chinese characters" of the original BERT code).
func isCJK(r rune) bool {
	switch {
	case r < 0x3400:
		return false
	case r >= 0x4E00 && r <= 0x9FFF,
		r >= 0x3400 && r <= 0x4DBF,
		r >= 0x20000 && r <= 0x2A6DF,
		r >= 0x2A700 && r <= 0x2B73F,
		r >= 0x2B740 && r <= 0x2B81F,
		r >= 0x2B920 && r <= 0x2CEAF,
		r >= 0xF900 && r <= 0xFAFF,
		r >= 0x2F800 && r <= 0x2FA1F:
		return true
	}
	return false
}

// normalize runs BertNormalizer over text[from:to], appending the
// normalized characters and their original byte ranges to sc.
func (t *Tokenizer) normalize(sc *scratch, text string, from, to int) {
	for i := from; i < to; {
		r, n := utf8.DecodeRuneInString(text[i:to])
		o := [2]int{i, i + n}
		i += n
		if t.cleanText {
			// Invalid UTF-8 decodes to U+FFFD, which HF removes: its text
			// went through a lossy conversion that produced U+FFFD too.
			if r == 0 || r == utf8.RuneError || isControlHF(r) {
				continue
			}
			if isWhitespaceHF(r) {
				sc.push(' ', o)
				continue
			}
		}
		if t.chineseChars && isCJK(r) {
			sc.push(' ', o)
			t.pushAccentsCase(sc, r, o)
			sc.push(' ', o)
			continue
		}
		t.pushAccentsCase(sc, r, o)
	}
}

// pushAccentsCase applies accent stripping (NFD, drop Mn) and lowercasing
// to one character. Decomposing character by character skips NFD's
// canonical reordering of combining marks; that only matters for marks that
// survive stripping (spacing marks with a nonzero combining class, a
// handful of musical symbols), so ids are unaffected in practice.
func (t *Tokenizer) pushAccentsCase(sc *scratch, r rune, o [2]int) {
	// Nothing below U+00C0 has a canonical decomposition.
	if !t.stripAccents || r < 0xC0 {
		t.pushLower(sc, r, o)
		return
	}
	if r >= hangulBase && r < hangulBase+hangulCount {
		// Hangul syllables decompose by formula (Unicode §3.12); the jamo
		// have no marks to strip and no case.
		i := r - hangulBase
		sc.push(0x1100+i/(21*28), o)
		sc.push(0x1161+i%(21*28)/28, o)
		if i%28 != 0 {
			sc.push(0x11A7+i%28, o)
		}
		return
	}
	n := utf8.EncodeRune(sc.src[:], r)
	// The NFD tables store each character's full canonical decomposition;
	// reading it directly avoids norm.Form.Append's per-call buffers.
	d := norm.NFD.Properties(sc.src[:n]).Decomposition()
	if d == nil {
		if !isMnHF(r) {
			t.pushLower(sc, r, o)
		}
		return
	}
	for len(d) > 0 {
		c, m := utf8.DecodeRune(d)
		d = d[m:]
		if isMnHF(c) {
			continue
		}
		t.pushLower(sc, c, o)
	}
}

const (
	hangulBase  = 0xAC00
	hangulCount = 19 * 21 * 28
)

func (t *Tokenizer) pushLower(sc *scratch, r rune, o [2]int) {
	if !t.lowercase {
		sc.push(r, o)
		return
	}
	if r == 'İ' {
		// The one unconditional multi-character lowercase mapping in
		// SpecialCasing.txt, which Rust's char::to_lowercase applies and
		// Go's unicode.ToLower (simple mapping) does not.
		sc.push('i', o)
		sc.push('\u0307', o)
		return
	}
	sc.push(unicode.ToLower(r), o)
}

// normalizeString normalizes s on its own, for matching normalized added
// tokens.
func (t *Tokenizer) normalizeString(s string) string {
	var sc scratch
	t.normalize(&sc, s, 0, len(s))
	return string(sc.runes)
}

// segmentGeneral tokenizes text[from:to] through full normalization.
func (t *Tokenizer) segmentGeneral(s *sink, sc *scratch, text string, from, to int) {
	if len(t.normAdded) == 0 {
		// Normalization and pre-tokenization work character by character,
		// so the segment can be cut anywhere a character starts: no
		// character spans such a cut, valid or not (an invalid byte decodes
		// alone either way). Only the current word carries over.
		chunk := normChunk
		if t.chunk > 0 {
			chunk = t.chunk
		}
		sc.resetWord()
		for from < to {
			end := min(from+chunk, to)
			for end < to && !utf8.RuneStart(text[end]) {
				end++
			}
			sc.runes, sc.offs = sc.runes[:0], sc.offs[:0]
			t.normalize(sc, text, from, end)
			t.splitWords(s, sc, 0, len(sc.runes))
			from = end
		}
		t.flushWord(s, sc)
		return
	}
	// A normalized added token may span any cut: normalize it all.
	t.normalize(sc, text, from, to)
	pos := 0
	for i := 0; i < len(sc.runes); {
		a, me, ok := t.matchNormAdded(sc.runes, i)
		if !ok {
			i++
			continue
		}
		t.preTokenize(s, sc, pos, i)
		s.drainIfFull()
		s.emit(a.id, sc.offs[i][0], sc.offs[me-1][1])
		pos, i = me, me
	}
	t.preTokenize(s, sc, pos, len(sc.runes))
}

// matchNormAdded returns the longest normalized added token at rune i.
func (t *Tokenizer) matchNormAdded(rs []rune, i int) (*addedToken, int, bool) {
outer:
	for k := range t.normAdded {
		a := &t.normAdded[k]
		if len(rs)-i < len(a.match) {
			continue
		}
		for j, r := range a.match {
			if rs[i+j] != r {
				continue outer
			}
		}
		me := i + len(a.match)
		if a.singleWord && ((i > 0 && isWordRune(rs[i-1])) || (me < len(rs) && isWordRune(rs[me]))) {
			continue
		}
		return a, me, true
	}
	return nil, 0, false
}

// preTokenize splits normalized characters lo..hi on whitespace and
// punctuation (BertPreTokenizer) and word-pieces each word.
func (t *Tokenizer) preTokenize(s *sink, sc *scratch, lo, hi int) {
	sc.resetWord()
	t.splitWords(s, sc, lo, hi)
	t.flushWord(s, sc)
}

// splitWords is preTokenize without its ends: the word in progress before
// lo is continued, and the one at hi is left in progress.
func (t *Tokenizer) splitWords(s *sink, sc *scratch, lo, hi int) {
	for k := lo; k < hi; k++ {
		r, o := sc.runes[k], sc.offs[k]
		switch {
		case isWhitespaceHF(r):
			t.flushWord(s, sc)
		case isPunctHF(r):
			t.flushWord(s, sc)
			t.appendRune(sc, r, o)
			t.flushWord(s, sc)
		default:
			t.appendRune(sc, r, o)
		}
	}
}

// flushWord word-pieces the word in progress, if any. A word of more than
// maxWordChars characters is one [UNK] spanning it, as wordPiece makes it.
func (t *Tokenizer) flushWord(s *sink, sc *scratch) {
	switch {
	case sc.wordChars > t.maxWordChars:
		s.drainIfFull()
		s.emit(t.unk, sc.wordSpan[0], sc.wordSpan[1])
	case sc.wordChars > 0:
		t.wordPiece(s, sc.word, sc.wordOffs, 0)
	}
	sc.resetWord()
}

// appendRune adds a character to the word in progress. Past maxWordChars
// characters only the word's span is kept: it will be [UNK].
func (t *Tokenizer) appendRune(sc *scratch, r rune, o [2]int) {
	sc.wordChars++
	if sc.wordChars == 1 {
		sc.wordSpan = o
	}
	sc.wordSpan[1] = o[1]
	if sc.wordChars > t.maxWordChars {
		return
	}
	n := len(sc.word)
	sc.word = utf8.AppendRune(sc.word, r)
	for ; n < len(sc.word); n++ {
		sc.wordOffs = append(sc.wordOffs, o)
	}
}
