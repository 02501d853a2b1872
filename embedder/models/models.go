// Package models opens an embedding model by registered name or by
// directory, whatever its family, the way the vecbolt command's --model
// flag does, so that a program can open a collection with the model the
// command line used.
//
// It is the one package that imports every model family (embedder/static,
// embedder/onnx, embedder/bert, embedder/remote); an app that knows its
// model's family imports that family's package alone. Invariants:
//   - Load never guesses: a directory is a transformer when it holds
//     model.onnx (or onnx/model.onnx) or a BERT config.json with
//     model.safetensors (the sentence-transformers layout), a static model
//     when it holds model.safetensors without a BERT config.json, and
//     ErrNotModel otherwise; a regular file is a word-vector file, whose
//     format static.ReadWordVectors detects from the content (or refuses
//     with static.ErrWordVectors).
//   - A transformer directory that both backends can run goes to ONNX
//     Runtime when the library is installed and to the pure-Go encoder
//     otherwise (WithBackend overrides), so a build without cgo runs it.
//   - A registered model is fetched into the model cache and verified
//     against its pinned digests before anything loads it (see
//     embedder.ModelCache). A transformer registered in both layouts is
//     fetched in the one its backend reads (BackendAuto: ONNX Runtime's
//     when the library is installed, else the pure-Go encoder's
//     config.json and model.safetensors), never both, so a build without
//     cgo runs all-MiniLM-L6-v2 by name without downloading the ONNX file.
//   - "openai:MODEL" and "ollama:MODEL" name a model behind an embedding
//     server (remote.Open). Load reads no environment variable itself: the
//     caller passes WithRemote(remote.WithEnv(os.Getenv)) to let
//     OPENAI_BASE_URL, OPENAI_API_KEY and OLLAMA_HOST configure it, as the
//     vecbolt command does.
package models

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/bert"
	"github.com/vecbolt/vecbolt/embedder/onnx"
	"github.com/vecbolt/vecbolt/embedder/remote"
	"github.com/vecbolt/vecbolt/embedder/static"
)

// ErrNotModel is returned (wrapped) for a directory that holds no model
// Load knows: neither model.onnx nor model.safetensors. It is
// embedder.ErrNotModel, which embedder.ModelDir returns for a file.
var ErrNotModel = embedder.ErrNotModel

// Option configures Load.
type Option func(*options)

type options struct {
	cache   *embedder.ModelCache
	onnx    []onnx.Option
	static  []static.Option
	remote  []remote.Option
	bert    []bert.Option
	backend Backend
	// extra are models looked up by name besides the registry's
	// (WithRegistry).
	extra []embedder.RegistryModel
}

// WithCache fetches registered models through c instead of
// embedder.NewModelCache() with its defaults (offline mode, another
// directory, a mirror, progress output).
func WithCache(c *embedder.ModelCache) Option { return func(o *options) { o.cache = c } }

// WithONNX passes options to onnx.Load when the model is a transformer.
func WithONNX(opts ...onnx.Option) Option {
	return func(o *options) { o.onnx = append(o.onnx, opts...) }
}

// WithStatic passes options to static.Load when the model is a static one.
func WithStatic(opts ...static.Option) Option {
	return func(o *options) { o.static = append(o.static, opts...) }
}

// WithRemote passes options to remote.Open when the name is a server's
// model (openai:MODEL, ollama:MODEL): remote.WithEnv(os.Getenv) to follow
// the environment, or the server, key, batch size and retries directly.
func WithRemote(opts ...remote.Option) Option {
	return func(o *options) { o.remote = append(o.remote, opts...) }
}

// WithRegistry makes Load accept these model descriptions by name, besides
// embedder.RegisteredModels (whose table is fixed at build time): a model
// of your own, or one served by a private mirror (with WithCache's
// embedder.WithBaseURL). A built-in registry name keeps its built-in entry,
// so an entry here cannot replace a pinned one. Each entry is fetched and
// verified like a registered model: a file without SHA256 is refused unless
// the cache has its digest (embedder.WithFileSHA256).
func WithRegistry(ms ...embedder.RegistryModel) Option {
	return func(o *options) { o.extra = append(o.extra, ms...) }
}

// WithBERT passes options to bert.Load when a transformer runs on the
// pure-Go encoder.
func WithBERT(opts ...bert.Option) Option {
	return func(o *options) { o.bert = append(o.bert, opts...) }
}

// Backend chooses what runs a transformer directory.
type Backend string

const (
	// BackendAuto (the default) runs a transformer on ONNX Runtime when
	// the directory has model.onnx and the library is installed, else on
	// the pure-Go encoder when the directory has the sentence-transformers
	// weights (config.json and model.safetensors), else on ONNX Runtime
	// (which then reports onnx.ErrNoRuntime). A registered name is fetched
	// in the layout of the backend so chosen: ONNX Runtime's when the
	// library is installed, else the pure-Go encoder's.
	BackendAuto Backend = ""
	// BackendONNX always uses ONNX Runtime (model.onnx).
	BackendONNX Backend = "onnx"
	// BackendGo always uses the pure-Go encoder (model.safetensors).
	BackendGo Backend = "go"
)

// WithBackend chooses the backend for transformer directories.
func WithBackend(b Backend) Option { return func(o *options) { o.backend = b } }

// Load opens an embedding model by registered name, directory or file, or
// on an embedding server:
//
//   - "openai:MODEL" and "ollama:MODEL" are a server's model (remote.Open
//     with WithRemote's options), unless a file or directory of that name
//     exists;
//   - an existing regular file is a word-vector file (word2vec text or
//     binary, GloVe, fastText .vec, each possibly gzip-compressed; the
//     format is detected from the content), opened with
//     static.LoadWordVectors and the WithStatic options;
//   - an existing directory is loaded as it is;
//   - otherwise nameOrDir must be a registered model
//     (embedder.RegisteredModels, or one given to WithRegistry), which is
//     fetched into the model cache on first use and verified against its
//     pinned digests (see embedder.ModelCache; WithCache chooses the
//     cache, or makes it offline). A transformer registered in both
//     layouts is fetched in the chosen backend's only (see BackendAuto).
//
// A directory holding model.onnx (or onnx/model.onnx) is a transformer run
// on ONNX Runtime (onnx.Load); one holding a BERT config.json and
// model.safetensors is a transformer run by the pure-Go encoder
// (bert.Load); when it holds both, the backend is chosen as BackendAuto
// says, so a build without cgo (or without the ONNX Runtime library) still
// runs it. A directory holding only model.safetensors is a static model in
// the Model2Vec layout (static.Load). Anything else is ErrNotModel.
//
// The built-in model has no name here: package embedder/builtin loads it,
// and package db uses it when no embedder is given. A returned model that
// holds native resources (ONNX) implements io.Closer; close it after the
// databases using it.
func Load(ctx context.Context, nameOrDir string, opts ...Option) (embedder.Embedder, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if remote.IsRemoteName(nameOrDir) {
		if _, err := os.Stat(nameOrDir); err != nil {
			return remote.Open(ctx, nameOrDir, o.remote...)
		}
	}
	if isFile(nameOrDir) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return static.LoadWordVectors(nameOrDir, o.static...)
	}
	dir, err := modelDir(ctx, nameOrDir, o)
	if err != nil {
		return nil, err
	}
	hasONNX := isFile(filepath.Join(dir, "model.onnx")) || isFile(filepath.Join(dir, "onnx", "model.onnx"))
	hasBERT := bert.IsModelDir(dir)
	switch o.backend {
	case BackendAuto:
	case BackendONNX:
		if !hasONNX {
			return nil, fmt.Errorf("%w: the ONNX backend was asked for, but model directory %s has no model.onnx nor onnx/model.onnx", ErrNotModel, dir)
		}
		return onnx.Load(ctx, dir, o.onnx...)
	case BackendGo:
		if !hasBERT {
			return nil, fmt.Errorf("%w: the pure-Go backend was asked for, but model directory %s has no BERT config.json with %s", ErrNotModel, dir, bert.WeightsFile)
		}
		return bert.Load(ctx, dir, o.bert...)
	default:
		return nil, fmt.Errorf("models: unknown backend %q (want %q, %q or empty for automatic)", o.backend, BackendONNX, BackendGo)
	}
	switch {
	case hasONNX && (!hasBERT || onnxInstalled()):
		return onnx.Load(ctx, dir, o.onnx...)
	case hasBERT:
		return bert.Load(ctx, dir, o.bert...)
	case isFile(filepath.Join(dir, "model.safetensors")):
		return static.Load(dir, o.static...)
	}
	return nil, fmt.Errorf("%w: model directory %s holds neither model.onnx (transformer), config.json with model.safetensors (transformer) nor model.safetensors (static model)", ErrNotModel, dir)
}

// onnxInstalled reports whether ONNX Runtime can be loaded: a cgo build
// with the library found where onnx.FindRuntime looks.
func onnxInstalled() bool {
	_, err := onnx.FindRuntime("")
	return err == nil
}

// modelDir resolves nameOrDir as embedder.ModelDir does, with the models
// of WithRegistry, fetching a registered transformer in the layout of the
// backend Load will run (registryLayout), so only that backend's files are
// downloaded.
func modelDir(ctx context.Context, nameOrDir string, o options) (string, error) {
	if nameOrDir == "" {
		return embedder.ModelDir(ctx, nameOrDir, o.cache)
	}
	if _, err := os.Stat(nameOrDir); err == nil {
		return embedder.ModelDir(ctx, nameOrDir, o.cache)
	}
	m, ok := embedder.LookupModel(nameOrDir)
	if !ok {
		for _, x := range o.extra {
			if x.Name == nameOrDir {
				m, ok = x, true
				break
			}
		}
	}
	if !ok {
		return embedder.ModelDir(ctx, nameOrDir, o.cache) // reports the unknown name
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	layout, err := registryLayout(m, o.backend)
	if err != nil {
		return "", err
	}
	if m, err = m.ForLayout(layout); err != nil {
		return "", err
	}
	cache := o.cache
	if cache == nil {
		if cache, err = embedder.NewModelCache(); err != nil {
			return "", err
		}
	}
	return cache.EnsureModel(ctx, m)
}

// registryLayout chooses which layout of a registered model to fetch: the
// one the backend runs (BackendAuto: ONNX Runtime's when the library is
// installed, else the pure-Go encoder's when the model is offered in it).
// A model with one layout (or none named) is fetched whole: "".
func registryLayout(m embedder.RegistryModel, b Backend) (string, error) {
	ls := m.Layouts()
	if len(ls) == 0 {
		return "", nil
	}
	want := ""
	switch b {
	case BackendONNX:
		want = embedder.LayoutONNX
	case BackendGo:
		want = embedder.LayoutSafetensors
	case BackendAuto:
		want = autoLayout(ls, onnxInstalled())
	default:
		return "", fmt.Errorf("models: unknown backend %q (want %q, %q or empty for automatic)", b, BackendONNX, BackendGo)
	}
	if !slices.Contains(ls, want) {
		return "", fmt.Errorf("%w: model %s is not published for the %s backend (it offers %q)", ErrNotModel, m.Name, backendOf(want), ls)
	}
	return want, nil
}

// autoLayout is BackendAuto's choice among the layouts a registered model
// offers: ONNX Runtime's when it is installed (or when the model offers
// nothing else, so that loading reports onnx.ErrNoRuntime), else the
// pure-Go encoder's.
func autoLayout(ls []string, ortInstalled bool) string {
	hasONNX, hasST := slices.Contains(ls, embedder.LayoutONNX), slices.Contains(ls, embedder.LayoutSafetensors)
	switch {
	case hasONNX && (ortInstalled || !hasST):
		return embedder.LayoutONNX
	case hasST:
		return embedder.LayoutSafetensors
	}
	return ls[0]
}

// backendOf names the backend that runs a layout, for messages.
func backendOf(layout string) Backend {
	if layout == embedder.LayoutSafetensors {
		return BackendGo
	}
	return BackendONNX
}

// List is embedder.ListModelsFor for the layout BackendAuto would download
// in this process (ONNX Runtime's when the library is installed, else the
// pure-Go encoder's), so the sizes it reports are what `--model NAME`
// fetches here; every layout's size is listed as well.
func List(c *embedder.ModelCache) []embedder.ModelInfo {
	return embedder.ListModelsFor(c, autoLayout([]string{embedder.LayoutONNX, embedder.LayoutSafetensors}, onnxInstalled()))
}

// Dir resolves nameOrDir to a model directory as Load would, fetching a
// registered model in the layout Load's backend needs (see WithBackend),
// without loading it: for programs that need the model's files (its
// tokenizer.json, say). An existing directory is returned as it is.
func Dir(ctx context.Context, nameOrDir string, opts ...Option) (string, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return modelDir(ctx, nameOrDir, o)
}

// isFile reports whether path names a regular file (or a link to one).
func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
