package db

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/query"
)

var bg = context.Background()

func openTest(t *testing.T, opts ...Option) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.vecbolt")
	if len(opts) == 0 {
		opts = []Option{WithEmbedder(newHashEmbedder("hash-a", 64))}
	}
	d, err := Open(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, path
}

func mustCollection(t *testing.T, d *DB, name string, opts ...CollectionOption) *Collection {
	t.Helper()
	c, err := d.CreateCollection(bg, name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var animals = []Document{
	{ID: "cat", Text: "the cat sleeps on the warm sofa", Metadata: map[string]any{"kind": "pet", "legs": 4, "tags": []string{"fur", "indoor"}}},
	{ID: "dog", Text: "the dog runs in the park", Metadata: map[string]any{"kind": "pet", "legs": 4, "tags": []string{"fur", "outdoor"}}},
	{ID: "eagle", Text: "an eagle flies over the mountain", Metadata: map[string]any{"kind": "wild", "legs": 2, "weight": 6.3}},
	{ID: "shark", Text: "a shark swims in the ocean", Metadata: map[string]any{"kind": "wild", "legs": 0}},
	{ID: "parrot", Text: "the parrot talks and flies in the house", Metadata: map[string]any{"kind": "pet", "legs": 2, "tags": []string{"feathers", "indoor"}}},
}

func TestInsertSearchGet(t *testing.T) {
	d, _ := openTest(t)
	c := mustCollection(t, d, "animals")
	ids, err := c.Insert(bg, animals...)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []string{"cat", "dog", "eagle", "shark", "parrot"}) {
		t.Fatalf("ids = %v", ids)
	}
	if n, _ := c.Count(bg, nil); n != 5 {
		t.Fatalf("count = %d", n)
	}
	res, err := c.Search(bg, "cat on a sofa", TopK(3))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || res[0].ID != "cat" {
		t.Fatalf("results = %+v", res)
	}
	if res[0].Text != animals[0].Text || res[0].Metadata["kind"] != "pet" || res[0].Metadata["legs"] != int64(4) {
		t.Fatalf("hydration: %+v", res[0])
	}
	for i := 1; i < len(res); i++ {
		if res[i].Score > res[i-1].Score {
			t.Fatalf("not sorted: %+v", res)
		}
	}
	// K larger than the collection returns what exists.
	res, err = c.Search(bg, "animal", TopK(100))
	if err != nil || len(res) != 5 {
		t.Fatalf("k>n: %d results, err %v", len(res), err)
	}
	// IDs and scores only.
	res, err = c.Search(bg, "the dog", TopK(1), WithFields())
	if err != nil || res[0].ID != "dog" || res[0].Text != "" || res[0].Metadata != nil {
		t.Fatalf("no fields: %+v %v", res, err)
	}
	got, err := c.GetFields(bg, FieldText|FieldMetadata|FieldVector, "eagle", "cat")
	if err != nil || len(got) != 2 || got[0].ID != "eagle" || got[1].ID != "cat" || len(got[0].Vector) != 64 {
		t.Fatalf("get: %+v %v", got, err)
	}
	if got[0].Metadata["weight"] != 6.3 || !slices.Equal(got[1].Metadata["tags"].([]string), []string{"fur", "indoor"}) {
		t.Fatalf("metadata round trip: %+v", got)
	}
	got, err = c.Get(bg, "cat", "unicorn", "yeti")
	var nf *NotFoundError
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &nf) || !slices.Equal(nf.IDs, []string{"unicorn", "yeti"}) || len(got) != 1 {
		t.Fatalf("get missing: %v %v", got, err)
	}
}

func TestFilteredSearch(t *testing.T) {
	d, _ := openTest(t)
	c := mustCollection(t, d, "animals")
	if _, err := c.Insert(bg, animals...); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opt  SearchOption
		want []string // as a set
	}{
		{"eq", Where(query.Eq("kind", "wild")), []string{"eagle", "shark"}},
		{"expr", WhereExpr(`kind = "pet" AND legs >= 4`), []string{"cat", "dog"}},
		{"contains", WhereExpr(`tags CONTAINS "indoor"`), []string{"cat", "parrot"}},
		{"float vs int", WhereExpr(`legs < 2.5 AND legs > 0`), []string{"eagle", "parrot"}},
		{"exists", WhereExpr(`EXISTS weight`), []string{"eagle"}},
		{"none", WhereExpr(`kind = "robot"`), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Search(bg, "the animal", TopK(10), tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res {
				got = append(got, r.ID)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	_, err := c.Search(bg, "x", WhereExpr(`kind > 3`))
	if !errors.Is(err, ErrInvalidArgument) || !errors.Is(err, query.ErrTypeMismatch) {
		t.Fatalf("type mismatch: %v", err)
	}
	_, err = c.Search(bg, "x", WhereExpr(`kind = `))
	var se *query.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("syntax error: %v", err)
	}
}

// A filter must never make results go missing: with 2,000 documents of
// which a few match, the search returns all matching ones.
func TestFilterReturnsMinKMatching(t *testing.T) {
	d, _ := openTest(t)
	c := mustCollection(t, d, "many")
	var docs []Document
	for i := range 2000 {
		docs = append(docs, Document{ID: fmt.Sprint(i), Text: fmt.Sprintf("document number %d about topic %d", i, i%7), Metadata: map[string]any{"mod": int64(i % 500)}})
	}
	if _, err := c.Insert(bg, docs...); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ k, mod, want int }{{10, 3, 4}, {2, 3, 2}, {10, 499, 4}} {
		res, err := c.Search(bg, "topic 1", TopK(tc.k), Where(query.Eq("mod", tc.mod)))
		if err != nil || len(res) != tc.want {
			t.Fatalf("k=%d mod=%d: %d results, err %v", tc.k, tc.mod, len(res), err)
		}
	}
}

func TestMinScore(t *testing.T) {
	d, _ := openTest(t)
	c := mustCollection(t, d, "animals")
	if _, err := c.Insert(bg, animals...); err != nil {
		t.Fatal(err)
	}
	all, _ := c.Search(bg, "the cat sleeps", TopK(5))
	res, err := c.Search(bg, "the cat sleeps", TopK(5), MinScore(all[1].Score))
	if err != nil || len(res) < 2 {
		t.Fatalf("%v %v", res, err)
	}
	for _, r := range res {
		if r.Score < all[1].Score {
			t.Fatalf("score %v below minimum", r.Score)
		}
	}
}

func TestUpsertAndDelete(t *testing.T) {
	d, _ := openTest(t)
	c := mustCollection(t, d, "animals")
	if _, err := c.Insert(bg, animals...); err != nil {
		t.Fatal(err)
	}
	_, err := c.Insert(bg, Document{ID: "new", Text: "x"}, Document{ID: "cat", Text: "a different cat"})
	var de *DocumentError
	if !errors.Is(err, ErrDuplicateID) || !errors.As(err, &de) || de.Index != 1 || !strings.Contains(err.Error(), `"cat"`) {
		t.Fatalf("duplicate insert: %v", err)
	}
	if _, err := c.Get(bg, "new"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("half a failed batch was written: %v", err)
	}
	if _, err := c.Upsert(bg, Document{ID: "cat", Text: "a submarine dives deep", Metadata: map[string]any{"kind": "machine"}}); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Count(bg, nil); n != 5 {
		t.Fatalf("upsert changed count to %d", n)
	}
	res, _ := c.Search(bg, "submarine dives", TopK(1))
	if res[0].ID != "cat" || res[0].Metadata["kind"] != "machine" || res[0].Metadata["legs"] != nil {
		t.Fatalf("upsert not applied: %+v", res[0])
	}
	n, err := c.Delete(bg, "cat", "dog", "cat", "nobody")
	if err != nil || n != 2 {
		t.Fatalf("delete: %d %v", n, err)
	}
	res, _ = c.Search(bg, "the cat sleeps on the warm sofa", TopK(10))
	for _, r := range res {
		if r.ID == "cat" || r.ID == "dog" {
			t.Fatalf("deleted document returned: %v", r.ID)
		}
	}
	if len(res) != 3 {
		t.Fatalf("%d results after delete", len(res))
	}
}

func TestGeneratedIDs(t *testing.T) {
	d, _ := openTest(t)
	c := mustCollection(t, d, "c")
	ids, err := c.Insert(bg, Document{Text: "one"}, Document{Text: "two"})
	if err != nil || len(ids) != 2 || ids[0] == ids[1] || len(ids[0]) != 36 {
		t.Fatalf("%v %v", ids, err)
	}
	got, err := c.Get(bg, ids...)
	if err != nil || got[1].Text != "two" {
		t.Fatalf("%v %v", got, err)
	}
}

func TestBadDocuments(t *testing.T) {
	d, _ := openTest(t)
	c := mustCollection(t, d, "c")
	v := d.mustVecCollection(t, "v", 3)
	nan := float32(math.NaN())
	tests := []struct {
		name string
		c    *Collection
		docs []Document
		is   error
		msg  string
	}{
		{"empty text", c, []Document{{ID: "a", Text: "  \n"}}, ErrInvalidDocument, "text is empty"},
		{"invalid utf8 text", c, []Document{{ID: "a", Text: "ok \xff"}}, ErrInvalidDocument, "not valid UTF-8"},
		{"invalid utf8 id", c, []Document{{ID: "\xfe", Text: "ok"}}, ErrInvalidDocument, "ID is not valid UTF-8"},
		{"long id", c, []Document{{ID: strings.Repeat("x", 513), Text: "ok"}}, ErrInvalidDocument, "exceeds 512"},
		{"huge text", c, []Document{{ID: "a", Text: strings.Repeat("word ", 2<<20)}}, ErrInvalidDocument, "exceeds"},
		{"dup in batch", c, []Document{{ID: "a", Text: "x"}, {ID: "a", Text: "y"}}, ErrDuplicateID, "position 0"},
		{"bad metadata type", c, []Document{{ID: "a", Text: "x", Metadata: map[string]any{"when": struct{}{}}}}, ErrInvalidDocument, "when"},
		{"nan metadata", c, []Document{{ID: "a", Text: "x", Metadata: map[string]any{"f": math.NaN()}}}, ErrInvalidDocument, "f"},
		{"empty key", c, []Document{{ID: "a", Text: "x", Metadata: map[string]any{"": 1}}}, ErrInvalidDocument, "empty metadata key"},
		{"oversized metadata", c, []Document{{ID: "a", Text: "x", Metadata: map[string]any{"big": strings.Repeat("m", 70000)}}}, ErrInvalidDocument, "metadata of"},
		{"wrong dim", c, []Document{{ID: "a", Vector: []float32{1, 2}}}, ErrInvalidDocument, "dimension 2"},
		{"nan vector", v, []Document{{ID: "a", Vector: []float32{1, nan, 0}}}, ErrInvalidDocument, "component 1"},
		{"inf vector", v, []Document{{ID: "a", Vector: []float32{float32(math.Inf(1)), 0, 0}}}, ErrInvalidDocument, "component 0"},
		{"zero vector cosine", v, []Document{{ID: "a", Vector: []float32{0, 0, 0}}}, ErrInvalidDocument, "all zeros"},
		{"text only in vector collection", v, []Document{{ID: "a", Text: "hello"}}, ErrInvalidDocument, "needs a Vector"},
		{"second doc bad", v, []Document{{ID: "ok", Vector: []float32{1, 0, 0}}, {ID: "bad", Vector: []float32{1}}}, ErrInvalidDocument, `document 1 (id "bad")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := tt.c.Count(bg, nil)
			_, err := tt.c.Insert(bg, tt.docs...)
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tt.is, tt.msg)
			}
			if after, _ := tt.c.Count(bg, nil); after != before {
				t.Fatalf("count changed from %d to %d", before, after)
			}
		})
	}
}

func (d *DB) mustVecCollection(t *testing.T, name string, dim int) *Collection {
	t.Helper()
	return mustCollection(t, d, name, WithDimension(dim), WithFlatIndex())
}

func TestVectorCollection(t *testing.T) {
	d, _ := openTest(t, WithEmbedder(nil))
	for _, m := range []Metric{Cosine, Dot, L2} {
		t.Run(m.String(), func(t *testing.T) {
			c := mustCollection(t, d, "v-"+m.String(), WithDimension(2), WithMetric(m))
			docs := []Document{
				{ID: "x", Vector: []float32{1, 0}},
				{ID: "y", Vector: []float32{0, 1}},
				{ID: "xy", Vector: []float32{0.8, 0.7}},
			}
			if _, err := c.Insert(bg, docs...); err != nil {
				t.Fatal(err)
			}
			res, err := c.SearchVector(bg, []float32{1, 0.05}, TopK(3))
			if err != nil || res[0].ID != "x" {
				t.Fatalf("%+v %v", res, err)
			}
			want := map[Metric]float32{Cosine: float32(1 / math.Sqrt(1+0.0025)), Dot: 1, L2: -0.05}[m]
			if math.Abs(float64(res[0].Score-want)) > 1e-5 {
				t.Fatalf("score %v, want %v", res[0].Score, want)
			}
			if _, err := c.Search(bg, "text"); !errors.Is(err, ErrNoEmbedder) {
				t.Fatalf("text search on vector collection: %v", err)
			}
			if _, err := c.SearchVector(bg, []float32{1}); !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("bad query vector: %v", err)
			}
		})
	}
	if _, err := d.CreateCollection(bg, "needs-model"); !errors.Is(err, ErrNoEmbedder) {
		t.Fatalf("create without embedder: %v", err)
	}
}

func TestSearchArguments(t *testing.T) {
	d, _ := openTest(t)
	c := mustCollection(t, d, "c")
	for _, tc := range []struct {
		name string
		opts []SearchOption
	}{
		{"k zero", []SearchOption{TopK(0)}},
		{"k negative", []SearchOption{TopK(-1)}},
		{"k huge", []SearchOption{TopK(1 << 30)}},
		{"nan min", []SearchOption{MinScore(float32(math.NaN()))}},
		{"both filters", []SearchOption{Where(query.Exists("a")), WhereExpr("EXISTS b")}},
	} {
		if _, err := c.Search(bg, "q", tc.opts...); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := c.Search(bg, " "); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("blank query: %v", err)
	}
}

func TestCollections(t *testing.T) {
	d, _ := openTest(t)
	mustCollection(t, d, "b")
	a := mustCollection(t, d, "a", WithMetric(Dot), WithHNSW(8, 100, 40))
	if _, err := d.CreateCollection(bg, "a"); !errors.Is(err, ErrCollectionExists) {
		t.Fatalf("create twice: %v", err)
	}
	if c, err := d.CreateCollection(bg, "a", IfNotExists()); err != nil || c != a {
		t.Fatalf("IfNotExists: %v", err)
	}
	for _, bad := range []string{"", strings.Repeat("n", 256), "a\x00b", "\xff"} {
		if _, err := d.CreateCollection(bg, bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("name %q: %v", bad, err)
		}
	}
	if _, err := d.CreateCollection(bg, "z", WithMetric(Metric(9))); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("bad metric: %v", err)
	}
	for _, p := range [][3]int{{1, 0, 0}, {8, -1, 0}, {8, 0, -1}, {8, 0, 10001}} {
		if _, err := d.CreateCollection(bg, "z", WithHNSW(p[0], p[1], p[2])); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("WithHNSW%v: %v", p, err)
		}
	}
	list, err := d.Collections(bg)
	if err != nil || len(list) != 2 || list[0].Name != "a" || list[0].Metric != Dot || list[0].M != 8 || list[0].Model.Name != "hash-a" || list[0].Dimension != 64 {
		t.Fatalf("list: %+v %v", list, err)
	}
	// efSearch: the default is automatic (0), an explicit one is kept.
	if list[0].EfSearch != 40 || list[1].EfSearch != 0 || list[1].EfConstruction != 200 || list[1].M != 16 {
		t.Errorf("efSearch: a %d (want 40), b %d (want 0, automatic); b's M %d efC %d", list[0].EfSearch, list[1].EfSearch, list[1].M, list[1].EfConstruction)
	}
	if err := d.DeleteCollection(bg, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Insert(bg, Document{Text: "x"}); !errors.Is(err, ErrCollectionNotFound) {
		t.Fatalf("handle after delete: %v", err)
	}
	if _, err := d.Collection(bg, "a"); !errors.Is(err, ErrCollectionNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if err := d.DeleteCollection(bg, "a"); !errors.Is(err, ErrCollectionNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestReopenAndSnapshotReplay(t *testing.T) {
	emb := newHashEmbedder("hash-a", 64)
	d, path := openTest(t, WithEmbedder(emb), WithSnapshotPolicy(3, 0))
	c := mustCollection(t, d, "animals")
	if _, err := c.Insert(bg, animals[:4]...); err != nil { // snapshot taken (4 ≥ 3)
		t.Fatal(err)
	}
	if _, err := c.Insert(bg, animals[4]); err != nil { // pending
		t.Fatal(err)
	}
	if _, err := c.Delete(bg, "dog"); err != nil { // pending
		t.Fatal(err)
	}
	before, _ := c.Search(bg, "the parrot flies", TopK(10))
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Count(bg, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
	d2, err := Open(path, WithEmbedder(emb))
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	c2, err := d2.Collection(bg, "animals")
	if err != nil {
		t.Fatal(err)
	}
	after, err := c2.Search(bg, "the parrot flies", TopK(10))
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 4 || len(before) != 4 {
		t.Fatalf("before %d, after %d results", len(before), len(after))
	}
	for i := range after {
		if after[i].ID != before[i].ID || after[i].Score != before[i].Score {
			t.Fatalf("result %d differs: %+v vs %+v", i, after[i], before[i])
		}
	}
}

func TestModelMismatchAndReembed(t *testing.T) {
	d, path := openTest(t, WithEmbedder(newHashEmbedder("hash-a", 64)))
	c := mustCollection(t, d, "animals")
	if _, err := c.Insert(bg, animals...); err != nil {
		t.Fatal(err)
	}
	d.Close()
	modelB := newHashEmbedder("hash-b", 32)
	d2, err := Open(path, WithEmbedder(modelB))
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	_, err = d2.Collection(bg, "animals")
	if !errors.Is(err, ErrModelMismatch) || !strings.Contains(err.Error(), "hash-a") || !strings.Contains(err.Error(), "hash-b") {
		t.Fatalf("mismatch: %v", err)
	}
	var calls []int
	if err := d2.Reembed(bg, "animals", func(done, total int) { calls = append(calls, done) }); err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 || calls[len(calls)-1] != 5 {
		t.Fatalf("progress %v", calls)
	}
	c2, err := d2.Collection(bg, "animals")
	if err != nil {
		t.Fatal(err)
	}
	if info := c2.Info(); info.Model.Name != "hash-b" || info.Dimension != 32 || info.Count != 5 {
		t.Fatalf("info %+v", info)
	}
	res, err := c2.Search(bg, "shark ocean", TopK(1))
	if err != nil || res[0].ID != "shark" {
		t.Fatalf("%+v %v", res, err)
	}
	// A failing model leaves the collection untouched.
	d2.Close()
	bad := newHashEmbedder("hash-c", 16)
	bad.fail = errors.New("model exploded")
	d3, err := Open(path, WithEmbedder(bad))
	if err != nil {
		t.Fatal(err)
	}
	defer d3.Close()
	if err := d3.Reembed(bg, "animals", nil); err == nil || !strings.Contains(err.Error(), "model exploded") {
		t.Fatalf("failing reembed: %v", err)
	}
	d3.Close()
	d4, _ := Open(path, WithEmbedder(modelB))
	defer d4.Close()
	if c4, err := d4.Collection(bg, "animals"); err != nil || c4.Info().Model.Name != "hash-b" {
		t.Fatalf("after failed reembed: %v", err)
	}
}

func TestReadOnlyAndLock(t *testing.T) {
	d, path := openTest(t)
	c := mustCollection(t, d, "c")
	if _, err := c.Insert(bg, Document{ID: "a", Text: "hello world"}); err != nil {
		t.Fatal(err)
	}
	// The lock is per open file, so a second handle in this process
	// behaves like a second process.
	if _, err := Open(path, WithLockTimeout(50e6)); !errors.Is(err, ErrLocked) {
		t.Fatalf("second writer: %v", err)
	}
	d.Close()
	ro, err := Open(path, ReadOnly(), WithEmbedder(newHashEmbedder("hash-a", 64)))
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	rc, err := ro.Collection(bg, "c")
	if err != nil {
		t.Fatal(err)
	}
	if res, err := rc.Search(bg, "hello"); err != nil || len(res) != 1 {
		t.Fatalf("read-only search: %v %v", res, err)
	}
	if _, err := rc.Insert(bg, Document{Text: "x"}); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only insert: %v", err)
	}
	if _, err := ro.CreateCollection(bg, "new"); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only create: %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing"), ReadOnly()); err == nil {
		t.Fatal("read-only open of a missing file succeeded")
	}
}

func TestEmbedderErrorWritesNothing(t *testing.T) {
	emb := newHashEmbedder("hash-a", 64)
	d, _ := openTest(t, WithEmbedder(emb), WithEmbedBatchSize(2))
	c := mustCollection(t, d, "c")
	emb.fail = errors.New("out of memory in model")
	_, err := c.Insert(bg, Document{Text: "a"}, Document{Text: "b"}, Document{Text: "c"})
	if err == nil || !strings.Contains(err.Error(), "out of memory in model") {
		t.Fatalf("%v", err)
	}
	if n, _ := c.Count(bg, nil); n != 0 {
		t.Fatalf("count %d", n)
	}
	emb.fail = nil
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := c.Insert(ctx, Document{Text: "a"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestEmbedErrorNamesDocument(t *testing.T) {
	d, _ := openTest(t, WithEmbedder(poisonEmbedder{newHashEmbedder("hash-a", 64)}), WithEmbedBatchSize(4))
	c := mustCollection(t, d, "c")
	docs := []Document{{ID: "a", Text: "fine"}, {ID: "b", Text: "fine too"}, {ID: "c", Text: "poison here"}, {ID: "d", Text: "ok"}, {ID: "e", Text: "ok"}}
	_, err := c.Insert(bg, docs...)
	var de *DocumentError
	if !errors.As(err, &de) || de.Index != 2 || de.ID != "c" || !errors.Is(err, errPoison) {
		t.Fatalf("%v", err)
	}
	if n, _ := c.Count(bg, nil); n != 0 {
		t.Fatalf("count %d", n)
	}
}

// Bad inputs that are not documents, and the exact outcome of each.
func TestBadRequests(t *testing.T) {
	d, _ := openTest(t)
	c := mustCollection(t, d, "animals")
	if _, err := c.Insert(bg, animals...); err != nil {
		t.Fatal(err)
	}
	_, errUnknown := d.Collection(bg, "no-such-collection")
	_, errEmptyGet := c.Get(bg, "")
	resMissing, errMissing := c.Search(bg, "animal", WhereExpr(`color = "red"`))
	resNotMissing, errNot := c.Search(bg, "animal", WhereExpr(`color != "red"`))
	_, errNaNQuery := c.SearchVector(bg, append(make([]float32, 63), float32(math.NaN())))
	_, errBadUTF8 := c.Search(bg, "caf\xe9")
	_, errHugeQuery := c.Search(bg, strings.Repeat("word ", 2<<20))
	tests := []struct {
		name string
		err  error
		is   error
	}{
		{"unknown collection", errUnknown, ErrCollectionNotFound},
		{"get empty ID", errEmptyGet, ErrNotFound},
		{"NaN in query vector", errNaNQuery, ErrInvalidArgument},
		{"invalid UTF-8 query", errBadUTF8, ErrInvalidArgument},
		{"huge query", errHugeQuery, ErrInvalidArgument},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.is) {
			t.Errorf("%s: %v, want %v", tt.name, tt.err, tt.is)
		}
	}
	// A filter on a field no document has is not an error: it matches
	// nothing, and its negation matches everything.
	if errMissing != nil || len(resMissing) != 0 {
		t.Errorf("missing field: %v %v", resMissing, errMissing)
	}
	if errNot != nil || len(resNotMissing) != len(animals) {
		t.Errorf("negated missing field: %d results, %v", len(resNotMissing), errNot)
	}
}
