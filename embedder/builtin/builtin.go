// Package builtin ships vecbolt's default embedding model inside the module,
// so search by meaning works with no network and no native library.
//
// The model is a static embedding model (see static.Model) trained by
// the project itself from English text in Debian's archive with
// tools/trainmodel; model/MANIFEST.json records the corpus (package,
// version, SHA-256), every training parameter and the SHA-256 of each model
// file. The files are embedded with go:embed in the Model2Vec layout, plus
// one file of vecbolt's own:
//
//   - model.safetensors: "embeddings" I8 [vocab, dim] with "scales" F32
//     [vocab] (a row is embeddings[i] × scales[i]; the row's norm carries the
//     token's pooling weight): the document table;
//   - tokenizer.json: an uncased BERT-style WordPiece vocabulary;
//   - config.json: Model2Vec fields plus "model_name";
//   - query.safetensors (optional, vecbolt's own): "ids" I32 [n],
//     "embeddings" I8 [n, dim] and "scales" F32 [n], query-side rows that
//     replace the document rows of tokens ids[k] when a one-word query is
//     embedded (see OneWord); optionally "transform" F32 [dim, dim], a
//     matrix applied to every pooled query vector.
//
// Why query rows: with one table a one-word query is always nearest to the
// documents that contain the word (a one-word document scores exactly 1),
// which is right when a longer query shares words with what it looks for,
// but wrong when a single word names a concept and the document describes
// it ("automobile" → "a motor vehicle with four wheels"): on WordNet's
// synonym → definition task the top hit contained the query word for 78% of
// the in-vocabulary queries. Rows trained only by one-word queries learn
// where such a query should point instead of where the word itself sits,
// without costing the longer queries the exact-match signal they need
// (measured with tools/trainmodel -eval; figures in its package doc).
// Documents are embedded exactly as the Model2Vec
// model of the first three files would embed them, so those files remain a
// valid Model2Vec model for other tools.
//
// Text outside the vocabulary: every text that is not blank gets a vector,
// so the default model never rejects a document. A text none of whose
// tokens the vocabulary knows (only emoji, symbols, or a script the model
// was not trained on, such as Runic) gets static.Model's fallback: the
// mean of document rows chosen by hashing the character bigrams and
// trigrams of its words, normalized. It is deterministic, differs between
// different texts, and is the same for a query as for a document (one-word
// queries hash into the same document rows, the query rows are never used;
// a query transform, which the shipped model lacks, would still apply), so
// such a document is found by searching for its own text, or for
// text sharing its words, with a score of 1 for the exact text. It carries
// no meaning: nothing but shared characters brings two such texts close.
// Texts with at least one known token are embedded from their known tokens
// alone, exactly as before. Only a blank text (empty or all whitespace)
// fails, with embedder.ErrEmptyText. The fallback is code, not weights, so
// the identity is unchanged by it; static.WithFallback(false)
// restores the old error, static.ErrNoTokens.
//
// Invariants: a Model is immutable and safe for concurrent use; its
// Identity hash covers every file, so vectors from two models with equal
// identities are interchangeable; with no query.safetensors, queries and
// documents are embedded alike.
//
// This package imports embedder; embedder never imports it. Package db
// imports it for its default model, except in builds with the tag
// vecbolt_nomodel, so a program that uses db with its own model or its own
// vectors only leaves the ~14 MB of weights out by building with that tag.
package builtin

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strings"
	"sync"
	"unicode"

	"github.com/vecbolt/vecbolt/embedder/safetensors"
	"github.com/vecbolt/vecbolt/embedder/static"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"

	"github.com/vecbolt/vecbolt/embedder"
)

// Name is the built-in model's name, as Identity().Name reports it.
const Name = "vecbolt-static-en-v4"

// Dim is the length of the built-in model's vectors.
const Dim = 256

//go:embed model/*.safetensors model/tokenizer.json model/config.json
var modelFiles embed.FS

// ErrFormat is returned (wrapped) when a model directory is not in the
// layout the package doc describes.
var ErrFormat = errors.New("builtin: invalid model files")

// Model is a static embedding model with an optional query side (rows for
// one-word queries, a transform for all queries). It embeds every text that
// is not blank, including texts with no token in its vocabulary (see the
// package doc for the fallback); a blank text returns embedder.ErrEmptyText.
type Model struct {
	doc        *static.Model // documents: the Model2Vec rows
	buildQuery func() (*static.Model, error)
	queryOnce  sync.Once
	query      *static.Model // one-word queries: query rows, else the document rows
	queryErr   error
	transform  []float32 // nil, or W [dim, dim] applied to pooled queries
	scratch    sync.Pool // *[]float32 of length dim, for the transform
	id         embedder.Identity
}

var _ embedder.Embedder = (*Model)(nil)

// New parses the embedded model. Each call parses afresh (tens of
// milliseconds; the one-word query side is built on first use) and returns an independent, immutable model; callers that embed
// often should keep one and share it, which is safe across goroutines.
func New(opts ...static.Option) (*Model, error) {
	sub, err := fs.Sub(modelFiles, "model")
	if err != nil {
		return nil, fmt.Errorf("builtin: %w", err)
	}
	m, err := Load(sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("builtin: loading embedded model: %w", err)
	}
	return m, nil
}

// Load opens a model in this package's layout (see the package doc) from
// the root of fsys, e.g. os.DirFS of a directory tools/trainmodel wrote.
// The options are static.Model's (name, maximum tokens, normalization);
// weights and mappings are the model's own and cannot be given.
func Load(fsys fs.FS, opts ...static.Option) (*Model, error) {
	read := func(name string, optional bool) ([]byte, error) {
		b, err := fs.ReadFile(fsys, name)
		if err != nil && !(optional && errors.Is(err, fs.ErrNotExist)) {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		return b, nil
	}
	stBytes, err := read("model.safetensors", false)
	if err != nil {
		return nil, err
	}
	tokBytes, err := read("tokenizer.json", false)
	if err != nil {
		return nil, err
	}
	cfgBytes, err := read("config.json", true)
	if err != nil {
		return nil, err
	}
	qBytes, err := read("query.safetensors", true)
	if err != nil {
		return nil, err
	}
	var cfg struct {
		Normalize *bool  `json:"normalize"`
		ModelName string `json:"model_name"`
	}
	if cfgBytes != nil {
		if err := json.Unmarshal(cfgBytes, &cfg); err != nil {
			return nil, fmt.Errorf("%w: config.json: %w", ErrFormat, err)
		}
	}
	// The document side is a plain Model2Vec model; embedder's loader
	// validates it and applies the options.
	doc, err := static.LoadFS(fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	tok, dim, vocab := doc.Tokenizer(), doc.Dim(), doc.Tokenizer().VocabSize()
	m := &Model{doc: doc}
	m.scratch.New = func() any { b := make([]float32, dim); return &b }
	if qBytes != nil {
		qs, err := safetensors.Parse(qBytes)
		if err != nil {
			return nil, fmt.Errorf("%w: query.safetensors: %w", ErrFormat, err)
		}
		if m.transform, err = queryTransform(qs, dim); err != nil {
			return nil, err
		}
		if _, ok := qs.Tensor("embeddings"); ok {
			qRows, mapping, err := queryRows(qs, dim, vocab)
			if err != nil {
				return nil, err
			}
			st, err := safetensors.Parse(stBytes)
			if err != nil {
				return nil, fmt.Errorf("%w: model.safetensors: %w", ErrFormat, err)
			}
			if e, ok := st.Tensor("embeddings"); !ok || e.DType != "I8" {
				return nil, fmt.Errorf("%w: query rows need model.safetensors in the int8 layout", ErrFormat)
			}
			if _, _, err := int8Header(st, "model.safetensors"); err != nil {
				return nil, err
			}
			base := []static.Option{static.WithName(cmpOr(cfg.ModelName, "static"))}
			if cfg.Normalize != nil {
				base = append(base, static.WithNormalize(*cfg.Normalize))
			}
			qopts := append(append(base, opts...), static.WithMapping(mapping))
			// Building the query side hashes and checks ~14M floats
			// (a few hundred ms), so it waits for the first one-word
			// query: most programs that open a database never send one.
			m.buildQuery = func() (*static.Model, error) {
				docRows, _, err := int8Rows(st, "model.safetensors")
				if err != nil {
					return nil, err
				}
				emb := make([]float32, 0, len(docRows)+len(qRows))
				emb = append(append(emb, docRows...), qRows...)
				q, err := static.New(tok, emb, dim, qopts...)
				if err != nil {
					return nil, fmt.Errorf("%w: %w", ErrFormat, err)
				}
				return q, nil
			}
		} else if m.transform == nil {
			return nil, fmt.Errorf("%w: query.safetensors holds neither query rows nor a transform", ErrFormat)
		}
	}
	// The identity hashes the four files (as static.LoadFS hashes its
	// three), so a model with a different query side has another identity.
	h := sha256.New()
	for _, f := range []struct {
		name string
		b    []byte
	}{{"model.safetensors", stBytes}, {"tokenizer.json", tokBytes}, {"config.json", cfgBytes}, {"query.safetensors", qBytes}} {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(f.b)))
		h.Write([]byte(f.name))
		h.Write(n[:])
		h.Write(f.b)
	}
	did := doc.Identity()
	m.id = embedder.Identity{Name: did.Name, Hash: hex.EncodeToString(h.Sum(nil)), Dim: dim, Pooling: did.Pooling}
	return m, nil
}

// querySide returns the model for one-word queries, building it on first
// use.
func (m *Model) querySide() (*static.Model, error) {
	if m.buildQuery == nil {
		return m.doc, nil
	}
	m.queryOnce.Do(func() { m.query, m.queryErr = m.buildQuery() })
	return m.query, m.queryErr
}

// queryTransform reads the optional "transform" F32 [dim, dim].
func queryTransform(qs *safetensors.File, dim int) ([]float32, error) {
	t, ok := qs.Tensor("transform")
	if !ok {
		return nil, nil
	}
	if len(t.Shape) != 2 || t.Shape[0] != dim || t.Shape[1] != dim {
		return nil, fmt.Errorf("%w: query.safetensors: transform has shape %v, want [%d, %d]", ErrFormat, t.Shape, dim, dim)
	}
	w, err := t.Float32s()
	if err != nil {
		return nil, fmt.Errorf("%w: query.safetensors: %w", ErrFormat, err)
	}
	for i, v := range w {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("%w: query.safetensors: transform element %d is %v", ErrFormat, i, v)
		}
	}
	return w, nil
}

// queryRows reads the query rows and returns them with the query side's
// token → row mapping (rows vocab.. are the query rows).
func queryRows(qs *safetensors.File, dim, vocab int) ([]float32, []int32, error) {
	qRows, qdim, err := int8Rows(qs, "query.safetensors")
	if err != nil {
		return nil, nil, err
	}
	if qdim != dim {
		return nil, nil, fmt.Errorf("%w: query.safetensors has dimension %d, model.safetensors %d", ErrFormat, qdim, dim)
	}
	t, ok := qs.Tensor("ids")
	if !ok || len(t.Shape) != 1 || t.Shape[0] != len(qRows)/dim {
		return nil, nil, fmt.Errorf("%w: query.safetensors needs \"ids\" [%d]", ErrFormat, len(qRows)/dim)
	}
	ids, err := t.Ints()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: query.safetensors: %w", ErrFormat, err)
	}
	mapping := make([]int32, vocab)
	for i := range mapping {
		mapping[i] = int32(i)
	}
	for k, id := range ids {
		if id < 0 || id >= vocab {
			return nil, nil, fmt.Errorf("%w: query.safetensors: token id %d outside the vocabulary of %d", ErrFormat, id, vocab)
		}
		if mapping[id] != int32(id) {
			return nil, nil, fmt.Errorf("%w: query.safetensors: token id %d given twice", ErrFormat, id)
		}
		mapping[id] = int32(vocab + k)
	}
	return qRows, mapping, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// int8Header checks "embeddings" I8 [rows, dim] and "scales" F32 [rows]
// (each scale finite, and finite times 127) and returns the embeddings
// tensor and the scales.
func int8Header(st *safetensors.File, file string) (safetensors.Tensor, []float32, error) {
	e, ok := st.Tensor("embeddings")
	if !ok || e.DType != "I8" || len(e.Shape) != 2 || e.Shape[0] <= 0 || e.Shape[1] <= 0 {
		return e, nil, fmt.Errorf("%w: %s needs \"embeddings\" I8 [rows, dim]", ErrFormat, file)
	}
	rows := e.Shape[0]
	s, ok := st.Tensor("scales")
	if !ok || len(s.Shape) != 1 || s.Shape[0] != rows {
		return e, nil, fmt.Errorf("%w: %s needs \"scales\" [%d]", ErrFormat, file, rows)
	}
	scales, err := s.Float32s()
	if err != nil {
		return e, nil, fmt.Errorf("%w: %s: %w", ErrFormat, file, err)
	}
	for i, sc := range scales {
		if x := float64(sc) * 127; math.IsNaN(x) || math.Abs(x) > math.MaxFloat32 {
			return e, nil, fmt.Errorf("%w: %s: scale of row %d is %v", ErrFormat, file, i, sc)
		}
	}
	return e, scales, nil
}

// int8Rows decodes "embeddings" I8 [rows, dim] × "scales" F32 [rows].
func int8Rows(st *safetensors.File, file string) ([]float32, int, error) {
	e, scales, err := int8Header(st, file)
	if err != nil {
		return nil, 0, err
	}
	rows, dim := e.Shape[0], e.Shape[1]
	out := make([]float32, rows*dim)
	for i := range rows {
		sc := scales[i]
		for j, b := range e.Data[i*dim : (i+1)*dim] {
			out[i*dim+j] = float32(int8(b)) * sc
		}
	}
	return out, dim, nil
}

// Identity describes the model; its hash covers all the model's files and
// nothing else, so code changes such as the all-unknown fallback leave it,
// and the vectors stored under it, valid.
func (m *Model) Identity() embedder.Identity { return m.id }

// Dim returns the vector length.
func (m *Model) Dim() int { return m.id.Dim }

// Tokenizer returns the model's tokenizer.
func (m *Model) Tokenizer() *tokenizer.Tokenizer { return m.doc.Tokenizer() }

// OneWord reports whether a query is a single word (letters, digits and
// combining marks only, surrounding space aside): the queries that use the
// query rows. Such a query names a concept, and the document that best
// answers it usually describes the concept rather than repeating the word,
// while a longer query is matched well by the words it shares with
// documents, as the document rows do.
func OneWord(text string) bool {
	text = strings.TrimFunc(text, unicode.IsSpace)
	if text == "" {
		return false
	}
	for _, r := range text {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) {
			return false
		}
	}
	return true
}

func (m *Model) side(text string) (*static.Model, error) {
	if OneWord(text) {
		return m.querySide()
	}
	return m.doc, nil
}

// EmbedQuery embeds a search query with the query side: the query rows for
// a one-word query (see OneWord), then the transform if the model has one.
func (m *Model) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	side, err := m.side(text)
	if err != nil {
		return nil, err
	}
	v, err := side.EmbedQuery(ctx, text)
	if err != nil {
		return nil, err
	}
	m.applyTransform(v)
	return v, nil
}

// applyTransform replaces v by W·v scaled to v's norm, so a normalized
// model stays normalized.
func (m *Model) applyTransform(v []float32) {
	if m.transform == nil {
		return
	}
	bp := m.scratch.Get().(*[]float32)
	defer m.scratch.Put(bp)
	u := *bp
	copy(u, v)
	dim := len(v)
	var nu, nz float64
	for _, x := range u {
		nu += float64(x) * float64(x)
	}
	for a := range dim {
		row := m.transform[a*dim : (a+1)*dim]
		var z float32
		for b, x := range u {
			z += row[b] * x
		}
		v[a] = z
		nz += float64(z) * float64(z)
	}
	if nz == 0 || math.IsInf(nz, 0) || math.IsNaN(nz) {
		copy(v, u) // a degenerate W must not turn a query into zeros or Inf
		return
	}
	// Scale in float64: when W shrinks v to near-denormal values the
	// factor overflows float32 (FuzzLoadQuery found it), while each scaled
	// component stays within v's original norm.
	f := math.Sqrt(nu) / math.Sqrt(nz)
	for a := range v {
		v[a] = float32(float64(v[a]) * f)
	}
}

// EmbedDocuments embeds texts to store, in order, with the document rows.
func (m *Model) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	return m.doc.EmbedDocuments(ctx, texts)
}

// Embed embeds one document text into dst (length Dim) without allocating.
func (m *Model) Embed(text string, dst []float32) error { return m.doc.Embed(text, dst) }

// EmbedQueryInto embeds one query into dst (length Dim) without allocating.
func (m *Model) EmbedQueryInto(text string, dst []float32) error {
	side, err := m.side(text)
	if err != nil {
		return err
	}
	if err := side.Embed(text, dst); err != nil {
		return err
	}
	m.applyTransform(dst)
	return nil
}

// Documents returns the document side alone: the plain Model2Vec model of
// model.safetensors, as static.Load would load it (its identity
// differs: it does not cover the query table).
func (m *Model) Documents() *static.Model { return m.doc }
