package db

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/vecbolt/vecbolt/storage"
)

// DocumentResult is one document of SearchDocuments with its best passages.
type DocumentResult struct {
	// ID is the document's ID.
	ID string
	// Score is the document's: in vector mode its best passage's score
	// plus DocumentWeight times its whole text's similarity to the query,
	// in keyword mode its best passage's BM25 score, in hybrid mode the
	// fused score (see SearchDocuments).
	Score float32
	// Metadata is the document's (with FieldMetadata, the default).
	Metadata map[string]any
	// Passages are the document's best passages, best first, at most
	// PassagesPerDocument of them.
	Passages []Result
}

// PassagesPerDocument sets how many passages SearchDocuments keeps per
// document (default 3).
func PassagesPerDocument(n int) SearchOption {
	return func(o *searchOptions) { o.perDoc = n }
}

// DefaultDocumentWeight is SearchDocuments' weight of a document's whole-
// text similarity. Chosen on the man-page dev split with the built-in
// model, together with the passage size and DefaultLengthPenalty (bench
// ragdev; BENCHMARKS.md, "Long documents"): the best passage alone misses
// pages whose topic is spread over many passages, and the whole page's
// vector alone is the blur that chunking avoids. Adding it helped at every
// passage size tried (12 to 512 tokens); with 16-token passages
// overlapping by 8 and the length penalty, weight 1.5 gave dev Recall@10
// 0.886 against 0.867 for weight 1 and 0.5 (two queries of 105).
const DefaultDocumentWeight = 1.5

// DefaultLengthPenalty is SearchDocuments' length penalty (see
// LengthPenalty). A document's best passage is the maximum of as many
// similarities as it has passages, and the maximum of more draws is
// higher by chance: long documents won queries that a short document
// answered. Subtracting 0.04·ln(passages) raised dev Recall@10 from 0.848
// to 0.886 and nDCG@10 from 0.653 to 0.676 with 16-token passages (from
// 0.810 to 0.819 and 0.615 to 0.614 with 32-token ones); 0.02 to 0.08 were
// tried (bench ragdev; BENCHMARKS.md, "Long documents").
const DefaultLengthPenalty = 0.04

// LengthPenalty sets how much SearchDocuments subtracts from a document's
// vector score per unit of the natural logarithm of its passage count
// (default DefaultLengthPenalty; 0 for none). Like DocumentWeight it
// applies to vector scores only, and only in chunked collections. It must
// not be negative.
func LengthPenalty(c float64) SearchOption {
	return func(o *searchOptions) { o.lenPenalty, o.hasLenPenalty = c, true }
}

// DocumentWeight sets how much a document's whole-text similarity to the
// query adds to its best passage's score in SearchDocuments (default
// DefaultDocumentWeight; 0 ranks documents by their best passage alone).
// It applies to vector scores only: to the vector side of a hybrid search,
// before fusion, and not at all to a keyword search. It must not be
// negative.
func DocumentWeight(w float64) SearchOption {
	return func(o *searchOptions) { o.docWeight, o.hasDocWeight = w, true }
}

// documentCandidates is how many passages SearchDocuments asks for per
// document wanted, at first: a document has several passages near a query
// that matches it, and too few candidates leave fewer than TopK distinct
// documents. The search is repeated with four times as many until TopK
// documents are found or the passages run out.
const documentCandidates = 8

// SearchDocuments searches a chunked collection's passages and returns
// the best documents, best first, each holding its best passages (see
// PassagesPerDocument). TopK counts documents. Filters apply to the
// documents' metadata. On a collection that is not chunked, each document
// is its own single passage and scores as in Search.
//
// How a document scores depends on the search mode (WithMode; the default
// is Search's):
//   - vector: its best passage's similarity plus DocumentWeight times the
//     similarity of its whole text to the query;
//   - keyword: its best passage's BM25 score (DocumentWeight does not
//     apply: a cosine added to BM25 scores would mean nothing);
//   - hybrid: the fusion (WithFusion, WithAlpha, WithRRFK, as in Search) of
//     the document rankings of the two other modes, HybridCandidates(TopK)
//     documents from each. The whole-text term is thus applied on the
//     vector side before fusion, where it is a similarity like the
//     passage's; the vector side's score enters the fusion divided by
//     1 + DocumentWeight, which keeps it within the metric's range for
//     the normalization of the convex fusions. A document's passages are
//     the vector side's best first, then the keyword side's, and its Score
//     is the fused score. MinScore applies to that fused score.
func (c *Collection) SearchDocuments(ctx context.Context, text string, opts ...SearchOption) ([]DocumentResult, error) {
	o, err := parseSearchOptions(opts)
	if err != nil {
		return nil, err
	}
	o.where = "" // parsed into o.filter; o is passed on whole below
	perDoc := o.perDoc
	if perDoc == 0 {
		perDoc = 3
	}
	if perDoc < 1 || perDoc > maxK {
		return nil, fmt.Errorf("%w: PassagesPerDocument %d out of range 1..%d", ErrInvalidArgument, perDoc, maxK)
	}
	weight := DefaultDocumentWeight
	if o.hasDocWeight {
		weight = o.docWeight
	}
	if math.IsNaN(weight) || math.IsInf(weight, 0) || weight < 0 {
		return nil, fmt.Errorf("%w: DocumentWeight %v must be finite and not negative", ErrInvalidArgument, weight)
	}
	penalty := DefaultLengthPenalty
	if o.hasLenPenalty {
		penalty = o.lenPenalty
	}
	if math.IsNaN(penalty) || math.IsInf(penalty, 0) || penalty < 0 {
		return nil, fmt.Errorf("%w: LengthPenalty %v must be finite and not negative", ErrInvalidArgument, penalty)
	}
	vw := vectorTerms{weight: weight, penalty: penalty}
	leave, st, err := c.enter(false)
	if err != nil {
		return nil, err
	}
	mode, err := c.resolveMode(st, o.mode)
	leave()
	if err != nil {
		return nil, err
	}
	o.mode = mode
	switch mode {
	case ModeKeyword:
		return c.rankDocuments(ctx, text, o, o.k, perDoc, vectorTerms{})
	case ModeVector:
		return c.rankDocuments(ctx, text, o, o.k, perDoc, vw)
	}
	depth := HybridCandidates(o.k)
	side := o
	side.hasMin, side.explain = false, false
	side.mode = ModeVector
	vdocs, err := c.rankDocuments(ctx, text, side, depth, perDoc, vw)
	if err != nil {
		return nil, err
	}
	side.mode = ModeKeyword
	kdocs, err := c.rankDocuments(ctx, text, side, depth, perDoc, vectorTerms{})
	if err != nil {
		return nil, err
	}
	return fuseDocuments(vdocs, kdocs, o, st.metric, weight, perDoc), nil
}

// fuseDocuments fuses the document rankings of a hybrid SearchDocuments
// (see there) with Search's fusion, each document standing for one
// label.
func fuseDocuments(vdocs, kdocs []DocumentResult, o searchOptions, m Metric, weight float64, perDoc int) []DocumentResult {
	byID := make(map[string]uint64)
	var docs []DocumentResult
	label := func(d DocumentResult) uint64 {
		l, ok := byID[d.ID]
		if !ok {
			l = uint64(len(docs))
			byID[d.ID] = l
			docs = append(docs, DocumentResult{ID: d.ID, Metadata: d.Metadata})
		}
		return l
	}
	vec := make([]ranked, len(vdocs))
	for i, d := range vdocs {
		vec[i] = ranked{label: label(d), score: float32(float64(d.Score) / (1 + weight))}
	}
	kw := make([]ranked, len(kdocs))
	for i, d := range kdocs {
		kw[i] = ranked{label: label(d), score: d.Score}
	}
	// Passages: the vector side's, then the keyword side's not among them.
	for _, side := range [][]DocumentResult{vdocs, kdocs} {
		for _, d := range side {
			dst := &docs[byID[d.ID]]
			for _, p := range d.Passages {
				if len(dst.Passages) < perDoc && !slices.ContainsFunc(dst.Passages, func(q Result) bool { return q.ID == p.ID }) {
					dst.Passages = append(dst.Passages, p)
				}
			}
		}
	}
	var out []DocumentResult
	for _, f := range fuseBy(vec, kw, o, m) {
		if len(out) == o.k || (o.hasMin && float32(f.score) < o.minScore) {
			break
		}
		d := docs[f.label]
		d.Score = float32(f.score)
		if o.explain {
			for i := range d.Passages {
				d.Passages[i].Explain = &Explanation{Mode: ModeHybrid, VectorScore: f.vecScore, VectorRank: f.vecRank, KeywordScore: f.kwScore, KeywordRank: f.kwRank}
			}
		}
		out = append(out, d)
	}
	return out
}

// vectorTerms are what SearchDocuments adds to a document's best passage
// score in vector mode: weight times its whole text's similarity, less
// penalty times the logarithm of its passage count. The zero value adds
// nothing (keyword mode).
type vectorTerms struct{ weight, penalty float64 }

// rankDocuments is SearchDocuments in one concrete mode (o.mode), for the
// top k documents: it searches passages and groups them, asking for more
// passages until k documents are found or the passages run out, then
// adds the document terms t.
func (c *Collection) rankDocuments(ctx context.Context, text string, o searchOptions, k, perDoc int, t vectorTerms) ([]DocumentResult, error) {
	want := min(maxK, k*documentCandidates)
	for {
		so := o
		so.k = want
		res, err := c.Search(ctx, text, func(p *searchOptions) { *p = so })
		if err != nil {
			return nil, err
		}
		docs := groupPassages(res, want, perDoc)
		if len(docs) >= k || len(res) < want || want == maxK {
			if err := c.addDocumentScores(ctx, text, docs, t); err != nil {
				return nil, err
			}
			return docs[:min(k, len(docs))], nil
		}
		want = min(maxK, 4*want)
	}
}

// addDocumentScores adds the document terms t (see vectorTerms) to each
// document's score and sorts the documents by it. Documents without a
// whole-text vector (a collection that is not chunked) keep their score.
// The query is embedded again here, which leaves Search's own path alone;
// it costs one query embedding.
func (c *Collection) addDocumentScores(ctx context.Context, text string, docs []DocumentResult, t vectorTerms) error {
	st := c.st.Load()
	if t == (vectorTerms{}) || len(docs) == 0 || !st.chunked() || st.emb == nil {
		return nil
	}
	var q []float32
	if t.weight != 0 {
		var err error
		if q, err = st.emb.EmbedQuery(ctx, text); err != nil {
			return fmt.Errorf("vecbolt: embed query: %w", err)
		}
	}
	err := c.db.store.View(func(tx *storage.Tx) error {
		ct, err := tx.Collection(c.name)
		if err != nil {
			return err
		}
		var buf []float32
		for i := range docs {
			v, n, ok, err := ct.ParentVector(docs[i].ID, buf[:0])
			if err != nil {
				return err
			}
			if !ok {
				continue // deleted since the search
			}
			if n > 1 {
				docs[i].Score -= float32(t.penalty * math.Log(float64(n)))
			}
			if t.weight == 0 || len(v) != len(q) {
				continue // written without a whole-text vector
			}
			buf = v
			docs[i].Score += float32(t.weight) * similarity(st.metric, q, v)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("vecbolt: search collection %q: %w", c.name, err)
	}
	slices.SortStableFunc(docs, func(a, b DocumentResult) int { return cmp.Compare(b.Score, a.Score) })
	return nil
}

// groupPassages groups passages, best first, into at most k documents of
// at most perDoc passages each, ordered by their best passage.
func groupPassages(res []Result, k, perDoc int) []DocumentResult {
	var out []DocumentResult
	at := make(map[string]int)
	for _, r := range res {
		doc := r.DocID
		if doc == "" {
			doc = r.ID
		}
		i, ok := at[doc]
		if !ok {
			if len(out) == k {
				continue
			}
			i = len(out)
			at[doc] = i
			out = append(out, DocumentResult{ID: doc, Score: r.Score, Metadata: r.Metadata})
		}
		if len(out[i].Passages) < perDoc {
			out[i].Passages = append(out[i].Passages, r)
		}
	}
	return out
}

// Context is a query's best passages that fit a token budget, ready to be
// pasted into a prompt (String) or used as data.
type Context struct {
	Query string
	// Passages are ordered by score, best first. Passages of one document
	// that overlap or touch are merged into one.
	Passages []ContextPassage
	// Tokens is the passages' total token count by the collection's model
	// (its tokenizer, or chunk.WordCounter for a model without one), at
	// most the budget.
	Tokens int
	// Budget is the budget the passages were chosen for.
	Budget int
}

// ContextPassage is one cited passage of a Context: the text of document
// DocID from byte Start to End.
type ContextPassage struct {
	DocID      string
	Start, End int
	Text       string
	// Headings is the Markdown heading path of the passage's first part.
	Headings []string
	// Score is the best score among the passages merged into this one.
	Score float32
	// Tokens is the passage's token count.
	Tokens int
}

// String formats the context for a prompt: each passage under a numbered
// citation line giving its document and byte offsets.
func (cx Context) String() string {
	var b strings.Builder
	for i, p := range cx.Passages {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "[%d] %s (bytes %d-%d)", i+1, p.DocID, p.Start, p.End)
		if len(p.Headings) > 0 {
			fmt.Fprintf(&b, " %s", strings.Join(p.Headings, " > "))
		}
		b.WriteString("\n")
		b.WriteString(strings.TrimSpace(p.Text))
		b.WriteString("\n")
	}
	return b.String()
}

// ContextOption configures Collection.Context.
type ContextOption func(*contextOptions)

type contextOptions struct {
	budget     int
	candidates int
	search     []SearchOption
}

// DefaultContextBudget is Context's token budget unless ContextBudget
// sets another.
const DefaultContextBudget = 1024

// ContextBudget sets the most tokens the context's passages may hold
// together (default DefaultContextBudget).
func ContextBudget(tokens int) ContextOption {
	return func(o *contextOptions) { o.budget = tokens }
}

// ContextCandidates sets how many of the best passages are considered
// (default 50).
func ContextCandidates(n int) ContextOption {
	return func(o *contextOptions) { o.candidates = n }
}

// ContextSearch passes search options (Where, WhereExpr, MinScore, WithEf,
// WithMode and the fusion options; the mode defaults as in Search)
// to the search Context runs. TopK and WithFields are Context's own.
func ContextSearch(opts ...SearchOption) ContextOption {
	return func(o *contextOptions) { o.search = append(o.search, opts...) }
}

// Context finds the passages best for query that fit within a token
// budget, for a prompt of retrieval-augmented generation. Passages are
// taken best first; one that would overflow the budget is skipped and the
// next ones tried. Passages of the same document that overlap or touch are
// merged into one, so no text is given twice, and every passage cites its
// document and byte offsets. It works on any text collection; in one that
// is not chunked, each document is a single passage.
func (c *Collection) Context(ctx context.Context, query string, opts ...ContextOption) (Context, error) {
	o := contextOptions{budget: DefaultContextBudget, candidates: 50}
	for _, opt := range opts {
		opt(&o)
	}
	if o.budget < 1 {
		return Context{}, fmt.Errorf("%w: context budget of %d tokens (need at least 1)", ErrInvalidArgument, o.budget)
	}
	if o.candidates < 1 || o.candidates > maxK {
		return Context{}, fmt.Errorf("%w: ContextCandidates %d out of range 1..%d", ErrInvalidArgument, o.candidates, maxK)
	}
	search := append(slices.Clone(o.search), TopK(o.candidates), WithFields(FieldText))
	res, err := c.Search(ctx, query, search...)
	if err != nil {
		return Context{}, err
	}
	cx := Context{Query: query, Budget: o.budget}
	if len(res) == 0 {
		return cx, nil
	}
	// The documents' texts, to cut merged spans from.
	texts := make(map[string]string)
	var docIDs []string
	for i := range res {
		if res[i].DocID == "" {
			// Not chunked: the document is the passage.
			res[i].DocID, res[i].Start, res[i].End = res[i].ID, 0, len(res[i].Text)
			texts[res[i].ID] = res[i].Text
			continue
		}
		if _, ok := texts[res[i].DocID]; !ok {
			texts[res[i].DocID] = ""
			docIDs = append(docIDs, res[i].DocID)
		}
	}
	if len(docIDs) > 0 {
		docs, err := c.GetFields(ctx, FieldText, docIDs...)
		if err != nil {
			// A document deleted since the search: its passages are
			// skipped below.
			if _, ok := err.(*NotFoundError); !ok {
				return Context{}, err
			}
		}
		for _, d := range docs {
			texts[d.ID] = d.Text
		}
	}
	count := c.st.Load().counter()
	var picked []ContextPassage
	for _, r := range res {
		text := texts[r.DocID]
		if r.End > len(text) || r.Start > r.End || text[r.Start:r.End] != r.Text {
			continue // the document changed since the search
		}
		merged := ContextPassage{DocID: r.DocID, Start: r.Start, End: r.End, Headings: r.Headings, Score: r.Score}
		// Absorb every picked span of the document that overlaps or
		// touches the growing one (nothing but white space between), until
		// none does.
		absorbed := make([]bool, len(picked))
		freed := 0
		for grew := true; grew; {
			grew = false
			for i, p := range picked {
				if absorbed[i] || p.DocID != r.DocID || !adjacent(text, p.Start, p.End, merged.Start, merged.End) {
					continue
				}
				absorbed[i], grew = true, true
				freed += p.Tokens
				if p.Start < merged.Start {
					merged.Start, merged.Headings = p.Start, p.Headings
				}
				merged.End = max(merged.End, p.End)
				merged.Score = max(merged.Score, p.Score)
			}
		}
		merged.Text = text[merged.Start:merged.End]
		merged.Tokens = count.CountTokens(merged.Text)
		if cx.Tokens-freed+merged.Tokens > o.budget {
			continue
		}
		cx.Tokens += merged.Tokens - freed
		kept := picked[:0]
		for i, p := range picked {
			if !absorbed[i] {
				kept = append(kept, p)
			}
		}
		picked = append(kept, merged)
	}
	slices.SortStableFunc(picked, func(a, b ContextPassage) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	cx.Passages = picked
	return cx, nil
}

// adjacent says whether the spans [a0, a1) and [b0, b1) of text overlap or
// have nothing but white space between them.
func adjacent(text string, a0, a1, b0, b1 int) bool {
	if a0 > b0 {
		a0, a1, b0, b1 = b0, b1, a0, a1
	}
	return b0 <= a1 || strings.TrimSpace(text[a1:b0]) == ""
}
