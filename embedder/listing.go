package embedder

import (
	"os"
	"path/filepath"
)

// ModelInfo is one row of ListModels: what `vecbolt models` prints.
type ModelInfo struct {
	// Name is what --model and Load take.
	Name string `json:"name"`
	// Kind is KindONNX, KindStatic or KindServer.
	Kind string `json:"kind"`
	// Dim is the vector length; 0 for a server, whose model decides.
	Dim int `json:"dim"`
	// Bytes is the download size (the pinned sizes' sum; 0 for a server).
	Bytes int64 `json:"bytes"`
	// Pinned reports that the revision is a commit and every file has a
	// pinned size and SHA-256, so fetching needs nothing else.
	Pinned bool `json:"pinned"`
	// Cached reports that every file is in the cache at its pinned size.
	// The digests are checked when the model loads, not here: hashing
	// hundreds of megabytes to print a list would be slow.
	Cached bool `json:"cached"`
}

// Server model name forms, listed by ListModels: MODEL is the server's name
// for the model (package embedder/remote).
const (
	ServerOpenAIName = "openai:MODEL"
	ServerOllamaName = "ollama:MODEL"
)

// ListModels lists the registered models (sorted by name), whether each is
// in cache c (nil: none is reported cached), and then the two server forms.
func ListModels(c *ModelCache) []ModelInfo {
	var out []ModelInfo
	for _, m := range RegisteredModels() {
		kind := m.Kind
		if kind == "" {
			kind = KindONNX
		}
		out = append(out, ModelInfo{Name: m.Name, Kind: kind, Dim: m.Dim, Bytes: m.DownloadBytes(),
			Pinned: m.Pinned(), Cached: c != nil && c.Cached(m)})
	}
	return append(out,
		ModelInfo{Name: ServerOllamaName, Kind: KindServer},
		ModelInfo{Name: ServerOpenAIName, Kind: KindServer})
}

// Cached reports whether every file of m is in the cache as a regular file
// of its pinned size (any size when the size is not pinned).
func (c *ModelCache) Cached(m RegistryModel) bool {
	if m.validate() != nil {
		return false
	}
	dir := modelCacheDir(c.dir, m)
	for _, f := range m.Files {
		st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil || !st.Mode().IsRegular() || (f.Size != 0 && st.Size() != f.Size) {
			return false
		}
	}
	return true
}
