package embedder

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// RegistryFile is one file of a registered model, as stored in its hub
// repository.
type RegistryFile struct {
	// Path inside the repository, e.g. "onnx/model.onnx"; the cache keeps
	// the same relative layout.
	Path string
	// SHA256 is the pinned hex digest, or "" when the project could not
	// verify one. An unpinned file is only downloaded when the caller
	// supplies the digest (WithFileSHA256): vecbolt never trusts an
	// unverified download. $VECBOLT_MODEL_SHA256 supplies it too.
	SHA256 string
	// Size is the file's length in bytes, or 0 when it is not pinned. A
	// download whose server announces another length is refused before
	// anything is written, and one that sends more is cut off there; an
	// unpinned size is bounded by MaxSize instead.
	Size int64
	// MaxSize bounds the file's length when Size is not pinned, 0 for no
	// bound of its own; the cache's WithMaxDownloadSize applies as well. It
	// need not be exact, only safe: it limits how much a wrong or hostile
	// server can write to disk before the digest check refuses the file.
	MaxSize int64
}

// RegistryModel describes a named model that vecbolt can download.
type RegistryModel struct {
	// Name is how users refer to the model ("all-MiniLM-L6-v2").
	Name string
	// Repo is the Hugging Face repository ("sentence-transformers/all-MiniLM-L6-v2").
	Repo string
	// Revision is the repository revision (branch, tag or commit) to fetch;
	// "" means "main".
	Revision string
	// Files lists what to fetch; the ONNX network and tokenizer.json at least.
	Files []RegistryFile
	// Config is written to the cached directory as vecbolt.json, so the
	// directory is self-describing and loads like any local model.
	Config ModelConfig
	// Dim is the vector length the model produces.
	Dim int
}

// Unpinned reports the files of m without a pinned digest.
func (m RegistryModel) Unpinned() []string {
	var out []string
	for _, f := range m.Files {
		if f.SHA256 == "" {
			out = append(out, f.Path)
		}
	}
	return out
}

// validate checks a model description before anything is fetched with it,
// because its paths become file names in the cache.
func (m RegistryModel) validate() error {
	if !modelNameRE.MatchString(m.Name) {
		return fmt.Errorf("embedder: model name %q must be letters, digits, '.', '_' or '-'", m.Name)
	}
	if m.Repo == "" || strings.Contains(m.Repo, "..") {
		return fmt.Errorf("embedder: model %s: invalid repository %q", m.Name, m.Repo)
	}
	if strings.ContainsAny(m.Revision, "/\\") || strings.Contains(m.Revision, "..") {
		return fmt.Errorf("embedder: model %s: invalid revision %q", m.Name, m.Revision)
	}
	if len(m.Files) == 0 {
		return fmt.Errorf("embedder: model %s lists no files", m.Name)
	}
	for _, f := range m.Files {
		if !safeRelPath(f.Path) || f.Path == ConfigFileName {
			return fmt.Errorf("embedder: model %s: file path %q must be relative, inside the model directory, and not %s", m.Name, f.Path, ConfigFileName)
		}
		if f.Size < 0 || f.MaxSize < 0 || (f.MaxSize > 0 && f.Size > f.MaxSize) {
			return fmt.Errorf("embedder: model %s: %s: size %d or bound %d is negative, or the size exceeds the bound", m.Name, f.Path, f.Size, f.MaxSize)
		}
		if f.SHA256 != "" && !sha256RE.MatchString(f.SHA256) {
			return fmt.Errorf("embedder: model %s: %s: SHA-256 %q is not 64 lowercase hex digits", m.Name, f.Path, f.SHA256)
		}
	}
	return m.Config.Validate("registry entry " + m.Name)
}

var (
	modelNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	sha256RE    = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// safeRelPath accepts slash-separated relative paths without "." or ".."
// elements, so a registry entry cannot write outside its cache directory.
func safeRelPath(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") {
		return false
	}
	for _, el := range strings.Split(p, "/") {
		if el == "" || el == "." || el == ".." || strings.HasSuffix(el, partSuffix) {
			return false
		}
	}
	return true
}

// bgeQueryPrefix is the instruction bge-*-en-v1.5 expects before queries
// (documents take none), from the model card.
const bgeQueryPrefix = "Represent this sentence for searching relevant passages: "

// registry returns the built-in model table. It is built on each call so the
// package holds no mutable state; callers get their own copy.
//
// No SHA-256 is pinned yet: the build machines cannot reach the hub to
// compute them, and vecbolt does not pin digests it has not verified. Until
// they are pinned, fetching one of these requires the digest of each file at
// run time: WithFileSHA256, or $VECBOLT_MODEL_SHA256 for the CLI. Exact
// sizes are not pinned either, for the same reason; each file has a safe
// bound instead (MaxSize), so that a wrong server cannot fill the disk.
func registry() []RegistryModel {
	// Bounds, about twice the largest file they admit: these models have
	// at most 33.4 M parameters, 134 MB as float32 in one ONNX file; their
	// WordPiece tokenizer.json files (30,522 tokens) are under 1 MB.
	const (
		maxModelFile     = 256 << 20
		maxTokenizerFile = 16 << 20
	)
	st := func(name, repo string, cfg ModelConfig) RegistryModel {
		cfg.Name = name
		cfg.Model = "onnx/model.onnx"
		return RegistryModel{
			Name: name, Repo: repo, Revision: "main", Dim: 384, Config: cfg,
			Files: []RegistryFile{
				{Path: "onnx/model.onnx", MaxSize: maxModelFile},
				{Path: "tokenizer.json", MaxSize: maxTokenizerFile},
			},
		}
	}
	return []RegistryModel{
		st("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2",
			ModelConfig{Pooling: PoolingMean, Normalize: true, MaxSeqLength: 256}),
		st("bge-small-en-v1.5", "BAAI/bge-small-en-v1.5",
			ModelConfig{Pooling: PoolingCLS, Normalize: true, MaxSeqLength: 512, QueryPrefix: bgeQueryPrefix}),
		st("e5-small-v2", "intfloat/e5-small-v2",
			ModelConfig{Pooling: PoolingMean, Normalize: true, MaxSeqLength: 512, QueryPrefix: "query: ", DocumentPrefix: "passage: "}),
		st("gte-small", "thenlper/gte-small",
			ModelConfig{Pooling: PoolingMean, Normalize: true, MaxSeqLength: 512}),
	}
}

// RegisteredModels lists the named models vecbolt knows, sorted by name.
func RegisteredModels() []RegistryModel {
	r := registry()
	sort.Slice(r, func(i, j int) bool { return r[i].Name < r[j].Name })
	return r
}

// LookupModel returns the registered model with this name.
func LookupModel(name string) (RegistryModel, bool) {
	i := slices.IndexFunc(registry(), func(m RegistryModel) bool { return m.Name == name })
	if i < 0 {
		return RegistryModel{}, false
	}
	return registry()[i], true
}

// modelNames is for error messages.
func modelNames() string {
	var names []string
	for _, m := range RegisteredModels() {
		names = append(names, m.Name)
	}
	return strings.Join(names, ", ")
}
