package db

import (
	"path/filepath"
	"testing"
)

// The end-to-end path with nothing mocked: db.Open's default (built-in)
// model, bbolt storage, the HNSW index, a filter, a reopen.
func TestEndToEndBuiltinModel(t *testing.T) {
	if !hasBuiltinModel {
		t.Skip("built with vecbolt_nomodel")
	}
	path := filepath.Join(t.TempDir(), "e2e.vecbolt")
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.CreateCollection(bg, "notes")
	if err != nil {
		t.Fatal(err)
	}
	if info := c.Info(); info.Model.Name == "" || info.Dimension == 0 || info.Index != IndexHNSW {
		t.Fatalf("collection info %+v", info)
	}
	docs := []Document{
		{ID: "ai", Text: "Artificial intelligence is amazing", Metadata: map[string]any{"topic": "tech"}},
		{ID: "banana", Text: "Bananas are yellow", Metadata: map[string]any{"topic": "food"}},
		{ID: "db", Text: "PostgreSQL is a relational database server", Metadata: map[string]any{"topic": "tech"}},
		{ID: "sea", Text: "The ship sailed across the stormy ocean", Metadata: map[string]any{"topic": "travel"}},
	}
	if _, err := c.Insert(bg, docs...); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ query, want, where string }{
		{"I love machine learning", "ai", ""},
		{"tropical fruit", "banana", ""},
		{"SQL storage engine", "db", ""},
		{"boats and waves", "sea", ""},
		{"boats and waves", "", `topic = "tech" AND topic != "food"`},
	}
	check := func(c *Collection) {
		t.Helper()
		for _, tt := range tests {
			opts := []SearchOption{TopK(2)}
			if tt.where != "" {
				opts = append(opts, WhereExpr(tt.where))
			}
			res, err := c.Search(bg, tt.query, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 2 || (tt.want != "" && res[0].ID != tt.want) {
				t.Errorf("%q where %q: got %+v, want %s first", tt.query, tt.where, res, tt.want)
			}
			for _, r := range res {
				if tt.where != "" && r.Metadata["topic"] != "tech" {
					t.Errorf("filter let through %+v", r)
				}
			}
		}
	}
	check(c)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err = d.Collection(bg, "notes")
	if err != nil {
		t.Fatal(err)
	}
	check(c)
}
