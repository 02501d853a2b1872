package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vecbolt/vecbolt/embedder/models"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/builtin"
	"github.com/vecbolt/vecbolt/embedder/remote"
)

// This file is the only place that knows how a --model argument becomes an
// embedder or a tokenizer, so that changes in package embedder (or the
// arrival of the built-in model) touch nothing else.

// modelUsage is the usage of every command's --model flag that embeds
// text, so that they all say what it takes; modelArg is its synopsis.
const (
	modelUsage = "embedding model `MODEL`: a model directory, a word-vector file, a registered name (vecbolt models), openai:NAME or ollama:NAME (default: the built-in model)"
	modelArg   = "[--model MODEL]"
)

// closer is implemented by embedders that hold native resources (ONNX).
type closer interface{ Close() error }

// tokenizerHolder is implemented by both model families.
type tokenizerHolder interface {
	Tokenizer() *tokenizer.Tokenizer
}

// loadModel opens the embedder named by --model: a directory, a
// registered model fetched into the cache on first use, or an embedding
// server's model (openai:MODEL, ollama:MODEL) found through the
// environment (OPENAI_BASE_URL, OPENAI_API_KEY, OLLAMA_HOST), which is
// read here, at the command's edge. The resolution is the library's
// (models.Load), so a program opening the database finds the same model
// from the same argument.
func loadModel(e *env, nameOrDir string) (embedder.Embedder, error) {
	opts := append([]models.Option{models.WithRemote(remote.WithEnv(os.Getenv))}, e.modelOpts...)
	return models.Load(e.ctx, nameOrDir, opts...)
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
func loadTokenizer(ctx context.Context, nameOrDir string, builtin func() (embedder.Embedder, error), opts ...models.Option) (*tokenizer.Tokenizer, error) {
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
		if !looksLikeJSON(nameOrDir) {
			// models.Load takes such a file as word vectors, whose model
			// splits text into whole words itself: there is no subword
			// tokenizer to show, and a JSON syntax error would not say so.
			return nil, fmt.Errorf("%s is not a tokenizer.json (it does not start with a JSON object): a word-vector file has no tokenizer, its model looks up whole words; `vecbolt embed --model FILE` shows its vectors", nameOrDir)
		}
		return tokenizer.Load(nameOrDir)
	}
	if remote.IsRemoteName(nameOrDir) {
		return nil, fmt.Errorf("%s is a server's model: its tokenizer runs on the server, vecbolt has no copy of it", nameOrDir)
	}
	// models.Dir fetches a registered transformer in the layout --model
	// would load (the pure-Go encoder's without ONNX Runtime), so asking
	// for its tokenizer downloads nothing that loading it would not.
	dir, err := models.Dir(ctx, nameOrDir, opts...)
	if err != nil {
		return nil, err
	}
	return tokenizer.Load(filepath.Join(dir, "tokenizer.json"))
}

// looksLikeJSON reports whether the file's first non-blank byte opens a
// JSON object, as every tokenizer.json does; a word-vector file (text,
// binary or gzip) never starts so.
func looksLikeJSON(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return true // let tokenizer.Load report the error
	}
	defer f.Close()
	b := make([]byte, 512)
	n, _ := io.ReadFull(f, b)
	trimmed := bytes.TrimLeft(b[:n], " \t\r\n\ufeff")
	return len(trimmed) > 0 && trimmed[0] == '{'
}

// model returns the embedder for a command that embeds without a database
// (embed, similarity): --model's, else the test's, else the built-in
// model. The returned func releases it.
func (e *env) model(nameOrDir string) (embedder.Embedder, func(), error) {
	var m embedder.Embedder
	var err error
	switch {
	case nameOrDir != "":
		m, err = loadModel(e, nameOrDir)
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
