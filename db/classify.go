package db

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/vecbolt/vecbolt/query"
)

// Classification is the answer of Classify.
type Classification struct {
	// Label is the label with the highest score (the smallest of equal
	// ones, so the answer repeats).
	Label string
	// Scores holds every label among the voters with its share of the
	// vote; the shares sum to 1.
	Scores map[string]float64
	// Voters are the labelled neighbours that voted, best first, with
	// their metadata.
	Voters []Result
}

// Classify labels text by a vote of its K nearest labelled documents
// (TopK, default 10): the documents that have the metadata field, so that
// unlabelled ones never vote, and that match the Where filter if one is
// given. Each voter's weight is its similarity, floored at 0 for Cosine
// and Dot (a neighbour pointing away does not vote against), and
// 1/(1+distance) for L2; when every weight is 0 the voters count equally.
// A label's score is its voters' share of the total weight. The field
// must hold strings, numbers or booleans (numbers and booleans become
// labels in their JSON form). Text is embedded on the query side, as
// Search embeds its query. With no labelled document to vote, the error
// wraps ErrNotFound.
func (c *Collection) Classify(ctx context.Context, text, field string, opts ...SearchOption) (Classification, error) {
	q, err := c.EmbedQuery(ctx, text)
	if err != nil {
		return Classification{}, err
	}
	return c.ClassifyVector(ctx, q, field, opts...)
}

// ClassifyVector is Classify for a vector.
func (c *Collection) ClassifyVector(ctx context.Context, vec []float32, field string, opts ...SearchOption) (Classification, error) {
	leave, st, err := c.enter(false)
	if err != nil {
		return Classification{}, err
	}
	defer leave()
	o, err := parseSearchOptions(opts)
	if err != nil {
		return Classification{}, err
	}
	if err := query.Validate(query.Exists(field)); err != nil {
		return Classification{}, fmt.Errorf("%w: label field: %w", ErrInvalidArgument, err)
	}
	st.liveMu.RLock()
	ft := st.fields.types[field]
	st.liveMu.RUnlock()
	switch ft {
	case "":
		return Classification{}, fmt.Errorf("%w: no document of collection %q has had the label field %q", ErrNotFound, short(c.name), short(field))
	case TypeStrings, TypeMixed:
		return Classification{}, fmt.Errorf("%w: label field %q is %s in collection %q; labels must be strings, numbers or booleans", ErrInvalidArgument, short(field), ft.phrase(), short(c.name))
	}
	if err := checkNewVector(vec, int(st.cfg.Dimension), st.metric); err != nil {
		return Classification{}, fmt.Errorf("%w: query %w", ErrInvalidArgument, err)
	}
	if o.filter == nil {
		o.filter = query.Exists(field)
	} else {
		o.filter = query.And(query.Exists(field), o.filter)
	}
	o.fields = FieldMetadata
	res, err := c.search(ctx, st, vec, o)
	if err != nil {
		return Classification{}, err
	}
	if len(res) == 0 {
		return Classification{}, fmt.Errorf("%w: no document of collection %q with the label field %q matches", ErrNotFound, short(c.name), short(field))
	}
	return vote(st.metric, res, field)
}

// vote tallies the voters' weighted labels.
func vote(m Metric, voters []Result, field string) (Classification, error) {
	weights := make([]float64, len(voters))
	var total float64
	for i, r := range voters {
		s := float64(r.Score)
		if m == L2 {
			weights[i] = 1 / (1 - s) // s is the negated distance
		} else {
			weights[i] = max(s, 0)
		}
		total += weights[i]
	}
	if total == 0 || math.IsInf(total, 0) {
		for i := range weights {
			weights[i] = 1
		}
		total = float64(len(weights))
	}
	scores := map[string]float64{}
	for i, r := range voters {
		label, err := labelOf(r.Metadata[field])
		if err != nil {
			return Classification{}, fmt.Errorf("%w: document %q, field %q: %w", ErrCorrupt, short(r.ID), short(field), err)
		}
		scores[label] += weights[i] / total
	}
	labels := slices.Collect(maps.Keys(scores))
	slices.SortFunc(labels, func(a, b string) int {
		if c := cmp.Compare(scores[b], scores[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return Classification{Label: labels[0], Scores: scores, Voters: voters}, nil
}

// labelOf formats a metadata value as a label.
func labelOf(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool, int64, float64, int:
		return fmt.Sprint(x), nil
	}
	return "", fmt.Errorf("label value of type %T", v)
}
