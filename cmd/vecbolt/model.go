package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

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
	Tokenizer() *embedder.Tokenizer
}

// resolveModelDir turns --model into a directory: an existing directory is
// used as is; otherwise the argument must be a registered model name,
// fetched into the model cache on first use.
func resolveModelDir(ctx context.Context, nameOrDir string) (string, error) {
	if st, err := os.Stat(nameOrDir); err == nil {
		if !st.IsDir() {
			return "", fmt.Errorf("model %s is a file; give the model's directory", nameOrDir)
		}
		return nameOrDir, nil
	}
	if _, ok := embedder.LookupModel(nameOrDir); !ok {
		return "", fmt.Errorf("%w %q: not a directory and not a registered model", embedder.ErrUnknownModel, nameOrDir)
	}
	cache, err := embedder.NewModelCache()
	if err != nil {
		return "", err
	}
	return cache.Ensure(ctx, nameOrDir)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// loadModel opens the embedder named by --model. A directory holding
// model.onnx (or onnx/model.onnx) is a transformer run on ONNX Runtime; one
// holding model.safetensors is a static (Model2Vec layout) model.
func loadModel(ctx context.Context, nameOrDir string) (embedder.Embedder, error) {
	dir, err := resolveModelDir(ctx, nameOrDir)
	if err != nil {
		return nil, err
	}
	switch {
	case exists(filepath.Join(dir, "model.onnx")) || exists(filepath.Join(dir, "onnx", "model.onnx")):
		return embedder.LoadONNX(ctx, dir)
	case exists(filepath.Join(dir, "model.safetensors")):
		return embedder.LoadStatic(dir)
	}
	return nil, fmt.Errorf("model directory %s holds neither model.onnx (transformer) nor model.safetensors (static model)", dir)
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
func loadTokenizer(ctx context.Context, nameOrDir string, builtin func() (embedder.Embedder, error)) (*embedder.Tokenizer, error) {
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
		return embedder.LoadTokenizer(nameOrDir)
	}
	dir, err := resolveModelDir(ctx, nameOrDir)
	if err != nil {
		return nil, err
	}
	return embedder.LoadTokenizer(filepath.Join(dir, "tokenizer.json"))
}
