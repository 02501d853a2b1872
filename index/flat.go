package index

import (
	"container/heap"
	"sort"
	"sync"
)

// Flat is the exact index: it compares the query with every stored vector.
// It is the ground truth for the HNSW graph and the right choice for small
// collections or very selective filters.
//
// Vectors live in one contiguous slice (row i at data[i*dim:]); a deletion
// moves the last row into the hole so the scan stays dense.
type Flat struct {
	mu     sync.RWMutex
	dim    int
	metric Metric
	data   []float32
	ids    []uint64       // row -> id
	rows   map[uint64]int // id -> row
}

// NewFlat returns an empty exact index.
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

// Add implements Index.
func (f *Flat) Add(id uint64, vec []float32) error {
	v, err := prepare(vec, f.dim, f.metric)
	if err != nil {
		return err
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
	return true
}

// Search implements Index.
func (f *Flat) Search(q []float32, k int, filter Filter) ([]Result, error) {
	qv, err := prepare(q, f.dim, f.metric)
	if err != nil {
		return nil, err
	}
	if k <= 0 {
		return nil, nil
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	h := make(maxHeap, 0, k)
	for r, id := range f.ids {
		if filter != nil && !filter(id) {
			continue
		}
		d := distance(f.metric, f.data[r*f.dim:(r+1)*f.dim], qv)
		if len(h) < k {
			heap.Push(&h, Result{id, d})
		} else if less(Result{id, d}, h[0]) {
			h[0] = Result{id, d}
			heap.Fix(&h, 0)
		}
	}
	out := []Result(h)
	sort.Slice(out, func(i, j int) bool { return less(out[i], out[j]) })
	return out, nil
}

// less orders results by distance, then ID, so ties are deterministic.
func less(a, b Result) bool {
	if a.Distance != b.Distance {
		return a.Distance < b.Distance
	}
	return a.ID < b.ID
}

// maxHeap keeps the current worst result at the top.
type maxHeap []Result

func (h maxHeap) Len() int           { return len(h) }
func (h maxHeap) Less(i, j int) bool { return less(h[j], h[i]) }
func (h maxHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *maxHeap) Push(x any)        { *h = append(*h, x.(Result)) }
func (h *maxHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

var _ Index = (*Flat)(nil)
