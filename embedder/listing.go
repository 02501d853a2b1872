package embedder

import (
	"os"
	"path/filepath"
	"slices"
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
	// Layout is, for a transformer offered in several layouts, the one
	// Bytes, Pinned and Cached describe: the layout the listing was asked
	// for (ListModelsFor), which is what loading the model by name
	// downloads. "" for a model with a single layout. Not in the JSON
	// form, whose six fields `vecbolt models --json` keeps stable.
	Layout string `json:"-"`
	// Layouts describes each layout of such a model, so a user can see what
	// the other backend would download.
	Layouts []LayoutInfo `json:"-"`
}

// LayoutInfo is one layout of a registered transformer (see
// RegistryFile.Layout): what fetching it downloads.
type LayoutInfo struct {
	// Layout is LayoutONNX or LayoutSafetensors.
	Layout string `json:"layout"`
	// Bytes, Pinned and Cached are ModelInfo's, for this layout's files
	// (the shared tokenizer included).
	Bytes  int64 `json:"bytes"`
	Pinned bool  `json:"pinned"`
	Cached bool  `json:"cached"`
}

// Server model name forms, listed by ListModels: MODEL is the server's name
// for the model (package embedder/remote).
const (
	ServerOpenAIName = "openai:MODEL"
	ServerOllamaName = "ollama:MODEL"
)

// ListModels lists the registered models (sorted by name), whether each is
// in cache c (nil: none is reported cached), and then the two server forms.
// A transformer offered in several layouts is described in its default one
// (RegistryModel.DefaultLayout); ListModelsFor chooses.
func ListModels(c *ModelCache) []ModelInfo { return ListModelsFor(c, "") }

// ListModelsFor is ListModels with the top-level size, pin and cache status
// of each multi-layout transformer given for layout (LayoutONNX or
// LayoutSafetensors: the layout the caller's backend would download; "" or
// a layout a model does not offer means its default one). Every layout is
// listed in ModelInfo.Layouts as well.
func ListModelsFor(c *ModelCache, layout string) []ModelInfo {
	var out []ModelInfo
	for _, m := range RegisteredModels() {
		kind := m.Kind
		if kind == "" {
			kind = KindONNX
		}
		info := ModelInfo{Name: m.Name, Kind: kind, Dim: m.Dim}
		view := m
		if ls := m.Layouts(); len(ls) > 1 {
			info.Layout = m.DefaultLayout()
			if slices.Contains(ls, layout) {
				info.Layout = layout
			}
			for _, l := range ls {
				v, _ := m.ForLayout(l)
				info.Layouts = append(info.Layouts, LayoutInfo{Layout: l, Bytes: v.DownloadBytes(), Pinned: v.Pinned(),
					Cached: c != nil && c.Cached(v)})
				if l == info.Layout {
					view = v
				}
			}
		}
		info.Bytes, info.Pinned, info.Cached = view.DownloadBytes(), view.Pinned(), c != nil && c.Cached(view)
		out = append(out, info)
	}
	return append(out,
		ModelInfo{Name: ServerOllamaName, Kind: KindServer},
		ModelInfo{Name: ServerOpenAIName, Kind: KindServer})
}

// Cached reports whether every file of m is in the cache as a regular file
// of its pinned size (any size when the size is not pinned). For a model in
// several layouts it reports whether one of them is complete; ask about one
// with m.ForLayout(layout).
func (c *ModelCache) Cached(m RegistryModel) bool {
	if m.validate() != nil {
		return false
	}
	if ls := m.Layouts(); len(ls) > 1 {
		for _, l := range ls {
			if v, err := m.ForLayout(l); err == nil && c.Cached(v) {
				return true
			}
		}
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
