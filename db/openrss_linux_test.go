package db

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestOpenReleasesMapped: opening a collection reads its vectors, heads
// and links through the file's mapping into the index's own memory; the
// mapping's copy of those pages must not stay resident after the open
// (storage.Tx.ReleaseMapped).
func TestOpenReleasesMapped(t *testing.T) {
	const (
		dim = 256
		n   = 4000
	)
	emb := newHashEmbedder("hash-a", dim)
	d, path := openTest(t, WithEmbedder(emb))
	c := mustCollection(t, d, "v", WithDimension(dim))
	rng := rand.New(rand.NewPCG(1, 2))
	for start := 0; start < n; start += 1000 {
		docs := make([]Document, 1000)
		for i := range docs {
			v := make([]float32, dim)
			for j := range v {
				v[j] = rng.Float32() - 0.5
			}
			docs[i] = Document{ID: fmt.Sprint("d", start+i), Vector: v}
		}
		if _, err := c.Insert(bg, docs...); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2, err := Open(path, WithEmbedder(emb))
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	c2, err := d2.Collection(bg, "v")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c2.Count(bg, nil); err != nil || got != n {
		t.Fatalf("count %d, %v after reopening; want %d", got, err, n)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	vectors := int64(n * dim * 4)
	if st.Size() < vectors {
		t.Fatalf("file of %d bytes holds less than the %d bytes of vectors", st.Size(), vectors)
	}
	if rss := mappedFileRSS(t, path); rss > vectors/8 {
		t.Errorf("%d bytes of the file's mapping resident after opening the collection (file %d bytes, vectors %d); want at most %d", rss, st.Size(), vectors, vectors/8)
	}
}

// mappedFileRSS returns the resident bytes of the mappings of the file at
// path, from /proc/self/smaps.
func mappedFileRSS(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no smaps: %v", err)
	}
	defer f.Close()
	var total int64
	in, found := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			in = strings.HasSuffix(line, " "+path)
			found = found || in
			continue
		}
		if rest, ok := strings.CutPrefix(line, "Rss:"); ok && in {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("smaps line %q: %v", line, err)
			}
			total += kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatalf("no mapping of %s in /proc/self/smaps", path)
	}
	return total
}
