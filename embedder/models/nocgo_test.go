//go:build !cgo

package models

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/vecbolt/vecbolt/embedder/onnx"
)

// TestLoadWithoutCgo checks that a build without cgo loads static models
// by Load and explains why a transformer cannot be loaded.
func TestLoadWithoutCgo(t *testing.T) {
	ctx := context.Background()
	if _, err := Load(ctx, tinyDir); !errors.Is(err, onnx.ErrNoRuntime) {
		t.Fatalf("onnx directory: got %v, want onnx.ErrNoRuntime", err)
	}
	dir := filepath.Join(t.TempDir(), "static")
	writeStaticModelDir(t, dir)
	e, err := Load(ctx, dir)
	if err != nil || e.Identity().Dim != staticDim {
		t.Fatalf("static directory: %v %v", e, err)
	}
}
