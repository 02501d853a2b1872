package index

import (
	"slices"
	"sync"
	"sync/atomic"
)

// hnswRepairPool caps the candidates considered when re-selecting one
// node's links during repair; the heuristic rarely reaches past the
// closest few dozen, and the cap bounds the work per node.
const hnswRepairPool = 128

// maybeCompact repairs the graph when tombstones exceed the threshold.
// Caller holds wmu.
func (h *HNSW) maybeCompact() {
	h.mu.RLock()
	slots, tomb := len(h.ids), h.tomb
	h.mu.RUnlock()
	if h.compact > 0 && tomb > 0 && float64(tomb) > h.compact*float64(slots) {
		h.compactLocked()
	}
}

// Compact reconnects the neighbours of every tombstoned node and recycles
// the tombstoned slots, whatever the threshold. Searches continue while it
// runs; writers wait.
func (h *HNSW) Compact() {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	h.compactLocked()
}

// compactLocked is the repair. For every live node that links to a
// tombstone on some layer, the candidates are its live neighbours plus the
// live nodes reachable through its tombstoned neighbours (following chains
// of tombstones), and the selection heuristic picks the new list from them:
// the deleted node's neighbourhood is stitched back together around it, as
// hnswlib's repairConnectionsForUpdate does for an updated point. Once no
// live node links to a tombstone, the tombstones are freed under mu.Lock,
// which also waits out any search that may still hold one in its queue.
// Caller holds wmu.
func (h *HNSW) compactLocked() {
	h.mu.RLock()
	if h.tomb == 0 {
		h.mu.RUnlock()
		return
	}
	slots := len(h.ids)
	workers := max(1, min(h.workers, slots/1024+1))
	var next atomic.Int64
	const chunk = 256
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			s := h.getScratch()
			defer h.putScratch(s)
			for {
				start := int(next.Add(chunk) - chunk)
				if start >= slots {
					return
				}
				for n := start; n < min(start+chunk, slots); n++ {
					if h.state[n] != slotLive {
						continue
					}
					for l := 0; l <= int(h.levels[n]); l++ {
						h.repairList(s, uint32(n), l)
					}
				}
			}
		})
	}
	wg.Wait()
	h.mu.RUnlock()

	h.mu.Lock()
	for n, st := range h.state {
		if st != slotDeleted {
			continue
		}
		h.state[n] = slotFree
		h.ids[n] = 0
		h.levels[n] = 0
		h.upper[n] = nil
		clear(h.links(uint32(n), 0))
		clear(h.vec(uint32(n)))
		h.free = append(h.free, uint32(n))
	}
	h.tomb = 0
	if h.hasEntry && h.state[h.entry] != slotLive {
		h.rechooseEntry()
	}
	// Recycle low slots first so the graph stays dense.
	slices.SortFunc(h.free, func(a, b uint32) int { return int(int64(b) - int64(a)) })
	h.mu.Unlock()
}

// repairList rewrites n's list on layer l if it links to a tombstone.
// Caller holds mu.RLock (and wmu, so no other writer touches links).
func (h *HNSW) repairList(s *hnswScratch, n uint32, l int) {
	lst := h.links(n, l)
	cnt := int(atomic.LoadUint32(&lst[0]))
	dirty := false
	for i := 1; i <= cnt; i++ {
		if h.state[atomic.LoadUint32(&lst[i])] != slotLive {
			dirty = true
			break
		}
	}
	if !dirty {
		return
	}
	maxLinks := h.m
	if l == 0 {
		maxLinks = h.m0
	}
	nv := h.vec(n)
	var oldBuf [65]uint32
	old := oldBuf[:0]
	for i := 1; i <= cnt; i++ {
		old = append(old, atomic.LoadUint32(&lst[i]))
	}
	s.vis.reset(len(h.ids))
	s.vis.visit(n)
	s.buf = s.buf[:0]
	// Breadth-first through tombstones: s.sel doubles as the queue of
	// tombstones still to expand.
	s.sel = s.sel[:0]
	for i := 1; i <= cnt; i++ {
		e := atomic.LoadUint32(&lst[i])
		if !s.vis.visit(e) {
			continue
		}
		if h.state[e] == slotLive {
			s.buf = append(s.buf, hnswItem{distance(h.metric, h.vec(e), nv), e})
		} else {
			s.sel = append(s.sel, hnswItem{0, e})
		}
	}
	// Direct tombstone neighbours come first in the queue; chains are only
	// followed while the pool is short, which bounds the distance
	// computations per list (they dominate the repair's cost).
	for qi := 0; qi < len(s.sel) && qi < 4*maxLinks && len(s.buf) < hnswRepairPool; qi++ {
		t := s.sel[qi].n
		if int(h.levels[t]) < l {
			continue
		}
		tl := h.links(t, l)
		tc := int(atomic.LoadUint32(&tl[0]))
		for i := 1; i <= tc; i++ {
			e := atomic.LoadUint32(&tl[i])
			if !s.vis.visit(e) {
				continue
			}
			if h.state[e] == slotLive {
				s.buf = append(s.buf, hnswItem{distance(h.metric, h.vec(e), nv), e})
			} else {
				s.sel = append(s.sel, hnswItem{0, e})
			}
		}
	}
	slices.SortFunc(s.buf, cmpItem)
	if len(s.buf) > hnswRepairPool {
		s.buf = s.buf[:hnswRepairPool]
	}
	s.sel = h.selectNeighbors(s.buf, maxLinks, s.sel[:0])
	var selBuf [64]hnswItem
	sel := append(selBuf[:0], s.sel...)
	mu := h.lockFor(n)
	mu.Lock()
	// Another repair worker may have linked to n since the list was read;
	// keep such live additions when there is room.
	cur := int(atomic.LoadUint32(&lst[0]))
	for i := 1; i <= cur && len(sel) < maxLinks; i++ {
		e := atomic.LoadUint32(&lst[i])
		if h.state[e] != slotLive || slices.ContainsFunc(sel, func(it hnswItem) bool { return it.n == e }) {
			continue
		}
		sel = append(sel, hnswItem{distance(h.metric, h.vec(e), nv), e})
	}
	for i, it := range sel {
		atomic.StoreUint32(&lst[1+i], it.n)
	}
	atomic.StoreUint32(&lst[0], uint32(len(sel)))
	mu.Unlock()
	// Reverse links to the newcomers, as an insert adds them: without them
	// the nodes that were reachable only through a deleted node lose their
	// in-links. Neighbours n kept from before need none (and skipping them
	// saves most of the repair's distance computations).
	for _, it := range sel {
		if !slices.Contains(old, it.n) {
			h.link(s, it.n, n, it.d, l)
		}
	}
}
