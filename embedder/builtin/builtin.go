// Package builtin ships vecbolt's default embedding model inside the module,
// so search by meaning works with no network and no native library.
//
// The model is a static embedding model (see embedder.Static) trained by
// the project itself from English text in Debian's archive with
// tools/trainmodel; model/MANIFEST.json records the corpus (package,
// version, SHA-256), every training parameter and the SHA-256 of each model
// file. The files are embedded with go:embed in the Model2Vec layout:
//
//   - model.safetensors: "embeddings" I8 [vocab, 256] with "scales" F32
//     [vocab] (a row is embeddings[i] × scales[i]; the row's norm carries the
//     token's pooling weight), optionally "weights" F32 [vocab];
//   - tokenizer.json: an uncased BERT-style WordPiece vocabulary;
//   - config.json: Model2Vec fields plus "model_name".
//
// This package imports embedder; embedder never imports it, so programs that
// bring their own model do not carry the ~10 MB of weights.
package builtin

import (
	"embed"
	"fmt"
	"io/fs"

	"github.com/vecbolt/vecbolt/embedder"
)

// Name is the built-in model's name, as Identity().Name reports it.
const Name = "vecbolt-static-en-v1"

// Dim is the length of the built-in model's vectors.
const Dim = 256

//go:embed model/model.safetensors model/tokenizer.json model/config.json
var modelFiles embed.FS

// New parses the embedded model. Each call parses afresh (tens of
// milliseconds) and returns an independent, immutable model; callers that
// embed often should keep one and share it, which is safe across
// goroutines.
func New(opts ...embedder.StaticOption) (*embedder.Static, error) {
	sub, err := fs.Sub(modelFiles, "model")
	if err != nil {
		return nil, fmt.Errorf("builtin: %w", err)
	}
	m, err := embedder.LoadStaticFS(sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("builtin: loading embedded model: %w", err)
	}
	return m, nil
}
