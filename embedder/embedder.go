// Package embedder turns text into vectors for vecbolt.
//
// Two families implement Embedder: static models (a lookup table of token
// vectors, pure Go, the built-in default) and transformer models run on ONNX
// Runtime. Both share the pure-Go WordPiece tokenizer in tokenizer.go, which
// reproduces Hugging Face tokenizers' ids exactly.
//
// Invariants:
//   - An Embedder is safe for concurrent use by many goroutines.
//   - Every vector it returns has length Identity().Dim and contains no NaN
//     or Inf. Normalized models return unit-length vectors.
//   - The Identity of a model changes whenever its weights, tokenizer or
//     pooling change, so a database can refuse to mix vectors from two models.
//
// The tokenizer is written here rather than taken from a library because
// github.com/daulet/tokenizers binds the Rust HF library, which cannot be
// built without the crates registry, and the pure-Go
// github.com/gomlx/go-huggingface/tokenizers gives ids that differ from HF's
// on control characters (soft hyphen, BOM, zero-width space), whitespace
// beyond Zs (U+2028) and Unicode version. This one reproduces HF's ids
// exactly (see tokenizer.go).
//
// ONNX models need cgo (github.com/yalue/onnxruntime_go) and the ONNX
// Runtime shared library (scripts/install-onnxruntime.sh). Without cgo the
// package still builds, static models work, and LoadONNX returns
// ErrNoRuntime saying why. ONNX Runtime can be loaded once per process, so
// the library path is process-global state (onnx_runtime.go).
package embedder

import (
	"context"
	"errors"
	"fmt"
)

// Identity names a model precisely enough that vectors from two embedders
// with equal identities are interchangeable.
type Identity struct {
	// Name is the human-readable model name, e.g. "all-MiniLM-L6-v2".
	Name string
	// Hash is a hex SHA-256 over the model's content (weights, vocabulary,
	// configuration).
	Hash string
	// Dim is the length of the vectors the model returns.
	Dim int
	// Pooling is how token vectors are combined: "mean", "cls" or
	// "weighted-mean".
	Pooling string
}

// String formats the identity for error messages.
func (id Identity) String() string {
	h := id.Hash
	if len(h) > 12 {
		h = h[:12]
	}
	return fmt.Sprintf("%s (sha256 %s, dim %d, %s pooling)", id.Name, h, id.Dim, id.Pooling)
}

// Equal reports whether two identities describe the same model.
func (id Identity) Equal(o Identity) bool {
	return id.Name == o.Name && id.Hash == o.Hash && id.Dim == o.Dim && id.Pooling == o.Pooling
}

// Embedder turns text into vectors.
//
// Documents and queries are embedded separately because some models (bge,
// e5) expect different prefixes on each side.
type Embedder interface {
	// Identity describes the model.
	Identity() Identity
	// EmbedDocuments embeds texts to be stored, one vector per text, in order.
	EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error)
	// EmbedQuery embeds a search query.
	EmbedQuery(ctx context.Context, text string) ([]float32, error)
}

// ErrEmptyText is returned for a text that is empty or all whitespace: it
// carries no meaning to embed.
var ErrEmptyText = errors.New("embedder: empty text")
