package storage

import (
	"runtime"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// chunkSlab hands out the buffers of one snapshot's chunks from memory
// mapped outside the Go heap, and unmaps all of it once the transaction
// that holds them has committed.
//
// Why: bbolt keeps a reference to every value put until its transaction
// commits, and then copies each into page buffers of its own, on the heap.
// With its chunks on the heap too, a snapshot stood twice in the Go heap
// while it was written: at 10M 96-dimensional vectors its 1.3 GB of links
// made 2.6 GB of garbage at once, and the runtime kept those pages mapped
// long after (BENCHMARKS.md, "10M × 96 through the database"). Off the
// heap the chunks count once, set no pace for the collector, and go back
// to the system at the commit.
//
// Lifetime: bbolt reads the values last during Commit, before it runs the
// transaction's OnCommit handlers, one of which releases the slab. A
// transaction that rolls back drops its nodes and, with them, that
// handler, the last reference to the slab; a cleanup then unmaps it. The
// slab never outlives its transaction's use of the memory, and a slab
// that was never put to a transaction has no handler: its cleanup frees it
// as soon as it is dropped.
type chunkSlab struct {
	blocks  *slabBlocks
	free    []byte
	cleanup runtime.Cleanup
}

// slabBlocks is the memory of a slab, apart from the slab so that the
// slab's cleanup can hold it.
type slabBlocks struct {
	mu   sync.Mutex
	maps [][]byte
}

// slabBlock is the size of one mapping: 512 chunks, so a links-only
// snapshot of a million 384-dim vectors (about 18,000 chunks) takes some
// 36 mappings.
const slabBlock = 512 * snapshotChunk

// newChunkSlab returns a slab released when tx commits (or, if tx never
// commits, when the slab is unreachable).
func newChunkSlab(tx *bolt.Tx) *chunkSlab {
	s := &chunkSlab{blocks: &slabBlocks{}}
	s.cleanup = runtime.AddCleanup(s, (*slabBlocks).release, s.blocks)
	tx.OnCommit(s.release)
	return s
}

// alloc returns n zeroed bytes (n ≤ slabBlock) with capacity n, from a
// mapping when one can be made, else from the heap.
func (s *chunkSlab) alloc(n int) []byte {
	if len(s.free) < n {
		b := mapChunks(slabBlock)
		if b == nil {
			return make([]byte, n)
		}
		s.blocks.mu.Lock()
		s.blocks.maps = append(s.blocks.maps, b)
		s.blocks.mu.Unlock()
		s.free = b
	}
	out := s.free[:n:n]
	s.free = s.free[n:]
	return out
}

// release unmaps the slab's memory; the slab must not be used after it.
func (s *chunkSlab) release() {
	s.cleanup.Stop()
	s.free = nil
	s.blocks.release()
}

func (b *slabBlocks) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.maps {
		unmapChunks(m)
	}
	b.maps = nil
}
