package db

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/index"
)

// tableEmbedder embeds a text by looking it up in a table, so a test can
// make a model emit any vector it likes (a faulty model's output).
type tableEmbedder struct {
	name string
	dim  int
	vecs map[string][]float32
}

func (e *tableEmbedder) Identity() embedder.Identity {
	return embedder.Identity{Name: e.name, Hash: strings.Repeat("ab", 32), Dim: e.dim, Pooling: "mean"}
}

func (e *tableEmbedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v, ok := e.vecs[t]
		if !ok {
			return nil, fmt.Errorf("tableEmbedder: no vector for %q", t)
		}
		out[i] = append([]float32(nil), v...)
	}
	return out, nil
}

func (e *tableEmbedder) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	v, err := e.EmbedDocuments(ctx, []string{text})
	if err != nil {
		return nil, err
	}
	return v[0], nil
}

// extremeVectors are finite vectors at the edges of float32: each is either
// rejected by every write path with ErrInvalidDocument, writing nothing, or
// accepted and then searchable with finite scores, before and after a
// reopen. Which one is fixed per metric here, so a change of policy shows.
var extremeVectors = []struct {
	name string
	v    []float32
	// ok lists the metrics that accept the vector.
	ok []Metric
}{
	// Its float64 norm is finite; its float32 square overflows.
	{"1e20 x4", []float32{1e20, 1e20, 1e20, 1e20}, nil},
	// Its float32 square underflows to 0: no direction for cosine.
	{"1e-45", []float32{1e-45, 0, 0, 0}, []Metric{Dot, L2}},
	{"1e-23", []float32{1e-23, 0, 0, 0}, []Metric{Dot, L2}},
	// A square that is the smallest subnormal: the index can normalize it.
	{"3e-23", []float32{3e-23, 0, 0, 0}, []Metric{Cosine, Dot, L2}},
	{"1e18: just under MaxNorm", []float32{1e18, 0, 0, 0}, []Metric{Cosine, Dot, L2}},
	{"-1e18 spread", []float32{-5e17, 5e17, -5e17, 5e17}, []Metric{Cosine, Dot, L2}},
	{"2e18: over MaxNorm", []float32{2e18, 0, 0, 0}, nil},
	{"1e19 opposed", []float32{1e19, -1e19, 0, 0}, nil},
	{"max float32", []float32{math.MaxFloat32, 0, 0, 0}, nil},
	{"zeros", []float32{0, 0, 0, 0}, []Metric{Dot, L2}},
}

func accepts(ok []Metric, m Metric) bool {
	for _, x := range ok {
		if x == m {
			return true
		}
	}
	return false
}

// indexKinds are the index configurations a collection can have.
var indexKinds = []struct {
	name string
	opts []CollectionOption
}{
	{"flat", []CollectionOption{WithFlatIndex()}},
	{"hnsw", nil},
	{"int8", []CollectionOption{WithInt8()}},
}

// TestExtremeVectorsNeverBrick is the regression test for vectors that
// passed validation (a float64 norm) and were committed, and that the
// index (a float32 norm) then refused: the write failed after the batch
// was stored, and every later open failed with "index holds N vectors for
// N+1 documents". Under Dot and L2, huge vectors gave +Inf or NaN scores.
// Each vector goes through Insert, Upsert over an existing document and a
// model's output, for every metric and index kind, each case in a
// collection of its own; one file per metric and kind is reopened once.
func TestExtremeVectorsNeverBrick(t *testing.T) {
	base := []Document{
		{ID: "a", Text: "a", Vector: []float32{1, 0, 0, 0}},
		{ID: "b", Text: "b", Vector: []float32{0, -1, 0.5, 0}},
	}
	for _, m := range []Metric{Cosine, Dot, L2} {
		for _, kind := range indexKinds {
			t.Run(fmt.Sprintf("%v/%s", m, kind.name), func(t *testing.T) {
				emb := &tableEmbedder{name: "table", dim: 4, vecs: map[string][]float32{"a": base[0].Vector, "b": base[1].Vector}}
				dbPath := filepath.Join(t.TempDir(), "x.vecbolt")
				d, err := Open(dbPath, WithEmbedder(emb))
				if err != nil {
					t.Fatal(err)
				}
				defer func() { d.Close() }()
				var cases []*extremeCase
				for i, ev := range extremeVectors {
					emb.vecs[fmt.Sprint("x", i)] = ev.v
					for _, path := range []string{"insert", "upsert", "embedder"} {
						ec := &extremeCase{name: ev.name + "/" + path, coll: fmt.Sprint(path, i), v: ev.v, ok: accepts(ev.ok, m), path: path, m: m}
						ec.write(t, d, kind.opts, base, fmt.Sprint("x", i))
						cases = append(cases, ec)
					}
				}
				for _, ec := range cases {
					ec.verify(t, d, "before reopen")
				}
				if err := d.Close(); err != nil {
					t.Fatal(err)
				}
				if d, err = Open(dbPath, WithEmbedder(emb)); err != nil {
					t.Fatal(err)
				}
				for _, ec := range cases {
					ec.verify(t, d, "after reopen")
				}
			})
		}
	}
}

// extremeCase is one extreme vector written one way into a collection.
type extremeCase struct {
	name, coll, path string
	v                []float32
	ok               bool // the vector is indexable and within bounds
	m                Metric
	werr             error
	want             int // documents the collection must hold
}

func (ec *extremeCase) write(t *testing.T, d *DB, kindOpts []CollectionOption, base []Document, text string) {
	t.Helper()
	opts := append([]CollectionOption{WithMetric(ec.m)}, kindOpts...)
	if ec.path != "embedder" {
		opts = append(opts, WithDimension(4))
	}
	c, err := d.CreateCollection(bg, ec.coll, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Insert(bg, base...); err != nil {
		t.Fatal(err)
	}
	switch ec.path {
	case "insert":
		_, ec.werr = c.Insert(bg, Document{ID: "x", Text: text, Vector: ec.v})
	case "upsert":
		_, ec.werr = c.Upsert(bg, Document{ID: "b", Text: text, Vector: ec.v})
	case "embedder":
		_, ec.werr = c.Insert(bg, Document{ID: "x", Text: text})
	}
	ec.want = 3
	if ec.path == "upsert" {
		ec.want = 2
	}
	if ec.ok {
		if ec.werr != nil {
			t.Fatalf("%s: write of an indexable vector: %v", ec.name, ec.werr)
		}
		return
	}
	if !errors.Is(ec.werr, ErrInvalidDocument) {
		t.Fatalf("%s: write: got %v, want ErrInvalidDocument", ec.name, ec.werr)
	}
	var de *DocumentError
	if !errors.As(ec.werr, &de) || de.Index != 0 {
		t.Fatalf("%s: write error does not name the document: %v", ec.name, ec.werr)
	}
	ec.want = 2
}

// verify checks that the collection opens, holds what the write's outcome
// says, and that searches return every document with finite scores.
func (ec *extremeCase) verify(t *testing.T, d *DB, stage string) {
	t.Helper()
	c, err := d.Collection(bg, ec.coll)
	if err != nil {
		t.Fatalf("%s, %s: open: %v", ec.name, stage, err)
	}
	if n, err := c.Count(bg, nil); err != nil || n != ec.want {
		t.Fatalf("%s, %s: count %d (%v), want %d", ec.name, stage, n, err, ec.want)
	}
	docs, err := c.Get(bg, "b")
	if err != nil {
		t.Fatalf("%s, %s: get b: %v", ec.name, stage, err)
	}
	if upserted := ec.ok && ec.path == "upsert"; upserted != (docs[0].Text != "b") {
		t.Fatalf("%s, %s: b holds %q after an upsert that returned %v", ec.name, stage, docs[0].Text, ec.werr)
	}
	if _, err := c.Get(bg, "x"); (err == nil) != (ec.ok && ec.path != "upsert") {
		t.Fatalf("%s, %s: get x: %v (write returned %v)", ec.name, stage, err, ec.werr)
	}
	queries := [][]float32{{1, 0, 0, 0}, {0, 0, 0, -1}}
	if ec.ok && checkVector(ec.v, 4, ec.m) == nil {
		queries = append(queries, ec.v)
	}
	for _, q := range queries {
		res, err := c.SearchVector(bg, q, TopK(10))
		if err != nil {
			t.Fatalf("%s, %s: search %v: %v", ec.name, stage, q, err)
		}
		if len(res) != ec.want {
			t.Fatalf("%s, %s: search %v found %d of %d documents: %+v", ec.name, stage, q, len(res), ec.want, res)
		}
		for _, r := range res {
			if r.ID == "" || math.IsNaN(float64(r.Score)) || math.IsInf(float64(r.Score), 0) {
				t.Fatalf("%s, %s: search %v: result %+v", ec.name, stage, q, r)
			}
		}
	}
}

// Query vectors get the same check as stored ones: a query the index
// would refuse, or one whose scores could overflow, is an invalid argument
// naming the problem, from SearchVector and from the model's query output.
func TestExtremeQueryVectors(t *testing.T) {
	for _, m := range []Metric{Cosine, Dot, L2} {
		for _, ev := range extremeVectors {
			t.Run(fmt.Sprintf("%v/%s", m, ev.name), func(t *testing.T) {
				emb := &tableEmbedder{name: "table", dim: 4, vecs: map[string][]float32{"a": {1, 0, 0, 0}, "q": ev.v}}
				d, _ := openTest(t, WithEmbedder(emb))
				c := mustCollection(t, d, "c", WithMetric(m), WithFlatIndex())
				if _, err := c.Insert(bg, Document{ID: "a", Text: "a"}, Document{ID: "big", Text: "big", Vector: []float32{1e18, 1e17, 0, 0}}); err != nil {
					t.Fatal(err)
				}
				for name, search := range map[string]func() ([]Result, error){
					"SearchVector": func() ([]Result, error) { return c.SearchVector(bg, ev.v) },
					"Search":       func() ([]Result, error) { return c.Search(bg, "q") },
				} {
					res, err := search()
					if !accepts(ev.ok, m) {
						if !errors.Is(err, ErrInvalidArgument) && !errors.Is(err, ErrInvalidDocument) {
							t.Fatalf("%s: got %v, want an invalid-argument error", name, err)
						}
						continue
					}
					if err != nil || len(res) != 2 {
						t.Fatalf("%s: %v %v", name, res, err)
					}
					for _, r := range res {
						if math.IsNaN(float64(r.Score)) || math.IsInf(float64(r.Score), 0) {
							t.Fatalf("%s: score %v", name, r.Score)
						}
					}
				}
			})
		}
	}
}

// Reembed checks the new model's output like a write does: a vector the
// index would refuse stops it before anything is written.
func TestReembedRejectsExtremeOutput(t *testing.T) {
	old := &tableEmbedder{name: "old", dim: 4, vecs: map[string][]float32{"a": {1, 0, 0, 0}, "b": {0, 1, 0, 0}}}
	path := filepath.Join(t.TempDir(), "x.vecbolt")
	d, err := Open(path, WithEmbedder(old))
	if err != nil {
		t.Fatal(err)
	}
	c := mustCollection(t, d, "c", WithMetric(Dot))
	if _, err := c.Insert(bg, Document{ID: "a", Text: "a"}, Document{ID: "b", Text: "b"}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	bad := &tableEmbedder{name: "new", dim: 4, vecs: map[string][]float32{"a": {1, 0, 0, 0}, "b": {1e20, 1e20, 1e20, 1e20}}}
	d, err = Open(path, WithEmbedder(bad))
	if err != nil {
		t.Fatal(err)
	}
	err = d.Reembed(bg, "c", nil)
	var de *DocumentError
	if !errors.Is(err, ErrInvalidDocument) || !errors.As(err, &de) || de.ID != "b" {
		t.Fatalf("Reembed: got %v, want ErrInvalidDocument naming b", err)
	}
	d.Close()
	d, err = Open(path, WithEmbedder(old))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err = d.Collection(bg, "c")
	if err != nil {
		t.Fatalf("the old model no longer opens the collection: %v", err)
	}
	if res, err := c.SearchVector(bg, []float32{0, 1, 0, 0}, TopK(1)); err != nil || len(res) != 1 || res[0].ID != "b" || res[0].Score != 1 {
		t.Fatalf("after a refused Reembed: %+v %v", res, err)
	}
}

// The bound is index.MaxNorm, inclusive, under every metric.
func TestMaxNormBoundary(t *testing.T) {
	at := []float32{index.MaxNorm, 0, 0, 0}
	above := []float32{math.Nextafter32(index.MaxNorm, math.MaxFloat32), 0, 0, 0}
	for _, m := range []Metric{Cosine, Dot, L2} {
		if err := checkNewVector(at, 4, m); err != nil {
			t.Errorf("%v: norm exactly MaxNorm: %v", m, err)
		}
		if err := checkNewVector(above, 4, m); !errors.Is(err, ErrInvalidDocument) || !strings.Contains(err.Error(), "exceeds the limit") {
			t.Errorf("%v: norm just above MaxNorm: %v", m, err)
		}
	}
}

// refusingIndex is an HNSW graph whose adds fail, standing in for an index
// that fails after a batch was committed for a reason validation cannot
// foresee.
type refusingIndex struct{ *index.HNSW }

var errRefused = errors.New("refusingIndex: add refused")

func (refusingIndex) Add(uint64, []float32) error { return errRefused }

func (refusingIndex) AddBatch(context.Context, []uint64, [][]float32) error { return errRefused }

// Should the index ever fail after a commit, the collection still opens
// with every stored document indexed: Close must not write a snapshot that
// takes the unindexed write off the pending list (which made every later
// open fail with "index holds 2 vectors for 3 documents").
func TestIndexFailureAfterCommitReopens(t *testing.T) {
	for _, batch := range []int{1, 2} {
		t.Run(fmt.Sprint("batch", batch), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.vecbolt")
			d, err := Open(path, WithEmbedder(nil))
			if err != nil {
				t.Fatal(err)
			}
			c := mustCollection(t, d, "c", WithDimension(4))
			if _, err := c.Insert(bg, Document{ID: "a", Vector: []float32{1, 0, 0, 0}}, Document{ID: "b", Vector: []float32{0, 1, 0, 0}}); err != nil {
				t.Fatal(err)
			}
			d.Close() // snapshots the graph
			if d, err = Open(path, WithEmbedder(nil)); err != nil {
				t.Fatal(err)
			}
			if c, err = d.Collection(bg, "c"); err != nil {
				t.Fatal(err)
			}
			st := c.st.Load()
			st.idx = refusingIndex{st.idx.(*index.HNSW)}
			docs := []Document{{ID: "x", Vector: []float32{0, 0, 1, 0}}, {ID: "y", Vector: []float32{0, 0, 0, 1}}}[:batch]
			if _, err := c.Insert(bg, docs...); !errors.Is(err, errRefused) {
				t.Fatalf("insert into a refusing index: %v", err)
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			if d, err = Open(path, WithEmbedder(nil)); err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if c, err = d.Collection(bg, "c"); err != nil {
				t.Fatalf("reopen after an index failure: %v", err)
			}
			for _, doc := range docs {
				res, err := c.SearchVector(bg, doc.Vector, TopK(1))
				if err != nil || len(res) != 1 || res[0].ID != doc.ID {
					t.Fatalf("search for %s after reopen: %+v %v", doc.ID, res, err)
				}
			}
		})
	}
}
