package embedder

import (
	"errors"
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
	// Layout names the backend that needs the file (LayoutONNX or
	// LayoutSafetensors), or is "" for a file every layout needs (the
	// tokenizer). A transformer published in both layouts lists both, and
	// the cache fetches one layout (RegistryModel.ForLayout), so a build
	// without cgo never downloads the ONNX network and one with ONNX
	// Runtime never downloads the safetensors weights.
	Layout string
}

// File layouts of a transformer (RegistryFile.Layout).
const (
	// LayoutONNX is the ONNX export (model.onnx), run by ONNX Runtime
	// (package embedder/onnx, which needs cgo).
	LayoutONNX = "onnx"
	// LayoutSafetensors is the sentence-transformers layout (config.json
	// and model.safetensors), run by the pure-Go encoder (embedder/bert).
	LayoutSafetensors = "safetensors"
)

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

// Layouts lists the layouts m's files offer (RegistryFile.Layout), in the
// order of their first file; empty when no file names one (a static model,
// or a transformer in one layout), which means every file is needed.
func (m RegistryModel) Layouts() []string {
	var out []string
	for _, f := range m.Files {
		if f.Layout != "" && !slices.Contains(out, f.Layout) {
			out = append(out, f.Layout)
		}
	}
	return out
}

// DefaultLayout is the layout EnsureModel fetches when none is chosen: the
// first one listed (LayoutONNX for the built-in transformers, as before
// they offered a second), or "" when m offers none.
func (m RegistryModel) DefaultLayout() string {
	if ls := m.Layouts(); len(ls) > 0 {
		return ls[0]
	}
	return ""
}

// ForLayout returns m restricted to one layout: the files of that layout
// and those every layout needs. The result describes exactly what a
// backend downloads, so its Pinned, DownloadBytes and the cache's Cached
// and EnsureModel speak of that layout alone. layout "" returns m as it is;
// a layout m does not offer is an error naming the ones it does.
func (m RegistryModel) ForLayout(layout string) (RegistryModel, error) {
	if layout == "" {
		return m, nil
	}
	if !slices.Contains(m.Layouts(), layout) {
		return RegistryModel{}, fmt.Errorf("%w: model %s has no %q layout (it offers %q)", ErrNoLayout, m.Name, layout, m.Layouts())
	}
	out := m
	out.Files = nil
	for _, f := range m.Files {
		if f.Layout == "" || f.Layout == layout {
			out.Files = append(out.Files, f)
		}
	}
	return out, nil
}

// ErrNoLayout is returned (wrapped) when a backend's layout is asked of a
// registered model that is not published in it.
var ErrNoLayout = errors.New("embedder: layout not offered")

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
		switch f.Layout {
		case "", LayoutONNX, LayoutSafetensors:
		default:
			return fmt.Errorf("embedder: model %s: %s: layout %q (want %q, %q or empty for a file every layout needs)", m.Name, f.Path, f.Layout, LayoutONNX, LayoutSafetensors)
		}
		if f.Layout != "" && m.Kind == KindStatic {
			return fmt.Errorf("embedder: static model %s: %s: a static model has one layout, its files name none", m.Name, f.Path)
		}
		if f.SHA256 != "" && !sha256RE.MatchString(f.SHA256) {
			return fmt.Errorf("embedder: model %s: %s: SHA-256 %q is not 64 lowercase hex digits", m.Name, f.Path, f.SHA256)
		}
	}
	switch m.Kind {
	case "", KindONNX:
		for _, l := range m.Layouts() {
			v, _ := m.ForLayout(l)
			// The pure-Go encoder reads these at the directory's root
			// (embedder/bert); ONNX Runtime needs some .onnx network.
			has := func(ok func(string) bool) bool {
				return slices.ContainsFunc(v.Files, func(f RegistryFile) bool { return ok(f.Path) })
			}
			switch {
			case l == LayoutONNX && !has(func(p string) bool { return strings.HasSuffix(p, ".onnx") }):
				return fmt.Errorf("embedder: model %s: its %s layout lists no .onnx file", m.Name, l)
			case l == LayoutSafetensors && !(has(func(p string) bool { return p == "model.safetensors" }) && has(func(p string) bool { return p == "config.json" })):
				return fmt.Errorf("embedder: model %s: its %s layout must list model.safetensors and config.json", m.Name, l)
			}
		}
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
	// KindONNX is a transformer: run on ONNX Runtime (needs cgo) from its
	// ONNX layout, or on the pure-Go encoder from its safetensors layout
	// when the entry lists one (RegistryFile.Layout). The name predates the
	// second backend and stays, as `vecbolt models --json` reports it.
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
// repository of an exact-string match), or the address of a hub page (a
// commit's LFS pointer) or of a repository that copies the model's files.
// A file that two sources did not confirm is left unpinned (SHA256 ""),
// with a size bound instead (MaxSize); fetching it needs the caller's
// digest (WithFileSHA256, or $VECBOLT_MODEL_SHA256 for the command).
//
// ONNX exports. The pinned onnx/model.onnx files are the optimum exports the
// model authors (or sentence-transformers) published: inputs input_ids,
// attention_mask, token_type_ids and one output last_hidden_state
// [batch, sequence, hidden], which onnx.Load pools itself (mean or CLS, per
// Config). None is a pooled sentence_embedding export; a directory holding
// one is refused by onnx.Load's signature check (onnx.ErrModelSignature)
// unless onnx.WithOutput names that output.
func registry() []RegistryModel {
	// Bounds for a file whose size is not pinned (every built-in file's is
	// today; an entry added before its sizes are confirmed gets these),
	// about twice the largest file they admit: these models have at most
	// 33.4 M parameters, 134 MB as float32 in one ONNX file; their
	// WordPiece tokenizer.json files (30,522 tokens) are under 1 MB.
	const (
		maxModelFile     = 256 << 20
		maxTokenizerFile = 16 << 20
		maxConfigFile    = 64 << 10
	)
	// transformer describes a model published in both layouts: model is
	// the ONNX export (LayoutONNX), weights and arch the sentence-
	// transformers model.safetensors and config.json (LayoutSafetensors),
	// tok the tokenizer both need. Pooling, normalization and prefixes come
	// from cfg (written as vecbolt.json), so neither backend needs
	// modules.json nor 1_Pooling/config.json, and the pure-Go encoder reads
	// only config.json, model.safetensors and tokenizer.json
	// (embedder/bert/bert.go).
	transformer := func(name, repo, rev string, cfg ModelConfig, model, tok, weights, arch RegistryFile) RegistryModel {
		cfg.Name = name
		if model.Path == "" {
			model.Path = "onnx/model.onnx"
		}
		cfg.Model = model.Path
		model.Layout = LayoutONNX
		tok.Path = "tokenizer.json"
		weights.Path, weights.Layout = "model.safetensors", LayoutSafetensors
		arch.Path, arch.Layout = "config.json", LayoutSafetensors
		for _, f := range []*RegistryFile{&model, &weights} {
			if f.Size == 0 {
				f.MaxSize = maxModelFile
			}
		}
		if tok.Size == 0 {
			tok.MaxSize = maxTokenizerFile
		}
		if arch.Size == 0 {
			arch.MaxSize = maxConfigFile
		}
		return RegistryModel{Name: name, Kind: KindONNX, Repo: repo, Revision: rev, Dim: 384, Config: cfg,
			Files: []RegistryFile{model, tok, weights, arch}}
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
		transformer("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "1110a243fdf4706b3f48f1d95db1a4f5529b4d41",
			ModelConfig{Pooling: PoolingMean, Normalize: true, MaxSeqLength: 256},
			RegistryFile{Size: 90405214, SHA256: "6fd5d72fe4589f189f8ebc006442dbb529bb7ce38f8082112682524616046452"},
			RegistryFile{Size: 466247, SHA256: "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"},
			// model.safetensors and config.json at this revision: index
			// files 70179684223 (Rust, revision, size and digest of the
			// weights), 69740789174 (Rust, revision, size and digest of
			// config.json), 69698748665 (Rust, this revision, sizes and
			// digests of both), 70453135983 (Rust, sizes and digests of
			// both), 71411255384 (shell, revision and weights digest),
			// 70663932554 (Python, weights size and digest). Searched
			// 2026-12-02.
			RegistryFile{Size: 90868376, SHA256: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"},
			RegistryFile{Size: 612, SHA256: "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"}),
		// Revision and both files: index files 68964920377 (paths-info at
		// this revision: model size and oid), 70230631795 (TypeScript,
		// revision, model size and digest), 54617409744 (TypeScript, both
		// sizes and digests), 61526784042 (shell, both sizes and digests),
		// 69235083298 and 71486294158 (revision with both digests).
		transformer("bge-small-en-v1.5", "BAAI/bge-small-en-v1.5", "5c38ec7c405ec4b44b94cc5a9bb96e735b38267a",
			ModelConfig{Pooling: PoolingCLS, Normalize: true, MaxSeqLength: 512, QueryPrefix: bgeQueryPrefix},
			RegistryFile{Size: 133093490, SHA256: "828e1496d7fabb79cfa4dcd84fa38625c0d3d21da474a00f08db0f559940cf35"},
			RegistryFile{Size: 711396, SHA256: "d241a60d5e8f04cc1b2b3e9ef7a4921b27bf526d9f6050ab90f9267a1f9e5c66"},
			// model.safetensors and config.json at this revision: index
			// files 70947670395 (shell, revision, sizes and digests of
			// both), 69698748665 (Rust, revision, sizes and digests of
			// both), 65909803970 (Python, revision and both digests),
			// 55061179709 (Rust, revision and both digests), 71462249476
			// (Python, revision and config digest). Searched 2026-12-02.
			RegistryFile{Size: 133466304, SHA256: "3c9f31665447c8911517620762200d2245a2518d6e7208acc78cd9db317e21ad"},
			RegistryFile{Size: 743, SHA256: "094f8e891b932f2000c92cfc663bac4c62069f5d8af5b5278c4306aef3084750"}),
		// The export is model.onnx at the repository's root: the file
		// Vespa's documentation and examples (index files 43517085916,
		// 63508610777, 55055519337), Spring AI configurations (71616577893,
		// 53427340677) and ML.NET samples (9891496042) fetch, and whose
		// last_hidden_state output their embedders pool themselves, as
		// onnx.Load does. (One Dockerfile fetches onnx/model.onnx instead,
		// index file 1583091753.)
		// Revision, model.onnx digest and tokenizer digest: index files
		// 71396986594 (Python retrieval module: this revision, model.onnx,
		// both digests, last hidden state mean-pooled), 60797197018 (an
		// IREE compiler project's contract: model.onnx at this revision
		// with this digest, output last_hidden_state, inputs input_ids,
		// attention_mask, token_type_ids) and 53249461835 (Python, sovyx:
		// both digests of resolve/main). The revision is pinned by many
		// more (57358601969, 70115553016, 69372921882, 68721152773). The
		// tokenizer.json is byte for byte bge-small-en-v1.5's (same
		// digest), hence its size. model.onnx's size, 133,093,468 bytes:
		// the LFS pointer the hub shows for the commit that added it,
		// huggingface.co/intfloat/e5-small-v2/commit/47ba724920a2af26ee7c77f2bf5f769413f37c79
		// (oid 4b8205be...), and the same pointer in a GitHub copy of the
		// repository, shivani25shri/Complete_the_look, file
		// e5-small-v2/model.onnx (commit 5c2a1a68). Searched 2026-12-02.
		transformer("e5-small-v2", "intfloat/e5-small-v2", "ffb93f3bd4047442299a41ebb6fa998a38507c52",
			ModelConfig{Pooling: PoolingMean, Normalize: true, MaxSeqLength: 512, QueryPrefix: "query: ", DocumentPrefix: "passage: "},
			RegistryFile{Path: "model.onnx", Size: 133093468, SHA256: "4b8205be2a3c5fc53c6534d76a2012064f7309c162b806f2889c6ec8ec4fdcba"},
			RegistryFile{Size: 711396, SHA256: "d241a60d5e8f04cc1b2b3e9ef7a4921b27bf526d9f6050ab90f9267a1f9e5c66"},
			// model.safetensors at this revision: index files 66465917876
			// (Python, revision, size and digest), 67049887073 (Python,
			// revision, size and digest), 70834476667 (a model card:
			// revision, size and digest), 53139764180 (Rust, revision and
			// digest); the GitHub copy above holds the same pointer
			// (e5-small-v2/model.safetensors). config.json: digest from
			// index files 71396986594 (Python, this revision) and
			// 53139764180 (Rust, this revision); its 615 bytes are those of
			// the GitHub copy's e5-small-v2/config.json, whose SHA-256 is
			// that digest (so the copy is the pinned file, and its length
			// the file's). Searched 2026-12-02.
			RegistryFile{Size: 133466304, SHA256: "45bfa60070649aae2244fbc9d508537779b93b6f353c17b0f95ceccb1c5116c1"},
			RegistryFile{Size: 615, SHA256: "5dfb0363cd0243be179c03bcaafd1542d0fbb95e8cbcf575fff3e229342adc2f"}),
		// Revision 17e1f347 (Hugging Face pull request #15, the revision
		// many projects pin, see below) holds the ONNX export below:
		// onnx/model.onnx was added by commit 90dfdf4b (#11) and no later
		// commit changed it. The hub's commit pages give the chain:
		// huggingface.co/thenlper/gte-small/commit/17e1f347d17fe144873b1201da91788898c639cd
		// (parent dbfc33e, adds openvino/ files only), .../commit/dbfc33ed0bfb9af5afe56aafb5c8e94f881b673b
		// (parent a272c09, adds onnx/model_qint8_avx512_vnni.onnx only),
		// and the history of onnx/ at dbfc33e, .../commits/dbfc33ed0bfb9af5afe56aafb5c8e94f881b673b/onnx,
		// lists exactly 90dfdf4 (model.onnx), a272c09 (model_O4.onnx) and
		// dbfc33e. Index file 71608555419 (Python) pins this revision's
		// onnx/model_qint8_avx512_vnni.onnx with the digest dbfc33e's page
		// shows (c9434b8d...), which ties the revision to that history.
		// onnx/model.onnx digest: index files 61572427478 (Go catalogue)
		// and 62788777316 (another Go project's ModelSHA256), both of
		// resolve/main, 70284245259 (an evaluation's notes, "0b01312b
		// 59bec0a2..."), and the LFS pointer on the page of commit
		// .../commit/90dfdf4b4f1f35efc6120db2a0c024dcd299fb04, which
		// agree. Its size, 133,126,567 bytes: that pointer states it
		// exactly; 70284245259 measured 133.8 MB for it and
		// tokenizer.json as downloaded (133,838,228 bytes with the size
		// below), and the hub's file pages round it to 133 MB. No second
		// source states the exact figure: it is the repository's own
		// record, and a wrong size could only fail the download, never
		// admit a file the digest refuses. tokenizer.json: 711,661 bytes,
		// digest from index files 70357307541 (Python, size and digest at
		// this revision), 71574260337 and 71550899134 (a Python project
		// pinning both at this revision) and 52318912987 (a Nix expression
		// fetching resolve/main, SRI "sha256-2g55kzue..."), which agree.
		// Searched 2026-12-02.
		transformer("gte-small", "thenlper/gte-small", "17e1f347d17fe144873b1201da91788898c639cd",
			ModelConfig{Pooling: PoolingMean, Normalize: true, MaxSeqLength: 512},
			RegistryFile{Size: 133126567, SHA256: "0b01312b59bec0a2558a626f2937be4cbe4bb16d1511560153f598cec488f1f8"},
			RegistryFile{Size: 711661, SHA256: "da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0"},
			// model.safetensors and config.json: index files 70357307541
			// (Python, sizes and digests of both at this revision),
			// 52318912987 (the Nix expression above, both of resolve/main:
			// SRI "sha256-mh65C7rD..." and "sha256-ACc837Pg...", which
			// decode to these digests), 70429955217 and 69024730663 (notes
			// pinning the weights' digest, with their size in the first,
			// at this revision). Searched 2026-12-02.
			RegistryFile{Size: 66746168, SHA256: "9a1eb90bbac323ea08aa5629b624fe6ae75db121b904799c2266a1e2c2de22d2"},
			RegistryFile{Size: 583, SHA256: "00273cdfb3e05c7304d180270bdef8adae45023e7bdfc396338bdd815943dc59"}),
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
