package index

// int8 storage for the HNSW graph (WithInt8).
//
// Each slot holds one row of rowLen bytes instead of dim float32s:
//
//	codes   dim × int8, |code| ≤ 127
//	scale   float32 (little-endian): the vector ≈ scale·codes
//	norm    uint32, L2 only: Σ code², so squared distances need no second
//	        pass over the codes
//
// The scale is per vector (max |component| / 127), not one global trained
// scale: it needs no training pass and no state shared
// between vectors, so inserts, upserts, repairs and snapshots work exactly
// as on float32 rows, and a vector never clips. Distances come from the
// exact integer dot product of two code rows times both scales:
//
//	cosine  1 - sa·sb·(ca·cb)     (vectors normalized before encoding)
//	dot     -sa·sb·(ca·cb)
//	l2      sa²·|ca|² + sb²·|cb|² - 2·sa·sb·(ca·cb), in float64, clamped at 0
//
// The scalars sit right after the codes, in the cache line the kernel has
// just read, rather than in a parallel array that would cost a second miss
// per neighbour.
//
// Everything that measures distance on the graph (inserts, neighbour
// selection, repair, reachability, search) runs on these rows; a query is
// quantized once per search. The float32 vectors are not kept: a search
// that wants exact distances gets them through SearchOptions.Rerank.
//
// The search hot loop (searchLayer8, greedy8) duplicates the float32 one
// (searchLayer, greedy) on purpose: one distance function per loop, with
// no indirect call or storage branch per neighbour in either. A change to
// one loop (say, prefetching) belongs in the other too.
//
// Measured on 100k × 384 clustered vectors, M 16, efC 200, k 10, against
// the float32 graph, single-thread queries per CPU-second
// (TestHNSWInt8BenchReport): with the re-rank recall@10 is within 0.3
// points from ef 16 up (0.9725 vs 0.9705 at ef 32, 0.9974 vs 0.9976 at ef
// 64) at 0.9–1.1× the float32 QPS when every candidate is re-ranked, or
// 1.2–1.25× re-ranking the best 20 for the same recall; codes alone
// plateau near recall 0.935 at about 1.3–1.4× the QPS. At ef = k the
// re-rank has nothing to re-order and recall trails by about 1.4 points.
// Vectors take 388 bytes instead of 1536, the whole graph 579 bytes per
// vector instead of 1727.

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"unsafe"
)

// WithInt8 stores int8 codes with one float32 scale per vector (plus the
// codes' squared norm under L2) instead of float32 vectors: about 4× less
// memory for vectors (388 bytes instead of 1536 at 384 dimensions). The
// graph is built and searched on the codes. Searches return approximate
// distances unless SearchOptions.Rerank supplies the float32 vectors, in
// which case the best candidates are re-scored exactly. Vector returns the
// decoded approximation. The mode is stored in snapshots and ReadHNSW
// restores it whatever the options (Int8 reports it); WithInt8 given to
// ReadHNSW for a float32 snapshot is an error (ErrHNSWConfig): a loaded
// graph is never converted, since its links were chosen by float32
// distances.
func WithInt8() HNSWOption { return func(c *hnswConfig) { c.q8 = true } }

// int8RowLen is the bytes per slot of an int8 graph.
func int8RowLen(dim int, m Metric) int {
	if m == L2 {
		return dim + 8
	}
	return dim + 4
}

// encodeRow8 quantizes v (already prepared: normalized under Cosine) into
// row, whose length is int8RowLen(len(v), m).
func encodeRow8(row []int8, v []float32, m Metric) {
	dim := len(v)
	codes := row[:dim]
	var mx float32
	for _, x := range v {
		mx = max(mx, float32(math.Abs(float64(x))))
	}
	var scale float32
	if mx > 0 {
		// float64, so that a subnormal maximum does not overflow the
		// inverse.
		inv := 127 / float64(mx)
		for i, x := range v {
			codes[i] = int8(math.Round(max(-127, min(127, float64(x)*inv))))
		}
		scale = float32(float64(mx) / 127)
	} else {
		clear(codes)
	}
	binary.LittleEndian.PutUint32(asBytes(row[dim:dim+4]), math.Float32bits(scale))
	if m == L2 {
		var n uint32
		for _, c := range codes {
			n += uint32(int32(c) * int32(c))
		}
		binary.LittleEndian.PutUint32(asBytes(row[dim+4:dim+8]), n)
	}
}

// asBytes views int8s as bytes (same size and alignment) so that
// encoding/binary reads the scalars with one load each; the only use of
// unsafe outside the kernels' glue.
func asBytes(b []int8) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b))), len(b))
}

// q8Ref is an int8 row as a distance operand.
type q8Ref struct {
	c     []int8
	scale float32
	norm  uint32 // Σ code², L2 only
}

// hnswQuery is one side of a distance: float32 on float32 graphs, codes on
// int8 graphs.
type hnswQuery struct {
	f []float32
	q q8Ref
}

// row8 returns slot n's int8 row.
func (h *HNSW) row8(n uint32) []int8 {
	seg := h.q8Segs[n>>hnswSegShift]
	off := int(n&hnswSegMask) * h.rowLen
	return seg[off : off+h.rowLen : off+h.rowLen]
}

// prefetchRow8 asks for the cache lines of slot n's row. prefetchLines
// takes a *uint32, so the address is rounded down to a word boundary
// (segments are word aligned; rows need not be when dim is odd).
func (h *HNSW) prefetchRow8(n uint32) {
	seg := h.q8Segs[n>>hnswSegShift]
	off := int(n&hnswSegMask) * h.rowLen
	a := off &^ 3
	prefetchLines((*uint32)(unsafe.Pointer(&seg[a])), off-a+h.rowLen)
}

// ref8Row splits a row into codes and scalars.
func (h *HNSW) ref8Row(row []int8) q8Ref {
	r := q8Ref{c: row[:h.dim:h.dim], scale: math.Float32frombits(binary.LittleEndian.Uint32(asBytes(row[h.dim : h.dim+4])))}
	if h.metric == L2 {
		r.norm = binary.LittleEndian.Uint32(asBytes(row[h.dim+4 : h.dim+8]))
	}
	return r
}

// decode8 writes slot n's approximate vector into dst and returns it.
func (h *HNSW) decode8(n uint32, dst []float32) []float32 {
	r := h.ref8Row(h.row8(n))
	for i, c := range r.c {
		dst[i] = float32(c) * r.scale
	}
	return dst
}

// node returns slot n's vector as a distance operand.
func (h *HNSW) node(n uint32) hnswQuery {
	if h.q8 {
		return hnswQuery{q: h.ref8Row(h.row8(n))}
	}
	return hnswQuery{f: h.vec(n)}
}

// dist is the distance from slot n to q on the graph's storage. It is for
// the paths outside the search hot loop (selection, repair, exact scans);
// the loops call distance or dist8 directly.
func (h *HNSW) dist(n uint32, q *hnswQuery) float32 {
	if h.q8 {
		return h.dist8(n, &q.q)
	}
	return distance(h.metric, h.vec(n), q.f)
}

// dist8 is the int8 distance from slot n to q.
func (h *HNSW) dist8(n uint32, q *q8Ref) float32 {
	r := h.ref8Row(h.row8(n))
	d := dotInt8(q.c, r.c)
	switch h.metric {
	case Cosine:
		return 1 - q.scale*r.scale*float32(d)
	case Dot:
		return -q.scale * r.scale * float32(d)
	}
	sa, sb := float64(q.scale), float64(r.scale)
	l2 := sa*sa*float64(q.norm) + sb*sb*float64(r.norm) - 2*sa*sb*float64(d)
	return float32(max(0, l2))
}

// descend is greedy on the graph's storage.
func (h *HNSW) descend(q *hnswQuery, cur hnswItem, l int) hnswItem {
	if h.q8 {
		return h.greedy8(&q.q, cur, l, noSlot)
	}
	return h.greedy(q.f, cur, l, noSlot)
}

// walkLayer is an unfiltered, unbounded searchLayer on the graph's storage
// (the insert path).
func (h *HNSW) walkLayer(s *hnswScratch, q *hnswQuery, eps []hnswItem, ef, l int) {
	if h.q8 {
		h.searchLayer8(s, &q.q, eps, ef, l, nil, 0)
		return
	}
	h.searchLayer(s, q.f, eps, ef, l, nil, 0)
}

// greedy8 is greedy for int8 graphs (a duplicate kept in step with greedy;
// see the file comment).
func (h *HNSW) greedy8(q *q8Ref, cur hnswItem, l int, hide uint32) hnswItem {
	for changed := true; changed; {
		changed = false
		lst := h.links(cur.n, l)
		cnt := min(int(atomic.LoadUint32(&lst[0])), len(lst)-1)
		for i := 1; i <= cnt; i++ {
			nb := atomic.LoadUint32(&lst[i])
			d := h.dist8(nb, q)
			if d < cur.d && nb != hide {
				cur = hnswItem{d, nb}
				changed = true
			}
		}
	}
	return cur
}

// searchLayer8 is searchLayer for int8 graphs (a duplicate kept in step
// with searchLayer; see the file comment).
func (h *HNSW) searchLayer8(s *hnswScratch, q *q8Ref, eps []hnswItem, ef, l int, filter Filter, budget int) (reached int, exhausted bool) {
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
	// As in searchLayer: each hop collects its unvisited neighbours first
	// and asks for all their rows before scoring any, so the cache misses
	// overlap; the next candidate's link list is fetched meanwhile. The
	// scoring order, and so the result, is that of one at a time.
	var nbs [hnswHop]uint32
	for len(s.cand) > 0 {
		c := s.cand.pop()
		if len(s.top) >= ef && c.d > s.top[0].d {
			break
		}
		if len(s.cand) > 0 {
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
					nbs[k] = nb
					h.prefetchRow8(nb)
					k++
				}
			}
			evals += k
			for _, nb := range nbs[:k] {
				d := h.dist8(nb, q)
				if len(s.top) < ef || d < s.top[0].d {
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

// graphSearch8 is graphSearch for int8 graphs. Caller holds mu.RLock.
func (h *HNSW) graphSearch8(s *hnswScratch, q *q8Ref, ef int, filter Filter, budget int) (reached int, exhausted bool) {
	ep := h.entry
	cur := hnswItem{h.dist8(ep, q), ep}
	if ep == s.hide {
		cur.d = math.MaxFloat32
	}
	for l := h.maxLevel; l > 0; l-- {
		cur = h.greedy8(q, cur, l, s.hide)
	}
	s.vis.reset(len(h.ids))
	hideVisited(s, cur.n)
	eps := [1]hnswItem{cur}
	return h.searchLayer8(s, q, eps[:], ef, 0, filter, budget)
}

// rerank scores the candidates in s.cand2 with the float32 vectors from
// opts.Rerank against the prepared query qv, and appends the best K to dst.
// The graph lock is not held.
//
// It computes exactly what prepare and distance compute for an added
// vector (so results equal a float32 graph's or Flat's bit for bit) but
// cheaper, since this runs for every candidate of every search: the
// squared norm doubles as the finiteness check (a NaN or Inf component
// makes it NaN or Inf; only then are components inspected one by one),
// normalization scales straight into the scratch buffer instead of
// copying first, and Dot and L2 read the caller's slice as it is.
func (h *HNSW) rerank(s *hnswScratch, dst []Result, qv []float32, opts SearchOptions) ([]Result, error) {
	if cap(s.rv) < h.dim {
		s.rv = make([]float32, h.dim)
	}
	buf := s.rv[:h.dim]
	out := s.cand2[:0]
	for _, c := range s.cand2 {
		v, ok := opts.Rerank(c.ID, buf[:0])
		if !ok {
			if h.Contains(c.ID) {
				return dst, fmt.Errorf("%w: Rerank has no vector for ID %d, which the graph holds", ErrRerank, c.ID)
			}
			continue // deleted since the walk
		}
		if len(v) != h.dim {
			return dst, fmt.Errorf("%w: ID %d: %w: got %d, want %d", ErrRerank, c.ID, ErrDimension, len(v), h.dim)
		}
		n2 := float64(dot32(v, v))
		if math.IsNaN(n2) || math.IsInf(n2, 0) {
			// Either a non-finite component or finite ones whose squares
			// overflow (which Add accepts under Dot and L2).
			if err := checkVector(v, h.dim); err != nil {
				return dst, fmt.Errorf("%w: ID %d: %w", ErrRerank, c.ID, err)
			}
		}
		x := v
		if h.metric == Cosine {
			// normalize's arithmetic, on the same squared norm.
			n := math.Sqrt(n2)
			if n == 0 || math.IsNaN(n) || math.IsInf(n, 0) {
				return dst, fmt.Errorf("%w: ID %d: %w", ErrRerank, c.ID, ErrZeroNorm)
			}
			inv := float32(1 / n)
			for i, y := range v {
				buf[i] = y * inv
			}
			x = buf
		}
		out = append(out, Result{ID: c.ID, Distance: distance(h.metric, x, qv)})
	}
	slices.SortFunc(out, cmpResult)
	return append(dst, out[:min(opts.K, len(out))]...), nil
}
