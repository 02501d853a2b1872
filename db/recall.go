package db

// Recall-targeted default search. An HNSW collection whose efSearch is
// automatic (0, the default) measures its own recall@10 and searches with
// the smallest ef that meets the DB's recall target (WithRecallTarget,
// 0.95 by default) on the vectors it actually holds, with one standard
// error of the sample to spare (index.DefaultRecallZ), instead of a fixed ef
// whose recall depends on the data (index.AutoEf's 64 reached 0.87 on 20k
// texts of random words). index.HNSW.MeasureRecall does the measuring:
// 200 stored vectors as queries, each hidden from its own search, against
// an exact search of the whole collection (index/recall.go says why hidden
// stored vectors predict the recall of new queries, and why the sample
// size).
//
// When: a collection is measured once it holds recallMinDocs documents,
// again once it has grown by a quarter since the last measurement, after more than
// recallDeleteFrac of the measured documents were deleted, when the target
// or the model changed, and when a writable handle opens a collection
// whose record is missing or out of date by those rules. The measurement
// runs on a goroutine of its own, started after a write's commit (from
// checkpointLocked), so no write waits for it: it reads the in-memory
// graph under the index's read lock in short stretches, like a search,
// while writes go on. Its result is stored under the collection's key
// "recall" (storage.RecallTuning), so a reopen uses it without measuring.
//
// Precedence: a per-query WithEf, then a fixed efSearch (WithHNSW), then
// the measured ef, then index.AutoEf until the first measurement. With a
// fixed efSearch the collection still measures recall at that ef (once, by
// the same rules), so stats tell the user what the fixed ef gives.
//
// Filtered searches use the same ef. Their recall is not measured: the
// index answers selective filters by an exact scan (recall 1) and walks
// the graph for broad ones, where a filter that rejects many of the nodes
// the walk meets lowers recall at a given ef.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vecbolt/vecbolt/index"
	"github.com/vecbolt/vecbolt/storage"
)

// DefaultRecallTarget is the recall@10 an automatic efSearch is chosen to
// meet when WithRecallTarget is not given.
const DefaultRecallTarget = 0.95

const (
	// recallMinDocs is the size at which a collection is first measured:
	// below it index.AutoEf's ef 64 walks a large share of the graph, and
	// a sample of 200 queries would be most of the collection.
	recallMinDocs = 1000
	// recallGrowth and recallDeleteFrac are the changes since the last
	// measurement that call for another: recall at a given ef falls as a
	// graph grows and after many deletes (tombstones and repaired links).
	// The fall is steepest on the 1M clustered bench set: ef 96, measured
	// at 512k (0.961), gave 0.933 to new queries at 1M, 0.03 per
	// doubling, so a growth factor of 2 let the default search end below
	// the target. 1.25 bounds that fall to about 0.01, which the ladder's
	// step and the bound (index.DefaultRecallZ) usually absorb. Measuring
	// costs about n·200 distances, so the measurements up to n together
	// cost what five at n do (1/(1−1/1.25)): by estimate (a 200-query scan
	// of 1M × 384 is 154 GFLOP, about 4 CPU-s, plus 1 s of searches) some
	// 25 CPU-s up to 1M clustered, against some 800 CPU-s of graph build.
	recallGrowth     = 1.25
	recallDeleteFrac = 0.2
)

// WithRecallTarget sets the recall@10 that an HNSW collection's automatic
// efSearch is chosen to meet (default DefaultRecallTarget): the collection
// measures its recall on a sample of its own vectors and searches with the
// smallest ef that meets t. 0 turns the measuring off: searches then use
// index.AutoEf of the document count, as before. A collection created with
// a fixed efSearch (WithHNSW) keeps it, and so does a query's WithEf.
func WithRecallTarget(t float64) Option {
	return func(o *options) { o.recallTarget, o.recallTargetSet = t, true }
}

// recallTarget is the DB's target (0: off).
func (d *DB) recallTarget() float64 {
	if !d.opts.recallTargetSet {
		return DefaultRecallTarget
	}
	return d.opts.recallTarget
}

func checkRecallTarget(o *options) error {
	if t := o.recallTarget; o.recallTargetSet && !(t >= 0 && t <= 1) {
		return fmt.Errorf("%w: recall target %v outside 0..1", ErrInvalidArgument, t)
	}
	return nil
}

// RecallStats is what a collection knows of its search recall (see
// WithRecallTarget).
type RecallStats struct {
	// Target is the recall@K the automatic ef is chosen for; 0 when
	// measuring is off or the collection's efSearch is fixed.
	Target float64
	// Ef is the efSearch a search without WithEf uses now: the fixed one,
	// the measured one, or index.AutoEf before the first measurement.
	Ef int
	// Recall is the recall@K measured at MeasuredEf (0: never measured);
	// Met says it reached Target. MeasuredEf differs from Ef when the
	// collection's efSearch was changed since, and when the collection
	// has grown past the measured count's re-measuring point and not been
	// measured again (Ef is then at least index.AutoEf of the count).
	Recall     float64
	MeasuredEf int
	Met        bool
	// K and Queries describe the measurement: recall@K over Queries stored
	// vectors used as queries.
	K, Queries int
	// Count is the number of documents measured, Measured when.
	Count    int
	Measured time.Time
}

// recallTuner is a collection state's measurement record and the ef its
// searches use. It belongs to one colState: a re-embedding or re-index
// starts a new state, whose vectors are measured anew.
type recallTuner struct {
	// ef is the measured ef for searches without their own (0: none).
	ef atomic.Int64

	mu sync.Mutex
	// rec is the last measurement (loaded or made); nil for none.
	rec *storage.RecallTuning
	// deletes counts documents deleted since rec was measured.
	deletes int
	// running says a background measurement is under way; cancel stops
	// it, and done is closed when it ends.
	running bool
	cancel  context.CancelFunc
	done    chan struct{}

	// runMu serializes measurements (background and TuneRecall).
	runMu sync.Mutex
}

// efFor is the ef of a search: the query's own, else the measured one,
// else 0 (the index's default: a fixed efSearch or index.AutoEf).
func (t *recallTuner) efFor(queryEf int) int {
	if queryEf > 0 || t == nil {
		return queryEf
	}
	return int(t.ef.Load())
}

// noteDeletes counts n deleted documents toward the next measurement.
func (t *recallTuner) noteDeletes(n int) {
	t.mu.Lock()
	t.deletes += n
	t.mu.Unlock()
}

// modelHash identifies the vectors of a state for the record.
func modelHash(st *colState) string {
	if st.cfg.Model == nil {
		return ""
	}
	return st.cfg.Model.Hash
}

// adopt takes a stored record as the state's measurement if it still
// applies to this state and target, and sets the search ef from it. n is
// the live count now. A record measured on a collection that has since
// grown past recallGrowth (a file written before the growth step was
// 1.25, or a handle that cannot measure: read-only) gives an ef that
// was enough for fewer documents, so until it is measured again the
// search uses at least index.AutoEf(n), which grows with the count (the
// 1M clustered file measured at 512k: ef 96 gave 0.930, AutoEf's 128
// 0.960).
func (t *recallTuner) adopt(st *colState, rec *storage.RecallTuning, target float64, n int) {
	if rec == nil || rec.ModelHash != modelHash(st) {
		return
	}
	t.mu.Lock()
	t.rec = rec
	t.mu.Unlock()
	if st.info.EfSearch == 0 && rec.Target == target && target > 0 && rec.Ef > 0 {
		ef := int(rec.Ef)
		if float64(n) >= recallGrowth*float64(rec.Count) {
			ef = max(ef, index.AutoEf(n))
		}
		t.ef.Store(int64(ef))
	}
}

// stale reports whether st needs measuring with n live documents.
func (t *recallTuner) stale(st *colState, n int, target float64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.staleLocked(st, n, target)
}

func (t *recallTuner) staleLocked(st *colState, n int, target float64) bool {
	rec := t.rec
	fixed := st.info.EfSearch
	switch {
	case n < recallMinDocs:
		return false
	case rec == nil || rec.ModelHash != modelHash(st):
		return true
	case fixed > 0:
		return int(rec.Ef) != fixed || float64(n) >= recallGrowth*float64(rec.Count) ||
			float64(t.deletes) > recallDeleteFrac*float64(rec.Count)
	case rec.Target != target:
		return true
	}
	return float64(n) >= recallGrowth*float64(rec.Count) ||
		float64(t.deletes) > recallDeleteFrac*float64(rec.Count) ||
		// Deletes made before a reopen are not counted; the shrink shows them.
		float64(n) < (1-recallDeleteFrac)*float64(rec.Count)
}

// tuneActive reports whether st's collection measures recall at all.
func (c *Collection) tuneActive(st *colState) (*index.HNSW, bool) {
	h, ok := st.idx.(*index.HNSW)
	if !ok || st.tune == nil {
		return nil, false
	}
	return h, c.db.recallTarget() > 0 || st.info.EfSearch > 0
}

// maybeTune starts a background measurement of st when it is due and none
// is running. It returns at once; callers may hold c.writeMu.
func (c *Collection) maybeTune(st *colState) {
	if _, ok := c.tuneActive(st); !ok || c.db.store.ReadOnly() {
		return
	}
	st.liveMu.RLock()
	n := len(st.live)
	st.liveMu.RUnlock()
	t := st.tune
	if !t.stale(st, n, c.db.recallTarget()) {
		return
	}
	t.mu.Lock()
	if t.running {
		t.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.running, t.cancel, t.done = true, cancel, make(chan struct{})
	done := t.done
	t.mu.Unlock()
	go func() {
		defer close(done)
		defer cancel()
		for {
			// A failed measurement leaves the previous ef in place; the
			// next write that finds the record stale tries again.
			_, err := c.tune(ctx, st)
			st.liveMu.RLock()
			n := len(st.live)
			st.liveMu.RUnlock()
			// Writes made while it ran found it running and started
			// nothing: measure again if they made the result stale.
			t.mu.Lock()
			if err != nil || ctx.Err() != nil || !t.staleLocked(st, n, c.db.recallTarget()) {
				t.running = false
				t.mu.Unlock()
				return
			}
			t.mu.Unlock()
		}
	}()
}

// stopTune cancels st's background measurement and waits for it to end.
// The caller must not hold c.writeMu (the measurement takes it to store
// its result).
func (t *recallTuner) stop() {
	if t == nil {
		return
	}
	t.mu.Lock()
	cancel, done, running := t.cancel, t.done, t.running
	t.mu.Unlock()
	if running {
		cancel()
		<-done
	}
}

// errStateReplaced stops a measurement whose state was replaced.
var errStateReplaced = errors.New("vecbolt: collection was re-embedded or re-indexed during the recall measurement")

// tune measures st's recall, sets its search ef and stores the record.
func (c *Collection) tune(ctx context.Context, st *colState) (RecallStats, error) {
	h, ok := c.tuneActive(st)
	if !ok {
		return RecallStats{}, fmt.Errorf("%w: collection %q does not measure recall (flat index, or recall target 0 with automatic efSearch)", ErrInvalidArgument, c.name)
	}
	t := st.tune
	t.runMu.Lock()
	defer t.runMu.Unlock()
	target := c.db.recallTarget()
	opts := index.RecallOptions{Target: target}
	if fixed := st.info.EfSearch; fixed > 0 {
		opts.Efs, opts.Target, target = []int{fixed}, 0, 0
	}
	t.mu.Lock()
	deletes0 := t.deletes
	if prev := t.rec; prev != nil && opts.Target > 0 && prev.Ef > 0 {
		// Only where the search starts: the answer is the same, but a
		// re-measurement that moves a step or none costs two or three
		// searches near the last ef, not a binary search up the ladder.
		opts.StartEf = int(prev.Ef)
	}
	t.mu.Unlock()
	opts.Seed = uint64(h.Len())
	rep, err := h.MeasureRecall(ctx, opts)
	if err != nil {
		return RecallStats{}, fmt.Errorf("vecbolt: measure recall of collection %q: %w", c.name, err)
	}
	rec := &storage.RecallTuning{
		Target: target, Recall: rep.Recall, Ef: uint32(rep.Ef), Met: rep.Met,
		K: uint32(rep.K), Queries: uint32(rep.Queries), Count: uint64(rep.Live),
		MeasuredUnix: time.Now().Unix(), ModelHash: modelHash(st),
	}
	if math.IsNaN(rep.Recall) {
		rec.Recall = 0
	}
	// Store first, then publish: the record and the ef in use agree
	// unless the store fails, when the ef still applies to this handle.
	if !c.db.store.ReadOnly() {
		leave, err := c.db.tryEnterWrite()
		if err != nil {
			return RecallStats{}, err
		}
		c.writeMu.Lock()
		if c.dropped.Load() || c.st.Load() != st {
			err = errStateReplaced
		} else {
			err = c.db.store.Update(func(tx *storage.Tx) error {
				ctx, err := tx.Collection(c.name)
				if err != nil {
					return err
				}
				return ctx.PutRecallTuning(rec)
			})
		}
		c.writeMu.Unlock()
		leave()
		if err != nil {
			return RecallStats{}, fmt.Errorf("vecbolt: store recall of collection %q: %w", c.name, err)
		}
	}
	t.mu.Lock()
	t.rec = rec
	t.deletes -= deletes0
	t.mu.Unlock()
	if st.info.EfSearch == 0 {
		t.ef.Store(int64(rep.Ef))
	}
	return c.recallStats(st, rep.Live), nil
}

// tryEnterWrite is enterWrite for a measurement's store: it fails with
// ErrClosed instead of waiting when Close is under way, since Close waits
// for the measurement to end (recallTuner.stop) while holding d.mu.
func (d *DB) tryEnterWrite() (func(), error) {
	if !d.mu.TryRLock() {
		return nil, ErrClosed
	}
	if d.closed {
		d.mu.RUnlock()
		return nil, ErrClosed
	}
	return d.mu.RUnlock, nil
}

// TuneRecall measures the collection's recall now, as the background
// measurement does when the collection has grown or shrunk enough (see
// WithRecallTarget), and returns the result: with an automatic efSearch,
// searches without WithEf use the ef it chose from then on. It waits for a
// background measurement in progress, and fails with ErrInvalidArgument on
// a flat collection or when measuring is off, and with an error wrapping
// index.ErrTooSmall when the collection holds 10 documents or fewer. It
// stores the result except on a read-only handle. ctx stops it.
func (c *Collection) TuneRecall(ctx context.Context) (RecallStats, error) {
	leave, st, err := c.enter(false)
	if err != nil {
		return RecallStats{}, err
	}
	// Not held across the measurement: storing its result enters again as
	// a writer, and Close must not wait for seconds of measuring.
	leave()
	return c.tune(ctx, st)
}

// recallStats describes st's measurement for Info with n live documents.
func (c *Collection) recallStats(st *colState, n int) RecallStats {
	if _, ok := st.idx.(*index.HNSW); !ok {
		return RecallStats{}
	}
	out := RecallStats{Ef: st.info.EfSearch}
	if out.Ef == 0 {
		if out.Target = c.db.recallTarget(); out.Target > 0 {
			out.Ef = int(st.tune.ef.Load())
		}
		if out.Ef == 0 {
			out.Ef = index.AutoEf(n)
		}
	}
	st.tune.mu.Lock()
	rec := st.tune.rec
	st.tune.mu.Unlock()
	fillRecall(&out, rec)
	return out
}

// fillRecall copies a measurement record into s.
func fillRecall(s *RecallStats, rec *storage.RecallTuning) {
	if rec == nil {
		return
	}
	s.Recall, s.MeasuredEf, s.Met = rec.Recall, int(rec.Ef), rec.Met
	s.K, s.Queries, s.Count = int(rec.K), int(rec.Queries), int(rec.Count)
	s.Measured = time.Unix(rec.MeasuredUnix, 0)
}

// storedRecall describes a collection's stored record for DB.Collections,
// which reads configurations without loading indexes: Ef is the stored ef
// when it applies to target, else the fixed or automatic one.
func storedRecall(c *storage.CollectionTx, info CollectionInfo, target float64) RecallStats {
	if info.Index != IndexHNSW {
		return RecallStats{}
	}
	out := RecallStats{Ef: info.EfSearch}
	rec, ok, err := c.RecallTuning()
	if err != nil {
		// The record is a cache; a damaged one is measured anew.
		rec, ok = nil, false
	}
	if ok && rec.ModelHash != info.Model.Hash {
		rec, ok = nil, false
	}
	if out.Ef == 0 {
		out.Target = target
		if ok && target > 0 && rec.Target == target {
			out.Ef = int(rec.Ef)
			if float64(info.Count) >= recallGrowth*float64(rec.Count) {
				out.Ef = max(out.Ef, index.AutoEf(info.Count)) // as adopt does
			}
		}
		if out.Ef == 0 {
			out.Ef = index.AutoEf(info.Count)
		}
	}
	fillRecall(&out, rec)
	return out
}

// loadRecall reads the stored record into a freshly loaded state.
func (d *DB) loadRecall(c *storage.CollectionTx, st *colState) {
	if _, ok := st.idx.(*index.HNSW); !ok {
		return
	}
	rec, ok, err := c.RecallTuning()
	if err != nil || !ok {
		return // missing or damaged: measured anew
	}
	st.tune.adopt(st, rec, d.recallTarget(), st.idx.(*index.HNSW).Len())
}
