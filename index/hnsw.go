package index

// HNSW graph (Malkov & Yashunin, "Efficient and robust approximate nearest
// neighbor search using Hierarchical Navigable Small World graphs").
//
// Why our own implementation: github.com/coder/hnsw, the only Go HNSW on the
// module proxy that the design considered, reaches recall@10 ≈ 0.17 on
// clustered data whatever ef is, panics on re-adding a key and has no locking
// (see shared/notes/anchors.md). This one follows hnswlib's memory layout.
//
// Layout:
//   - Nodes have dense uint32 "slot" ids; ids[slot] is the caller's uint64 ID
//     and idmap maps back. Deleted slots are tombstoned, later repaired away
//     and recycled through a free list.
//   - Vectors live in segments of hnswSegSize rows, so growth allocates one
//     new segment and never copies existing vectors. With WithInt8 the rows
//     are int8 codes plus per-vector scalars instead (hnsw_int8.go), and
//     every distance the graph computes is an int8 one. Float32 segments
//     (and the visited marks of large graphs) ask for transparent huge
//     pages (hugepage_linux.go): at 200k × 384 that made searches
//     1.06–1.36× faster per CPU second (TLB misses). Beyond the first
//     4 MiB, segments are mapped outside the Go heap (arena.go: why, and
//     the lifetime rules that keep it safe); Close unmaps them.
//   - Layer-0 links are fixed-size uint32 arrays ([count, n1..n2M]) in
//     segments of the same size; upper-layer links exist only for nodes with
//     level > 0 (one small slice each, level×(M+1) words). A new node
//     selects 2M layer-0 links by default (WithNewNodeLinks).
//
// Reachability: the selection heuristic may prune a node's last in-link
// (hnswlib has the same property), which would hide it from every search.
// Layer-0 in-link counts catch those orphans as they happen and fixOrphans
// links them back after each write; islands that keep in-links among
// themselves (e.g. more than 2M copies of one vector) are bridged by a
// reachability pass that runs after every slots/16 inserted vectors and in
// Compact. The reverse, a group that walks enter and cannot leave, is
// what copies of one vector made when every copy's list filled with the
// others: a list keeps at most half its links to copies of its own vector
// (selectNeighbors). Searches also fall back to an exact scan when a walk
// runs out of nodes without filling its list while some node was not
// reached.
//
// Concurrency (any number of searches, one writer; AddBatch runs several
// inserting goroutines that cooperate as "one writer"):
//   - wmu serializes writer operations (Add, AddBatch, Delete, compaction,
//     WriteTo).
//   - mu protects the structure: slot allocation, segment growth, ids,
//     idmap, node state, levels and the entry point change only under
//     mu.Lock, which is held for microseconds. Searches and the linking phase
//     of inserts hold mu.RLock.
//   - Link words are read and written with sync/atomic so searches never
//     take a per-node lock; a reader may see a list mid-update, which only
//     mixes valid node ids. Inserting goroutines serialize their
//     read-modify-write of one list through a striped mutex.
//   - A slot's vector is only rewritten under mu.Lock, after compaction has
//     removed every link to it, so no search can be reading it.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
)

const (
	hnswSegShift = 10
	hnswSegSize  = 1 << hnswSegShift
	hnswSegMask  = hnswSegSize - 1
	// hnswMaxLevel caps drawn levels; with M ≥ 2 reaching it has probability
	// below 2^-31 per node, and the cap keeps levels in one byte and bounds
	// what a decoder must accept.
	hnswMaxLevel    = 31
	hnswLockStripes = 1024
	// hnswMaxSlots keeps slot ids clear of the uint32 limit.
	hnswMaxSlots = 1<<32 - 2
)

// Slot states.
const (
	slotLive uint8 = iota
	slotDeleted
	slotFree
)

// ErrHNSWConfig reports an invalid HNSW option or parameter.
var ErrHNSWConfig = errors.New("index: invalid HNSW configuration")

// ErrDuplicateID reports the same ID twice in one AddBatch call.
var ErrDuplicateID = errors.New("index: duplicate ID in batch")

// HNSWOption configures NewHNSW.
type HNSWOption func(*hnswConfig)

type hnswConfig struct {
	m         int
	efC       int
	efS       int
	seed      uint64
	compact   float64
	workers   int
	exactFrac float64
	q8        bool
	// newL0 is how many layer-0 links an insert selects for the new node
	// (0: the default, defaultNewL0).
	newL0 int
	// loader supplies the live vectors of a snapshot that keeps them
	// outside, and stale names those it may lack (ReadHNSW only; see
	// WithVectorLoader and WithStaleVectors).
	loader VectorLoader
	stale  func(id uint64) bool
	// arenaAll puts every vector segment in the arena, small graphs too
	// (withArenaOnly; tests of the arena).
	arenaAll bool
	// fullReselect turns off link's incremental selection
	// (withFullReselect; the tests that prove it exact).
	fullReselect bool
	// noPrefault leaves a loaded graph's vector segments to fault in as
	// the loader writes them (withoutPrefault; tests of the fallback).
	noPrefault bool
}

// WithM sets the number of links per node on upper layers; layer-0 lists
// hold up to 2M. Default 16.
func WithM(m int) HNSWOption { return func(c *hnswConfig) { c.m = m } }

// WithNewNodeLinks sets how many layer-0 neighbours an insert selects for
// the new node, 1..2M; 0 keeps the default, 2M. Layer-0 lists hold up to 2M
// either way: later inserts' back-links fill them. M (the HNSW paper's
// Algorithm 1 and hnswlib) makes inserts cheaper, as each insert re-selects
// fewer full neighbour lists, and the graph sparser; see
// defaultNewNodeLinks for the measured trade-off.
func WithNewNodeLinks(k int) HNSWOption { return func(c *hnswConfig) { c.newL0 = k } }

// defaultNewNodeLinks is the number of layer-0 links a new node selects when
// WithNewNodeLinks is not given, for M links per upper-layer list: 2M.
// Measured against M (BENCHMARKS.md, "New nodes' layer-0 links: M or 2M"):
// M built 30k text vectors of the built-in model in 12.1 instead of 16.0
// CPU s (100k: 64.7 against 79.1) but 100k clustered ones in as much CPU
// (45.1 against 43.0); its searches need 10% fewer distance evaluations
// for recall@10 0.95 on the text set and as many for 0.99, so neither wins
// at equal recall by a margin; and after deleting half of a graph
// (index/recall_delete_test.go), the repaired 2M graph reached a fresh
// build's recall at ef 56 with 1% more work, the M graph not below ef 64,
// with 16% more.
func defaultNewNodeLinks(m int) int { return 2 * m }

// WithEfConstruction sets the candidate list size used while inserting.
// Default 200.
func WithEfConstruction(ef int) HNSWOption { return func(c *hnswConfig) { c.efC = ef } }

// WithEfSearch sets the default candidate list size of Search (it is raised
// to k when k is larger). 0, the default, lets it grow with the graph (see
// AutoEf).
func WithEfSearch(ef int) HNSWOption { return func(c *hnswConfig) { c.efS = ef } }

// AutoEf is the efSearch of a graph of live vectors when none is set: 64 up
// to 100,000 vectors, then 64 more per tenfold (128 at a million). A fixed
// ef loses recall as a graph grows: on the clustered 384-dim set of bench/,
// ef 64 reaches recall@10 0.997 at 100k but 0.87 at 1M, where ef 128
// reaches 0.96 (BENCHMARKS.md).
func AutoEf(live int) int {
	if live <= 100_000 {
		return 64
	}
	return int(math.Round(64 * (1 + math.Log10(float64(live)/100_000))))
}

// WithSeed fixes the random level draws so builds are reproducible.
// Default 1 (builds are deterministic unless a different seed is given).
func WithSeed(seed int64) HNSWOption { return func(c *hnswConfig) { c.seed = uint64(seed) } }

// withCompactThreshold sets the fraction of tombstoned slots (of all slots)
// at which a write triggers a repair that reconnects the neighbours of
// deleted nodes and recycles their slots. 0 disables automatic repair
// (Compact can still be called). Default 0.1.
func withCompactThreshold(frac float64) HNSWOption {
	return func(c *hnswConfig) { c.compact = frac }
}

// WithBuildWorkers sets how many goroutines AddBatch uses. Default
// runtime.GOMAXPROCS(0).
func WithBuildWorkers(n int) HNSWOption { return func(c *hnswConfig) { c.workers = n } }

// withArenaOnly allocates every vector segment outside the Go heap, not
// only those beyond arenaMinBytes (arena.go), so that tests exercise the
// arena with small graphs.
func withArenaOnly() HNSWOption { return func(c *hnswConfig) { c.arenaAll = true } }

// withFullReselect makes every back-link into a full list re-run the
// selection heuristic over the whole list, as before selectClosedPlus
// existed: the reference that the incremental selection must match list
// for list.
func withFullReselect() HNSWOption { return func(c *hnswConfig) { c.fullReselect = true } }

// withoutPrefault makes ReadHNSW's vector loader write segments that were
// not mapped in ahead (prefault), as on kernels that refuse the advice, so
// that tests compare the two paths.
func withoutPrefault() HNSWOption { return func(c *hnswConfig) { c.noPrefault = true } }

// withExactFraction sets the filter selectivity (fraction of live vectors
// the filter accepts, given through SearchOptions.MatchEstimate or
// SearchOptions.Candidates) below which a filtered search scans the matching
// vectors exactly instead of walking the graph. Default
// defaultExactFraction.
func withExactFraction(f float64) HNSWOption { return func(c *hnswConfig) { c.exactFrac = f } }

// defaultExactFraction is where a filtered search switches from the graph
// walk to an exact scan. Measured on 100k × 384 clustered vectors, ef 64,
// k 10, CPU time per query (BenchmarkHNSWFilter):
//
//	match   walk     scan all + filter   score Candidates
//	50%     196 µs   7.7 ms              13.7 ms
//	10%     730 µs   2.6 ms              2.9 ms
//	5%      1.5 ms   1.5 ms              1.5 ms
//	3%      1.6 ms   620 µs              231 µs
//	1%      1.6 ms   253 µs              77 µs
//	0.1%    2.1 ms   214 µs              <10 µs
//
// The walk gets slower and less accurate as the filter tightens (it must
// pass many rejected nodes to fill its list), the exact routes faster. The
// crossover is near 5%; 3% leaves margin for filters costlier than the
// benchmark's, since the scan calls the filter once per vector.
const defaultExactFraction = 0.03

func (c *hnswConfig) validate(dim int, m Metric) error {
	switch {
	case dim <= 0 || dim > 1<<16:
		return fmt.Errorf("%w: dimension %d (want 1..65536)", ErrHNSWConfig, dim)
	case !m.Valid():
		return fmt.Errorf("%w: metric %v", ErrHNSWConfig, m)
	case c.m < 2 || c.m > 1024:
		return fmt.Errorf("%w: M %d (want 2..1024)", ErrHNSWConfig, c.m)
	case c.newL0 < 0 || c.newL0 > 2*c.m:
		return fmt.Errorf("%w: new-node links %d (want 0 for the default, or 1..2M = %d)", ErrHNSWConfig, c.newL0, 2*c.m)
	case c.efC < 1 || c.efC > 1<<20:
		return fmt.Errorf("%w: efConstruction %d (want 1..1048576)", ErrHNSWConfig, c.efC)
	case c.efS < 0 || c.efS > 1<<20:
		return fmt.Errorf("%w: efSearch %d (want 0 for automatic, or 1..1048576)", ErrHNSWConfig, c.efS)
	case !(c.compact >= 0 && c.compact <= 1):
		return fmt.Errorf("%w: compact threshold %v (want 0..1)", ErrHNSWConfig, c.compact)
	case c.workers < 1 || c.workers > 1024:
		return fmt.Errorf("%w: build workers %d (want 1..1024)", ErrHNSWConfig, c.workers)
	case !(c.exactFrac >= 0 && c.exactFrac <= 1):
		return fmt.Errorf("%w: exact fraction %v (want 0..1)", ErrHNSWConfig, c.exactFrac)
	}
	return nil
}

// HNSW is an approximate nearest-neighbour index: a hierarchical navigable
// small-world graph. It implements Index and is safe for concurrent use by
// any number of searching goroutines and one writing goroutine (extra
// writers are serialized). Filters run while the graph is read-locked and
// must not call back into the same HNSW.
type HNSW struct {
	wmu sync.Mutex
	mu  sync.RWMutex

	// Fixed at construction.
	dim       int
	metric    Metric
	m, m0     int
	newL0     int // layer-0 links a new node selects (1..m0; see WithNewNodeLinks)
	efC, efS  int
	mL        float64
	seed      uint64
	compact   float64
	workers   int
	exactFrac float64
	// q8 selects int8 storage (WithInt8): q8Segs replaces vecSegs,
	// one row of rowLen bytes per slot (hnsw_int8.go has the layout).
	q8     bool
	rowLen int
	// fullReselect: see withFullReselect.
	fullReselect bool

	rng *rand.PCG // level draws; guarded by mu (written under Lock)

	vecSegs [][]float32 // hnswSegSize*dim floats each (float32 graphs)
	q8Segs  [][]int8    // hnswSegSize*rowLen bytes each (int8 graphs)
	l0Segs  [][]uint32  // hnswSegSize*(m0+1) words each
	// inSegs counts, per slot, the layer-0 lists that link to it (atomic).
	// The selection heuristic can prune a node's last in-link, which makes
	// it unreachable; the count finds such orphans so fixOrphans can
	// re-link them (hnswlib leaves them be).
	inSegs [][]uint32

	sinceReach int // vectors inserted since the last ensureReachable; guarded by wmu

	// flight holds the slots whose insert is running (AddBatch links with
	// several goroutines). Two inserts that overlap in time cannot find
	// each other by walking the graph, so the later one takes the earlier
	// ones as candidates directly; without that, two copies of one vector
	// inserted side by side could end up far apart in the graph, each
	// unfindable from the other's neighbourhood.
	flightMu sync.Mutex
	flight   []uint32 // guarded by flightMu

	orphanMu sync.Mutex
	orphans  []uint32   // slots whose in-count fell to 0; guarded by orphanMu
	upper    [][]uint32 // per slot: level*(m+1) words, nil at level 0
	// selClosed has, per slot, bit l set while the slot's layer-l list is
	// closed under the selection heuristic (listClosed says what that
	// means and why link cares). Each word is read and written under its
	// slot's stripe lock (lockFor), or under mu.Lock; the slice itself
	// grows with the slots, under mu.Lock.
	selClosed []uint32
	levels    []uint8
	ids       []uint64
	state     []uint8
	idmap     map[uint64]uint32
	free      []uint32

	live, tomb int
	hasEntry   bool
	entry      uint32
	maxLevel   int

	locks [hnswLockStripes]sync.Mutex
	pool  sync.Pool // *hnswScratch

	// arena holds the vector, layer-0 link and in-count segments beyond
	// the first arenaMin bytes, outside the Go heap (arena.go says why
	// and how that stays safe); heapSegBytes counts the segment memory
	// allocated on the heap before it. closed is set by Close, under wmu
	// and mu.Lock. All guarded by mu.Lock (segments are only made there,
	// or by ReadHNSW before the graph is shared).
	arena        *segArena
	arenaCleanup runtime.Cleanup
	arenaMin     int64
	// arenaDefer makes a new arena defer its huge-page advice: set while
	// loadOutside fills a loaded graph's vectors (segArena.setDeferAdvice
	// says why).
	arenaDefer   bool
	heapSegBytes int64
	closed       bool
}

// ErrClosed reports a use of a graph after Close.
var ErrClosed = errors.New("index: HNSW graph is closed")

// hnswScratch is the per-goroutine working memory of a search or insert.
// It is pooled so that steady-state searches allocate nothing.
type hnswScratch struct {
	vis   visitedSet
	cand  minItemHeap
	top   maxItemHeap
	q     []float32
	q8    []int8    // the quantized query (int8 graphs)
	rv    []float32 // a re-rank vector, prepared
	cand2 []Result  // candidates awaiting re-rank
	buf   []hnswItem
	sel   []hnswItem
	res   []Result
	rh    resultMaxHeap
	eps   []hnswItem
	peers []uint32 // inserts in flight when this one started, and the batch's preceding vectors
	// hide is a slot the walk treats as absent (noSlot for none): see
	// SearchOptions.hide. Set and cleared by searchLocked only.
	hide uint32
}

// noSlot is no slot id: hnswMaxSlots keeps real ones below it.
const noSlot = ^uint32(0)

// NewHNSW returns an empty graph for vectors of dimension dim compared with
// metric m.
func NewHNSW(dim int, m Metric, opts ...HNSWOption) (*HNSW, error) {
	c := hnswConfig{m: 16, efC: 200, seed: 1, compact: 0.1,
		workers: runtime.GOMAXPROCS(0), exactFrac: defaultExactFraction}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if err := c.validate(dim, m); err != nil {
		return nil, err
	}
	h := newHNSW(dim, m, c)
	return h, nil
}

func newHNSW(dim int, m Metric, c hnswConfig) *HNSW {
	h := &HNSW{
		dim: dim, metric: m, m: c.m, m0: 2 * c.m, newL0: c.newL0, efC: c.efC, efS: c.efS,
		mL: 1 / math.Log(float64(c.m)), seed: c.seed, compact: c.compact,
		workers: c.workers, exactFrac: c.exactFrac, q8: c.q8, fullReselect: c.fullReselect,
		rng:      rand.NewPCG(c.seed, c.seed^0x9e3779b97f4a7c15),
		idmap:    make(map[uint64]uint32),
		arenaMin: arenaMinBytes,
	}
	if h.newL0 == 0 {
		h.newL0 = defaultNewNodeLinks(c.m)
	}
	if c.q8 {
		h.rowLen = int8RowLen(dim, m)
	}
	if c.arenaAll {
		h.arenaMin = 0
	}
	h.pool.New = func() any { return &hnswScratch{hide: noSlot} }
	return h
}

// Dim implements Index.
func (h *HNSW) Dim() int { return h.dim }

// Metric implements Index.
func (h *HNSW) Metric() Metric { return h.metric }

// Len implements Index: the number of live vectors.
func (h *HNSW) Len() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.live
}

// Contains reports whether id is stored (and not deleted).
func (h *HNSW) Contains(id uint64) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	_, ok := h.idmap[id]
	return ok
}

// liveIDs returns the live IDs in slot order (a fresh slice), for tests that
// compare what a graph holds with what they inserted.
func (h *HNSW) liveIDs() []uint64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]uint64, 0, h.live)
	for n, st := range h.state {
		if st == slotLive {
			out = append(out, h.ids[n])
		}
	}
	return out
}

// Vector returns a copy of the stored vector for id (normalized under
// Cosine) and whether id is present. On an int8 graph (WithInt8) it is the
// decoded approximation, codes times the vector's scale, not the vector
// that was added.
func (h *HNSW) Vector(id uint64) ([]float32, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n, ok := h.idmap[id]
	if !ok {
		return nil, false
	}
	if h.q8 {
		return h.decode8(n, make([]float32, h.dim)), true
	}
	return append([]float32(nil), h.vec(n)...), true
}

// Int8 reports whether the graph stores int8 codes (WithInt8) rather than
// float32 vectors.
func (h *HNSW) Int8() bool { return h.q8 }

// HNSWStats describes the graph's size and shape.
type HNSWStats struct {
	Live, Tombstones, FreeSlots, Slots int
	MaxLevel                           int
	// Bytes is the memory held by vectors, links and per-node metadata
	// (excluding Go map overhead estimates beyond 16 bytes per ID).
	Bytes int64
	// VectorBytes is the part of Bytes that holds vectors: float32 rows,
	// or int8 codes with their per-vector scalars under WithInt8.
	VectorBytes int64
	// Int8 reports quantized storage (WithInt8).
	Int8 bool
}

// Stats returns the current size and shape of the graph.
func (h *HNSW) Stats() HNSWStats {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var vb int64
	for _, s := range h.vecSegs {
		vb += int64(cap(s)) * 4
	}
	for _, s := range h.q8Segs {
		vb += int64(cap(s))
	}
	b := vb
	for _, s := range h.l0Segs {
		b += int64(cap(s)) * 4
	}
	for _, s := range h.inSegs {
		b += int64(cap(s)) * 4
	}
	for _, u := range h.upper {
		b += int64(cap(u))*4 + 24
	}
	b += int64(cap(h.levels)) + int64(cap(h.state)) + int64(cap(h.ids))*8 + int64(cap(h.selClosed))*4
	b += int64(len(h.idmap)) * 16
	return HNSWStats{Live: h.live, Tombstones: h.tomb, FreeSlots: len(h.free),
		Slots: len(h.ids), MaxLevel: h.maxLevel, Bytes: b, VectorBytes: vb, Int8: h.q8}
}

// vec returns slot n's vector.
func (h *HNSW) vec(n uint32) []float32 {
	seg := h.vecSegs[n>>hnswSegShift]
	off := int(n&hnswSegMask) * h.dim
	return seg[off : off+h.dim : off+h.dim]
}

// links returns slot n's link list on layer l: word 0 is the count, then
// the neighbours. Words must be accessed atomically outside mu.Lock.
func (h *HNSW) links(n uint32, l int) []uint32 {
	if l == 0 {
		seg := h.l0Segs[n>>hnswSegShift]
		off := int(n&hnswSegMask) * (h.m0 + 1)
		return seg[off : off+h.m0+1 : off+h.m0+1]
	}
	off := (l - 1) * (h.m + 1)
	return h.upper[n][off : off+h.m+1 : off+h.m+1]
}

// inCount returns slot n's layer-0 in-link counter.
func (h *HNSW) inCount(n uint32) *uint32 {
	return &h.inSegs[n>>hnswSegShift][n&hnswSegMask]
}

func (h *HNSW) incIn(n uint32) { atomic.AddUint32(h.inCount(n), 1) }

// decIn drops one in-link of n and remembers n if that was its last.
func (h *HNSW) decIn(n uint32) {
	if atomic.AddUint32(h.inCount(n), ^uint32(0)) == 0 && h.state[n] == slotLive {
		h.noteOrphan(n)
	}
}

func (h *HNSW) noteOrphan(n uint32) {
	h.orphanMu.Lock()
	h.orphans = append(h.orphans, n)
	h.orphanMu.Unlock()
}

// relink accounts for a layer-0 list changing from old to the entries of
// sel: in-counts of dropped targets go down, of new ones up.
func (h *HNSW) relink(old []uint32, sel []hnswItem) {
	for _, o := range old {
		if !slices.ContainsFunc(sel, func(it hnswItem) bool { return it.n == o }) {
			h.decIn(o)
		}
	}
	for _, it := range sel {
		if !slices.Contains(old, it.n) {
			h.incIn(it.n)
		}
	}
}

func (h *HNSW) lockFor(n uint32) *sync.Mutex { return &h.locks[n%hnswLockStripes] }

func (h *HNSW) getScratch() *hnswScratch  { return h.pool.Get().(*hnswScratch) }
func (h *HNSW) putScratch(s *hnswScratch) { h.pool.Put(s) }

// drawLevel draws a level with P(level ≥ l) = M^-l. Caller holds mu.Lock.
func (h *HNSW) drawLevel() int {
	u := float64(h.rng.Uint64()>>11) / (1 << 53) // [0,1)
	l := int(-math.Log(1-u) * h.mL)
	return min(l, hnswMaxLevel)
}

// Add implements Index. Adding an ID that exists replaces its vector: the old
// node is tombstoned and a new one inserted.
func (h *HNSW) Add(id uint64, vec []float32) error {
	v, err := prepare(vec, h.dim, h.metric)
	if err != nil {
		return fmt.Errorf("index: add %d: %w", id, err)
	}
	ids := [1]uint64{id}
	vecs := [1][]float32{v}
	return h.addPrepared(context.Background(), ids[:], vecs[:], 1)
}

// AddBatch adds or replaces many vectors, linking them with the configured
// number of build workers (WithBuildWorkers). All vectors are validated
// before anything is added; an invalid one or an ID repeated in the batch
// fails the whole call with an error naming it. If ctx is cancelled while
// linking, the vectors not yet linked are left out (as if deleted) and the
// error wraps ctx.Err(); use Contains to find out which IDs made it.
func (h *HNSW) AddBatch(ctx context.Context, ids []uint64, vecs [][]float32) error {
	if len(ids) != len(vecs) {
		return fmt.Errorf("index: AddBatch got %d IDs and %d vectors", len(ids), len(vecs))
	}
	seen := make(map[uint64]struct{}, len(ids))
	prep := make([][]float32, len(vecs))
	for i, v := range vecs {
		if _, dup := seen[ids[i]]; dup {
			return fmt.Errorf("%w: %d", ErrDuplicateID, ids[i])
		}
		seen[ids[i]] = struct{}{}
		p, err := prepare(v, h.dim, h.metric)
		if err != nil {
			return fmt.Errorf("index: add %d (batch position %d): %w", ids[i], i, err)
		}
		prep[i] = p
	}
	return h.addPrepared(ctx, ids, prep, h.workers)
}

// addPrepared allocates slots for prepared vectors under mu.Lock, then
// links them with the given number of goroutines.
func (h *HNSW) addPrepared(ctx context.Context, ids []uint64, vecs [][]float32, workers int) error {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	if h.isClosed() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	slots := make([]uint32, len(ids))
	h.mu.Lock()
	if uint64(len(ids)+len(h.ids)-len(h.free)) > hnswMaxSlots {
		h.mu.Unlock()
		return fmt.Errorf("index: graph full (%d slots)", len(h.ids))
	}
	// Tombstone replaced vectors first, and move the entry point off them
	// while only linked nodes can be chosen.
	for _, id := range ids {
		if old, ok := h.idmap[id]; ok {
			delete(h.idmap, id)
			h.state[old] = slotDeleted
			h.live--
			h.tomb++
		}
	}
	if h.hasEntry && h.state[h.entry] != slotLive {
		h.rechooseEntry()
	}
	for i, id := range ids {
		n := h.allocSlot(id, vecs[i])
		slots[i] = n
		if !h.hasEntry {
			// The first node of an empty graph is trivially linked.
			h.hasEntry, h.entry, h.maxLevel = true, n, int(h.levels[n])
		}
	}
	h.mu.Unlock()

	var next atomic.Int64
	var cancelled atomic.Bool
	done := make([]bool, len(slots))
	work := func() {
		s := h.getScratch()
		defer h.putScratch(s)
		for {
			i := int(next.Add(1) - 1)
			if i >= len(slots) {
				return
			}
			if cancelled.Load() || ctx.Err() != nil {
				cancelled.Store(true)
				continue
			}
			h.insert(s, slots[i], slots[max(0, i-hnswBatchPeers):i])
			done[i] = true
		}
	}
	if workers <= 1 || len(slots) < 2 {
		work()
	} else {
		var wg sync.WaitGroup
		for range min(workers, len(slots)) {
			wg.Go(work)
		}
		wg.Wait()
	}

	if cancelled.Load() {
		h.mu.Lock()
		for i, n := range slots {
			if !done[i] && h.state[n] == slotLive && n != h.entry {
				delete(h.idmap, h.ids[n])
				h.state[n] = slotDeleted
				h.live--
				h.tomb++
			}
		}
		h.mu.Unlock()
		h.fixOrphans()
		return fmt.Errorf("index: AddBatch interrupted: %w", ctx.Err())
	}
	h.fixOrphans()
	// A whole-graph reachability pass reads every link once, about the
	// cost of a few hundred inserts, so it runs once per slots/16 inserted
	// vectors: amortized, a handful of link reads per insert.
	h.sinceReach += len(ids)
	if h.sinceReach >= max(256, len(h.ids)/16) {
		h.sinceReach = 0
		h.ensureReachable()
	}
	h.maybeCompact()
	return nil
}

// allocSlot stores a vector in a recycled or new slot and draws its level.
// Caller holds mu.Lock.
func (h *HNSW) allocSlot(id uint64, v []float32) uint32 {
	level := h.drawLevel()
	var n uint32
	if k := len(h.free); k > 0 {
		n = h.free[k-1]
		h.free = h.free[:k-1]
		h.ids[n] = id
		h.levels[n] = uint8(level)
	} else {
		n = uint32(len(h.ids))
		si := int(n) >> hnswSegShift
		if si >= len(h.l0Segs) {
			if h.q8 {
				h.q8Segs = append(h.q8Segs, h.newQ8Seg(hnswSegSize))
			} else {
				h.vecSegs = append(h.vecSegs, h.newVecSeg(hnswSegSize))
			}
			h.l0Segs = append(h.l0Segs, h.newWordSeg(hnswSegSize*(h.m0+1), hnswSegSize*(h.m0+1)))
			h.inSegs = append(h.inSegs, h.newWordSeg(hnswSegSize, hnswSegSize))
		} else if len(h.l0Segs[si]) < hnswSegSize*(h.m0+1) {
			// A loaded graph's last segment holds only its rows; one
			// from the arena has room for the rest already.
			if h.q8 {
				h.q8Segs[si] = growSeg(h.q8Segs[si], hnswSegSize*h.rowLen, func() []int8 { return h.newQ8Seg(hnswSegSize) })
			} else {
				h.vecSegs[si] = growSeg(h.vecSegs[si], hnswSegSize*h.dim, func() []float32 { return h.newVecSeg(hnswSegSize) })
			}
			l0 := hnswSegSize * (h.m0 + 1)
			h.l0Segs[si] = growSeg(h.l0Segs[si], l0, func() []uint32 { return h.newWordSeg(l0, l0) })
			h.inSegs[si] = growSeg(h.inSegs[si], hnswSegSize, func() []uint32 { return h.newWordSeg(hnswSegSize, hnswSegSize) })
		}
		h.ids = append(h.ids, id)
		h.levels = append(h.levels, uint8(level))
		h.state = append(h.state, slotLive)
		h.upper = append(h.upper, nil)
		h.selClosed = append(h.selClosed, 0)
	}
	h.selClosed[n] = 0
	if h.q8 {
		encodeRow8(h.row8(n), v, h.metric)
	} else {
		copy(h.vec(n), v)
	}
	clear(h.links(n, 0))
	*h.inCount(n) = 0
	if level > 0 {
		h.upper[n] = make([]uint32, level*(h.m+1))
	} else {
		h.upper[n] = nil
	}
	h.state[n] = slotLive
	h.idmap[id] = n
	h.live++
	return n
}

// newVecSeg allocates a float32 vector segment of rows rows, advised for
// huge pages (hugepage_linux.go), from the graph's arena once the graph
// is large enough (arena.go), with capacity for a whole segment there.
// Whatever fills a segment (inserts, a snapshot being loaded) should take
// it from here, before writing to it: the advice gives huge pages to
// memory not yet touched, while memory already faulted in as 4 KiB pages
// keeps them. Caller holds mu.Lock or owns the graph (ReadHNSW).
func (h *HNSW) newVecSeg(rows int) []float32 {
	if b := h.arenaSeg(hnswSegSize * h.dim * 4); b != nil {
		return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), hnswSegSize*h.dim)[:rows*h.dim]
	}
	seg := make([]float32, rows*h.dim)
	if len(seg) > 0 {
		adviseHuge(unsafe.Pointer(&seg[0]), uintptr(len(seg))*4)
	}
	return seg
}

// newQ8Seg is newVecSeg for the int8 rows of a WithInt8 graph.
func (h *HNSW) newQ8Seg(rows int) []int8 {
	if b := h.arenaSeg(hnswSegSize * h.rowLen); b != nil {
		return unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(b))), hnswSegSize*h.rowLen)[:rows*h.rowLen]
	}
	return make([]int8, rows*h.rowLen)
}

// newWordSeg allocates a segment of words uint32s of links or in-link
// counts, from the arena like newVecSeg (with capacity for full words
// there), or on the heap with exactly words. At M 16 the layer-0 lists
// and counts are 136 bytes per slot, about a third of what a 96-dim
// graph holds per vector; on the heap they were live data the collector
// doubled (GOGC 100). Caller holds mu.Lock or owns the graph (ReadHNSW).
func (h *HNSW) newWordSeg(words, full int) []uint32 {
	if b := h.arenaSeg(full * 4); b != nil {
		return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(b))), full)[:words]
	}
	return make([]uint32, words)
}

// growSeg returns a loaded graph's partial segment seg extended to full
// elements, zeroed past its rows: in place where its capacity allows (an
// arena segment, made with room for a whole segment), else copied into
// fresh(), a whole new segment.
func growSeg[T any](seg []T, full int, fresh func() []T) []T {
	if cap(seg) >= full {
		n := len(seg)
		seg = seg[:full]
		clear(seg[n:])
		return seg
	}
	out := fresh()
	copy(out, seg)
	return out
}

// arenaSeg returns zeroed memory for a segment of n bytes from the
// graph's arena, or nil when the segment belongs on the heap: while the
// graph holds less than arenaMin bytes of segments there, or where no
// memory can be mapped (arena.go).
func (h *HNSW) arenaSeg(n int) []byte {
	if h.heapSegBytes+int64(n) <= h.arenaMin {
		h.heapSegBytes += int64(n)
		return nil
	}
	if h.arena == nil {
		h.arena = &segArena{deferAdvice: h.arenaDefer}
		// A graph dropped without Close gives its arena back once it is
		// unreachable; the cleanup holds the arena, not the graph.
		h.arenaCleanup = runtime.AddCleanup(h, (*segArena).release, h.arena)
	}
	b := h.arena.alloc(n)
	if b == nil {
		h.heapSegBytes += int64(n)
	}
	return b
}

// Close releases the graph's memory: the vector segments outside the Go
// heap (arena.go) at once, the rest to the collector. Afterwards the graph
// is empty, Add, AddBatch, searches, WriteTo and MeasureRecall return
// ErrClosed, and Close returns nil again. Close waits for running writes
// and searches; it is safe to call concurrently with them.
func (h *HNSW) Close() error {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	// Every table goes, so a path that missed the closed check fails an
	// index check instead of reading unmapped memory.
	h.vecSegs, h.q8Segs, h.l0Segs, h.inSegs, h.upper = nil, nil, nil, nil, nil
	h.levels, h.ids, h.state, h.free, h.selClosed = nil, nil, nil, nil, nil
	h.idmap = map[uint64]uint32{}
	h.live, h.tomb, h.hasEntry, h.entry, h.maxLevel = 0, 0, false, 0, 0
	if h.arena != nil {
		h.arenaCleanup.Stop()
		h.arena.release()
		h.arena = nil
	}
	return nil
}

// isClosed reports whether Close ran. Caller holds wmu or mu.
func (h *HNSW) isClosed() bool { return h.closed }

// closedNow is isClosed for a caller that holds neither lock.
func (h *HNSW) closedNow() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.closed
}

// rechooseEntry picks the live node with the highest level as entry point.
// Caller holds mu.Lock.
func (h *HNSW) rechooseEntry() {
	h.hasEntry = false
	best := -1
	for n, st := range h.state {
		if st == slotLive && int(h.levels[n]) > best {
			best = int(h.levels[n])
			h.entry = uint32(n)
			if best == hnswMaxLevel {
				break
			}
		}
	}
	if best >= 0 {
		h.hasEntry = true
		h.maxLevel = best
	}
}

// hnswBatchPeers is how many of the batch's preceding vectors an AddBatch
// insert takes as direct candidates, besides the inserts in flight. A
// vector linked a moment ago may not be findable yet: its back-links can
// all have been pruned by the selection heuristic (it is adopted only when
// the batch ends), or lead only through a node still being inserted. Two
// copies of one vector a few places apart in a batch would then stay apart
// whenever a worker stalls (seen with the pure-Go kernels). Eight distance
// computations per insert cost well under 1% of one.
const hnswBatchPeers = 8

// insert links slot n into the graph; prev are the slots of the vectors
// before it in its batch (at most hnswBatchPeers). It takes mu.RLock
// itself.
func (h *HNSW) insert(s *hnswScratch, n uint32, prev []uint32) {
	h.mu.RLock()
	if !h.hasEntry || h.entry == n {
		h.mu.RUnlock()
		return
	}
	s.peers = append(h.enterFlight(n, s.peers[:0]), prev...)
	q := h.node(n)
	level := int(h.levels[n])
	ep, top := h.entry, h.maxLevel
	cur := hnswItem{h.dist(ep, &q), ep}
	// The walk on the first layer that n joins starts from every node the
	// descent stopped at, not just the last: with concurrent inserts that
	// one may be a node still linking its lower layers, whose list there is
	// empty, and a walk from it alone finds nothing. The entry point (first
	// in the trail) was fully linked before it became the entry.
	s.eps = append(s.eps[:0], cur)
	for l := top; l > level; l-- {
		if cur = h.descend(&q, cur, l); cur.n != s.eps[len(s.eps)-1].n {
			s.eps = append(s.eps, cur)
		}
	}
	// Each layer's search starts from all of the previous layer's results,
	// as in the paper, for the same reason.
	for l := min(level, top); l >= 0; l-- {
		s.vis.reset(len(h.ids))
		s.vis.visit(n)
		h.walkLayer(s, &q, s.eps, h.efC, l)
		s.buf = s.buf[:0]
		for len(s.top) > 0 {
			s.buf = append(s.buf, s.top.pop())
		}
		slices.Reverse(s.buf) // ascending
		if h.addPeers(s, &q, l) {
			slices.SortFunc(s.buf, cmpItem)
		}
		if len(s.buf) == 0 {
			continue
		}
		s.eps = append(s.eps[:0], s.buf...)
		// The new node selects newL0 links on layer 0 (a list holds up to
		// m0); links added by concurrent inserts may fill it further, up to
		// m0, as later inserts' back-links do.
		maxLinks, want := h.m, h.m
		if l == 0 {
			maxLinks, want = h.m0, h.newL0
		}
		s.sel = h.selectNeighbors(n, s.buf, want, s.sel[:0])
		var selBuf [64]hnswItem
		sel := append(selBuf[:0], s.sel...)
		mu := h.lockFor(n)
		mu.Lock()
		lst := h.links(n, l)
		// A concurrent insert may already have linked to n on this layer;
		// keep those links (re-selecting if they overflow the list).
		var oldBuf [65]uint32
		old := oldBuf[:0]
		// closed: the list is a selection's output as it stands (see
		// listClosed), unless links kept from concurrent inserts join it
		// unselected.
		closed := true
		for i := 1; i <= int(atomic.LoadUint32(&lst[0])); i++ {
			e := atomic.LoadUint32(&lst[i])
			old = append(old, e)
			if !slices.ContainsFunc(sel, func(it hnswItem) bool { return it.n == e }) {
				sel = append(sel, hnswItem{h.dist(e, &q), e})
				closed = false
			}
		}
		if len(sel) > maxLinks {
			slices.SortFunc(sel, cmpItem)
			s.sel = h.selectNeighbors(n, sel, maxLinks, s.sel[:0])
			sel = append(sel[:0], s.sel...)
			closed = true
		}
		for i, it := range sel {
			atomic.StoreUint32(&lst[1+i], it.n)
		}
		atomic.StoreUint32(&lst[0], uint32(len(sel)))
		h.setListClosed(n, l, closed)
		if l == 0 {
			h.relink(old, sel)
		}
		mu.Unlock()
		for _, it := range sel {
			if !slices.Contains(old, it.n) {
				h.link(s, it.n, n, it.d, l)
			}
		}
	}
	h.leaveFlight(n)
	if atomic.LoadUint32(h.inCount(n)) == 0 {
		h.noteOrphan(n)
	}
	raise := level > h.maxLevel
	h.mu.RUnlock()
	if raise {
		h.mu.Lock()
		if h.state[n] == slotLive && level > h.maxLevel {
			h.entry, h.maxLevel = n, level
		}
		h.mu.Unlock()
	}
}

// enterFlight registers n as being inserted and appends the inserts
// already in flight to peers. Every pair of inserts that overlap in time
// is thus seen by the later one, and an insert that finished before n
// started was fully linked before n's walk began.
func (h *HNSW) enterFlight(n uint32, peers []uint32) []uint32 {
	h.flightMu.Lock()
	peers = append(peers, h.flight...)
	h.flight = append(h.flight, n)
	h.flightMu.Unlock()
	return peers
}

// leaveFlight unregisters n once its links (and back-links) are written.
func (h *HNSW) leaveFlight(n uint32) {
	h.flightMu.Lock()
	if i := slices.Index(h.flight, n); i >= 0 {
		h.flight[i] = h.flight[len(h.flight)-1]
		h.flight = h.flight[:len(h.flight)-1]
	}
	h.flightMu.Unlock()
}

// addPeers adds to s.buf, as layer-l candidates, the peers (s.peers) that
// s.buf lacks. It reports whether it added any (s.buf then needs sorting
// again).
func (h *HNSW) addPeers(s *hnswScratch, q *hnswQuery, l int) bool {
	// s.buf is sorted ascending here. A peer farther than everything of a
	// full candidate list is one the walk would have dropped had it found
	// it; leaving it out keeps the graph what a build without concurrency
	// makes.
	full := len(s.buf) >= h.efC
	worst := float32(0)
	if len(s.buf) > 0 {
		worst = s.buf[len(s.buf)-1].d
	}
	added := false
	for _, y := range s.peers {
		if int(h.levels[y]) < l || h.state[y] != slotLive ||
			slices.ContainsFunc(s.buf, func(it hnswItem) bool { return it.n == y }) {
			continue
		}
		d := h.dist(y, q)
		if full && d >= worst {
			continue
		}
		s.buf = append(s.buf, hnswItem{d, y})
		added = true
	}
	return added
}

// link adds n (at distance d) to t's list on layer l, shrinking the list
// with the selection heuristic when it is full. Caller holds mu.RLock.
//
// A full list that is closed (listClosed) is shrunk by selectClosedPlus,
// which gives the heuristic's result over the list and n without
// re-running it: about 2 distance evaluations per member instead of up
// to one per pair of members.
func (h *HNSW) link(s *hnswScratch, t, n uint32, d float32, l int) {
	maxLinks := h.m
	if l == 0 {
		maxLinks = h.m0
	}
	mu := h.lockFor(t)
	mu.Lock()
	defer mu.Unlock()
	lst := h.links(t, l)
	cnt := int(atomic.LoadUint32(&lst[0]))
	for i := 1; i <= cnt; i++ {
		if atomic.LoadUint32(&lst[i]) == n {
			return
		}
	}
	if cnt < maxLinks {
		atomic.StoreUint32(&lst[1+cnt], n)
		atomic.StoreUint32(&lst[0], uint32(cnt+1))
		// n joins unselected: it may prune a member or be pruned by one.
		h.setListClosed(t, l, false)
		if l == 0 {
			h.incIn(n)
		}
		return
	}
	tv := h.node(t)
	s.buf = s.buf[:0]
	s.buf = append(s.buf, hnswItem{d, n})
	// The list's members are t's neighbours, not this insert's: their
	// vectors are rarely cached. Scoring them in one call overlaps their
	// misses instead of taking them one after another.
	var nbs [hnswHop]uint32
	var ds [hnswHop]float32
	for i := 1; i <= cnt; {
		k := 0
		for ; i <= cnt && k < hnswHop; i++ {
			nbs[k] = atomic.LoadUint32(&lst[i])
			k++
		}
		h.scoreNodes(&tv, nbs[:k], ds[:k])
		for j, e := range nbs[:k] {
			s.buf = append(s.buf, hnswItem{ds[j], e})
		}
	}
	slices.SortFunc(s.buf, cmpItem)
	if h.listClosed(t, l) && !h.fullReselect {
		s.sel = h.selectClosedPlus(t, s.buf, n, maxLinks, s.sel[:0])
	} else {
		s.sel = h.selectNeighbors(t, s.buf, maxLinks, s.sel[:0])
	}
	// Either way the list is now a selection's output.
	h.setListClosed(t, l, true)
	var oldBuf [65]uint32
	old := oldBuf[:0]
	for i := 1; i <= cnt; i++ {
		old = append(old, atomic.LoadUint32(&lst[i]))
	}
	for i, it := range s.sel {
		atomic.StoreUint32(&lst[1+i], it.n)
	}
	atomic.StoreUint32(&lst[0], uint32(len(s.sel)))
	if l == 0 {
		h.relink(old, s.sel)
	}
}

// listClosed reports whether slot t's layer-l list is closed under the
// selection heuristic: it is the output of selectNeighbors (over any
// candidates), so no member is pruned by a member closer to t. That holds
// as long as the distances the selection saw are those link recomputes,
// and they are, bit for bit: every distance between two stored vectors is
// one kernel's sum in one order (distance.go; scoreNodes equals dist),
// the same whichever vector is the query, since products commute, a−b and
// b−a square alike, and the int8 forms combine the two rows' scalars
// symmetrically. A list stops being closed when a link joins it without a
// selection: link's append, an insert keeping concurrent back-links, the
// repairs (forceLink, repairList); a recycled slot and a loaded graph
// start with none closed. TestSelectClosedPlusExact checks that builds
// with and without the shortcut make identical graphs. Caller holds t's
// stripe lock, or mu.Lock.
func (h *HNSW) listClosed(t uint32, l int) bool { return h.selClosed[t]>>l&1 != 0 }

// setListClosed records whether slot t's layer-l list is closed (see
// listClosed). Caller holds t's stripe lock, or mu.Lock.
func (h *HNSW) setListClosed(t uint32, l int, closed bool) {
	if closed {
		h.selClosed[t] |= 1 << l
	} else {
		h.selClosed[t] &^= 1 << l
	}
}

// selectClosedPlus returns selectNeighbors(t, cands, max) where cands,
// sorted ascending, are a full closed list (listClosed: max members, none
// pruned by a closer one) plus the new candidate n, without re-running
// the heuristic over every pair:
//   - the members closer than n are kept: the heuristic checks each only
//     against kept members closer still, all of them members, none of
//     which prunes it;
//   - n is reached (the list is not yet full before it, since at least
//     one member follows it) and kept unless one of those closer members
//     prunes it;
//   - if n is dropped, every later member is kept as before, up to max:
//     the list comes out unchanged;
//   - if n is kept, a later member is dropped exactly when n prunes it:
//     its other possible pruners are closer members, none of which prune
//     it, and dropping members takes pruners away, never adds them. The
//     cap then stops the list at max in order, as the heuristic's loop
//     does.
//
// The copy cap (selectNeighbors) changes none of this when n is not a
// copy of t: the members' copies of t were kept under the cap and still
// are (dropping members only lowers the count before them), and n counts
// against nothing. A copy n takes the full selection instead.
//
// Each check is the heuristic's own: dist(kept, candidate) < the
// candidate's distance, with kept as the stored node and the candidate as
// the query, so even a distance that depended on the order of its
// operands would come out as the full selection's.
func (h *HNSW) selectClosedPlus(t uint32, cands []hnswItem, n uint32, max int, out []hnswItem) []hnswItem {
	pos := slices.IndexFunc(cands, func(it hnswItem) bool { return it.n == n })
	if pos < 0 || len(cands) != max+1 || h.isCopy(t, n) {
		// Not the shape link passes, or n is a copy of t, which the copy
		// cap may keep out or let in at a member's expense; the heuristic
		// itself is always right.
		return h.selectNeighbors(t, cands, max, out)
	}
	if pos == max {
		// n sorts after the whole list: the heuristic stops before it.
		return append(out, cands[:max]...)
	}
	nd := cands[pos].d
	nv := h.node(n)
	keep := true
	for _, o := range cands[:pos] {
		if h.dist(o.n, &nv) < nd {
			keep = false
			break
		}
	}
	out = append(out, cands[:pos]...)
	if !keep {
		// The max-pos members after n fill the list exactly.
		return append(out, cands[pos+1:]...)
	}
	out = append(out, cands[pos])
	for _, c := range cands[pos+1:] {
		if len(out) >= max {
			break
		}
		cv := h.node(c.n)
		if h.dist(n, &cv) < c.d {
			continue
		}
		out = append(out, c)
	}
	return out
}

func cmpItem(a, b hnswItem) int {
	if itemLess(a, b) {
		return -1
	}
	if itemLess(b, a) {
		return 1
	}
	return 0
}

// selectNeighbors is the paper's heuristic (Algorithm 4 without extending
// or keeping pruned candidates, as hnswlib does): walking candidates from
// the closest, keep one only if it is closer to the base than to every
// neighbour kept so far. It spreads links over directions instead of
// spending them all inside one cluster. cands must be sorted ascending by
// distance to base, the slot whose list is being chosen.
//
// One departure from the paper: at most max/2 of the kept neighbours are
// exact copies of base (copyLinkCap). The heuristic never prunes a copy of
// the base (no neighbour is closer to it than the base's own distance),
// so without the cap a vector stored more than max times fills every
// copy's list with the other copies, and the copies form a closed island:
// a walk that enters it cannot leave, and a search with ef above the
// island's size ends with its list short and falls back to the exact scan.
// Texts repeated word for word make such groups: on 1M generated Debian
// descriptions (bench growth suite) the collection's recall re-measurement
// at ef 640 spent 9.5 of its 14.4 CPU seconds in those exact scans, and
// TestHNSWCopyGroupsNoIslands saw 126 of 522 walks end short at ef 640.
// Under Cosine and L2 the heuristic itself already prunes copies of one
// another that are not the base's (a kept copy is closer to them).
//
// The comparisons are one dist call per pair: the kept neighbours' vectors
// are in cache after their first use, and scoring them 8 per kernel call
// (scoreNodes) built 30k × 384 clustered vectors 4% slower (15.5 against
// 14.9 CPU s, mean of 3 interleaved builds): it gives up the early exit.
func (h *HNSW) selectNeighbors(base uint32, cands []hnswItem, max int, out []hnswItem) []hnswItem {
	copies, capCopies := 0, copyLinkCap(max)
	for _, c := range cands {
		if len(out) >= max {
			break
		}
		if copies >= capCopies && h.isCopy(base, c.n) {
			continue
		}
		cv := h.node(c.n)
		good := true
		for _, o := range out {
			if h.dist(o.n, &cv) < c.d {
				good = false
				break
			}
		}
		if good {
			out = append(out, c)
			if copies < capCopies && h.isCopy(base, c.n) {
				copies++
			}
		}
	}
	return out
}

// copyLinkCap is how many exact copies of its own vector a list of up to
// links entries keeps (selectNeighbors): half, so that a copy still has room
// for links out of its group, and a search for the vector can still
// collect links/2+1 copies (the base and its kept copies) without leaving it.
func copyLinkCap(links int) int { return max(links/2, 1) }

// isCopy reports whether slot c holds exactly base's vector. The first
// component (or an int8 row's scale) rejects almost every other vector
// before a whole row is compared; both rows are in cache, since c was
// just scored against base.
func (h *HNSW) isCopy(base, c uint32) bool {
	if c == base {
		return false
	}
	if h.q8 {
		a, b := h.row8(base), h.row8(c)
		return slices.Equal(a[h.dim:], b[h.dim:]) && slices.Equal(a, b)
	}
	a, b := h.vec(base), h.vec(c)
	return a[0] == b[0] && slices.Equal(a, b)
}

// greedy walks layer l from cur to a local minimum (ef = 1), never
// stopping on slot hide (noSlot for none).
func (h *HNSW) greedy(q []float32, cur hnswItem, l int, hide uint32) hnswItem {
	var nbs [hnswHop]uint32
	var rows [hnswHop]*float32
	var ds [hnswHop]float32
	for changed := true; changed; {
		changed = false
		lst := h.links(cur.n, l)
		cnt := min(int(atomic.LoadUint32(&lst[0])), len(lst)-1)
		for i := 1; i <= cnt; {
			k := 0
			for ; i <= cnt && k < hnswHop; i++ {
				nb := atomic.LoadUint32(&lst[i])
				nbs[k], rows[k] = nb, unsafe.SliceData(h.vec(nb))
				k++
			}
			h.scoreRows(q, rows[:k], ds[:k])
			for j, d := range ds[:k] {
				if d < cur.d && nbs[j] != hide {
					cur = hnswItem{d, nbs[j]}
					changed = true
				}
			}
		}
	}
	return cur
}

// scoreNodes sets d[i] to dist(nodes[i], q), bit for bit, for at most
// hnswHop nodes, asking for all their rows before scoring any so that the
// cache misses overlap (float32 graphs: one scoreRows call).
func (h *HNSW) scoreNodes(q *hnswQuery, nodes []uint32, d []float32) {
	d = d[:len(nodes)]
	if h.q8 {
		for _, n := range nodes {
			h.prefetchRow8(n)
		}
		for i, n := range nodes {
			d[i] = h.dist8(n, &q.q)
		}
		return
	}
	var rows [hnswHop]*float32
	for i, n := range nodes {
		rows[i] = unsafe.SliceData(h.vec(n))
	}
	h.scoreRows(q.f, rows[:len(nodes)], d)
}

// hnswHop is how many neighbours one kernel call scores at most (the
// scratch arrays live on the stack; lists are 2M = 32 long by default).
const hnswHop = 64

// scoreRows sets d[i] to distance(h.metric, vector at rows[i], q), bit for
// bit: one kernel call for a whole neighbour list instead of one per
// neighbour, which lets the kernel overlap the rows' cache misses.
func (h *HNSW) scoreRows(q []float32, rows []*float32, d []float32) {
	switch h.metric {
	case Cosine:
		dotPtrs(q, rows, d)
		for i := range d {
			d[i] = 1 - d[i]
		}
	case Dot:
		dotPtrs(q, rows, d)
		for i := range d {
			d[i] = -d[i]
		}
	default:
		l2sqPtrs(q, rows, d)
	}
}

// searchLayer is the ef-bounded best-first search of one layer from the
// entry points eps (distances already computed).
// Afterwards s.top holds up to ef accepted nodes. Nodes that are tombstoned
// or rejected by filter still guide the walk but never enter s.top; while
// s.top is not full every reached node is expanded. With budget > 0 the walk
// stops after that many distance evaluations. It returns how many nodes it
// reached and whether it ran out of candidates (then it reached every node
// connected to ep). The caller has reset s.vis (and may have pre-marked
// nodes).
func (h *HNSW) searchLayer(s *hnswScratch, q []float32, eps []hnswItem, ef, l int, filter Filter, budget int) (reached int, exhausted bool) {
	s.cand = s.cand[:0]
	s.top = s.top[:0]
	evals := 0
	all := h.acceptsAll(filter)
	for _, ep := range eps {
		if !s.vis.visit(ep.n) {
			continue
		}
		evals++
		s.cand.push(ep)
		if all || h.accept(ep.n, filter) {
			if len(s.top) < ef {
				s.top.push(ep)
			} else if itemLess(ep, s.top[0]) {
				s.top.replaceTop(ep)
			}
		}
	}
	evals--
	// Each hop first collects the unvisited neighbours, then scores them
	// in one kernel call (scoreRows), then offers them in list order: the
	// same evaluations in the same order as scoring one at a time.
	var nbs [hnswHop]uint32
	var rows [hnswHop]*float32
	var ds [hnswHop]float32
	for len(s.cand) > 0 {
		c := s.cand.pop()
		if len(s.top) >= ef && c.d > s.top[0].d {
			break
		}
		if len(s.cand) > 0 {
			// The best remaining candidate is usually the next one
			// expanded: fetch its list while this hop is being scored.
			nx := h.links(s.cand[0].n, l)
			prefetchLines(&nx[0], 4*len(nx))
		}
		lst := h.links(c.n, l)
		cnt := min(int(atomic.LoadUint32(&lst[0])), len(lst)-1)
		for i := 1; i <= cnt; {
			k := 0
			for ; i <= cnt && k < hnswHop; i++ {
				nb := atomic.LoadUint32(&lst[i])
				if s.vis.visit(nb) {
					nbs[k], rows[k] = nb, unsafe.SliceData(h.vec(nb))
					k++
				}
			}
			if k == 0 {
				continue
			}
			h.scoreRows(q, rows[:k], ds[:k])
			evals += k
			for j, d := range ds[:k] {
				if len(s.top) < ef || d < s.top[0].d {
					nb := nbs[j]
					s.cand.push(hnswItem{d, nb})
					if all || h.accept(nb, filter) {
						if len(s.top) < ef {
							s.top.push(hnswItem{d, nb})
						} else {
							s.top.replaceTop(hnswItem{d, nb})
						}
					}
				}
			}
		}
		if budget > 0 && evals > budget {
			return evals + 1, false
		}
	}
	return evals + 1, len(s.cand) == 0
}

// walkEndedShort reports whether a walk ran out of nodes with room left in
// its list while some node was never reached: the graph has a part the
// walk could not enter (or leave). Caller holds mu.RLock.
func (h *HNSW) walkEndedShort(s *hnswScratch, ef, reached int, exhausted bool) bool {
	return exhausted && len(s.top) < ef && reached < len(h.ids)-len(h.free)
}

// accept reports whether slot n may be a result: live and passing filter.
func (h *HNSW) accept(n uint32, filter Filter) bool {
	return h.state[n] == slotLive && (filter == nil || filter(h.ids[n]))
}

// acceptsAll reports whether accept holds for every slot a walk can reach,
// so a walk need not ask it per node. Without a filter that is so when the
// graph holds no tombstones: free slots are unlinked before they are freed
// (compactLocked), and a slot is live from its allocation on. The state
// byte costs a cache miss of its own per scored node once the graph
// outgrows the caches: 5.6% of the CPU profile of inserting text documents
// at 950k, 1.3% at 100k (BENCHMARKS.md, "1M text documents, quiet", run
// 1). Caller holds mu.RLock, under which tomb does not change.
func (h *HNSW) acceptsAll(filter Filter) bool {
	return filter == nil && h.tomb == 0
}

// Delete implements Index. The node becomes a tombstone: still used to
// navigate, never returned. Once tombstones pass the compact threshold the
// graph is repaired and their slots recycled.
func (h *HNSW) Delete(id uint64) bool {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	h.mu.Lock()
	n, ok := h.idmap[id]
	if !ok || h.closed {
		h.mu.Unlock()
		return false
	}
	delete(h.idmap, id)
	h.state[n] = slotDeleted
	h.live--
	h.tomb++
	if h.hasEntry && n == h.entry {
		h.rechooseEntry()
	}
	h.mu.Unlock()
	h.maybeCompact()
	return true
}

// SearchOptions configures one search.
type SearchOptions struct {
	// K is the number of results wanted.
	K int
	// Ef is the candidate list size; 0 means the index's efSearch. It is
	// raised to K when smaller.
	Ef int
	// Filter restricts results; nil accepts everything.
	Filter Filter
	// MatchEstimate is the caller's estimate of the fraction of live
	// vectors that Filter accepts (0 = unknown). Below the index's exact
	// fraction the search scans all vectors exactly instead of walking the
	// graph.
	MatchEstimate float64
	// Candidates, when non-nil, lists every ID that Filter may accept (a
	// superset is fine; Filter is still applied, and must be set). When it
	// is small relative to the index (the exact fraction), the search
	// scores exactly these IDs instead of walking the graph.
	Candidates []uint64
	// Rerank, on an int8 graph (WithInt8), returns the full-precision
	// vector stored under id: the vector as it was given to Add. The search
	// prepares it as Add does (normalized under Cosine, into its own
	// buffer: the returned slice is never modified or kept) and scores it
	// against the float32 query, so results carry exact distances in exact
	// order, as a float32 graph would return. dst has length 0 and capacity
	// Dim; filling and returning it avoids an allocation.
	//
	// Without Rerank an int8 graph returns its approximate int8 distances
	// (and their order). Float32 graphs never call Rerank: their distances
	// are exact already.
	//
	// The search fails with an error wrapping ErrRerank when Rerank reports
	// false for an ID the graph still holds, or returns anything but Dim
	// finite components (or a zero vector under Cosine). false for an ID
	// deleted from the graph since the walk drops that candidate. Rerank is
	// called after the graph's lock is released, so it may be slow (read a
	// file) and may call into the graph; it must be safe for concurrent
	// use.
	Rerank func(id uint64, dst []float32) ([]float32, bool)
	// RerankCount is how many candidates, best by int8 distance first,
	// Rerank scores; 0 means every candidate the search found (ef of them
	// when the graph holds that many). It is raised to K, and ef is raised
	// to it. Exact scans (selective filters, walks that fall back) keep the
	// same number of int8 candidates for Rerank.
	RerankCount int

	// hide, when hasHide, names a stored vector the search treats as if it
	// were not in the graph: never returned, and not passed through by the
	// walk (MeasureRecall queries with stored vectors; see recall.go).
	hide    uint64
	hasHide bool
}

// ErrRerank reports that SearchOptions.Rerank could not supply a usable
// vector for a candidate.
var ErrRerank = errors.New("index: re-rank vector unavailable")

// efSearch is the configured efSearch, or AutoEf of the live count when
// none is set. Caller holds mu.RLock.
func (h *HNSW) efSearch() int {
	if h.efS > 0 {
		return h.efS
	}
	return AutoEf(h.live)
}

// Search implements Index with ef = max(k, efSearch). On an int8 graph the
// distances are the approximate int8 ones (SearchWith with
// SearchOptions.Rerank returns exact ones).
func (h *HNSW) Search(q []float32, k int, filter Filter) ([]Result, error) {
	return h.SearchInto(nil, q, SearchOptions{K: k, Filter: filter})
}

// searchEf is Search with an explicit candidate list size for this query.
func (h *HNSW) searchEf(q []float32, k, ef int, filter Filter) ([]Result, error) {
	if ef <= 0 {
		return nil, fmt.Errorf("index: ef %d must be positive", ef)
	}
	return h.SearchInto(nil, q, SearchOptions{K: k, Ef: ef, Filter: filter})
}

// SearchWith runs a search configured by opts.
func (h *HNSW) SearchWith(q []float32, opts SearchOptions) ([]Result, error) {
	return h.SearchInto(nil, q, opts)
}

// filteredBudgetFactor bounds a filtered graph walk: after
// factor×ef distance evaluations without filling the result list, the
// filter is evidently selective and an exact scan is cheaper.
const filteredBudgetFactor = 64

// SearchInto is SearchWith appending into dst[:0]; with enough capacity in
// dst it allocates nothing (Rerank's own allocations aside).
func (h *HNSW) SearchInto(dst []Result, q []float32, opts SearchOptions) ([]Result, error) {
	dst = dst[:0]
	if opts.K < 0 {
		return dst, fmt.Errorf("index: k %d must not be negative", opts.K)
	}
	if opts.Ef < 0 {
		return dst, fmt.Errorf("index: ef %d must not be negative", opts.Ef)
	}
	if opts.RerankCount < 0 {
		return dst, fmt.Errorf("index: rerank count %d must not be negative", opts.RerankCount)
	}
	if !(opts.MatchEstimate >= 0 && opts.MatchEstimate <= 1) {
		return dst, fmt.Errorf("index: match estimate %v outside 0..1", opts.MatchEstimate)
	}
	if opts.Candidates != nil && opts.Filter == nil {
		// Without a filter a large candidate list would be ignored by the
		// graph walk and non-candidates returned.
		return dst, errors.New("index: SearchOptions.Candidates needs the Filter that accepts them")
	}
	if err := checkVector(q, h.dim); err != nil {
		return dst, err
	}
	h.mu.RLock()
	closed := h.closed
	h.mu.RUnlock()
	if closed {
		// A Close after this check leaves searchLocked an empty graph.
		return dst, ErrClosed
	}
	s := h.getScratch()
	defer h.putScratch(s)
	if cap(s.q) < h.dim {
		s.q = make([]float32, h.dim)
	}
	qv := s.q[:h.dim]
	copy(qv, q)
	if h.metric == Cosine && !normalize(qv) {
		return dst, ErrZeroNorm
	}
	if opts.K == 0 {
		return dst, nil
	}
	rerank := h.q8 && opts.Rerank != nil
	var hq hnswQuery
	if h.q8 {
		// The query is quantized once; every distance of the walk is then
		// an int8 kernel call.
		if cap(s.q8) < h.rowLen {
			s.q8 = make([]int8, h.rowLen)
		}
		row := s.q8[:h.rowLen]
		encodeRow8(row, qv, h.metric)
		hq.q = h.ref8Row(row)
	} else {
		hq.f = qv
	}
	if !rerank {
		return h.searchLocked(s, dst, &hq, opts, false), nil
	}
	s.cand2 = h.searchLocked(s, s.cand2[:0], &hq, opts, true)
	return h.rerank(s, dst, qv, opts)
}

// searchLocked picks the route (exact scan or graph walk) under mu.RLock
// and appends the best results, by the graph's own distances, to dst: k of
// them, or for a re-rank the whole candidate list (RerankCount of them when
// set). The ef is resolved here because the automatic one reads the live
// count, which needs the lock the search takes anyway.
func (h *HNSW) searchLocked(s *hnswScratch, dst []Result, q *hnswQuery, opts SearchOptions, rerank bool) []Result {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.live == 0 || !h.hasEntry {
		return dst
	}
	if opts.hasHide {
		if n, ok := h.idmap[opts.hide]; ok {
			s.hide = n
			defer func() { s.hide = noSlot }()
		}
		inner, hid := opts.Filter, opts.hide
		opts.Filter = func(id uint64) bool { return id != hid && (inner == nil || inner(id)) }
	}
	ef := opts.Ef
	if ef == 0 {
		ef = h.efSearch()
	}
	ef = max(ef, opts.K)
	keep := opts.K
	if rerank {
		keep = ef
		if opts.RerankCount > 0 {
			keep = max(opts.RerankCount, opts.K)
			ef = max(ef, keep)
		}
	}
	if opts.Candidates != nil && float64(len(opts.Candidates)) <= h.exactFrac*float64(h.live) {
		return h.exactCandidates(s, dst, q, keep, opts.Filter, opts.Candidates)
	}
	if opts.Filter != nil && opts.MatchEstimate > 0 && opts.MatchEstimate <= h.exactFrac {
		return h.exactAll(s, dst, q, keep, opts.Filter)
	}
	budget := 0
	if opts.Filter != nil || h.tomb > 0 {
		budget = max(filteredBudgetFactor*ef, 4096)
	}
	reached, exhausted := h.walk(s, q, ef, opts.Filter, budget)
	// The exact scan is the guarantee that neither a filter nor a node the
	// walk cannot reach makes results go missing. It answers when the walk
	// ran out of nodes with room left in its list while some node was never
	// reached, and when the walk stopped on its budget before filling its
	// list: it has met a selective filter, and its partial list would cost
	// recall (or hold fewer than k results).
	if h.walkEndedShort(s, ef, reached, exhausted) || (!exhausted && len(s.top) < ef) {
		return h.exactAll(s, dst, q, keep, opts.Filter)
	}
	s.res = s.res[:0]
	for _, it := range s.top {
		s.res = append(s.res, Result{ID: h.ids[it.n], Distance: it.d})
	}
	slices.SortFunc(s.res, cmpResult)
	return append(dst, s.res[:min(keep, len(s.res))]...)
}

func cmpResult(a, b Result) int {
	if resultLessHNSW(a, b) {
		return -1
	}
	if resultLessHNSW(b, a) {
		return 1
	}
	return 0
}

// walk descends from the entry point and leaves up to ef results in s.top,
// on whichever storage the graph has. Caller holds mu.RLock.
func (h *HNSW) walk(s *hnswScratch, q *hnswQuery, ef int, filter Filter, budget int) (reached int, exhausted bool) {
	if h.q8 {
		return h.graphSearch8(s, &q.q, ef, filter, budget)
	}
	return h.graphSearch(s, q.f, ef, filter, budget)
}

// graphSearch descends from the entry point and leaves up to ef results in
// s.top. Caller holds mu.RLock. Float32 graphs only.
func (h *HNSW) graphSearch(s *hnswScratch, q []float32, ef int, filter Filter, budget int) (reached int, exhausted bool) {
	ep := h.entry
	cur := hnswItem{distance(h.metric, h.vec(ep), q), ep}
	if ep == s.hide {
		cur.d = math.MaxFloat32 // any neighbour is a better start
	}
	for l := h.maxLevel; l > 0; l-- {
		cur = h.greedy(q, cur, l, s.hide)
	}
	s.vis.reset(len(h.ids))
	hideVisited(s, cur.n)
	eps := [1]hnswItem{cur}
	return h.searchLayer(s, q, eps[:], ef, 0, filter, budget)
}

// exactAll keeps the k best live nodes that pass filter. Caller holds
// mu.RLock.
// hideVisited marks the hidden slot as already seen, so the layer walk
// never scores or expands it; unless the walk must start there (a hidden
// entry point with no upper-layer neighbours), where the filter alone keeps
// it out of the results.
func hideVisited(s *hnswScratch, start uint32) {
	if s.hide != noSlot && s.hide != start {
		s.vis.visit(s.hide)
	}
}

func (h *HNSW) exactAll(s *hnswScratch, dst []Result, q *hnswQuery, k int, filter Filter) []Result {
	s.rh = s.rh[:0]
	for n, st := range h.state {
		if st != slotLive {
			continue
		}
		id := h.ids[n]
		if filter != nil && !filter(id) {
			continue
		}
		h.offerExact(s, Result{ID: id, Distance: h.dist(uint32(n), q)}, k)
	}
	return h.finishExact(s, dst)
}

// exactCandidates scores the listed IDs. Caller holds mu.RLock.
func (h *HNSW) exactCandidates(s *hnswScratch, dst []Result, q *hnswQuery, k int, filter Filter, cands []uint64) []Result {
	s.rh = s.rh[:0]
	s.vis.reset(len(h.ids))
	for _, id := range cands {
		n, ok := h.idmap[id]
		if !ok || !s.vis.visit(n) {
			continue // unknown, deleted, or listed twice
		}
		if filter != nil && !filter(id) {
			continue
		}
		h.offerExact(s, Result{ID: id, Distance: h.dist(n, q)}, k)
	}
	return h.finishExact(s, dst)
}

func (h *HNSW) offerExact(s *hnswScratch, r Result, k int) {
	if len(s.rh) < k {
		s.rh.push(r)
	} else if resultLessHNSW(r, s.rh[0]) {
		s.rh.replaceTop(r)
	}
}

func (h *HNSW) finishExact(s *hnswScratch, dst []Result) []Result {
	slices.SortFunc(s.rh, cmpResult)
	return append(dst, s.rh...)
}

var _ Index = (*HNSW)(nil)
