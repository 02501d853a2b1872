package db

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/vecbolt/vecbolt/analysis"
	"github.com/vecbolt/vecbolt/index"
	"github.com/vecbolt/vecbolt/query"
	"github.com/vecbolt/vecbolt/storage"
)

// Outliers and Duplicates share one engine: every document considered is
// a query, searched through the collection's own index (HNSW or flat) for
// its nearest neighbours among the documents considered. That costs one
// k-NN search per document, n·log n-ish with the graph, instead of the
// n² comparisons of all pairs.

// OutlierMethod selects how Outliers scores a document's isolation.
type OutlierMethod uint8

// The outlier scores.
const (
	// OutlierKthNeighbour, the default, scores a document by the distance
	// to its k-th nearest neighbour (Ramaswamy et al., SIGMOD 2000): a
	// global measure, the same scale everywhere in the collection. On the
	// dev split of the Debian descriptions with 2% fortunes mixed in it
	// found the fortunes better than LOF at every k tried (AUC 0.976
	// against 0.898 at k = 50; BENCHMARKS.md, "Toolbox: outliers and
	// duplicates").
	OutlierKthNeighbour OutlierMethod = iota + 1
	// OutlierLOF scores a document by its local outlier factor (Breunig et
	// al., SIGMOD 2000) over k neighbours: how much sparser its
	// neighbourhood is than its neighbours' own. About 1 is ordinary, well
	// above 1 isolated. It adapts to regions of different density, so a
	// document at the edge of a loose topic is not flagged just for being
	// in a loose topic. It needs a distance, so not the Dot metric.
	OutlierLOF
)

// String returns the method's name as the CLI spells it.
func (m OutlierMethod) String() string {
	switch m {
	case OutlierKthNeighbour:
		return "kth"
	case OutlierLOF:
		return "lof"
	}
	return fmt.Sprintf("outlier-method(%d)", uint8(m))
}

// ParseOutlierMethod is the inverse of OutlierMethod.String.
func ParseOutlierMethod(s string) (OutlierMethod, error) {
	switch s {
	case "kth":
		return OutlierKthNeighbour, nil
	case "lof":
		return OutlierLOF, nil
	}
	return 0, fmt.Errorf("%w: unknown outlier method %q (want kth or lof)", ErrInvalidArgument, s)
}

// Outlier is one document found by Outliers with its isolation score,
// higher is more isolated.
type Outlier struct {
	ID    string
	Score float32
}

// DuplicatePair is a pair of documents found by Duplicates, A < B in byte
// order of the IDs, with their similarity: the Score a search from one for
// the other returns (see DuplicateThreshold).
type DuplicatePair struct {
	A, B  string
	Score float32
}

// NeighbourOption configures Outliers and Duplicates. Options that belong
// to one of them only (OutlierCount, WithOutlierMethod, DuplicateThreshold,
// DuplicateMaxPairs) are an error when given to the other.
type NeighbourOption func(*neighbourOptions)

// Which operation an option belongs to, to reject it in the other.
const (
	forOutliers uint8 = 1 << iota
	forDuplicates
)

type neighbourOptions struct {
	k        int
	filter   query.Filter
	where    string
	workers  int
	ef       int
	progress func(done, total int)

	method OutlierMethod
	count  int

	threshold    float32
	hasThreshold bool
	maxPairs     int

	only    uint8 // union of the forX bits of the options given
	optName string
}

// Defaults of the neighbour scans.
const (
	// DefaultOutlierNeighbours is the k of Outliers' scores. Tuned on the
	// dev split of the Debian descriptions with 2% fortunes mixed in (bench
	// suite toolbox-outliers): AUC 0.82, 0.88, 0.94, 0.976 and 0.982 at k =
	// 5, 10, 20, 50 and 100. A small k misses a group of intruders that are
	// each other's neighbours; 50 costs no more than 10 at the default
	// efSearch (64, which k+1 = 51 stays under), 100 about half as much
	// again for 0.006 of AUC.
	DefaultOutlierNeighbours = 50
	// DefaultOutlierCount is how many outliers are returned.
	DefaultOutlierCount = 10
	// DefaultDuplicateNeighbours is how many neighbours Duplicates looks at
	// first per document; it looks further while all of them pass.
	DefaultDuplicateNeighbours = 10
	// DefaultDuplicateThreshold is Duplicates' cosine similarity threshold
	// on Cosine collections: the best F1 (0.916: precision 0.967, recall
	// 0.87) on the dev split of the Debian descriptions with 100 planted
	// near-copies, each with 1 to 5 words replaced, with the built-in model
	// (bench suite toolbox-outliers). Lower thresholds find more of the
	// copies but also pairs of genuinely similar descriptions.
	DefaultDuplicateThreshold = 0.92
	// DefaultDuplicateMaxPairs bounds Duplicates' result.
	DefaultDuplicateMaxPairs = 1_000_000
	// maxNeighbourWorkers bounds NeighbourWorkers.
	maxNeighbourWorkers = 1024
)

// Neighbours sets how many nearest neighbours each document is compared
// with: the k of the outlier score (default DefaultOutlierNeighbours), and
// for Duplicates how many are searched first (DefaultDuplicateNeighbours;
// the search widens while all pass the threshold, so it bounds no result).
func Neighbours(k int) NeighbourOption { return func(o *neighbourOptions) { o.k = k } }

// NeighbourWhere restricts the documents considered to those whose metadata
// matches f: both the documents scored and their neighbours come from that
// set, so an outlier is isolated among them and a duplicate pair has both
// ends in it.
func NeighbourWhere(f query.Filter) NeighbourOption {
	return func(o *neighbourOptions) { o.filter = f }
}

// NeighbourWhereExpr is NeighbourWhere with a filter in the text syntax of
// query.Parse.
func NeighbourWhereExpr(expr string) NeighbourOption {
	return func(o *neighbourOptions) { o.where = expr }
}

// NeighbourWorkers sets how many goroutines search at once (default
// runtime.GOMAXPROCS(0)).
func NeighbourWorkers(n int) NeighbourOption { return func(o *neighbourOptions) { o.workers = n } }

// NeighbourEf sets the HNSW search breadth of each document's search, as
// WithEf does for Search (default: the collection's efSearch). Ignored by
// flat indexes, which are exact.
func NeighbourEf(ef int) NeighbourOption { return func(o *neighbourOptions) { o.ef = ef } }

// NeighbourProgress makes the scan report its progress: fn receives the
// number of documents searched so far and the number considered, after
// every few dozen documents and once at the end. It is called from the
// scan's goroutines, one call at a time, and should return quickly.
func NeighbourProgress(fn func(done, total int)) NeighbourOption {
	return func(o *neighbourOptions) { o.progress = fn }
}

// OutlierCount sets how many outliers Outliers returns, most isolated
// first (default DefaultOutlierCount); 0 returns every document considered,
// ranked.
func OutlierCount(n int) NeighbourOption {
	return func(o *neighbourOptions) { o.count, o.only, o.optName = n, o.only|forOutliers, "OutlierCount" }
}

// WithOutlierMethod chooses the outlier score (default
// OutlierKthNeighbour).
func WithOutlierMethod(m OutlierMethod) NeighbourOption {
	return func(o *neighbourOptions) { o.method, o.only, o.optName = m, o.only|forOutliers, "WithOutlierMethod" }
}

// DuplicateThreshold sets the score at or above which two documents are
// reported as duplicates. The score is the one Search returns for the
// pair, so a threshold can be found by searching:
//   - Cosine: the cosine similarity, in [-1, 1] (default
//     DefaultDuplicateThreshold; 1 means the same direction).
//   - Dot: the dot product, any finite value. There is no default: its
//     scale depends on the vectors' norms (with unit vectors it is the
//     cosine similarity).
//   - L2: minus the Euclidean distance, so at most 0: -0.1 reports the
//     pairs within distance 0.1, 0 exact copies only. No default either.
func DuplicateThreshold(t float32) NeighbourOption {
	return func(o *neighbourOptions) {
		o.threshold, o.hasThreshold, o.only, o.optName = t, true, o.only|forDuplicates, "DuplicateThreshold"
	}
}

// DuplicateMaxPairs bounds how many pairs Duplicates may find (default
// DefaultDuplicateMaxPairs): beyond it Duplicates fails rather than fill
// memory, which a threshold far too low for the collection would.
func DuplicateMaxPairs(n int) NeighbourOption {
	return func(o *neighbourOptions) {
		o.maxPairs, o.only, o.optName = n, o.only|forDuplicates, "DuplicateMaxPairs"
	}
}

func parseNeighbourOptions(opts []NeighbourOption, op uint8) (neighbourOptions, error) {
	o := neighbourOptions{count: DefaultOutlierCount, method: OutlierKthNeighbour, maxPairs: DefaultDuplicateMaxPairs}
	if op == forOutliers {
		o.k = DefaultOutlierNeighbours
	} else {
		o.k = DefaultDuplicateNeighbours
	}
	for _, opt := range opts {
		opt(&o)
		if o.only&^op != 0 {
			other := "Outliers"
			if op == forOutliers {
				other = "Duplicates"
			}
			return o, fmt.Errorf("%w: %s applies to %s only", ErrInvalidArgument, o.optName, other)
		}
	}
	switch {
	case o.k < 1 || o.k > maxK-1:
		return o, fmt.Errorf("%w: Neighbours %d out of range 1..%d", ErrInvalidArgument, o.k, maxK-1)
	case o.workers < 0 || o.workers > maxNeighbourWorkers:
		return o, fmt.Errorf("%w: NeighbourWorkers %d out of range 0..%d", ErrInvalidArgument, o.workers, maxNeighbourWorkers)
	case o.ef < 0 || o.ef > maxK:
		return o, fmt.Errorf("%w: NeighbourEf %d out of range 0..%d", ErrInvalidArgument, o.ef, maxK)
	case o.count < 0:
		return o, fmt.Errorf("%w: OutlierCount %d is negative", ErrInvalidArgument, o.count)
	case o.method != OutlierKthNeighbour && o.method != OutlierLOF:
		return o, fmt.Errorf("%w: unknown outlier method %v", ErrInvalidArgument, o.method)
	case o.maxPairs < 1:
		return o, fmt.Errorf("%w: DuplicateMaxPairs %d must be at least 1", ErrInvalidArgument, o.maxPairs)
	}
	if o.workers == 0 {
		o.workers = runtime.GOMAXPROCS(0)
	}
	f, err := resolveFilter(o.filter, o.where)
	if err != nil {
		return o, err
	}
	o.filter = f
	return o, nil
}

// checkDuplicateThreshold validates (or defaults) the threshold for the
// collection's metric.
func checkDuplicateThreshold(o *neighbourOptions, m Metric, name string) error {
	t := float64(o.threshold)
	if o.hasThreshold && (math.IsNaN(t) || math.IsInf(t, 0)) {
		return fmt.Errorf("%w: DuplicateThreshold %v is not a finite number", ErrInvalidArgument, o.threshold)
	}
	switch m {
	case Cosine:
		if !o.hasThreshold {
			o.threshold = DefaultDuplicateThreshold
		} else if t < -1 || t > 1 {
			return fmt.Errorf("%w: DuplicateThreshold %v out of range -1..1 (collection %q compares by cosine similarity)", ErrInvalidArgument, o.threshold, name)
		}
	case Dot:
		if !o.hasThreshold {
			return fmt.Errorf("%w: collection %q uses the dot metric, whose scale depends on the vectors: give a DuplicateThreshold (a dot product)", ErrInvalidArgument, name)
		}
	case L2:
		if !o.hasThreshold {
			return fmt.Errorf("%w: collection %q uses the l2 metric: give a DuplicateThreshold of at most 0, minus the largest Euclidean distance a duplicate may have", ErrInvalidArgument, name)
		}
		if t > 0 {
			return fmt.Errorf("%w: DuplicateThreshold %v is above 0; collection %q uses the l2 metric, where the score is minus the Euclidean distance (-0.1 keeps pairs within distance 0.1)", ErrInvalidArgument, o.threshold, name)
		}
	}
	return nil
}

// Outliers returns the collection's most isolated documents, most
// isolated first (ties by ID), scored by WithOutlierMethod over the
// Neighbours nearest documents (defaults: the distance to the 50th nearest
// neighbour; OutlierCount of them, 10). With fewer documents than k+1 the
// score uses the farthest neighbour there is. Scores, higher is more isolated:
//   - OutlierKthNeighbour: the distance to the k-th neighbour: 1 - cosine
//     similarity under Cosine, the Euclidean distance under L2, minus the
//     dot product under Dot.
//   - OutlierLOF: the local outlier factor, about 1 for ordinary documents.
//
// Each document considered (all, or NeighbourWhere's) is searched for
// through the collection's index, so on an HNSW collection neighbours are
// approximate as any search's are; the cost is one search per document,
// spread over NeighbourWorkers goroutines. A collection of fewer than two
// documents considered has no outliers (an empty result).
//
// Consistency: the documents considered are those present when Outliers
// starts. Writes are not blocked while it runs; a document deleted
// meanwhile is left out, and one added meanwhile is neither scored nor
// counted as a neighbour.
func (c *Collection) Outliers(ctx context.Context, opts ...NeighbourOption) ([]Outlier, error) {
	o, err := parseNeighbourOptions(opts, forOutliers)
	if err != nil {
		return nil, err
	}
	if o.method == OutlierLOF && c.Info().Metric == Dot {
		return nil, fmt.Errorf("%w: the local outlier factor needs a distance, and collection %q uses the dot metric; use OutlierKthNeighbour", ErrInvalidArgument, c.name)
	}
	var metric Metric
	var nb []analysis.Neighbours
	set, err := c.neighbourScan(ctx, o, func(st *colState, set *neighbourSet) error {
		metric = st.metric
		nb = make([]analysis.Neighbours, len(set.ids))
		return nil
	}, func(_ int, p int32, hits []neighbourHit, _ func(k int) ([]neighbourHit, error)) error {
		n := analysis.Neighbours{Pos: make([]int32, len(hits)), Dist: make([]float32, len(hits))}
		for j, h := range hits {
			n.Pos[j] = h.pos
			n.Dist[j] = outlierDistance(metric, h.dist)
		}
		nb[p] = n
		return nil
	})
	if err != nil || set == nil {
		return []Outlier{}, err
	}
	var scores []float64
	if o.method == OutlierLOF {
		scores, err = analysis.LocalOutlierFactor(nb, o.k)
	} else {
		scores, err = analysis.KthNeighbourScores(nb, o.k)
	}
	if err != nil {
		return nil, fmt.Errorf("vecbolt: outliers of collection %q: %w", c.name, err)
	}
	out := []Outlier{}
	for _, p := range analysis.TopScores(scores, 0) {
		// A document that was deleted during the scan, or lost every
		// neighbour to deletions, has no score to rank.
		if set.skipped[p] || len(nb[p].Pos) == 0 {
			continue
		}
		out = append(out, Outlier{ID: set.ids[p], Score: float32(scores[p])})
		if o.count > 0 && len(out) == o.count {
			break
		}
	}
	return out, nil
}

// outlierDistance turns an index distance into the outlier score's
// distance: non-negative for Cosine and L2 (rounding can leave 1 - cos a
// hair below zero for copies), Euclidean rather than squared for L2 so LOF's
// ratios are of distances.
func outlierDistance(m Metric, d float32) float32 {
	switch m {
	case Cosine:
		return max(d, 0)
	case L2:
		return float32(math.Sqrt(math.Max(float64(d), 0)))
	}
	return d
}

// Duplicates returns the pairs of documents whose score is at or above
// DuplicateThreshold (see there for what the score is under each metric),
// each pair once with A < B, by descending score, then A, then B.
//
// Each document considered is searched for through the index for its
// Neighbours nearest documents; when all of them pass the threshold the
// search widens (4× at a time) until one does not, so a document with
// many copies has all its pairs reported. On an HNSW collection the
// searches are approximate, so a pair can be missed where a search misses
// a neighbour; a pair found from either end counts. More pairs than
// DuplicateMaxPairs is an error wrapping ErrInvalidArgument. Consistency is
// as for Outliers.
func (c *Collection) Duplicates(ctx context.Context, opts ...NeighbourOption) ([]DuplicatePair, error) {
	o, err := parseNeighbourOptions(opts, forDuplicates)
	if err != nil {
		return nil, err
	}
	info := c.Info()
	if err := checkDuplicateThreshold(&o, info.Metric, c.name); err != nil {
		return nil, err
	}
	var sets []analysis.PairSet
	var found atomic.Int64
	var metric Metric
	var n int
	set, err := c.neighbourScan(ctx, o, func(st *colState, set *neighbourSet) error {
		metric, n = st.metric, len(set.labels)
		sets = make([]analysis.PairSet, o.workers)
		return nil
	}, func(w int, p int32, hits []neighbourHit, search func(k int) ([]neighbourHit, error)) error {
		k := o.k
		for len(hits) == k && k < n-1 && score(metric, hits[k-1].dist) >= o.threshold {
			// Every neighbour passed: there may be more beyond them.
			more, err := search(4 * k)
			if err != nil {
				return err
			}
			if len(more) <= len(hits) {
				break // the set is exhausted
			}
			hits, k = more, 4*k
		}
		for _, h := range hits {
			s := score(metric, h.dist)
			if s < o.threshold {
				break // hits are sorted, every later one scores lower
			}
			if sets[w].Add(p, h.pos, s) && found.Add(1) > 2*int64(o.maxPairs) {
				return tooManyPairs(o)
			}
		}
		return nil
	})
	if err != nil || set == nil {
		return []DuplicatePair{}, err
	}
	all := &sets[0]
	for i := 1; i < len(sets); i++ {
		all.Merge(&sets[i])
	}
	if all.Len() > o.maxPairs {
		return nil, tooManyPairs(o)
	}
	out := []DuplicatePair{}
	for _, pr := range all.Sorted() {
		if set.skipped[pr.A] || set.skipped[pr.B] {
			continue
		}
		if pr.Score == 0 {
			pr.Score = 0 // -0 (copies under L2) prints as "-0"
		}
		out = append(out, DuplicatePair{A: set.ids[pr.A], B: set.ids[pr.B], Score: pr.Score})
	}
	return out, nil
}

func tooManyPairs(o neighbourOptions) error {
	return fmt.Errorf("%w: more than %d pairs score at or above the threshold %v; raise DuplicateThreshold or DuplicateMaxPairs", ErrInvalidArgument, o.maxPairs, o.threshold)
}

// neighbourSet is the set of documents a scan considers, in ID order.
type neighbourSet struct {
	labels []uint64
	ids    []string
	pos    map[uint64]int32 // label → position in labels
	// skipped marks documents deleted before their vector was read.
	skipped []bool
	total   int // live documents when the set was taken
}

// neighbourHit is a neighbour found by a scan's search: its position in
// the set and its index distance.
type neighbourHit struct {
	pos  int32
	dist float32
}

// neighbourChunk is how many documents a worker takes at a time: enough to
// amortize a read transaction and a flat index's batch pass, small enough
// that progress moves and Close does not wait long.
const neighbourChunk = 64

// neighbourScan searches every document of the set for its nearest
// neighbours within the set. start runs once the set is known (and not
// for sets of fewer than two documents, where the scan returns a nil set).
// visit receives, per document at position p, up to k neighbours: their
// positions in ID32 and their index distances, nearest first, the
// document itself left out; search(k) searches the same document again
// for k neighbours. visit runs on worker w's goroutine.
func (c *Collection) neighbourScan(ctx context.Context, o neighbourOptions,
	start func(st *colState, set *neighbourSet) error,
	visit func(w int, p int32, hits []neighbourHit, search func(k int) ([]neighbourHit, error)) error,
) (*neighbourSet, error) {
	leave, st, err := c.enter(false)
	if err != nil {
		return nil, err
	}
	set, err := st.neighbourSet(o.filter)
	leave()
	if err != nil {
		return nil, err
	}
	if len(set.labels) < 2 {
		return nil, nil
	}
	if err := start(st, set); err != nil {
		return nil, err
	}
	var filter index.Filter
	var estimate float64
	if o.filter != nil {
		// The neighbours must come from the set as well.
		filter = func(l uint64) bool { _, ok := set.pos[l]; return ok }
		estimate = float64(len(set.labels)) / float64(max(set.total, 1))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		done     int // documents searched; guarded by progMu
		progMu   sync.Mutex
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	chunks := (len(set.labels) + neighbourChunk - 1) / neighbourChunk
	workers := min(o.workers, chunks)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= chunks || ctx.Err() != nil {
					return
				}
				lo, hi := i*neighbourChunk, min((i+1)*neighbourChunk, len(set.labels))
				if err := c.neighbourChunk(ctx, st, set, o, filter, estimate, lo, hi, w, visit); err != nil {
					fail(err)
					return
				}
				if o.progress != nil {
					// Counted under the lock so the calls never go back.
					progMu.Lock()
					done += hi - lo
					o.progress(done, len(set.labels))
					progMu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return set, nil
}

// neighbourSet takes the set of live documents that f matches (all when
// f is nil), ordered by ID.
func (st *colState) neighbourSet(f query.Filter) (*neighbourSet, error) {
	var labels []uint64
	var ids []string
	st.liveMu.RLock()
	total := len(st.live)
	if f == nil {
		labels = make([]uint64, 0, len(st.live))
		ids = make([]string, 0, len(st.live))
		for l, d := range st.live {
			if _, gone := st.deleting[l]; !gone {
				labels = append(labels, l)
				ids = append(ids, d.id)
			}
		}
		st.liveMu.RUnlock()
	} else {
		st.liveMu.RUnlock()
		var err error
		if labels, ids, err = st.matching(f); err != nil {
			return nil, err
		}
	}
	order := make([]int, len(labels))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(ids[a], ids[b]) })
	s := &neighbourSet{
		labels:  make([]uint64, len(labels)),
		ids:     make([]string, len(labels)),
		pos:     make(map[uint64]int32, len(labels)),
		skipped: make([]bool, len(labels)),
		total:   total,
	}
	for i, j := range order {
		s.labels[i], s.ids[i] = labels[j], ids[j]
		s.pos[labels[j]] = int32(i)
	}
	return s, nil
}

// neighbourChunk searches the documents at positions lo..hi-1 of the set.
// It enters the DB for the chunk only, so Close waits for one chunk, not
// for the scan.
func (c *Collection) neighbourChunk(ctx context.Context, st *colState, set *neighbourSet, o neighbourOptions,
	filter index.Filter, estimate float64, lo, hi, w int,
	visit func(w int, p int32, hits []neighbourHit, search func(k int) ([]neighbourHit, error)) error,
) error {
	leave, cur, err := c.enter(false)
	if err != nil {
		return err
	}
	defer leave()
	if cur != st && !sameVectors(cur, st) {
		return fmt.Errorf("%w: collection %q was re-embedded during the scan; retry", ErrModelMismatch, c.name)
	}
	vecs := make([][]float32, 0, hi-lo)
	pos := make([]int32, 0, hi-lo)
	dim := int(st.cfg.Dimension)
	err = c.db.store.View(func(tx *storage.Tx) error {
		ctx, err := tx.Collection(c.name)
		if err != nil {
			return err
		}
		for p := lo; p < hi; p++ {
			v, ok, err := ctx.Vector(set.labels[p], make([]float32, 0, dim))
			if err != nil {
				return err
			}
			if !ok {
				set.skipped[p] = true // deleted since the set was taken
				continue
			}
			vecs = append(vecs, v)
			pos = append(pos, int32(p))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("vecbolt: read vectors of collection %q: %w", c.name, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Each search holds liveMu in read mode, as Search does, and skips
	// the labels being deleted: a Delete commits between marking them and
	// taking them out of the index, and an int8 re-rank must not meet a
	// label whose document is gone from the file.
	withDeleting := func() index.Filter {
		if len(st.deleting) == 0 {
			return filter
		}
		return func(l uint64) bool {
			if _, gone := st.deleting[l]; gone {
				return false
			}
			return filter == nil || filter(l)
		}
	}
	search := func(q []float32, k int) ([]index.Result, error) {
		st.liveMu.RLock()
		defer st.liveMu.RUnlock()
		f := withDeleting()
		var hits []index.Result
		var err error
		switch idx := st.idx.(type) {
		case *index.HNSW:
			opts := index.SearchOptions{K: k, Ef: o.ef, Filter: f, MatchEstimate: estimate}
			if !idx.Int8() {
				hits, err = idx.SearchWith(q, opts)
				break
			}
			opts.RerankCount = rerankCount(k)
			hits, err = c.searchInt8(st, idx, q, opts)
		default:
			hits, err = st.idx.Search(q, k, f)
		}
		if err != nil {
			return nil, c.searchError(st, err)
		}
		return hits, nil
	}
	var first [][]index.Result
	if flat, ok := st.idx.(*index.Flat); ok && len(vecs) > 0 {
		// One pass over the vectors answers the whole chunk.
		st.liveMu.RLock()
		first, err = flat.SearchBatch(vecs, o.k+1, withDeleting())
		st.liveMu.RUnlock()
		if err != nil {
			return c.searchError(st, err)
		}
	}
	for i, q := range vecs {
		p := pos[i]
		self := set.labels[p]
		own := func(k int) ([]neighbourHit, error) {
			hits, err := search(q, k+1)
			if err != nil {
				return nil, err
			}
			return set.neighbours(hits, self, k), nil
		}
		var hits []neighbourHit
		if first != nil {
			hits = set.neighbours(first[i], self, o.k)
		} else if hits, err = own(o.k); err != nil {
			return err
		}
		if err := visit(w, p, hits, own); err != nil {
			return err
		}
	}
	return nil
}

// neighbours turns a search's hits into at most k neighbours of the
// document labelled self: itself left out (it is usually, but with exact
// copies not always, the first hit), documents outside the set (added
// since it was taken) dropped, and each hit's ID replaced by its position
// in the set.
func (s *neighbourSet) neighbours(hits []index.Result, self uint64, k int) []neighbourHit {
	out := make([]neighbourHit, 0, min(k, len(hits)))
	for _, h := range hits {
		if h.ID == self {
			continue
		}
		p, ok := s.pos[h.ID]
		if !ok {
			continue
		}
		out = append(out, neighbourHit{pos: p, dist: h.Distance})
		if len(out) == k {
			break
		}
	}
	return out
}
