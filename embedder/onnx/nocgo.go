//go:build !cgo

package embedder

import (
	"context"
	"fmt"
)

// ONNX Runtime is a C library, reachable only through cgo. A binary built
// with CGO_ENABLED=0 (or on a machine without a C compiler, where Go turns
// cgo off by itself) still builds the whole package, static models included;
// LoadONNX then says why transformer models are unavailable instead of the
// package failing to compile.

// noCgoHint explains ErrNoRuntime in builds without cgo.
const noCgoHint = "this program was built without cgo (CGO_ENABLED=0 or no C compiler); " +
	"ONNX models need cgo: rebuild with CGO_ENABLED=1 and a C compiler (Debian: apt-get install -y gcc)"

// ONNX is a transformer embedding model run on ONNX Runtime. In builds
// without cgo no value of it can be created: LoadONNX always fails.
type ONNX struct {
	cfg ModelConfig
	tok *Tokenizer
	id  Identity
}

// LoadONNX validates the model directory and options, then fails with
// ErrNoRuntime: builds without cgo cannot load ONNX Runtime.
func LoadONNX(ctx context.Context, dir string, opts ...ONNXOption) (*ONNX, error) {
	if _, err := prepareONNX(dir, opts); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w: %s", ErrNoRuntime, noCgoHint)
}

// FindONNXRuntime fails with ErrNoRuntime in builds without cgo.
func FindONNXRuntime(libPath string) (string, error) {
	return "", fmt.Errorf("%w: %s", ErrNoRuntime, noCgoHint)
}

// Identity describes the model.
func (e *ONNX) Identity() Identity { return e.id }

// Config returns the model's effective configuration.
func (e *ONNX) Config() ModelConfig { return e.cfg }

// Tokenizer returns the model's tokenizer.
func (e *ONNX) Tokenizer() *Tokenizer { return e.tok }

// LibraryPath returns "" in builds without cgo.
func (e *ONNX) LibraryPath() string { return "" }

// Stats returns zero counters in builds without cgo.
func (e *ONNX) Stats() ONNXStats { return ONNXStats{} }

// Close does nothing in builds without cgo.
func (e *ONNX) Close() error { return nil }

// EmbedQuery fails in builds without cgo.
func (e *ONNX) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	return nil, fmt.Errorf("%w: %s", ErrNoRuntime, noCgoHint)
}

// EmbedDocuments fails in builds without cgo.
func (e *ONNX) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	return nil, fmt.Errorf("%w: %s", ErrNoRuntime, noCgoHint)
}
