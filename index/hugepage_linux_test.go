//go:build linux

package index

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// vmFlags returns the VmFlags of the mapping that holds address a, from
// /proc/self/smaps.
func vmFlags(t *testing.T, a uintptr) []string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no smaps: %v", err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) > 0 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			lo, hi, _ := strings.Cut(fields[0], "-")
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && uintptr(l) <= a && a < uintptr(h)
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return fields[1:]
		}
	}
	t.Fatalf("no mapping holds %#x", a)
	return nil
}

// TestSegmentsAdvisedHuge: vector segments and visited marks big enough to
// matter are advised for transparent huge pages (hugepage_linux.go), so
// their mappings carry the "hg" flag. (Small graphs' segments cannot be
// checked the other way: they may share a mapping with advised memory.)
func TestSegmentsAdvisedHuge(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil {
		t.Skip("kernel without transparent huge pages")
	}
	h := mustHNSW(t, 384, L2)
	v := make([]float32, 384)
	v[0] = 1
	if err := h.Add(1, v); err != nil {
		t.Fatal(err)
	}
	seg := h.vecSegs[0]
	if flags := vmFlags(t, uintptr(unsafe.Pointer(&seg[len(seg)/2]))); !contains(flags, "hg") {
		t.Errorf("384-dim vector segment: mapping flags %v lack hg", flags)
	}
	// A bitmap reaches the advice's threshold (half a huge page) at about
	// 8M slots.
	var vis visitedSet
	vis.reset(1 << 24)
	if flags := vmFlags(t, uintptr(unsafe.Pointer(&vis.words[len(vis.words)/2]))); !contains(flags, "hg") {
		t.Errorf("visited bitmap of a 16M-slot graph: mapping flags %v lack hg", flags)
	}
}

func contains(s []string, x string) bool {
	for _, e := range s {
		if e == x {
			return true
		}
	}
	return false
}

// TestLoadedArenaAdvisedAfterLoad: a links-only snapshot's vectors are
// written into arena blocks mapped without the huge-page advice (fresh
// huge pages cost more to fault in all at once than the 4 KiB pages they
// replace; segArena.setDeferAdvice), and the blocks carry the advice once
// ReadHNSW returns.
func TestLoadedArenaAdvisedAfterLoad(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil {
		t.Skip("kernel without transparent huge pages")
	}
	const n, dim = 3000, 384
	h, err := NewHNSW(dim, L2, withArenaOnly(), WithBuildWorkers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	vec := func(id uint64) []float32 { return patternVec(id, dim, 0) }
	for i := range uint64(n) {
		if err := h.Add(i+1, vec(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	var links bytes.Buffer
	if _, err := h.WriteLinksTo(&links); err != nil {
		t.Fatal(err)
	}
	var during []string
	g, err := ReadHNSW(bytes.NewReader(links.Bytes()), withArenaOnly(), WithVectorLoader(func(newSlot func() func(uint64) []float32) error {
		slot := newSlot()
		for i := range uint64(n) {
			v := slot(i + 1)
			if v == nil {
				return fmt.Errorf("no slot for %d", i+1)
			}
			copy(v, vec(i+1))
			if i == n/2 {
				during = vmFlags(t, uintptr(unsafe.Pointer(&v[0])))
			}
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if contains(during, "hg") {
		t.Errorf("arena block advised for huge pages while the loader filled it (flags %v)", during)
	}
	seg := g.vecSegs[len(g.vecSegs)/2]
	if flags := vmFlags(t, uintptr(unsafe.Pointer(&seg[0]))); !contains(flags, "hg") {
		t.Errorf("loaded arena segment after ReadHNSW: mapping flags %v lack hg", flags)
	}
	sameAnswers(t, h, g, [][]float32{vec(5), vec(1500), vec(2999)})
}

// resident returns how many of the pages of n bytes at p are resident
// (mincore).
func resident(t *testing.T, p unsafe.Pointer, n int) (in, of int) {
	t.Helper()
	ps := os.Getpagesize()
	vec := make([]byte, (n+ps-1)/ps)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(p), uintptr(n), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatalf("mincore: %v", errno)
	}
	for _, b := range vec {
		in += int(b & 1)
	}
	return in, len(vec)
}

// TestLoadPrefaultsSegments: ReadHNSW maps in a vector segment of a
// links-only snapshot (prefault, one madvise) when its loader is first
// handed a slot of it, before the loader writes there, where the loader's
// writes used to fault its pages in one at a time; withoutPrefault (the
// path of kernels before 5.14, which refuse the advice) leaves them to
// fault in as written. Both load the same graph.
func TestLoadPrefaultsSegments(t *testing.T) {
	probe, err := unix.Mmap(-1, 0, 1<<16, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	ok := prefault(unsafe.Pointer(&probe[0]), uintptr(len(probe)))
	_ = unix.Munmap(probe)
	if !ok {
		t.Skip("kernel refuses MADV_POPULATE_WRITE (before Linux 5.14)")
	}
	thpAlways := false
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err == nil {
		thpAlways = bytes.Contains(b, []byte("[always]"))
	}
	const n, dim = 2*hnswSegSize + 100, 64
	segBytes := hnswSegSize * dim * 4
	h, err := NewHNSW(dim, Cosine, withArenaOnly(), WithM(4), WithEfConstruction(16), WithBuildWorkers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	vec := func(id uint64) []float32 { return patternVec(id, dim, 0.01) }
	// IDs 1..n added in order, nothing deleted: ID i is in slot i-1, and
	// slot 0 starts segment 0.
	for i := range uint64(n) {
		if err := h.Add(i+1, vec(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	full, links := bothSnapshots(t, h)
	for _, tc := range []struct {
		name      string
		opts      []HNSWOption
		prefaults bool
	}{
		{"prefaulted", nil, true},
		{"faulted as written", []HNSWOption{withoutPrefault()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in, of int
			g, err := ReadHNSW(bytes.NewReader(links.Bytes()), append(tc.opts, withArenaOnly(), WithVectorLoader(func(newSlot func() func(uint64) []float32) error {
				slot := newSlot()
				for i := range uint64(n) {
					v := slot(i + 1)
					if v == nil {
						return fmt.Errorf("no slot for %d", i+1)
					}
					if i == 0 {
						in, of = resident(t, unsafe.Pointer(&v[0]), segBytes)
					}
					copy(v, vec(i+1))
				}
				return nil
			}))...)
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			switch {
			case tc.prefaults && in != of:
				t.Errorf("segment 0 at its first slot: %d of %d pages resident, want all", in, of)
			case !tc.prefaults && !thpAlways && in == of:
				t.Errorf("segment 0 at its first slot, not prefaulted: all %d pages resident already", of)
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

// patternVec is a deterministic vector for id: distinct per id, cheap to
// make, with off added to every component (off > 0 keeps Cosine's norm
// away from zero).
func patternVec(id uint64, dim int, off float32) []float32 {
	v := make([]float32, dim)
	for j := range v {
		v[j] = float32((id*31+uint64(j)*7)%97)/97 + off
	}
	return v
}
