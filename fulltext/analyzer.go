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

// terms is Terms with the cache to use (nil: none).
func (a *Analyzer) terms(dst []string, text string, cache *stemCache) []string {
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
