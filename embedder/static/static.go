package static

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/safetensors"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"
)

// Model is a static embedding model: one vector per vocabulary token, and a
// text's embedding is the weighted mean of its tokens' vectors, L2
// normalized. It reads the Model2Vec / sentence-transformers StaticEmbedding
// layout (see Load) and is the family of the built-in default model.
//
// Pooling, exactly: tokenize without special tokens; drop [UNK]; for each
// remaining token t add weights[t] × embeddings[mapping[t]] (weights default
// to 1, mapping to the identity); divide by the token count; if the model
// normalizes (the default), scale to unit length.
//
// Texts that are empty or all whitespace return embedder.ErrEmptyText. Every other
// text gets a vector. When pooling finds nothing (every token is unknown to
// the vocabulary, e.g. only emoji, symbols or a script the model lacks, or
// the known tokens' weighted rows sum to zero), the model falls back to a
// vector derived from the text's characters: each whitespace-separated word,
// with a begin and an end marker, is cut into character bigrams and
// trigrams; each n-gram is hashed (FNV-1a over its code points) to one of
// the model's non-zero rows among the first min(rows, vocabulary size);
// the vector is the mean of those rows, normalized as the model normalizes.
// So it lives in the model's space, the same text always gets the same
// vector, two different texts almost surely get different ones (they share
// a vector only if every n-gram hashes alike), and it is never zero (a zero
// vector cannot be normalized and would score 0 against everything,
// silently hiding the document; if the hashed rows cancel, the first of
// them alone is the vector). Such a vector carries no meaning: only shared
// character n-grams bring two of them close, so the document is storable
// and findable by its own text, not understood. Vectors of texts that
// pooling can embed are unchanged.
// WithFallback(false) restores the error ErrNoTokens instead; a
// model whose rows are all zero returns it too. The fallback is code, not
// weights, so it does not enter the identity.
//
// A Model is immutable after construction and safe for concurrent use.
type Model struct {
	tok       *tokenizer.Tokenizer
	dim       int
	rows      int
	emb       []float32 // rows × dim, row-major
	weights   []float32 // per token id; nil means 1
	mapping   []int32   // per token id → row; nil means the identity
	normalize bool
	unk       int32
	hasUnk    bool
	maxTokens int
	maxChars  int // WithModel2VecMaxLength's character cut; 0: none
	id        embedder.Identity
	bufs      sync.Pool // *staticScratch
	fallback  bool      // embed all-unknown texts (see the type doc)
	fbLimit   int       // the fallback uses rows [0, fbLimit)
	// fbRows lists the non-zero rows below fbLimit, the rows the fallback
	// hashes into. Few texts need it, so it is found on first use rather
	// than at load.
	fbOnce sync.Once
	fbRows []int32
}

// ErrNoTokens is returned for a non-empty text none of whose tokens is in
// the model's vocabulary, by a Model whose fallback is off (see Model).
var ErrNoTokens = errors.New("embedder: text has no token in the model's vocabulary")

// Option configures a Model model.
type Option func(*staticConfig)

type staticConfig struct {
	name      string
	maxTokens int
	weights   []float32
	mapping   []int32
	normalize *bool
	// noFallback turns the all-unknown fallback off; the zero value keeps
	// it on, the default.
	noFallback bool
	// m2vMaxLength is WithModel2VecMaxLength's n (0: off).
	m2vMaxLength int
	// sif and lowercase configure word vectors (wordvec.go) only.
	sif       float64
	sifSet    bool
	lowercase bool
}

// WithFallback sets whether a text that pooling cannot embed (no
// known token, or known tokens whose rows sum to zero) gets the hashed
// character n-gram vector the Model doc describes (on, the default) or
// the error ErrNoTokens (off), e.g. for an evaluation that must count such
// texts as misses. It does not change the identity: texts that pooling
// embeds get the same vectors either way.
func WithFallback(on bool) Option {
	return func(c *staticConfig) { c.noFallback = !on }
}

// WithName sets the model name reported in embedder.Identity (default: the
// "model_name" of config.json, else the directory's base name, else
// "static").
func WithName(name string) Option {
	return func(c *staticConfig) { c.name = name }
}

// WithMaxTokens embeds only the first n tokens of a text that the model
// knows (for word vectors: the first n words found). [UNK] does not count,
// as in model2vec. The default, 0, embeds all of them: a static model has
// no position limit, and truncating would hide the end of long documents.
// See WithModel2VecMaxLength for model2vec's own truncation.
func WithMaxTokens(n int) Option {
	return func(c *staticConfig) { c.maxTokens = n }
}

// WithModel2VecMaxLength truncates texts exactly as the model2vec
// library's StaticModel.encode(max_length=n) does (its default is 512): the
// text is first cut to its first n × m characters (code points), m the
// median length in characters of the vocabulary's tokens (int(numpy.median)
// over every token, "##" included), and then the first n tokens left after
// dropping [UNK] are pooled. vecbolt's default is no truncation; use this
// option for vectors identical to model2vec's on long texts. Like
// WithMaxTokens it does not enter the identity. Not for word vectors.
func WithModel2VecMaxLength(n int) Option {
	return func(c *staticConfig) { c.m2vMaxLength = n }
}

// WithWeights sets per-token weights (length = vocabulary size) for
// New.
func WithWeights(w []float32) Option {
	return func(c *staticConfig) { c.weights = w }
}

// WithMapping sets a token → embedding-row mapping (length =
// vocabulary size) for New, as Model2Vec's vocabulary quantization
// stores it.
func WithMapping(m []int32) Option {
	return func(c *staticConfig) { c.mapping = m }
}

// WithNormalize overrides whether output vectors are L2 normalized
// (default true, or config.json's "normalize").
func WithNormalize(on bool) Option {
	return func(c *staticConfig) { c.normalize = &on }
}

// New builds a static model from a tokenizer and a row-major embedding
// matrix of rows × dim float32 values. Without a mapping, rows must equal the
// tokenizer's vocabulary size. Every component must be finite, and no
// component times a weight may exceed 1e15 in magnitude, so that a text's
// sum stays finite in float32. The identity hash covers the vocabulary,
// matrix, weights, mapping and normalization.
func New(tok *tokenizer.Tokenizer, emb []float32, dim int, opts ...Option) (*Model, error) {
	var cfg staticConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.name == "" {
		cfg.name = "static"
	}
	h := sha256.New()
	h.Write([]byte("vecbolt-static-v1\x00"))
	if tok != nil {
		for i := 0; i < tok.VocabSize(); i++ {
			h.Write([]byte(tok.Token(int32(i))))
			h.Write([]byte{0})
		}
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(dim))
	h.Write(b[:])
	for _, v := range emb {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		h.Write(b[:])
	}
	h.Write([]byte("weights"))
	for _, v := range cfg.weights {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		h.Write(b[:])
	}
	h.Write([]byte("mapping"))
	for _, v := range cfg.mapping {
		binary.LittleEndian.PutUint32(b[:], uint32(v))
		h.Write(b[:])
	}
	norm := cfg.normalize == nil || *cfg.normalize
	if norm {
		h.Write([]byte("normalize"))
	}
	return newStatic(tok, emb, dim, cfg, norm, hex.EncodeToString(h.Sum(nil)))
}

func newStatic(tok *tokenizer.Tokenizer, emb []float32, dim int, cfg staticConfig, normalize bool, hash string) (*Model, error) {
	if tok == nil {
		return nil, errors.New("embedder: static model needs a tokenizer")
	}
	if cfg.sifSet || cfg.lowercase {
		return nil, errors.New("embedder: WithSIF and WithLowercase apply to word vectors (LoadWordVectors) only; a tokenizer model carries its own weights and casing")
	}
	if dim <= 0 {
		return nil, fmt.Errorf("embedder: static model dimension %d must be positive", dim)
	}
	if len(emb) == 0 || len(emb)%dim != 0 {
		return nil, fmt.Errorf("embedder: static embedding matrix has %d values, not a positive multiple of dimension %d", len(emb), dim)
	}
	if cfg.maxTokens < 0 {
		return nil, fmt.Errorf("embedder: max tokens %d is negative", cfg.maxTokens)
	}
	if cfg.m2vMaxLength < 0 {
		return nil, fmt.Errorf("embedder: model2vec max length %d is negative", cfg.m2vMaxLength)
	}
	rows := len(emb) / dim
	vocab := tok.VocabSize()
	if cfg.mapping == nil && rows != vocab {
		return nil, fmt.Errorf("embedder: static embedding matrix has %d rows but the tokenizer has %d tokens", rows, vocab)
	}
	if cfg.mapping != nil {
		if len(cfg.mapping) != vocab {
			return nil, fmt.Errorf("embedder: static mapping has %d entries but the tokenizer has %d tokens", len(cfg.mapping), vocab)
		}
		for i, r := range cfg.mapping {
			if r < 0 || int(r) >= rows {
				return nil, fmt.Errorf("embedder: static mapping sends token %d to row %d, outside [0, %d)", i, r, rows)
			}
		}
	}
	if cfg.weights != nil && len(cfg.weights) != vocab {
		return nil, fmt.Errorf("embedder: static weights have %d entries but the tokenizer has %d tokens", len(cfg.weights), vocab)
	}
	// Each term weight × component of a text's sum is at most maxWordValue
	// in magnitude, as for word vectors, so that the float32 sum stays
	// finite: a file with finite but huge values (3e38) otherwise embeds
	// "cat dog" to +Inf, which normalizing turns into NaN. The largest
	// magnitude comes from one pass of integer compares on the bits, which
	// also catches NaN and Inf (all-ones exponent) and is several times
	// faster than math.IsNaN/IsInf on the ~10M values of a model, which
	// matters for load time.
	var top uint32
	for _, v := range emb {
		top = max(top, math.Float32bits(v)&0x7fffffff)
	}
	if top > math.Float32bits(maxWordValue) {
		for i, v := range emb {
			switch a := math.Abs(float64(v)); {
			case math.IsNaN(a) || math.IsInf(a, 0):
				return nil, fmt.Errorf("embedder: static embedding row %d holds %v", i/dim, v)
			case a > maxWordValue:
				return nil, fmt.Errorf("embedder: static embedding row %d holds %g, implausibly large (more than %g in magnitude)", i/dim, v, float64(maxWordValue))
			}
		}
	}
	largest := float64(math.Float32frombits(top))
	for i, v := range cfg.weights {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("embedder: static weight of token %d is %v", i, v)
		}
		if math.Abs(float64(v))*largest > maxWordValue {
			return nil, fmt.Errorf("embedder: static weight of token %d, %g, times the largest embedding component, %g, is implausibly large (more than %g in magnitude)", i, v, largest, float64(maxWordValue))
		}
	}
	_, _, _, unk := tok.SpecialIDs()
	s := &Model{
		tok:       tok,
		dim:       dim,
		rows:      rows,
		emb:       emb,
		weights:   cfg.weights,
		mapping:   cfg.mapping,
		normalize: normalize,
		unk:       unk,
		hasUnk:    unk >= 0,
		maxTokens: cfg.maxTokens,
		id:        embedder.Identity{Name: cfg.name, Hash: hash, Dim: dim, Pooling: "weighted-mean"},
		fallback:  !cfg.noFallback,
		fbLimit:   min(rows, vocab),
	}
	if n := cfg.m2vMaxLength; n > 0 {
		s.maxTokens = n
		if cfg.maxTokens > 0 {
			s.maxTokens = min(n, cfg.maxTokens)
		}
		s.maxChars = n * medianTokenLength(tok)
	}
	return s, nil
}

// medianTokenLength is model2vec's median_token_length:
// int(numpy.median(len(token) for token in vocabulary)), lengths in code
// points. numpy averages the two middle values of an even count and int()
// truncates, which for non-negative lengths is the floor of their mean.
func medianTokenLength(tok *tokenizer.Tokenizer) int {
	n := tok.VocabSize()
	if n == 0 {
		return 0
	}
	lens := make([]int, n)
	for i := range lens {
		lens[i] = utf8.RuneCountInString(tok.Token(int32(i)))
	}
	slices.Sort(lens)
	if n%2 == 1 {
		return lens[n/2]
	}
	return (lens[n/2-1] + lens[n/2]) / 2
}

// staticModelConfig holds the config.json fields the loader uses. Model2Vec
// writes normalize and hidden_dim; model_name is vecbolt's own.
type staticModelConfig struct {
	Normalize *bool  `json:"normalize"`
	HiddenDim int    `json:"hidden_dim"`
	Dim       int    `json:"dim"`
	ModelName string `json:"model_name"`
}

// Load opens a static model directory in the Model2Vec layout:
//
//   - model.safetensors: tensor "embeddings" (or sentence-transformers'
//     "embedding.weight") of shape [rows, dim] in F32, F16, BF16, or I8 with
//     a per-row F32 "scales" tensor [rows] (row value = int8 × scale);
//     optional "weights" [vocab] (per-token weights, Model2Vec ≥ 0.4) and
//     "mapping" [vocab] (token → row, Model2Vec vocabulary quantization).
//   - tokenizer.json: a WordPiece tokenizer in the Hugging Face layout.
//   - config.json (optional): "normalize" (default true), "hidden_dim" (must
//     match the tensor if given), "model_name".
//
// The identity's hash is a SHA-256 over the three files' names and contents.
func Load(dir string, opts ...Option) (*Model, error) {
	name := filepath.Base(filepath.Clean(dir))
	if name == "." || name == string(filepath.Separator) {
		name = ""
	}
	m, err := loadStaticFS(os.DirFS(dir), name, opts)
	if err != nil {
		return nil, fmt.Errorf("embedder: loading static model %s: %w", dir, err)
	}
	return m, nil
}

// LoadFS opens a static model from the root of fsys, in the layout
// Load describes. It lets a model ship inside a binary (embed.FS).
func LoadFS(fsys fs.FS, opts ...Option) (*Model, error) {
	return loadStaticFS(fsys, "", opts)
}

func loadStaticFS(fsys fs.FS, defaultName string, opts []Option) (*Model, error) {
	var cfg staticConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.weights != nil || cfg.mapping != nil {
		return nil, errors.New("weights and mapping options apply to New only; a model directory carries its own")
	}
	stBytes, err := fs.ReadFile(fsys, "model.safetensors")
	if err != nil {
		return nil, fmt.Errorf("reading model.safetensors: %w", err)
	}
	tokBytes, err := fs.ReadFile(fsys, "tokenizer.json")
	if err != nil {
		return nil, fmt.Errorf("reading tokenizer.json: %w", err)
	}
	cfgBytes, err := fs.ReadFile(fsys, "config.json")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading config.json: %w", err)
	}
	var mc staticModelConfig
	if cfgBytes != nil {
		if err := json.Unmarshal(cfgBytes, &mc); err != nil {
			return nil, fmt.Errorf("config.json: %w", err)
		}
	}
	h := sha256.New()
	for _, f := range []struct {
		name string
		b    []byte
	}{{"model.safetensors", stBytes}, {"tokenizer.json", tokBytes}, {"config.json", cfgBytes}} {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(f.b)))
		h.Write([]byte(f.name))
		h.Write(n[:])
		h.Write(f.b)
	}
	tok, err := tokenizer.Parse(tokBytes)
	if err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	st, err := safetensors.Parse(stBytes)
	if err != nil {
		return nil, fmt.Errorf("model.safetensors: %w", err)
	}
	emb, dim, err := staticMatrix(st)
	if err != nil {
		return nil, fmt.Errorf("model.safetensors: %w", err)
	}
	if hd := max(mc.HiddenDim, mc.Dim); hd != 0 && hd != dim {
		return nil, fmt.Errorf("config.json says dimension %d but the embeddings have %d columns", hd, dim)
	}
	if t, ok := st.Tensor("weights"); ok {
		if len(t.Shape) != 1 {
			return nil, fmt.Errorf("model.safetensors: %w", modelErr("weights has shape %v, want [vocab]", t.Shape))
		}
		if cfg.weights, err = t.Float32s(); err != nil {
			return nil, fmt.Errorf("model.safetensors: %w", err)
		}
	}
	if t, ok := st.Tensor("mapping"); ok {
		if len(t.Shape) != 1 {
			return nil, fmt.Errorf("model.safetensors: %w", modelErr("mapping has shape %v, want [vocab]", t.Shape))
		}
		m, err := t.Ints()
		if err != nil {
			return nil, fmt.Errorf("model.safetensors: %w", err)
		}
		cfg.mapping = make([]int32, len(m))
		for i, v := range m {
			cfg.mapping[i] = int32(v)
		}
	}
	if cfg.name == "" {
		cfg.name = mc.ModelName
	}
	if cfg.name == "" {
		cfg.name = defaultName
	}
	if cfg.name == "" {
		cfg.name = "static"
	}
	normalize := true
	if mc.Normalize != nil {
		normalize = *mc.Normalize
	}
	if cfg.normalize != nil && *cfg.normalize != normalize {
		// The files' hash alone would give the overridden model the
		// identity of the model as its files describe it, though its
		// vectors differ.
		normalize = *cfg.normalize
		fmt.Fprintf(h, "normalize-override:%t", normalize)
	}
	return newStatic(tok, emb, dim, cfg, normalize, hex.EncodeToString(h.Sum(nil)))
}

// staticMatrix extracts the embedding matrix as float32, dequantizing I8
// rows with their scales.
func staticMatrix(st *safetensors.File) ([]float32, int, error) {
	t, ok := st.Tensor("embeddings")
	if !ok {
		t, ok = st.Tensor("embedding.weight")
	}
	if !ok {
		return nil, 0, modelErr("no tensor named \"embeddings\" (or \"embedding.weight\"); found %v", st.Names())
	}
	if len(t.Shape) != 2 || t.Shape[0] == 0 || t.Shape[1] == 0 {
		return nil, 0, modelErr("%s has shape %v, want [rows, dim] with both positive", t.Name, t.Shape)
	}
	rows, dim := t.Shape[0], t.Shape[1]
	if t.DType != "I8" {
		v, err := t.Float32s()
		return v, dim, err
	}
	sc, ok := st.Tensor("scales")
	if !ok {
		return nil, 0, modelErr("I8 %s needs a \"scales\" tensor [%d]", t.Name, rows)
	}
	if len(sc.Shape) != 1 || sc.Shape[0] != rows {
		return nil, 0, modelErr("scales has shape %v, want [%d]", sc.Shape, rows)
	}
	scales, err := sc.Float32s()
	if err != nil {
		return nil, 0, err
	}
	out := make([]float32, rows*dim)
	for r := range rows {
		s := scales[r]
		src := t.Data[r*dim : (r+1)*dim]
		dst := out[r*dim : (r+1)*dim]
		for j, q := range src {
			dst[j] = float32(int8(q)) * s
		}
	}
	return out, dim, nil
}

// embedder.Identity describes the model.
func (s *Model) Identity() embedder.Identity { return s.id }

// Dim returns the vector length.
func (s *Model) Dim() int { return s.dim }

// Tokenizer returns the model's tokenizer.
func (s *Model) Tokenizer() *tokenizer.Tokenizer { return s.tok }

// EmbedQuery embeds one search query.
func (s *Model) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v := make([]float32, s.dim)
	if err := s.embedInto(text, v); err != nil {
		return nil, err
	}
	return v, nil
}

// EmbedDocuments embeds texts in order. An error names the index of the
// text that caused it; no partial result is returned.
func (s *Model) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	backing := make([]float32, len(texts)*s.dim)
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		v := backing[i*s.dim : (i+1)*s.dim : (i+1)*s.dim]
		if err := s.embedInto(t, v); err != nil {
			return nil, fmt.Errorf("embedder: text %d: %w", i, err)
		}
		out[i] = v
	}
	return out, nil
}

// Embed embeds one text into dst, which must have length Dim. It is the
// allocation-free path for callers that reuse buffers.
func (s *Model) Embed(text string, dst []float32) error {
	if len(dst) != s.dim {
		return fmt.Errorf("embedder: destination has length %d, want %d", len(dst), s.dim)
	}
	return s.embedInto(text, dst)
}

// staticScratch is the pooled state of one embedding: the id runs and the
// running sum of their rows.
type staticScratch struct {
	s   *Model
	ids []int32
	acc []float32 // sum of weighted rows, length dim
	n   int       // tokens pooled
}

// ConsumeIDs adds a run of token ids to the sum, in order, skipping
// [UNK] and ids without a row, and stopping after maxTokens pooled tokens
// (model2vec drops [UNK] before it truncates, so [UNK] does not count).
func (sc *staticScratch) ConsumeIDs(ids []int32) {
	s := sc.s
	if s.maxTokens > 0 && sc.n >= s.maxTokens {
		return
	}
	dim, acc, n := s.dim, sc.acc, sc.n
	vocab := int32(len(s.emb) / dim)
	if s.mapping != nil {
		vocab = int32(len(s.mapping))
	}
	for _, id := range ids {
		if (s.hasUnk && id == s.unk) || id < 0 || id >= vocab {
			continue
		}
		if s.maxTokens > 0 && n >= s.maxTokens {
			break
		}
		row := int(id)
		if s.mapping != nil {
			row = int(s.mapping[id])
		}
		w := float32(1)
		if s.weights != nil {
			w = s.weights[id]
		}
		n++
		if w == 0 {
			continue
		}
		r := s.emb[row*dim : row*dim+dim]
		for j, v := range r {
			acc[j] += w * v
		}
	}
	sc.n = n
}

func (s *Model) embedInto(text string, dst []float32) error {
	if s.maxChars > 0 {
		text = firstRunes(text, s.maxChars)
	}
	if strings.TrimFunc(text, unicode.IsSpace) == "" {
		return embedder.ErrEmptyText
	}
	sc, _ := s.bufs.Get().(*staticScratch)
	if sc == nil {
		sc = &staticScratch{s: s, ids: make([]int32, 0, 64), acc: make([]float32, s.dim)}
	}
	clear(sc.acc)
	sc.n = 0
	// The ids come in runs (Tokenizer.EachIDs), so a long text costs no
	// memory per token.
	sc.ids = s.tok.EachIDsTo(text, sc.ids, sc)
	dst = dst[:s.dim]
	copy(dst, sc.acc)
	n := sc.n
	s.bufs.Put(sc)
	if n == 0 {
		if !s.fallback {
			return ErrNoTokens
		}
		return s.embedFallback(text, dst)
	}
	if ss := sumSquares(dst); ss >= 1e-24 {
		s.scale(dst, n, ss)
		return nil
	}
	// Every token had weight zero or the vectors cancelled exactly.
	if !s.fallback {
		return fmt.Errorf("%w (its token vectors sum to zero)", ErrNoTokens)
	}
	return s.embedFallback(text, dst)
}

// firstRunes returns the first n code points of text (an invalid byte
// counts as one).
func firstRunes(text string, n int) string {
	for i := range text {
		if n == 0 {
			return text[:i]
		}
		n--
	}
	return text
}

func sumSquares(v []float32) float64 {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	return ss
}

// scale turns the sum of n rows, of squared norm ss > 0, into their mean,
// or into a unit vector if the model normalizes.
func (s *Model) scale(dst []float32, n int, ss float64) { scaleMean(dst, n, ss, s.normalize) }

// scaleMean is Model.scale for any model: the mean of n rows, or their
// direction if normalize.
func scaleMean(dst []float32, n int, ss float64, normalize bool) {
	// Divide in float64: for a subnormal sum, 1/norm overflows float32
	// (1/1e-39 > 3.4e38) and would turn the vector into +Inf, while each
	// quotient is at most 1 in magnitude.
	d := float64(n)
	if normalize {
		d = math.Sqrt(ss)
	}
	for j := range dst {
		dst[j] = float32(float64(dst[j]) / d)
	}
}

// fallbackRows returns the non-zero rows below fbLimit, finding them on
// first use.
func (s *Model) fallbackRows() []int32 {
	s.fbOnce.Do(func() {
		rows := make([]int32, 0, s.fbLimit)
		for r := range s.fbLimit {
			for _, v := range s.emb[r*s.dim : (r+1)*s.dim] {
				if v != 0 {
					rows = append(rows, int32(r))
					break
				}
			}
		}
		s.fbRows = rows
	})
	return s.fbRows
}

// embedFallback embeds a non-blank text that pooling could not, as the
// Model doc describes: the mean of the rows its words' character bigrams
// and trigrams hash to. It streams over the text and allocates nothing
// (after the first call, which lists the usable rows).
func (s *Model) embedFallback(text string, dst []float32) error {
	return hashedFallback(text, dst, s.emb, s.fallbackRows(), s.maxTokens, s.normalize)
}

// hashedFallback is the character n-gram fallback the Model doc describes,
// over the rows fbRows of the row-major matrix emb (row length len(dst)).
// Model and WordVectors share it, so a text no model knows gets the same
// kind of vector from either family.
func hashedFallback(text string, dst, emb []float32, fbRows []int32, maxTokens int, normalize bool) error {
	if len(fbRows) == 0 {
		return fmt.Errorf("%w (and every row of the model is zero)", ErrNoTokens)
	}
	clear(dst)
	dim, n, first := len(dst), 0, int32(-1)
	var rowsSq float64 // Σ‖row‖² of the rows added, the scale of the sum
	add := func(h uint64) {
		if maxTokens > 0 && n >= maxTokens {
			return
		}
		row := fbRows[h%uint64(len(fbRows))]
		if first < 0 {
			first = row
		}
		for j, v := range emb[int(row)*dim : int(row)*dim+dim] {
			dst[j] += v
			rowsSq += float64(v) * float64(v)
		}
		n++
	}
	// Code points of the word's last two characters; the word's begin and
	// end markers and invalid bytes get codes no character has.
	const begin, end = 0xFFFFFFFF, 0xFFFFFFFE
	prev2, prev1 := uint32(0), uint32(0)
	inWord := false
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		code := uint32(r)
		if r == utf8.RuneError && size == 1 {
			code = 0x80000000 | uint32(text[i]) // keep distinct invalid bytes distinct
		}
		i += size
		if unicode.IsSpace(r) {
			if inWord {
				add(ngramHash(prev1, end, 0, 2))
				add(ngramHash(prev2, prev1, end, 3))
				inWord = false
			}
			continue
		}
		if !inWord {
			prev2, prev1, inWord = 0, begin, true
			add(ngramHash(begin, code, 0, 2))
		} else {
			add(ngramHash(prev1, code, 0, 2))
			add(ngramHash(prev2, prev1, code, 3))
		}
		prev2, prev1 = prev1, code
	}
	if inWord {
		add(ngramHash(prev1, end, 0, 2))
		add(ngramHash(prev2, prev1, end, 3))
	}
	if first < 0 {
		return embedder.ErrEmptyText // unreachable: embedInto refuses blank texts
	}
	ss := sumSquares(dst)
	if ss <= 1e-10*rowsSq {
		// The rows cancelled, up to float32 rounding, which would be all
		// that is left to normalize: one row alone is still a
		// deterministic vector in the model's space.
		copy(dst, emb[int(first)*dim:int(first)*dim+dim])
		n, ss = 1, sumSquares(dst)
	}
	scaleMean(dst, n, ss, normalize)
	return nil
}

// ngramHash is FNV-1a over the n (2 or 3) code points a, b, c, each as 4
// little-endian bytes, preceded by n so a bigram and a trigram differ.
func ngramHash(a, b, c uint32, n int) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	h = (h ^ uint64(n)) * prime
	for k, x := range [3]uint32{a, b, c} {
		if k == n {
			break
		}
		for range 4 {
			h = (h ^ uint64(x&0xFF)) * prime
			x >>= 8
		}
	}
	return h
}

// modelErr reports a model.safetensors whose tensors are not a static
// model's, wrapping safetensors.ErrInvalid as the parser's errors do.
func modelErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", safetensors.ErrInvalid, fmt.Sprintf(format, args...))
}
