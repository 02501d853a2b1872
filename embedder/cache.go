package embedder

import (
	"fmt"
	"os"
	"path/filepath"
)

// EnvCache names the environment variable that overrides vecbolt's cache
// directory (models, ONNX Runtime).
const EnvCache = "VECBOLT_CACHE"

// CacheDir returns vecbolt's cache directory: $VECBOLT_CACHE if set, else
// the OS user cache directory (on Linux $XDG_CACHE_HOME or ~/.cache) joined
// with "vecbolt". scripts/install-onnxruntime.sh resolves the same directory,
// so the runtime it installs is found without configuration. The directory is
// not created.
func CacheDir() (string, error) {
	if d := os.Getenv(EnvCache); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("embedder: no cache directory (set %s): %w", EnvCache, err)
	}
	return filepath.Join(d, "vecbolt"), nil
}

// modelCacheDir is where a registry model's files live inside the cache:
// one directory per model name and revision, so two revisions never mix.
func modelCacheDir(root string, m RegistryModel) string {
	rev := m.Revision
	if rev == "" {
		rev = "main"
	}
	return filepath.Join(root, "models", m.Name, rev)
}
