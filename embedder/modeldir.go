package embedder

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// ErrNotModel is returned (wrapped) for a path that holds no model: a file
// where a model directory was wanted, or (from embedder/models.Load) a
// directory with no model file a family knows.
var ErrNotModel = errors.New("embedder: not a model directory")

// ModelDir resolves nameOrDir to a model directory, as the vecbolt
// command's --model flag does: an existing directory is returned as it
// is; otherwise nameOrDir must be a registered model (RegisteredModels),
// fetched through cache into the model cache if needed (a nil cache means
// NewModelCache() with its defaults). It is for programs that need the
// model's files (its tokenizer.json, say); embedder/models.Load opens the
// model itself. A transformer registered in several layouts is fetched in
// its default one (EnsureModel); embedder/models.Dir fetches the layout of
// the backend models.Load would run instead.
func ModelDir(ctx context.Context, nameOrDir string, cache *ModelCache) (string, error) {
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
	if !ok {
		return "", fmt.Errorf("%w %q: not a directory and not a registered model (registered: %s)", ErrUnknownModel, nameOrDir, modelNames())
	}
	if cache == nil {
		var err error
		if cache, err = NewModelCache(); err != nil {
			return "", err
		}
	}
	return cache.EnsureModel(ctx, m)
}
