package index

import (
	"sync"
	"unsafe"
)

// Vector and link segments outside the Go heap.
//
// Why: a graph's vectors and layer-0 links are nearly all of its memory
// (1.5 GB and 0.14 GB of the 1.8 GB a million 384-dim float32 vectors
// take; at 96 dimensions the links are a quarter of it), they live as long
// as the graph, and the Go collector lets a heap grow to twice what it
// marked live (GOGC 100) before collecting again. On the heap, then, the
// vectors made room for as much garbage again: inserting a million
// documents through the db peaked at 2.8× the raw vectors over the
// process's memory before the insert. A library cannot change its host process's GOGC or memory
// limit, so the large segments are mapped anonymously instead, where they
// count once and set no pace for the collector (BENCHMARKS.md, "Memory
// while inserting", has the figures).
//
// What Go no longer guarantees for that memory, and what does instead:
//   - Lifetime. The arena is unmapped by HNSW.Close, or, for a graph
//     dropped without Close, by a cleanup (runtime.AddCleanup) once the
//     graph is unreachable. A slice of arena memory must therefore never
//     outlive the graph's reachability or its Close:
//   - Close takes the writer lock and the structure lock (every reader of
//     vectors holds one of them), unmaps, and leaves the segment tables
//     nil, so any later access fails an index check instead of reading
//     freed memory; exported methods report ErrClosed first.
//   - Every exported method that reaches segment memory keeps the graph
//     reachable until it returns (a deferred unlock of the graph's own
//     lock, or runtime.KeepAlive), and goroutines it starts end before it
//     does; so the cleanup cannot run while a search or insert reads a
//     segment through a pointer derived from it.
//   - Vectors and links leave the graph only as copies (Vector, WriteTo,
//     WriteLinksTo). The one exception is ReadHNSW's vector loader, which
//     writes rows of a graph that ReadHNSW still holds and has not
//     returned.
//
// Small graphs keep their segments on the heap (arenaMinBytes): a mapping
// and a cleanup per graph would cost more than the garbage they avoid.
// Builds without anonymous mappings (arena_other.go) allocate every
// segment on the heap.

// arenaMinBytes is the segment memory a graph holds on the heap before its
// further segments come from its arena: two 384-dim float32 segments
// (3 MiB), ten 384-dim int8 ones. Below it the heap's overshoot is a few
// MiB, less than one arena block.
const arenaMinBytes = 4 << 20

// arenaBlockMin and arenaBlockMax bound the size of one mapping. A block
// is half of what the arena holds already, so a million 384-dim vectors
// take about fifteen mappings; pages of a block that no segment reached
// are never touched and cost address space only.
const (
	// hugePage is the size of an x86-64 (and arm64 4K-granule)
	// transparent huge page; blocks are multiples of it.
	hugePage      = 2 << 20
	arenaBlockMin = 4 << 20
	arenaBlockMax = 256 << 20
	// arenaAlign aligns each segment to a cache line.
	arenaAlign = 64
)

// segArena hands out zeroed segment memory carved from anonymous mappings
// and frees all of it at once.
type segArena struct {
	mu       sync.Mutex
	blocks   []arenaBlock
	free     []byte // the unused tail of the last block
	mapped   int64
	released bool
	// deferAdvice maps new blocks without the huge-page advice, for a
	// loader that fills them at once (see HNSW.loadOutside); adviseAll
	// advises them afterwards.
	deferAdvice bool
}

type arenaBlock struct {
	p       unsafe.Pointer
	n       uintptr
	advised bool
}

// alloc returns n zeroed bytes, aligned to arenaAlign, or nil when the
// memory cannot be mapped (the caller then allocates on the heap) or the
// arena was released.
func (a *segArena) alloc(n int) []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.released || n <= 0 {
		return nil
	}
	size := (n + arenaAlign - 1) &^ (arenaAlign - 1)
	if len(a.free) < size {
		bn := int64(max(arenaBlockMin, min(arenaBlockMax, a.mapped/2)))
		bn = max(bn, int64(size))
		bn = (bn + hugePage - 1) &^ (hugePage - 1)
		p, ok := mapAnon(uintptr(bn), !a.deferAdvice)
		if !ok {
			return nil
		}
		a.blocks = append(a.blocks, arenaBlock{p, uintptr(bn), !a.deferAdvice})
		a.mapped += bn
		a.free = unsafe.Slice((*byte)(p), bn)
	}
	out := a.free[:n:n]
	a.free = a.free[size:]
	return out
}

// setDeferAdvice switches deferred huge-page advice on or off; switching
// it off advises every block mapped meanwhile.
//
// Why: on the machine of BENCHMARKS.md a huge-page fault on memory the
// process never touched cost about 5× the 4 KiB faults it replaces (1.5 GB
// of fresh vectors: 3.9-6.0 s of system time against 0.6-0.8 s), which
// made the open of a 1M collection, whose loader writes all its vectors at
// once, 2-4 s of CPU dearer. Advised after the load, the blocks start on
// 4 KiB pages and khugepaged collapses them in the background; inserts
// fault a block in a little at a time, where the advice costs nothing
// measurable, so they keep it from the start.
func (a *segArena) setDeferAdvice(on bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.deferAdvice = on
	if on || a.released {
		return
	}
	for i := range a.blocks {
		if !a.blocks[i].advised {
			adviseBlock(a.blocks[i].p, a.blocks[i].n)
			a.blocks[i].advised = true
		}
	}
}

// release unmaps every block. Idempotent; later allocs return nil.
func (a *segArena) release() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.released {
		return
	}
	a.released = true
	for _, b := range a.blocks {
		unmapAnon(b.p, b.n)
	}
	a.blocks, a.free, a.mapped = nil, nil, 0
}

// Mapped returns the bytes mapped (for tests and Stats).
func (a *segArena) mappedBytes() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.mapped
}
