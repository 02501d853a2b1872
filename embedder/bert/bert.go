// Package bert runs BERT-architecture sentence-transformers models
// (all-MiniLM-L6-v2, bge-small-en-v1.5, e5-small-v2, gte-small and their
// relatives) in pure Go, without cgo or ONNX Runtime, from the standard
// sentence-transformers directory: config.json, model.safetensors,
// tokenizer.json, modules.json and 1_Pooling/config.json.
//
// The forward pass is the Hugging Face BertModel's: word + position +
// token-type embeddings and LayerNorm, then per layer multi-head
// self-attention, residual and LayerNorm, an erf-GELU feed-forward block,
// residual and LayerNorm; then the sentence-transformers pooling (mean over
// the tokens, or the [CLS] vector) and L2 normalization when modules.json
// has a Normalize module. Its output equals ONNX Runtime's on the same
// weights within 1e-4 per component (bert_onnx_test.go).
//
// Invariants:
//   - A Model is immutable after Load and safe for concurrent use; each call
//     takes its working memory from a pool, so steady-state embedding
//     allocates only the returned vectors and the tokenizer's encodings.
//   - Sequences are never padded: products over tokens run on all of a
//     batch's tokens stacked together and attention runs per sequence (see
//     forward.go), which is what padding with an attention mask computes.
//   - Identity().Hash covers the weights, config.json, the tokenizer and
//     every setting that changes vectors.
//
// Matrix products run on hand-written AVX2/FMA kernels where the CPU has
// them (kernels_amd64.s) and on portable Go otherwise or under the purego
// build tag (kernels_other.go). The package is written here rather than
// taken from a Go inference library because none on the module proxy runs
// BERT near ONNX Runtime's speed (hugot's pure-Go backend is 5-20× slower
// by its maintainers' account) and a sentence encoder needs only a dozen
// operations.
package bert

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/internal/stlayout"
	"github.com/vecbolt/vecbolt/embedder/safetensors"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"
)

// DefaultBatchSize is how many texts go through the network together.
const DefaultBatchSize = 32

// maxBatchTokens caps the tokens of one batch (see Model.run).
const maxBatchTokens = 4096

// WeightsFile and ArchitectureFile are the files of a sentence-transformers
// directory this package reads besides the tokenizer and pooling config.
const (
	WeightsFile      = "model.safetensors"
	ArchitectureFile = "config.json"
)

// Option configures Load.
type Option func(*settings)

type settings struct {
	threads   int
	batchSize int
	// ov holds the options every transformer family shares.
	ov stlayout.Overrides
}

// WithThreads sets how many goroutines one call spreads its batches over
// (default GOMAXPROCS). A single short text always runs on one.
func WithThreads(n int) Option { return func(s *settings) { s.threads = n } }

// WithBatchSize sets how many texts run through the network together
// (default 32). Texts are sorted by length first, so a batch holds texts of
// similar length.
func WithBatchSize(n int) Option { return func(s *settings) { s.batchSize = n } }

// WithName overrides the model name reported in Identity.
func WithName(name string) Option { return func(s *settings) { s.ov.Name = name } }

// WithPooling overrides the directory's pooling (mean or CLS).
func WithPooling(p embedder.Pooling) Option { return func(s *settings) { s.ov.Pooling = p } }

// WithMaxLength overrides the maximum sequence length, counting [CLS] and
// [SEP]; it may not exceed the network's position table.
func WithMaxLength(n int) Option { return func(s *settings) { s.ov.MaxLen = n } }

// WithNormalize overrides whether vectors are L2-normalized.
func WithNormalize(on bool) Option { return func(s *settings) { s.ov.Normalize = &on } }

// WithPrefixes overrides the query and document prefixes.
func WithPrefixes(query, document string) Option {
	return func(s *settings) { s.ov.QueryPrefix, s.ov.DocumentPrefix = &query, &document }
}

// Stats counts what a Model has done since it was loaded.
type Stats struct {
	// Texts is the number of texts embedded; Tokens the tokens run through
	// the network.
	Texts, Tokens int64
	// Truncated is how many texts exceeded the maximum length and were
	// cut; DroppedTokens how many tokens were cut in total.
	Truncated, DroppedTokens int64
}

// Model is a BERT sentence encoder run in pure Go. It implements
// embedder.Embedder.
type Model struct {
	arch      Architecture
	cfg       embedder.ModelConfig
	tok       *tokenizer.Tokenizer
	w         *weights
	id        embedder.Identity
	threads   int
	batchSize int
	maxTokens int // maxBatchTokens; tests lower it

	scratch sync.Pool // *scratch

	texts, tokens, truncated, dropped atomic.Int64
}

// Load reads a sentence-transformers model directory: config.json and
// model.safetensors (float32, or float16/bfloat16 converted on load),
// tokenizer.json, and the pooling, normalization, length and prefix settings
// that stlayout.ReadModelConfig finds (vecbolt.json or the
// sentence-transformers files).
//
// Errors wrap embedder.ErrModelConfig for bad configuration, ErrWeights for
// a network this package cannot run (naming the tensor and the shapes), and
// safetensors.ErrInvalid for a malformed weights file.
func Load(ctx context.Context, dir string, opts ...Option) (*Model, error) {
	s := settings{threads: runtime.GOMAXPROCS(0), batchSize: DefaultBatchSize}
	for _, o := range opts {
		o(&s)
	}
	if s.threads < 1 {
		return nil, fmt.Errorf("bert: threads %d must be at least 1", s.threads)
	}
	if s.batchSize < 1 {
		return nil, fmt.Errorf("bert: batch size %d must be at least 1", s.batchSize)
	}
	cfg, err := stlayout.ReadModelConfig(dir)
	if err != nil {
		return nil, fmt.Errorf("bert: loading model %s: %w", dir, err)
	}
	s.ov.Apply(&cfg)
	if cfg.Name == "" {
		abs, _ := filepath.Abs(dir)
		cfg.Name = filepath.Base(abs)
	}
	switch cfg.Pooling {
	case embedder.PoolingMean, embedder.PoolingCLS:
	default:
		return nil, fmt.Errorf("%w: pooling %q (want %q or %q)", embedder.ErrModelConfig, cfg.Pooling, embedder.PoolingMean, embedder.PoolingCLS)
	}
	if cfg.MaxSeqLength < 2 {
		return nil, fmt.Errorf("%w: maximum length %d must be at least 2 ([CLS] and [SEP])", embedder.ErrModelConfig, cfg.MaxSeqLength)
	}
	archBytes, err := os.ReadFile(filepath.Join(dir, ArchitectureFile))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrWeights, dir, err)
	}
	arch, err := parseArchitecture(archBytes)
	if err != nil {
		return nil, err
	}
	if cfg.MaxSeqLength > arch.MaxPositions {
		// The registry's default (512) for a model with a smaller position
		// table is not an error: cut to what the network can read.
		if s.ov.MaxLen != 0 {
			return nil, fmt.Errorf("%w: maximum length %d exceeds the network's %d positions (config.json max_position_embeddings)", embedder.ErrModelConfig, cfg.MaxSeqLength, arch.MaxPositions)
		}
		cfg.MaxSeqLength = arch.MaxPositions
	}
	if cfg.MaxSeqLength < 2 {
		return nil, fmt.Errorf("%w: config.json max_position_embeddings %d leaves no room for [CLS] and [SEP]", ErrWeights, arch.MaxPositions)
	}
	tokPath := filepath.Join(dir, "tokenizer.json")
	tokBytes, err := os.ReadFile(tokPath)
	if err != nil {
		return nil, fmt.Errorf("bert: loading model %s: %w", dir, err)
	}
	tok, err := tokenizer.Parse(tokBytes, tokenizer.WithMaxLength(cfg.MaxSeqLength))
	if err != nil {
		return nil, fmt.Errorf("bert: %s: %w", tokPath, err)
	}
	if cls, sep, _, _ := tok.SpecialIDs(); cls < 0 || sep < 0 {
		return nil, fmt.Errorf("%w: %s: the vocabulary lacks [CLS] or [SEP], which BERT models need", embedder.ErrModelConfig, tokPath)
	}
	if tok.VocabSize() > arch.Vocab {
		return nil, fmt.Errorf("%w: tokenizer.json has %d tokens but config.json vocab_size is %d", ErrWeights, tok.VocabSize(), arch.Vocab)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	wb, err := os.ReadFile(filepath.Join(dir, WeightsFile))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrWeights, dir, err)
	}
	st, err := safetensors.Parse(wb)
	if err != nil {
		return nil, fmt.Errorf("bert: %s: %w", filepath.Join(dir, WeightsFile), err)
	}
	w, err := loadWeights(st, arch)
	if err != nil {
		return nil, fmt.Errorf("bert: %s: %w", dir, err)
	}
	m := &Model{arch: arch, cfg: cfg, tok: tok, w: w, threads: s.threads, batchSize: s.batchSize, maxTokens: maxBatchTokens}
	m.id = embedder.Identity{Name: cfg.Name, Hash: identityHash(wb, archBytes, tokBytes, cfg), Dim: arch.Hidden, Pooling: string(cfg.Pooling)}
	return m, nil
}

// identityHash is SHA-256 over the weights, config.json, tokenizer.json and
// the settings that change vectors, each part length-prefixed so no two
// different inputs hash alike by concatenation.
func identityHash(weights, arch, tok []byte, cfg embedder.ModelConfig) string {
	h := sha256.New()
	h.Write([]byte("vecbolt-bert-identity-v1\n"))
	c, _ := json.Marshal(struct {
		Pooling        embedder.Pooling `json:"pooling"`
		Normalize      bool             `json:"normalize"`
		MaxSeqLength   int              `json:"max_seq_length"`
		QueryPrefix    string           `json:"query_prefix"`
		DocumentPrefix string           `json:"document_prefix"`
	}{cfg.Pooling, cfg.Normalize, cfg.MaxSeqLength, cfg.QueryPrefix, cfg.DocumentPrefix})
	for _, b := range [][]byte{weights, arch, tok, c} {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// IsModelDir reports whether dir holds what Load needs to find the network
// (config.json and model.safetensors whose config.json declares a BERT
// architecture), so a dispatcher can tell a transformer from a static model
// that also ships model.safetensors.
func IsModelDir(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, ArchitectureFile))
	if err != nil {
		return false
	}
	if st, err := os.Stat(filepath.Join(dir, WeightsFile)); err != nil || !st.Mode().IsRegular() {
		return false
	}
	var probe struct {
		ModelType string `json:"model_type"`
		Hidden    int    `json:"hidden_size"`
		Layers    int    `json:"num_hidden_layers"`
	}
	return json.Unmarshal(b, &probe) == nil && probe.Hidden > 0 && probe.Layers > 0
}

// Identity describes the model: name, content hash, dimension, pooling.
func (m *Model) Identity() embedder.Identity { return m.id }

// Config returns the model's effective configuration.
func (m *Model) Config() embedder.ModelConfig { return m.cfg }

// Architecture returns the network's shape from config.json.
func (m *Model) Architecture() Architecture { return m.arch }

// Tokenizer returns the model's tokenizer.
func (m *Model) Tokenizer() *tokenizer.Tokenizer { return m.tok }

// Kernel names the matrix-product kernel in use ("avx2-fma" or "generic").
func (m *Model) Kernel() string { return kernelName() }

// Stats returns counters since the model was loaded.
func (m *Model) Stats() Stats {
	return Stats{Texts: m.texts.Load(), Tokens: m.tokens.Load(), Truncated: m.truncated.Load(), DroppedTokens: m.dropped.Load()}
}

// Profile embeds texts (as documents) on one goroutine and returns where
// the forward passes spent their time, for benchmarks: the share of the
// matrix products and their FLOP rate. Timing each phase costs a little,
// so Profile is slower than EmbedDocuments.
func (m *Model) Profile(ctx context.Context, texts []string) (Breakdown, error) {
	encs := make([]tokenizer.Encoding, len(texts))
	for i, t := range texts {
		encs[i] = m.tok.Encode(m.cfg.DocumentPrefix+t, true)
	}
	out := make([][]float32, len(texts))
	for i := range out {
		out[i] = make([]float32, m.arch.Hidden)
	}
	var b Breakdown
	sc := &scratch{prof: &b}
	for start := 0; start < len(encs); start += m.batchSize {
		if err := ctx.Err(); err != nil {
			return b, err
		}
		idx := make([]int, 0, m.batchSize)
		sc.reset()
		for i := start; i < min(start+m.batchSize, len(encs)); i++ {
			sc.add(encs[i].IDs, encs[i].TypeIDs)
			idx = append(idx, i)
		}
		if err := m.embedBatch(sc, idx, out); err != nil {
			return b, err
		}
	}
	return b, nil
}

// EmbedQuery embeds a search query, with the model's query prefix.
func (m *Model) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	v, err := m.embed(ctx, []string{text}, m.cfg.QueryPrefix)
	if err != nil {
		return nil, err
	}
	return v[0], nil
}

// EmbedDocuments embeds texts to store, with the model's document prefix,
// one vector per text in order. An empty text fails the whole call with
// embedder.ErrEmptyText naming its index; over-long texts are truncated and
// counted in Stats.
func (m *Model) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	return m.embed(ctx, texts, m.cfg.DocumentPrefix)
}

func (m *Model) embed(ctx context.Context, texts []string, prefix string) ([][]float32, error) {
	if len(texts) == 0 {
		return [][]float32{}, nil
	}
	e, err := stlayout.Encode(m.tok, texts, prefix)
	if err != nil {
		return nil, err
	}
	for i, enc := range e.Encs {
		for _, ty := range enc.TypeIDs {
			if int(ty) >= m.arch.TypeVocab {
				return nil, fmt.Errorf("%w: text %d: the tokenizer's template gives token type %d, but config.json type_vocab_size is %d", ErrWeights, i, ty, m.arch.TypeVocab)
			}
		}
	}
	encs := e.Encs
	out := make([][]float32, len(texts))
	flat := make([]float32, len(texts)*m.arch.Hidden)
	for i := range out {
		out[i] = flat[i*m.arch.Hidden : (i+1)*m.arch.Hidden : (i+1)*m.arch.Hidden]
	}
	if err := m.run(ctx, encs, out); err != nil {
		return nil, err
	}
	m.texts.Add(int64(len(texts)))
	m.tokens.Add(e.Tokens)
	m.truncated.Add(e.Truncated)
	m.dropped.Add(e.Dropped)
	return out, nil
}

// run embeds encs into out: sorted by length, cut into batches, the
// batches shared among up to m.threads goroutines.
func (m *Model) run(ctx context.Context, encs []tokenizer.Encoding, out [][]float32) error {
	// Sorting by length keeps similar lengths in a batch, so attention's
	// per-sequence work is balanced; stable, so results are deterministic.
	order := make([]int, len(encs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(encs[a].IDs) - len(encs[b].IDs) })
	// A call smaller than threads × batch size is cut into one batch per
	// thread, so a single batch does not leave the other cores idle.
	// A batch also stops at maxBatchTokens tokens, which bounds a worker's
	// scratch memory (about 30 KB per token for MiniLM's shape) whatever
	// the texts' lengths.
	bs := max(1, min(m.batchSize, (len(order)+m.threads-1)/m.threads))
	bounds := []int{0}
	tokens := 0
	for i, o := range order {
		n := len(encs[o].IDs)
		if i > bounds[len(bounds)-1] && (i-bounds[len(bounds)-1] == bs || tokens+n > m.maxTokens) {
			bounds = append(bounds, i)
			tokens = 0
		}
		tokens += n
	}
	bounds = append(bounds, len(order))
	nb := len(bounds) - 1
	workers := min(m.threads, nb)
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	work := func() {
		sc, _ := m.scratch.Get().(*scratch)
		if sc == nil {
			sc = &scratch{}
		}
		defer m.scratch.Put(sc)
		for {
			b := int(next.Add(1)) - 1
			if b >= nb {
				return
			}
			if err := ctx.Err(); err != nil {
				errOnce.Do(func() { firstErr = err })
				return
			}
			idx := order[bounds[b]:bounds[b+1]]
			sc.reset()
			for _, i := range idx {
				sc.add(encs[i].IDs, encs[i].TypeIDs)
			}
			if err := m.embedBatch(sc, idx, out); err != nil {
				errOnce.Do(func() { firstErr = err })
				return
			}
		}
	}
	if workers <= 1 {
		work()
		return firstErr
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(work)
	}
	wg.Wait()
	return firstErr
}

// errInvalidVector reports a non-finite output, which only a broken
// network produces; such a vector must never reach an index.
var errInvalidVector = errors.New("bert: model produced an invalid vector")

// embedBatch runs the batch in sc and writes the pooled vector of its i-th
// sequence to out[idx[i]].
func (m *Model) embedBatch(sc *scratch, idx []int, out [][]float32) error {
	m.forward(sc)
	H := m.arch.Hidden
	sc.pool = grow(sc.pool, H)
	off := 0
	for r, L := range sc.lens {
		dst := out[idx[r]]
		pool(dst, sc.x[off*H:(off+L)*H], H, m.cfg.Pooling, sc.pool)
		if m.cfg.Normalize {
			normalize(dst)
		}
		for j, v := range dst {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%w: %s: component %d of text %d is %v", errInvalidVector, m.id.Name, j, idx[r], v)
			}
		}
		off += L
	}
	return nil
}

// pool combines one sequence's token rows into dst: the first row for CLS
// pooling, else the mean of all rows, accumulated in float64 (acc is
// scratch of len(dst)). Every row is a real token: sequences are not
// padded.
func pool(dst, rows []float32, H int, p embedder.Pooling, acc []float64) {
	if p == embedder.PoolingCLS {
		copy(dst, rows[:H])
		return
	}
	clear(acc)
	n := len(rows) / H
	for t := 0; t < n; t++ {
		for j, v := range rows[t*H : (t+1)*H] {
			acc[j] += float64(v)
		}
	}
	for j := range dst {
		dst[j] = float32(acc[j] / float64(max(n, 1)))
	}
}

// normalize scales v to unit length; the norm is clamped at 1e-12 as
// torch.nn.functional.normalize does, so a zero vector stays zero.
func normalize(v []float32) {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	n := math.Max(math.Sqrt(ss), 1e-12)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
}
