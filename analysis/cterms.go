package analysis

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode"
)

// ClusterTerms returns, for each of the k groups, up to top terms that
// characterize its texts against the other groups' texts, by class-based
// TF-IDF (c-TF-IDF, as BERTopic weighs topic words): all texts of a group
// are one document, and term t of group c weighs
//
//	tf(t, c) · log(1 + A / f(t))
//
// where tf(t, c) is t's count in c divided by c's token count, A is the
// mean token count per group and f(t) is t's count over all groups. A term
// frequent in one group and rare elsewhere scores highest. Only terms found
// in at least two of the group's texts (one, for a group of one text) are
// candidates, so that one long text cannot fill its group's list, and only
// terms relatively more frequent in the group than in all the texts
// (when there is more than one non-empty group), so that a word every group
// uses alike is not listed for any. Tokens
// are lowercased runs of letters and digits of at least three characters,
// not all digits, and not in a short list of English function words.
// Ties go to the alphabetically first term.
//
// texts[i] belongs to group labels[i]; labels outside [0, k) are ignored.
// A group without any candidate term gets an empty list.
func ClusterTerms(texts []string, labels []int, k, top int) [][]string {
	out := make([][]string, max(k, 0))
	if k <= 0 || top <= 0 {
		return out
	}
	counts := make([]map[string]int, k)
	docFreq := make([]map[string]int, k)
	tokens := make([]int, k)
	members := make([]int, k)
	total := map[string]int{}
	for c := range k {
		counts[c], docFreq[c] = map[string]int{}, map[string]int{}
	}
	seen := map[string]bool{}
	for i, t := range texts {
		if i >= len(labels) {
			break
		}
		c := labels[i]
		if c < 0 || c >= k {
			continue
		}
		members[c]++
		clear(seen)
		for _, w := range termTokens(t) {
			counts[c][w]++
			total[w]++
			tokens[c]++
			if !seen[w] {
				seen[w] = true
				docFreq[c][w]++
			}
		}
	}
	var all int
	for _, n := range tokens {
		all += n
	}
	avg := float64(all) / float64(k)
	nonEmpty := 0
	for _, n := range tokens {
		if n > 0 {
			nonEmpty++
		}
	}
	type scored struct {
		term  string
		score float64
	}
	for c := range k {
		if tokens[c] == 0 {
			out[c] = []string{}
			continue
		}
		minDF := min(2, members[c])
		var cand []scored
		for w, n := range counts[c] {
			if docFreq[c][w] < minDF {
				continue
			}
			tf := float64(n) / float64(tokens[c])
			if nonEmpty > 1 && tf <= float64(total[w])/float64(all) {
				continue
			}
			cand = append(cand, scored{w, tf * math.Log(1+avg/float64(total[w]))})
		}
		slices.SortFunc(cand, func(a, b scored) int {
			if c := cmp.Compare(b.score, a.score); c != 0 {
				return c
			}
			return strings.Compare(a.term, b.term)
		})
		terms := make([]string, 0, min(top, len(cand)))
		for _, s := range cand[:min(top, len(cand))] {
			terms = append(terms, s.term)
		}
		out[c] = terms
	}
	return out
}

// termTokens splits text into the candidate terms of ClusterTerms.
func termTokens(text string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if len([]rune(f)) < 3 || stopWords[f] || strings.IndexFunc(f, unicode.IsLetter) < 0 {
			continue
		}
		out = append(out, f)
	}
	return out
}

// stopWords are English function words of three letters or more, which
// every group shares and none is characterized by. A fixed list rather
// than one learned from the texts, so a term's candidacy does not depend
// on the other groups.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`about above after again against all also among and any are
		because been before being below between both but can cannot could did does doing down during
		each either etc few for from further had has have having her here hers herself him himself his
		how however into its itself just may more most much must not now off once only other our ours
		ourselves out over own same several she should since some such than that the their theirs them
		themselves then there these they this those through thus too under until upon use used uses
		using very via was were what when where whether which while who whom whose why will with within
		without would yet you your yours yourself yourselves`) {
		m[w] = true
	}
	return m
}()
