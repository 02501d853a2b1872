package db

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
)

// Strategy is how Recommend turns its examples into results.
type Strategy uint8

const (
	// AverageVector searches once, with the mean of the positive examples
	// minus NegativeWeight times the mean of the negative ones. On a
	// cosine collection every example is normalized first and the result
	// renormalized, so each example counts equally whatever its length.
	// It is as fast as one search and exact on a flat index, but a mean
	// can fall between examples that are far apart (two unrelated likes
	// average to something resembling neither).
	AverageVector Strategy = iota
	// BestScore scores each candidate by its best similarity to any
	// positive example minus its best similarity to any negative example
	// (just the former without negatives), so a candidate close to one
	// liked example ranks high even when the likes differ. Candidates are
	// gathered by searching with each positive example for
	// Recommendation.Candidates neighbours (filters and exclusions
	// applying); negatives only score, they gather nothing, since what is
	// near a dislike is never wanted. Each candidate is then scored
	// exactly against every example. With Candidates at least the number
	// of matching documents the result is the exact best-score ranking of
	// the collection.
	BestScore
)

// String returns "average" or "best".
func (s Strategy) String() string {
	switch s {
	case AverageVector:
		return "average"
	case BestScore:
		return "best"
	}
	return fmt.Sprintf("Strategy(%d)", uint8(s))
}

// ParseStrategy parses "average" or "best" (the String forms).
func ParseStrategy(s string) (Strategy, error) {
	switch s {
	case "average":
		return AverageVector, nil
	case "best":
		return BestScore, nil
	}
	return 0, fmt.Errorf("%w: unknown strategy %q (want average or best)", ErrInvalidArgument, s)
}

// Example is one positive or negative example of Recommend: a stored
// document (ID), a text embedded with the collection's model on the query
// side, as Search embeds its query, or a vector. Exactly one is set.
type Example struct {
	ID     string
	Text   string
	Vector []float32
}

// ExamplesByID returns one Example per stored document ID.
func ExamplesByID(ids ...string) []Example {
	out := make([]Example, len(ids))
	for i, id := range ids {
		out[i] = Example{ID: id}
	}
	return out
}

// Recommendation is what Recommend is asked: examples of what is wanted
// and of what is not, and how to combine them.
type Recommendation struct {
	// Positive holds at least one example of what is wanted.
	Positive []Example
	// Negative holds examples of what is not wanted (may be empty).
	Negative []Example
	// Strategy defaults to AverageVector.
	Strategy Strategy
	// NegativeWeight scales the negatives' mean under AverageVector; 0
	// means the default 0.5. The query is then half of 2·mean(positive) −
	// mean(negative), which on a cosine collection (where only directions
	// count) is the positives' mean pushed away from the negatives' by the
	// distance between them.
	NegativeWeight float64
	// Candidates is how many neighbours of each positive example BestScore
	// gathers; 0 means max(4×TopK, 40).
	Candidates int
}

// defaultNegativeWeight is NegativeWeight's default; see there.
const defaultNegativeWeight = 0.5

// Recommend returns the documents that best fit the examples, best first,
// under r.Strategy. The options are Search's: TopK, filters, MinScore
// (applied to the strategy's final score), WithFields and WithEf. Stored
// documents given as examples are never results, and the exclusion costs
// no results: the answer holds min(K, matching documents that are not
// examples). Scores are the collection's similarities (AverageVector: to
// the combined query vector; BestScore: the difference described there).
// An unknown example ID is a *NotFoundError (errors.Is ErrNotFound); a
// text example needs the collection's model, as Search does.
func (c *Collection) Recommend(ctx context.Context, r Recommendation, opts ...SearchOption) ([]Result, error) {
	leave, st, err := c.enter(false)
	if err != nil {
		return nil, err
	}
	defer leave()
	o, err := parseSearchOptions(opts)
	if err != nil {
		return nil, err
	}
	if err := checkRecommendation(r); err != nil {
		return nil, err
	}
	pos, neg, err := c.exampleVectors(ctx, st, r)
	if err != nil {
		return nil, err
	}
	o.exclude = map[string]struct{}{}
	for _, e := range slices.Concat(r.Positive, r.Negative) {
		if e.ID != "" {
			o.exclude[e.ID] = struct{}{}
		}
	}
	if r.Strategy == BestScore {
		return c.bestScore(ctx, st, pos, neg, r.Candidates, o)
	}
	w := r.NegativeWeight
	if w == 0 {
		w = defaultNegativeWeight
	}
	q, err := averageQuery(st.metric, pos, neg, w)
	if err != nil {
		return nil, err
	}
	if err := checkNewVector(q, int(st.cfg.Dimension), st.metric); err != nil {
		return nil, fmt.Errorf("%w: the examples' combined vector: %w", ErrInvalidArgument, err)
	}
	return c.search(ctx, st, q, o)
}

func checkRecommendation(r Recommendation) error {
	if len(r.Positive) == 0 {
		return fmt.Errorf("%w: Recommend needs at least one positive example", ErrInvalidArgument)
	}
	if r.Strategy != AverageVector && r.Strategy != BestScore {
		return fmt.Errorf("%w: unknown strategy %d", ErrInvalidArgument, r.Strategy)
	}
	if r.NegativeWeight < 0 || math.IsNaN(r.NegativeWeight) || math.IsInf(r.NegativeWeight, 0) {
		return fmt.Errorf("%w: NegativeWeight %v must be finite and not negative", ErrInvalidArgument, r.NegativeWeight)
	}
	if r.Candidates < 0 || r.Candidates > maxK {
		return fmt.Errorf("%w: Candidates %d out of range 0..%d", ErrInvalidArgument, r.Candidates, maxK)
	}
	sides := map[string]string{}
	for _, side := range []struct {
		name string
		ex   []Example
	}{{"positive", r.Positive}, {"negative", r.Negative}} {
		for i, e := range side.ex {
			n := 0
			for _, set := range []bool{e.ID != "", e.Text != "", e.Vector != nil} {
				if set {
					n++
				}
			}
			if n != 1 {
				return fmt.Errorf("%w: %s example %d sets %d of ID, Text and Vector; exactly one is needed", ErrInvalidArgument, side.name, i, n)
			}
			if e.ID == "" {
				continue
			}
			if prev, ok := sides[e.ID]; ok && prev != side.name {
				return fmt.Errorf("%w: document %q is both a positive and a negative example", ErrInvalidArgument, short(e.ID))
			}
			sides[e.ID] = side.name
		}
	}
	return nil
}

// exampleVectors resolves the examples to vectors: stored ones read in one
// transaction, texts embedded in one call per side.
func (c *Collection) exampleVectors(ctx context.Context, st *colState, r Recommendation) (pos, neg [][]float32, err error) {
	all := slices.Concat(r.Positive, r.Negative)
	vecs := make([][]float32, len(all))
	var ids, texts []string
	var idAt, textAt []int
	for i, e := range all {
		switch {
		case e.ID != "":
			ids, idAt = append(ids, e.ID), append(idAt, i)
		case e.Text != "":
			texts, textAt = append(texts, e.Text), append(textAt, i)
		default:
			if err := checkNewVector(e.Vector, int(st.cfg.Dimension), st.metric); err != nil {
				return nil, nil, fmt.Errorf("%w: example vector: %w", ErrInvalidArgument, err)
			}
			vecs[i] = e.Vector
		}
	}
	if len(ids) > 0 {
		got, err := c.storedVectors(ctx, st, ids)
		if err != nil {
			return nil, nil, err
		}
		for j, i := range idAt {
			vecs[i] = got[j]
		}
	}
	if len(texts) > 0 {
		got, err := c.embedTexts(ctx, st, QuerySide, texts)
		if err != nil {
			return nil, nil, err
		}
		for j, i := range textAt {
			vecs[i] = got[j]
		}
	}
	return vecs[:len(r.Positive)], vecs[len(r.Positive):], nil
}

// averageQuery combines the examples for AverageVector, in float64.
func averageQuery(m Metric, pos, neg [][]float32, w float64) ([]float32, error) {
	mean := func(vs [][]float32) []float64 {
		out := make([]float64, len(vs[0]))
		for _, v := range vs {
			scale := 1.0
			if m == Cosine {
				scale = 1 / norm(v)
			}
			for i, x := range v {
				out[i] += float64(x) * scale / float64(len(vs))
			}
		}
		return out
	}
	q := mean(pos)
	if len(neg) > 0 && w > 0 {
		mn := mean(neg)
		for i := range q {
			q[i] -= w * mn[i]
		}
	}
	var n2 float64
	for _, x := range q {
		n2 += x * x
	}
	if n2 == 0 {
		return nil, fmt.Errorf("%w: the positive and negative examples cancel out (their combined vector is zero)", ErrInvalidArgument)
	}
	scale := 1.0
	if m == Cosine {
		scale = 1 / math.Sqrt(n2)
	}
	out := make([]float32, len(q))
	for i, x := range q {
		out[i] = float32(x * scale)
	}
	return out, nil
}

// bestScore runs BestScore: gather candidates near each positive example,
// then score every candidate exactly against every example.
func (c *Collection) bestScore(ctx context.Context, st *colState, pos, neg [][]float32, candidates int, o searchOptions) ([]Result, error) {
	if candidates == 0 {
		candidates = max(4*o.k, 40)
	}
	gather := o
	gather.k = min(max(candidates, o.k), maxK)
	gather.hasMin = false
	gather.fields = o.fields | FieldVector
	byID := map[string]Result{}
	for _, p := range pos {
		res, err := c.search(ctx, st, p, gather)
		if err != nil {
			return nil, err
		}
		for _, r := range res {
			byID[r.ID] = r
		}
	}
	out := make([]Result, 0, len(byID))
	for _, r := range byID {
		r.Score = bestOf(st.metric, r.Vector, pos)
		if len(neg) > 0 {
			r.Score -= bestOf(st.metric, r.Vector, neg)
		}
		if o.hasMin && r.Score < o.minScore {
			continue
		}
		if o.fields&FieldVector == 0 {
			r.Vector = nil
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Result) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out[:min(len(out), o.k)], nil
}

// bestOf is the highest similarity of v to any of examples.
func bestOf(m Metric, v []float32, examples [][]float32) float32 {
	best := float32(math.Inf(-1))
	for _, e := range examples {
		best = max(best, similarity(m, v, e))
	}
	return best
}

// similarity is the collection's score of two vectors (see score),
// computed exactly in float64.
func similarity(m Metric, a, b []float32) float32 {
	switch m {
	case Cosine:
		na, nb := norm(a), norm(b)
		if na == 0 || nb == 0 {
			return 0 // no direction to compare; NaN would poison a sort
		}
		return float32(clampUnit(dot64(a, b) / (na * nb)))
	case Dot:
		return float32(dot64(a, b))
	default:
		var s float64
		for i, x := range a {
			d := float64(x) - float64(b[i])
			s += d * d
		}
		return -float32(math.Sqrt(s))
	}
}
