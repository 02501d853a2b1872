package index

import (
	"fmt"
	"math"
	"slices"
	"sync"
)

// Flat is the exact index: it compares the query with every stored vector.
// It is the ground truth for the HNSW graph and the right choice for small
// collections or very selective filters.
//
// Vectors live in one contiguous slice (row i at data[i*dim:]); a deletion
// moves the last row into the hole so the scan stays dense and sequential.
// A search is one streaming pass over that slice, scored a block of rows at
// a time with the batch kernels, so it runs at memory bandwidth; SearchBatch
// scores several queries against each block while it is still in cache, so
// the data is read from memory once per batch instead of once per query,
// and with AVX-512 four queries share each load of a row. Every path sums
// in the same order, so SearchBatch and Search agree bit for bit.
//
// Searches take a read lock and writers a write lock: any number of
// searches run in parallel, and a writer waits only for the scans in flight.
// A filter runs under the read lock, so it must not call back into the same
// Flat (a queued writer would deadlock the nested read lock).
type Flat struct {
	mu     sync.RWMutex
	dim    int
	metric Metric
	data   []float32
	ids    []uint64       // row -> id
	rows   map[uint64]int // id -> row
}

// flatBlockBytes sizes the rows scored per kernel call: small enough that a
// block stays in L1/L2 while every query of a batch is scored against it,
// large enough that per-block overhead is negligible.
const flatBlockBytes = 32 << 10

// flatMaxBlockRows bounds the per-search score buffer, which lives on the
// stack.
const flatMaxBlockRows = 256

// NewFlat returns an empty exact index. An invalid dimension or metric is
// reported by the first Add or Search.
func NewFlat(dim int, m Metric) *Flat {
	return &Flat{dim: dim, metric: m, rows: make(map[uint64]int)}
}

// Dim implements Index.
func (f *Flat) Dim() int { return f.dim }

// Metric implements Index.
func (f *Flat) Metric() Metric { return f.metric }

// Len implements Index.
func (f *Flat) Len() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.ids)
}

// Contains reports whether id is stored.
func (f *Flat) Contains(id uint64) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	_, ok := f.rows[id]
	return ok
}

func (f *Flat) checkConfig() error {
	if f.dim <= 0 {
		return fmt.Errorf("index: flat index dimension %d must be positive", f.dim)
	}
	if !f.metric.Valid() {
		return fmt.Errorf("index: flat index has invalid metric %v", f.metric)
	}
	return nil
}

// Add implements Index.
func (f *Flat) Add(id uint64, vec []float32) error {
	if err := f.checkConfig(); err != nil {
		return err
	}
	v, err := prepare(vec, f.dim, f.metric)
	if err != nil {
		return fmt.Errorf("index: add %d: %w", id, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.rows[id]; ok {
		copy(f.data[r*f.dim:], v)
		return nil
	}
	f.rows[id] = len(f.ids)
	f.ids = append(f.ids, id)
	f.data = append(f.data, v...)
	return nil
}

// Delete implements Index.
func (f *Flat) Delete(id uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.rows[id]
	if !ok {
		return false
	}
	last := len(f.ids) - 1
	if r != last {
		copy(f.data[r*f.dim:(r+1)*f.dim], f.data[last*f.dim:])
		f.ids[r] = f.ids[last]
		f.rows[f.ids[r]] = r
	}
	f.ids = f.ids[:last]
	f.data = f.data[:last*f.dim]
	delete(f.rows, id)
	if len(f.ids) == 0 {
		// Give the memory back once the index is empty; a shrinking but
		// non-empty index keeps its capacity for the next Add.
		f.data, f.ids = nil, nil
	}
	return true
}

// Search implements Index. The filter is consulted only for rows whose
// distance would place them in the current top k, so an expensive filter
// costs little on a permissive query.
func (f *Flat) Search(q []float32, k int, filter Filter) ([]Result, error) {
	if err := f.checkSearch(k); err != nil {
		return nil, err
	}
	qv, err := prepare(q, f.dim, f.metric)
	if err != nil {
		return nil, err
	}
	if k == 0 {
		return []Result{}, nil
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	top := flatTop{k: min(k, len(f.ids))}
	top.h = make([]Result, 0, top.k)
	var buf [flatMaxBlockRows]float32
	bs := f.blockRows()
	for start := 0; start < len(f.ids); start += bs {
		end := min(start+bs, len(f.ids))
		sc := buf[:end-start]
		f.score(qv, start, sc)
		top.offerBlock(sc, f.ids[start:end], filter, nil)
	}
	return top.sorted(), nil
}

// SearchBatch answers several queries in one pass over the data: each
// block of rows is scored against every query while it is in cache. The
// answer for qs[i] is at index i and equals Search(qs[i], k, filter). The
// filter is called at most once per stored vector.
func (f *Flat) SearchBatch(qs [][]float32, k int, filter Filter) ([][]Result, error) {
	if err := f.checkSearch(k); err != nil {
		return nil, err
	}
	prepared := make([]float32, len(qs)*f.dim)
	for i, q := range qs {
		if err := checkVector(q, f.dim); err != nil {
			return nil, fmt.Errorf("index: search batch query %d: %w", i, err)
		}
		p := prepared[i*f.dim : (i+1)*f.dim]
		copy(p, q)
		if f.metric == Cosine && !normalize(p) {
			return nil, fmt.Errorf("index: search batch query %d: %w", i, ErrZeroNorm)
		}
	}
	out := make([][]Result, len(qs))
	if k == 0 || len(qs) == 0 {
		for i := range out {
			out[i] = []Result{}
		}
		return out, nil
	}

	f.mu.RLock()
	defer f.mu.RUnlock()
	kk := min(k, len(f.ids))
	tops := make([]flatTop, len(qs))
	results := make([]Result, 0, len(qs)*kk) // one allocation backs every answer
	for i := range tops {
		tops[i] = flatTop{k: kk, h: results[i*kk : i*kk : (i+1)*kk]}
	}
	var buf [flatMaxBlockRows]float32
	var buf4 [4 * flatMaxBlockRows]float32
	var seen [flatMaxBlockRows]flatMemo
	bs := f.blockRows()
	quads := 0 // queries scored four at a time by the four-query kernel
	if hasBatch4() {
		quads = len(tops) / 4 * 4
	}
	for start := 0; start < len(f.ids); start += bs {
		end := min(start+bs, len(f.ids))
		sc := buf[:end-start]
		ids := f.ids[start:end]
		memo := seen[:end-start]
		clear(memo)
		for i := 0; i < quads; i += 4 {
			b4 := buf4[:4*len(sc)]
			batch4(f.metric == L2, prepared[i*f.dim:(i+4)*f.dim], f.data[start*f.dim:end*f.dim], f.dim, b4)
			for j := range 4 {
				for r := range sc {
					sc[r] = b4[4*r+j]
				}
				f.toDistance(sc)
				tops[i+j].offerBlock(sc, ids, filter, memo)
			}
		}
		for i := quads; i < len(tops); i++ {
			f.score(prepared[i*f.dim:(i+1)*f.dim], start, sc)
			tops[i].offerBlock(sc, ids, filter, memo)
		}
	}
	for i := range tops {
		out[i] = tops[i].sorted()
	}
	return out, nil
}

func (f *Flat) checkSearch(k int) error {
	if err := f.checkConfig(); err != nil {
		return err
	}
	if k < 0 {
		return fmt.Errorf("index: k %d must not be negative", k)
	}
	return nil
}

func (f *Flat) blockRows() int {
	return max(1, min(flatMaxBlockRows, flatBlockBytes/(4*f.dim)))
}

// score fills sc with the distances from q to rows start..start+len(sc).
func (f *Flat) score(q []float32, start int, sc []float32) {
	rows := f.data[start*f.dim : (start+len(sc))*f.dim]
	if f.metric == L2 {
		l2sqBatch(q, rows, f.dim, sc)
		return
	}
	dotBatch(q, rows, f.dim, sc)
	f.toDistance(sc)
}

// toDistance turns kernel output into the metric's distance in place: dot
// products become 1-dot (cosine) or -dot; squared L2 already is one.
func (f *Flat) toDistance(sc []float32) {
	switch f.metric {
	case Cosine:
		for j, x := range sc {
			sc[j] = 1 - x
		}
	case Dot:
		for j, x := range sc {
			sc[j] = -x
		}
	}
}

// flatMemo caches one filter answer within a SearchBatch block.
type flatMemo uint8

const (
	flatMemoUnknown flatMemo = iota
	flatMemoPass
	flatMemoReject
)

// flatTop keeps the k best results seen so far in a max-heap ordered by less,
// so the current worst is at h[0]. It is typed rather than built on
// container/heap to avoid boxing every candidate in an interface.
type flatTop struct {
	k int
	h []Result
}

// offerBlock offers one scored block. memo, when not nil, remembers filter
// answers across the queries of a batch.
func (t *flatTop) offerBlock(sc []float32, ids []uint64, filter Filter, memo []flatMemo) {
	for j, d := range sc {
		if d != d {
			// Finite inputs can still overflow into Inf-Inf; rank such a
			// pair last instead of corrupting the heap order.
			d = float32(math.Inf(1))
		}
		r := Result{ID: ids[j], Distance: d}
		if len(t.h) == t.k && !less(r, t.h[0]) {
			continue
		}
		if filter != nil {
			switch {
			case memo == nil:
				if !filter(r.ID) {
					continue
				}
			case memo[j] == flatMemoReject:
				continue
			case memo[j] == flatMemoUnknown:
				if !filter(r.ID) {
					memo[j] = flatMemoReject
					continue
				}
				memo[j] = flatMemoPass
			}
		}
		t.push(r)
	}
}

func (t *flatTop) push(r Result) {
	if t.k == 0 {
		return
	}
	if len(t.h) < t.k {
		t.h = append(t.h, r)
		// Sift up.
		i := len(t.h) - 1
		for i > 0 {
			p := (i - 1) / 2
			if !less(t.h[p], t.h[i]) {
				break
			}
			t.h[p], t.h[i] = t.h[i], t.h[p]
			i = p
		}
		return
	}
	t.h[0] = r
	// Sift down.
	i, n := 0, len(t.h)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && less(t.h[c], t.h[c+1]) {
			c++
		}
		if !less(t.h[i], t.h[c]) {
			break
		}
		t.h[i], t.h[c] = t.h[c], t.h[i]
		i = c
	}
}

// sorted returns the kept results best first.
func (t *flatTop) sorted() []Result {
	slices.SortFunc(t.h, flatCmp)
	return t.h
}

// less orders results by distance, then ID, so ties are deterministic.
func less(a, b Result) bool {
	if a.Distance != b.Distance {
		return a.Distance < b.Distance
	}
	return a.ID < b.ID
}

func flatCmp(a, b Result) int {
	switch {
	case less(a, b):
		return -1
	case less(b, a):
		return 1
	}
	return 0
}

var _ Index = (*Flat)(nil)
