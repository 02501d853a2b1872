package embedder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrNotModel is returned (wrapped) for a directory that holds no model
// Load knows: neither model.onnx nor model.safetensors.
var ErrNotModel = errors.New("embedder: not a model directory")

// LoadOption configures Load and ModelDir.
type LoadOption func(*loadOptions)

type loadOptions struct {
	cache  *ModelCache
	onnx   []ONNXOption
	static []StaticOption
	// extra are models looked up by name besides the registry's, for
	// tests (the registry itself is fixed at build time).
	extra []RegistryModel
}

// WithModelCache fetches registered models through c instead of
// NewModelCache() with its defaults (offline mode, another directory, a
// mirror, progress output).
func WithModelCache(c *ModelCache) LoadOption { return func(o *loadOptions) { o.cache = c } }

// WithONNXOptions passes options to LoadONNX when the model is a
// transformer.
func WithONNXOptions(opts ...ONNXOption) LoadOption {
	return func(o *loadOptions) { o.onnx = append(o.onnx, opts...) }
}

// WithStaticOptions passes options to LoadStatic when the model is a
// static one.
func WithStaticOptions(opts ...StaticOption) LoadOption {
	return func(o *loadOptions) { o.static = append(o.static, opts...) }
}

// Load opens an embedding model by registered name or by directory, the
// way the vecbolt command's --model flag does, so that a program can open
// a collection with the model the command line used:
//
//   - an existing directory is loaded as it is;
//   - otherwise nameOrDir must be a registered model (RegisteredModels),
//     which is fetched into the model cache on first use and verified
//     against its pinned digests (see ModelCache; WithModelCache chooses
//     the cache, or makes it offline).
//
// A directory holding model.onnx (or onnx/model.onnx) is a transformer run
// on ONNX Runtime (LoadONNX; in a build without cgo this fails with
// ErrNoRuntime); one holding model.safetensors is a static model in the
// Model2Vec layout (LoadStatic). Anything else is ErrNotModel.
//
// The built-in model has no name here: package embedder/builtin loads it,
// and package db uses it when no embedder is given. A returned model that
// holds native resources (ONNX) implements io.Closer; close it after the
// databases using it.
func Load(ctx context.Context, nameOrDir string, opts ...LoadOption) (Embedder, error) {
	o := loadOpts(opts)
	dir, err := modelDir(ctx, nameOrDir, o)
	if err != nil {
		return nil, err
	}
	switch {
	case isFile(filepath.Join(dir, "model.onnx")) || isFile(filepath.Join(dir, "onnx", "model.onnx")):
		return LoadONNX(ctx, dir, o.onnx...)
	case isFile(filepath.Join(dir, "model.safetensors")):
		return LoadStatic(dir, o.static...)
	}
	return nil, fmt.Errorf("%w: model directory %s holds neither model.onnx (transformer) nor model.safetensors (static model)", ErrNotModel, dir)
}

// ModelDir resolves nameOrDir as Load does and returns the model's
// directory, fetching a registered model into the cache if needed. It is
// for programs that need the model's files (its tokenizer.json, say)
// rather than the model.
func ModelDir(ctx context.Context, nameOrDir string, opts ...LoadOption) (string, error) {
	return modelDir(ctx, nameOrDir, loadOpts(opts))
}

func loadOpts(opts []LoadOption) loadOptions {
	var o loadOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

func modelDir(ctx context.Context, nameOrDir string, o loadOptions) (string, error) {
	if nameOrDir == "" {
		return "", fmt.Errorf("%w: no model named (the built-in model is package builtin's; registered: %s)", ErrUnknownModel, modelNames())
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if st, err := os.Stat(nameOrDir); err == nil {
		if !st.IsDir() {
			return "", fmt.Errorf("%w: %s is a file; give the model's directory", ErrNotModel, nameOrDir)
		}
		return nameOrDir, nil
	}
	m, ok := LookupModel(nameOrDir)
	for _, x := range o.extra {
		if !ok && x.Name == nameOrDir {
			m, ok = x, true
		}
	}
	if !ok {
		return "", fmt.Errorf("%w %q: not a directory and not a registered model (registered: %s)", ErrUnknownModel, nameOrDir, modelNames())
	}
	cache := o.cache
	if cache == nil {
		var err error
		if cache, err = NewModelCache(); err != nil {
			return "", err
		}
	}
	return cache.EnsureModel(ctx, m)
}

// isFile reports whether path names a regular file (or a link to one).
func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
