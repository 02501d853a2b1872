//go:build !race

// The race detector turns on checkptr, which makes bbolt's pointer
// arithmetic over a damaged page a fatal error that no recover can catch.
// That is a property of the instrumentation, not of production builds, where
// the same damage is caught by storage's guard; so this test runs in the
// plain test pass only.

package db

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/vecbolt/vecbolt/storage"
)

// Random byte flips in a database file: every open and read must either
// fail with a clear error or return exactly the data that was written —
// never panic, never return silently wrong documents. The number of
// damaged copies is VECBOLT_CORRUPT_ITERATIONS (default 150, 40 with -short).
//
// The file holds a flat collection "c" and an HNSW collection "h" with the
// same documents, so that it has a graph snapshot. Every fourth copy has its
// flips confined to that snapshot, a cache of the documents: those must all
// read back exactly, through an index rebuilt from the documents. Another
// fourth has them confined to the stored vectors (the vector stores of
// both collections, where each vector is kept once): every such copy must
// report the damage, since no other copy of a vector exists to read back.
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
	// "c" also has a keyword index (the "fulltext" bucket).
	c := mustCollection(t, d, "c", WithDimension(crashDim), WithMetric(L2), WithFlatIndex(), WithFullText(FullTextConfig{}))
	h := mustCollection(t, d, "h", WithDimension(crashDim), WithMetric(L2))
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
		if _, err := h.Insert(bg, docs...); err != nil {
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

	// Where the graph snapshot's bytes lie in the file.
	snap := snapshotBytes(t, orig, data)

	rng := rand.New(rand.NewPCG(1, 2))
	var openFailed, readFailed, clean, rebuilt, snapOnly, vecOnly int
	for it := range iters {
		damaged := slices.Clone(data)
		cacheOnly := it%4 == 3
		vectorsOnly := it%4 == 1
		for range 1 + rng.IntN(8) {
			at := rng.IntN(len(damaged))
			flip := byte(1 + rng.IntN(255))
			switch {
			case cacheOnly:
				r := snap[rng.IntN(len(snap))]
				at = r.at + rng.IntN(r.n)
			case vectorsOnly:
				// Every stored copy of one vector (old copies may linger
				// in freed pages), at the same byte.
				vec := vectorBytes(want[ids[rng.IntN(len(ids))]].Vector)
				k := rng.IntN(len(vec))
				for off := 0; ; {
					i := bytes.Index(damaged[off:], vec)
					if i < 0 {
						break
					}
					damaged[off+i+k] ^= flip
					off += i + len(vec)
				}
				continue
			}
			damaged[at] ^= flip
		}
		path := filepath.Join(dir, fmt.Sprintf("d%d.vecbolt", it))
		if err := os.WriteFile(path, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		outcome, rebuilds := checkDamaged(t, path, ids, want)
		rebuilt += rebuilds
		if cacheOnly {
			snapOnly++
			if outcome != "clean" || rebuilds == 0 {
				t.Fatalf("copy %d: damage confined to the graph snapshot gave outcome %q with %d rebuilds; want every document read back through a rebuilt index", it, outcome, rebuilds)
			}
		}
		if vectorsOnly {
			vecOnly++
			if outcome == "clean" {
				t.Fatalf("copy %d: damage to stored vectors went unreported", it)
			}
		}
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
	t.Logf("%d damaged copies: %d refused at open, %d failed a read with an error, %d read back exactly; %d with damage confined to the graph snapshot (all read back exactly), %d to the stored vectors (all reported); the index was rebuilt from the documents %d times", iters, openFailed, readFailed, clean, snapOnly, vecOnly, rebuilt)
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

// vectorBytes is a vector as the vector store keeps it (float32, little
// endian).
func vectorBytes(v []float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// region is a run of bytes of the file.
type region struct{ at, n int }

// snapshotBytes finds the graph snapshot of collection "h" in the file's
// bytes: the runs of the file that hold its chunks.
func snapshotBytes(t *testing.T, path string, data []byte) []region {
	t.Helper()
	var chunk []byte
	err := func() error {
		d, err := Open(path, WithEmbedder(nil), ReadOnly())
		if err != nil {
			return err
		}
		defer d.Close()
		return d.store.View(func(tx *storage.Tx) error {
			c, err := tx.Collection("h")
			if err != nil {
				return err
			}
			_, r, ok, err := c.Snapshot()
			if err != nil || !ok {
				return fmt.Errorf("snapshot of h: ok=%v err=%v", ok, err)
			}
			chunk, err = io.ReadAll(r)
			return err
		})
	}()
	if err != nil {
		t.Fatal(err)
	}
	// Each chunk is a value of its own: find where the stream's next bytes
	// start in the file, uniquely, and follow them as far as they match.
	var out []region
	for o := 0; o < len(chunk); {
		// The shortest probe found exactly once (link lists are padded
		// with zeros, so short ones may repeat).
		at := -1
		for k := 64; at < 0; k *= 4 {
			probe := chunk[o:min(o+k, len(chunk))]
			i := bytes.Index(data, probe)
			switch {
			case i < 0:
				t.Fatalf("snapshot bytes %d-%d (of %d) are not in the file", o, o+len(probe), len(chunk))
			case !bytes.Contains(data[i+1:], probe):
				at = i
			case o+k >= len(chunk):
				t.Fatalf("snapshot bytes %d-%d (of %d) are in the file twice", o, len(chunk), len(chunk))
			}
		}
		n := 0
		for o+n < len(chunk) && at+n < len(data) && data[at+n] == chunk[o+n] {
			n++
		}
		out = append(out, region{at, n})
		o += n
	}
	return out
}

// checkDamaged opens a damaged copy and reads every document of both
// collections. It returns "open", "read" or "clean", and how many times a
// collection's index was rebuilt because its snapshot was unusable.
func checkDamaged(t *testing.T, path string, ids []string, want map[string]Document) (string, int) {
	t.Helper()
	rebuilds := 0
	d, err := Open(path, WithEmbedder(nil), WithLockTimeout(-1), WithRecoveryLog(func(e RecoveryEvent) {
		if e.Finished {
			rebuilds++
		}
	}))
	if err != nil {
		fromFile(t, "open", err)
		return "open", 0
	}
	defer d.Close()
	if _, err := d.Collections(bg); err != nil {
		fromFile(t, "collections", err)
		return "read", 0
	}
	outcome := "clean"
	for _, name := range []string{"c", "h"} {
		if o := checkDamagedCollection(t, d, name, ids, want); o != "clean" {
			outcome = o
		}
	}
	return outcome, rebuilds
}

func checkDamagedCollection(t *testing.T, d *DB, name string, ids []string, want map[string]Document) string {
	t.Helper()
	c, err := d.Collection(bg, name)
	if err != nil {
		fromFile(t, "collection", err)
		return "read"
	}
	failed := false
	for _, id := range ids {
		got, err := c.GetFields(bg, FieldText|FieldMetadata|FieldVector, id)
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
	if name == "c" {
		// Keyword search: an error explained by damage, or results that
		// are documents of the collection with their own texts. The keyword
		// index's values carry no checksum of their own (package fulltext),
		// so damage inside a posting may change a ranking without an error;
		// what must hold is that no result names a document wrongly.
		res, err := c.Search(bg, "generation", WithMode(ModeKeyword), TopK(len(ids)+10))
		switch {
		case err != nil:
			fromFile(t, "keyword search", err)
			failed = true
		case len(res) != len(ids):
			failed = true // damage confined to the graph snapshot must not get here
		}
		for _, r := range res {
			if w, ok := want[r.ID]; !ok || r.Text != w.Text {
				t.Fatalf("keyword search: result %q with text %q is not a stored document", r.ID, r.Text)
			}
		}
	}
	if failed {
		return "read"
	}
	return "clean"
}
