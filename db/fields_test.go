package db

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/vecbolt/vecbolt/query"
	"github.com/vecbolt/vecbolt/storage"
)

// typedValues holds one value of each metadata kind, with its field type.
var typedValues = []struct {
	name string
	v    any
	t    FieldType
}{
	{"string", "big", TypeString},
	{"int", int64(120), TypeNumber},
	{"float", 2.5, TypeNumber},
	{"bool", true, TypeBool},
	{"strings", []string{"a", "b"}, TypeStrings},
}

func vec4(i int) []float32 { return []float32{1, float32(i%7) + 1, float32(i%3) + 0.5, 1} }

// wantFieldError checks that err is a *DocumentError for the document at
// index (with id) that names the field and both types, wrapping
// ErrInvalidDocument.
func wantFieldError(t *testing.T, err error, index int, id, field string, a, b FieldType) {
	t.Helper()
	var de *DocumentError
	if !errors.As(err, &de) || !errors.Is(err, ErrInvalidDocument) {
		t.Fatalf("got %v, want a *DocumentError wrapping ErrInvalidDocument", err)
	}
	if de.Index != index || de.ID != id {
		t.Fatalf("error names document %d %q, want %d %q: %v", de.Index, de.ID, index, id, err)
	}
	msg := err.Error()
	for _, s := range []string{fmt.Sprintf("%q", field), a.phrase(), b.phrase()} {
		if !strings.Contains(msg, s) {
			t.Fatalf("error %q does not name %s", msg, s)
		}
	}
}

// TestFieldTypeConflicts writes every pair of value kinds to one field:
// across batches, in one batch, and by an upsert of the same document.
// Compatible pairs (int and float are both numbers) are stored; the others
// are refused naming document, field and both types, and write nothing.
func TestFieldTypeConflicts(t *testing.T) {
	d, _ := openTest(t, WithEmbedder(nil))
	n := 0
	for _, first := range typedValues {
		for _, second := range typedValues {
			ok := first.t == second.t
			t.Run(first.name+"/"+second.name, func(t *testing.T) {
				doc := func(id string, v any) Document {
					return Document{ID: id, Vector: vec4(len(id)), Metadata: map[string]any{"f": v, "other": "x"}}
				}
				for _, mode := range []string{"batches", "one batch", "upsert"} {
					n++
					c := d.mustVecCollection(t, fmt.Sprintf("c%d", n), 4)
					var err error
					var wantIdx int
					var wantID string
					switch mode {
					case "batches":
						if _, err := c.Insert(bg, doc("a", first.v)); err != nil {
							t.Fatal(err)
						}
						_, err = c.Insert(bg, doc("b", first.v), doc("c", second.v))
						wantIdx, wantID = 1, "c"
					case "one batch":
						_, err = c.Insert(bg, doc("a", first.v), doc("b", first.v), doc("c", second.v))
						wantIdx, wantID = 2, "c"
					case "upsert":
						// The only document holding the field is replaced:
						// the type stays recorded.
						if _, err := c.Insert(bg, doc("a", first.v)); err != nil {
							t.Fatal(err)
						}
						_, err = c.Upsert(bg, doc("a", second.v))
						wantIdx, wantID = 0, "a"
					}
					count, _ := c.Count(bg, nil)
					if ok {
						if err != nil {
							t.Fatalf("%s: %v", mode, err)
						}
						if got := c.Info().Fields["f"]; got != first.t {
							t.Fatalf("%s: field type %q, want %q", mode, got, first.t)
						}
						continue
					}
					// In one batch, the batch itself introduces the field
					// with two types; the message differs, not the naming.
					wantFieldError(t, err, wantIdx, wantID, "f", second.t, first.t)
					wantCount := map[string]int{"batches": 1, "one batch": 0, "upsert": 1}[mode]
					if count != wantCount {
						t.Fatalf("%s: %d documents after the refused write, want %d", mode, count, wantCount)
					}
					if mode == "upsert" {
						docs, err := c.Get(bg, "a")
						if err != nil || fmt.Sprint(docs[0].Metadata["f"]) != fmt.Sprint(first.v) {
							t.Fatalf("upsert: document a is %v (%v), want its old value %v", docs, err, first.v)
						}
					}
				}
			})
		}
	}
}

// TestFieldTypeRefusedBeforeEmbedding: a batch with a type conflict is
// refused before any text is embedded.
func TestFieldTypeRefusedBeforeEmbedding(t *testing.T) {
	emb := newHashEmbedder("hash-a", 64)
	d, _ := openTest(t, WithEmbedder(emb))
	c := mustCollection(t, d, "c")
	if _, err := c.Insert(bg, Document{ID: "a", Text: "one", Metadata: map[string]any{"n": 1}}); err != nil {
		t.Fatal(err)
	}
	before := emb.calls.Load()
	_, err := c.Insert(bg, Document{ID: "b", Text: "two", Metadata: map[string]any{"n": "two"}})
	wantFieldError(t, err, 0, "b", "n", TypeString, TypeNumber)
	if emb.calls.Load() != before {
		t.Fatal("the refused batch was embedded")
	}
	// A generated ID is not named: the caller never saw it.
	_, err = c.Insert(bg, Document{Text: "three", Metadata: map[string]any{"n": true}})
	wantFieldError(t, err, 0, "", "n", TypeBool, TypeNumber)
}

// TestIssue13MixedTypes is the issue's scenario: integer installed_kb
// values and one "big". The string is refused, naming its document, and
// the filter installed_kb > 100 then never fails, whatever the query and
// TopK (on the old code the string was stored and the filter failed or
// not depending on the documents a search visited).
func TestIssue13MixedTypes(t *testing.T) {
	d, _ := openTest(t, WithEmbedder(nil))
	c := d.mustVecCollection(t, "apps", 4)
	var docs []Document
	for i := range 200 {
		docs = append(docs, Document{ID: fmt.Sprintf("app%03d", i), Vector: vec4(i), Metadata: map[string]any{"installed_kb": 50 + i}})
	}
	if _, err := c.Insert(bg, docs...); err != nil {
		t.Fatal(err)
	}
	_, err := c.Insert(bg, Document{ID: "odd", Vector: vec4(1), Metadata: map[string]any{"installed_kb": "big"}})
	wantFieldError(t, err, 0, "odd", "installed_kb", TypeString, TypeNumber)
	for i := range 50 {
		for _, k := range []int{1, 5, 300} {
			res, err := c.SearchVector(bg, vec4(i*13+k), TopK(k), WhereExpr("installed_kb > 100"))
			if err != nil {
				t.Fatalf("query %d, TopK %d: %v", i, k, err)
			}
			if want := min(k, 149); len(res) != want {
				t.Fatalf("query %d, TopK %d: %d results, want %d", i, k, len(res), want)
			}
		}
	}
}

// TestFilterTypeCheck runs each comparison against each field type, on a
// collection where no document holds the fields any more: the check uses
// the recorded types, not the documents a search visits.
func TestFilterTypeCheck(t *testing.T) {
	d, _ := openTest(t, WithEmbedder(nil))
	c := d.mustVecCollection(t, "c", 4)
	fieldOf := map[FieldType]string{TypeString: "s", TypeNumber: "n", TypeBool: "b", TypeStrings: "l"}
	md := map[string]any{"s": "x", "n": 1.5, "b": true, "l": []string{"x"}}
	if _, err := c.Insert(bg, Document{ID: "typed", Vector: vec4(0), Metadata: md}, Document{ID: "plain", Vector: vec4(1)}); err != nil {
		t.Fatal(err)
	}
	literal := map[FieldType]string{TypeString: `"x"`, TypeNumber: "1", TypeBool: "true", TypeStrings: `["x"]`}
	ops := []string{"=", "!=", ">", ">=", "<", "<=", "IN", "NOT IN", "CONTAINS"}
	type outcome struct {
		err error
		ids []string
	}
	run := func(expr string) outcome {
		res, err := c.SearchVector(bg, vec4(0), TopK(10), WhereExpr(expr), WithFields())
		var ids []string
		for _, r := range res {
			ids = append(ids, r.ID)
		}
		slices.Sort(ids)
		return outcome{err, ids}
	}
	type tcase struct {
		expr   string
		field  string
		stored FieldType
		lit    FieldType
	}
	var cases []tcase
	for stored, field := range fieldOf {
		for _, op := range ops {
			for lit, text := range literal {
				valid := true // else the filter itself is invalid, whatever the field
				switch {
				case op == "CONTAINS":
					valid = lit == TypeString
				case op[0] == '<' || op[0] == '>':
					valid = lit == TypeString || lit == TypeNumber
				case strings.HasSuffix(op, "IN"):
					valid = lit != TypeStrings
				}
				if !valid {
					continue
				}
				expr := field + " " + op + " " + text
				if strings.HasSuffix(op, "IN") {
					expr = field + " " + op + " [" + text + "]"
				}
				cases = append(cases, tcase{expr, field, stored, lit})
			}
		}
	}
	before := map[string]outcome{}
	for _, tc := range cases {
		before[tc.expr] = run(tc.expr)
	}
	if _, err := c.Delete(bg, "typed"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			got := run(tc.expr)
			wantErr := tc.stored != tc.lit
			if strings.Contains(tc.expr, "CONTAINS") {
				wantErr = tc.stored != TypeStrings
			}
			if (got.err != nil) != wantErr || (before[tc.expr].err != nil) != wantErr {
				t.Fatalf("error %v (with the document: %v), want an error: %v", got.err, before[tc.expr].err, wantErr)
			}
			if !wantErr {
				return
			}
			if !errors.Is(got.err, ErrInvalidArgument) || !errors.Is(got.err, query.ErrTypeMismatch) {
				t.Fatalf("%v does not wrap ErrInvalidArgument and query.ErrTypeMismatch", got.err)
			}
			want := []string{fmt.Sprintf("%q", tc.field), tc.stored.phrase(), tc.lit.phrase()}
			if strings.Contains(tc.expr, "CONTAINS") {
				want[2] = "a string"
			}
			for _, s := range want {
				if !strings.Contains(got.err.Error(), s) {
					t.Fatalf("%q does not name %s", got.err, s)
				}
			}
		})
	}
	// A field no document has had is not an error and compares as a
	// missing field.
	for expr, want := range map[string][]string{
		`unknown > 3`: nil, `unknown = "x"`: nil, `unknown CONTAINS "x"`: nil, `EXISTS unknown`: nil,
		`unknown != 3`: {"plain"}, `NOT unknown IN [1]`: {"plain"},
	} {
		got := run(expr)
		if got.err != nil || !slices.Equal(got.ids, want) {
			t.Errorf("%s: %v %v, want %v", expr, got.ids, got.err, want)
		}
	}
}

// TestPropertyFilterOutcome: whether a filter fails depends only on the
// collection's recorded field types, never on which documents exist. Random
// filters run on random subsets of documents (including none) of a
// collection whose fields got their types once; each filter gives the same
// error or no error every time, the one query.Check predicts.
func TestPropertyFilterOutcome(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 17))
	d, _ := openTest(t, WithEmbedder(nil))
	c := d.mustVecCollection(t, "p", 4)
	types := map[string]FieldType{"s": TypeString, "n": TypeNumber, "b": TypeBool, "l": TypeStrings}
	fields := []string{"s", "n", "b", "l", "u"} // u: no document ever has it
	value := func(t FieldType) any {
		switch t {
		case TypeString:
			return []string{"a", "b", "c"}[r.IntN(3)]
		case TypeNumber:
			if r.IntN(2) == 0 {
				return r.IntN(5)
			}
			return float64(r.IntN(5)) + 0.5
		case TypeBool:
			return r.IntN(2) == 0
		}
		return []string{"a", "b", "c"}[:r.IntN(4)]
	}
	literal := func() any { return value([]FieldType{TypeString, TypeNumber, TypeBool, TypeStrings}[r.IntN(4)]) }
	var gen func(depth int) query.Filter
	gen = func(depth int) query.Filter {
		f := fields[r.IntN(len(fields))]
		switch r.IntN(map[bool]int{true: 7, false: 5}[depth > 0]) {
		case 0:
			for {
				op := []func(string, any) query.Filter{query.Eq, query.Ne, query.Gt, query.Gte, query.Lt, query.Lte}[r.IntN(6)]
				if flt := op(f, literal()); query.Validate(flt) == nil {
					return flt
				}
			}
		case 1:
			v := literal()
			if _, list := v.([]string); list {
				v = "a"
			}
			return query.In(f, v)
		case 2:
			return query.Exists(f)
		case 3:
			return query.Contains(f, "a")
		case 4:
			return query.Eq(f, literal())
		case 5:
			return query.Not(gen(depth - 1))
		}
		return []func(...query.Filter) query.Filter{query.And, query.Or}[r.IntN(2)](gen(depth-1), gen(depth-1))
	}
	var filters []query.Filter
	for len(filters) < 60 {
		if f := gen(3); query.Validate(f) == nil {
			filters = append(filters, f)
		}
	}
	// Every field gets its type, then the documents come and go.
	if _, err := c.Insert(bg, Document{ID: "seed", Vector: vec4(0), Metadata: map[string]any{"s": "a", "n": 1, "b": true, "l": []string{"a"}}}); err != nil {
		t.Fatal(err)
	}
	kindOf := func(f string) (query.Kind, error) { return types[f].kind(), nil }
	rounds := 12
	if testing.Short() {
		rounds = 6
	}
	for round := range rounds {
		var del []string
		for i := range 40 {
			del = append(del, fmt.Sprintf("d%d", i))
		}
		if round > 0 {
			del = append(del, "seed")
		}
		if _, err := c.Delete(bg, del...); err != nil {
			t.Fatal(err)
		}
		if round%3 != 2 { // every third round runs on an empty collection
			var docs []Document
			for i := range r.IntN(40) {
				md := map[string]any{}
				for f, ft := range types {
					if r.IntN(2) == 0 {
						md[f] = value(ft)
					}
				}
				docs = append(docs, Document{ID: fmt.Sprintf("d%d", i), Vector: vec4(r.IntN(100)), Metadata: md})
			}
			if _, err := c.Insert(bg, docs...); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range filters {
			want := query.Check(f, kindOf) != nil
			_, err := c.SearchVector(bg, vec4(r.IntN(100)), TopK(1+r.IntN(5)), Where(f), WithFields())
			if (err != nil) != want {
				t.Fatalf("round %d: %s: error %v, want an error: %v", round, f, err, want)
			}
		}
	}
}

// removeFieldRecords makes a file look written by vecbolt before field
// types were recorded: no collection has the keys that record them
// ("fields" and "field:NAME").
func removeFieldRecords(t testing.TB, path string) {
	t.Helper()
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	err = b.Update(func(tx *bolt.Tx) error {
		cs := tx.Bucket([]byte("collections"))
		return cs.ForEachBucket(func(name []byte) error {
			c := cs.Bucket(name)
			var keys [][]byte
			cur := c.Cursor()
			for k, v := cur.Seek([]byte("field")); k != nil && strings.HasPrefix(string(k), "field"); k, v = cur.Next() {
				if v != nil {
					keys = append(keys, slices.Clone(k))
				}
			}
			if len(keys) == 0 {
				return errors.New("no field records")
			}
			for _, k := range keys {
				if err := c.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFieldTypesOldFile opens a format-2 file written before field types
// were recorded, with a field of mixed types that only storage-level writes
// can now produce: it opens, the types are inferred from the documents,
// filters on the mixed field are refused every time except EXISTS, the
// typed fields are enforced, the next write records every type, and the
// mixed field becomes typed once its odd document is replaced and the
// collection reloaded.
func TestFieldTypesOldFile(t *testing.T) {
	d, path := openTest(t, WithEmbedder(nil))
	c := d.mustVecCollection(t, "old", 4)
	if _, err := c.Insert(bg, Document{ID: "a", Vector: vec4(0), Metadata: map[string]any{"n": 1, "m": 5, "s": "x"}}); err != nil {
		t.Fatal(err)
	}
	// The odd document, as the old code accepted it.
	err := d.store.Update(func(tx *storage.Tx) error {
		ctx, err := tx.Collection("old")
		if err != nil {
			return err
		}
		l, err := ctx.NextLabel()
		if err != nil {
			return err
		}
		_, rec, err := convertMetadata(map[string]any{"m": "big", "n": 2})
		if err != nil {
			return err
		}
		return ctx.PutDocument(l, &storage.DocumentRecord{Id: "b", Vector: vec4(1), Metadata: rec})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	removeFieldRecords(t, path)

	want := map[string]FieldType{"n": TypeNumber, "m": TypeMixed, "s": TypeString}
	ro, err := Open(path, WithEmbedder(nil), ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	infos, err := ro.Collections(bg)
	if err != nil || !maps.Equal(infos[0].Fields, want) {
		t.Fatalf("read-only Collections: %v %v, want %v", infos, err, want)
	}
	roc, err := ro.Collection(bg, "old")
	if err != nil || !maps.Equal(roc.Info().Fields, want) {
		t.Fatalf("read-only load: %v, want %v", err, want)
	}
	ro.Close()

	d, err = Open(path, WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { d.Close() }()
	c, err = d.Collection(bg, "old")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Info().Fields; !maps.Equal(got, want) {
		t.Fatalf("fields %v, want %v", got, want)
	}
	for range 5 {
		for _, k := range []int{1, 2} {
			_, err := c.SearchVector(bg, vec4(0), TopK(k), WhereExpr("m > 1"))
			if !errors.Is(err, ErrInvalidArgument) || !errors.Is(err, query.ErrTypeMismatch) || !strings.Contains(err.Error(), "number, string") {
				t.Fatalf("filter on the mixed field: %v", err)
			}
		}
	}
	if res, err := c.SearchVector(bg, vec4(0), WhereExpr("EXISTS m")); err != nil || len(res) != 2 {
		t.Fatalf("EXISTS on the mixed field: %v %v", res, err)
	}
	if res, err := c.SearchVector(bg, vec4(0), WhereExpr("n > 1")); err != nil || len(res) != 1 {
		t.Fatalf("filter on a typed field: %v %v", res, err)
	}
	_, err = c.Insert(bg, Document{ID: "c", Vector: vec4(2), Metadata: map[string]any{"n": "two"}})
	wantFieldError(t, err, 0, "c", "n", TypeString, TypeNumber)
	// The mixed field takes any type; the write records every type.
	if _, err := c.Insert(bg, Document{ID: "c", Vector: vec4(2), Metadata: map[string]any{"m": true, "t": 1}}); err != nil {
		t.Fatal(err)
	}
	want["t"] = TypeNumber
	infos, err = d.Collections(bg)
	if err != nil || !maps.Equal(infos[0].Fields, want) {
		t.Fatalf("Collections after the first write: %v %v, want %v (the record)", infos, err, want)
	}
	// Repair: the odd documents get numbers; a reload types the field.
	if _, err := c.Upsert(bg, Document{ID: "b", Vector: vec4(1), Metadata: map[string]any{"m": 7, "n": 2}}, Document{ID: "c", Vector: vec4(2), Metadata: map[string]any{"m": 8}}); err != nil {
		t.Fatal(err)
	}
	if err := d.Reindex(bg, "old", nil); err != nil {
		t.Fatal(err)
	}
	if got := c.Info().Fields["m"]; got != TypeNumber {
		t.Fatalf("after the repair and a reload, m is %q", got)
	}
	if res, err := c.SearchVector(bg, vec4(0), WhereExpr("m > 6")); err != nil || len(res) != 2 {
		t.Fatalf("filter on the repaired field: %v %v", res, err)
	}
	_, err = c.Insert(bg, Document{ID: "d", Vector: vec4(3), Metadata: map[string]any{"m": "again"}})
	wantFieldError(t, err, 0, "d", "m", TypeString, TypeNumber)
}

// TestFieldTypesSurviveDeletes: deleting every document with a field keeps
// its type, across reopening.
func TestFieldTypesSurviveDeletes(t *testing.T) {
	d, path := openTest(t, WithEmbedder(nil))
	c := d.mustVecCollection(t, "c", 4)
	if _, err := c.Insert(bg, Document{ID: "a", Vector: vec4(0), Metadata: map[string]any{"f": 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Delete(bg, "a"); err != nil {
		t.Fatal(err)
	}
	for reopen := range 2 {
		_, err := c.Insert(bg, Document{ID: "b", Vector: vec4(1), Metadata: map[string]any{"f": "x"}})
		wantFieldError(t, err, 0, "b", "f", TypeString, TypeNumber)
		if _, err := c.SearchVector(bg, vec4(0), WhereExpr(`f = "x"`)); !errors.Is(err, query.ErrTypeMismatch) {
			t.Fatalf("reopen %d: filter: %v", reopen, err)
		}
		if reopen == 0 {
			d.Close()
			var err error
			if d, err = Open(path, WithEmbedder(nil)); err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if c, err = d.Collection(bg, "c"); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestFieldTypesConcurrent: a writer introduces fields while searches
// type-check filters on them and Info copies the types (run with -race).
// A well-typed filter passes whether or not its field exists yet.
func TestFieldTypesConcurrent(t *testing.T) {
	d, _ := openTest(t, WithEmbedder(nil))
	c := d.mustVecCollection(t, "c", 4)
	done := make(chan error, 3)
	go func() {
		for i := range 60 {
			md := map[string]any{fmt.Sprintf("n%d", i): i}
			if _, err := c.Insert(bg, Document{ID: fmt.Sprint(i), Vector: vec4(i), Metadata: md}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for g := range 2 {
		go func() {
			for i := range 60 {
				_, err := c.SearchVector(bg, vec4(i), TopK(3), WhereExpr(fmt.Sprintf("n%d > 3", (i+g)%60)))
				if err != nil {
					done <- err
					return
				}
				_ = c.Info().Fields
			}
			done <- nil
		}()
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.Info().Fields); n != 60 {
		t.Fatalf("%d fields, want 60", n)
	}
}

// TestFilterTypeCheckEveryOperation: Count, Scan, Export and DeleteWhere
// type-check their filter as searches do, so a mismatch is refused whatever
// documents exist, even in a collection where no document holds the field
// any more.
func TestFilterTypeCheckEveryOperation(t *testing.T) {
	d, _ := openTest(t, WithEmbedder(nil))
	c := d.mustVecCollection(t, "apps", 4)
	if _, err := c.Insert(bg, Document{ID: "a", Vector: vec4(1), Metadata: map[string]any{"kb": 120}}); err != nil {
		t.Fatal(err)
	}
	bad := query.Gt("kb", "100")
	for _, deleted := range []bool{false, true} {
		if deleted {
			if _, err := c.Delete(bg, "a"); err != nil {
				t.Fatal(err)
			}
		}
		for _, op := range []struct {
			name string
			run  func() error
		}{
			{"Count", func() error { _, err := c.Count(bg, bad); return err }},
			{"DeleteWhere", func() error { _, err := c.DeleteWhere(bg, bad); return err }},
			{"Scan", func() error {
				for _, err := range c.Scan(bg, ScanWhere(bad)) {
					if err != nil {
						return err
					}
				}
				return nil
			}},
			{"Export", func() error { _, err := c.Export(bg, io.Discard, ExportWhere(bad)); return err }},
		} {
			err := op.run()
			if !errors.Is(err, ErrInvalidArgument) || !errors.Is(err, query.ErrTypeMismatch) {
				t.Errorf("%s (document deleted: %v): %v, want ErrInvalidArgument and query.ErrTypeMismatch", op.name, deleted, err)
			}
		}
	}
}

// TestFieldTypeRejectionsListed: every document of a batch that gives a
// field another type is reported, not only the first; with SkipInvalid the
// others are stored, and a rejected document's fields record nothing.
func TestFieldTypeRejectionsListed(t *testing.T) {
	d, _ := openTest(t, WithEmbedder(nil))
	c := d.mustVecCollection(t, "apps", 4)
	if _, err := c.Insert(bg, Document{ID: "a", Vector: vec4(1), Metadata: map[string]any{"kb": 1}}); err != nil {
		t.Fatal(err)
	}
	batch := []Document{
		{ID: "b", Vector: vec4(2), Metadata: map[string]any{"kb": "big"}},
		{ID: "c", Vector: vec4(3), Metadata: map[string]any{"kb": 3, "tag": "x"}},
		{ID: "d", Vector: vec4(4), Metadata: map[string]any{"kb": true, "new": 1}},
		{ID: "e", Vector: vec4(5), Metadata: map[string]any{"tag": false}},
	}
	_, err := c.Insert(bg, batch...)
	var be *BatchError
	if !errors.As(err, &be) {
		t.Fatalf("Insert: %v, want a *BatchError", err)
	}
	var got []string
	for _, de := range be.Rejected {
		got = append(got, de.ID)
	}
	if want := []string{"b", "d", "e"}; !slices.Equal(got, want) {
		t.Fatalf("rejected %v, want %v", got, want)
	}
	if n, _ := c.Count(bg, nil); n != 1 {
		t.Fatalf("count %d after a failed batch, want 1", n)
	}
	res, err := c.InsertWith(bg, batch, SkipInvalid())
	if err != nil || len(res.Rejected) != 3 || res.IDs[1] != "c" {
		t.Fatalf("InsertWith: %+v %v", res, err)
	}
	fields := c.Info().Fields
	if _, ok := fields["new"]; ok {
		t.Errorf("field %q of a rejected document was recorded: %v", "new", fields)
	}
	if fields["tag"] != TypeString {
		t.Errorf("field tag is %v, want string", fields["tag"])
	}
}
