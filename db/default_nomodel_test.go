//go:build vecbolt_nomodel

package db

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestNoModelDefault runs with -tags vecbolt_nomodel: the default is no
// model, and vector collections work.
func TestNoModelDefault(t *testing.T) {
	d, err := Open(filepath.Join(t.TempDir(), "t.vecbolt"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Embedder(); !errors.Is(err, ErrNoEmbedder) {
		t.Fatalf("Embedder: %v, want ErrNoEmbedder", err)
	}
	if _, err := d.CreateCollection(bg, "texts"); !errors.Is(err, ErrNoEmbedder) {
		t.Fatalf("text collection: %v, want ErrNoEmbedder", err)
	}
	c := mustCollection(t, d, "v", WithDimension(2))
	if _, err := c.Insert(bg, Document{ID: "a", Vector: []float32{1, 2}}); err != nil {
		t.Fatal(err)
	}
}
