package tokenizer

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

const bertVocabPath = "testdata/bert-base-uncased-vocab.txt"

// bertTokenizer loads the bert-base-uncased vocabulary (the one of
// all-MiniLM-L6-v2) as HF's BertTokenizerFast would configure it.
func bertTokenizer(tb testing.TB, opts ...Option) *Tokenizer {
	tb.Helper()
	f, err := os.Open(bertVocabPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	vocab, err := LoadVocabTxt(f)
	if err != nil {
		tb.Fatal(err)
	}
	if len(vocab) != 30522 {
		tb.Fatalf("vocab has %d tokens, want 30522", len(vocab))
	}
	tok, err := NewWordPiece(vocab, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

type tokCase struct {
	name    string
	text    string
	special bool
	ids     []int32
	offsets [][2]int // nil: not checked
}

func runTokCases(t *testing.T, tok *Tokenizer, cases []tokCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			enc := tok.Encode(c.text, c.special)
			if !reflect.DeepEqual(enc.IDs, c.ids) {
				t.Fatalf("Encode(%q, %v) ids = %v (%s), want %v (%s)", c.text, c.special, enc.IDs, tokensOf(tok, enc.IDs), c.ids, tokensOf(tok, c.ids))
			}
			if c.offsets != nil && !reflect.DeepEqual(enc.Offsets, c.offsets) {
				t.Fatalf("Encode(%q) offsets = %v, want %v", c.text, enc.Offsets, c.offsets)
			}
			if len(enc.TypeIDs) != len(enc.IDs) || len(enc.Offsets) != len(enc.IDs) {
				t.Fatalf("lengths differ: ids %d, type ids %d, offsets %d", len(enc.IDs), len(enc.TypeIDs), len(enc.Offsets))
			}
			if !c.special {
				if got := tok.AppendIDs(nil, c.text); !reflect.DeepEqual(got, nonNil(c.ids)) && !(len(got) == 0 && len(c.ids) == 0) {
					t.Fatalf("AppendIDs(%q) = %v, want %v", c.text, got, c.ids)
				}
			}
		})
	}
}

func nonNil(ids []int32) []int32 {
	if ids == nil {
		return []int32{}
	}
	return ids
}

func tokensOf(tok *Tokenizer, ids []int32) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(tok.Token(id))
	}
	return b.String()
}

// TestTokenizerPublicVectors holds the tokenizer to the published vectors
// of shared/notes/tokenizer.md (HF tokenizers and daulet/tokenizers tests).
func TestTokenizerPublicVectors(t *testing.T) {
	tok := bertTokenizer(t)
	runTokCases(t, tok, []tokCase{
		{name: "fox no specials", text: "brown fox jumps over the lazy dog",
			ids:     []int32{2829, 4419, 14523, 2058, 1996, 13971, 3899},
			offsets: [][2]int{{0, 5}, {6, 9}, {10, 15}, {16, 20}, {21, 24}, {25, 29}, {30, 33}}},
		{name: "fox specials", text: "brown fox jumps over the lazy dog", special: true,
			ids:     []int32{101, 2829, 4419, 14523, 2058, 1996, 13971, 3899, 102},
			offsets: [][2]int{{0, 0}, {0, 5}, {6, 9}, {10, 15}, {16, 20}, {21, 24}, {25, 29}, {30, 33}, {0, 0}}},
		{name: "empty specials", text: "", special: true, ids: []int32{101, 102}, offsets: [][2]int{{0, 0}, {0, 0}}},
		{name: "empty", text: "", ids: []int32{}, offsets: [][2]int{}},
		// HF, reached through daulet/tokenizers, reports [3,4): offsets into
		// the string after its lossy UTF-8 conversion turned the byte 0x91
		// into the 3-byte U+FFFD. Offsets here index the caller's bytes, so
		// "D" is at [1,2); the id is HF's.
		{name: "invalid utf8", text: "\x91D", ids: []int32{1040}, offsets: [][2]int{{1, 2}}},
		{name: "short sentence", text: "this short sentence", ids: []int32{2023, 2460, 6251}},
	})

	enc := tok.EncodePair("My name is John", "pair", true)
	if want := []int32{101, 2026, 2171, 2003, 2198, 102, 3940, 102}; !reflect.DeepEqual(enc.IDs, want) {
		t.Fatalf("pair ids = %v, want %v", enc.IDs, want)
	}
	if want := []int32{0, 0, 0, 0, 0, 0, 1, 1}; !reflect.DeepEqual(enc.TypeIDs, want) {
		t.Fatalf("pair type ids = %v, want %v", enc.TypeIDs, want)
	}
	if want := [][2]int{{0, 0}, {0, 2}, {3, 7}, {8, 10}, {11, 15}, {0, 0}, {0, 4}, {0, 0}}; !reflect.DeepEqual(enc.Offsets, want) {
		t.Fatalf("pair offsets = %v, want %v", enc.Offsets, want)
	}
}

// TestTokenizerEdgeRules covers each rule of tokenizer.md; the expected ids
// follow from the rule and a lookup in the vocabulary, as each comment says.
func TestTokenizerEdgeRules(t *testing.T) {
	tok := bertTokenizer(t)
	// greedy WordPiece of "a"*100: "aaa" then 48 × "##aa" then "##a"... as
	// the vocabulary decides: aaa=13360, ##aa=11057, ##a=2050.
	hundredA := []int32{13360}
	for i := 0; i < 48; i++ {
		hundredA = append(hundredA, 11057)
	}
	hundredA = append(hundredA, 2050)
	// "é"×60 strips to "e"×60: 60 characters (120 bytes) is under the
	// 100-character limit, which counts characters, not bytes:
	// eee=25212 then 29 × ##ee=4402.
	sixtyE := []int32{25212}
	for i := 0; i < 29; i++ {
		sixtyE = append(sixtyE, 4402)
	}
	runTokCases(t, tok, []tokCase{
		// Soft hyphen is Cf: removed, the word joins to "cooperation" (6792);
		// its offsets still span the removed character.
		{name: "soft hyphen", text: "co\u00adoperation", ids: []int32{6792}, offsets: [][2]int{{0, 13}}},
		// Zero-width space (Cf) is removed too, joining the words.
		{name: "zero width space", text: "foot\u200bball", ids: []int32{2374}, offsets: [][2]int{{0, 11}}},
		// BOM (U+FEFF, Cf) at the start is removed; offsets skip its 3 bytes.
		{name: "BOM", text: "\ufeffhello world", ids: []int32{7592, 2088}, offsets: [][2]int{{3, 8}, {9, 14}}},
		// U+2028 (Zl) is White_Space: it separates words like a space.
		{name: "line separator", text: "hello\u2028world", ids: []int32{7592, 2088}, offsets: [][2]int{{0, 5}, {8, 13}}},
		{name: "nbsp and ideographic space", text: "hello\u00a0world\u3000again", ids: []int32{7592, 2088, 2153}},
		{name: "tab newline cr", text: "hello\tworld\r\nagain\n", ids: []int32{7592, 2088, 2153}},
		// \v, \f and U+0085 are Cc: removed before whitespace mapping, so
		// they join their neighbours: baseball 3598, football 2374,
		// something 2242.
		{name: "control chars removed", text: "base\vball foot\fball some\u0085thing",
			ids: []int32{3598, 2374, 2242}, offsets: [][2]int{{0, 9}, {10, 19}, {20, 31}}},
		{name: "NUL and DEL removed", text: "foot\x00ball\x7f", ids: []int32{2374}},
		// NFD then drop Mn: café→cafe 7668, naïve→naive 15743,
		// résumé→resume 13746; offsets cover the accented bytes.
		{name: "accented latin", text: "Café naïve résumé", ids: []int32{7668, 15743, 13746},
			offsets: [][2]int{{0, 5}, {6, 12}, {13, 21}}},
		// İ: NFD gives I + U+0307, the mark is dropped, I lowercases to i.
		{name: "dotted capital I", text: "İstanbul", ids: []int32{9960}},
		// Decomposed input (e + U+0301) is stripped the same way.
		// The dropped mark does not widen the offsets: like HF's filter, a
		// kept character keeps its own alignment.
		{name: "combining accent", text: "cafe\u0301", ids: []int32{7668}, offsets: [][2]int{{0, 4}}},
		// ß has no decomposition and lowercases to itself: stra + ##ße.
		{name: "sharp s", text: "Straße", ids: []int32{2358, 27807}},
		// CJK ideographs become words of their own: 世 is 1745, 界 is not
		// in the vocabulary ([UNK] 100), abc 5925.
		{name: "cjk mixed", text: "hello世界abc", ids: []int32{7592, 1745, 100, 5925},
			offsets: [][2]int{{0, 5}, {5, 8}, {8, 11}, {11, 14}}},
		// Hangul is not in the CJK ranges; NFD splits the syllables into
		// jamo, which WordPiece then matches: ᄒ ##ᅡ ##ᆫ ##ᄀ ##ᅮ ##ᆨ, all
		// pieces pointing at the syllable they came from.
		{name: "hangul", text: "한국", ids: []int32{1469, 30006, 30021, 29991, 30014, 30020},
			offsets: [][2]int{{0, 3}, {0, 3}, {0, 3}, {3, 6}, {3, 6}, {3, 6}}},
		// An emoji is a symbol (So), not punctuation: alone it is [UNK];
		// glued to "pizza" the word has no "##🍕" piece, so the whole word
		// is one [UNK].
		{name: "emoji", text: "I love 🍕 pizza🍕", ids: []int32{1045, 2293, 100, 100},
			offsets: [][2]int{{0, 1}, {2, 6}, {7, 11}, {12, 21}}},
		{name: "101 char word", text: strings.Repeat("a", 101), ids: []int32{100}, offsets: [][2]int{{0, 101}}},
		{name: "100 char word", text: strings.Repeat("a", 100), ids: hundredA},
		{name: "101 accented chars", text: strings.Repeat("é", 101), ids: []int32{100}, offsets: [][2]int{{0, 202}}},
		{name: "60 accented chars", text: strings.Repeat("é", 60), ids: sixtyE},
		// Apostrophe is punctuation: don ' t.
		{name: "don't", text: "don't", ids: []int32{2123, 1005, 1056}, offsets: [][2]int{{0, 3}, {3, 4}, {4, 5}}},
		{name: "U.S.A.", text: "U.S.A.", ids: []int32{1057, 1012, 1055, 1012, 1037, 1012}},
		// Special tokens are added tokens matched in the raw text.
		{name: "specials literal", text: "[CLS]fox[SEP]", ids: []int32{101, 4419, 102},
			offsets: [][2]int{{0, 5}, {5, 8}, {8, 13}}},
		{name: "specials literal with template", text: "[CLS]fox[SEP]", special: true, ids: []int32{101, 101, 4419, 102, 102}},
		{name: "mask", text: "a [MASK] b", ids: []int32{1037, 103, 1038}, offsets: [][2]int{{0, 1}, {2, 8}, {9, 10}}},
		// Matching is case-sensitive and happens before lowercasing.
		{name: "mask lowercase is text", text: "[mask]", ids: []int32{1031, 7308, 1033}},
		{name: "all ascii punct", text: "a+b=c $100 x^y a|b ~", ids: []int32{1037, 1009, 1038, 1027, 1039, 1002, 2531, 1060, 1034, 1061, 1037, 1064, 1038, 1066}},
		// Unicode punctuation (Pd, Pi, Pf) is isolated.
		{name: "unicode punct", text: "hello—world «quote»", ids: []int32{7592, 1517, 2088, 1077, 14686, 1090}},
		// Symbols (Sc, So) are not punctuation and stay in the word:
		// 5 ##€, © ##20 ##20, 10 ##°.
		{name: "symbols stay attached", text: "5€ ©2020 10°", ids: []int32{1019, 30102, 1075, 11387, 11387, 2184, 7737}},
		// Invalid UTF-8 is dropped like U+FFFD: "caf\xe9" is "caf" (24689).
		{name: "latin1 byte", text: "caf\xe9", ids: []int32{24689}, offsets: [][2]int{{0, 3}}},
		{name: "replacement char", text: "a\ufffdb", ids: []int32{11113}},
		// Unicode-version sensitive: U+2E49 (Po) only exists since Unicode
		// 10.0, so for HF's tables it is not punctuation and the word is one
		// [UNK]; U+2E43 (Po since 9.0) is punctuation and splits the word;
		// U+0890 (Cf since 14.0) is kept as a letter, not removed.
		{name: "punct newer than HF tables", text: "a\u2e49b", ids: []int32{100}},
		{name: "punct in HF tables", text: "a\u2e43b", ids: []int32{1037, 100, 1038}},
		{name: "format char newer than HF tables", text: "a\u0890b", ids: []int32{100}},
		{name: "hello world", text: "Hello, World!", ids: []int32{7592, 1010, 2088, 999}},
		{name: "HF docs example", text: "unaffable", ids: []int32{14477, 20961, 3468}},
		{name: "only whitespace", text: " \t\n\u00a0\u2028 ", ids: []int32{}},
	})
}

func TestTokenizerCasedSettings(t *testing.T) {
	// A cased setup (lowercase off; strip accents then follows it and is
	// off too) keeps case and accents, so these words fall apart into
	// pieces of the uncased vocabulary or [UNK].
	tok := bertTokenizer(t, WithLowercase(false))
	if got := tok.AppendIDs(nil, "Hello"); reflect.DeepEqual(got, []int32{7592}) {
		t.Fatalf("cased tokenizer lowercased: %v", got)
	}
	if got := tok.AppendIDs(nil, "hello café"); !reflect.DeepEqual(got, []int32{7592, 100}) {
		// "café" with the accent kept: "caf" then "##é" is missing → [UNK].
		t.Fatalf("cased café = %v (%s)", got, tokensOf(tok, got))
	}
	// Lowercase but keep accents: İ lowercases to i + U+0307 (Rust's
	// char::to_lowercase), which no vocabulary piece covers.
	tok = bertTokenizer(t, WithStripAccents(false))
	if got := tok.AppendIDs(nil, "İ"); !reflect.DeepEqual(got, []int32{100}) {
		t.Fatalf("İ without accent stripping = %v (%s)", got, tokensOf(tok, got))
	}
	// Without CJK handling, the ideographs stay glued to the word.
	tok = bertTokenizer(t, WithChineseChars(false))
	if got := tok.AppendIDs(nil, "hello世界abc"); !reflect.DeepEqual(got, []int32{100}) {
		t.Fatalf("no CJK spacing = %v (%s)", got, tokensOf(tok, got))
	}
	// Without text cleaning, a control character is a word character.
	tok = bertTokenizer(t, WithCleanText(false))
	if got := tok.AppendIDs(nil, "foot\x01ball"); !reflect.DeepEqual(got, []int32{100}) {
		t.Fatalf("no cleaning = %v (%s)", got, tokensOf(tok, got))
	}
	// Special tokens as plain text when not registered.
	tok = bertTokenizer(t, WithSpecialTokens(false))
	if got := tok.AppendIDs(nil, "[CLS]"); !reflect.DeepEqual(got, []int32{1031, 18856, 2015, 1033}) {
		t.Fatalf("[CLS] as text = %v (%s)", got, tokensOf(tok, got))
	}
}

func TestTokenizerTruncation(t *testing.T) {
	tok := bertTokenizer(t, WithMaxLength(256))
	if tok.MaxLength() != 256 {
		t.Fatalf("MaxLength = %d", tok.MaxLength())
	}
	long := strings.Repeat("the lazy dog ", 200) // 600 tokens
	enc := tok.Encode(long, true)
	if len(enc.IDs) != 256 || enc.Truncated != 600-254 {
		t.Fatalf("len %d truncated %d, want 256 and %d", len(enc.IDs), enc.Truncated, 600-254)
	}
	// Tokens 0..253 survive; token 253 is the "lazy" of repetition 84.
	if enc.IDs[0] != 101 || enc.IDs[255] != 102 || enc.IDs[254] != 13971 {
		t.Fatalf("truncated encoding must keep [CLS] ... [SEP] and the leading tokens: %v", enc.IDs[250:])
	}
	if enc.Offsets[254] != [2]int{84*13 + 4, 84*13 + 8} {
		t.Fatalf("offset of last kept token = %v", enc.Offsets[254])
	}
	enc = tok.Encode(long, false)
	if len(enc.IDs) != 256 || enc.Truncated != 600-256 {
		t.Fatalf("no specials: len %d truncated %d", len(enc.IDs), enc.Truncated)
	}
	// Exactly at the limit: nothing dropped.
	exact := strings.TrimSpace(strings.Repeat("dog ", 254))
	if enc := tok.Encode(exact, true); len(enc.IDs) != 256 || enc.Truncated != 0 {
		t.Fatalf("exact: len %d truncated %d", len(enc.IDs), enc.Truncated)
	}
	// No truncation when disabled.
	if enc := bertTokenizer(t, WithMaxLength(0)).Encode(long, true); len(enc.IDs) != 602 || enc.Truncated != 0 {
		t.Fatalf("max 0: len %d truncated %d", len(enc.IDs), enc.Truncated)
	}
	// Default: 512, BERT's position limit.
	if enc := bertTokenizer(t).Encode(long, true); len(enc.IDs) != 512 {
		t.Fatalf("default max: len %d", len(enc.IDs))
	}
	if _, err := NewWordPiece([]string{"[UNK]", "[CLS]", "[SEP]"}, WithMaxLength(1)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("max length below the specials: err = %v", err)
	}
	if _, err := NewWordPiece([]string{"[UNK]"}, WithMaxLength(-1)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("negative max length: err = %v", err)
	}
}

func TestLongestFirst(t *testing.T) {
	// Expected values worked out from HF's truncate_encodings: the shorter
	// sequence keeps its length if the longer can take the rest; otherwise
	// both get half, the second sequence the odd token.
	cases := []struct{ n1, n2, max, w1, w2 int }{
		{3, 4, 10, 3, 4}, // fits
		{10, 2, 7, 5, 2}, // only the longer (first) is cut
		{2, 10, 7, 2, 5}, // only the longer (second) is cut
		{5, 5, 7, 3, 4},  // both cut, odd token to the second
		{9, 6, 7, 4, 3},  // both cut, swapped back: the longer first gets the odd token
		{100, 100, 0, 0, 0},
		{0, 50, 7, 0, 7},
	}
	for _, c := range cases {
		if g1, g2 := longestFirst(c.n1, c.n2, c.max); g1 != c.w1 || g2 != c.w2 {
			t.Errorf("longestFirst(%d, %d, %d) = %d, %d; want %d, %d", c.n1, c.n2, c.max, g1, g2, c.w1, c.w2)
		}
	}
	tok := bertTokenizer(t, WithMaxLength(10)) // budget 7 after [CLS] [SEP] [SEP]
	enc := tok.EncodePair("dog dog dog dog dog dog dog dog dog dog", "the lazy", true)
	want := []int32{101, 3899, 3899, 3899, 3899, 3899, 102, 1996, 13971, 102}
	if !reflect.DeepEqual(enc.IDs, want) || enc.Truncated != 5 {
		t.Fatalf("pair truncation = %v (truncated %d), want %v (5)", enc.IDs, enc.Truncated, want)
	}
	if wantT := []int32{0, 0, 0, 0, 0, 0, 0, 1, 1, 1}; !reflect.DeepEqual(enc.TypeIDs, wantT) {
		t.Fatalf("type ids = %v", enc.TypeIDs)
	}
	enc = tok.EncodePair("dog dog", "the lazy", false)
	if want := []int32{3899, 3899, 1996, 13971}; !reflect.DeepEqual(enc.IDs, want) || !reflect.DeepEqual(enc.TypeIDs, []int32{0, 0, 1, 1}) {
		t.Fatalf("pair without specials = %v %v", enc.IDs, enc.TypeIDs)
	}
}

func TestAppendIDsAllocations(t *testing.T) {
	tok := bertTokenizer(t)
	text := "The quick brown fox jumps over the lazy dog, doesn't it? Tokenization of U.S.A. [SEP] text."
	dst := make([]int32, 0, 256)
	if n := testing.AllocsPerRun(100, func() { dst = tok.AppendIDs(dst[:0], text) }); n != 0 {
		t.Fatalf("AppendIDs on ASCII allocates %v times per call", n)
	}
	if raceEnabled {
		return
	}
	uni := "Café naïve résumé, 世界 and İstanbul."
	tok.AppendIDs(dst[:0], uni) // warm the scratch pool
	// The general path reuses pooled buffers; a pool may drop them at GC,
	// so allow a fraction of an allocation on average.
	if n := testing.AllocsPerRun(100, func() { dst = tok.AppendIDs(dst[:0], uni) }); n > 1 {
		t.Fatalf("AppendIDs on non-ASCII allocates %v times per call", n)
	}
	if !reflect.DeepEqual(tok.AppendIDs([]int32{7}, "dog"), []int32{7, 3899}) {
		t.Fatal("AppendIDs must append to dst")
	}
}

func TestTokenizerAccessors(t *testing.T) {
	tok := bertTokenizer(t)
	if tok.VocabSize() != 30522 {
		t.Fatalf("VocabSize = %d", tok.VocabSize())
	}
	cls, sep, pad, unk := tok.SpecialIDs()
	if cls != 101 || sep != 102 || pad != 0 || unk != 100 {
		t.Fatalf("SpecialIDs = %d %d %d %d", cls, sep, pad, unk)
	}
	if id, ok := tok.TokenID("##s"); !ok || id != 2015 {
		t.Fatalf("TokenID(##s) = %d %v", id, ok)
	}
	if _, ok := tok.TokenID("notaword-xyz"); ok {
		t.Fatal("TokenID of a missing token succeeded")
	}
	if tok.Token(4419) != "fox" || tok.Token(-1) != "" || tok.Token(30522) != "" {
		t.Fatal("Token lookups wrong")
	}
	v := tok.Vocab()
	v[4419] = "changed"
	if tok.Token(4419) != "fox" {
		t.Fatal("Vocab must return a copy")
	}
}

func TestLoadVocabTxt(t *testing.T) {
	v, err := LoadVocabTxt(strings.NewReader("[PAD]\r\n[UNK]\nhello \nworld"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"[PAD]", "[UNK]", "hello", "world"}; !reflect.DeepEqual(v, want) {
		t.Fatalf("LoadVocabTxt = %q, want %q", v, want)
	}
	if _, err := LoadVocabTxt(strings.NewReader("")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty vocab.txt: err = %v", err)
	}
	for _, bad := range [][]string{nil, {"a", "b"}, {"[UNK]", "a", "a"}} {
		if _, err := NewWordPiece(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("NewWordPiece(%q): err = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestLoadFixture(t *testing.T) {
	tok, err := Load(filepath.Join("testdata", "bert-tiny-tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The file's truncation block (128) is ignored; the default applies.
	if tok.MaxLength() != defaultMaxLength {
		t.Fatalf("MaxLength = %d", tok.MaxLength())
	}
	runTokCases(t, tok, []tokCase{
		{name: "sentence", text: "The brown fox jumped over the lazy dog!", special: true,
			ids: []int32{3, 12, 14, 13, 15, 17, 20, 12, 19, 18, 6, 4}},
		{name: "unknown word", text: "Unaffable cat", ids: []int32{21, 22, 23, 2}},
		{name: "accents", text: "Café", ids: []int32{24}},
		{name: "mask", text: "a[MASK]b", ids: []int32{10, 5, 11}},
	})
	enc := tok.EncodePair("a", "b", true)
	if want := []int32{3, 10, 4, 11, 4}; !reflect.DeepEqual(enc.IDs, want) || !reflect.DeepEqual(enc.TypeIDs, []int32{0, 0, 0, 1, 1}) {
		t.Fatalf("pair = %v %v", enc.IDs, enc.TypeIDs)
	}
	tok, err = Load(filepath.Join("testdata", "bert-tiny-tokenizer.json"), WithMaxLength(4), WithStripAccents(false))
	if err != nil {
		t.Fatal(err)
	}
	if enc := tok.Encode("the fox the fox", true); !reflect.DeepEqual(enc.IDs, []int32{3, 12, 13, 4}) || enc.Truncated != 2 {
		t.Fatalf("options over file: %v truncated %d", enc.IDs, enc.Truncated)
	}
	if got := tok.AppendIDs(nil, "café"); !reflect.DeepEqual(got, []int32{2}) {
		t.Fatalf("strip accents off: %v", got)
	}
	if _, err := Load(filepath.Join("testdata", "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: err = %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	fixture, err := os.ReadFile(filepath.Join("testdata", "bert-tiny-tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	fx := string(fixture)
	cases := []struct {
		name    string
		json    string
		wantErr error
		mention string
	}{
		{"not json", "{", ErrInvalid, "tokenizer.json"},
		{"no model", `{"normalizer":{"type":"BertNormalizer"}}`, ErrInvalid, "no model"},
		{"bpe model", strings.Replace(fx, `"type": "WordPiece",
    "unk_token"`, `"type": "BPE",
    "unk_token"`, 1), ErrUnsupported, `"BPE"`},
		{"nfc normalizer", strings.Replace(fx, `"type": "BertNormalizer"`, `"type": "NFC"`, 1), ErrUnsupported, `normalizer type "NFC"`},
		{"null normalizer", strings.Replace(fx, `"normalizer": {`, `"normalizer": null, "x": {`, 1), ErrUnsupported, "normalizer is missing"},
		{"whitespace pre-tokenizer", strings.Replace(fx, `"type": "BertPreTokenizer"`, `"type": "Whitespace"`, 1), ErrUnsupported, `pre_tokenizer type "Whitespace"`},
		{"roberta processing", strings.Replace(fx, `"type": "TemplateProcessing"`, `"type": "RobertaProcessing"`, 1), ErrUnsupported, `post_processor type "RobertaProcessing"`},
		{"unknown template token", strings.Replace(fx, `"SpecialToken": {
          "id": "[CLS]"`, `"SpecialToken": {
          "id": "[BOS]"`, 1), ErrInvalid, `"[BOS]"`},
		{"vocab not a map", strings.Replace(fx, `"vocab": {`, `"vocab": [1], "x": {`, 1), ErrInvalid, "model.vocab"},
		{"unk missing", strings.Replace(fx, `"unk_token": "[UNK]"`, `"unk_token": "<unk>"`, 1), ErrInvalid, `"<unk>"`},
		{"duplicate id", strings.Replace(fx, `"lazy": 19`, `"lazy": 18`, 1), ErrInvalid, "id 18"},
		{"gap in ids", strings.Replace(fx, `"lazy": 19`, `"lazy": 99`, 1), ErrInvalid, "no token has id"},
		{"negative id", strings.Replace(fx, `"lazy": 19`, `"lazy": -1`, 1), ErrInvalid, "-1"},
		{"added token without id", strings.Replace(fx, `"id": 0,`, ``, 1), ErrInvalid, "has no id"},
		{"bad max chars", strings.Replace(fx, `"max_input_chars_per_word": 100`, `"max_input_chars_per_word": 0`, 1), ErrInvalid, "max_input_chars_per_word"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.json == fx {
				t.Fatal("fixture edit did not apply")
			}
			_, err := Parse([]byte(c.json))
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("err = %v, want %v", err, c.wantErr)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Fatalf("error %q does not mention %q", err, c.mention)
			}
		})
	}
}

// TestParseSparseIDsAllocateNothing: ids that leave gaps fail before the
// tables are made. Regression: one vocab id of 16,777,215 made Parse
// allocate 285 MB (a string and a flag per id) before finding id 0 without
// a token.
func TestParseSparseIDsAllocateNothing(t *testing.T) {
	fixture, err := os.ReadFile(filepath.Join("testdata", "bert-tiny-tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	js := strings.Replace(string(fixture), `"lazy": 19`, `"lazy": 16777215`, 1)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = Parse([]byte(js))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "no token has id") {
		t.Fatalf("err = %v, want ErrInvalid naming the gap", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 16<<20 {
		t.Errorf("Parse allocated %d MB to refuse a vocabulary with gaps", got>>20)
	}
}

func TestBertProcessing(t *testing.T) {
	fixture, err := os.ReadFile(filepath.Join("testdata", "bert-tiny-tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	fx := string(fixture)
	i := strings.Index(fx, `"post_processor"`)
	j := strings.Index(fx, `"decoder"`)
	js := fx[:i] + `"post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 4], "cls": ["[CLS]", 3]},` + "\n  " + fx[j:]
	tok, err := Parse([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	enc := tok.EncodePair("a", "b", true)
	if want := []int32{3, 10, 4, 11, 4}; !reflect.DeepEqual(enc.IDs, want) || !reflect.DeepEqual(enc.TypeIDs, []int32{0, 0, 0, 1, 1}) {
		t.Fatalf("BertProcessing pair = %v %v", enc.IDs, enc.TypeIDs)
	}
	// Without specials HF's BertProcessing falls back to the default
	// processing, which leaves type ids at 0; TemplateProcessing keeps the
	// template's sequence type ids.
	if enc := tok.EncodePair("a", "b", false); !reflect.DeepEqual(enc.TypeIDs, []int32{0, 0}) {
		t.Fatalf("BertProcessing pair without specials: type ids %v", enc.TypeIDs)
	}
	tmpl, err := Parse(fixture)
	if err != nil {
		t.Fatal(err)
	}
	if enc := tmpl.EncodePair("a", "b", false); !reflect.DeepEqual(enc.TypeIDs, []int32{0, 1}) {
		t.Fatalf("TemplateProcessing pair without specials: type ids %v", enc.TypeIDs)
	}
	// The processor kind survives MarshalJSON.
	data, err := tok.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if enc := back.EncodePair("a", "b", false); !reflect.DeepEqual(enc.TypeIDs, []int32{0, 0}) {
		t.Fatalf("BertProcessing after round trip: type ids %v", enc.TypeIDs)
	}
	if !strings.Contains(string(data), `"BertProcessing"`) {
		t.Fatal("MarshalJSON dropped BertProcessing")
	}
}

// TestAddedTokenOptions covers added tokens beyond BERT's five specials:
// normalized ones (matched after normalization), lstrip/rstrip (absorb
// neighbouring whitespace) and single_word (only whole words).
func TestAddedTokenOptions(t *testing.T) {
	fixture, err := os.ReadFile(filepath.Join("testdata", "bert-tiny-tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	extra := `"added_tokens": [
    {"id": 28, "content": "Brown Fox", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true, "special": false},
    {"id": 29, "content": "<m>", "single_word": false, "lstrip": true, "rstrip": true, "normalized": false, "special": true},
    {"id": 30, "content": "ab", "single_word": true, "lstrip": false, "rstrip": false, "normalized": false, "special": false},`
	js := strings.Replace(string(fixture), `"added_tokens": [`, extra, 1)
	tok, err := Parse([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != 31 || tok.Token(28) != "Brown Fox" {
		t.Fatalf("added tokens beyond the model vocabulary: size %d, token 28 %q", tok.VocabSize(), tok.Token(28))
	}
	runTokCases(t, tok, []tokCase{
		// "BROWN  FOX" does not normalize to "brown fox" (two spaces).
		{name: "normalized match", text: "the BROWN FOX jumps", ids: []int32{12, 28, 15, 16},
			offsets: [][2]int{{0, 3}, {4, 13}, {14, 18}, {18, 19}}},
		{name: "normalized no match", text: "the BROWN  FOX", ids: []int32{12, 14, 13}},
		{name: "strip", text: "a <m> b", ids: []int32{10, 29, 11}, offsets: [][2]int{{0, 1}, {1, 6}, {6, 7}}},
		{name: "single word", text: "ab cab ab.", ids: []int32{30, 2, 30, 8}},
	})
}

func TestMarshalJSONRoundTrip(t *testing.T) {
	tok := bertTokenizer(t, WithMaxLength(0))
	data, err := tok.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data, WithMaxLength(0))
	if err != nil {
		t.Fatalf("re-parsing marshaled tokenizer.json: %v", err)
	}
	if !reflect.DeepEqual(back.Vocab(), tok.Vocab()) {
		t.Fatal("vocabulary changed in the round trip")
	}
	for _, s := range fuzzSeeds {
		if a, b := tok.Encode(s, true), back.Encode(s, true); !reflect.DeepEqual(a, b) {
			t.Fatalf("%q: %v vs %v after round trip", s, a.IDs, b.IDs)
		}
		if a, b := tok.EncodePair(s, "pair", true), back.EncodePair(s, "pair", true); !reflect.DeepEqual(a, b) {
			t.Fatalf("%q: pair %v vs %v after round trip", s, a.IDs, b.IDs)
		}
	}
	// A tokenizer without [CLS]/[SEP] marshals with a null post-processor.
	small, err := NewWordPiece([]string{"[UNK]", "a", "##b"}, WithLowercase(false))
	if err != nil {
		t.Fatal(err)
	}
	data, err = small.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	back, err = Parse(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if got := back.Encode("ab A", true).IDs; !reflect.DeepEqual(got, []int32{1, 2, 0}) {
		t.Fatalf("small round trip = %v", got)
	}
}

// TestFastPathMatchesGeneral checks the ASCII fast path against the general
// path on the same text.
func TestFastPathMatchesGeneral(t *testing.T) {
	tok := bertTokenizer(t)
	for _, s := range append(fuzzSeeds, benchText(t)[:20000]) {
		if !isPlainASCII(s) {
			continue
		}
		var fast, slow sink
		fast.offsets, slow.offsets = true, true
		tok.segmentASCII(&fast, s, 0, len(s))
		sc := new(scratch)
		tok.segmentGeneral(&slow, sc, s, 0, len(s))
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: fast path %v %v, general path %v %v", s, fast.ids, fast.offs, slow.ids, slow.offs)
		}
	}
}

func TestTokenizerConcurrent(t *testing.T) {
	tok := bertTokenizer(t)
	texts := []string{"brown fox jumps over the lazy dog", "Café naïve résumé 世界", "a [MASK] b", "don't U.S.A."}
	want := make([]Encoding, len(texts))
	for i, s := range texts {
		want[i] = tok.Encode(s, true)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 200; n++ {
				i := n % len(texts)
				if got := tok.Encode(texts[i], true); !reflect.DeepEqual(got, want[i]) {
					errs <- texts[i]
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Errorf("concurrent Encode(%q) differed", s)
	}
}

func TestUnicodeTables(t *testing.T) {
	// The frozen tables agree with HF on characters old enough to be in
	// them and leave out newer ones.
	cases := []struct {
		r                    rune
		punct, control, mark bool
	}{
		{'!', true, false, false},
		{'$', true, false, false}, // ASCII symbol, punctuation for BERT
		{'€', false, false, false},
		{'—', true, false, false},
		{'«', true, false, false},
		{'\u00ad', false, true, false},
		{'\ufeff', false, true, false},
		{'\u200b', false, true, false},
		{'\ue000', false, true, false}, // private use (Co)
		{'\x0b', false, true, false},
		{'\t', false, false, false},
		{'\u0301', false, false, true},
		{'\u2e43', true, false, false},     // Po since Unicode 9.0
		{'\u2e49', false, false, false},    // Po since Unicode 10.0
		{'\u08e2', false, true, false},     // Cf since Unicode 9.0
		{'\u0890', false, false, false},    // Cf since Unicode 14.0
		{'\U0001e94a', false, false, true}, // Adlam nukta, Mn since 9.0
		{'\u1df6', false, false, false},    // Mn since Unicode 10.0
	}
	for _, c := range cases {
		if got := isPunctHF(c.r); got != c.punct {
			t.Errorf("isPunctHF(%U) = %v", c.r, got)
		}
		if got := isControlHF(c.r); got != c.control {
			t.Errorf("isControlHF(%U) = %v", c.r, got)
		}
		if got := isMnHF(c.r); got != c.mark {
			t.Errorf("isMnHF(%U) = %v", c.r, got)
		}
	}
	if !isWhitespaceHF('\u2028') || !isWhitespaceHF('\u3000') || !isWhitespaceHF('\u00a0') || isWhitespaceHF('\u200b') {
		t.Error("whitespace classification wrong")
	}
}

// FuzzTokenize checks invariants on arbitrary input: no panic, ids in range,
// offsets inside the text, on character boundaries and non-decreasing,
// AppendIDs equal to Encode's ids, truncation respected.
func FuzzTokenize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	tok := bertTokenizer(f)
	short := bertTokenizer(f, WithMaxLength(8))
	// The general path normalizes a text in chunks; cutting it after
	// every character, or every few bytes, must not change a token.
	var cut [2]*Tokenizer
	for i, n := range []int{1, 5} {
		cut[i] = bertTokenizer(f)
		cut[i].chunk = n
	}
	f.Fuzz(func(t *testing.T, text string) {
		bounds := make(map[int]bool, len(text)+1)
		for i := range text {
			bounds[i] = true
		}
		bounds[len(text)] = true
		enc := tok.Encode(text, false)
		// AppendIDs never truncates; Encode stops at the maximum length, so
		// its ids are a prefix of AppendIDs' and equal when nothing was cut.
		got := nonNil(tok.AppendIDs(nil, text))
		if len(got) != len(enc.IDs)+enc.Truncated || !reflect.DeepEqual(got[:len(enc.IDs)], enc.IDs) {
			t.Fatalf("AppendIDs gave %d ids, Encode %d plus %d truncated, or they differ", len(got), len(enc.IDs), enc.Truncated)
		}
		prev := 0
		for i, id := range enc.IDs {
			if id < 0 || int(id) >= tok.VocabSize() {
				t.Fatalf("id %d out of range", id)
			}
			o := enc.Offsets[i]
			if o[0] < prev || o[0] > o[1] || o[1] > len(text) || !bounds[o[0]] || !bounds[o[1]] {
				t.Fatalf("bad offset %v for token %d (%q) in %q (previous start %d)", o, i, tok.Token(id), text, prev)
			}
			if o[0] == o[1] {
				t.Fatalf("empty offset %v for token %q", o, tok.Token(id))
			}
			prev = o[0]
		}
		if utf8.ValidString(text) {
			for i, o := range enc.Offsets {
				if !utf8.ValidString(text[o[0]:o[1]]) {
					t.Fatalf("offset %v of token %d splits a character", o, i)
				}
			}
		}
		for _, c := range cut {
			if e := c.Encode(text, false); !reflect.DeepEqual(e.IDs, enc.IDs) || !reflect.DeepEqual(e.Offsets, enc.Offsets) {
				t.Fatalf("normalizing in chunks of %d bytes gave %v %v, want %v %v", c.chunk, e.IDs, e.Offsets, enc.IDs, enc.Offsets)
			}
		}
		var each []int32
		tok.EachIDs(text, nil, func(ids []int32) { each = append(each, ids...) })
		if !reflect.DeepEqual(nonNil(each), got) {
			t.Fatalf("EachIDs gave %v, AppendIDs %v", each, got)
		}
		s := short.Encode(text, true)
		if len(s.IDs) > 8 || s.IDs[0] != 101 || s.IDs[len(s.IDs)-1] != 102 || s.Truncated != max(0, len(enc.IDs)+enc.Truncated-6) {
			t.Fatalf("truncated encoding %v (truncated %d) of %d tokens", s.IDs, s.Truncated, len(enc.IDs))
		}
		p := short.EncodePair(text, text, true)
		if len(p.IDs) > 8 || len(p.TypeIDs) != len(p.IDs) {
			t.Fatalf("pair encoding too long: %v", p.IDs)
		}
	})
}

var fuzzSeeds = []string{
	"brown fox jumps over the lazy dog",
	"",
	"\x91D",
	"co\u00adoperation \ufeffhello\u2028world",
	"Café naïve résumé İstanbul Straße",
	"hello世界abc 한국어 日本語のテキスト",
	"I love 🍕 pizza🍕 👩‍👩‍👧 🇫🇷",
	"don't U.S.A. e.g. 3.14 $100 a+b=c",
	"[CLS]fox[SEP] a [MASK] b [PAD][UNK]",
	"base\vball foot\fball some\u0085thing\x00\x7f",
	"a\u2e43b a\u2e49b a\u0890b \U0001e94a\u1df6",
	"\xff\xfe\xfd \xc3 \xe2\x82 \xed\xa0\x80",
	"Ⅻ ﬁle ＦＵＬＬＷＩＤＴＨ ｶﾀｶﾅ",
	"Ελληνικά Русский עברית العربية हिन्दी",
	"e\u0301\u0323\u0302 a\u0308\u0304",
	strings.Repeat("a", 101) + " " + strings.Repeat("é", 101),
	"The Project Gutenberg EBook, chapter 1.\n\n\tIt was the best of times;\r\nit was the worst of times...",
}

// benchText returns English prose: the license texts every Debian system
// ships (base-files), else Go's own documentation.
func benchText(tb testing.TB) string {
	tb.Helper()
	var b strings.Builder
	for _, p := range []string{"/usr/share/common-licenses/GPL-3", "/usr/share/common-licenses/Apache-2.0", "/usr/share/common-licenses/LGPL-2.1"} {
		if data, err := os.ReadFile(p); err == nil {
			b.Write(data)
		}
	}
	if b.Len() == 0 {
		if data, err := os.ReadFile(filepath.Join(os.Getenv("GOROOT"), "doc", "go_spec.html")); err == nil {
			b.Write(data)
		}
	}
	if b.Len() < 20000 {
		tb.Skip("no English prose found on this machine for the benchmark")
	}
	return b.String()
}

func BenchmarkTokenizer(b *testing.B) {
	tok := bertTokenizer(b)
	text := benchText(b)
	// Non-ASCII variant: the same prose with accented words sprinkled in,
	// sending those words through the general path.
	accented := strings.NewReplacer("the ", "thé ", "software", "sóftware", "License", "Lícense").Replace(text)
	// All-general variant: a leading "é" glued to every line's first word
	// does not change much, so instead use Cyrillic-looking text: every
	// word goes through normalization.
	general := strings.NewReplacer("a", "а", "e", "е", "o", "о").Replace(text) // Cyrillic а е о
	lines := strings.Split(text, "\n")
	for _, c := range []struct {
		name string
		text string
	}{{"ascii", text}, {"accented", accented}, {"nonascii", general}} {
		b.Run("AppendIDs/"+c.name, func(b *testing.B) {
			dst := make([]int32, 0, len(c.text))
			b.SetBytes(int64(len(c.text)))
			b.ReportAllocs()
			cpu := processCPUTime()
			for b.Loop() {
				dst = tok.AppendIDs(dst[:0], c.text)
			}
			reportCPU(b, cpu, len(c.text))
		})
	}
	b.Run("Encode/lines", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		cpu := processCPUTime()
		for b.Loop() {
			for _, l := range lines {
				_ = tok.Encode(l, true)
			}
		}
		reportCPU(b, cpu, len(text))
	})
}

func reportCPU(b *testing.B, start time.Duration, n int) {
	if d := processCPUTime() - start; d > 0 && start > 0 {
		b.ReportMetric(float64(n)*float64(b.N)/1e6/d.Seconds(), "MB/cpu-s")
	}
}

// TestDecompositionMatchesNFD checks the per-character decomposition used
// for accent stripping against x/text's NFD for every code point.
func TestDecompositionMatchesNFD(t *testing.T) {
	tok := bertTokenizer(t, WithLowercase(false), WithStripAccents(true))
	sc := new(scratch)
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		sc.reset()
		tok.pushAccentsCase(sc, r, [2]int{})
		var want []rune
		for _, c := range norm.NFD.String(string(r)) {
			if !isMnHF(c) {
				want = append(want, c)
			}
		}
		if string(sc.runes) != string(want) {
			t.Fatalf("%U: decomposed to %U, NFD without Mn is %U", r, sc.runes, want)
		}
	}
}

func TestLongWordLimit(t *testing.T) {
	// A limit above the fast path's stack buffer still splits long words.
	tok := bertTokenizer(t, WithMaxInputCharsPerWord(300))
	word := strings.Repeat("dog", 70) // 210 characters
	want := []int32{3899}
	for i := 1; i < 70; i++ {
		want = append(want, 16168) // ##dog
	}
	if got := tok.AppendIDs(nil, word); !reflect.DeepEqual(got, want) {
		t.Fatalf("210-char word = %v", got)
	}
	if got := tok.AppendIDs(nil, word+strings.Repeat("x", 91)); !reflect.DeepEqual(got, []int32{100}) {
		t.Fatalf("301-char word = %v", got)
	}
	if _, err := NewWordPiece([]string{"[UNK]"}, WithMaxInputCharsPerWord(0)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("zero word limit: err = %v", err)
	}
}

// TestParseTypeless loads "model" objects without a "type"
// key, as early versions of Hugging Face tokenizers wrote them: the kind is
// the first of BPE, WordPiece, WordLevel, Unigram whose required fields are
// present with the right JSON types, as the reference loader decides.
func TestParseTypeless(t *testing.T) {
	const vocab = `{"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "a": 3, "##b": 4, "@@b": 5, "abc": 6}`
	file := func(model string) string {
		return `{"normalizer": {"type": "BertNormalizer", "lowercase": true},
  "pre_tokenizer": {"type": "BertPreTokenizer"},
  "post_processor": {"type": "BertProcessing", "cls": ["[CLS]", 1], "sep": ["[SEP]", 2]},
  "model": ` + model + `}`
	}
	wp := `"unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": ` + vocab
	cases := []struct {
		name    string
		model   string
		text    string  // encoded with specials when the file loads
		ids     []int32 // want
		wantErr error
		mention string
	}{
		{name: "wordpiece", model: `{` + wp + `}`, text: "AB abc", ids: []int32{1, 3, 4, 6, 2}},
		{name: "wordpiece, fields in another order, unknown keys", model: `{"vocab": ` + vocab + `, "dropout": null, "max_input_chars_per_word": 100, "continuing_subword_prefix": "##", "unk_token": "[UNK]"}`,
			text: "ab", ids: []int32{1, 3, 4, 2}},
		{name: "wordpiece honours its own prefix", model: `{"unk_token": "[UNK]", "continuing_subword_prefix": "@@", "max_input_chars_per_word": 100, "vocab": ` + vocab + `}`,
			text: "ab", ids: []int32{1, 3, 5, 2}},
		{name: "wordpiece honours max chars", model: `{"unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 2, "vocab": ` + vocab + `}`,
			text: "ab abc", ids: []int32{1, 3, 4, 0, 2}},
		{name: "wordlevel", model: `{"unk_token": "[UNK]", "vocab": ` + vocab + `}`, wantErr: ErrUnsupported, mention: `"WordLevel"`},
		{name: "wordpiece fields of the wrong type fall to wordlevel", model: `{"unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": -1, "vocab": ` + vocab + `}`,
			wantErr: ErrUnsupported, mention: `"WordLevel"`},
		{name: "bpe", model: `{"unk_token": "[UNK]", "vocab": ` + vocab + `, "merges": ["a b"]}`, wantErr: ErrUnsupported, mention: `"BPE"`},
		{name: "bpe comes before wordpiece", model: `{` + wp + `, "merges": []}`, wantErr: ErrUnsupported, mention: `"BPE"`},
		{name: "unigram", model: `{"unk_id": 0, "vocab": [["[UNK]", 0], ["a", -1.5]]}`, wantErr: ErrUnsupported, mention: `"Unigram"`},
		{name: "vocab alone", model: `{"vocab": ` + vocab + `}`, wantErr: ErrInvalid, mention: "fit no model kind"},
		{name: "null unk token", model: `{"unk_token": null, "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": ` + vocab + `}`,
			wantErr: ErrInvalid, mention: "fit no model kind"},
		{name: "null type", model: `{"type": null, ` + wp + `}`, wantErr: ErrInvalid, mention: "model.type is null"},
		{name: "model not an object", model: `[1]`, wantErr: ErrInvalid, mention: "model"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok, err := Parse([]byte(file(c.model)))
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) || !strings.Contains(err.Error(), c.mention) {
					t.Fatalf("err = %v, want %v mentioning %q", err, c.wantErr, c.mention)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tok.Encode(c.text, true).IDs; !reflect.DeepEqual(got, c.ids) {
				t.Fatalf("Encode(%q) = %v, want %v", c.text, got, c.ids)
			}
		})
	}

	// A real file with its "type" removed encodes exactly as the original.
	fixture, err := os.ReadFile(filepath.Join("testdata", "bert-tiny-tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	typed, err := Parse(fixture)
	if err != nil {
		t.Fatal(err)
	}
	old := strings.Replace(string(fixture), `"type": "WordPiece",
    "unk_token"`, `"unk_token"`, 1)
	if old == string(fixture) {
		t.Fatal("fixture edit did not apply")
	}
	untyped, err := Parse([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"The brown fox jumped over the lazy dog!", "Unaffable cat", "a[MASK]b"} {
		if a, b := typed.Encode(text, true), untyped.Encode(text, true); !reflect.DeepEqual(a, b) {
			t.Errorf("%q: typed %v, untyped %v", text, a.IDs, b.IDs)
		}
	}
}
