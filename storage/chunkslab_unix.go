//go:build unix

package storage

import (
	"math"

	"golang.org/x/sys/unix"
)

// mapChunks maps n bytes of zeroed private memory for a chunkSlab, or
// returns nil when the system refuses (the slab then uses the heap).
func mapChunks(n int) []byte {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil
	}
	return b
}

// unmapChunks unmaps a mapping of mapChunks. munmap fails only for a range
// this process did not map, which would be a bug here; the memory is then
// leaked, not reused.
func unmapChunks(b []byte) { _ = unix.Munmap(b) }

// initialMmapSize is the size of bbolt's mapping of the file from the
// start (bolt.Options.InitialMmapSize): 64 GiB on 64-bit builds, 0 (bbolt's
// own policy) on 32-bit ones. It is address space only: on Unix a shared
// mapping may run past the end of its file, and the kernel backs a page
// only when it is read.
//
// Why: bbolt remaps the file whenever a write transaction's pages pass the
// mapping's end (doubling up to 1 GiB, then 1 GiB at a time), and a remap
// first copies every key and value the transaction has put onto the Go
// heap (bbolt's node.dereference), since they might point into the old
// mapping. A snapshot whose commit grew the file copied itself once per
// remap: 24 MB written into a new file allocated 10× its size on the heap
// (TestSnapshotChunksOffHeap). A remap also waits until every read
// transaction has ended.
const initialMmapSize = (64 << 30) * (math.MaxInt >> 62)
