package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vecbolt/vecbolt/db"
)

func searchCommand() *command {
	return &command{
		name:    "search",
		args:    "--db FILE --collection NAME [--k 10] [--mode vector|keyword|hybrid] [--alpha A] [--explain] [--where EXPR] [--min-score S] [--json] QUERY",
		summary: "search a collection by meaning, by keywords, or both",
		help: `Prints the documents that best match QUERY, best first; higher scores are
better. --mode chooses the ranking:
  vector   embeds QUERY with the collection's model; scores are similarities
  keyword  BM25 over the collection's keyword index (no model is loaded)
  hybrid   both, fused (convex combination of normalized scores by default);
           --alpha weighs the vector side from 0 (keyword only) to 1
The default is hybrid for collections with a model and a keyword index,
vector for those without a keyword index, keyword for those without a
model. --explain shows each result's vector and keyword score and rank
(rank 0: not among that side's candidates).

--where filters on metadata, e.g.
  --where 'section = "games" AND words >= 40'
  --where 'tags CONTAINS "use::editing" OR year IN [2023, 2024]'
Operators: = != > >= < <= IN, NOT IN, CONTAINS (lists), EXISTS, AND, OR, NOT,
parentheses. Strings are quoted; integers and floats compare numerically.
`,
		flags: searchFlags,
	}
}

// jsonResult is one search hit in --json output.
type jsonResult struct {
	ID       string         `json:"id"`
	Score    float32        `json:"score"`
	Text     string         `json:"text"`
	Metadata map[string]any `json:"metadata"`
	// A passage of a chunked collection names its document and its byte
	// offsets into the document's text.
	DocID string `json:"doc_id,omitempty"`
	Start *int   `json:"start,omitempty"`
	End   *int   `json:"end,omitempty"`
	*jsonExplain
}

// jsonGroup is one document of search --group --json.
type jsonGroup struct {
	ID       string         `json:"id"`
	Score    float32        `json:"score"`
	Metadata map[string]any `json:"metadata"`
	Passages []jsonResult   `json:"passages"`
}

func toJSONResult(r db.Result) jsonResult {
	out := jsonResult{ID: r.ID, Score: r.Score, Text: r.Text, Metadata: nonNil(r.Metadata)}
	if r.DocID != "" {
		start, end := r.Start, r.End
		out.DocID, out.Start, out.End = r.DocID, &start, &end
	}
	if x := r.Explain; x != nil {
		out.jsonExplain = &jsonExplain{VectorScore: x.VectorScore, VectorRank: x.VectorRank, KeywordScore: x.KeywordScore, KeywordRank: x.KeywordRank}
	}
	return out
}

// jsonExplain is what --explain adds to a --json result.
type jsonExplain struct {
	VectorScore  float32 `json:"vector_score"`
	VectorRank   int     `json:"vector_rank"`
	KeywordScore float32 `json:"keyword_score"`
	KeywordRank  int     `json:"keyword_rank"`
}

func searchFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var f dbFlags
	var coll, where, vec string
	var k, ef, perDoc int
	var minScore float64
	var asJSON, group, explain bool
	var modeName string
	alpha := math.NaN()
	f.register(fs, true)
	fs.StringVar(&coll, "collection", "", "collection `NAME`")
	fs.IntVar(&k, "k", 10, "number of results `N`")
	fs.StringVar(&modeName, "mode", "", "ranking `MODE`: vector, keyword or hybrid (default: hybrid where the collection has a model and a keyword index)")
	fs.Float64Var(&alpha, "alpha", math.NaN(), fmt.Sprintf("hybrid: weight `A` of the vector side, 0..1 (default %g)", db.DefaultAlpha))
	fs.BoolVar(&explain, "explain", false, "show each result's vector and keyword score and rank")
	fs.StringVar(&where, "where", "", "metadata filter `EXPR`")
	fs.Float64Var(&minScore, "min-score", math.Inf(-1), "drop results scoring below `S` (default: none)")
	fs.IntVar(&ef, "ef", 0, "HNSW search breadth `N` for this query (default: the collection's)")
	fs.StringVar(&vec, "vector", "", "search by this `JSON` vector instead of a QUERY text")
	fs.BoolVar(&asJSON, "json", false, `print one JSON array of {"id","score","text","metadata"}, passages adding "doc_id","start","end"`)
	fs.BoolVar(&group, "group", false, `one result per document with its best passages (--k counts documents; with --json {"id","score","metadata","passages"})`)
	fs.IntVar(&perDoc, "passages", 3, "with --group, at most `N` passages per document")
	return func(e *env, pos []string) (err error) {
		if coll == "" {
			return usagef("--collection NAME is required")
		}
		var qvec []float32
		switch {
		case vec != "" && len(pos) != 0:
			return usagef("give a QUERY text or --vector, not both")
		case vec != "":
			if qvec, err = parseVector([]byte(vec)); err != nil {
				return usagef("--vector: %v", err)
			}
		case len(pos) != 1:
			return usagef("search takes exactly one QUERY argument, got %d (quote the query)", len(pos))
		}
		if k < 1 {
			return usagef("--k %d must be at least 1", k)
		}
		if ef < 0 {
			return usagef("--ef %d must not be negative", ef)
		}
		if math.IsNaN(minScore) {
			return usagef("--min-score is NaN")
		}
		opts := []db.SearchOption{db.TopK(k)}
		searchMode := db.ModeDefault
		if modeName != "" {
			if searchMode, err = db.ParseMode(modeName); err != nil || searchMode == db.ModeDefault {
				return usagef("--mode %q: want vector, keyword or hybrid", modeName)
			}
			opts = append(opts, db.WithMode(searchMode))
		}
		if !math.IsNaN(alpha) {
			if alpha < 0 || alpha > 1 {
				return usagef("--alpha %v out of range 0..1", alpha)
			}
			if searchMode != db.ModeHybrid && searchMode != db.ModeDefault {
				return usagef("--alpha applies to --mode hybrid only")
			}
			opts = append(opts, db.WithAlpha(alpha))
		}
		if qvec != nil && searchMode != db.ModeDefault && searchMode != db.ModeVector {
			return usagef("--vector searches by vector only; --mode %s needs a QUERY text", modeName)
		}
		if explain {
			opts = append(opts, db.WithExplain())
		}
		if where != "" {
			opts = append(opts, db.WhereExpr(where))
		}
		if !math.IsInf(minScore, -1) {
			opts = append(opts, db.MinScore(float32(minScore)))
		}
		if ef > 0 {
			opts = append(opts, db.WithEf(ef))
		}
		mode := readText
		if qvec != nil || searchMode == db.ModeKeyword {
			mode = readDocs
		}
		d, done, err := e.open(&f, mode)
		if err != nil {
			return err
		}
		defer done(&err)
		c, err := e.collection(d, coll, nil)
		if err != nil {
			return err
		}
		if group {
			if qvec != nil {
				return usagef("--group needs a QUERY text, not --vector")
			}
			if perDoc < 1 {
				return usagef("--passages %d must be at least 1", perDoc)
			}
			docs, err := c.SearchDocuments(e.ctx, pos[0], append(opts, db.PassagesPerDocument(perDoc))...)
			if err != nil {
				return err
			}
			if asJSON {
				out := make([]jsonGroup, len(docs))
				for i, d := range docs {
					out[i] = jsonGroup{ID: d.ID, Score: d.Score, Metadata: nonNil(d.Metadata), Passages: make([]jsonResult, len(d.Passages))}
					for j, p := range d.Passages {
						out[i].Passages[j] = toJSONResult(p)
					}
				}
				return jsonOut(e.stdout, out)
			}
			printGroups(e.stdout, docs)
			return nil
		}
		var res []db.Result
		if qvec != nil {
			res, err = c.SearchVector(e.ctx, qvec, opts...)
		} else {
			res, err = c.Search(e.ctx, pos[0], opts...)
		}
		if err != nil {
			return err
		}
		if asJSON {
			out := make([]jsonResult, len(res))
			for i, r := range res {
				out[i] = toJSONResult(r)
			}
			return jsonOut(e.stdout, out)
		}
		printResults(e.stdout, res)
		return nil
	}
}

func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// printResults prints hits as a ranked list: rank, score, ID and metadata
// on one line, the text (shortened) indented below.
func printResults(w io.Writer, res []db.Result) {
	if len(res) == 0 {
		fmt.Fprintln(w, "no results")
		return
	}
	for i, r := range res {
		fmt.Fprintf(w, "%2d. %.4f  %s", i+1, r.Score, safeName(r.ID))
		if md := formatMetadata(r.Metadata); md != "" {
			fmt.Fprintf(w, "  [%s]", truncate(md, 110))
		}
		fmt.Fprintln(w)
		if x := r.Explain; x != nil {
			fmt.Fprintf(w, "    %s: vector %s, keyword %s\n", x.Mode, sideLine(x.VectorScore, x.VectorRank), sideLine(x.KeywordScore, x.KeywordRank))
		}
		if r.Text != "" {
			fmt.Fprintf(w, "    %s\n", escapeText(truncate(r.Text, 150)))
		}
	}
}

// printGroups prints documents with their best passages.
func printGroups(w io.Writer, docs []db.DocumentResult) {
	if len(docs) == 0 {
		fmt.Fprintln(w, "no results")
		return
	}
	for i, d := range docs {
		fmt.Fprintf(w, "%2d. %.4f  %s", i+1, d.Score, safeName(d.ID))
		if md := formatMetadata(d.Metadata); md != "" {
			fmt.Fprintf(w, "  [%s]", truncate(md, 110))
		}
		fmt.Fprintln(w)
		for _, p := range d.Passages {
			fmt.Fprintf(w, "    %.4f  bytes %d-%d: %s\n", p.Score, p.Start, p.End, escapeText(truncate(p.Text, 130)))
		}
	}
}

// sideLine renders one side of an explanation.
func sideLine(score float32, rank int) string {
	if rank == 0 {
		return "-"
	}
	return fmt.Sprintf("#%d (%.4f)", rank, score)
}

// formatMetadata renders metadata as sorted key=value pairs.
func formatMetadata(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Scalars first, lists (often long) last, each group by name.
	sort.Slice(keys, func(i, j int) bool {
		_, li := m[keys[i]].([]string)
		_, lj := m[keys[j]].([]string)
		if li != lj {
			return lj
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = formatKey(k) + "=" + formatValue(m[k])
	}
	return strings.Join(parts, " ")
}

// formatKey prints a metadata key, quoted when it would be ambiguous in
// key=value pairs or is unsafe on a terminal.
func formatKey(k string) string {
	if strings.ContainsAny(k, " \"=[],") {
		return strconv.Quote(k)
	}
	return safeName(k)
}

func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		if x == "" || strings.ContainsAny(x, " \"=[],") || needsEscape(x) {
			return strconv.Quote(x)
		}
		return x
	case []string:
		q := make([]string, len(x))
		for i, s := range x {
			q[i] = formatValue(s)
		}
		return "[" + strings.Join(q, ",") + "]"
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0" // keep floats distinguishable from integers
		}
		return s
	default:
		return fmt.Sprint(x)
	}
}

func getCommand() *command {
	return &command{
		name:    "get",
		args:    "--db FILE --collection NAME [--json] [--vector] ID...",
		summary: "print documents by ID",
		help: `Prints the documents with the given IDs, in order. IDs that do not exist are
reported on stderr and make the exit status 1 (the others are still printed).
`,
		flags: getFlags,
	}
}

type jsonDoc struct {
	ID       string         `json:"id"`
	Text     string         `json:"text"`
	Metadata map[string]any `json:"metadata"`
	Vector   []float32      `json:"vector,omitempty"`
}

func getFlags(fs *flag.FlagSet) func(e *env, ids []string) error {
	var f dbFlags
	var coll string
	var asJSON, withVec bool
	f.register(fs, false)
	fs.StringVar(&coll, "collection", "", "collection `NAME`")
	fs.BoolVar(&asJSON, "json", false, `print one JSON array of {"id","text","metadata"}`)
	fs.BoolVar(&withVec, "vector", false, "include the vectors")
	return func(e *env, ids []string) (err error) {
		if coll == "" {
			return usagef("--collection NAME is required")
		}
		if len(ids) == 0 {
			return usagef("get needs at least one ID")
		}
		c, done, err := e.openCollection(&f, coll, readDocs)
		if err != nil {
			return err
		}
		defer done(&err)
		fields := db.FieldText | db.FieldMetadata
		if withVec {
			fields |= db.FieldVector
		}
		docs, getErr := c.GetFields(e.ctx, fields, ids...)
		var nf *db.NotFoundError
		if getErr != nil && !errors.As(getErr, &nf) {
			return getErr
		}
		if asJSON {
			out := make([]jsonDoc, len(docs))
			for i, d := range docs {
				out[i] = jsonDoc{ID: d.ID, Text: d.Text, Metadata: nonNil(d.Metadata)}
				if withVec {
					out[i].Vector = d.Vector
				}
			}
			if err := jsonOut(e.stdout, out); err != nil {
				return err
			}
		} else {
			for i, d := range docs {
				if i > 0 {
					fmt.Fprintln(e.stdout)
				}
				fmt.Fprintf(e.stdout, "id: %s\n", safeName(d.ID))
				if md := formatMetadata(d.Metadata); md != "" {
					fmt.Fprintf(e.stdout, "metadata: %s\n", md)
				}
				if withVec {
					fmt.Fprintf(e.stdout, "vector: %v\n", d.Vector)
				} else {
					// Every vector of a collection has its dimension; no
					// need to read them to say so.
					fmt.Fprintf(e.stdout, "vector: %d dimensions\n", c.Info().Dimension)
				}
				fmt.Fprintf(e.stdout, "text: %s\n", escapeText(d.Text))
			}
		}
		return getErr
	}
}

func deleteCommand() *command {
	return &command{
		name:    "delete",
		args:    "--db FILE --collection NAME (ID... | --where EXPR)",
		summary: "delete documents by ID or by filter",
		help: `Deletes the documents with the given IDs in one transaction and prints how
many existed. IDs that do not exist are not an error. With --where instead
of IDs, deletes every document matching the filter, in one transaction,
and prints how many it deleted. Giving both is a usage error.
`,
		flags: deleteFlags,
	}
}

func deleteFlags(fs *flag.FlagSet) func(e *env, ids []string) error {
	var f dbFlags
	var coll, where string
	f.register(fs, false)
	fs.StringVar(&coll, "collection", "", "collection `NAME`")
	fs.StringVar(&where, "where", "", "delete every document matching this filter `EXPR`")
	return func(e *env, ids []string) (err error) {
		if coll == "" {
			return usagef("--collection NAME is required")
		}
		switch {
		case where != "" && len(ids) > 0:
			return usagef("give IDs or --where, not both")
		case where == "" && len(ids) == 0:
			return usagef("delete needs at least one ID, or --where EXPR")
		}
		filter, err := parseWhere(where)
		if err != nil {
			return err
		}
		if _, err := existing(f.path); err != nil {
			return err
		}
		c, done, err := e.openCollection(&f, coll, writeDocs)
		if err != nil {
			return err
		}
		defer done(&err)
		if filter != nil {
			n, err := c.DeleteWhere(e.ctx, filter)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "deleted %s\n", plural(n, "document"))
			return nil
		}
		n, err := c.Delete(e.ctx, ids...)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "deleted %d of %d documents\n", n, len(ids))
		return nil
	}
}

// collectionJSON describes a collection in --json output.
type collectionJSON struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
	// Passages is a chunked collection's number of passages.
	Passages       int        `json:"passages,omitempty"`
	Dimension      int        `json:"dimension"`
	Metric         string     `json:"metric"`
	Model          *modelJSON `json:"model"`
	Index          string     `json:"index"`
	M              int        `json:"m,omitempty"`
	EfConstruction int        `json:"ef_construction,omitempty"`
	EfSearch       int        `json:"ef_search,omitempty"`
	Quantization   string     `json:"quantization,omitempty"`
	// Float16 is set when the file stores the vectors as float16.
	Float16 bool `json:"float16,omitempty"`
	// Recall is the HNSW index's recall measurement (db.RecallStats).
	Recall  *recallJSON `json:"recall,omitempty"`
	Created time.Time   `json:"created"`
	// Fields maps each metadata field to its recorded type.
	Fields map[string]db.FieldType `json:"fields,omitempty"`
	// FullText is the keyword index's configuration; absent without one.
	FullText *db.FullTextConfig `json:"full_text,omitempty"`
}

// recallJSON is db.RecallStats in --json output.
type recallJSON struct {
	// Target is the recall@10 the automatic ef is chosen for (0: fixed
	// efSearch, or measuring off).
	Target float64 `json:"target"`
	// Ef is the efSearch searches use by default now.
	Ef int `json:"ef"`
	// MeasuredRecall at MeasuredEf, over Queries stored vectors when the
	// collection held Count documents; absent before the first measurement.
	MeasuredRecall *float64   `json:"measured_recall,omitempty"`
	MeasuredEf     int        `json:"measured_ef,omitempty"`
	Met            bool       `json:"met,omitempty"`
	Queries        int        `json:"queries,omitempty"`
	Count          int        `json:"count,omitempty"`
	Measured       *time.Time `json:"measured,omitempty"`
}

func toRecallJSON(r db.RecallStats) *recallJSON {
	out := &recallJSON{Target: r.Target, Ef: r.Ef}
	if !r.Measured.IsZero() {
		rec, at := r.Recall, r.Measured.UTC()
		out.MeasuredRecall, out.MeasuredEf, out.Met, out.Queries, out.Count, out.Measured = &rec, r.MeasuredEf, r.Met, r.Queries, r.Count, &at
	}
	return out
}

// recallLine describes the default efSearch for stats.
func recallLine(c db.CollectionInfo) string {
	r := c.Recall
	var s string
	switch {
	case c.EfSearch > 0:
		s = strconv.Itoa(c.EfSearch)
	case r.Target > 0 && !r.Measured.IsZero() && r.MeasuredEf == r.Ef:
		s = fmt.Sprintf("auto, %d for recall@10 %.2f", r.Ef, r.Target)
	default:
		s = fmt.Sprintf("auto, %d now", r.Ef)
	}
	if !r.Measured.IsZero() {
		s += fmt.Sprintf("; measured recall@10 %.3f at ef %d on %d documents", r.Recall, r.MeasuredEf, r.Count)
	}
	return s
}

type modelJSON struct {
	Name    string `json:"name"`
	Hash    string `json:"hash"`
	Dim     int    `json:"dimension"`
	Pooling string `json:"pooling"`
}

func toCollectionJSON(c db.CollectionInfo) collectionJSON {
	out := collectionJSON{
		Name: c.Name, Count: c.Count, Passages: c.Passages, Dimension: c.Dimension, Metric: c.Metric.String(),
		Index: c.Index, Created: c.Created.UTC(), Fields: c.Fields, FullText: c.FullText, Float16: c.Float16,
	}
	if c.Index == db.IndexHNSW {
		out.M, out.EfConstruction, out.EfSearch, out.Quantization = c.M, c.EfConstruction, c.EfSearch, c.Quantization
		out.Recall = toRecallJSON(c.Recall)
	}
	if c.Model.Name != "" || c.Model.Hash != "" {
		out.Model = &modelJSON{Name: c.Model.Name, Hash: c.Model.Hash, Dim: c.Model.Dim, Pooling: c.Model.Pooling}
	}
	return out
}

func collectionsCommand() *command {
	return &command{
		name:    "collections",
		args:    "--db FILE [--json]",
		summary: "list the collections",
		help: `Lists the collections with their document counts.
`,
		flags: collectionsFlags,
	}
}

func collectionsFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var f dbFlags
	var asJSON bool
	f.register(fs, false)
	fs.BoolVar(&asJSON, "json", false, "print one JSON array")
	return func(e *env, pos []string) (err error) {
		if len(pos) != 0 {
			return usagef("collections takes no arguments")
		}
		d, done, err := e.open(&f, readDocs)
		if err != nil {
			return err
		}
		defer done(&err)
		infos, err := d.Collections(e.ctx)
		if err != nil {
			return err
		}
		if asJSON {
			out := make([]collectionJSON, len(infos))
			for i, c := range infos {
				out[i] = toCollectionJSON(c)
			}
			return jsonOut(e.stdout, out)
		}
		if len(infos) == 0 {
			fmt.Fprintln(e.stdout, "no collections")
			return nil
		}
		for _, c := range infos {
			fmt.Fprintf(e.stdout, "%s\t%d documents\n", safeName(c.Name), c.Count)
		}
		return nil
	}
}

func statsCommand() *command {
	return &command{
		name:    "stats",
		args:    "--db FILE [--collection NAME] [--json]",
		summary: "show file size and collection configuration",
		help: `Prints the file size and, for each collection (or the one named), its
document count, dimension, metric, model identity, index parameters and
metadata fields with their recorded types (string, number, bool, strings
for lists of strings, or mixed for a field whose documents, written before
types were recorded, hold several types).
`,
		flags: statsFlags,
	}
}

type statsJSON struct {
	File        string           `json:"file"`
	FileSize    int64            `json:"file_size"`
	Collections []collectionJSON `json:"collections"`
}

func statsFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var f dbFlags
	var coll string
	var asJSON bool
	f.register(fs, false)
	fs.StringVar(&coll, "collection", "", "only this collection `NAME`")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	return func(e *env, pos []string) (err error) {
		if len(pos) != 0 {
			return usagef("stats takes no arguments")
		}
		d, done, err := e.open(&f, readDocs)
		if err != nil {
			return err
		}
		defer done(&err)
		size, err := d.FileSize()
		if err != nil {
			return err
		}
		infos, err := d.Collections(e.ctx)
		if err != nil {
			return err
		}
		if coll != "" {
			var keep []db.CollectionInfo
			for _, c := range infos {
				if c.Name == coll {
					keep = append(keep, c)
				}
			}
			if len(keep) == 0 {
				return fmt.Errorf("%w: %q", db.ErrCollectionNotFound, coll)
			}
			infos = keep
		}
		st := statsJSON{File: f.path, FileSize: size, Collections: make([]collectionJSON, len(infos))}
		for i, c := range infos {
			st.Collections[i] = toCollectionJSON(c)
		}
		if asJSON {
			return jsonOut(e.stdout, st)
		}
		fmt.Fprintf(e.stdout, "file: %s (%s)\ncollections: %d\n", escapeText(f.path), humanBytes(size), len(infos))
		for i, c := range st.Collections {
			fmt.Fprintf(e.stdout, "\ncollection %s\n", safeName(c.Name))
			fmt.Fprintf(e.stdout, "  documents:  %d\n", c.Count)
			fmt.Fprintf(e.stdout, "  dimension:  %d\n", c.Dimension)
			fmt.Fprintf(e.stdout, "  metric:     %s\n", c.Metric)
			if c.Float16 {
				fmt.Fprintf(e.stdout, "  stored as:  float16\n")
			}
			if c.Model != nil {
				fmt.Fprintf(e.stdout, "  model:      %s (sha256 %s, dim %d, %s pooling)\n", safeName(c.Model.Name), escapeText(c.Model.Hash), c.Model.Dim, escapeText(c.Model.Pooling))
			} else {
				fmt.Fprintf(e.stdout, "  model:      none (caller-supplied vectors)\n")
			}
			if c.Index == db.IndexHNSW {
				q := ""
				if c.Quantization != "" {
					q = ", " + escapeText(c.Quantization) + " vectors"
				}
				ef := recallLine(infos[i])
				fmt.Fprintf(e.stdout, "  index:      hnsw (M=%d, efConstruction=%d, efSearch=%s%s)\n", c.M, c.EfConstruction, ef, q)
			} else {
				fmt.Fprintf(e.stdout, "  index:      %s\n", escapeText(c.Index))
			}
			fmt.Fprintf(e.stdout, "  created:    %s\n", c.Created.Format(time.RFC3339))
			fmt.Fprintf(e.stdout, "  fields:     %s\n", fieldsLine(c.Fields))
		}
		return nil
	}
}

// maxFieldsShown bounds the fields line of stats; --json lists them all.
const maxFieldsShown = 20

// fieldsLine lists metadata fields with their types, in name order.
func fieldsLine(fields map[string]db.FieldType) string {
	if len(fields) == 0 {
		return "none"
	}
	names := slices.Sorted(maps.Keys(fields))
	parts := make([]string, 0, min(len(names), maxFieldsShown)+1)
	for _, n := range names[:min(len(names), maxFieldsShown)] {
		parts = append(parts, safeName(n)+" "+string(fields[n]))
	}
	if len(names) > maxFieldsShown {
		parts = append(parts, fmt.Sprintf("and %d more (--json lists them all)", len(names)-maxFieldsShown))
	}
	return strings.Join(parts, ", ")
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func reembedCommand() *command {
	return &command{
		name:    "reembed",
		args:    "--db FILE --collection NAME " + modelArg,
		summary: "rebuild a collection's vectors with another model",
		help: `Re-embeds every document of the collection from its text with the given
model (default: the built-in model) and records that model as the
collection's. Nothing changes unless it completes: the new vectors are
written in one transaction at the end.
`,
		flags: reembedFlags,
	}
}

func reembedFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	exec := rebuildCollection(fs, "reembed", "re-embedding", true, writeText,
		func(e *env, d *db.DB, coll string, progress func(int, int)) error {
			return d.Reembed(e.ctx, coll, progress)
		},
		func(e *env, d *db.DB, coll string, total int) error {
			emb, err := d.Embedder()
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "re-embedded %d documents of %q with %s\n", total, coll, escapeText(fmt.Sprint(emb.Identity())))
			return nil
		})
	setUsage(fs, "model", "the new "+modelUsage)
	return exec
}
