// Package models opens an embedding model by registered name or by
// directory, whatever its family, the way the vecbolt command's --model
// flag does, so that a program can open a collection with the model the
// command line used.
//
// It is the one package that imports every model family (embedder/static,
// embedder/onnx); an app that knows its model's family imports that
// family's package alone. Invariants:
//   - Load never guesses: a directory is a transformer when it holds
//     model.onnx (or onnx/model.onnx), a static model when it holds
//     model.safetensors, and ErrNotModel otherwise.
//   - A registered model is fetched into the model cache and verified
//     against its pinned digests before anything loads it (see
//     embedder.ModelCache).
package models

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/onnx"
	"github.com/vecbolt/vecbolt/embedder/static"
)

// ErrNotModel is returned (wrapped) for a directory that holds no model
// Load knows: neither model.onnx nor model.safetensors. It is
// embedder.ErrNotModel, which embedder.ModelDir returns for a file.
var ErrNotModel = embedder.ErrNotModel

// Option configures Load.
type Option func(*options)

type options struct {
	cache  *embedder.ModelCache
	onnx   []onnx.Option
	static []static.Option
	// extra are models looked up by name besides the registry's, for
	// tests (the registry itself is fixed at build time).
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

// Load opens an embedding model by registered name or by directory:
//
//   - an existing directory is loaded as it is;
//   - otherwise nameOrDir must be a registered model
//     (embedder.RegisteredModels), which is fetched into the model cache on
//     first use and verified against its pinned digests (see
//     embedder.ModelCache; WithCache chooses the cache, or makes it
//     offline).
//
// A directory holding model.onnx (or onnx/model.onnx) is a transformer run
// on ONNX Runtime (onnx.Load; in a build without cgo this fails with
// onnx.ErrNoRuntime); one holding model.safetensors is a static model in
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
	dir, err := modelDir(ctx, nameOrDir, o)
	if err != nil {
		return nil, err
	}
	switch {
	case isFile(filepath.Join(dir, "model.onnx")) || isFile(filepath.Join(dir, "onnx", "model.onnx")):
		return onnx.Load(ctx, dir, o.onnx...)
	case isFile(filepath.Join(dir, "model.safetensors")):
		return static.Load(dir, o.static...)
	}
	return nil, fmt.Errorf("%w: model directory %s holds neither model.onnx (transformer) nor model.safetensors (static model)", ErrNotModel, dir)
}

// modelDir is embedder.ModelDir, with the test-only models of o.extra.
func modelDir(ctx context.Context, nameOrDir string, o options) (string, error) {
	if _, err := os.Stat(nameOrDir); err != nil && nameOrDir != "" {
		if _, ok := embedder.LookupModel(nameOrDir); !ok {
			for _, x := range o.extra {
				if x.Name != nameOrDir {
					continue
				}
				if err := ctx.Err(); err != nil {
					return "", err
				}
				cache := o.cache
				if cache == nil {
					if cache, err = embedder.NewModelCache(); err != nil {
						return "", err
					}
				}
				return cache.EnsureModel(ctx, x)
			}
		}
	}
	return embedder.ModelDir(ctx, nameOrDir, o.cache)
}

// isFile reports whether path names a regular file (or a link to one).
func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
