package db

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/vecbolt/vecbolt/index"
	"github.com/vecbolt/vecbolt/storage"
)

// Mode selects how Search ranks documents.
type Mode uint8

// Search modes.
const (
	// ModeDefault picks the mode from what the collection has: DefaultTextMode
	// when it has both a model and a keyword index, vector search when it
	// has only a model, keyword search when it has only a keyword index.
	ModeDefault Mode = iota
	// ModeVector ranks by the similarity of the query's embedding.
	ModeVector
	// ModeKeyword ranks by BM25 over the collection's keyword index.
	ModeKeyword
	// ModeHybrid fuses the vector and keyword rankings (see Fusion).
	ModeHybrid
)

// DefaultTextMode is what ModeDefault means for a collection with both a
// model and a keyword index. It was chosen on the project's dev splits
// only (BENCHMARKS.md, "Hybrid search").
const DefaultTextMode = ModeHybrid

// String returns the mode's name as the CLI spells it.
func (m Mode) String() string {
	switch m {
	case ModeDefault:
		return "default"
	case ModeVector:
		return "vector"
	case ModeKeyword:
		return "keyword"
	case ModeHybrid:
		return "hybrid"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// ParseMode reads a mode name: "vector", "keyword", "hybrid" or "default".
func ParseMode(s string) (Mode, error) {
	for _, m := range []Mode{ModeDefault, ModeVector, ModeKeyword, ModeHybrid} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown search mode %q (want vector, keyword or hybrid)", ErrInvalidArgument, s)
}

// Fusion selects how a hybrid search merges its two rankings.
type Fusion uint8

// Fusion methods.
const (
	// FusionDefault is DefaultFusion.
	FusionDefault Fusion = iota
	// FusionRRF is weighted reciprocal-rank fusion: alpha/(k+rank_vector) +
	// (1-alpha)/(k+rank_keyword), k = RRFK (default 60). It uses only ranks.
	FusionRRF
	// FusionConvex is alpha*vector + (1-alpha)*keyword over scores
	// normalized by the theoretical-minimum rule of Bruch et al. (ACM TOIS
	// 2023): (s - lo) / (best - lo), lo being 0 for BM25 and -1 for cosine
	// similarity (the lowest candidate for Dot and L2, which have no
	// lower bound), best the query's best candidate on that side.
	FusionConvex
	// FusionConvexMinMax is FusionConvex with min-max normalization: lo is
	// the lowest candidate on each side.
	FusionConvexMinMax
)

// Defaults of hybrid search, chosen on the dev splits (BENCHMARKS.md).
const (
	DefaultFusion = FusionConvex
	// DefaultAlpha is the weight of the vector side.
	DefaultAlpha = 0.5
	// DefaultRRFK is RRF's rank constant.
	DefaultRRFK = 60
)

// String names the fusion method.
func (f Fusion) String() string {
	switch f {
	case FusionDefault:
		return "default"
	case FusionRRF:
		return "rrf"
	case FusionConvex:
		return "convex"
	case FusionConvexMinMax:
		return "convex-minmax"
	}
	return fmt.Sprintf("Fusion(%d)", uint8(f))
}

// Explanation tells how a result ranked on each side of a search. A rank
// of 0 means the result was not among that side's candidates (its score is
// then 0); ranks count from 1 within the side's candidates.
type Explanation struct {
	// Mode is the mode the search ran in (never ModeDefault).
	Mode Mode
	// VectorScore is the similarity, as Result.Score of a vector search.
	VectorScore float32
	VectorRank  int
	// KeywordScore is the BM25 score.
	KeywordScore float32
	KeywordRank  int
}

// ErrNoFullText means a keyword or hybrid search was asked of a collection
// without a usable keyword index. The error says why: the collection was
// created WithoutFullText, or it was written by an older vecbolt and the
// file was only opened read-only since (a writable open builds the index).
var ErrNoFullText = errors.New("vecbolt: collection has no keyword index")

// WithMode sets the search mode (default ModeDefault).
func WithMode(m Mode) SearchOption { return func(o *searchOptions) { o.mode = m } }

// WithFusion sets how a hybrid search merges its rankings (default
// DefaultFusion).
func WithFusion(f Fusion) SearchOption { return func(o *searchOptions) { o.fusion = f } }

// WithAlpha sets the weight of the vector side in a hybrid search, from 0
// (keyword only) to 1 (vector only); the keyword side weighs 1-a. Default
// DefaultAlpha.
func WithAlpha(a float64) SearchOption {
	return func(o *searchOptions) { o.alpha, o.hasAlpha = a, true }
}

// WithRRFK sets the rank constant of FusionRRF (default 60).
func WithRRFK(k int) SearchOption { return func(o *searchOptions) { o.rrfK = k } }

// WithExplain makes every result carry an Explanation.
func WithExplain() SearchOption { return func(o *searchOptions) { o.explain = true } }

func (o *searchOptions) checkHybrid() error {
	if o.mode > ModeHybrid {
		return fmt.Errorf("%w: unknown search mode %d", ErrInvalidArgument, o.mode)
	}
	if o.fusion > FusionConvexMinMax {
		return fmt.Errorf("%w: unknown fusion %d", ErrInvalidArgument, o.fusion)
	}
	if o.fusion == FusionDefault {
		o.fusion = DefaultFusion
	}
	if !o.hasAlpha {
		o.alpha = DefaultAlpha
	}
	if math.IsNaN(o.alpha) || o.alpha < 0 || o.alpha > 1 {
		return fmt.Errorf("%w: alpha %v out of range 0..1", ErrInvalidArgument, o.alpha)
	}
	if o.rrfK == 0 {
		o.rrfK = DefaultRRFK
	}
	if o.rrfK < 1 || o.rrfK > 1_000_000 {
		return fmt.Errorf("%w: RRF k %d out of range 1..1000000", ErrInvalidArgument, o.rrfK)
	}
	return nil
}

// HybridCandidates is how many results each side of a hybrid search
// fetches for a top-k: max(5k, 50), 50 for the default top 10. A document a
// side ranks below that contributes nothing from that side. Filters apply
// to each side's candidates, so a filtered hybrid search still returns
// min(k, matching) results.
func HybridCandidates(k int) int { return min(maxK, max(5*k, 50)) }

// resolveMode turns ModeDefault into a concrete mode for st and checks that
// st can run the mode asked for.
func (c *Collection) resolveMode(st *colState, m Mode) (Mode, error) {
	hasVec := st.cfg.Model != nil && st.emb != nil
	hasKw := st.ft != nil
	if m == ModeDefault {
		switch {
		case hasVec && hasKw:
			return DefaultTextMode, nil
		case !hasVec && hasKw && st.cfg.Model == nil:
			return ModeKeyword, nil
		}
		m = ModeVector
	}
	if m == ModeKeyword || m == ModeHybrid {
		if err := c.fullTextErr(st); err != nil {
			return 0, err
		}
	}
	if m == ModeVector || m == ModeHybrid {
		if st.cfg.Model == nil {
			return 0, fmt.Errorf("%w: collection %q holds caller-supplied vectors; use SearchVector, or WithMode(ModeKeyword) to search its text", ErrNoEmbedder, c.name)
		}
		if st.emb == nil {
			return 0, fmt.Errorf("%w to embed the query: open the database WithEmbedder of %v (keyword search needs no model: WithMode(ModeKeyword))", ErrNoEmbedder, st.info.Model)
		}
	}
	return m, nil
}

// fullTextErr says why st has no keyword index, or nil if it has one.
func (c *Collection) fullTextErr(st *colState) error {
	switch {
	case st.ft != nil:
		return nil
	case st.cfg.FullText == nil:
		return fmt.Errorf("%w: collection %q was written by an older vecbolt and its keyword index is built on the first writable open; open the database once without read-only (any writable vecbolt command, or db.Open without ReadOnly) and search again", ErrNoFullText, c.name)
	default:
		return fmt.Errorf("%w: collection %q was created without one (WithoutFullText)", ErrNoFullText, c.name)
	}
}

// acceptFunc is the filter both sides of a search apply: a label must be
// live (a keyword hit committed to the file may not have reached the live
// set yet), not being deleted, not have a damaged vector (found by the
// load or by an int8 re-rank: either is out of the vector index, and a
// keyword hit must not bring it back) and match the metadata filter. The
// caller holds liveMu (read) while it is used. The first filter error is
// kept in *errp.
func (st *colState) acceptFunc(o searchOptions, errp *error) func(uint64) bool {
	f := o.filter
	rerankBad := st.rerankBadSet()
	// The flat index may call the filter from several goroutines; the
	// first error wins.
	var once sync.Once
	return func(label uint64) bool {
		d, ok := st.live[label]
		if !ok {
			return false
		}
		if _, gone := st.deleting[label]; gone {
			return false
		}
		if _, bad := st.damaged[label]; bad {
			return false
		}
		if _, bad := rerankBad[label]; bad {
			return false
		}
		if _, out := o.exclude[d.id]; out {
			return false
		}
		if f == nil {
			return true
		}
		ok, err := f.Match(d.md)
		if err != nil {
			once.Do(func() { *errp = err })
			return false
		}
		return ok
	}
}

// searchText runs a keyword or hybrid search on st (liveMu is taken here).
// q is the query's embedding (nil for keyword search).
func (c *Collection) searchText(ctx context.Context, st *colState, mode Mode, text string, q []float32, o searchOptions) ([]Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st.liveMu.RLock()
	defer st.liveMu.RUnlock()
	if err := st.checkFilter(o.filter); err != nil {
		return nil, err
	}
	depth := o.k
	if mode == ModeHybrid {
		depth = HybridCandidates(o.k)
	}
	var filterErr error
	accept := st.acceptFunc(o, &filterErr)
	var vec []ranked
	if mode == ModeHybrid {
		vo := o
		vo.k = depth
		hits, err := c.vectorHits(st, q, vo)
		if err != nil {
			return nil, c.searchError(st, err)
		}
		vec = make([]ranked, len(hits))
		for i, h := range hits {
			vec[i] = ranked{label: h.ID, score: score(st.metric, h.Distance)}
		}
	}
	var out []Result
	err := c.db.store.View(func(tx *storage.Tx) error {
		ct, err := tx.Collection(c.name)
		if err != nil {
			return err
		}
		kw, err := st.keywordHits(ctx, ct, text, depth, accept)
		if err != nil {
			return err
		}
		if filterErr != nil {
			return nil
		}
		passages := passageReader{ctx: ct}
		var fz []fused
		switch {
		case mode == ModeKeyword:
			fz = make([]fused, len(kw))
			for i, r := range kw {
				fz[i] = fused{label: r.label, score: float64(r.score), kwScore: r.score, kwRank: i + 1}
			}
		default:
			fz = fuseBy(vec, kw, o, st.metric)
		}
		for _, f := range fz {
			if len(out) == o.k {
				break
			}
			s := float32(f.score)
			if o.hasMin && s < o.minScore {
				break
			}
			r := Result{ID: st.live[f.label].id, Score: s}
			if st.chunked() {
				// As in search (search.go): the document is known from
				// the passage's ID even when no field is read.
				r.DocID = parentOf(r.ID)
			}
			if o.explain {
				r.Explain = &Explanation{Mode: mode, VectorScore: f.vecScore, VectorRank: f.vecRank, KeywordScore: f.kwScore, KeywordRank: f.kwRank}
			}
			if o.fields != 0 {
				rec, ok, err := readRecord(ct, f.label, o.fields)
				if err != nil {
					return err
				}
				if !ok || rec.Id != r.ID {
					return fmt.Errorf("%w: search found label %d, which has no document %q", ErrCorrupt, f.label, r.ID)
				}
				d, err := documentFromRecord(rec, o.fields)
				if err != nil {
					return err
				}
				r.Text, r.Metadata, r.Vector = d.Text, d.Metadata, d.Vector
				if err := passages.fill(rec, &r, o.fields); err != nil {
					return err
				}
			}
			out = append(out, r)
		}
		return nil
	})
	if filterErr != nil {
		return nil, fmt.Errorf("%w: filter: %w", ErrInvalidArgument, filterErr)
	}
	if err != nil {
		return nil, c.searchError(st, err)
	}
	return out, nil
}

// metricMin is the lowest similarity a metric can give, where it has one.
func metricMin(m Metric) (float32, bool) {
	if m == Cosine {
		return -1, true
	}
	return 0, false
}

// vectorHits runs the vector index for o.k results. The caller holds
// liveMu (read).
func (c *Collection) vectorHits(st *colState, q []float32, o searchOptions) ([]index.Result, error) {
	var filterErr error
	var filter index.Filter
	if o.filter != nil || len(st.deleting) > 0 || len(o.exclude) > 0 {
		filter = st.acceptFunc(o, &filterErr)
	}
	var hits []index.Result
	var err error
	switch idx := st.idx.(type) {
	case *index.HNSW:
		opts := index.SearchOptions{K: o.k, Ef: st.tune.efFor(o.ef), Filter: filter}
		if o.filter != nil {
			opts.MatchEstimate = st.estimateMatch(o.filter)
		}
		if !idx.Int8() {
			hits, err = idx.SearchWith(q, opts)
			break
		}
		opts.RerankCount = rerankCount(o.k)
		hits, err = c.searchInt8(st, idx, q, opts)
	default:
		hits, err = st.idx.Search(q, o.k, filter)
	}
	if err == nil && filterErr != nil {
		err = fmt.Errorf("%w: filter: %w", ErrInvalidArgument, filterErr)
	}
	return hits, err
}
