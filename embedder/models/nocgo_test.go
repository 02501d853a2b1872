//go:build !cgo

package embedder

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

// TestLoadWithoutCgo checks that a build without cgo loads static models
// by Load and explains why a transformer cannot be loaded.
func TestLoadWithoutCgo(t *testing.T) {
	ctx := context.Background()
	if _, err := Load(ctx, tinyDir); !errors.Is(err, ErrNoRuntime) {
		t.Fatalf("onnx directory: got %v, want ErrNoRuntime", err)
	}
	dir := filepath.Join(t.TempDir(), "static")
	writeStaticModelDir(t, dir, staticModelFiles{tensors: []Tensor{F32Tensor("embeddings", []int{len(staticVocab), staticDim}, staticRows())}})
	e, err := Load(ctx, dir)
	if err != nil || e.Identity().Dim != staticDim {
		t.Fatalf("static directory: %v %v", e, err)
	}
}
