//go:build !race

// The race detector turns on checkptr, which makes bbolt's pointer
// arithmetic over a damaged page a fatal error that no recover can catch.
// That is a property of the instrumentation, not of production builds, where
// the same damage is caught by storage's guard; so this test runs in the
// plain test pass only.

package db

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// Random byte flips in a database file: every open and read must either
// fail with a clear error or return exactly the data that was written —
// never panic, never return silently wrong documents. The number of
// damaged copies is VECBOLT_CORRUPT_ITERATIONS (default 150, 40 with -short).
func TestCorruptionNeverPanicsOrLies(t *testing.T) {
	iters := 150
	if testing.Short() {
		iters = 40
	}
	if s := os.Getenv("VECBOLT_CORRUPT_ITERATIONS"); s != "" {
		iters, _ = strconv.Atoi(s)
	}
	dir := t.TempDir()
	orig := filepath.Join(dir, "orig.vecbolt")
	d, err := Open(orig, WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	c := mustCollection(t, d, "c", WithDimension(crashDim), WithMetric(L2), WithFlatIndex())
	want := map[string]Document{}
	for b := range 10 {
		var docs []Document
		for i := range 20 {
			doc := crashDoc(fmt.Sprintf("doc-%d-%d", b, i), b)
			docs = append(docs, doc)
			want[doc.ID] = doc
		}
		if _, err := c.Insert(bg, docs...); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()
	data, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	slices.Sort(ids)

	rng := rand.New(rand.NewPCG(1, 2))
	var openFailed, readFailed, clean int
	for it := range iters {
		damaged := slices.Clone(data)
		for range 1 + rng.IntN(8) {
			damaged[rng.IntN(len(damaged))] ^= byte(1 + rng.IntN(255))
		}
		path := filepath.Join(dir, fmt.Sprintf("d%d.vecbolt", it))
		if err := os.WriteFile(path, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		outcome := checkDamaged(t, path, ids, want)
		switch outcome {
		case "open":
			openFailed++
		case "read":
			readFailed++
		default:
			clean++
		}
		os.Remove(path)
	}
	t.Logf("%d damaged copies: %d refused at open, %d failed a read with an error, %d read back exactly", iters, openFailed, readFailed, clean)
}

// fromFile fails the test unless err is one a damaged file explains. A
// program bug must not pass for damage: storage raises a panic again unless
// it came from the file, so a bug crashes this test instead of being
// counted as a refused copy, and any other error is reported here.
func fromFile(t *testing.T, what string, err error) {
	t.Helper()
	for _, sentinel := range []error{ErrCorrupt, ErrNotVecbolt, ErrCollectionNotFound, ErrNotFound} {
		if errors.Is(err, sentinel) {
			return
		}
	}
	t.Fatalf("%s: error not explained by damage: %v", what, err)
}

func checkDamaged(t *testing.T, path string, ids []string, want map[string]Document) string {
	t.Helper()
	d, err := Open(path, WithEmbedder(nil), WithLockTimeout(-1))
	if err != nil {
		fromFile(t, "open", err)
		return "open"
	}
	defer d.Close()
	if _, err := d.Collections(bg); err != nil {
		fromFile(t, "collections", err)
		return "read"
	}
	c, err := d.Collection(bg, "c")
	if err != nil {
		fromFile(t, "collection", err)
		return "read"
	}
	failed := false
	for _, id := range ids {
		got, err := c.Get(bg, id)
		if err != nil {
			fromFile(t, id+": get", err)
			failed = true
			continue
		}
		w := want[id]
		if got[0].ID != id || got[0].Text != w.Text || !vecEqual(got[0].Vector, w.Vector) || got[0].Metadata["gen"] != int64(w.Metadata["gen"].(int)) {
			t.Fatalf("%s: silently wrong document %+v", id, got[0])
		}
		res, err := c.SearchVector(bg, w.Vector, TopK(1))
		if err != nil {
			fromFile(t, id+": search", err)
			failed = true
			continue
		}
		if len(res) != 1 || res[0].ID != id || res[0].Text != w.Text {
			t.Fatalf("%s: search by own vector returned %+v", id, res)
		}
	}
	if failed {
		return "read"
	}
	return "clean"
}
