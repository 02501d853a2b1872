//go:build !unix

package storage

// mapChunks maps nothing where anonymous mappings are not used: a
// chunkSlab's chunks then come from the heap.
func mapChunks(int) []byte { return nil }

func unmapChunks([]byte) {}

// initialMmapSize leaves bbolt's mapping to its own policy where a mapping
// longer than the file would grow the file (Windows).
const initialMmapSize = 0
