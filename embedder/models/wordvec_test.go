package models

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/vecbolt/vecbolt/embedder/static"
)

// TestLoadWordVectorFile: a path to a regular file is a word-vector file,
// plain or gzip-compressed, and gives the word-vector embedder; a
// malformed one is refused with static.ErrWordVectors.
func TestLoadWordVectorFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	glove := []byte("the 1 0\ncat 0 2\n")
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(glove)
	zw.Close()
	files := map[string][]byte{
		"glove.txt":    glove,
		"glove.txt.gz": zipped.Bytes(),
		"vectors.vec":  []byte("2 2\nthe 1 0 \ncat 0 2 \n"),
		"bad.txt":      []byte("the 1 0\ncat 0\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"glove.txt", "glove.txt.gz", "vectors.vec"} {
		m, err := Load(ctx, filepath.Join(dir, name), WithStatic(static.WithSIF(0)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wv, ok := m.(*static.WordVectors)
		if !ok {
			t.Fatalf("%s: got %T, want *static.WordVectors", name, m)
		}
		if id := wv.Identity(); id.Dim != 2 || id.Pooling != "weighted-mean" {
			t.Errorf("%s: identity %v (the WithStatic options must reach the loader)", name, id)
		}
		v, err := m.EmbedQuery(ctx, "The cat")
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(float64(v[0]*v[0]+v[1]*v[1])-1) > 1e-5 || v[0] <= 0 || v[1] <= 0 {
			t.Errorf("%s: %v", name, v)
		}
	}
	if _, err := Load(ctx, filepath.Join(dir, "bad.txt")); !errors.Is(err, static.ErrWordVectors) {
		t.Errorf("malformed file: %v, want ErrWordVectors", err)
	}
}
