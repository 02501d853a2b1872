//go:build !cgo

package onnx

import (
	"context"
	"fmt"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"
)

// ONNX Runtime is a C library, reachable only through cgo. A binary built
// with CGO_ENABLED=0 (or on a machine without a C compiler, where Go turns
// cgo off by itself) still builds the whole package, static models included;
// Load then says why transformer models are unavailable instead of the
// package failing to compile.

// noCgoHint explains ErrNoRuntime in builds without cgo.
const noCgoHint = "this program was built without cgo (CGO_ENABLED=0 or no C compiler); " +
	"ONNX models need cgo: rebuild with CGO_ENABLED=1 and a C compiler (Debian: apt-get install -y gcc)"

// Model is a transformer embedding model run on ONNX Runtime. In builds
// without cgo no value of it can be created: Load always fails.
type Model struct {
	cfg embedder.ModelConfig
	tok *tokenizer.Tokenizer
	id  embedder.Identity
}

// Load validates the model directory and options, then fails with
// ErrNoRuntime: builds without cgo cannot load ONNX Runtime.
func Load(ctx context.Context, dir string, opts ...Option) (*Model, error) {
	if _, err := prepareONNX(dir, opts); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w: %s", ErrNoRuntime, noCgoHint)
}

// FindRuntime fails with ErrNoRuntime in builds without cgo.
func FindRuntime(libPath string) (string, error) {
	return "", fmt.Errorf("%w: %s", ErrNoRuntime, noCgoHint)
}

// embedder.Identity describes the model.
func (e *Model) Identity() embedder.Identity { return e.id }

// Config returns the model's effective configuration.
func (e *Model) Config() embedder.ModelConfig { return e.cfg }

// Tokenizer returns the model's tokenizer.
func (e *Model) Tokenizer() *tokenizer.Tokenizer { return e.tok }

// LibraryPath returns "" in builds without cgo.
func (e *Model) LibraryPath() string { return "" }

// Stats returns zero counters in builds without cgo.
func (e *Model) Stats() Stats { return Stats{} }

// Close does nothing in builds without cgo.
func (e *Model) Close() error { return nil }

// EmbedQuery fails in builds without cgo.
func (e *Model) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	return nil, fmt.Errorf("%w: %s", ErrNoRuntime, noCgoHint)
}

// EmbedDocuments fails in builds without cgo.
func (e *Model) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	return nil, fmt.Errorf("%w: %s", ErrNoRuntime, noCgoHint)
}
