package fulltext

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
	"github.com/clipperhouse/uax29/v2/words"
	"golang.org/x/text/unicode/norm"
)

// MaxTermLen is the longest term, in bytes, that the index keeps; longer
// tokens (base64 blobs, hashes) are dropped and do not count in the
// document's length.
const MaxTermLen = 64

// Analyzer turns text into terms according to a [Config]. It is safe for
// concurrent use.
type Analyzer struct {
	cfg      Config
	stem     bool
	keepApos bool
	stop     map[string]struct{}
	// cache outlives transactions: db keeps one Analyzer per collection
	// and makes a Writer per transaction, so a cache per Writer would
	// start empty for every batch.
	cache *stemCache
	// scratch holds memory Analyze calls reuse (*analyzeScratch).
	scratch sync.Pool
}

// NewAnalyzer returns the analyzer of cfg.
func NewAnalyzer(cfg Config) (*Analyzer, error) {
	n, err := cfg.Normalized()
	if err != nil {
		return nil, err
	}
	a := &Analyzer{cfg: n, cache: newStemCache()}
	if n.Language == LanguageEnglish {
		a.stem = !n.NoStemming
		a.keepApos = true
		if !n.NoStopWords {
			a.stop = make(map[string]struct{}, len(englishStopWords))
			for _, w := range englishStopWords {
				a.stop[w] = struct{}{}
			}
		}
	}
	return a, nil
}

// Config returns the analyzer's normalized configuration.
func (a *Analyzer) Config() Config { return a.cfg }

// Terms appends the terms of text to dst, in text order, and returns the
// extended slice.
func (a *Analyzer) Terms(dst []string, text string) []string {
	return a.terms(dst, text, a.cache)
}

// stemCache maps a folded word to its stem ("" for a stop word, which
// has none): stemming allocates and
// dominates analysis time, and a corpus repeats its words. It is safe for
// concurrent use (an Analyzer is) and bounded: once full it keeps what it
// has, which under a corpus's skewed word frequencies is mostly the common
// words, seen first.
type stemCache struct {
	mu sync.RWMutex
	m  map[string]string
}

func newStemCache() *stemCache { return &stemCache{m: map[string]string{}} }

// stemCacheMax bounds an analyzer's cache (a few MB).
const stemCacheMax = 1 << 16

func (c *stemCache) get(w string) (string, bool) {
	c.mu.RLock()
	s, ok := c.m[w]
	c.mu.RUnlock()
	return s, ok
}

func (c *stemCache) put(w, s string) {
	c.mu.Lock()
	if len(c.m) < stemCacheMax {
		c.m[strings.Clone(w)] = s
	}
	c.mu.Unlock()
}

// getBytes is get for a word in a byte slice: the map lookup of a
// converted slice does not allocate.
func (c *stemCache) getBytes(w []byte) (string, bool) {
	c.mu.RLock()
	s, ok := c.m[string(w)]
	c.mu.RUnlock()
	return s, ok
}

// terms is Terms with the cache to use (nil: none).
func (a *Analyzer) terms(dst []string, text string, cache *stemCache) []string {
	if plainASCII(text) {
		return a.termsASCII(dst, text, cache)
	}
	return a.termsUnicode(dst, text, cache)
}

// termsUnicode is terms by the general path: UAX #29 words, folded, then
// split by splitPart.
func (a *Analyzer) termsUnicode(dst []string, text string, cache *stemCache) []string {
	it := words.FromString(text)
	var buf []byte
	for it.Next() {
		tok := it.Value()
		t, ok := fold(tok, &buf)
		if !ok {
			continue
		}
		for len(t) > 0 {
			var part string
			part, t = splitPart(t, a.keepApos)
			dst = a.addTerm(dst, part, cache)
		}
	}
	return dst
}

// plainASCII reports whether text is ASCII without NUL, which termsASCII
// analyzes.
func plainASCII(text string) bool {
	for i := 0; i < len(text); i++ {
		if c := text[i]; c >= utf8.RuneSelf || c == 0 {
			return false
		}
	}
	return true
}

// asciiClass classifies the bytes of ASCII text for termsASCII: letters,
// digits, and the rest (0).
var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = classLetter, classLetter|classUpper
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = classDigit
	}
	return t
}()

const (
	classLetter = 1 << iota
	classDigit
	classUpper
)

// termsASCII is terms for plainASCII text, in one pass over its bytes and
// without allocating for a word the cache knows: the UAX #29 iterator and
// fold cost more than half of a Debian description's analysis, and most
// text is ASCII. It gives the terms of termsUnicode (FuzzASCIIFastPath and
// TestASCIIFastPathCorpus compare the two). In ASCII text, termsUnicode's
// terms are the runs of letters and digits: splitPart splits UAX #29's
// words at every other byte, and NUL-free ASCII folds to itself
// lower-cased. The one exception is an apostrophe, which an English
// analyzer keeps inside a word where UAX #29 joins across it: between two
// letters (rules WB6, WB7) or two digits (WB11, WB12); no other ASCII
// context joins across an apostrophe.
func (a *Analyzer) termsASCII(dst []string, text string, cache *stemCache) []string {
	var buf [MaxTermLen]byte
	n := len(text)
	for i := 0; i < n; {
		if asciiClass[text[i]] == 0 {
			i++
			continue
		}
		start := i
		var upper uint8
		for i < n {
			c := asciiClass[text[i]]
			if c != 0 {
				upper |= c
				i++
				continue
			}
			if a.keepApos && text[i] == '\'' && i+1 < n {
				prev, next := asciiClass[text[i-1]], asciiClass[text[i+1]]
				if prev&next&(classLetter|classDigit) != 0 {
					i++
					continue
				}
			}
			break
		}
		t := text[start:i]
		if len(t) > MaxTermLen {
			continue
		}
		if upper&classUpper == 0 {
			dst = a.addTerm(dst, t, cache)
			continue
		}
		b := buf[:len(t)]
		for j := 0; j < len(t); j++ {
			c := t[j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b[j] = c
		}
		dst = a.addTermBytes(dst, b, cache)
	}
	return dst
}

// splitPart returns the first run of letters, digits and combining marks
// of t (and apostrophes after its first character, if keepApos) and the
// rest of t after it. UAX #29 keeps "foo.bar", "x86_64" and "3.14" as one
// word; splitting them, as the bench's reference BM25 does, gave higher
// nDCG@10 on the Debian development split (0.7389 → 0.7448 with English
// analysis, 0.7126 → 0.7177 without), so words are split further here.
func splitPart(t string, keepApos bool) (part, rest string) {
	start := -1
	for i := 0; i < len(t); {
		c := t[i]
		var inWord bool
		size := 1
		if c < utf8.RuneSelf {
			inWord = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || (keepApos && c == '\'' && start >= 0)
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(t[i:])
			inWord = unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mn, r)
		}
		if inWord && start < 0 {
			start = i
		} else if !inWord && start >= 0 {
			return t[start:i], t[i:]
		}
		i += size
	}
	if start < 0 {
		return "", ""
	}
	return t[start:], ""
}

// addTerm appends t to dst unless it is too long or a stop word, stemmed
// if the analyzer stems.
func (a *Analyzer) addTerm(dst []string, t string, cache *stemCache) []string {
	if len(t) == 0 || len(t) > MaxTermLen {
		return dst
	}
	if !a.stem || cache == nil {
		if a.stop != nil {
			if _, isStop := a.stop[t]; isStop {
				return dst
			}
		}
		if a.stem {
			t = stemEnglish(t)
		}
	} else if s, hit := cache.get(t); hit {
		// The cache also remembers stop words (as ""): one lookup per
		// word on the indexing path.
		t = s
	} else {
		s := ""
		if _, isStop := a.stop[t]; !isStop {
			s = stemEnglish(t)
		}
		cache.put(t, s)
		t = s
	}
	if t == "" {
		return dst
	}
	return append(dst, t)
}

// addTermBytes is addTerm for a word in scratch memory: a word the
// cache knows costs no allocation.
func (a *Analyzer) addTermBytes(dst []string, b []byte, cache *stemCache) []string {
	if a.stem && cache != nil && len(b) > 0 && len(b) <= MaxTermLen {
		if s, hit := cache.getBytes(b); hit {
			if s == "" {
				return dst
			}
			return append(dst, s)
		}
	} else if !a.stem && a.stop != nil {
		if _, isStop := a.stop[string(b)]; isStop {
			return dst
		}
	}
	return a.addTerm(dst, string(b), cache)
}

// stemEnglish applies the Snowball English stemmer.
func stemEnglish(w string) string {
	env := snowballstem.NewEnv(w)
	english.Stem(env)
	return env.Current()
}

// fold lower-cases tok and removes its accents (compatibility
// decomposition, then combining marks dropped), mapping typographic
// apostrophes to ASCII. It reports false for tokens without a letter or
// digit (spaces, punctuation, emoji) and for tokens containing NUL, which
// the key layout reserves. The result may share memory with tok or *buf.
func fold(tok string, buf *[]byte) (string, bool) {
	ascii, upper, word := true, false, false
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case c >= utf8.RuneSelf:
			ascii = false
		case c == 0:
			return "", false
		case 'A' <= c && c <= 'Z':
			upper, word = true, true
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			word = true
		}
	}
	if ascii {
		if !word {
			return "", false
		}
		if !upper {
			return tok, true
		}
		b := (*buf)[:0]
		for i := 0; i < len(tok); i++ {
			c := tok[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
		}
		*buf = b
		return string(b), true
	}
	b := (*buf)[:0]
	word = false
	for _, r := range norm.NFKD.String(tok) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == '\u2019' || r == '\u02bc' || r == '\uff07':
			r = '\''
		case r == 0:
			return "", false
		case unicode.IsLetter(r) || unicode.IsNumber(r):
			word = true
			r = unicode.ToLower(r)
		}
		b = utf8.AppendRune(b, r)
	}
	*buf = b
	if !word {
		return "", false
	}
	return string(b), true
}
