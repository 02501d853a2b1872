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

// maybeCompact repairs the graph when tombstones exceed the threshold
// fraction of the nodes in the graph (live and tombstoned; free slots do
// not count: after half a graph was deleted and repaired, counting its
// free slots would let tombstones reach twice the threshold's share of
// the nodes searches walk, which cost 16-19% more distance evaluations
// per search than a fresh build; see TestHNSWDeleteHalfMatchesFreshBuild).
// Caller holds wmu.
func (h *HNSW) maybeCompact() {
	h.mu.RLock()
	slots, tomb := len(h.ids)-len(h.free), h.tomb
	h.mu.RUnlock()
	if h.compact > 0 && tomb > 0 && float64(tomb) > h.compact*float64(slots) {
		h.compactLocked()
	}
}

// Compact reconnects the neighbours of every tombstoned node, recycles the
// tombstoned slots whatever the threshold, and bridges any part of the
// graph a search could not reach. Searches continue while it runs; writers
// wait.
func (h *HNSW) Compact() {
	h.wmu.Lock()
	defer h.wmu.Unlock()
	if h.isClosed() {
		return
	}
	h.compactLocked()
	h.ensureReachable()
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
		lst := h.links(uint32(n), 0)
		for _, e := range lst[1 : 1+lst[0]] {
			h.decIn(e)
		}
		h.state[n] = slotFree
		h.ids[n] = 0
		h.levels[n] = 0
		h.upper[n] = nil
		clear(h.links(uint32(n), 0))
		if h.q8 {
			clear(h.row8(uint32(n)))
		} else {
			clear(h.vec(uint32(n)))
		}
		h.free = append(h.free, uint32(n))
	}
	h.tomb = 0
	if h.hasEntry && h.state[h.entry] != slotLive {
		h.rechooseEntry()
	}
	// Recycle low slots first so the graph stays dense.
	slices.SortFunc(h.free, func(a, b uint32) int { return int(int64(b) - int64(a)) })
	h.mu.Unlock()
	h.fixOrphans()
	h.ensureReachable()
}

// fixOrphans gives every live node whose layer-0 in-count fell to zero an
// in-link again, so that searches can reach it: the nearest of its own
// neighbours that can spare a link (room in its list, or a farthest entry
// that other lists also link to) links back to it. Caller holds wmu.
func (h *HNSW) fixOrphans() {
	h.orphanMu.Lock()
	orphans := h.orphans
	h.orphans = nil
	h.orphanMu.Unlock()
	if len(orphans) == 0 {
		return
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, x := range orphans {
		if int(x) >= len(h.state) || h.state[x] != slotLive || x == h.entry ||
			atomic.LoadUint32(h.inCount(x)) > 0 {
			continue
		}
		h.adopt(x)
	}
}

// adopt links a neighbour of x back to x. Caller holds mu.RLock and wmu.
func (h *HNSW) adopt(x uint32) {
	xv := h.node(x)
	own := h.links(x, 0)
	var candBuf [64]hnswItem
	cands := candBuf[:0]
	for i := 1; i <= int(atomic.LoadUint32(&own[0])); i++ {
		t := atomic.LoadUint32(&own[i])
		if h.state[t] == slotLive {
			cands = append(cands, hnswItem{h.dist(t, &xv), t})
		}
	}
	slices.SortFunc(cands, cmpItem)
	for _, t := range cands {
		if h.forceLink(t.n, x) {
			return
		}
	}
}

// forceLink adds x to t's layer-0 list: into free room, or in place of the
// farthest entry that stays reachable through another list. It reports
// whether it could. Caller holds mu.RLock and wmu.
func (h *HNSW) forceLink(t, x uint32) bool {
	mu := h.lockFor(t)
	mu.Lock()
	defer mu.Unlock()
	lst := h.links(t, 0)
	cnt := int(atomic.LoadUint32(&lst[0]))
	for i := 1; i <= cnt; i++ {
		if atomic.LoadUint32(&lst[i]) == x {
			return true
		}
	}
	// x joins unselected either way.
	h.setListClosed(t, 0, false)
	if cnt < h.m0 {
		atomic.StoreUint32(&lst[1+cnt], x)
		atomic.StoreUint32(&lst[0], uint32(cnt+1))
		h.incIn(x)
		return true
	}
	tv := h.node(t)
	victim, far := -1, float32(0)
	for i := 1; i <= cnt; i++ {
		e := atomic.LoadUint32(&lst[i])
		if atomic.LoadUint32(h.inCount(e)) < 2 && h.state[e] == slotLive {
			continue
		}
		if d := h.dist(e, &tv); victim < 0 || d > far {
			victim, far = i, d
		}
	}
	if victim < 0 {
		return false
	}
	e := atomic.LoadUint32(&lst[victim])
	atomic.StoreUint32(&lst[victim], x)
	h.decIn(e)
	h.incIn(x)
	return true
}

// ensureReachable walks layer 0 from the entry point and bridges every
// part of the graph the walk cannot reach: the nearest node the walk does
// reach links to it. In-link counts alone cannot catch such islands; they
// form, for instance, when more than 2M copies of one vector fill each
// other's lists. A bridge replaces a link in a full list, and the replaced
// link may have been the one that made another, already visited, part of
// the graph reachable; so passes repeat until one bridges nothing (in
// practice the second pass does). Each pass costs one read of all links.
// Caller holds wmu.
func (h *HNSW) ensureReachable() (bridged int) {
	const maxPasses = 8
	for range maxPasses {
		n := h.reachabilityPass()
		bridged += n
		if n == 0 {
			break
		}
	}
	return bridged
}

// reachabilityPass is one pass of ensureReachable.
func (h *HNSW) reachabilityPass() (bridged int) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if !h.hasEntry {
		return 0
	}
	s := h.getScratch()
	defer h.putScratch(s)
	seen := make([]bool, len(h.ids))
	var queue []uint32
	mark := func(from uint32) {
		seen[from] = true
		queue = append(queue[:0], from)
		for len(queue) > 0 {
			n := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			lst := h.links(n, 0)
			cnt := min(int(atomic.LoadUint32(&lst[0])), len(lst)-1)
			for i := 1; i <= cnt; i++ {
				e := atomic.LoadUint32(&lst[i])
				if !seen[e] {
					seen[e] = true
					queue = append(queue, e)
				}
			}
		}
	}
	mark(h.entry)
	for n, st := range h.state {
		if st != slotLive || seen[n] {
			continue
		}
		x := uint32(n)
		xq := h.node(x)
		h.walk(s, &xq, h.efSearch(), nil, 0)
		s.buf = append(s.buf[:0], s.top...)
		slices.SortFunc(s.buf, cmpItem)
		linked := false
		for _, t := range s.buf {
			if t.n != x && seen[t.n] && h.forceLink(t.n, x) {
				linked = true
				break
			}
		}
		if !linked {
			// Every nearby reached node has a full list whose links are
			// all some node's last in-link (many duplicates do this):
			// take any reached node with room.
			linked = h.linkAnywhere(seen, x)
		}
		if linked {
			bridged++
		}
		mark(x)
	}
	return bridged
}

// linkAnywhere links x from any reached node whose layer-0 list has room.
func (h *HNSW) linkAnywhere(seen []bool, x uint32) bool {
	for n, ok := range seen {
		if !ok || uint32(n) == x || h.state[n] != slotLive {
			continue
		}
		lst := h.links(uint32(n), 0)
		if int(atomic.LoadUint32(&lst[0])) < h.m0 && h.forceLink(uint32(n), x) {
			return true
		}
	}
	return false
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
	nv := h.node(n)
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
			s.buf = append(s.buf, hnswItem{h.dist(e, &nv), e})
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
				s.buf = append(s.buf, hnswItem{h.dist(e, &nv), e})
			} else {
				s.sel = append(s.sel, hnswItem{0, e})
			}
		}
	}
	slices.SortFunc(s.buf, cmpItem)
	if len(s.buf) > hnswRepairPool {
		s.buf = s.buf[:hnswRepairPool]
	}
	s.sel = h.selectNeighbors(n, s.buf, maxLinks, s.sel[:0])
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
		sel = append(sel, hnswItem{h.dist(e, &nv), e})
	}
	var curBuf [65]uint32
	curOld := curBuf[:0]
	for i := 1; i <= cur; i++ {
		curOld = append(curOld, atomic.LoadUint32(&lst[i]))
	}
	for i, it := range sel {
		atomic.StoreUint32(&lst[1+i], it.n)
	}
	atomic.StoreUint32(&lst[0], uint32(len(sel)))
	// Links kept from other repair workers join unselected; rather than
	// track whether any did, a repaired list counts as not closed (see
	// listClosed): repairs are rare next to inserts.
	h.setListClosed(n, l, false)
	if l == 0 {
		h.relink(curOld, sel)
	}
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
