package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vecbolt/vecbolt/embedder/models"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/builtin"
)

// This file is the only place that knows how a --model argument becomes an
// embedder or a tokenizer, so that changes in package embedder (or the
// arrival of the built-in model) touch nothing else.

// closer is implemented by embedders that hold native resources (ONNX).
type closer interface{ Close() error }

// tokenizerHolder is implemented by both model families.
type tokenizerHolder interface {
	Tokenizer() *tokenizer.Tokenizer
}

// loadModel opens the embedder named by --model: a directory, or a
// registered model fetched into the cache on first use. The resolution is
// the library's (models.Load), so a program opening the database finds
// the same model from the same argument.
func loadModel(ctx context.Context, nameOrDir string) (embedder.Embedder, error) {
	return models.Load(ctx, nameOrDir)
}

// errNoBuiltin is returned where the built-in model is needed but is not
// available (tests replace builtinModel to exercise that path).
var errNoBuiltin = errors.New("no built-in model; pass --model DIR")

// builtinModel returns the model db.Open uses by default, for commands that
// need the model itself rather than a database (tokenize).
func builtinModel() (embedder.Embedder, error) {
	return builtin.New()
}

// loadTokenizer returns the tokenizer for --model: DIR/tokenizer.json (or a
// tokenizer.json path itself), a registered model's, or the built-in
// model's when nameOrDir is empty.
func loadTokenizer(ctx context.Context, nameOrDir string, builtin func() (embedder.Embedder, error)) (*tokenizer.Tokenizer, error) {
	if nameOrDir == "" {
		m, err := builtin()
		if err != nil {
			return nil, err
		}
		if c, ok := m.(closer); ok {
			defer c.Close()
		}
		th, ok := m.(tokenizerHolder)
		if !ok {
			return nil, fmt.Errorf("model %s does not expose its tokenizer", m.Identity().Name)
		}
		return th.Tokenizer(), nil
	}
	if st, err := os.Stat(nameOrDir); err == nil && !st.IsDir() {
		return tokenizer.Load(nameOrDir)
	}
	dir, err := embedder.ModelDir(ctx, nameOrDir, nil)
	if err != nil {
		return nil, err
	}
	return tokenizer.Load(filepath.Join(dir, "tokenizer.json"))
}
