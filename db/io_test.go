package db

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// oddRunes are the characters random IDs, texts and metadata are made of:
// escapes JSON needs, runes a terminal acts on, beyond-BMP runes, and
// non-printing ones, next to plain ASCII.
var oddRunes = []string{"a", "Z", "0", " ", "é", "中", "😀", "\U000e0001", "\u202e", "\u200b", "\u2028", "\u00a0", "\ufeff", "\ufffd", "\x00", "\x1b", "\x7f", "\u0085", "\t", "\n", "\"", "\\", "/", "<", "&"}

func randString(r *rand.Rand, minLen int) string {
	var b strings.Builder
	for n := minLen + r.IntN(6); n > 0; n-- {
		b.WriteString(oddRunes[r.IntN(len(oddRunes))])
	}
	return b.String()
}

var specialFloats = []float64{0, math.Copysign(0, -1), 2, -3, 0.1, 1e-7, 1e21, -1e300, math.MaxFloat64, -math.SmallestNonzeroFloat64, 1.5e-310, 123456789.125}
var specialInts = []int64{0, -1, 1, math.MaxInt64, math.MinInt64, 1 << 53, 1<<53 + 1}

// randMetadata gives each key one type (as a collection records them):
// s string, i int64, f float64, b bool, l []string.
func randMetadata(r *rand.Rand) map[string]any {
	md := map[string]any{}
	if r.IntN(4) == 0 {
		return nil
	}
	if r.IntN(2) == 0 {
		md["s"] = randString(r, 0)
	}
	if r.IntN(2) == 0 {
		if r.IntN(2) == 0 {
			md["i"] = specialInts[r.IntN(len(specialInts))]
		} else {
			md["i"] = r.Int64() - math.MaxInt64/2
		}
	}
	if r.IntN(2) == 0 {
		if r.IntN(2) == 0 {
			md["f"] = specialFloats[r.IntN(len(specialFloats))]
		} else {
			md["f"] = math.Float64frombits(r.Uint64()&^(0x7ff<<52) | uint64(r.IntN(0x7fe))<<52) // finite, any exponent
		}
	}
	if r.IntN(2) == 0 {
		md["b"] = r.IntN(2) == 0
	}
	if r.IntN(2) == 0 {
		l := []string{}
		for n := r.IntN(3); n > 0; n-- {
			l = append(l, randString(r, 0))
		}
		md["l"] = l
	}
	md[randString(r, 1)] = "odd key"
	return md
}

func randVector(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		switch r.IntN(5) {
		case 0:
			v[i] = float32(math.Copysign(0, -1))
		case 1:
			v[i] = float32(r.NormFloat64() * 1e-30)
		case 2:
			v[i] = float32(r.NormFloat64() * 1e15)
		default:
			v[i] = float32(r.NormFloat64())
		}
	}
	v[0] = 1 // never all zero
	return v
}

// sameDoc compares documents bit for bit: -0 is not 0, and an int64 is
// not a float64 of the same value.
func sameDoc(a, b Document) bool {
	if a.ID != b.ID || a.Text != b.Text || len(a.Vector) != len(b.Vector) || len(a.Metadata) != len(b.Metadata) {
		return false
	}
	for i := range a.Vector {
		if math.Float32bits(a.Vector[i]) != math.Float32bits(b.Vector[i]) {
			return false
		}
	}
	for k, v := range a.Metadata {
		w, ok := b.Metadata[k]
		if !ok || reflect.TypeOf(v) != reflect.TypeOf(w) {
			return false
		}
		if f, ok := v.(float64); ok {
			if math.Float64bits(f) != math.Float64bits(w.(float64)) {
				return false
			}
		} else if !reflect.DeepEqual(v, w) {
			return false
		}
	}
	return true
}

func export(t *testing.T, c *Collection, opts ...ExportOption) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := c.Export(bg, &buf, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Count(buf.Bytes(), []byte("\n")); lines != n {
		t.Fatalf("Export says %d documents, wrote %d lines", n, lines)
	}
	return buf.Bytes()
}

// TestExportImportRoundTrip is the property that export → import into an
// empty file → export is the identity, byte for byte, on random
// collections: every metadata type (string, int64, float64 including -0,
// huge, tiny and integral values, bool, lists of strings including empty
// ones), IDs and texts of odd Unicode, with vectors (a collection of
// caller-supplied vectors) and without (texts embedded again on import).
func TestExportImportRoundTrip(t *testing.T) {
	const collections = 24
	emb := newHashEmbedder("hash-a", 16)
	for seed := range collections {
		r := rand.New(rand.NewPCG(uint64(seed), 99))
		vectors := seed%2 == 0
		opts := []CollectionOption{WithFlatIndex()}
		if vectors {
			opts = append(opts, WithDimension(8))
		}
		d1, err := Open(filepath.Join(t.TempDir(), "a.vecbolt"), WithEmbedder(emb))
		if err != nil {
			t.Fatal(err)
		}
		c1 := mustCollection(t, d1, "c", opts...)
		var docs []Document
		seen := map[string]bool{}
		for n := r.IntN(40); len(docs) < n; {
			doc := Document{ID: randString(r, 1), Text: "t" + randString(r, 0), Metadata: randMetadata(r)}
			if seen[doc.ID] {
				continue
			}
			seen[doc.ID] = true
			if vectors {
				doc.Vector = randVector(r, 8)
				if r.IntN(3) == 0 {
					doc.Text = ""
				}
			}
			docs = append(docs, doc)
		}
		if _, err := c1.Insert(bg, docs...); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		var eopts []ExportOption
		if vectors {
			eopts = append(eopts, ExportVectors())
		}
		first := export(t, c1, eopts...)
		want, err := collect(t, c1, ScanFields(FieldText, FieldMetadata, FieldVector))
		if err != nil {
			t.Fatal(err)
		}
		d1.Close()

		d2, err := Open(filepath.Join(t.TempDir(), "b.vecbolt"), WithEmbedder(emb))
		if err != nil {
			t.Fatal(err)
		}
		c2 := mustCollection(t, d2, "c", opts...)
		res, err := c2.Import(bg, bytes.NewReader(first), ImportBatch(1+r.IntN(10)))
		if err != nil || res.Stored != len(docs) || res.RejectedCount != 0 {
			t.Fatalf("seed %d: import stored %d of %d, rejected %v: %v", seed, res.Stored, len(docs), res.Rejected, err)
		}
		second := export(t, c2, eopts...)
		got, err := collect(t, c2, ScanFields(FieldText, FieldMetadata, FieldVector))
		if err != nil {
			t.Fatal(err)
		}
		d2.Close()
		// Byte-identical exports alone would let a type change through
		// (2.0 written as 2 comes back an int64 and is written 2 again).
		if len(got) != len(want) {
			t.Fatalf("seed %d: %d documents after the round trip, want %d", seed, len(got), len(want))
		}
		for i := range want {
			if !sameDoc(got[i], want[i]) {
				t.Fatalf("seed %d: the round trip changed a document:\n got %#v\nwant %#v", seed, got[i], want[i])
			}
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("seed %d (vectors %v): the round trip changed the export:\n%q\n%q", seed, vectors, first, second)
		}
	}
}

// TestExportTypes: what Export writes for each metadata type, and that a
// filtered export writes the matching documents only.
func TestExportTypes(t *testing.T) {
	d, _ := openTest(t, WithEmbedder(nil))
	c := mustCollection(t, d, "c", WithDimension(2))
	if _, err := c.Insert(bg,
		Document{ID: "b", Text: "two", Metadata: map[string]any{"f": 2.0, "i": 2, "z": math.Copysign(0, -1), "l": []string{}}, Vector: []float32{1, -0.5}},
		Document{ID: "a", Text: "one", Metadata: map[string]any{"f": 0.1, "s": "x"}, Vector: []float32{1, 0}},
	); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		opts []ExportOption
		want string
		err  error
	}{
		{nil, `{"id":"a","text":"one","metadata":{"f":0.1,"s":"x"}}` + "\n" + `{"id":"b","text":"two","metadata":{"f":2.0,"i":2,"l":[],"z":-0.0}}` + "\n", nil},
		{[]ExportOption{ExportVectors(), ExportWhereExpr("f > 1")}, `{"id":"b","text":"two","metadata":{"f":2.0,"i":2,"l":[],"z":-0.0},"vector":[1,-0.5]}` + "\n", nil},
		{[]ExportOption{ExportWhereExpr("f >")}, "", ErrInvalidArgument},
	}
	for _, tc := range cases {
		var buf bytes.Buffer
		_, err := c.Export(bg, &buf, tc.opts...)
		if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) || buf.String() != tc.want {
			t.Errorf("export: %v\n got %s\nwant %s", err, buf.String(), tc.want)
		}
	}
}

// TestImport: what Import stores and rejects, with line numbers and
// reasons, and that without ImportSkipInvalid it stops at the first
// rejected line with the lines before it stored.
func TestImport(t *testing.T) {
	line := func(id string) string { return fmt.Sprintf(`{"id":%q,"text":"x","vector":[1,2]}`, id) }
	type rej struct {
		line int
		err  string
	}
	cases := []struct {
		name    string
		input   string
		opts    []ImportOption
		stored  int
		rejects []rej
		errIs   error // of the returned error; nil: none
		count   int
	}{
		{"all good", line("a") + "\n\n" + line("b") + "\r\n", nil, 2, nil, nil, 4},
		{"bad JSON stops", line("a") + "\n{nope\n" + line("b"), nil, 1, []rej{{2, "invalid JSON"}}, nil, 3},
		{"bad JSON skipped", line("a") + "\n{nope\n" + line("b"), []ImportOption{ImportSkipInvalid()}, 2, []rej{{2, "invalid JSON"}}, nil, 4},
		{"existing ID stops", line("a") + "\n" + line("old") + "\n" + line("b"), nil, 1, []rej{{2, "exists in collection"}}, ErrDuplicateID, 3},
		{"existing IDs skipped", line("old") + "\n" + line("a") + "\n" + line("old2") + "\n" + line("b"), []ImportOption{ImportSkipInvalid(), ImportBatch(10)}, 2, []rej{{1, "exists"}, {3, "exists"}}, nil, 4},
		{"upsert", line("old") + "\n" + line("a"), []ImportOption{ImportUpsert()}, 2, nil, nil, 3},
		{"duplicate in the file", line("a") + "\n" + line("a"), []ImportOption{ImportSkipInvalid()}, 1, []rej{{2, "also appears"}}, nil, 3},
		{"invalid document skipped", line("a") + "\n" + `{"id":"bad","vector":[1,2,3]}` + "\n" + line("b"), []ImportOption{ImportSkipInvalid()}, 2, []rej{{2, "dimension 3"}}, nil, 4},
		{"invalid document stops", line("a") + "\n" + `{"id":"bad","vector":[1,2,3]}` + "\n" + line("b"), []ImportOption{ImportBatch(100)}, 1, []rej{{2, "dimension 3"}}, ErrInvalidDocument, 3},
		{"batch stops before a later bad line", line("a") + "\n" + `{"id":"bad","vector":[1,2,3]}` + "\n{nope", []ImportOption{ImportBatch(100)}, 1, []rej{{2, "dimension 3"}}, ErrInvalidDocument, 3},
		{"bad batch", line("a"), []ImportOption{ImportBatch(0)}, 0, nil, ErrInvalidArgument, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := openTest(t, WithEmbedder(nil))
			c := mustCollection(t, d, "c", WithDimension(2), WithFlatIndex())
			if _, err := c.Insert(bg, Document{ID: "old", Vector: []float32{1, 1}}, Document{ID: "old2", Vector: []float32{1, 1}}); err != nil {
				t.Fatal(err)
			}
			res, err := c.Import(bg, strings.NewReader(tc.input), tc.opts...)
			skip := false
			for _, o := range tc.opts {
				var io2 importOptions
				o(&io2)
				skip = skip || io2.skip
			}
			switch {
			case tc.errIs != nil:
				if !errors.Is(err, tc.errIs) {
					t.Fatalf("error %v, want %v", err, tc.errIs)
				}
			case len(tc.rejects) > 0 && !skip:
				var le *LineError
				if !errors.As(err, &le) || le.Line != tc.rejects[0].line {
					t.Fatalf("error %v, want the *LineError of line %d", err, tc.rejects[0].line)
				}
			case err != nil:
				t.Fatal(err)
			}
			if res.Stored != tc.stored || res.RejectedCount != len(tc.rejects) || len(res.Rejected) != len(tc.rejects) {
				t.Fatalf("stored %d, rejected %d %v; want %d, %v", res.Stored, res.RejectedCount, res.Rejected, tc.stored, tc.rejects)
			}
			for i, r := range tc.rejects {
				if got := res.Rejected[i]; got.Line != r.line || !strings.Contains(got.Error(), r.err) {
					t.Errorf("rejection %d: %v, want line %d: …%s…", i, &got, r.line, r.err)
				}
			}
			if n, _ := c.Count(bg, nil); n != tc.count {
				t.Errorf("%d documents afterwards, want %d", n, tc.count)
			}
		})
	}
}

// TestReimportEmbedsNothing: re-importing lines whose IDs all exist, with
// ImportSkipInvalid, rejects each one without embedding any text. It was
// the cause of `vecbolt import --skip-bad` taking 27 s over existing IDs
// against 3.8 s for the first import: each duplicate failed the batch's
// transaction after the whole batch had been embedded, and the rest of the
// batch was embedded again.
func TestReimportEmbedsNothing(t *testing.T) {
	emb := newHashEmbedder("hash-a", 16)
	d, _ := openTest(t, WithEmbedder(emb))
	c := mustCollection(t, d, "c", WithFlatIndex())
	var in strings.Builder
	for i := range 50 {
		fmt.Fprintf(&in, `{"id":"d%d","text":"text number %d"}`+"\n", i, i)
	}
	if res, err := c.Import(bg, strings.NewReader(in.String())); err != nil || res.Stored != 50 {
		t.Fatalf("first import: %+v %v", res, err)
	}
	before := emb.calls.Load()
	res, err := c.Import(bg, strings.NewReader(in.String()), ImportSkipInvalid())
	if err != nil || res.Stored != 0 || res.RejectedCount != 50 || !errors.Is(res.Rejected[49].Err, ErrDuplicateID) {
		t.Fatalf("re-import: stored %d, rejected %d: %v", res.Stored, res.RejectedCount, err)
	}
	if calls := emb.calls.Load() - before; calls != 0 {
		t.Fatalf("re-import embedded %d batches, want none", calls)
	}
}

// TestImportStopsOnContext: a done context stops the import between
// lines; the batches committed stay and the batch in progress is dropped.
func TestImportStopsOnContext(t *testing.T) {
	d, _ := openTest(t, WithEmbedder(nil))
	c := mustCollection(t, d, "c", WithDimension(2), WithFlatIndex())
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	var in strings.Builder
	for i := range 10 {
		fmt.Fprintf(&in, `{"id":"d%d","vector":[1,%d]}`+"\n", i, i)
	}
	res, err := c.Import(ctx, strings.NewReader(in.String()), ImportBatch(3), ImportProgress(func(s ImportStatus) {
		if s.Stored == 6 {
			cancel()
		}
	}))
	if !errors.Is(err, context.Canceled) || res.Stored != 6 {
		t.Fatalf("stored %d, %v", res.Stored, err)
	}
	if n, _ := c.Count(bg, nil); n != 6 {
		t.Fatalf("%d documents stored, want 6", n)
	}
}

// TestImportRejectionsBounded: a stream of bad lines cannot fill memory:
// ImportResult keeps the first 1000 rejections and counts them all, and
// ImportOnReject sees every one.
func TestImportRejectionsBounded(t *testing.T) {
	d, _ := openTest(t, WithEmbedder(nil))
	c := mustCollection(t, d, "c", WithDimension(2), WithFlatIndex())
	seen := 0
	res, err := c.Import(bg, strings.NewReader(strings.Repeat("{bad\n", 1005)+`{"vector":[1,2]}`), ImportSkipInvalid(), ImportOnReject(func(LineError) { seen++ }))
	if err != nil || res.Stored != 1 || res.RejectedCount != 1005 || len(res.Rejected) != 1000 || seen != 1005 || res.Rejected[999].Line != 1000 {
		t.Fatalf("stored %d, rejected %d (%d kept, %d seen): %v", res.Stored, res.RejectedCount, len(res.Rejected), seen, err)
	}
}
