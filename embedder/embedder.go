// Package embedder holds what every embedding model family shares: the
// Embedder interface, model Identity, the registry of downloadable models
// (RegisteredModels, LookupModel), the verified download cache (ModelCache)
// and ModelDir, which resolves a registered name to a cached directory. The
// ModelConfig schema (vecbolt.json) lives here too, because registry
// entries carry one and the cache writes it.
//
// Each family lives in a subpackage of its own, with its own options, so an
// app imports only what it uses:
//   - embedder/tokenizer: the pure-Go WordPiece tokenizer;
//   - embedder/safetensors: the safetensors reader and writer;
//   - embedder/static: static models (a lookup table of token vectors, pure
//     Go, the family of the built-in default);
//   - embedder/onnx: transformer models run on ONNX Runtime (cgo);
//   - embedder/bert: BERT transformer models (sentence-transformers
//     safetensors layout) run in pure Go;
//   - embedder/models: Load by registered name or directory, whatever the
//     family (what the vecbolt command's --model flag does);
//   - embedder/builtin: the built-in model.
//
// This package imports none of them (they import it for Identity and
// Embedder), so depending on it costs no family's code.
//
// Invariants of every Embedder:
//   - It is safe for concurrent use by many goroutines.
//   - Every vector it returns has length Identity().Dim and contains no NaN
//     or Inf. Normalized models return unit-length vectors.
//   - The Identity of a model changes whenever its weights, tokenizer or
//     pooling change, so a database can refuse to mix vectors from two models.
//
// The cache never trusts an unverified download: every file is checked
// against a pinned SHA-256 (see download.go).
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
