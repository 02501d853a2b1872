package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// snapshotGraph builds a small graph with tombstones and recycled slots so
// every section of the format is exercised.
func snapshotGraph(t testing.TB, n, dim int, metric Metric) *HNSW {
	t.Helper()
	h := mustHNSW(t, dim, metric, WithM(4), WithEfConstruction(20), withCompactThreshold(0))
	data := clusteredData(n, dim, 4, 0.35, 17)
	for i, v := range data {
		if err := h.Add(uint64(i*3+1), v); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i += 5 {
		h.Delete(uint64(i*3 + 1))
	}
	if n > 10 {
		h.Compact()
		for i := 0; i < n/10; i++ {
			if err := h.Add(uint64(1_000_000+i), data[i]); err != nil {
				t.Fatal(err)
			}
		}
		h.Delete(uint64(1_000_000)) // leaves one tombstone
	}
	return h
}

func TestHNSWSnapshotRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n, dim int
		metric Metric
	}{
		{"empty", 0, 3, Cosine},
		{"one", 1, 3, L2},
		{"tombstones and free slots", 300, 8, Cosine},
		{"two segments", hnswSegSize + 77, 4, Dot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h *HNSW
			if tc.n == 0 {
				h = mustHNSW(t, tc.dim, tc.metric)
			} else {
				h = snapshotGraph(t, tc.n, tc.dim, tc.metric)
			}
			var buf bytes.Buffer
			n, err := h.WriteTo(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(buf.Len()) {
				t.Fatalf("WriteTo reported %d bytes, wrote %d", n, buf.Len())
			}
			g, err := ReadHNSW(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if !sameShape(g.Stats(), h.Stats()) {
				t.Fatalf("stats %+v, want %+v", g.Stats(), h.Stats())
			}
			// Same answers, and a second snapshot is byte-identical.
			r := rand.New(rand.NewPCG(1, 2))
			for range 20 {
				q := make([]float32, tc.dim)
				for j := range q {
					q[j] = float32(r.NormFloat64())
				}
				a, err1 := h.searchEf(q, 5, 20, nil)
				b, err2 := g.searchEf(q, 5, 20, nil)
				if err1 != nil || err2 != nil {
					t.Fatal(err1, err2)
				}
				if len(a) != len(b) {
					t.Fatalf("loaded graph: %v, original %v", b, a)
				}
				for i := range a {
					if a[i] != b[i] {
						t.Fatalf("loaded graph: %v, original %v", b, a)
					}
				}
			}
			var buf2 bytes.Buffer
			if _, err := g.WriteTo(&buf2); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
				t.Fatal("re-snapshot differs from the original snapshot")
			}
			// The loaded graph keeps working as a writer: the level RNG and the
			// free list survive the round trip.
			if err := g.Add(999_999_999, make1(tc.dim)); err != nil {
				t.Fatal(err)
			}
			if err := h.Add(999_999_999, make1(tc.dim)); err != nil {
				t.Fatal(err)
			}
			if !sameShape(g.Stats(), h.Stats()) {
				t.Fatalf("after add: %+v, original %+v", g.Stats(), h.Stats())
			}
		})
	}
}

// sameShape compares stats apart from memory, which depends on slice
// capacities.
func sameShape(a, b HNSWStats) bool {
	a.Bytes, b.Bytes = 0, 0
	a.VectorBytes, b.VectorBytes = 0, 0
	return a == b
}

func make1(dim int) []float32 {
	v := make([]float32, dim)
	v[0] = 1
	return v
}

// resum recomputes the trailing checksum so a mutated body reaches the
// structural checks instead of stopping at the CRC.
func resum(b []byte) []byte {
	if len(b) < 4 {
		return b
	}
	c := append([]byte(nil), b...)
	binary.LittleEndian.PutUint32(c[len(c)-4:], crc32.Checksum(c[:len(c)-4], castagnoli))
	return c
}

func TestHNSWSnapshotCorrupt(t *testing.T) {
	h := snapshotGraph(t, 120, 4, L2)
	var buf bytes.Buffer
	if _, err := h.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	hdr := len(hnswMagic) + 4
	rs, _ := h.rng.MarshalBinary()
	slots := len(h.ids)
	// Offset of a live slot's layer-0 list (its count word, then links);
	// the "self link" case below assumes that slot is 1.
	if h.state[1] != slotLive || h.links(1, 0)[0] == 0 {
		t.Fatal("test graph: slot 1 should be live with links")
	}
	l0 := hdr + binary.Size(hnswHeader{}) + 4 + 4 + len(rs) + slots*(8+1+1) + slots*h.dim*4 + (h.m0+1)*4
	tests := []struct {
		name   string
		mutate func([]byte) []byte
		want   error
	}{
		{"empty", func([]byte) []byte { return nil }, ErrCorruptHNSW},
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }, ErrCorruptHNSW},
		{"bad magic", func(b []byte) []byte { b[0] = 'X'; return b }, ErrCorruptHNSW},
		{"future version", func(b []byte) []byte { b[len(hnswMagic)] = 9; return b }, ErrHNSWVersion},
		{"flipped vector byte", func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b }, ErrCorruptHNSW},
		{"dimension zero", func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[hdr:], 0)
			return resum(b)
		}, ErrCorruptHNSW},
		{"huge slot count", func(b []byte) []byte {
			// Slots sits after 5 u32, 2 f64 and 1 u64.
			off := hdr + 5*4 + 2*8 + 8
			binary.LittleEndian.PutUint32(b[off:], 0xfffffff0)
			binary.LittleEndian.PutUint32(b[off+4:], 0xfffffff0)
			binary.LittleEndian.PutUint32(b[off+8:], 0)
			binary.LittleEndian.PutUint32(b[off+12:], 0)
			return resum(b)
		}, ErrCorruptHNSW},
		{"link count too large", func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[l0:], 1000)
			return resum(b)
		}, ErrCorruptHNSW},
		{"link target out of range", func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[l0+4:], 1<<30)
			return resum(b)
		}, ErrCorruptHNSW},
		{"self link", func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[l0+4:], 1)
			return resum(b)
		}, ErrCorruptHNSW},
		{"trailing checksum", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, ErrCorruptHNSW},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.mutate(append([]byte(nil), good...))
			_, err := ReadHNSW(bytes.NewReader(b))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// Every truncation point fails cleanly.
	for i := 0; i < len(good); i += 7 {
		if _, err := ReadHNSW(bytes.NewReader(good[:i])); !errors.Is(err, ErrCorruptHNSW) {
			t.Fatalf("truncated to %d: got %v", i, err)
		}
	}
	// A reader error is passed through, not reported as corruption.
	boom := errors.New("disk on fire")
	_, err := ReadHNSW(io.MultiReader(bytes.NewReader(good[:100]), errReader{boom}))
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the reader's error", err)
	}
	// Options that contradict the snapshot are refused.
	if _, err := ReadHNSW(bytes.NewReader(good), WithM(32)); !errors.Is(err, ErrHNSWConfig) {
		t.Fatalf("WithM(32) on an M=4 snapshot: got %v", err)
	}
	if g, err := ReadHNSW(bytes.NewReader(good), WithEfSearch(7)); err != nil || g.efS != 7 {
		t.Fatalf("WithEfSearch on load: %v", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// int8SnapshotGraph is snapshotGraph on int8 storage.
func int8SnapshotGraph(t testing.TB, n, dim int, metric Metric) *HNSW {
	t.Helper()
	h := mustHNSW(t, dim, metric, WithM(4), WithEfConstruction(20), withCompactThreshold(0), WithInt8())
	for i, v := range clusteredData(n, dim, 4, 0.35, 17) {
		if err := h.Add(uint64(i*3+1), v); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i += 5 {
		h.Delete(uint64(i*3 + 1))
	}
	h.Compact()
	h.Delete(4)
	return h
}

// TestWriteFuzzSeeds regenerates the committed seed corpus when
// VECBOLT_WRITE_FUZZ_SEEDS=1; otherwise it checks the seeds still parse as
// the format defines them (so a format change without new seeds fails).
// The v1-* seeds were written by format version 1 and are kept as they
// are, so the reader's support for that version stays fuzzed and tested.
func TestWriteFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzReadHNSW")
	seeds := map[string]*HNSW{
		"empty":           mustHNSW(t, 2, Cosine),
		"small":           snapshotGraph(t, 12, 3, L2),
		"tombstones":      snapshotGraph(t, 40, 2, Dot),
		"int8-empty":      mustHNSW(t, 2, Dot, WithInt8()),
		"int8-small-l2":   int8SnapshotGraph(t, 12, 3, L2),
		"int8-tombstones": int8SnapshotGraph(t, 40, 2, Cosine),
	}
	for _, name := range []string{"v1-empty", "v1-small", "v1-tombstones"} {
		seed := readSeed(t, filepath.Join(dir, name))
		if binary.LittleEndian.Uint32([]byte(seed[len(hnswMagic):])) != 1 {
			t.Fatalf("seed %s is not a version 1 snapshot", name)
		}
		h, err := ReadHNSW(strings.NewReader(seed))
		if err != nil {
			t.Fatalf("version 1 seed %s no longer loads: %v", name, err)
		}
		if h.Int8() {
			t.Fatalf("version 1 seed %s loaded as int8", name)
		}
	}
	links := map[string]bool{"links-small": true, "links-tombstones": true}
	seeds["links-small"] = snapshotGraph(t, 12, 3, L2)
	seeds["links-tombstones"] = snapshotGraph(t, 40, 2, Cosine)
	for name, h := range seeds {
		var buf bytes.Buffer
		write := h.WriteTo
		if links[name] {
			write = h.WriteLinksTo
		}
		if _, err := write(&buf); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if os.Getenv("VECBOLT_WRITE_FUZZ_SEEDS") == "1" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			content := "go test fuzz v1\n[]byte(" + quoteBytes(buf.Bytes()) + ")\n"
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		seed := readSeed(t, path)
		g, err := ReadHNSW(strings.NewReader(seed), fuzzLoader()...)
		if err != nil {
			t.Fatalf("seed %s no longer loads (format changed? regenerate with VECBOLT_WRITE_FUZZ_SEEDS=1): %v", name, err)
		}
		if g.Int8() != h.Int8() {
			t.Fatalf("seed %s: int8 %v, want %v (regenerate with VECBOLT_WRITE_FUZZ_SEEDS=1)", name, g.Int8(), h.Int8())
		}
	}
}

// readSeed returns the bytes of one committed []byte corpus entry.
func readSeed(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("seed %s missing (regenerate with VECBOLT_WRITE_FUZZ_SEEDS=1): %v", path, err)
	}
	body := strings.TrimSpace(strings.TrimPrefix(string(raw), "go test fuzz v1\n"))
	quoted, ok := strings.CutPrefix(body, "[]byte(")
	quoted, ok2 := strings.CutSuffix(quoted, ")")
	seed, err := strconv.Unquote(quoted)
	if !ok || !ok2 || err != nil || len(seed) < len(hnswMagic)+4 {
		t.Fatalf("seed %s is not a []byte corpus entry: %v", path, err)
	}
	return seed
}

func quoteBytes(b []byte) string {
	var sb bytes.Buffer
	sb.WriteByte('"')
	for _, c := range b {
		switch {
		case c == '"' || c == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			sb.WriteByte(c)
		default:
			sb.WriteString(`\x`)
			sb.WriteByte("0123456789abcdef"[c>>4])
			sb.WriteByte("0123456789abcdef"[c&15])
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

// fuzzLoader supplies a links-only snapshot's vectors for the IDs the
// fuzz seeds use (snapshotGraph's: 3i+1 and 1,000,000+i), and lets every
// other ID borrow a neighbour's vector (WithStaleVectors), so that any
// graph the fuzzer makes can load.
func fuzzLoader() []HNSWOption {
	return []HNSWOption{
		WithVectorLoader(func(newSlot func() func(uint64) []float32) error {
			slot := newSlot()
			for i := range uint64(64) {
				for _, id := range []uint64{3*i + 1, 1_000_000 + i} {
					if v := slot(id); v != nil {
						for j := range v {
							v[j] = float32(id%7) + float32(j) + 1
						}
					}
				}
			}
			return nil
		}),
		WithStaleVectors(func(uint64) bool { return true }),
	}
}

func FuzzReadHNSW(f *testing.F) {
	f.Add([]byte(hnswMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range [][]byte{data, resum(data)} {
			h, err := ReadHNSW(bytes.NewReader(in), fuzzLoader()...)
			if err != nil {
				if h != nil {
					t.Fatal("graph returned with an error")
				}
				continue
			}
			// Whatever loads must be usable: search it, write it back.
			q := make([]float32, h.Dim())
			q[0] = 1
			if _, err := h.searchEf(q, 3, 10, nil); err != nil && !errors.Is(err, ErrZeroNorm) {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if _, err := h.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadHNSW(&buf); err != nil {
				t.Fatalf("re-read of a loaded graph: %v", err)
			}
			buf.Reset()
			if _, err := h.WriteLinksTo(&buf); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadHNSW(&buf, fuzzLoader()...); err != nil {
				t.Fatalf("re-read of a loaded graph's links-only snapshot: %v", err)
			}
		}
	})
}

// snapshotRaw returns the vector snapshotGraph(n, dim) added under id, as
// given to Add (before any normalization).
func snapshotRaw(n, dim int) func(id uint64) []float32 {
	data := clusteredData(n, dim, 4, 0.35, 17)
	return func(id uint64) []float32 {
		if id >= 1_000_000 {
			return data[id-1_000_000]
		}
		return data[(id-1)/3]
	}
}

// TestHNSWLinksSnapshot: a snapshot written by WriteLinksTo holds the
// graph without its live vectors, and read with a loader of the vectors
// as they were added it is the same graph: same stats, same answers, and
// its full snapshot is byte for byte the original's.
func TestHNSWLinksSnapshot(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n, dim int
		metric Metric
	}{
		{"one", 1, 3, L2},
		{"tombstones and free slots", 300, 8, Cosine},
		{"two segments", hnswSegSize + 77, 4, Dot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := snapshotGraph(t, tc.n, tc.dim, tc.metric)
			raw := snapshotRaw(tc.n, tc.dim)
			full, links := bothSnapshots(t, h)
			st := h.Stats()
			if want := full.Len() - st.Live*tc.dim*4; links.Len() > want {
				t.Errorf("links-only snapshot of %d bytes, full %d with %d live vectors", links.Len(), full.Len(), st.Live)
			}
			if _, err := ReadHNSW(bytes.NewReader(links.Bytes())); !errors.Is(err, ErrNeedVectors) {
				t.Fatalf("read without a loader: %v", err)
			}
			calls := 0
			g, err := ReadHNSW(bytes.NewReader(links.Bytes()), WithVectorLoader(func(newSlot func() func(uint64) []float32) error {
				calls++
				slot := newSlot()
				for id := uint64(0); id < 1_000_000+uint64(tc.n); id++ {
					if id == 1_000_000/2 {
						id = 1_000_000
					}
					if dst := slot(id); dst != nil {
						copy(dst, raw(id))
					}
				}
				return nil
			}))
			if err != nil || calls != 1 {
				t.Fatalf("read: %v (loader called %d times)", err, calls)
			}
			if !sameShape(g.Stats(), st) {
				t.Fatalf("stats %+v, want %+v", g.Stats(), st)
			}
			var again bytes.Buffer
			if _, err := g.WriteTo(&again); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again.Bytes(), full.Bytes()) {
				t.Fatal("the loaded graph's full snapshot differs from the original's")
			}
		})
	}
}

// TestHNSWLinksSnapshotMissingVectors: a live node the loader does not
// fill fails the read, unless WithStaleVectors names it; it then routes
// with a neighbour's vector. A loader's error and a non-finite vector fail
// the read too.
func TestHNSWLinksSnapshotMissingVectors(t *testing.T) {
	const n, dim = 200, 4
	h := snapshotGraph(t, n, dim, L2)
	raw := snapshotRaw(n, dim)
	var links bytes.Buffer
	if _, err := h.WriteLinksTo(&links); err != nil {
		t.Fatal(err)
	}
	const gone = 7 // a live ID (i = 2)
	if !h.Contains(gone) {
		t.Fatal("test ID not live")
	}
	load := func(skip uint64, bad bool) VectorLoader {
		return func(newSlot func() func(uint64) []float32) error {
			// Two goroutines, each with its own slot function, in no
			// particular order.
			ids := h.liveIDs()
			var wg sync.WaitGroup
			for half := range 2 {
				wg.Go(func() {
					slot := newSlot()
					for k, id := range ids {
						if k%2 != half {
							continue
						}
						if id == skip {
							continue
						}
						if dst := slot(id); dst != nil {
							copy(dst, raw(id))
							if bad {
								dst[1] = float32(math.Inf(1))
							}
						}
					}
				})
			}
			wg.Wait()
			return nil
		}
	}
	if _, err := ReadHNSW(bytes.NewReader(links.Bytes()), WithVectorLoader(load(gone, false))); !errors.Is(err, ErrMissingVector) {
		t.Errorf("missing vector: %v", err)
	}
	if _, err := ReadHNSW(bytes.NewReader(links.Bytes()), WithVectorLoader(load(0, true))); !errors.Is(err, ErrNotFinite) {
		t.Errorf("non-finite vector: %v", err)
	}
	boom := errors.New("boom")
	if _, err := ReadHNSW(bytes.NewReader(links.Bytes()), WithVectorLoader(func(func() func(uint64) []float32) error { return boom })); !errors.Is(err, boom) {
		t.Errorf("loader error: %v", err)
	}
	g, err := ReadHNSW(bytes.NewReader(links.Bytes()), WithVectorLoader(load(gone, false)),
		WithStaleVectors(func(id uint64) bool { return id == gone }))
	if err != nil {
		t.Fatal(err)
	}
	v, ok := g.Vector(gone)
	n0 := g.idmap[gone]
	lst := g.links(n0, 0)
	if !ok || lst[0] == 0 || !slices.Equal(v, g.vec(lst[1])) {
		t.Errorf("stale node's vector %v, want its first neighbour's %v", v, g.vec(lst[1]))
	}
	// The caller then deletes it; every other node answers as before.
	g.Delete(gone)
	h.Delete(gone)
	for i := range 20 {
		q := raw(uint64(3*i + 1))
		a, _ := h.searchEf(q, 5, 40, nil)
		b, _ := g.searchEf(q, 5, 40, nil)
		if !slices.Equal(a, b) {
			t.Errorf("query %d: %v, original %v", i, b, a)
		}
	}
}

// TestHNSWLinksSnapshotLoaderSplits: however the loader splits its work
// among goroutines (one, ranges, interleaved, backwards), with segments
// on the heap or in the arena, mapped in ahead or not (withoutPrefault),
// a links-only snapshot loads to the same bytes as the graph it was
// written from: every row is prepared once, after it is written, by the
// goroutine that wrote it (loadWorker). Two bad vectors given to two
// goroutines fail the load naming the one of the lower slot, every time.
func TestHNSWLinksSnapshotLoaderSplits(t *testing.T) {
	const n, dim = 2*hnswSegSize + 300, 8
	h := snapshotGraph(t, n, dim, Cosine)
	raw := snapshotRaw(n, dim)
	full, links := bothSnapshots(t, h)
	ids := h.liveIDs()
	slices.Sort(ids)
	// split returns, for goroutine g of k, the IDs it loads in order.
	splits := []struct {
		name  string
		k     int
		split func(g, k int) []uint64
	}{
		{"one goroutine", 1, func(int, int) []uint64 { return ids }},
		{"ranges", 3, func(g, k int) []uint64 { return ids[len(ids)*g/k : len(ids)*(g+1)/k] }},
		{"interleaved", 2, func(g, k int) []uint64 {
			var out []uint64
			for i := g; i < len(ids); i += k {
				out = append(out, ids[i])
			}
			return out
		}},
		{"backwards", 2, func(g, k int) []uint64 {
			out := slices.Clone(ids[len(ids)*g/k : len(ids)*(g+1)/k])
			slices.Reverse(out)
			return out
		}},
	}
	loader := func(k int, split func(g, k int) []uint64, bad map[uint64]bool) VectorLoader {
		return func(newSlot func() func(uint64) []float32) error {
			var wg sync.WaitGroup
			for g := range k {
				wg.Go(func() {
					slot := newSlot()
					for _, id := range split(g, k) {
						if dst := slot(id); dst != nil {
							copy(dst, raw(id))
							if bad[id] {
								dst[0] = float32(math.NaN())
							}
						}
					}
				})
			}
			wg.Wait()
			return nil
		}
	}
	for _, sp := range splits {
		for _, mem := range []struct {
			name string
			opts []HNSWOption
		}{
			{"heap", nil},
			{"arena", []HNSWOption{withArenaOnly()}},
			{"arena, not prefaulted", []HNSWOption{withArenaOnly(), withoutPrefault()}},
		} {
			t.Run(sp.name+"/"+mem.name, func(t *testing.T) {
				g, err := ReadHNSW(bytes.NewReader(links.Bytes()), append(mem.opts, WithVectorLoader(loader(sp.k, sp.split, nil)))...)
				if err != nil {
					t.Fatal(err)
				}
				defer g.Close()
				var again bytes.Buffer
				if _, err := g.WriteTo(&again); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(again.Bytes(), full.Bytes()) {
					t.Fatal("the loaded graph's full snapshot differs from the original's")
				}
				// The lowest-slot bad vector is reported, whichever
				// goroutine met it and in whatever order.
				lo, hi := ids[len(ids)/2+5], ids[10]
				if h.idmap[lo] > h.idmap[hi] {
					lo, hi = hi, lo
				}
				_, err = ReadHNSW(bytes.NewReader(links.Bytes()), append(mem.opts, WithVectorLoader(loader(sp.k, sp.split, map[uint64]bool{lo: true, hi: true})))...)
				if !errors.Is(err, ErrNotFinite) || !strings.Contains(err.Error(), fmt.Sprintf("ID %d:", lo)) {
					t.Fatalf("two bad vectors (IDs %d at slot %d, %d at slot %d): %v", lo, h.idmap[lo], hi, h.idmap[hi], err)
				}
			})
		}
	}
}

// TestHNSWLinksSnapshotUnitVectors: a Cosine graph of vectors given unit
// norm loads from a links-only snapshot to the same bytes as it was built,
// both where the loader skips scaling a vector (its float32 scale is
// exactly 1) and where it scales it.
func TestHNSWLinksSnapshotUnitVectors(t *testing.T) {
	const n, dim = 400, 24
	data := clusteredData(n, dim, 4, 0.35, 5)
	skipped := 0
	for _, v := range data {
		normalize(v)
		if inv, _ := unitScale(v); inv == 1 {
			skipped++
		}
	}
	if skipped == 0 || skipped == n {
		t.Fatalf("%d of %d vectors have scale 1: both paths must be taken", skipped, n)
	}
	h := mustHNSW(t, dim, Cosine, WithM(4), WithEfConstruction(20))
	for i, v := range data {
		if err := h.Add(uint64(i), v); err != nil {
			t.Fatal(err)
		}
	}
	full, links := bothSnapshots(t, h)
	g, err := ReadHNSW(bytes.NewReader(links.Bytes()), WithVectorLoader(func(newSlot func() func(uint64) []float32) error {
		slot := newSlot()
		for id := range uint64(n) {
			if dst := slot(id); dst != nil {
				copy(dst, data[id])
			}
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if _, err := g.WriteTo(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), full.Bytes()) {
		t.Fatal("the loaded graph's vectors differ from the built graph's")
	}
}

// bothSnapshots writes h's full snapshot (vectors and links) and its
// links-only snapshot.
func bothSnapshots(t *testing.T, h *HNSW) (full, links *bytes.Buffer) {
	t.Helper()
	full, links = new(bytes.Buffer), new(bytes.Buffer)
	if _, err := h.WriteTo(full); err != nil {
		t.Fatal(err)
	}
	if _, err := h.WriteLinksTo(links); err != nil {
		t.Fatal(err)
	}
	return full, links
}
