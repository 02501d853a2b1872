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

// loadModel opens the embedder named by --model: a directory, or a
// registered model fetched into the cache on first use. The resolution is
// the library's (embedder.Load), so a program opening the database finds
// the same model from the same argument.
func loadModel(ctx context.Context, nameOrDir string) (embedder.Embedder, error) {
	return embedder.Load(ctx, nameOrDir)
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
	dir, err := embedder.ModelDir(ctx, nameOrDir)
	if err != nil {
		return nil, err
	}
	return embedder.LoadTokenizer(filepath.Join(dir, "tokenizer.json"))
}

// model returns the embedder for a command that embeds without a database
// (embed, similarity): --model's, else the test's, else the built-in
// model. The returned func releases it.
func (e *env) model(nameOrDir string) (embedder.Embedder, func(), error) {
	var m embedder.Embedder
	var err error
	switch {
	case nameOrDir != "":
		m, err = loadModel(e.ctx, nameOrDir)
	case e.embSet:
		return e.emb, func() {}, nil
	default:
		m, err = e.builtin()
	}
	if err != nil {
		return nil, nil, err
	}
	done := func() {}
	if c, ok := m.(closer); ok {
		done = func() { c.Close() }
	}
	return m, done, nil
}
