package index

// hnswItem is a graph node (dense internal id) with its distance to the
// current query. The heaps below hold it by value: container/heap would box
// every push through an interface and cost an allocation per element.
type hnswItem struct {
	d float32
	n uint32
}

// itemLess orders by distance, then internal id, so heap contents are
// deterministic for a given insertion order.
func itemLess(a, b hnswItem) bool {
	if a.d != b.d {
		return a.d < b.d
	}
	return a.n < b.n
}

// minItemHeap pops the closest item first (the candidate queue).
type minItemHeap []hnswItem

func (h *minItemHeap) push(it hnswItem) {
	s := append(*h, it)
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !itemLess(s[i], s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
	*h = s
}

func (h *minItemHeap) pop() hnswItem {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(s) {
			break
		}
		c := l
		if r := l + 1; r < len(s) && itemLess(s[r], s[l]) {
			c = r
		}
		if !itemLess(s[c], s[i]) {
			break
		}
		s[i], s[c] = s[c], s[i]
		i = c
	}
	*h = s
	return top
}

// maxItemHeap keeps the farthest item on top (the bounded result set).
type maxItemHeap []hnswItem

func (h *maxItemHeap) push(it hnswItem) {
	s := append(*h, it)
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !itemLess(s[p], s[i]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
	*h = s
}

func (h *maxItemHeap) pop() hnswItem {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(s) {
			break
		}
		c := l
		if r := l + 1; r < len(s) && itemLess(s[l], s[r]) {
			c = r
		}
		if !itemLess(s[i], s[c]) {
			break
		}
		s[i], s[c] = s[c], s[i]
		i = c
	}
	*h = s
	return top
}

// replaceTop swaps the farthest item for it and restores the heap.
func (h maxItemHeap) replaceTop(it hnswItem) {
	h[0] = it
	i := 0
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		c := l
		if r := l + 1; r < len(h) && itemLess(h[l], h[r]) {
			c = r
		}
		if !itemLess(h[i], h[c]) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// resultLessHNSW is the public result order (distance, then caller ID). It
// is kept separate from flat.go's helpers so the two files can evolve
// independently.
func resultLessHNSW(a, b Result) bool {
	if a.Distance != b.Distance {
		return a.Distance < b.Distance
	}
	return a.ID < b.ID
}

// resultMaxHeap keeps the worst of the best-k results on top during exact
// scans.
type resultMaxHeap []Result

func (h *resultMaxHeap) push(r Result) {
	s := append(*h, r)
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !resultLessHNSW(s[p], s[i]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
	*h = s
}

// replaceTop swaps the worst result for r and restores the heap.
func (h *resultMaxHeap) replaceTop(r Result) {
	s := *h
	s[0] = r
	i := 0
	for {
		l := 2*i + 1
		if l >= len(s) {
			break
		}
		c := l
		if rr := l + 1; rr < len(s) && resultLessHNSW(s[l], s[rr]) {
			c = rr
		}
		if !resultLessHNSW(s[i], s[c]) {
			break
		}
		s[i], s[c] = s[c], s[i]
		i = c
	}
}
