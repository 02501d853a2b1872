package main

// Text documents for the growth suite (suite_growth.go): real sentences
// with variations, as many as asked, generated on the fly so that a
// million of them never sit in memory at once.
//
// Recipe: the sentences of Debian bookworm main's long descriptions
// (Translation-en, split at ". " and at line breaks, kept when they hold 4
// to 60 words) and the frequencies of their words (lower-cased runs of
// letters and digits, with their surrounding punctuation stripped). Document
// i draws, from a generator seeded with (seed, i), 1 to 3 sentences
// uniformly from the pool; each word is replaced with probability 0.15 by a
// word drawn by corpus frequency, and after each word one more such word is
// inserted with probability 0.05. So the texts read like package
// descriptions, their vocabulary follows real word frequencies (Zipf's
// long tail keeps adding rare terms as the collection grows, as in a real
// collection), and almost no two documents are alike.

import (
	"math/rand/v2"
	"slices"
	"strings"
	"unicode"
)

// growthCorpus is the sentence pool and the word distribution.
type growthCorpus struct {
	sentences [][]string // words, as written
	words     []string   // by decreasing frequency
	cum       []uint64   // cum[i]: total count of words[:i+1]
}

// Variation rates of the recipe above.
const (
	growthReplace = 0.15
	growthInsert  = 0.05
)

// newGrowthCorpus builds the pool from descriptions.
func newGrowthCorpus(descriptions []string) *growthCorpus {
	counts := map[string]uint64{}
	g := &growthCorpus{}
	for _, d := range descriptions {
		for _, line := range strings.Split(d, "\n") {
			line = strings.TrimSpace(line)
			if line == "." || line == "" {
				continue // Debian's paragraph separator
			}
			for _, s := range strings.SplitAfter(line, ". ") {
				ws := strings.Fields(s)
				for _, w := range ws {
					if k := wordKey(w); k != "" {
						counts[k]++
					}
				}
				if len(ws) >= 4 && len(ws) <= 60 {
					g.sentences = append(g.sentences, ws)
				}
			}
		}
	}
	for w := range counts {
		g.words = append(g.words, w)
	}
	slices.SortFunc(g.words, func(a, b string) int {
		if counts[a] != counts[b] {
			if counts[a] > counts[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	var total uint64
	g.cum = make([]uint64, len(g.words))
	for i, w := range g.words {
		total += counts[w]
		g.cum[i] = total
	}
	return g
}

// wordKey is a word as the frequency table counts it.
func wordKey(w string) string {
	w = strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	return strings.ToLower(w)
}

// word draws a word by corpus frequency.
func (g *growthCorpus) word(rng *rand.Rand) string {
	x := rng.Uint64N(g.cum[len(g.cum)-1])
	i, _ := slices.BinarySearch(g.cum, x+1)
	return g.words[i]
}

// text returns document i of the stream seeded with seed.
func (g *growthCorpus) text(seed, i uint64) string {
	rng := rand.New(rand.NewPCG(seed, i))
	var sb strings.Builder
	for range 1 + rng.IntN(3) {
		for _, w := range g.sentences[rng.IntN(len(g.sentences))] {
			if rng.Float64() < growthReplace {
				w = g.word(rng)
			}
			if sb.Len() > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(w)
			if rng.Float64() < growthInsert {
				sb.WriteByte(' ')
				sb.WriteString(g.word(rng))
			}
		}
	}
	return sb.String()
}
