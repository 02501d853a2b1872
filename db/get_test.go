package db

import (
	"errors"
	"slices"
	"testing"
)

// TestGetFields checks which fields Get and GetFields return.
func TestGetFields(t *testing.T) {
	emb := newHashEmbedder("hash-a", 64)
	d, _ := openTest(t, WithEmbedder(emb))
	c := mustCollection(t, d, "c")
	doc := Document{ID: "a", Text: "the cat sleeps", Metadata: map[string]any{"n": 1}}
	if _, err := c.Insert(bg, doc); err != nil {
		t.Fatal(err)
	}
	want := emb.vec(doc.Text)
	tests := []struct {
		name                 string
		get                  func() ([]Document, error)
		text, md, vec, isErr bool
	}{
		{"Get", func() ([]Document, error) { return c.Get(bg, "a") }, true, true, false, false},
		{"vector only", func() ([]Document, error) { return c.GetFields(bg, FieldVector, "a") }, false, false, true, false},
		{"all", func() ([]Document, error) { return c.GetFields(bg, FieldText|FieldMetadata|FieldVector, "a") }, true, true, true, false},
		{"IDs only", func() ([]Document, error) { return c.GetFields(bg, 0, "a") }, false, false, false, false},
		{"unknown field", func() ([]Document, error) { return c.GetFields(bg, 1<<7, "a") }, false, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.get()
			if tt.isErr {
				if !errors.Is(err, ErrInvalidArgument) {
					t.Fatalf("got %v, want ErrInvalidArgument", err)
				}
				return
			}
			if err != nil || len(got) != 1 || got[0].ID != "a" {
				t.Fatalf("%v %v", got, err)
			}
			g := got[0]
			if (g.Text == doc.Text) != tt.text || (g.Text != "" && !tt.text) {
				t.Errorf("text %q", g.Text)
			}
			if (g.Metadata != nil) != tt.md {
				t.Errorf("metadata %v", g.Metadata)
			}
			if (g.Vector != nil) != tt.vec || (tt.vec && !slices.Equal(g.Vector, want)) {
				t.Errorf("vector %v", g.Vector)
			}
		})
	}
}

// TestGetEditUpsert is the program of issue #13: get a document, change its
// text, upsert it. The stored vector must be the new text's.
func TestGetEditUpsert(t *testing.T) {
	emb := newHashEmbedder("hash-a", 64)
	d, _ := openTest(t, WithEmbedder(emb))
	c := mustCollection(t, d, "c")
	if _, err := c.Insert(bg, Document{ID: "a", Text: "the cat sleeps on the sofa"}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(bg, "a")
	if err != nil {
		t.Fatal(err)
	}
	got[0].Text = "a rocket launches into orbit"
	if _, err := c.Upsert(bg, got...); err != nil {
		t.Fatal(err)
	}
	stored, err := c.GetFields(bg, FieldVector, "a")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(stored[0].Vector, emb.vec("a rocket launches into orbit")) {
		t.Fatal("the upserted document kept the old text's vector")
	}
	hits, err := c.Search(bg, "rocket orbit", TopK(1))
	if err != nil || len(hits) != 1 || hits[0].ID != "a" || hits[0].Score < 0.5 {
		t.Fatalf("search for the new text: %v %v", hits, err)
	}
}
