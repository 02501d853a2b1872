package storage

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestChunkSlabReleased: a slab's mappings are unmapped when its
// transaction commits, and by its cleanup when the transaction rolls
// back; the chunks bbolt stored before a commit read back intact.
func TestChunkSlabReleased(t *testing.T) {
	// Where nothing can be mapped, chunks come from the heap.
	wantMaps := 0
	if b := mapChunks(4096); b != nil {
		unmapChunks(b)
		wantMaps = 2
	}
	for _, tc := range []struct {
		name   string
		commit bool
	}{
		{"commit", true},
		{"rollback", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openTemp(t)
			var blocks *slabBlocks
			want := bytes.Repeat([]byte{0xa5}, snapshotChunk)
			errRollback := errors.New("roll back")
			err := s.db.Update(func(tx *bolt.Tx) error {
				b, err := tx.CreateBucket([]byte("slab"))
				if err != nil {
					return err
				}
				slab := newChunkSlab(tx)
				blocks = slab.blocks
				// More chunks than one mapping holds.
				for i := range uint32(slabBlock/snapshotChunk + 3) {
					c := slab.alloc(snapshotChunk)
					if len(c) != snapshotChunk || cap(c) != snapshotChunk {
						t.Fatalf("chunk %d: len %d cap %d", i, len(c), cap(c))
					}
					copy(c, want)
					if err := b.Put(chunkKey(i), c); err != nil {
						return err
					}
				}
				if mapped := countMaps(blocks); mapped != wantMaps {
					t.Errorf("%d mappings for %d chunks, want %d", mapped, slabBlock/snapshotChunk+3, wantMaps)
				}
				if !tc.commit {
					return errRollback
				}
				return nil
			})
			if tc.commit && err != nil || !tc.commit && !errors.Is(err, errRollback) {
				t.Fatal(err)
			}
			if tc.commit {
				if n := countMaps(blocks); n != 0 {
					t.Fatalf("%d mappings left after the commit", n)
				}
				err := s.db.View(func(tx *bolt.Tx) error {
					b := tx.Bucket([]byte("slab"))
					for i := range uint32(slabBlock/snapshotChunk + 3) {
						if !bytes.Equal(b.Get(chunkKey(i)), want) {
							t.Fatalf("chunk %d differs after the commit", i)
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			deadline := time.Now().Add(10 * time.Second)
			for countMaps(blocks) != 0 {
				if time.Now().After(deadline) {
					t.Fatal("a rolled-back transaction's slab was never unmapped")
				}
				runtime.GC()
				time.Sleep(time.Millisecond)
			}
		})
	}
}

func countMaps(b *slabBlocks) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.maps)
}

// TestSnapshotChunksOffHeap: writing a snapshot allocates it on the Go
// heap once (bbolt's page buffers at commit), not twice: its chunks come
// from the slab. With chunks on the heap a 24 MB snapshot allocated 2.0×
// its size.
func TestSnapshotChunksOffHeap(t *testing.T) {
	if initialMmapSize == 0 {
		// 32-bit builds and Windows: bbolt's own mapping policy, whose
		// remaps copy the snapshot (and, on Windows, chunks on the heap).
		t.Skip("bbolt remaps the file as it grows on this platform")
	}
	s, _ := openTemp(t)
	const size = 24 << 20
	err := s.Update(func(tx *Tx) error {
		_, err := tx.CreateCollection(&CollectionConfig{Name: "c", Dimension: 1})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	block := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	err = s.Update(func(tx *Tx) error {
		c, err := tx.Collection("c")
		if err != nil {
			return err
		}
		return c.PutSnapshot("hnsw", func(w io.Writer) error {
			for range size / len(block) {
				if _, err := w.Write(block); err != nil {
					return err
				}
			}
			return nil
		})
	})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	got := float64(after.TotalAlloc-before.TotalAlloc) / size
	t.Logf("heap allocated while writing %d MB: %.2f× its size", size>>20, got)
	if got > 1.5 {
		t.Errorf("writing a snapshot of %d MB allocated %.2f× its size on the heap, want at most 1.5×", size>>20, got)
	}
	err = s.View(func(tx *Tx) error {
		c, _ := tx.Collection("c")
		_, r, ok, err := c.Snapshot()
		if err != nil || !ok {
			t.Fatalf("snapshot: %v %v", ok, err)
		}
		n, err := io.Copy(io.Discard, r)
		if err != nil || n != size {
			t.Fatalf("read back %d bytes, %v; want %d", n, err, size)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNewFileStaysSmall: with bbolt's mapping made long at open
// (initialMmapSize), a small database still grows its file in small steps
// (growStep), not by bbolt's 16 MiB at a time.
func TestNewFileStaysSmall(t *testing.T) {
	s, path := openTemp(t)
	err := s.Update(func(tx *Tx) error {
		c, err := tx.CreateCollection(&CollectionConfig{Name: "c", Dimension: 1})
		if err != nil {
			return err
		}
		return c.PutDocument(1, &DocumentRecord{Id: "a", Vector: []float32{1}})
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 256<<10 {
		t.Errorf("a database of one document is a %d-byte file, want at most 256 KiB", st.Size())
	}
}

func TestGrowStep(t *testing.T) {
	for _, tc := range []struct {
		size int64
		want int
	}{
		{0, 32 << 10},
		{100 << 10, 32 << 10},
		{1 << 20, 256 << 10},
		{1<<20 + 16, 256<<10 + 4096},
		{64 << 20, 16 << 20},
		{8 << 30, 16 << 20},
	} {
		if got := growStep(tc.size); got != tc.want {
			t.Errorf("growStep(%d) = %d, want %d", tc.size, got, tc.want)
		}
	}
}
