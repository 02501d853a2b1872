//go:build !cgo

package embedder

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestLoadONNXWithoutCgo(t *testing.T) {
	_, err := LoadONNX(context.Background(), tinyDir)
	if !errors.Is(err, ErrNoRuntime) || !strings.Contains(err.Error(), "cgo") {
		t.Fatalf("got %v, want ErrNoRuntime explaining cgo", err)
	}
	// Configuration errors are still reported as such.
	if _, err := LoadONNX(context.Background(), tinyDir, WithONNXPooling("max")); !errors.Is(err, ErrModelConfig) {
		t.Fatalf("bad pooling: %v", err)
	}
}
