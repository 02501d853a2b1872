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
	// Kind is KindONNX or KindStatic ("" means KindONNX, for entries
	// written before static models could be registered).
	Kind string
	// Repo is the Hugging Face repository ("sentence-transformers/all-MiniLM-L6-v2").
	Repo string
	// Revision is the repository revision (branch, tag or commit) to fetch;
	// "" means "main".
	Revision string
	// Files lists what to fetch; the ONNX network and tokenizer.json at least.
	Files []RegistryFile
	// Config is written to the cached directory as vecbolt.json, so the
	// directory is self-describing and loads like any local model. Static
	// models carry their own config.json and leave it zero.
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

// Pinned reports whether m can be fetched and verified with nothing else
// supplied: its revision is a commit (40 hex digits, not a branch) and
// every file has a pinned SHA-256 and size.
func (m RegistryModel) Pinned() bool {
	if !commitRE.MatchString(m.Revision) {
		return false
	}
	for _, f := range m.Files {
		if f.SHA256 == "" || f.Size == 0 {
			return false
		}
	}
	return true
}

// DownloadBytes is the total pinned size of m's files; files without a
// pinned size count 0 (so it is exact only when Pinned).
func (m RegistryModel) DownloadBytes() int64 {
	var n int64
	for _, f := range m.Files {
		n += f.Size
	}
	return n
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
	switch m.Kind {
	case "", KindONNX:
		return m.Config.Validate("registry entry " + m.Name)
	case KindStatic:
		for _, need := range []string{"model.safetensors", "tokenizer.json", "config.json"} {
			if !slices.ContainsFunc(m.Files, func(f RegistryFile) bool { return f.Path == need }) {
				return fmt.Errorf("embedder: static model %s does not list %s (a Model2Vec model needs model.safetensors, tokenizer.json and config.json)", m.Name, need)
			}
		}
		return nil
	}
	return fmt.Errorf("embedder: model %s: kind %q (want %s or %s)", m.Name, m.Kind, KindONNX, KindStatic)
}

var (
	modelNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	sha256RE    = regexp.MustCompile(`^[0-9a-f]{64}$`)
	commitRE    = regexp.MustCompile(`^[0-9a-f]{40}$`)
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

// Model kinds, as ListModels and `vecbolt models` report them.
const (
	// KindONNX is a transformer run on ONNX Runtime (needs cgo).
	KindONNX = "onnx"
	// KindStatic is a static model (Model2Vec layout: model.safetensors,
	// tokenizer.json, config.json), pure Go.
	KindStatic = "static"
	// KindServer is a model behind an embedding server (package
	// embedder/remote): nothing is downloaded.
	KindServer = "server"
)

// registry returns the built-in model table. It is built on each call so the
// package holds no mutable state; callers get their own copy.
//
// Pins. A revision is a commit of the model's Hugging Face repository, and
// each file's size and SHA-256 are the git-LFS object's (for LFS files the
// oid is the SHA-256 of the content). vecbolt's build machines cannot reach
// the hub, so no digest here was computed by the project: each was taken
// from at least two independent public projects that pin the same file in
// their code, and they agree. The sources are noted beside each entry: the
// language of each project and the id under which the public code index
// vecbolt's authors searched stores its file (that index does not name the
// repository of an exact-string match). A file that two sources did
// not confirm is left unpinned (SHA256 ""), with a size bound instead
// (MaxSize); fetching it needs the caller's digest (WithFileSHA256, or
// $VECBOLT_MODEL_SHA256 for the command).
//
// ONNX exports. The pinned onnx/model.onnx files are the optimum exports the
// model authors (or sentence-transformers) published: inputs input_ids,
// attention_mask, token_type_ids and one output last_hidden_state
// [batch, sequence, hidden], which onnx.Load pools itself (mean or CLS, per
// Config). None is a pooled sentence_embedding export; a directory holding
// one is refused by onnx.Load's signature check (onnx.ErrModelSignature)
// unless onnx.WithOutput names that output.
func registry() []RegistryModel {
	// Bounds for files not pinned yet, about twice the largest file they
	// admit: these models have at most 33.4 M parameters, 134 MB as
	// float32 in one ONNX file; their WordPiece tokenizer.json files
	// (30,522 tokens) are under 1 MB.
	const (
		maxModelFile     = 256 << 20
		maxTokenizerFile = 16 << 20
	)
	onnx := func(name, repo, rev string, cfg ModelConfig, model, tok RegistryFile) RegistryModel {
		cfg.Name = name
		cfg.Model = "onnx/model.onnx"
		model.Path, tok.Path = cfg.Model, "tokenizer.json"
		if model.Size == 0 {
			model.MaxSize = maxModelFile
		}
		if tok.Size == 0 {
			tok.MaxSize = maxTokenizerFile
		}
		return RegistryModel{Name: name, Kind: KindONNX, Repo: repo, Revision: rev, Dim: 384, Config: cfg,
			Files: []RegistryFile{model, tok}}
	}
	static := func(name, repo, rev string, dim int, weights, tok, cfg RegistryFile) RegistryModel {
		weights.Path, tok.Path, cfg.Path = "model.safetensors", "tokenizer.json", "config.json"
		return RegistryModel{Name: name, Kind: KindStatic, Repo: repo, Revision: rev, Dim: dim,
			Files: []RegistryFile{weights, tok, cfg}}
	}
	return []RegistryModel{
		// Revision, onnx/model.onnx and tokenizer.json: index files
		// 68964920377 (a .NET plan that read the hub's paths-info at this
		// revision: size and LFS oid), 71372652262 (Python, revision, size
		// and digest of onnx/model.onnx), 69235083298 (Python, revision
		// with both digests), 56214955554 (Rust, revision and tokenizer
		// digest), 52655886817 (Rust setup, both digests), 61572427478 (Go
		// catalogue, model digest), 61509699071 and 66248183545 (shell
		// and C++, tokenizer size and digest).
		onnx("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "1110a243fdf4706b3f48f1d95db1a4f5529b4d41",
			ModelConfig{Pooling: PoolingMean, Normalize: true, MaxSeqLength: 256},
			RegistryFile{Size: 90405214, SHA256: "6fd5d72fe4589f189f8ebc006442dbb529bb7ce38f8082112682524616046452"},
			RegistryFile{Size: 466247, SHA256: "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"}),
		// Revision and both files: index files 68964920377 (paths-info at
		// this revision: model size and oid), 70230631795 (TypeScript,
		// revision, model size and digest), 54617409744 (TypeScript, both
		// sizes and digests), 61526784042 (shell, both sizes and digests),
		// 69235083298 and 71486294158 (revision with both digests).
		onnx("bge-small-en-v1.5", "BAAI/bge-small-en-v1.5", "5c38ec7c405ec4b44b94cc5a9bb96e735b38267a",
			ModelConfig{Pooling: PoolingCLS, Normalize: true, MaxSeqLength: 512, QueryPrefix: bgeQueryPrefix},
			RegistryFile{Size: 133093490, SHA256: "828e1496d7fabb79cfa4dcd84fa38625c0d3d21da474a00f08db0f559940cf35"},
			RegistryFile{Size: 711396, SHA256: "d241a60d5e8f04cc1b2b3e9ef7a4921b27bf526d9f6050ab90f9267a1f9e5c66"}),
		// Not pinned: no public source found giving a digest of either
		// file, nor whether the repository's ONNX export is onnx/model.onnx
		// or model.onnx at its root (Vespa's examples fetch the latter).
		onnx("e5-small-v2", "intfloat/e5-small-v2", "main",
			ModelConfig{Pooling: PoolingMean, Normalize: true, MaxSeqLength: 512, QueryPrefix: "query: ", DocumentPrefix: "passage: "},
			RegistryFile{}, RegistryFile{}),
		// onnx/model.onnx digest: index files 61572427478 (Go catalogue)
		// and 62788777316 (another Go project's ModelSHA256), which agree.
		// Its size, the tokenizer and a commit holding the export were not
		// found in two sources: the revision stays "main" (a changed file
		// then fails verification rather than loading) and the tokenizer is
		// unpinned.
		onnx("gte-small", "thenlper/gte-small", "main",
			ModelConfig{Pooling: PoolingMean, Normalize: true, MaxSeqLength: 512},
			RegistryFile{SHA256: "0b01312b59bec0a2558a626f2937be4cbe4bb16d1511560153f598cec488f1f8"},
			RegistryFile{}),
		// Revision and all three files: index files 61523015839
		// (TypeScript, sizes and digests), 55468613142 (Python, revision,
		// sizes and digests), 68332472310 (Python, revision and digests),
		// 55187014080 (Go, revision and digests), 69639581327 (Rust,
		// revision and digests), 66579232489 (shell, digests).
		static("potion-base-8M", "minishlab/potion-base-8M", "bf8b056651a2c21b8d2565580b8569da283cab23", 256,
			RegistryFile{Size: 30236760, SHA256: "f65d0f325faadc1e121c319e2faa41170d3fa07d8c89abd48ca5358d9a223de2"},
			RegistryFile{Size: 683666, SHA256: "e67e803f624fb4d67dea1c730d06e1067e1b14d830e2c2202569e3ef0f70bb50"},
			RegistryFile{Size: 202, SHA256: "2a6ac0e9aaa356a68a5688070db78fc3a464fefe85d2f06a1905ce3718687553"}),
		// Revision and all three files: index files 61523015839
		// (TypeScript, sizes and digests), 71483551175 and 58711697275
		// (Rust, sizes and digests), 68391491249 (Rust, sizes and digests,
		// checked against the hub's tree API at this revision), 69427441019
		// (Swift, revision, weights and tokenizer sizes and digests),
		// 69260009738 (TypeScript, revision and digests), 70658497943
		// (Nix, revision and digests).
		static("potion-retrieval-32M", "minishlab/potion-retrieval-32M", "6fc8051fab2a1e0ee76689cf08c853792ac285e7", 512,
			RegistryFile{Size: 129210456, SHA256: "07609e5bd33aad37900b3fd62f4ec96f6daec88ca4d46b9d8b928bfababf6ea0"},
			RegistryFile{Size: 1493150, SHA256: "7d75cbc54318138807c401b0f0c9721117c628b39de8e8e0edb6cb17e0ee7d18"},
			RegistryFile{Size: 202, SHA256: "63c00d90824c832c04ec1d02b6a983fb90489bf049f29fbff15ba481b8a432ee"}),
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
