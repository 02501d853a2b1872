//go:build !cgo

package onnx

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/embedder"
)

func TestLoadWithoutCgo(t *testing.T) {
	_, err := Load(context.Background(), tinyDir)
	if !errors.Is(err, ErrNoRuntime) || !strings.Contains(err.Error(), "cgo") {
		t.Fatalf("got %v, want ErrNoRuntime explaining cgo", err)
	}
	// Configuration errors are still reported as such.
	if _, err := Load(context.Background(), tinyDir, WithPooling("max")); !errors.Is(err, embedder.ErrModelConfig) {
		t.Fatalf("bad pooling: %v", err)
	}
}
