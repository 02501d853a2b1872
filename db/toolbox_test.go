package db

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/query"
)

// sideEmbedder embeds queries differently from documents, as models with
// an instruction prefix do, so tests can tell the sides apart.
type sideEmbedder struct{ *hashEmbedder }

func (s sideEmbedder) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	return s.hashEmbedder.EmbedQuery(ctx, "query: "+text)
}

func TestEmbedSides(t *testing.T) {
	e := sideEmbedder{newHashEmbedder("side", 32)}
	d, _ := openTest(t, WithEmbedder(e))
	docs, err := d.EmbedDocuments(bg, "red apple", "green pear")
	if err != nil {
		t.Fatal(err)
	}
	q, err := d.EmbedQuery(bg, "red apple")
	if err != nil {
		t.Fatal(err)
	}
	if want := e.vec("red apple"); !slices.Equal(docs[0], want) {
		t.Errorf("document side %v, want %v", docs[0], want)
	}
	if want := e.vec("query: red apple"); !slices.Equal(q, want) {
		t.Errorf("query side %v, want %v", q, want)
	}
	c := mustCollection(t, d, "c")
	cq, err := c.EmbedQuery(bg, "red apple")
	if err != nil || !slices.Equal(cq, q) {
		t.Errorf("collection query side %v %v, want %v", cq, err, q)
	}
	cd, err := c.EmbedDocuments(bg, "green pear")
	if err != nil || !slices.Equal(cd[0], docs[1]) {
		t.Errorf("collection document side %v %v, want %v", cd, err, docs[1])
	}
}

func TestEmbedErrors(t *testing.T) {
	d, _ := openTest(t)
	none, _ := openTest(t, WithEmbedder(nil))
	vc := none.mustVecCollection(t, "v", 2)
	tests := []struct {
		name string
		run  func() error
		is   error
		msg  string
	}{
		{"blank", func() error { _, err := d.EmbedDocuments(bg, "ok", " \t"); return err }, ErrInvalidArgument, "text 1: empty text"},
		{"bad utf8", func() error { _, err := d.EmbedQuery(bg, "a\xffb"); return err }, ErrInvalidArgument, "not valid UTF-8"},
		{"too long", func() error { _, err := d.EmbedQuery(bg, strings.Repeat("a", maxTextBytes+1)); return err }, ErrInvalidArgument, "exceeds"},
		{"no model", func() error { _, err := none.EmbedQuery(bg, "x"); return err }, ErrNoEmbedder, ""},
		{"vector collection", func() error { _, err := vc.EmbedQuery(bg, "x"); return err }, ErrNoEmbedder, "caller-supplied vectors"},
		{"nil embedder", func() error { _, err := EmbedWith(bg, nil, DocumentSide, "x"); return err }, ErrNoEmbedder, ""},
		{"bad side", func() error { _, err := EmbedWith(bg, newHashEmbedder("h", 4), Side(7), "x"); return err }, ErrInvalidArgument, "side"},
		{"similarity blank", func() error { _, err := d.Similarity(bg, "a", ""); return err }, ErrInvalidArgument, "text 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if !errors.Is(err, tc.is) || !strings.Contains(fmt.Sprint(err), tc.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.is, tc.msg)
			}
		})
	}
}

func TestCosineMatrix(t *testing.T) {
	s := float32(math.Sqrt(0.5))
	tests := []struct {
		name string
		in   [][]float32
		want [][]float32
		err  string
	}{
		{"empty", nil, [][]float32{}, ""},
		{"one", [][]float32{{3, 4}}, [][]float32{{1}}, ""},
		{"axes", [][]float32{{2, 0}, {0, 5}, {-1, 0}, {1, 1}},
			[][]float32{{1, 0, -1, s}, {0, 1, 0, s}, {-1, 0, 1, -s}, {s, s, -s, 1}}, ""},
		{"dimension", [][]float32{{1, 0}, {1}}, nil, "vector 1 has dimension 1"},
		{"zero", [][]float32{{1, 0}, {0, 0}}, nil, "vector 1 has norm 0"},
		{"inf", [][]float32{{float32(math.Inf(1)), 0}}, nil, "vector 0 has norm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CosineMatrix(tc.in)
			if tc.err != "" {
				if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				for j := range got[i] {
					if math.Abs(float64(got[i][j]-tc.want[i][j])) > 1e-6 {
						t.Fatalf("m[%d][%d] = %v, want %v", i, j, got[i][j], tc.want[i][j])
					}
				}
			}
		})
	}
	if c, err := CosineSimilarity([]float32{1, 0}, []float32{1, 1}); err != nil || math.Abs(float64(c-s)) > 1e-6 {
		t.Errorf("CosineSimilarity = %v, %v", c, err)
	}
}

// toolboxDocs returns n random vectors of dimension dim, each with a group
// g (0, 1 or 2) and, for two of every three, a label.
func toolboxDocs(seed uint64, n, dim int) []Document {
	r := rand.New(rand.NewPCG(seed, 1))
	docs := make([]Document, n)
	for i := range docs {
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		md := map[string]any{"g": int64(i % 3)}
		if i%3 != 2 {
			md["label"] = fmt.Sprintf("L%d", r.IntN(3))
		}
		docs[i] = Document{ID: fmt.Sprintf("d%03d", i), Vector: v, Metadata: md}
	}
	return docs
}

// bruteForce ranks docs by score against q, best first, leaving out
// excluded IDs and documents the filter rejects.
func bruteForce(t *testing.T, m Metric, docs []Document, score func(v []float32) float32, f query.Filter, exclude ...string) []Result {
	t.Helper()
	var out []Result
	for _, d := range docs {
		if slices.Contains(exclude, d.ID) {
			continue
		}
		if f != nil {
			md, err := query.FromMap(d.Metadata)
			if err != nil {
				t.Fatal(err)
			}
			if ok, err := f.Match(md); err != nil || !ok {
				continue
			}
		}
		out = append(out, Result{ID: d.ID, Score: score(d.Vector)})
	}
	slices.SortFunc(out, func(a, b Result) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// sameRanking compares results with a brute-force ranking cut to len(got):
// the same IDs in the same order, scores within float32 rounding.
func sameRanking(t *testing.T, got, want []Result, k int) {
	t.Helper()
	if n := min(k, len(want)); len(got) != n {
		t.Fatalf("%d results, want min(k=%d, %d) = %d", len(got), k, len(want), n)
	}
	for i, r := range got {
		if r.ID != want[i].ID || math.Abs(float64(r.Score-want[i].Score)) > 1e-4 {
			t.Fatalf("result %d = %s %.6f, want %s %.6f\ngot  %v\nwant %v", i, r.ID, r.Score, want[i].ID, want[i].Score, got, want[:len(got)])
		}
	}
}

func vecsCollection(t *testing.T, m Metric, docs []Document) *Collection {
	t.Helper()
	d, _ := openTest(t, WithEmbedder(nil))
	c := mustCollection(t, d, "v", WithDimension(len(docs[0].Vector)), WithMetric(m), WithFlatIndex())
	if _, err := c.Insert(bg, docs...); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSimilarMatchesBruteForce: on a flat index, Similar is exactly the
// brute-force ranking by the document's own vector, minus the document.
func TestSimilarMatchesBruteForce(t *testing.T) {
	docs := toolboxDocs(7, 40, 6)
	for _, m := range []Metric{Cosine, Dot, L2} {
		c := vecsCollection(t, m, docs)
		tests := []struct {
			id    string
			k     int
			where string
		}{
			{"d000", 5, ""},
			{"d013", 39, ""},
			{"d013", 100, ""}, // more than the collection: all but itself
			{"d001", 4, "g = 1"},
			{"d001", 50, "g = 1"}, // the document matches its own filter
			{"d002", 50, "g = 1"}, // it does not
			{"d005", 3, `label = "L1"`},
		}
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%v/%s/k%d/%s", m, tc.id, tc.k, tc.where), func(t *testing.T) {
				opts := []SearchOption{TopK(tc.k)}
				var f query.Filter
				if tc.where != "" {
					opts = append(opts, WhereExpr(tc.where))
					f, _ = query.Parse(tc.where)
				}
				got, err := c.Similar(bg, tc.id, opts...)
				if err != nil {
					t.Fatal(err)
				}
				var q []float32
				for _, d := range docs {
					if d.ID == tc.id {
						q = d.Vector
					}
				}
				want := bruteForce(t, m, docs, func(v []float32) float32 { return similarity(m, q, v) }, f, tc.id)
				sameRanking(t, got, want, tc.k)
			})
		}
	}
}

func TestSimilarHNSWAndErrors(t *testing.T) {
	d, _ := openTest(t)
	c := mustCollection(t, d, "animals")
	if _, err := c.Insert(bg, animals...); err != nil {
		t.Fatal(err)
	}
	res, err := c.Similar(bg, "cat", TopK(10))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(animals)-1 || slices.ContainsFunc(res, func(r Result) bool { return r.ID == "cat" }) {
		t.Fatalf("Similar(cat) = %v, want the %d others", res, len(animals)-1)
	}
	if res[0].Text == "" || res[0].Metadata == nil {
		t.Errorf("results lack text and metadata: %+v", res[0])
	}
	res, err = c.Similar(bg, "cat", TopK(10), WhereExpr(`kind = "pet"`))
	if err != nil || len(res) != 2 {
		t.Fatalf("pets like cat: %v %v, want dog and parrot", res, err)
	}
	_, err = c.Similar(bg, "unicorn")
	var nf *NotFoundError
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &nf) || !slices.Equal(nf.IDs, []string{"unicorn"}) {
		t.Errorf("unknown ID: %v", err)
	}
	for _, tc := range []struct {
		name string
		id   string
		opts []SearchOption
		is   error
	}{
		{"empty id", "", nil, ErrInvalidArgument},
		{"bad k", "cat", []SearchOption{TopK(0)}, ErrInvalidArgument},
		{"bad filter", "cat", []SearchOption{WhereExpr("legs = ")}, ErrInvalidArgument},
		{"type mismatch", "cat", []SearchOption{WhereExpr(`legs = "four"`)}, query.ErrTypeMismatch},
	} {
		if _, err := c.Similar(bg, tc.id, tc.opts...); !errors.Is(err, tc.is) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.is)
		}
	}
}

// TestRecommendMatchesBruteForce checks both strategies against their
// definitions computed independently here, on a flat (exact) index.
func TestRecommendMatchesBruteForce(t *testing.T) {
	docs := toolboxDocs(11, 45, 5)
	vecOf := map[string][]float32{}
	for _, d := range docs {
		vecOf[d.ID] = d.Vector
	}
	unit := func(v []float32) []float64 {
		n := norm(v)
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x) / n
		}
		return out
	}
	for _, m := range []Metric{Cosine, Dot, L2} {
		c := vecsCollection(t, m, docs)
		tests := []struct {
			pos, neg []string
			k        int
			where    string
			w        float64
		}{
			{[]string{"d000"}, nil, 5, "", 0},
			{[]string{"d000", "d007"}, nil, 6, "", 0},
			{[]string{"d000", "d007"}, []string{"d003"}, 6, "", 0},
			{[]string{"d001", "d004", "d010"}, []string{"d002", "d020"}, 100, "", 1},
			{[]string{"d001"}, []string{"d002"}, 8, "g = 1", 2},
			{[]string{"d002", "d008"}, []string{"d005"}, 30, `label = "L2"`, 0},
		}
		for _, tc := range tests {
			for _, strat := range []Strategy{AverageVector, BestScore} {
				t.Run(fmt.Sprintf("%v/%v/%v-%v/k%d/%s/w%g", m, strat, tc.pos, tc.neg, tc.k, tc.where, tc.w), func(t *testing.T) {
					opts := []SearchOption{TopK(tc.k)}
					var f query.Filter
					if tc.where != "" {
						opts = append(opts, WhereExpr(tc.where))
						f, _ = query.Parse(tc.where)
					}
					r := Recommendation{Positive: ExamplesByID(tc.pos...), Negative: ExamplesByID(tc.neg...), Strategy: strat, NegativeWeight: tc.w, Candidates: len(docs)}
					got, err := c.Recommend(bg, r, opts...)
					if err != nil {
						t.Fatal(err)
					}
					var score func(v []float32) float32
					if strat == BestScore {
						score = func(v []float32) float32 {
							best := func(ids []string) float32 {
								b := float32(math.Inf(-1))
								for _, id := range ids {
									b = max(b, similarity(m, v, vecOf[id]))
								}
								return b
							}
							s := best(tc.pos)
							if len(tc.neg) > 0 {
								s -= best(tc.neg)
							}
							return s
						}
					} else {
						w := tc.w
						if w == 0 {
							w = 0.5
						}
						q := make([]float64, len(docs[0].Vector))
						add := func(ids []string, f float64) {
							for _, id := range ids {
								u := unit(vecOf[id])
								if m != Cosine {
									u = unit(vecOf[id])
									for i, x := range vecOf[id] {
										u[i] = float64(x)
									}
								}
								for i := range q {
									q[i] += f * u[i] / float64(len(ids))
								}
							}
						}
						add(tc.pos, 1)
						add(tc.neg, -w)
						q32 := make([]float32, len(q))
						for i, x := range q {
							q32[i] = float32(x)
						}
						if m == Cosine {
							u := unit(q32)
							for i, x := range u {
								q32[i] = float32(x)
							}
						}
						score = func(v []float32) float32 { return similarity(m, q32, v) }
					}
					want := bruteForce(t, m, docs, score, f, slices.Concat(tc.pos, tc.neg)...)
					sameRanking(t, got, want, tc.k)
				})
			}
		}
	}
}

func TestRecommendExamples(t *testing.T) {
	d, _ := openTest(t)
	c := mustCollection(t, d, "animals")
	if _, err := c.Insert(bg, animals...); err != nil {
		t.Fatal(err)
	}
	// A single text example under AverageVector is a vector search for it.
	for _, text := range []string{"a bird that flies", "pets at home"} {
		want, err := c.Search(bg, text, TopK(5), WithMode(ModeVector))
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Recommend(bg, Recommendation{Positive: []Example{{Text: text}}}, TopK(5))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("Recommend(%q) = %v, want %v", text, got, want)
		}
		for i := range got {
			if got[i].ID != want[i].ID || math.Abs(float64(got[i].Score-want[i].Score)) > 1e-5 {
				t.Fatalf("Recommend(%q) = %v, want %v", text, got, want)
			}
		}
	}
	// Examples never come back; the rest all do.
	for _, s := range []Strategy{AverageVector, BestScore} {
		got, err := c.Recommend(bg, Recommendation{Positive: ExamplesByID("cat", "dog"), Negative: []Example{{ID: "shark"}, {Text: "ocean"}}, Strategy: s}, TopK(10))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range got {
			ids = append(ids, r.ID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, []string{"eagle", "parrot"}) {
			t.Errorf("%v: results %v, want eagle and parrot", s, ids)
		}
	}

	tests := []struct {
		name string
		r    Recommendation
		opts []SearchOption
		is   error
		msg  string
	}{
		{"no positive", Recommendation{Negative: ExamplesByID("cat")}, nil, ErrInvalidArgument, "at least one positive"},
		{"unknown id", Recommendation{Positive: ExamplesByID("cat", "unicorn", "yeti")}, nil, ErrNotFound, `"unicorn", "yeti"`},
		{"two fields", Recommendation{Positive: []Example{{ID: "cat", Text: "x"}}}, nil, ErrInvalidArgument, "positive example 0 sets 2"},
		{"empty example", Recommendation{Positive: ExamplesByID("cat"), Negative: []Example{{}}}, nil, ErrInvalidArgument, "negative example 0 sets 0"},
		{"both sides", Recommendation{Positive: ExamplesByID("cat"), Negative: ExamplesByID("cat")}, nil, ErrInvalidArgument, "both a positive and a negative"},
		{"cancel out", Recommendation{Positive: ExamplesByID("cat"), Negative: ExamplesByID("dog", "dog"), NegativeWeight: 1}, nil, nil, ""},
		{"exact cancel", Recommendation{Positive: []Example{{Text: "cat"}}, Negative: []Example{{Text: "cat"}}, NegativeWeight: 1}, nil, ErrInvalidArgument, "cancel out"},
		{"bad weight", Recommendation{Positive: ExamplesByID("cat"), NegativeWeight: -1}, nil, ErrInvalidArgument, "NegativeWeight"},
		{"bad strategy", Recommendation{Positive: ExamplesByID("cat"), Strategy: 9}, nil, ErrInvalidArgument, "strategy"},
		{"bad candidates", Recommendation{Positive: ExamplesByID("cat"), Candidates: -1}, nil, ErrInvalidArgument, "Candidates"},
		{"blank text", Recommendation{Positive: []Example{{Text: "  "}}}, nil, ErrInvalidArgument, "empty text"},
		{"bad vector", Recommendation{Positive: []Example{{Vector: []float32{1}}}}, nil, ErrInvalidArgument, "dimension 1"},
		{"bad k", Recommendation{Positive: ExamplesByID("cat")}, []SearchOption{TopK(-1)}, ErrInvalidArgument, "TopK"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Recommend(bg, tc.r, tc.opts...)
			if tc.is == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.is) || !strings.Contains(fmt.Sprint(err), tc.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.is, tc.msg)
			}
		})
	}
}

func TestParseStrategy(t *testing.T) {
	for _, s := range []Strategy{AverageVector, BestScore} {
		if got, err := ParseStrategy(s.String()); err != nil || got != s {
			t.Errorf("ParseStrategy(%q) = %v, %v", s.String(), got, err)
		}
	}
	if _, err := ParseStrategy("max"); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("ParseStrategy(max) = %v", err)
	}
}

// TestClassifyVote checks the vote's arithmetic on hand-made vectors:
// exact weights, shares summing to 1, unlabelled documents not voting.
func TestClassifyVote(t *testing.T) {
	docs := []Document{
		{ID: "a1", Vector: []float32{1, 0}, Metadata: map[string]any{"l": "a"}},
		{ID: "a2", Vector: []float32{0.8, 0.6}, Metadata: map[string]any{"l": "a"}},
		{ID: "b1", Vector: []float32{0.6, 0.8}, Metadata: map[string]any{"l": "b"}},
		{ID: "b2", Vector: []float32{0, 1}, Metadata: map[string]any{"l": "b", "x": true}},
		{ID: "u1", Vector: []float32{1, 0.01}},                                   // unlabelled, nearest of all
		{ID: "n1", Vector: []float32{-1, 0}, Metadata: map[string]any{"l": "c"}}, // opposite
		{ID: "t1", Vector: []float32{1, 0.02}, Metadata: map[string]any{"n": 3, "flag": true, "tags": []string{"x"}}},
	}
	c := vecsCollection(t, Cosine, docs)
	tests := []struct {
		name  string
		q     []float32
		field string
		opts  []SearchOption
		label string
		want  map[string]float64
	}{
		{"k1", []float32{1, 0}, "l", []SearchOption{TopK(1)}, "a", map[string]float64{"a": 1}},
		{"k3", []float32{1, 0}, "l", []SearchOption{TopK(3)}, "a", map[string]float64{"a": 1.8 / 2.4, "b": 0.6 / 2.4}},
		{"tie broken by name", []float32{1, 1}, "l", []SearchOption{TopK(2)}, "a", map[string]float64{"a": 0.5, "b": 0.5}},
		{"negative weight is zero", []float32{1, 0}, "l", []SearchOption{TopK(10)}, "a", map[string]float64{"a": 1.8 / 2.4, "b": 0.6 / 2.4, "c": 0}},
		{"filter", []float32{1, 0}, "l", []SearchOption{TopK(10), WhereExpr("x = true")}, "b", map[string]float64{"b": 1}},
		{"all zero weights count equally", []float32{-1, 0}, "l", []SearchOption{TopK(3), WhereExpr(`l != "c"`)}, "b", map[string]float64{"a": 1.0 / 3, "b": 2.0 / 3}},
		{"number label", []float32{1, 0}, "n", nil, "3", map[string]float64{"3": 1}},
		{"bool label", []float32{1, 0}, "flag", nil, "true", map[string]float64{"true": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.ClassifyVector(bg, tc.q, tc.field, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if got.Label != tc.label {
				t.Errorf("label %q, want %q (scores %v)", got.Label, tc.label, got.Scores)
			}
			var sum float64
			for _, s := range got.Scores {
				sum += s
			}
			if math.Abs(sum-1) > 1e-9 {
				t.Errorf("scores %v sum to %v", got.Scores, sum)
			}
			for _, v := range got.Voters {
				if v.ID == "u1" {
					t.Errorf("unlabelled u1 voted")
				}
			}
			if len(got.Scores) != len(tc.want) {
				t.Fatalf("scores %v, want %v", got.Scores, tc.want)
			}
			for l, w := range tc.want {
				if math.Abs(got.Scores[l]-w) > 1e-5 {
					t.Errorf("score of %q = %v, want %v (all %v)", l, got.Scores[l], w, got.Scores)
				}
			}
		})
	}
	for _, tc := range []struct {
		name, field string
		q           []float32
		is          error
		msg         string
	}{
		{"unknown field", "nope", []float32{1, 0}, ErrNotFound, `label field "nope"`},
		{"list field", "tags", []float32{1, 0}, ErrInvalidArgument, "list of strings"},
		{"empty field", "", []float32{1, 0}, ErrInvalidArgument, "label field"},
		{"bad vector", "l", []float32{1}, ErrInvalidArgument, "dimension"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.ClassifyVector(bg, tc.q, tc.field)
			if !errors.Is(err, tc.is) || !strings.Contains(fmt.Sprint(err), tc.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.is, tc.msg)
			}
		})
	}
	if _, err := c.ClassifyVector(bg, []float32{1, 0}, "l", WhereExpr(`l = "zzz"`)); !errors.Is(err, ErrNotFound) {
		t.Errorf("no voter: err = %v, want ErrNotFound", err)
	}
	if _, err := c.Classify(bg, "text", "l"); !errors.Is(err, ErrNoEmbedder) {
		t.Errorf("Classify on a vector collection: %v, want ErrNoEmbedder", err)
	}
}

// TestSimilarRecommendConcurrentWrites runs Similar and Recommend while
// other documents are deleted and inserted: the example never comes back,
// and no stable document is lost to the churn (run with -race).
func TestSimilarRecommendConcurrentWrites(t *testing.T) {
	const stable, churn = 60, 40
	docs := toolboxDocs(3, stable+churn, 8)
	d, _ := openTest(t, WithEmbedder(nil))
	c := mustCollection(t, d, "v", WithDimension(8))
	if _, err := c.Insert(bg, docs...); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		defer close(errc)
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			doc := docs[stable+i%churn]
			if _, err := c.Delete(bg, doc.ID); err != nil {
				errc <- err
				return
			}
			if _, err := c.Upsert(bg, doc); err != nil {
				errc <- err
				return
			}
		}
	}()
	for i := range 100 {
		anchor := docs[i%stable].ID
		var res []Result
		var err error
		if i%2 == 0 {
			res, err = c.Similar(bg, anchor, TopK(stable+churn))
		} else {
			res, err = c.Recommend(bg, Recommendation{Positive: ExamplesByID(anchor), Strategy: Strategy(i / 2 % 2), Candidates: stable + churn}, TopK(stable+churn))
		}
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, r := range res {
			if r.ID == anchor {
				t.Fatalf("call %d: example %s came back", i, anchor)
			}
			if r.ID < docs[stable].ID {
				seen++
			}
		}
		if seen != stable-1 {
			t.Fatalf("call %d: %d of the %d other stable documents returned", i, seen, stable-1)
		}
	}
	close(done)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// TestClassifyVoteMetrics checks the weights on Dot and L2 collections:
// Dot floors negative products at 0, L2 weighs 1/(1+distance).
func TestClassifyVoteMetrics(t *testing.T) {
	docs := []Document{
		{ID: "a", Vector: []float32{1, 0}, Metadata: map[string]any{"l": "a"}},
		{ID: "b", Vector: []float32{1, 1}, Metadata: map[string]any{"l": "b"}},
		{ID: "c", Vector: []float32{-2, 0}, Metadata: map[string]any{"l": "c"}},
	}
	tests := []struct {
		m    Metric
		q    []float32
		want map[string]float64
	}{
		// Dot with (1,0): a 1, b 1, c -2 → 0.
		{Dot, []float32{1, 0}, map[string]float64{"a": 0.5, "b": 0.5, "c": 0}},
		// L2 from (1,0): a 0 → 1, b 1 → 1/2, c 3 → 1/4.
		{L2, []float32{1, 0}, map[string]float64{"a": 1 / 1.75, "b": 0.5 / 1.75, "c": 0.25 / 1.75}},
	}
	for _, tc := range tests {
		t.Run(tc.m.String(), func(t *testing.T) {
			c := vecsCollection(t, tc.m, docs)
			got, err := c.ClassifyVector(bg, tc.q, "l", TopK(3))
			if err != nil {
				t.Fatal(err)
			}
			if got.Label != "a" || len(got.Scores) != len(tc.want) {
				t.Fatalf("got %+v, want label a and %v", got, tc.want)
			}
			for l, w := range tc.want {
				if math.Abs(got.Scores[l]-w) > 1e-6 {
					t.Errorf("score of %s = %v, want %v", l, got.Scores[l], w)
				}
			}
		})
	}
}

// TestToolboxHNSWCounts: on the graph index, with filters of every
// selectivity, Similar and Recommend return min(K, matching documents that
// are not examples).
func TestToolboxHNSWCounts(t *testing.T) {
	docs := toolboxDocs(5, 400, 8)
	for i := range docs {
		docs[i].Metadata["r"] = int64(i % 100) // r < x matches x% of the documents
	}
	d, _ := openTest(t, WithEmbedder(nil))
	c := mustCollection(t, d, "h", WithDimension(8))
	if _, err := c.Insert(bg, docs...); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		where string
		k     int
	}{{"r < 1", 10}, {"r < 2", 10}, {"r < 5", 50}, {"r < 50", 10}, {"r < 100", 500}} {
		f, _ := query.Parse(tc.where)
		matching := func(exclude ...string) int {
			return len(bruteForce(t, Cosine, docs, func([]float32) float32 { return 0 }, f, exclude...))
		}
		t.Run(tc.where, func(t *testing.T) {
			// d000 has r = 0, so it matches every filter; d099 only the last.
			for _, id := range []string{"d000", "d099"} {
				res, err := c.Similar(bg, id, TopK(tc.k), WhereExpr(tc.where))
				if err != nil {
					t.Fatal(err)
				}
				if want := min(tc.k, matching(id)); len(res) != want {
					t.Errorf("Similar(%s): %d results, want %d", id, len(res), want)
				}
				for _, s := range []Strategy{AverageVector, BestScore} {
					res, err := c.Recommend(bg, Recommendation{Positive: ExamplesByID(id, "d100"), Negative: ExamplesByID("d001"), Strategy: s}, TopK(tc.k), WhereExpr(tc.where))
					if err != nil {
						t.Fatal(err)
					}
					if want := min(tc.k, matching(id, "d100", "d001")); len(res) != want {
						t.Errorf("Recommend(%v, %s): %d results, want %d", s, id, len(res), want)
					}
				}
			}
		})
	}
}

// countingEmbedder records the sizes of the document batches it is given.
type countingEmbedder struct {
	*hashEmbedder
	batches []int
}

func (c *countingEmbedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	c.batches = append(c.batches, len(texts))
	return c.hashEmbedder.EmbedDocuments(ctx, texts)
}

// TestEmbedBatches: the DB's embed batch size bounds each model call, and
// the vectors come back in order.
func TestEmbedBatches(t *testing.T) {
	e := &countingEmbedder{hashEmbedder: newHashEmbedder("count", 16)}
	d, _ := openTest(t, WithEmbedder(e), WithEmbedBatchSize(4))
	texts := make([]string, 10)
	for i := range texts {
		texts[i] = fmt.Sprintf("text number %d", i)
	}
	vecs, err := d.EmbedDocuments(bg, texts...)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.batches, []int{4, 4, 2}) {
		t.Errorf("batches %v, want [4 4 2]", e.batches)
	}
	for i, v := range vecs {
		if !slices.Equal(v, e.vec(texts[i])) {
			t.Fatalf("vector %d is not text %d's", i, i)
		}
	}
}
