package index

// Recall self-measurement: the graph estimates its own recall@k against an
// exact search, so that a caller can pick the smallest efSearch that meets a
// target on the data actually stored instead of trusting a fixed ef (whose
// recall depends on the data: AutoEf's 64 gives 0.997 on the clustered
// bench set at 100k and about 0.87 on random-word texts at 20k).
//
// The queries are stored vectors, each hidden from its own search: the walk
// neither returns nor passes through the query's node (SearchOptions.hide),
// and the exact answer leaves it out too. Querying with a stored vector as
// it is would overstate recall: the greedy descent homes in on the node
// that is the query, whose own links were chosen, at efConstruction, to be
// its nearest neighbours, so the walk is handed the answer. A new query
// from the same distribution has no such node. Hiding the node removes
// that advantage; what remains of the query's presence is its effect on
// its neighbours' links at build time (the selection heuristic may have
// pruned links between them in its favour), which makes the hidden search
// slightly harder than a real one. Measured against new queries from the
// same distribution, the estimate came within about 0.01 either way
// (index's TestMeasureRecallPredictsFreshQueries, BENCHMARKS.md's "Recall
// target and deletes at scale"); on the 1M clustered bench set, 2,000
// hidden queries estimated 0.922, 0.952 and 0.978 at ef 96, 128 and 192
// where 1,000 new queries got 0.933, 0.959 and 0.983: slightly low, as
// the pruning argument predicts. Perturbing a stored vector with isotropic noise does
// not help: in hundreds of dimensions such noise is nearly orthogonal to
// every difference vector, so it adds about the same to every distance and
// the stored vector stays the query's nearest neighbour.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"unsafe"
)

// RecallOptions configures MeasureRecall.
type RecallOptions struct {
	// Queries is the number of stored vectors used as queries (default
	// DefaultRecallQueries; fewer when the graph holds fewer than
	// Queries+K vectors, and none below that).
	Queries int
	// K is the recall's k (default 10).
	K int
	// Efs lists the efSearch values to consider, ascending (default
	// RecallEfLadder). MeasureRecall measures as few as it needs: a binary
	// search for the smallest that meets Target.
	Efs []int
	// Target is the recall@K sought. 0 measures every ef in Efs.
	Target float64
	// Z is how many standard errors below its estimate an ef's recall
	// must still reach Target for that ef to be chosen (default
	// DefaultRecallZ; negative: the estimate itself must reach it). The
	// standard error is the sample's (RecallPoint.StdErr), so the bound
	// covers the luck of the draw, not a bias of the estimator.
	Z float64
	// Seed picks the sample; the same seed on the same graph gives the
	// same sample.
	Seed uint64
	// StartEf, when positive, is where the search for the smallest ef
	// meeting Target begins (a previous measurement's choice; the first
	// ef of Efs at or above it): it walks down from there while the
	// target is met and up while it is not, in growing strides, and
	// finishes with a binary search inside the bracket found. When recall
	// grows with ef the answer is the binary search's over all of Efs,
	// but a re-measurement whose answer moved a step or none measures two
	// or three efs near it instead of log2(len(Efs)) spread over the
	// whole ladder, whose top ones cost most: at 1M text documents, the
	// recall searches of a re-measurement from the bottom were 19% of
	// the CPU of the 50,000 inserts around it (BENCHMARKS.md, "1M text
	// documents").
	StartEf int
}

// DefaultRecallQueries is MeasureRecall's default sample: 200 queries
// give 2,000 neighbours at k = 10, which puts the standard error of a
// measured recall near 0.95 at about 0.007 (1M clustered; 0.005 if the
// neighbours were independent, but a query's misses come together), which
// the bound (DefaultRecallZ) allows for, while the exact search over n vectors costs 200·n
// distances: about 0.4 s of one core at 100k × 384 and 4 s at 1M, against
// minutes to build such graphs.
const DefaultRecallQueries = 200

// RecallEfLadder is the default set of efSearch values MeasureRecall
// chooses from: steps of about 1.5×, so the ef chosen is at most about
// 1.5 times the smallest one that meets the target.
var RecallEfLadder = []int{10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512, 640, 768, 1024, 1280, 1536, 2048}

// DefaultRecallZ is MeasureRecall's default Z: an ef is chosen when its
// estimate minus one standard error reaches the target. With 200 queries
// the standard error near recall 0.95 was 0.007 on 1M clustered vectors
// (2,000 hidden queries: 0.0022, and the error grows as 1/√queries), as
// large as the gap between neighbouring efs of the ladder near the
// target (1M clustered, hidden estimates: ef 96 0.922, 128 0.952), so
// choosing on the estimate alone takes an ef whose true recall is just
// below the target whenever the sample lands above it (BENCHMARKS.md's
// 100k random-word fresh build: estimate 0.963, new queries 0.9556).
const DefaultRecallZ = 1.0

// RecallPoint is the measured recall at one ef.
type RecallPoint struct {
	Ef     int
	Recall float64
	// StdErr is the standard error of Recall over the sample's queries
	// (see recallStdErr); Lower is Recall − Z·StdErr, what MeasureRecall
	// compares with the target.
	StdErr, Lower float64
}

// RecallReport is what MeasureRecall found.
type RecallReport struct {
	// Queries and K describe the sample; Live is the graph's live count
	// when the sample was drawn.
	Queries, K, Live int
	// Points holds every ef measured, ascending.
	Points []RecallPoint
	// Ef is the smallest measured ef whose lower bound (RecallPoint.Lower)
	// met Target, or the largest ef of the ladder when none did (Met is
	// then false). With Target 0 it is the largest ef. Recall is the
	// estimate at Ef, Lower its bound.
	Ef            int
	Recall, Lower float64
	Met           bool
}

// ErrTooSmall reports a graph with too few vectors to measure recall on.
var ErrTooSmall = errors.New("index: too few vectors to measure recall")

// recallChunk is how many slots the exact search scores per read lock:
// long enough to amortize the lock, short enough that a writer waiting
// for mu (and the searches queued behind it) waits microseconds, not the
// whole scan.
const recallChunk = 4096

// MeasureRecall estimates the graph's recall@K at each ef it tries, using
// stored vectors as queries hidden from their own searches (see the file
// comment), and the smallest ef that meets opts.Target. It runs alongside
// searches and writes: it holds the read lock only in short stretches, so
// vectors added or deleted while it runs may be missing from, or linger
// in, the exact answers, which can only lower the estimate. ctx stops it
// between steps. On an int8 graph, recall is measured against an exact
// search of the int8 codes: the walk's own accuracy, before any re-rank.
func (h *HNSW) MeasureRecall(ctx context.Context, opts RecallOptions) (RecallReport, error) {
	if opts.Queries == 0 {
		opts.Queries = DefaultRecallQueries
	}
	if opts.K == 0 {
		opts.K = 10
	}
	if opts.Efs == nil {
		opts.Efs = RecallEfLadder
	}
	if opts.Z == 0 {
		opts.Z = DefaultRecallZ
	}
	opts.Z = max(opts.Z, 0)
	switch {
	case opts.Queries < 0 || opts.K < 0:
		return RecallReport{}, fmt.Errorf("index: recall sample of %d queries at k %d", opts.Queries, opts.K)
	case len(opts.Efs) == 0 || !slices.IsSorted(opts.Efs) || opts.Efs[0] < 1:
		return RecallReport{}, fmt.Errorf("index: recall ef list %v must be ascending and positive", opts.Efs)
	case !(opts.Target >= 0 && opts.Target <= 1):
		return RecallReport{}, fmt.Errorf("index: recall target %v outside 0..1", opts.Target)
	case math.IsNaN(opts.Z) || math.IsInf(opts.Z, 0):
		return RecallReport{}, fmt.Errorf("index: recall bound %v standard errors is not finite", opts.Z)
	}
	ids, qs, live := h.recallSample(opts)
	if h.closedNow() {
		return RecallReport{}, ErrClosed
	}
	if len(ids) == 0 {
		return RecallReport{}, fmt.Errorf("%w: %d live, need more than %d", ErrTooSmall, live, opts.K)
	}
	truth, scanned, err := h.recallTruth(ctx, ids, qs, opts.K, recallChunk, nil)
	if err != nil {
		return RecallReport{}, err
	}
	rep := RecallReport{Queries: len(ids), K: opts.K, Live: live}
	measured := make(map[int]float64)
	// at returns the lower bound at ef, which decides.
	at := func(ef int) (float64, error) {
		if r, ok := measured[ef]; ok {
			return r, nil
		}
		r, se, err := h.recallAt(ctx, ids, qs, truth, scanned, opts.K, ef)
		if err != nil {
			return 0, err
		}
		p := RecallPoint{Ef: ef, Recall: r, StdErr: se, Lower: r - opts.Z*se}
		measured[ef] = p.Lower
		rep.Points = append(rep.Points, p)
		return p.Lower, nil
	}
	if opts.Target == 0 {
		for _, ef := range opts.Efs {
			if _, err := at(ef); err != nil {
				return RecallReport{}, err
			}
		}
	} else {
		if _, err := searchLadder(at, opts.Efs, opts.Target, opts.StartEf); err != nil {
			return RecallReport{}, err
		}
	}
	slices.SortFunc(rep.Points, func(a, b RecallPoint) int { return a.Ef - b.Ef })
	last := rep.Points[len(rep.Points)-1]
	rep.Ef, rep.Recall, rep.Lower = last.Ef, last.Recall, last.Lower
	for _, p := range rep.Points {
		if opts.Target > 0 && p.Lower >= opts.Target {
			rep.Ef, rep.Recall, rep.Lower, rep.Met = p.Ef, p.Recall, p.Lower, true
			break
		}
	}
	return rep, nil
}

// searchLadder returns the index of the smallest ef of efs whose bound
// (at) meets target, or the top index when none does, measuring as few as
// it can (at caches). Recall grows with ef (up to sampling noise), so a
// binary search over the ladder finds it in log2(len) measurements; with
// start > 0 the search is first narrowed around start (bracketFrom). In
// the binary search hi is the lowest index known to meet the target, or
// the top of the ladder, which is chosen (unmet) when nothing meets it;
// every index below lo is known not to.
func searchLadder(at func(ef int) (float64, error), efs []int, target float64, start int) (int, error) {
	lo, hi := 0, len(efs)-1
	if start > 0 {
		i, _ := slices.BinarySearch(efs, start)
		var err error
		if lo, hi, err = bracketFrom(at, efs, min(i, hi), target); err != nil {
			return 0, err
		}
	}
	for lo < hi {
		mid := (lo + hi) / 2
		r, err := at(efs[mid])
		if err != nil {
			return 0, err
		}
		if r >= target {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	_, err := at(efs[lo])
	return lo, err
}

// bracketFrom narrows the search for the smallest index of efs whose
// bound (at) meets target, starting at index i: it walks down in strides
// of 1, 2, 4, ... while the target is met, or up while it is not, and
// returns the bracket [lo, hi] left for the binary search (every index
// below lo is known not to meet target; hi meets it, or is the top).
func bracketFrom(at func(ef int) (float64, error), efs []int, i int, target float64) (lo, hi int, err error) {
	r, err := at(efs[i])
	if err != nil {
		return 0, 0, err
	}
	if r >= target {
		first := i // the lowest index known to meet target
		for step := 1; first > 0; step *= 2 {
			j := max(0, first-step)
			if r, err = at(efs[j]); err != nil {
				return 0, 0, err
			}
			if r < target {
				return j + 1, first, nil
			}
			first = j
		}
		return 0, 0, nil
	}
	top := len(efs) - 1
	last := i // the highest index known not to meet target
	for step := 1; last < top; step *= 2 {
		j := min(top, last+step)
		if r, err = at(efs[j]); err != nil {
			return 0, 0, err
		}
		if r >= target {
			return last + 1, j, nil
		}
		last = j
	}
	// Nothing up to the top meets it: the top is chosen, unmet.
	return top, top, nil
}

// recallSample draws the query vectors: distinct live slots chosen
// uniformly, as the graph stores them (normalized under Cosine; int8
// graphs decode their codes).
func (h *HNSW) recallSample(opts RecallOptions) (ids []uint64, qs [][]float32, live int) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	live = h.live
	n := min(opts.Queries, live-opts.K)
	if n <= 0 {
		return nil, nil, live
	}
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5851f42d4c957f2d))
	seen := make(map[uint32]bool, n)
	for len(ids) < n {
		slot := uint32(rng.IntN(len(h.ids)))
		if h.state[slot] != slotLive || seen[slot] {
			continue // live ≥ n+K, so live slots are never scarce enough to stall
		}
		seen[slot] = true
		ids = append(ids, h.ids[slot])
		if h.q8 {
			qs = append(qs, h.decode8(slot, make([]float32, h.dim)))
		} else {
			qs = append(qs, slices.Clone(h.vec(slot)))
		}
	}
	return ids, qs, live
}

// recallTruth computes each query's exact k nearest live vectors (the
// query's own ID excluded) with the graph's distance, scanning the slots
// once for all queries, in chunks under the read lock. scanned[slot] is
// the ID+1 the scan found live in slot (0: none), so that the searches can
// leave out vectors added after the scan passed their slot: the exact
// answers never saw them, and counting them as misses would understate
// recall by as much as the collection grows while it is measured.
// between, when set, runs after each stretch with the lock released (tests
// grow the graph there).
func (h *HNSW) recallTruth(ctx context.Context, ids []uint64, qs [][]float32, k, chunk int, between func()) (truth [][]uint64, scanned []uint64, err error) {
	heaps := make([]resultMaxHeap, len(qs))
	hq := make([]hnswQuery, len(qs))
	for i, q := range qs {
		hq[i].f = q
		if h.q8 {
			row := make([]int8, h.rowLen)
			encodeRow8(row, q, h.metric)
			hq[i].q = h.ref8Row(row)
		}
	}
	var rows [hnswHop]*float32
	var slots [hnswHop]uint32
	var ds [hnswHop]float32
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		h.mu.RLock()
		// Each stretch starts where the last one ended; the graph may
		// have grown in between (slots are only ever added), and the scan
		// goes on until it has caught up with it.
		start := len(scanned)
		end := min(start+chunk, len(h.ids))
		if start >= end {
			h.mu.RUnlock()
			break
		}
		scanned = slices.Grow(scanned, end-start)
		offer := func(i int, slot uint32, d float32) {
			id := h.ids[slot]
			if id == ids[i] {
				return
			}
			r := Result{ID: id, Distance: d}
			if len(heaps[i]) < k {
				heaps[i].push(r)
			} else if resultLessHNSW(r, heaps[i][0]) {
				heaps[i].replaceTop(r)
			}
		}
		for n := start; n < end; {
			// Up to hnswHop live rows at a time, scored per query in one
			// kernel call (float32 graphs) while they are in cache.
			c := 0
			for ; n < end && c < hnswHop; n++ {
				scanned = append(scanned, 0)
				if h.state[n] == slotLive {
					scanned[n] = h.ids[n] + 1
					slots[c] = uint32(n)
					if !h.q8 {
						rows[c] = unsafe.SliceData(h.vec(uint32(n)))
					}
					c++
				}
			}
			for i := range qs {
				if h.q8 {
					for j := range c {
						offer(i, slots[j], h.dist8(slots[j], &hq[i].q))
					}
					continue
				}
				h.scoreRows(qs[i], rows[:c], ds[:c])
				for j := range c {
					offer(i, slots[j], ds[j])
				}
			}
		}
		h.mu.RUnlock()
		if between != nil {
			between()
		}
	}
	truth = make([][]uint64, len(qs))
	for i := range heaps {
		slices.SortFunc(heaps[i], cmpResult)
		for _, r := range heaps[i] {
			truth[i] = append(truth[i], r.ID)
		}
	}
	return truth, scanned, nil
}

// recallAt is the mean recall@k of hidden searches at ef over the vectors
// the exact scan saw, and its standard error (recallStdErr). True
// neighbours deleted since the scan count neither as hits nor as misses:
// the search cannot return them, and its k results then rightly hold the
// next ones, which the exact answer lacks.
func (h *HNSW) recallAt(ctx context.Context, ids []uint64, qs [][]float32, truth [][]uint64, scanned []uint64, k, ef int) (recall, stdErr float64, err error) {
	hits := make([]int, len(qs))
	totals := make([]int, len(qs))
	var res []Result
	// Called under mu.RLock by the search, so idmap may be read.
	seen := func(id uint64) bool {
		n, ok := h.idmap[id]
		return ok && int(n) < len(scanned) && scanned[n] == id+1
	}
	for i, q := range qs {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		res, err = h.SearchInto(res, q, SearchOptions{K: k, Ef: ef, Filter: seen, hide: ids[i], hasHide: true})
		if err != nil {
			return 0, 0, fmt.Errorf("index: recall search: %w", err)
		}
		for _, id := range truth[i] {
			if !h.Contains(id) {
				continue
			}
			totals[i]++
			if slices.ContainsFunc(res, func(r Result) bool { return r.ID == id }) {
				hits[i]++
			}
		}
	}
	recall, stdErr = recallStdErr(hits, totals)
	return recall, stdErr, nil
}

// recallStdErr is the pooled recall Σhits/Σtotals of a sample of queries
// and its standard error as a ratio estimator over the queries, the
// sampled unit: √(n/(n−1)·Σ(hitsᵢ − R·totalsᵢ)²)/Σtotals. Treating the
// k·n neighbours as independent draws would understate it, since a
// query's misses come together (a walk that missed one region misses
// all of its neighbours there): on 1M clustered vectors at recall 0.95
// the per-query estimate was 1.5× the binomial one (0.0022 against 0.0015 for 2,000 queries). NaN recall (and 0
// error) when no query has a neighbour to find; a single query has
// error 0.
func recallStdErr(hits, totals []int) (recall, stdErr float64) {
	var h, t int
	for i := range hits {
		h += hits[i]
		t += totals[i]
	}
	if t == 0 {
		return math.NaN(), 0
	}
	r := float64(h) / float64(t)
	n := 0
	var ss float64
	for i := range hits {
		if totals[i] == 0 {
			continue
		}
		n++
		e := float64(hits[i]) - r*float64(totals[i])
		ss += e * e
	}
	if n < 2 {
		return r, 0
	}
	return r, math.Sqrt(float64(n)/float64(n-1)*ss) / float64(t)
}
