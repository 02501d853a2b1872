//go:build linux

package index

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"
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
	var vis visitedSet
	vis.reset(1 << 20)
	if flags := vmFlags(t, uintptr(unsafe.Pointer(&vis.marks[len(vis.marks)/2]))); !contains(flags, "hg") {
		t.Errorf("visited marks of a million-slot graph: mapping flags %v lack hg", flags)
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
