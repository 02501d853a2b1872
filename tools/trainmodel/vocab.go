package main

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Special tokens, at fixed ids 0..4.
var specialTokens = []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}

type vocabParams struct {
	Words      int `json:"words"`
	Pieces     int `json:"pieces"`
	MinCount   int `json:"min_word_count"`
	MinChar    int `json:"min_char_count"`
	MaxWordLen int `json:"max_word_runes"`
}

// buildVocab picks the WordPiece vocabulary: specials, single characters
// (as word starts and as "##" continuations), the most frequent words, then
// the prefixes and "##" suffixes that best cover the remaining (rare) words,
// so greedy longest-match segments a rare word into meaningful pieces.
func buildVocab(counts map[string]int, p vocabParams) []string {
	type wc struct {
		w string
		c int
	}
	all := make([]wc, 0, len(counts))
	for w, c := range counts {
		all = append(all, wc{strings.ToLower(w), c})
	}
	// Merge case variants deterministically.
	slices.SortFunc(all, func(a, b wc) int { return cmp.Compare(a.w, b.w) })
	merged := all[:0]
	for _, x := range all {
		if n := len(merged); n > 0 && merged[n-1].w == x.w {
			merged[n-1].c += x.c
			continue
		}
		merged = append(merged, x)
	}
	all = merged
	slices.SortFunc(all, func(a, b wc) int {
		if a.c != b.c {
			return cmp.Compare(b.c, a.c)
		}
		return cmp.Compare(a.w, b.w)
	})

	vocab := slices.Clone(specialTokens)
	have := map[string]bool{}
	add := func(t string) {
		if !have[t] {
			have[t] = true
			vocab = append(vocab, t)
		}
	}
	for _, t := range specialTokens {
		have[t] = true
	}
	chars := map[rune]int{}
	for _, x := range all {
		for _, r := range x.w {
			chars[r] += x.c
		}
	}
	var rs []rune
	for r, c := range chars {
		if c >= p.MinChar || (r < 128 && unicode.IsPrint(r) && r != ' ') {
			rs = append(rs, r)
		}
	}
	for r := rune(33); r < 127; r++ {
		if _, ok := chars[r]; !ok && !unicode.IsUpper(r) {
			rs = append(rs, r)
		}
	}
	slices.Sort(rs)
	rs = slices.Compact(rs)
	for _, r := range rs {
		if unicode.IsUpper(r) {
			continue
		}
		add(string(r))
	}
	for _, r := range rs {
		if unicode.IsUpper(r) || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
			continue
		}
		add("##" + string(r))
	}
	nw := 0
	var rare []wc
	for _, x := range all {
		n := utf8.RuneCountInString(x.w)
		isWord := n > 1 && n <= p.MaxWordLen && x.c >= p.MinCount
		if isWord && nw < p.Words {
			if !have[x.w] {
				add(x.w)
				nw++
			}
			continue
		}
		if n > 2 && n <= 40 {
			rare = append(rare, x)
		}
	}
	// Score candidate pieces by how many occurrences of rare words they
	// would cover, times their length (longer pieces carry more meaning).
	score := map[string]int{}
	for _, x := range rare {
		r := []rune(x.w)
		for k := 2; k <= 8 && k < len(r); k++ {
			score[string(r[:k])] += x.c * k
			score["##"+string(r[len(r)-k:])] += x.c * k
		}
	}
	cands := make([]wc, 0, len(score))
	for s, c := range score {
		if !have[s] {
			cands = append(cands, wc{s, c})
		}
	}
	slices.SortFunc(cands, func(a, b wc) int {
		if a.c != b.c {
			return cmp.Compare(b.c, a.c)
		}
		return cmp.Compare(a.w, b.w)
	})
	for i := 0; i < len(cands) && i < p.Pieces; i++ {
		add(cands[i].w)
	}
	return vocab
}
