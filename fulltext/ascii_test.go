package fulltext

import (
	"bufio"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/internal/evalsets"
)

// asciiAnalyzers are the configurations whose ASCII analysis differs:
// English (apostrophes kept, stemming, stop words), without stemming,
// without stop words, and no language (apostrophes split, nothing
// removed).
func asciiAnalyzers(tb testing.TB) []*Analyzer {
	tb.Helper()
	var as []*Analyzer
	for _, c := range []Config{{}, {NoStemming: true}, {NoStopWords: true}, {Language: LanguageNone}} {
		a, err := NewAnalyzer(c)
		if err != nil {
			tb.Fatal(err)
		}
		as = append(as, a)
	}
	return as
}

// sameAsUnicode fails unless termsASCII gives text the terms of the
// general path, with and without a stem cache (a cold one, then warm).
func sameAsUnicode(tb testing.TB, a *Analyzer, text string, cache *stemCache) {
	tb.Helper()
	want := a.termsUnicode(nil, text, nil)
	for _, c := range []*stemCache{nil, cache, cache} {
		if got := a.termsASCII(nil, text, c); !slices.Equal(got, want) {
			tb.Fatalf("%+v %q: fast path %q, UAX #29 path %q", a.cfg, text, got, want)
		}
	}
	if got := a.terms(nil, text, cache); !slices.Equal(got, want) {
		tb.Fatalf("%+v %q: terms %q, UAX #29 path %q", a.cfg, text, got, want)
	}
}

// FuzzASCIIFastPath: for any ASCII text without NUL, the byte loop gives
// the terms of UAX #29 segmentation + folding + splitPart. Inputs are
// mapped into that alphabet so that every execution compares the paths.
func FuzzASCIIFastPath(f *testing.F) {
	for _, s := range []string{"", "Hello, World!", "don't stop's", "rock'n'roll 1'000 a'1 1'a", "x86_64 foo.bar 3.14 e.g. TCP/IP C++",
		"O'REILLY'S 'quoted' dogs' a''b", "a:b a;b 1,000,000 _a_ a_'b", "line\r\nbreak\ttab\x01ctl", strings.Repeat("A", 65) + " " + strings.Repeat("b", 64)} {
		f.Add(s)
	}
	as := asciiAnalyzers(f)
	f.Fuzz(func(t *testing.T, in string) {
		b := []byte(in)
		for i, c := range b {
			c &= 0x7f
			if c == 0 {
				c = '\''
			}
			b[i] = c
		}
		text := string(b)
		if !plainASCII(text) {
			t.Fatalf("%q not plain ASCII", text)
		}
		for _, a := range as {
			sameAsUnicode(t, a, text, newStemCache())
		}
	})
}

func TestASCIIFastPathTable(t *testing.T) {
	en, _ := NewAnalyzer(Config{})
	none, _ := NewAnalyzer(Config{Language: LanguageNone})
	long := strings.Repeat("x", MaxTermLen)
	for _, tc := range []struct {
		a    *Analyzer
		text string
		want []string
	}{
		{en, "The Runners were RUNNING to the market!", []string{"runner", "run", "market"}},
		{en, "Debian's packages don't", []string{"debian", "packag"}},
		{en, "rock'n'roll 1'000", []string{"rock'n'rol", "1'000"}},
		{en, "a'1 1'a", []string{"1", "1"}}, // a is a stop word; no join across letter'digit
		{en, "'quoted' dogs' b''c", []string{"quot", "dog", "b", "c"}},
		{en, "x86_64 foo.bar 3.14 TCP/IP C++", []string{"x86", "64", "foo", "bar", "3", "14", "tcp", "ip", "c"}},
		{en, "O'Reilly's O'REILLY", []string{"o'reilli", "o'reilli"}},
		{none, "Don't X'Y 1'2", []string{"don", "t", "x", "y", "1", "2"}},
		{en, long + " " + long + "x " + strings.ToUpper(long) + "Y ok", []string{long, "ok"}},
		{en, "  ... !!! \r\n\t ", nil},
	} {
		if !plainASCII(tc.text) {
			t.Fatalf("%q is not plain ASCII", tc.text)
		}
		for _, c := range []*stemCache{nil, newStemCache()} {
			if got := tc.a.termsASCII(nil, tc.text, c); !slices.Equal(got, tc.want) {
				t.Errorf("%+v %q: %q, want %q", tc.a.cfg, tc.text, got, tc.want)
			}
		}
		sameAsUnicode(t, tc.a, tc.text, newStemCache())
	}
	// Text with anything beyond ASCII, or a NUL, takes the general path.
	for _, s := range []string{"café", "a\x00b", "\xff", "don’t"} {
		if plainASCII(s) {
			t.Errorf("plainASCII(%q) = true", s)
		}
	}
}

// TestASCIIFastPathRandom compares the paths on random texts over the
// bytes where UAX #29's rules differ (letters, digits, apostrophes, the
// other word-joining punctuation, spaces and line breaks).
func TestASCIIFastPathRandom(t *testing.T) {
	const alphabet = "aZe1'.:,;_ -\r\n\"/"
	r := rand.New(rand.NewPCG(14, 29))
	as := asciiAnalyzers(t)
	caches := make([]*stemCache, len(as))
	for i := range caches {
		caches[i] = newStemCache()
	}
	n := 20_000
	if testing.Short() {
		n = 2_000
	}
	b := make([]byte, 0, 24)
	for range n {
		b = b[:0]
		for range 1 + r.IntN(24) {
			b = append(b, alphabet[r.IntN(len(alphabet))])
		}
		for i, a := range as {
			sameAsUnicode(t, a, string(b), caches[i])
		}
	}
}

// TestASCIIFastPathCorpus compares the paths on Debian's descriptions:
// the demo corpus (testdata/demo, committed) and, when the bench has
// fetched the lists (VECBOLT_DEBIAN_LISTS, or ~/.cache/vecbolt/bench's
// debian-lists), the bench's Debian set (queries and documents). Each text is compared whole when it
// is ASCII, and each of its space-separated words that is.
func TestASCIIFastPathCorpus(t *testing.T) {
	texts := demoTexts(t)
	dir := os.Getenv("VECBOLT_DEBIAN_LISTS")
	if dir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, ".cache", "vecbolt", "bench", "debian-lists")
		}
	}
	if pairs, err := evalsets.Load(dir); err == nil && !testing.Short() {
		for _, p := range pairs {
			texts = append(texts, p.Query, p.Doc)
		}
	} else {
		t.Logf("Debian lists not read (%v): the demo corpus only", err)
	}
	// Each path gets a cache of its own (without one, stemming every
	// word of 128,000 texts four times takes minutes); the tests above
	// cover the paths without a cache.
	as := asciiAnalyzers(t)
	same := func(i int, text string, caches [2][]*stemCache) {
		want := as[i].termsUnicode(nil, text, caches[0][i])
		if got := as[i].terms(nil, text, caches[1][i]); !slices.Equal(got, want) {
			t.Fatalf("%+v %q: fast path %q, UAX #29 path %q", as[i].cfg, text, got, want)
		}
	}
	var caches [2][]*stemCache
	for i := range caches {
		for range as {
			caches[i] = append(caches[i], newStemCache())
		}
	}
	var whole, words int
	seen := map[string]bool{}
	for _, text := range texts {
		if plainASCII(text) {
			whole++
			// Whole texts with the two ways of splitting (apostrophes
			// kept or not); the words below with every configuration.
			for _, i := range []int{0, len(as) - 1} {
				same(i, text, caches)
			}
		}
		for _, w := range strings.Fields(text) {
			if seen[w] || !plainASCII(w) {
				continue
			}
			seen[w] = true
			words++
			for i := range as {
				same(i, w, caches)
			}
		}
	}
	if whole < 300 || words < 3000 {
		t.Fatalf("compared %d texts and %d distinct words: corpus missing?", whole, words)
	}
	t.Logf("%d of %d texts and %d distinct words compared", whole, len(texts), words)
}

// demoTexts returns the texts of testdata/demo/corpus.jsonl.
func demoTexts(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "demo", "corpus.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var texts []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var d struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			tb.Fatal(err)
		}
		texts = append(texts, d.Text)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return texts
}
