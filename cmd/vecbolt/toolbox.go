package main

import (
	"cmp"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/vecbolt/vecbolt/db"
)

// The commands of this file show what embeddings do besides search: the
// vectors themselves (embed), how alike texts are (similarity), more like
// a stored document (similar), recommendations from examples (recommend)
// and labels by a vote of neighbours (classify). Each is one call of the
// library (db.EmbedWith, db.SimilarityWith, Collection.Similar,
// Recommend and Classify).

func embedCommand() *command {
	return &command{
		name:    "embed",
		args:    modelArg + " [--query] [--json] TEXT...",
		summary: "print the vectors a model gives texts",
		help: `Embeds each TEXT and prints its vector, one line of numbers per text in
order. Texts are embedded as documents (what add stores) unless --query
embeds them as search queries (what search compares with); some models
embed the two differently. The model is the built-in one unless --model
names another.
`,
		flags: embedFlags,
	}
}

// jsonEmbedding is embed's --json output.
type jsonEmbedding struct {
	Model   string      `json:"model"`
	Side    string      `json:"side"`
	Texts   []string    `json:"texts"`
	Vectors [][]float32 `json:"vectors"`
}

func embedFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var model string
	var asJSON, asQuery bool
	fs.StringVar(&model, "model", "", modelUsage)
	fs.BoolVar(&asQuery, "query", false, "embed the texts as search queries (default: as documents)")
	fs.BoolVar(&asJSON, "json", false, `print {"model","side","texts","vectors"}`)
	return func(e *env, pos []string) (err error) {
		if len(pos) == 0 {
			return usagef("embed takes at least one TEXT argument")
		}
		m, done, err := e.model(model)
		if err != nil {
			return err
		}
		defer done()
		side := db.DocumentSide
		if asQuery {
			side = db.QuerySide
		}
		vecs, err := db.EmbedWith(e.ctx, m, side, pos...)
		if err != nil {
			return err
		}
		if asJSON {
			return jsonOut(e.stdout, jsonEmbedding{Model: m.Identity().Name, Side: side.String(), Texts: pos, Vectors: vecs})
		}
		for _, v := range vecs {
			parts := make([]string, len(v))
			for i, x := range v {
				parts[i] = strconv.FormatFloat(float64(x), 'g', -1, 32)
			}
			fmt.Fprintln(e.stdout, strings.Join(parts, " "))
		}
		return nil
	}
}

func similarityCommand() *command {
	return &command{
		name:    "similarity",
		args:    modelArg + " [--json] TEXT TEXT...",
		summary: "print the cosine similarity of every pair of texts",
		help: `Embeds the texts (as documents) and prints the cosine similarity of every
pair: 1 is the same direction, 0 unrelated. The model is the built-in one
unless --model names another. --json prints the whole matrix, row i
column j being the similarity of text i and text j.
`,
		flags: similarityFlags,
	}
}

// jsonSimilarity is similarity's --json output.
type jsonSimilarity struct {
	Texts  []string    `json:"texts"`
	Matrix [][]float32 `json:"matrix"`
}

func similarityFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var model string
	var asJSON bool
	fs.StringVar(&model, "model", "", modelUsage)
	fs.BoolVar(&asJSON, "json", false, `print {"texts","matrix"}`)
	return func(e *env, pos []string) (err error) {
		if len(pos) < 2 {
			return usagef("similarity takes at least two TEXT arguments, got %d", len(pos))
		}
		m, done, err := e.model(model)
		if err != nil {
			return err
		}
		defer done()
		mat, err := db.SimilarityWith(e.ctx, m, pos...)
		if err != nil {
			return err
		}
		if asJSON {
			return jsonOut(e.stdout, jsonSimilarity{Texts: pos, Matrix: mat})
		}
		for i, t := range pos {
			fmt.Fprintf(e.stdout, "%2d  %s\n", i+1, escapeText(truncate(t, 100)))
		}
		fmt.Fprintln(e.stdout)
		for i := range pos {
			for j := i + 1; j < len(pos); j++ {
				fmt.Fprintf(e.stdout, "%2d ~ %-2d  %7.4f\n", i+1, j+1, mat[i][j])
			}
		}
		return nil
	}
}

func similarCommand() *command {
	return &command{
		name:    "similar",
		args:    "--db FILE --collection NAME [--k 10] [--where EXPR] [--json] ID",
		summary: "find the documents most like a stored one",
		help: `Searches with the stored vector of document ID and prints the nearest other
documents, best first ("more like this"). The document itself is left out;
--where filters as in search. Needs no model.
`,
		flags: similarFlags,
	}
}

func similarFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var f dbFlags
	var coll, where string
	var k int
	var asJSON bool
	f.register(fs, false)
	fs.StringVar(&coll, "collection", "", "collection `NAME`")
	fs.IntVar(&k, "k", 10, "number of results `N`")
	fs.StringVar(&where, "where", "", "metadata filter `EXPR`")
	fs.BoolVar(&asJSON, "json", false, `print one JSON array of {"id","score","text","metadata"}`)
	return func(e *env, pos []string) (err error) {
		if coll == "" {
			return usagef("--collection NAME is required")
		}
		if len(pos) != 1 {
			return usagef("similar takes exactly one ID argument, got %d", len(pos))
		}
		opts, err := toolboxSearchOptions(k, where)
		if err != nil {
			return err
		}
		c, done, err := e.openCollection(&f, coll, readDocs)
		if err != nil {
			return err
		}
		defer done(&err)
		res, err := c.Similar(e.ctx, pos[0], opts...)
		if err != nil {
			return err
		}
		return e.printHits(res, asJSON)
	}
}

// toolboxSearchOptions checks --k and --where.
func toolboxSearchOptions(k int, where string) ([]db.SearchOption, error) {
	if k < 1 {
		return nil, usagef("--k %d must be at least 1", k)
	}
	opts := []db.SearchOption{db.TopK(k)}
	if where != "" {
		opts = append(opts, db.WhereExpr(where))
	}
	return opts, nil
}

// printHits prints results as search does.
func (e *env) printHits(res []db.Result, asJSON bool) error {
	if asJSON {
		out := make([]jsonResult, len(res))
		for i, r := range res {
			out[i] = jsonResult{ID: r.ID, Score: r.Score, Text: r.Text, Metadata: nonNil(r.Metadata)}
		}
		return jsonOut(e.stdout, out)
	}
	printResults(e.stdout, res)
	return nil
}

// idList is a flag of document IDs: comma-separated, and repeatable.
type idList []string

func (l *idList) String() string { return strings.Join(*l, ",") }

// textList is a repeatable flag of texts, one text per occurrence.
type textList []string

func (l *textList) String() string { return strings.Join(*l, " | ") }

func (l *textList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// Set adds the IDs of one occurrence of the flag, all of them or, when one
// is blank, none.
func (l *idList) Set(s string) error {
	var ids []string
	for id := range strings.SplitSeq(s, ",") {
		if id = strings.TrimSpace(id); id == "" {
			return fmt.Errorf("empty ID in %q", s)
		}
		ids = append(ids, id)
	}
	*l = append(*l, ids...)
	return nil
}

func recommendCommand() *command {
	return &command{
		name:    "recommend",
		args:    "--db FILE --collection NAME --positive ID[,ID...] [--negative ID[,ID...]] [--positive-text TEXT] [--negative-text TEXT] [--strategy average|best] [--k 10] [--where EXPR] [--json]",
		summary: "recommend documents from liked and disliked examples",
		help: `Prints the documents that best fit the positive examples and least the
negative ones, best first; the examples themselves are left out. --positive
and --negative take stored document IDs, comma-separated or repeated;
--positive-text and --negative-text take a text each (repeat them for more),
embedded as a query with the collection's model, and may stand alone.

Strategies:
  average  one search with the mean of the positives minus half the mean of
           the negatives (the default)
  best     each candidate scores its best similarity to a positive minus its
           best similarity to a negative; candidates are the max(4k, 40)
           nearest documents of each positive example
--where filters as in search. Needs no model unless texts are given.
`,
		flags: recommendFlags,
	}
}

func recommendFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var f dbFlags
	var coll, where, strategy string
	var positive, negative idList
	var posText, negText textList
	var k int
	var asJSON bool
	f.register(fs, true)
	fs.StringVar(&coll, "collection", "", "collection `NAME`")
	fs.Var(&positive, "positive", "IDs of liked documents, `ID[,ID...]` (may repeat; this or --positive-text is required)")
	fs.Var(&negative, "negative", "IDs of disliked documents, `ID[,ID...]` (may repeat)")
	fs.Var(&posText, "positive-text", "a `TEXT` describing what is wanted (may repeat)")
	fs.Var(&negText, "negative-text", "a `TEXT` describing what is not wanted (may repeat)")
	fs.StringVar(&strategy, "strategy", "average", "how examples combine: `average|best`")
	fs.IntVar(&k, "k", 10, "number of results `N`")
	fs.StringVar(&where, "where", "", "metadata filter `EXPR`")
	fs.BoolVar(&asJSON, "json", false, `print one JSON array of {"id","score","text","metadata"}`)
	return func(e *env, pos []string) (err error) {
		if coll == "" {
			return usagef("--collection NAME is required")
		}
		if len(positive) == 0 && len(posText) == 0 {
			return usagef("--positive ID[,ID...] or --positive-text TEXT is required")
		}
		if len(pos) != 0 {
			return usagef("recommend takes no positional arguments, got %d (examples go in --positive and --negative)", len(pos))
		}
		s, err := db.ParseStrategy(strategy)
		if err != nil {
			return usagef("--strategy %q: want average or best", strategy)
		}
		opts, err := toolboxSearchOptions(k, where)
		if err != nil {
			return err
		}
		mode := readDocs
		if len(posText)+len(negText) > 0 {
			mode = readText
		}
		c, done, err := e.openCollection(&f, coll, mode)
		if err != nil {
			return err
		}
		defer done(&err)
		withTexts := func(ids idList, texts textList) []db.Example {
			ex := db.ExamplesByID(ids...)
			for _, t := range texts {
				ex = append(ex, db.Example{Text: t})
			}
			return ex
		}
		res, err := c.Recommend(e.ctx, db.Recommendation{
			Positive: withTexts(positive, posText),
			Negative: withTexts(negative, negText),
			Strategy: s,
		}, opts...)
		if err != nil {
			return err
		}
		return e.printHits(res, asJSON)
	}
}

func classifyCommand() *command {
	return &command{
		name:    "classify",
		args:    "--db FILE --collection NAME --field NAME [--k 10] [--where EXPR] [--json] TEXT",
		summary: "label a text by a vote of its nearest labelled documents",
		help: `Finds the k documents nearest to TEXT among those that have the metadata
field (the labelled ones; --where narrows them further) and prints the
label their vote gives, with each label's share of the vote. Votes are
weighted by similarity; the shares sum to 1.
`,
		flags: classifyFlags,
	}
}

// jsonClassification is classify's --json output.
type jsonClassification struct {
	Label  string             `json:"label"`
	Scores map[string]float64 `json:"scores"`
}

func classifyFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var f dbFlags
	var coll, where, field string
	var k int
	var asJSON bool
	f.register(fs, true)
	fs.StringVar(&coll, "collection", "", "collection `NAME`")
	fs.StringVar(&field, "field", "", "metadata field holding the labels, `NAME` (required)")
	fs.IntVar(&k, "k", 10, "number of voting neighbours `N`")
	fs.StringVar(&where, "where", "", "metadata filter `EXPR` on the voters")
	fs.BoolVar(&asJSON, "json", false, `print {"label","scores"}`)
	return func(e *env, pos []string) (err error) {
		if coll == "" {
			return usagef("--collection NAME is required")
		}
		if field == "" {
			return usagef("--field NAME is required")
		}
		if len(pos) != 1 {
			return usagef("classify takes exactly one TEXT argument, got %d (quote the text)", len(pos))
		}
		opts, err := toolboxSearchOptions(k, where)
		if err != nil {
			return err
		}
		c, done, err := e.openCollection(&f, coll, readText)
		if err != nil {
			return err
		}
		defer done(&err)
		cl, err := c.Classify(e.ctx, pos[0], field, opts...)
		if err != nil {
			return err
		}
		if asJSON {
			return jsonOut(e.stdout, jsonClassification{Label: cl.Label, Scores: cl.Scores})
		}
		fmt.Fprintln(e.stdout, escapeText(cl.Label))
		labels := slices.SortedFunc(maps.Keys(cl.Scores), func(a, b string) int {
			return cmp.Or(cmp.Compare(cl.Scores[b], cl.Scores[a]), cmp.Compare(a, b))
		})
		for _, l := range labels {
			fmt.Fprintf(e.stdout, "  %.4f  %s\n", cl.Scores[l], escapeText(l))
		}
		return nil
	}
}
