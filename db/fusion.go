package db

import (
	"cmp"
	"fmt"
	"slices"
)

// ranked is one side's result for fusion: a label, its raw score (cosine
// similarity, dot product, negated distance, or BM25), its 1-based rank.
type ranked struct {
	label uint64
	score float32
}

// fused is a fused result with what each side said about it; a rank of 0
// means the label was not among that side's candidates.
type fused struct {
	label             uint64
	score             float64
	vecScore, kwScore float32
	vecRank, kwRank   int
}

// fuseRRF is weighted reciprocal-rank fusion: a label's score is
// alpha/(k+rank_vector) + (1-alpha)/(k+rank_keyword), a side it is absent
// from adding nothing. With alpha 0.5 it is the classic RRF halved, which
// orders alike.
func fuseRRF(vec, kw []ranked, alpha float64, k int) []fused {
	return fuse(vec, kw, func(f *fused) float64 {
		s := 0.0
		if f.vecRank > 0 {
			s += alpha / float64(k+f.vecRank)
		}
		if f.kwRank > 0 {
			s += (1 - alpha) / float64(k+f.kwRank)
		}
		return s
	})
}

// Normalizations of a convex combination. normTheoreticalMin is Bruch et
// al.'s TM2C2 (ACM TOIS 2023, "An Analysis of Fusion Functions for Hybrid
// Retrieval"): (s - lo) / (max - lo), with lo the lowest score the scoring
// function can give (0 for BM25, -1 for cosine) and max the best candidate
// of the query; where no theoretical minimum exists (dot product, L2) the
// lowest candidate stands in, as in min-max. normMinMax uses the lowest and
// highest candidate of each list.
const (
	normTheoreticalMin = iota
	normMinMax
)

// fuseConvex is the convex combination alpha*v + (1-alpha)*w of the
// normalized scores v (vector) and w (keyword); a label missing from a
// side gets 0 there, the floor of the normalized range. vecMin is the
// vector side's theoretical minimum, and hasVecMin says whether the metric
// has one.
func fuseConvex(vec, kw []ranked, alpha float64, norm int, vecMin float32, hasVecMin bool) []fused {
	vlo, vhi := bounds(vec)
	klo, khi := bounds(kw)
	if norm == normTheoreticalMin {
		klo = 0
		if hasVecMin {
			vlo = vecMin
		}
	}
	return fuse(vec, kw, func(f *fused) float64 {
		s := 0.0
		if f.vecRank > 0 {
			s += alpha * scale(f.vecScore, vlo, vhi)
		}
		if f.kwRank > 0 {
			s += (1 - alpha) * scale(f.kwScore, klo, khi)
		}
		return s
	})
}

// bounds returns the lowest and highest score of a list (0, 0 if empty).
func bounds(rs []ranked) (lo, hi float32) {
	for i, r := range rs {
		if i == 0 || r.score < lo {
			lo = r.score
		}
		if i == 0 || r.score > hi {
			hi = r.score
		}
	}
	return lo, hi
}

// scale maps s from [lo, hi] onto [0, 1]. A list whose scores are all equal
// (one candidate, or ties) maps them to 1: they are the best of their side.
func scale(s, lo, hi float32) float64 {
	if hi <= lo {
		return 1
	}
	return (float64(s) - float64(lo)) / (float64(hi) - float64(lo))
}

// fuse merges two ranked lists and orders the union by score, best first;
// ties go to the better best rank on either side, then to the lower label,
// so the order is deterministic.
func fuse(vec, kw []ranked, score func(*fused) float64) []fused {
	at := make(map[uint64]int, len(vec)+len(kw))
	out := make([]fused, 0, len(vec)+len(kw))
	for i, r := range vec {
		at[r.label] = len(out)
		out = append(out, fused{label: r.label, vecScore: r.score, vecRank: i + 1})
	}
	for i, r := range kw {
		j, ok := at[r.label]
		if !ok {
			j = len(out)
			at[r.label] = j
			out = append(out, fused{label: r.label})
		}
		out[j].kwScore, out[j].kwRank = r.score, i+1
	}
	for i := range out {
		out[i].score = score(&out[i])
	}
	best := func(f fused) int {
		b := f.vecRank
		if b == 0 || (f.kwRank > 0 && f.kwRank < b) {
			b = f.kwRank
		}
		return b
	}
	slices.SortFunc(out, func(a, b fused) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		if c := cmp.Compare(best(a), best(b)); c != 0 {
			return c
		}
		return cmp.Compare(a.label, b.label)
	})
	return out
}

// FuseResults merges the results of a vector search and of a keyword
// search of the same collection as a hybrid search does, by the fusion,
// alpha and RRF k of opts (other options are ignored), and returns the best
// k, each with its Explanation. vector holds similarities of metric m (as
// Result.Score of a vector search), keyword BM25 scores, each list best
// first and without repeated IDs. It serves callers who run the two sides
// themselves, with different filters or depths, and the bench's sweep of
// fusion settings, which must score exactly what Search does.
func FuseResults(vector, keyword []Result, m Metric, k int, opts ...SearchOption) ([]Result, error) {
	o, err := parseSearchOptions(append(opts, TopK(max(k, 1))))
	if err != nil {
		return nil, err
	}
	ids := make(map[string]uint64, len(vector)+len(keyword))
	byLabel := make([]*Result, 0, len(vector)+len(keyword))
	side := func(rs []Result, what string) ([]ranked, error) {
		out := make([]ranked, len(rs))
		seen := make(map[string]bool, len(rs))
		for i := range rs {
			r := &rs[i]
			if seen[r.ID] {
				return nil, fmt.Errorf("%w: ID %q appears twice in the %s results", ErrInvalidArgument, short(r.ID), what)
			}
			seen[r.ID] = true
			l, ok := ids[r.ID]
			if !ok {
				l = uint64(len(byLabel))
				ids[r.ID] = l
				byLabel = append(byLabel, r)
			}
			out[i] = ranked{label: l, score: r.Score}
		}
		return out, nil
	}
	vec, err := side(vector, "vector")
	if err != nil {
		return nil, err
	}
	kw, err := side(keyword, "keyword")
	if err != nil {
		return nil, err
	}
	fz := fuseBy(vec, kw, o, m)
	out := make([]Result, 0, min(k, len(fz)))
	for _, f := range fz[:min(k, len(fz))] {
		r := *byLabel[f.label]
		r.Score = float32(f.score)
		r.Explain = &Explanation{Mode: ModeHybrid, VectorScore: f.vecScore, VectorRank: f.vecRank, KeywordScore: f.kwScore, KeywordRank: f.kwRank}
		out = append(out, r)
	}
	return out, nil
}

// fuseBy fuses two candidate lists by the method of o.
func fuseBy(vec, kw []ranked, o searchOptions, m Metric) []fused {
	if o.fusion == FusionRRF {
		return fuseRRF(vec, kw, o.alpha, o.rrfK)
	}
	norm := normTheoreticalMin
	if o.fusion == FusionConvexMinMax {
		norm = normMinMax
	}
	lo, has := metricMin(m)
	return fuseConvex(vec, kw, o.alpha, norm, lo, has)
}
