package db

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/query"
)

// scanDocs makes n vector documents with IDs k000..k(n-1), "n" = i and
// "even" = i%2 == 0, inserted in a shuffled order so that ID order is not
// insertion (label) order.
func scanCollection(t *testing.T, n int) (*DB, *Collection) {
	t.Helper()
	d, _ := openTest(t, WithEmbedder(nil))
	c := mustCollection(t, d, "c", WithDimension(2), WithFlatIndex())
	docs := make([]Document, n)
	for i := range docs {
		docs[i] = Document{ID: fmt.Sprintf("k%03d", i), Text: fmt.Sprint("text ", i), Metadata: map[string]any{"n": i, "even": i%2 == 0}, Vector: []float32{1, float32(i)}}
	}
	for i := range docs {
		j := (i * 7) % n
		docs[i], docs[j] = docs[j], docs[i]
	}
	for start := 0; start < n; start += 500 {
		if _, err := c.Insert(bg, docs[start:min(start+500, n)]...); err != nil {
			t.Fatal(err)
		}
	}
	return d, c
}

func collect(t *testing.T, c *Collection, opts ...ScanOption) ([]Document, error) {
	t.Helper()
	var out []Document
	for d, err := range c.Scan(bg, opts...) {
		if err != nil {
			return out, err
		}
		out = append(out, d)
	}
	return out, nil
}

func ids(docs []Document) string {
	var b strings.Builder
	for i, d := range docs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(d.ID)
	}
	return b.String()
}

func idRange(lo, hi, step int) string {
	var s []string
	for i := lo; i < hi; i += step {
		s = append(s, fmt.Sprintf("k%03d", i))
	}
	return strings.Join(s, " ")
}

func TestScan(t *testing.T) {
	_, c := scanCollection(t, 600) // more than two pages
	cases := []struct {
		name string
		opts []ScanOption
		want string // IDs, space-separated
		err  error
	}{
		{"all", nil, idRange(0, 600, 1), nil},
		{"after", []ScanOption{ScanAfter("k597")}, "k598 k599", nil},
		{"after a missing ID", []ScanOption{ScanAfter("k5975")}, "k598 k599", nil},
		{"after the last", []ScanOption{ScanAfter("k599")}, "", nil},
		{"limit", []ScanOption{ScanLimit(3)}, "k000 k001 k002", nil},
		{"limit over a page", []ScanOption{ScanLimit(300), ScanAfter("k299")}, idRange(300, 600, 1), nil},
		{"where", []ScanOption{ScanWhere(query.Lt("n", 10)), ScanAfter("k003")}, "k004 k005 k006 k007 k008 k009", nil},
		{"where expr across pages", []ScanOption{ScanWhereExpr("even = true AND n >= 280")}, idRange(280, 600, 2), nil},
		{"where matches none", []ScanOption{ScanWhereExpr("n > 1000")}, "", nil},
		{"where and limit", []ScanOption{ScanWhereExpr("even = false"), ScanLimit(2), ScanAfter("k100")}, "k101 k103", nil},
		{"negative limit", []ScanOption{ScanLimit(-1)}, "", ErrInvalidArgument},
		{"bad expression", []ScanOption{ScanWhereExpr("n >")}, "", ErrInvalidArgument},
		{"both filters", []ScanOption{ScanWhereExpr("n > 1"), ScanWhere(query.Eq("n", 1))}, "", ErrInvalidArgument},
	}
	for _, tc := range cases {
		got, err := collect(t, c, tc.opts...)
		if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.err)
			continue
		}
		if ids(got) != tc.want {
			t.Errorf("%s: got %d documents %.80s…, want %.80s…", tc.name, len(got), ids(got), tc.want)
		}
	}
}

// TestScanFields: the documents carry what ScanFields asks for, with the
// default of text and metadata.
func TestScanFields(t *testing.T) {
	_, c := scanCollection(t, 3)
	cases := []struct {
		name   string
		opts   []ScanOption
		text   bool
		md     bool
		vector bool
	}{
		{"default", nil, true, true, false},
		{"none", []ScanOption{ScanFields()}, false, false, false},
		{"none with a filter", []ScanOption{ScanFields(), ScanWhereExpr("n >= 0")}, false, false, false},
		{"vector", []ScanOption{ScanFields(FieldVector)}, false, false, true},
		{"all", []ScanOption{ScanFields(FieldText, FieldMetadata, FieldVector)}, true, true, true},
	}
	for _, tc := range cases {
		got, err := collect(t, c, tc.opts...)
		if err != nil || len(got) != 3 {
			t.Fatalf("%s: %d documents, %v", tc.name, len(got), err)
		}
		d := got[1]
		if (d.Text == "text 1") != tc.text || (d.Metadata["n"] == int64(1)) != tc.md || (len(d.Vector) == 2 && d.Vector[1] == 1) != tc.vector {
			t.Errorf("%s: %+v", tc.name, d)
		}
	}
}

// TestScanWritesDuringLoop: the loop body may write to the collection (no
// read transaction is held across it, so this cannot deadlock on bbolt's
// remapping), and the scan goes on in ID order from where it was: a
// document deleted ahead of the scan is not seen, one inserted ahead is,
// one inserted behind is not.
func TestScanWritesDuringLoop(t *testing.T) {
	_, c := scanCollection(t, 600)
	var seen []string
	for d, err := range c.Scan(bg, ScanFields()) {
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, d.ID)
		if d.ID == "k010" {
			if n, err := c.Delete(bg, "k500", "k005"); err != nil || n != 2 {
				t.Fatalf("delete: %d %v", n, err)
			}
			if _, err := c.Insert(bg, Document{ID: "k5500", Vector: []float32{1, 1}}, Document{ID: "k0050", Vector: []float32{1, 1}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !slices.IsSorted(seen) {
		t.Fatal("scan not in ID order")
	}
	has := func(id string) bool { return slices.Contains(seen, id) }
	if has("k500") || !has("k005") || !has("k5500") || has("k0050") || len(seen) != 600 {
		t.Fatalf("k500 %v k005 %v k5500 %v k0050 %v, %d seen", has("k500"), has("k005"), has("k5500"), has("k0050"), len(seen))
	}
}

// TestScanStops: breaking out of the loop stops the scan, a closed DB and
// a done context end it with their error.
func TestScanStops(t *testing.T) {
	d, c := scanCollection(t, 300)
	n := 0
	for range c.Scan(bg) {
		if n++; n == 5 {
			break
		}
	}
	if n != 5 {
		t.Fatalf("%d documents after break", n)
	}
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	n = 0
	var last error
	for _, err := range c.Scan(ctx) {
		if err != nil {
			last = err
			break
		}
		if n++; n == 3 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) || n != 3 {
		t.Fatalf("cancelled scan: %d documents, %v", n, last)
	}
	d.Close()
	if _, err := collect(t, c); !errors.Is(err, ErrClosed) {
		t.Fatalf("scan of a closed DB: %v", err)
	}
}

func TestCountWhere(t *testing.T) {
	_, c := scanCollection(t, 100)
	cases := []struct {
		f    query.Filter
		want int
		err  error
	}{
		{nil, 100, nil},
		{query.Eq("even", true), 50, nil},
		{query.And(query.Gte("n", 10), query.Lt("n", 20)), 10, nil},
		{query.Eq("missing", 1), 0, nil},
		{query.Eq("", 1), 0, ErrInvalidArgument},
	}
	for _, tc := range cases {
		got, err := c.Count(bg, tc.f)
		if got != tc.want || !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
			t.Errorf("Count(%v) = %d, %v; want %d, %v", tc.f, got, err, tc.want, tc.err)
		}
	}
}

func TestDeleteWhere(t *testing.T) {
	cases := []struct {
		name string
		f    query.Filter
		want int
		left int
		err  error
	}{
		{"some", query.Lt("n", 30), 30, 70, nil},
		{"none", query.Gt("n", 1000), 0, 100, nil},
		{"all by filter", query.Exists("n"), 100, 0, nil},
		{"nil filter is refused", nil, 0, 100, ErrInvalidArgument},
		{"invalid filter", query.Eq("", 1), 0, 100, ErrInvalidArgument},
	}
	for _, tc := range cases {
		d, c := scanCollection(t, 100)
		got, err := c.DeleteWhere(bg, tc.f)
		if got != tc.want || !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
			t.Errorf("%s: DeleteWhere = %d, %v; want %d, %v", tc.name, got, err, tc.want, tc.err)
			continue
		}
		// Gone from the file, the live set and the index.
		if n, _ := c.Count(bg, nil); n != tc.left {
			t.Errorf("%s: %d left, want %d", tc.name, n, tc.left)
		}
		if tc.f != nil && tc.err == nil {
			if n, _ := c.Count(bg, tc.f); n != 0 {
				t.Errorf("%s: %d still match", tc.name, n)
			}
			res, err := c.SearchVector(bg, []float32{1, 5}, TopK(100))
			if err != nil || len(res) != tc.left {
				t.Errorf("%s: search finds %d, %v", tc.name, len(res), err)
			}
			docs, _ := collect(t, c, ScanFields())
			if len(docs) != tc.left {
				t.Errorf("%s: scan finds %d", tc.name, len(docs))
			}
		}
		d.Close()
	}
}
