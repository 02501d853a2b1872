package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// synset is one WordNet 3.0 synset.
type synset struct {
	Key     string   // pos letter + offset, e.g. "n00001740"
	Lemmas  []string // lowercased, spaces for underscores
	Def     string   // the definition, without examples
	Gloss   string   // the whole gloss, examples included
	Related []string // keys of hypernyms, instance hypernyms, similar-to
	HeldOut bool
}

type wordNet struct {
	synsets []*synset
	byKey   map[string]*synset
}

// wnHeldOut decides which synsets are reserved for the synonym → gloss
// evaluation: about one in ten, by a hash of the key so the choice does not
// depend on the order of reading.
func wnHeldOut(key string) bool { return sha1Mod10("wn:"+key) == 0 }

func readWordNet(root string) (*wordNet, error) {
	wn := &wordNet{byKey: map[string]*synset{}}
	dir := filepath.Join(root, "wordnet-base/usr/share/wordnet")
	for _, f := range []struct{ file, pos string }{{"data.noun", "n"}, {"data.verb", "v"}, {"data.adj", "a"}, {"data.adv", "r"}} {
		b, err := os.ReadFile(filepath.Join(dir, f.file))
		if err != nil {
			return nil, err
		}
		for ln, line := range strings.Split(string(b), "\n") {
			if line == "" || strings.HasPrefix(line, "  ") {
				continue
			}
			s, err := parseSynset(line, f.pos)
			if err != nil {
				return nil, fmt.Errorf("%s line %d: %w", f.file, ln+1, err)
			}
			wn.synsets = append(wn.synsets, s)
			wn.byKey[s.Key] = s
		}
	}
	return wn, nil
}

func parseSynset(line, pos string) (*synset, error) {
	data, gloss, _ := strings.Cut(line, " | ")
	f := strings.Fields(data)
	if len(f) < 4 {
		return nil, fmt.Errorf("short synset line")
	}
	s := &synset{Key: pos + f[0], Gloss: strings.TrimSpace(gloss)}
	s.HeldOut = wnHeldOut(s.Key)
	wc, err := strconv.ParseInt(f[3], 16, 32)
	if err != nil {
		return nil, fmt.Errorf("word count %q: %w", f[3], err)
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

// emitTraining writes "lemma, lemma: gloss" for every synset not held out,
// so lemmas co-occur with the words that define them.
func (wn *wordNet) emitTraining(emit func(string)) {
	for _, s := range wn.synsets {
		if s.HeldOut {
			continue
		}
		emit(strings.Join(s.Lemmas, ", ") + ": " + s.Gloss)
	}
}
