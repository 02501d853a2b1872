package main

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bbolt's page format (see storage/pages.go).
const (
	pageHeaderSize = 16
	pageElemSize   = 16
	branchPageFlag = 0x01
	bucketLeafFlag = 0x01
	noFreelist     = ^uint64(0)
)

// boltPage is a live page of a bbolt file, as the test's own walk finds it.
type boltPage struct {
	id     uint64
	branch bool
	path   string // bucket path, "" for the root
}

// pointerSite is a page number stored in the file: where (byte offset),
// what kind of pointer, in which page, and the page it points to.
type pointerSite struct {
	off    int64
	kind   string
	parent uint64
	target uint64
}

// boltLayout walks a sound bbolt file and lists its live pages and every
// page pointer: the meta page's root and freelist, branch elements, and
// bucket headers.
func boltLayout(t *testing.T, raw []byte) (ps int, hwm uint64, pages []boltPage, sites []pointerSite) {
	t.Helper()
	le := binary.LittleEndian
	// The meta page with the higher transaction ID.
	ps = int(le.Uint32(raw[pageHeaderSize+8:]))
	meta := pageHeaderSize
	if le.Uint64(raw[ps+pageHeaderSize+48:]) > le.Uint64(raw[pageHeaderSize+48:]) {
		meta += ps
	}
	hwm = le.Uint64(raw[meta+40:])
	sites = append(sites,
		pointerSite{off: int64(meta + 16), kind: "meta root", target: le.Uint64(raw[meta+16:])},
		pointerSite{off: int64(meta + 32), kind: "meta freelist", target: le.Uint64(raw[meta+32:])})
	var walk func(id uint64, path string)
	var elems func(base int, p []byte, owner uint64, path string)
	elems = func(base int, p []byte, owner uint64, path string) {
		flags, count := le.Uint16(p[8:]), int(le.Uint16(p[10:]))
		for i := range count {
			at := pageHeaderSize + i*pageElemSize
			e := p[at:]
			if flags == branchPageFlag {
				child := le.Uint64(e[8:])
				kind := "branch element → leaf"
				if le.Uint16(raw[child*uint64(ps)+8:]) == branchPageFlag {
					kind = "branch element → branch"
				}
				sites = append(sites, pointerSite{off: int64(base + at + 8), kind: kind, parent: owner, target: child})
				walk(child, path)
				continue
			}
			pos, ksize := int(le.Uint32(e[4:])), int(le.Uint32(e[8:]))
			if le.Uint32(e[0:])&bucketLeafFlag == 0 {
				continue
			}
			k := string(p[at+pos : at+pos+ksize])
			v := at + pos + ksize
			sub := path + "/" + k
			if root := le.Uint64(p[v:]); root != 0 {
				sites = append(sites, pointerSite{off: int64(base + v), kind: "bucket root", parent: owner, target: root})
				walk(root, sub)
			} else {
				elems(base+v+16, p[v+16:], owner, sub)
			}
		}
	}
	walk = func(id uint64, path string) {
		base := int(id) * ps
		p := raw[base : base+(int(le.Uint32(raw[base+12:]))+1)*ps]
		pages = append(pages, boltPage{id: id, branch: le.Uint16(p[8:]) == branchPageFlag, path: path})
		elems(base, p, id, path)
	}
	walk(le.Uint64(raw[meta+16:]), "")
	return ps, hwm, pages, sites
}

// damageDB builds a database of several page kinds: a collection with
// enough documents for branch pages in its buckets, its graph snapshot,
// and a small second collection.
func damageDB(t *testing.T) []byte {
	t.Helper()
	dbp := buildDB(t, 400)
	if o := vb(t, "", "add", "--db", dbp, "--collection", "v", "--dim", "4", "--vector", "[1,2,3,4]", "x"); o.code != 0 {
		t.Fatal(o.stderr)
	}
	raw, err := os.ReadFile(dbp)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// runCheckOn writes a damaged copy and runs check on it in-process. check
// must report problems and exit 1: a panic or a fault on any goroutine
// kills the test binary.
func runCheckOn(t *testing.T, raw []byte, what string) out {
	t.Helper()
	dbp := filepath.Join(t.TempDir(), "damaged.vecbolt")
	if err := os.WriteFile(dbp, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	o := vb(t, "", "check", "--db", dbp)
	if o.code == 1 && strings.Contains(o.stdout, "problem: ") && strings.Contains(o.stdout, "damaged ") {
		return o
	}
	// Damage that opening the file already refuses (the pages of the root
	// and the collections bucket, see the storage package doc) gives a
	// one-line error, which checkStderr enforces.
	if o.code == 1 && o.stdout == "" && (strings.Contains(o.stderr, "corrupt") || strings.Contains(o.stderr, "not a vecbolt database")) {
		return o
	}
	t.Fatalf("%s: check exit %d\nstdout:\n%s\nstderr:\n%s", what, o.code, o.stdout, o.stderr)
	return o
}

// TestCheckDamagedPointers damages one page pointer at a time — branch
// elements (to leaf and to branch pages), bucket roots, the meta page's root
// and freelist — in many ways: zero, the meta pages, past the end of the
// file, itself or its parent (a cycle), another live page, a huge number.
// check must never crash and must report each. Before the page walk, bbolt's
// check killed the process with SIGSEGV on most of these.
func TestCheckDamagedPointers(t *testing.T) {
	raw := damageDB(t)
	_, hwm, pages, sites := boltLayout(t, raw)
	kinds := map[string]int{}
	for _, s := range sites {
		kinds[s.kind]++
	}
	for _, k := range []string{"branch element → leaf", "bucket root", "meta root"} {
		if kinds[k] == 0 {
			t.Fatalf("the fixture has no %s pointer: %v", k, kinds)
		}
	}
	other := pages[len(pages)/2].id
	values := []struct {
		name string
		v    func(s pointerSite) uint64
	}{
		{"zero", func(pointerSite) uint64 { return 0 }},
		{"meta page", func(pointerSite) uint64 { return 1 }},
		{"last page", func(pointerSite) uint64 { return hwm - 1 }},
		{"end of file", func(pointerSite) uint64 { return hwm }},
		{"far past the end", func(pointerSite) uint64 { return hwm + 1<<20 }},
		{"huge", func(pointerSite) uint64 { return 1 << 62 }},
		{"all ones", func(pointerSite) uint64 { return ^uint64(0) }},
		{"its own page", func(s pointerSite) uint64 { return s.parent }},
		{"its target's neighbour", func(s pointerSite) uint64 { return s.target + 1 }},
		{"another live page", func(s pointerSite) uint64 {
			if other == s.target {
				return pages[0].id
			}
			return other
		}},
	}
	// Every kind of pointer, and a spread of the others, with every value.
	limit := 12
	if os.Getenv("VECBOLT_CHECK_DAMAGE_ALL") != "" {
		limit = len(sites)
	}
	picked := map[string]int{}
	copies, atOpen, nsites := 0, 0, 0
	for i, s := range sites {
		if picked[s.kind] >= max(1, limit/len(kinds)) && i%max(1, len(sites)/limit) != 0 {
			continue
		}
		picked[s.kind]++
		nsites++
		for _, v := range values {
			nv := v.v(s)
			if nv == s.target || (s.kind == "meta freelist" && nv == noFreelist) {
				// No change, or a legal "no freelist stored", which
				// makes bbolt rebuild the freelist from the pages.
				continue
			}
			damaged := append([]byte(nil), raw...)
			binary.LittleEndian.PutUint64(damaged[s.off:], nv)
			if strings.HasPrefix(s.kind, "meta") {
				// A meta page that fails its checksum is just skipped
				// for the other one; reseal it so the pointer is used.
				resealMeta(damaged, s.off)
			}
			o := runCheckOn(t, damaged, fmt.Sprintf("%s at offset %d (page %d → %d) set to %s (%d)", s.kind, s.off, s.parent, s.target, v.name, nv))
			copies++
			if o.stdout == "" {
				atOpen++
			}
		}
	}
	t.Logf("%d damaged copies (%d pointer sites of %d, by kind %v): check reported every one (%d refused at open)", copies, nsites, len(sites), picked, atOpen)
}

// TestCheckZeroedPages zeroes one live page of each kind: check must find
// it and say whether data or the cache is damaged.
func TestCheckZeroedPages(t *testing.T) {
	raw := damageDB(t)
	ps, _, pages, _ := boltLayout(t, raw)
	cases := []struct {
		name   string
		path   string
		branch bool
		want   string
	}{
		{"root", "", false, "damaged data: the file's structure"},
		{"collections leaf", "/collections", false, "damaged data: the file's structure"},
		{"documents branch", "/collections/c/docs", true, `damaged data: collection "c"`},
		{"documents leaf", "/collections/c/docs", false, `damaged data: collection "c"`},
		{"ID map leaf", "/collections/c/ids", false, `damaged data: collection "c"`},
		{"heads leaf", "/collections/c/heads", false, `damaged data: collection "c"`},
		{"collection leaf", "/collections/c", false, `damaged data: collection "c"`},
		{"snapshot leaf", "/collections/c/snapshot", false, `damaged cache: collection "c": the pages of its index snapshot are damaged`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var id uint64
			for _, p := range pages {
				if p.path == tc.path && p.branch == tc.branch {
					id = p.id
					break
				}
			}
			if id == 0 {
				t.Fatalf("the fixture has no such page (%d pages)", len(pages))
			}
			damaged := append([]byte(nil), raw...)
			clear(damaged[int(id)*ps : int(id+1)*ps])
			o := runCheckOn(t, damaged, tc.name)
			if !strings.Contains(o.stdout, tc.want) && ((tc.path != "" && tc.path != "/collections") || o.stdout != "") {
				// Only damage to the trees every lookup passes through (the
				// root's, the collections bucket's) may be refused at open.
				t.Fatalf("want %q in\n%s", tc.want, o.stdout)
			}
		})
	}
}

// resealMeta recomputes the checksum of the meta page holding offset off.
func resealMeta(raw []byte, off int64) {
	ps := int64(binary.LittleEndian.Uint32(raw[pageHeaderSize+8:]))
	m := raw[off/ps*ps+pageHeaderSize:]
	h := fnv.New64a()
	_, _ = h.Write(m[:56])
	binary.LittleEndian.PutUint64(m[56:], h.Sum64())
}
