package db

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"unicode/utf8"

	"github.com/vecbolt/vecbolt/index"
	"github.com/vecbolt/vecbolt/query"
	"github.com/vecbolt/vecbolt/storage"
)

// Field selects what a search result (WithFields) or a document read by
// GetFields carries besides its ID (and score).
type Field uint8

// Fields of a result or document. The default of Search and Get is
// FieldText|FieldMetadata.
const (
	FieldText Field = 1 << iota
	FieldMetadata
	FieldVector
)

// Result is one search hit.
type Result struct {
	ID string
	// Score is a similarity, higher is closer: cosine similarity, dot
	// product, or negated Euclidean distance, per the collection's metric.
	// A keyword search scores by BM25, a hybrid one by the fused score
	// (see Fusion); MinScore applies to whichever the mode gives.
	Score    float32
	Text     string
	Metadata map[string]any
	Vector   []float32
	// In a chunked collection (WithChunking) a result is a passage: ID is
	// the passage's, DocID its document's, and Text (with FieldText) is
	// the document's text from byte Start to End. Headings is its Markdown
	// heading path, outermost first. Start, End and Headings are read with
	// the passage, so a search WithFields() (IDs only) leaves them unset.
	// All unset for other collections.
	DocID      string
	Start, End int
	Headings   []string
	// Explain says how each side of the search ranked the result; set only
	// when the search was made WithExplain.
	Explain *Explanation
}

// SearchOption configures Search and SearchVector.
type SearchOption func(*searchOptions)

type searchOptions struct {
	k        int
	filter   query.Filter
	where    string
	minScore float32
	hasMin   bool
	fields   Field
	ef       int
	perDoc   int // SearchDocuments' PassagesPerDocument
	// SearchDocuments' DocumentWeight
	docWeight    float64
	hasDocWeight bool
	// SearchDocuments' LengthPenalty
	lenPenalty    float64
	hasLenPenalty bool
	mode          Mode
	fusion        Fusion
	alpha         float64
	hasAlpha      bool
	rrfK          int
	explain       bool
	// exclude holds IDs no result may have (Similar, Recommend leave out
	// their examples). It is applied inside the index search, like the
	// filter, so that excluding them costs no results: a search still
	// returns min(K, matching documents not excluded).
	exclude map[string]struct{}
}

// TopK sets how many results to return (default 10). A collection with
// fewer matching documents returns all of them.
func TopK(k int) SearchOption { return func(o *searchOptions) { o.k = k } }

// Where restricts results to documents whose metadata matches f. The
// filter is type-checked against the collection's field types before the
// search (see FieldType): comparing a field with a literal of another type
// is an error wrapping ErrInvalidArgument and query.ErrTypeMismatch that
// names the field and both types, whatever documents exist. A field that
// no document has had is not an error; it compares as a missing field.
func Where(f query.Filter) SearchOption { return func(o *searchOptions) { o.filter = f } }

// WhereExpr is Where with a filter in the text syntax of query.Parse, e.g.
// `lang = "en" AND year >= 2020`.
func WhereExpr(expr string) SearchOption { return func(o *searchOptions) { o.where = expr } }

// MinScore drops results scoring below s.
func MinScore(s float32) SearchOption {
	return func(o *searchOptions) { o.minScore, o.hasMin = s, true }
}

// WithFields chooses the fields results carry; with none, results hold
// only IDs and scores, and the search does not read documents at all.
func WithFields(f ...Field) SearchOption {
	return func(o *searchOptions) {
		o.fields = 0
		for _, x := range f {
			o.fields |= x
		}
	}
}

// WithEf sets the HNSW search breadth for this query (default: the
// collection's efSearch). Larger is slower and more accurate. Ignored by
// flat indexes, which are exact.
func WithEf(ef int) SearchOption { return func(o *searchOptions) { o.ef = ef } }

// maxK bounds TopK so a typo cannot allocate gigabytes.
const maxK = 100_000

func parseSearchOptions(opts []SearchOption) (searchOptions, error) {
	o := searchOptions{k: 10, fields: FieldText | FieldMetadata}
	for _, opt := range opts {
		opt(&o)
	}
	if o.k < 1 || o.k > maxK {
		return o, fmt.Errorf("%w: TopK %d out of range 1..%d", ErrInvalidArgument, o.k, maxK)
	}
	if err := o.checkHybrid(); err != nil {
		return o, err
	}
	if o.ef < 0 || o.ef > maxK {
		return o, fmt.Errorf("%w: ef %d out of range 0..%d", ErrInvalidArgument, o.ef, maxK)
	}
	if math.IsNaN(float64(o.minScore)) {
		return o, fmt.Errorf("%w: MinScore is NaN", ErrInvalidArgument)
	}
	if o.where != "" {
		if o.filter != nil {
			return o, fmt.Errorf("%w: both Where and WhereExpr given", ErrInvalidArgument)
		}
		f, err := query.Parse(o.where)
		if err != nil {
			return o, fmt.Errorf("%w: filter: %w", ErrInvalidArgument, err)
		}
		o.filter = f
	}
	if o.filter != nil {
		if err := query.Validate(o.filter); err != nil {
			return o, fmt.Errorf("%w: filter: %w", ErrInvalidArgument, err)
		}
	}
	return o, nil
}

// Search embeds text with the collection's model (as a query) and returns
// the nearest documents, best first.
func (c *Collection) Search(ctx context.Context, text string, opts ...SearchOption) ([]Result, error) {
	leave, st, err := c.enter(false)
	if err != nil {
		return nil, err
	}
	defer leave()
	o, err := parseSearchOptions(opts)
	if err != nil {
		return nil, err
	}
	switch {
	case isBlank(text):
		return nil, fmt.Errorf("%w: empty query text", ErrInvalidArgument)
	case len(text) > maxTextBytes:
		return nil, fmt.Errorf("%w: query text of %d bytes exceeds %d", ErrInvalidArgument, len(text), maxTextBytes)
	case !utf8.ValidString(text):
		return nil, fmt.Errorf("%w: query text is not valid UTF-8", ErrInvalidArgument)
	}
	mode, err := c.resolveMode(st, o.mode)
	if err != nil {
		return nil, err
	}
	if mode == ModeKeyword {
		return c.searchText(ctx, st, mode, text, nil, o)
	}
	q, err := st.emb.EmbedQuery(ctx, text)
	if err != nil {
		return nil, fmt.Errorf("vecbolt: embed query: %w", err)
	}
	if err := checkNewVector(q, int(st.cfg.Dimension), st.metric); err != nil {
		return nil, fmt.Errorf("vecbolt: embed query: embedder output: %w", err)
	}
	if mode == ModeHybrid {
		return c.searchText(ctx, st, mode, text, q, o)
	}
	return c.search(ctx, st, q, o)
}

// SearchVector returns the documents nearest to vec, best first.
func (c *Collection) SearchVector(ctx context.Context, vec []float32, opts ...SearchOption) ([]Result, error) {
	leave, st, err := c.enter(false)
	if err != nil {
		return nil, err
	}
	defer leave()
	o, err := parseSearchOptions(opts)
	if err != nil {
		return nil, err
	}
	if o.mode != ModeDefault && o.mode != ModeVector {
		return nil, fmt.Errorf("%w: SearchVector searches by vector only; %v search needs query text (use Search)", ErrInvalidArgument, o.mode)
	}
	if err := checkNewVector(vec, int(st.cfg.Dimension), st.metric); err != nil {
		return nil, fmt.Errorf("%w: query %w", ErrInvalidArgument, err)
	}
	return c.search(ctx, st, vec, o)
}

// search runs a search on st. Should Reembed or Reindex replace the state
// while it runs (see searchError), it runs once more on the new state when
// that takes the same vectors (a same-model Reembed, or Reindex): q is
// still a query of that model.
func (c *Collection) search(ctx context.Context, st *colState, q []float32, o searchOptions) ([]Result, error) {
	res, err := c.searchOnce(ctx, st, q, o)
	if err != nil {
		if cur := c.st.Load(); cur != st && sameVectors(cur, st) {
			return c.searchOnce(ctx, cur, q, o)
		}
	}
	return res, err
}

func (c *Collection) searchOnce(ctx context.Context, st *colState, q []float32, o searchOptions) ([]Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Holding liveMu in read mode across the index search and the document
	// reads keeps a concurrent Delete from removing a hit in between; the
	// Delete marks its labels in deleting first, and the filter skips them.
	st.liveMu.RLock()
	defer st.liveMu.RUnlock()
	if err := st.checkFilter(o.filter); err != nil {
		return nil, err
	}

	hits, err := c.vectorHits(st, q, o)
	if err != nil {
		if errors.Is(err, ErrInvalidArgument) {
			return nil, err
		}
		return nil, c.searchError(st, err)
	}
	out := make([]Result, 0, len(hits))
	for _, h := range hits {
		s := score(st.metric, h.Distance)
		if o.hasMin && s < o.minScore {
			break // hits are sorted, so every later one scores lower
		}
		r := Result{Score: s}
		if o.explain {
			r.Explain = &Explanation{Mode: ModeVector, VectorScore: s, VectorRank: len(out) + 1}
		}
		out = append(out, r)
	}
	hits = hits[:len(out)]
	for i, h := range hits {
		out[i].ID = st.live[h.ID].id
		if st.chunked() {
			out[i].DocID = parentOf(out[i].ID)
		}
	}
	if len(out) == 0 || o.fields == 0 {
		return out, nil
	}
	err = c.db.store.View(func(tx *storage.Tx) error {
		ctx, err := tx.Collection(c.name)
		if err != nil {
			return err
		}
		passages := passageReader{ctx: ctx}
		for i, h := range hits {
			rec, ok, err := readRecord(ctx, h.ID, o.fields)
			if err != nil {
				return err
			}
			if !ok || rec.Id != out[i].ID {
				return fmt.Errorf("%w: index holds label %d, which has no document %q", ErrCorrupt, h.ID, out[i].ID)
			}
			d, err := documentFromRecord(rec, o.fields)
			if err != nil {
				return err
			}
			out[i].Text, out[i].Metadata, out[i].Vector = d.Text, d.Metadata, d.Vector
			if err := passages.fill(rec, &out[i], o.fields); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, c.searchError(st, err)
	}
	return out, nil
}

// searchError wraps an error of a search that ran on st. Deletes keep a
// state's index, live set and file in step for its searches (see Delete),
// but once Reembed has replaced the state, a delete on the new one removes
// documents from the file that the old index still holds: a search still
// running on the old state then misses a document or a re-rank vector,
// which is not damage, and the caller should simply search again.
func (c *Collection) searchError(st *colState, err error) error {
	if c.st.Load() != st {
		return fmt.Errorf("%w: collection %q was re-embedded during the search; retry (%v)", ErrModelMismatch, c.name, err)
	}
	return fmt.Errorf("vecbolt: search collection %q: %w", c.name, err)
}

// estimateMatch estimates the fraction of documents a filter accepts from
// a sample of the live set, so the index can choose between walking the
// graph and scanning the matching documents exactly. Go randomizes where
// map iteration starts, which makes the first entries a cheap sample.
// The caller holds liveMu.
func (st *colState) estimateMatch(f query.Filter) float64 {
	const sample = 256
	if len(st.live) < 4*sample {
		return 0 // small: the index's own fallback is cheap enough
	}
	n, hit := 0, 0
	for _, d := range st.live {
		if ok, err := f.Match(d.md); err == nil && ok {
			hit++
		}
		if n++; n == sample {
			break
		}
	}
	// Never report zero for a filter that matched nothing in the sample:
	// the true fraction is below 1/sample, which is what "rare" means.
	return max(float64(hit), 0.5) / float64(n)
}

// score turns an index distance into the public similarity.
func score(m Metric, d float32) float32 {
	switch m {
	case Cosine:
		return 1 - d
	case Dot:
		return -d
	default:
		return -float32(math.Sqrt(math.Max(float64(d), 0)))
	}
}

// rerankCount is how many of an int8 search's candidates, best by int8
// distance first, are re-scored with their float32 vectors. Each costs a
// read from the file; on 100k × 384 clustered vectors the best 20 gave the
// recall of re-scoring all ef of them (within 0.0002) at 1.2× the speed
// (helper measurement, index's TestHNSWInt8BenchReport).
func rerankCount(k int) int { return max(2*k, 20) }

// searchInt8 searches an int8 graph and re-scores its candidates with the
// float32 vectors stored in the documents, read in one transaction.
//
// An int8 graph loads from its snapshot without reading the float
// vectors, so a damaged one is first met here: its document is then
// recorded (st.rerankBad, listed in CollectionInfo.DamagedVectors) and
// the search runs again without it, as a float32 collection's load would
// have left it out. Each damaged vector costs one extra search, once.
func (c *Collection) searchInt8(st *colState, idx *index.HNSW, q []float32, opts index.SearchOptions) ([]index.Result, error) {
	base := opts.Filter
	for attempt := 0; ; attempt++ {
		if bad := st.rerankBadSet(); bad != nil {
			opts.Filter = func(l uint64) bool {
				if _, out := bad[l]; out {
					return false
				}
				return base == nil || base(l)
			}
		}
		hits, readErr, err := c.searchInt8Once(idx, q, opts)
		var ve *storage.VectorError
		if readErr != nil && errors.As(readErr, &ve) && attempt < maxRerankRetries {
			st.noteRerankBad(ve.Label, readErr)
			continue
		}
		if readErr != nil {
			// The index's own error only says a vector was unavailable.
			return nil, readErr
		}
		return hits, err
	}
}

// maxRerankRetries bounds the searches one query runs again after meeting
// damaged vectors; past it, the damage is the query's error.
const maxRerankRetries = 8

func (c *Collection) searchInt8Once(idx *index.HNSW, q []float32, opts index.SearchOptions) (hits []index.Result, readErr, err error) {
	// A bbolt transaction is not safe for concurrent use; the mutex keeps
	// that true should the index ever re-rank in parallel.
	var mu sync.Mutex
	err = c.db.store.View(func(tx *storage.Tx) error {
		ctx, err := tx.Collection(c.name)
		if err != nil {
			return err
		}
		opts.Rerank = func(label uint64, dst []float32) ([]float32, bool) {
			mu.Lock()
			defer mu.Unlock()
			v, ok, err := ctx.Vector(label, dst)
			if err != nil && readErr == nil {
				readErr = err
			}
			return v, ok && err == nil
		}
		hits, err = idx.SearchWith(q, opts)
		return err
	})
	return hits, readErr, err
}
