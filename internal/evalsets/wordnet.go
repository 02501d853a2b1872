package evalsets

import (
	"cmp"
	"crypto/sha1"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Synset is one WordNet 3.0 synset.
type Synset struct {
	Key     string   // pos letter + offset, e.g. "n00001740"
	Lemmas  []string // lowercased, spaces for underscores
	Def     string   // the definition, without examples
	Gloss   string   // the whole gloss, examples included
	Related []string // keys of hypernyms, instance hypernyms, similar-to
	HeldOut bool     // reserved for the synonym → definition evaluation
	Dev     bool     // reserved for the synonym → definition development set
}

// Reserved reports whether the synset is kept out of all training (text,
// lexicons, fine-tuning pairs): held out for evaluation or for development.
func (s *Synset) Reserved() bool { return s.HeldOut || s.Dev }

// WordNet is the synsets of data.noun, data.verb, data.adj and data.adv,
// in that order and in file order within each.
type WordNet struct {
	Synsets []*Synset
	ByKey   map[string]*Synset
}

// WordNetDir is where the Debian package wordnet-base, unpacked with
// dpkg-deb -x into root/wordnet-base, keeps the database.
func WordNetDir(root string) string {
	return filepath.Join(root, "wordnet-base", "usr", "share", "wordnet")
}

// sha1Mod10 reads sha1(s) as a big-endian integer and returns it mod 10.
func sha1Mod10(s string) int {
	sum := sha1.Sum([]byte(s))
	r := 0
	for _, b := range sum {
		r = (r*256 + int(b)) % 10
	}
	return r
}

// WordNetHeldOut decides which synsets are reserved for the synonym → gloss
// evaluation: about one in ten, by a hash of the key so the choice does not
// depend on the order of reading.
func WordNetHeldOut(key string) bool { return sha1Mod10("wn:"+key) == 0 }

// WordNetDev decides which synsets form the development set of the synonym
// → gloss task, on which training settings are chosen: sha1("wn:"+key) % 10
// == 1, so it is disjoint from the held-out evaluation synsets. Like them,
// dev synsets are never trained on.
func WordNetDev(key string) bool { return sha1Mod10("wn:"+key) == 1 }

// ReadWordNet reads the four data files in dir (see WordNetDir).
func ReadWordNet(dir string) (*WordNet, error) {
	wn := &WordNet{ByKey: map[string]*Synset{}}
	for _, f := range []struct{ file, pos string }{{"data.noun", "n"}, {"data.verb", "v"}, {"data.adj", "a"}, {"data.adv", "r"}} {
		b, err := os.ReadFile(filepath.Join(dir, f.file))
		if err != nil {
			return nil, fmt.Errorf("wordnet: %w", err)
		}
		for ln, line := range strings.Split(string(b), "\n") {
			if line == "" || strings.HasPrefix(line, "  ") { // licence header
				continue
			}
			s, err := ParseSynset(line, f.pos)
			if err != nil {
				return nil, fmt.Errorf("wordnet: %s line %d: %w", f.file, ln+1, err)
			}
			wn.Synsets = append(wn.Synsets, s)
			wn.ByKey[s.Key] = s
		}
	}
	return wn, nil
}

// ParseSynset parses one line of a WordNet data file of part of speech pos
// ("n", "v", "a" or "r").
func ParseSynset(line, pos string) (*Synset, error) {
	data, gloss, _ := strings.Cut(line, " | ")
	f := strings.Fields(data)
	if len(f) < 4 {
		return nil, fmt.Errorf("short synset line")
	}
	s := &Synset{Key: pos + f[0], Gloss: strings.TrimSpace(gloss)}
	s.HeldOut = WordNetHeldOut(s.Key)
	s.Dev = WordNetDev(s.Key)
	wc, err := strconv.ParseInt(f[3], 16, 32)
	if err != nil {
		return nil, fmt.Errorf("word count %q: %w", f[3], err)
	}
	if wc < 0 {
		return nil, fmt.Errorf("negative word count %q", f[3])
	}
	i := 4
	for range wc {
		if i+1 >= len(f) {
			return nil, fmt.Errorf("truncated word list")
		}
		w := f[i]
		if j := strings.IndexByte(w, '('); j > 0 { // adjective markers (a), (p), (ip)
			w = w[:j]
		}
		s.Lemmas = append(s.Lemmas, strings.ToLower(strings.ReplaceAll(w, "_", " ")))
		i += 2
	}
	if i >= len(f) {
		return nil, fmt.Errorf("missing pointer count")
	}
	pc, err := strconv.Atoi(f[i])
	if err != nil {
		return nil, fmt.Errorf("pointer count %q: %w", f[i], err)
	}
	i++
	for range pc {
		if i+3 >= len(f) {
			return nil, fmt.Errorf("truncated pointer list")
		}
		sym, off, ppos := f[i], f[i+1], f[i+2]
		if ppos == "s" {
			ppos = "a"
		}
		switch sym {
		case "@", "@i", "&":
			s.Related = append(s.Related, ppos+off)
		}
		i += 4
	}
	def := s.Gloss
	if j := strings.IndexByte(def, '"'); j >= 0 {
		def = def[:j]
	}
	s.Def = strings.TrimRight(strings.TrimSpace(def), ";: ")
	return s, nil
}

// Definitions returns every synset's definition, indexed like Synsets:
// the corpus of the synonym → definition set.
func (wn *WordNet) Definitions() []string {
	defs := make([]string, len(wn.Synsets))
	for i, s := range wn.Synsets {
		defs[i] = s.Def
	}
	return defs
}

// SynonymQuery is one query of the synonym → definition set.
type SynonymQuery struct {
	Lemma string // the query text
	Doc   int    // index of the relevant definition in Synsets
	Key   string // the held-out synset
}

// SynonymQueries returns every query of the synonym → definition set: each
// lemma of a held-out synset that is one word of at least three letters
// (no space, hyphen, apostrophe or dot) and is not itself a word of the
// definition (else the task is string matching). They come in order of
// sha1(key+"/"+lemma), so a prefix is a deterministic sample independent
// of the order of reading.
func (wn *WordNet) SynonymQueries() []SynonymQuery {
	return wn.synonymQueries(func(s *Synset) bool { return s.HeldOut })
}

// DevSynonymQueries is SynonymQueries over the development synsets (see
// WordNetDev) instead of the held-out ones, against the same corpus of
// every definition: tune on these, report on SynonymQueries.
func (wn *WordNet) DevSynonymQueries() []SynonymQuery {
	return wn.synonymQueries(func(s *Synset) bool { return s.Dev })
}

func (wn *WordNet) synonymQueries(use func(*Synset) bool) []SynonymQuery {
	var qs []SynonymQuery
	for i, s := range wn.Synsets {
		if !use(s) {
			continue
		}
		words := map[string]bool{}
		for _, w := range Terms(s.Def) {
			words[w] = true
		}
		for _, l := range s.Lemmas {
			if strings.ContainsAny(l, " -'.") || words[l] || len(l) < 3 {
				continue
			}
			qs = append(qs, SynonymQuery{Lemma: l, Doc: i, Key: s.Key})
		}
	}
	h := func(x SynonymQuery) string { s := sha1.Sum([]byte(x.Key + "/" + x.Lemma)); return string(s[:]) }
	slices.SortFunc(qs, func(a, b SynonymQuery) int { return cmp.Compare(h(a), h(b)) })
	return qs
}

// SplitWords approximates the built-in tokenizer's normalizer and
// pre-tokenizer (split at spaces and punctuation; each punctuation rune is
// its own piece) and calls fn with each piece. It does not lower-case.
func SplitWords(s string, fn func(string)) {
	start := -1
	for i, r := range s {
		word := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
		if word {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			fn(s[start:i])
			start = -1
		}
		if !unicode.IsSpace(r) && !unicode.IsControl(r) {
			// An invalid byte decodes as U+FFFD, whose encoding is three
			// bytes long: the piece then takes up to two following bytes
			// too. Kept as it is (capped at the end of s) because the
			// trainer's vocabulary counts were made with this rule.
			fn(s[i:min(i+utf8.RuneLen(r), len(s))])
		}
	}
	if start >= 0 {
		fn(s[start:])
	}
}

// Terms returns the lower-cased words of s (the pieces of SplitWords that
// start with a letter or digit), the words the synonym rule checks.
func Terms(s string) []string {
	var out []string
	SplitWords(strings.ToLower(s), func(w string) {
		r, _ := utf8.DecodeRuneInString(w)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			out = append(out, w)
		}
	})
	return out
}
