package embedder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// This file holds the parts of the ONNX embedder that do not need cgo:
// options, configuration checks, identity hashing. onnx.go (cgo builds) runs
// models; onnx_nocgo.go makes LoadONNX report why it cannot.

const (
	// DefaultONNXOutput is the output LoadONNX reads unless told otherwise.
	DefaultONNXOutput = "last_hidden_state"
	// DefaultBatchSize is how many texts go through the network at once.
	DefaultBatchSize = 32
)

// ErrModelSignature is returned when a model's declared inputs or outputs
// are not what a BERT-style embedding model has; the message names the
// offending tensor.
var ErrModelSignature = errors.New("embedder: model inputs/outputs not usable")

// ErrEmbedderClosed is returned by an embedder used after Close.
var ErrEmbedderClosed = errors.New("embedder: embedder is closed")

// ONNXStats counts what an ONNX embedder has done since it was loaded.
type ONNXStats struct {
	// Texts is the number of texts embedded.
	Texts int64
	// Truncated is how many of them exceeded the maximum sequence length
	// and were cut; DroppedTokens is how many tokens were cut in total.
	Truncated     int64
	DroppedTokens int64
	// Batches is the number of ONNX Runtime runs; RunTime their total
	// wall time (concurrent runs add up).
	Batches int64
	RunTime time.Duration
}

// ONNXOption configures LoadONNX.
type ONNXOption func(*onnxSettings)

type onnxSettings struct {
	libPath     string
	batchSize   int
	threads     int
	spin        bool
	runs        int
	name        string
	output      string
	pooling     Pooling
	maxLen      int
	normalize   *bool
	queryPrefix *string
	docPrefix   *string
}

// WithLibraryPath loads ONNX Runtime from exactly this shared library,
// overriding $ONNXRUNTIME_LIB and the cache. ONNX Runtime is loaded once per
// process: asking for a different library later is an error.
func WithLibraryPath(path string) ONNXOption {
	return func(s *onnxSettings) { s.libPath = path }
}

// WithBatchSize sets how many texts run through the network at once
// (default 32). Larger batches pad more; smaller ones call ORT more often.
func WithBatchSize(n int) ONNXOption {
	return func(s *onnxSettings) { s.batchSize = n }
}

// WithIntraOpThreads sets ONNX Runtime's intra-op thread count for the
// session (default: GOMAXPROCS). Concurrent callers share these threads.
func WithIntraOpThreads(n int) ONNXOption {
	return func(s *onnxSettings) { s.threads = n }
}

// WithThreadSpinning lets ONNX Runtime's intra-op threads busy-wait for
// work between operators (ORT's default). It is off by default here: an
// embedded database shares the CPU with its host program, and spinning
// threads burn cores that other goroutines (and other callers' runs) need.
func WithThreadSpinning(on bool) ONNXOption {
	return func(s *onnxSettings) { s.spin = on }
}

// WithConcurrentRuns sets how many batches may be inside ONNX Runtime at
// once across all callers (default: GOMAXPROCS / intra-op threads, at least
// 1). Each run already spreads over the intra-op threads, so letting more
// runs in than the cores can hold only makes them fight over the CPU; callers
// beyond the limit wait for a slot (their tokenization and pooling still
// overlap with the running batch).
func WithConcurrentRuns(n int) ONNXOption {
	return func(s *onnxSettings) { s.runs = n }
}

// WithONNXName overrides the model name reported in Identity.
func WithONNXName(name string) ONNXOption {
	return func(s *onnxSettings) { s.name = name }
}

// WithONNXOutput names the output holding the token vectors
// (default "last_hidden_state").
func WithONNXOutput(name string) ONNXOption {
	return func(s *onnxSettings) { s.output = name }
}

// WithONNXPooling overrides the directory's pooling ("mean" or "cls").
func WithONNXPooling(p Pooling) ONNXOption {
	return func(s *onnxSettings) { s.pooling = p }
}

// WithONNXMaxLength overrides the maximum sequence length, counting [CLS]
// and [SEP].
func WithONNXMaxLength(n int) ONNXOption {
	return func(s *onnxSettings) { s.maxLen = n }
}

// WithONNXNormalize overrides whether vectors are L2-normalized.
func WithONNXNormalize(on bool) ONNXOption {
	return func(s *onnxSettings) { s.normalize = &on }
}

// WithONNXPrefixes overrides the query and document prefixes.
func WithONNXPrefixes(query, document string) ONNXOption {
	return func(s *onnxSettings) { s.queryPrefix, s.docPrefix = &query, &document }
}

// onnxPrepared is everything LoadONNX settles before touching ONNX Runtime.
type onnxPrepared struct {
	settings           onnxSettings
	cfg                ModelConfig
	modelPath, tokPath string
	tok                *Tokenizer
}

// prepareONNX applies the options, reads the directory's configuration and
// tokenizer and finds the network: the checks that need no runtime, shared
// by cgo and non-cgo builds so both report the same configuration errors.
func prepareONNX(dir string, opts []ONNXOption) (onnxPrepared, error) {
	var none onnxPrepared
	s := onnxSettings{batchSize: DefaultBatchSize, threads: runtime.GOMAXPROCS(0), output: DefaultONNXOutput}
	for _, o := range opts {
		o(&s)
	}
	if s.batchSize < 1 {
		return none, fmt.Errorf("embedder: batch size %d must be at least 1", s.batchSize)
	}
	if s.threads < 1 {
		return none, fmt.Errorf("embedder: intra-op threads %d must be at least 1", s.threads)
	}
	if s.runs == 0 {
		s.runs = max(1, runtime.GOMAXPROCS(0)/s.threads)
	}
	if s.runs < 1 {
		return none, fmt.Errorf("embedder: concurrent runs %d must be at least 1", s.runs)
	}
	cfg, err := ReadModelConfig(dir)
	if err != nil {
		return none, fmt.Errorf("loading model %s: %w", dir, err)
	}
	if s.pooling != "" {
		cfg.Pooling = s.pooling
	}
	if s.maxLen != 0 {
		cfg.MaxSeqLength = s.maxLen
	}
	if s.normalize != nil {
		cfg.Normalize = *s.normalize
	}
	if s.queryPrefix != nil {
		cfg.QueryPrefix, cfg.DocumentPrefix = *s.queryPrefix, *s.docPrefix
	}
	if s.name != "" {
		cfg.Name = s.name
	}
	if err := cfg.validate("options"); err != nil {
		return none, err
	}
	if cfg.Name == "" {
		abs, _ := filepath.Abs(dir)
		cfg.Name = filepath.Base(abs)
	}
	modelPath, err := findONNXFile(dir, cfg.Model)
	if err != nil {
		return none, err
	}
	tokPath := filepath.Join(dir, "tokenizer.json")
	tok, err := LoadTokenizer(tokPath, WithMaxLength(cfg.MaxSeqLength))
	if err != nil {
		return none, fmt.Errorf("loading model %s: %w", dir, err)
	}
	if cls, sep, _, _ := tok.SpecialIDs(); cls < 0 || sep < 0 {
		return none, fmt.Errorf("%w: %s: the vocabulary lacks [CLS] or [SEP], which BERT models need", ErrModelConfig, tokPath)
	}
	return onnxPrepared{settings: s, cfg: cfg, modelPath: modelPath, tokPath: tokPath, tok: tok}, nil
}

// findONNXFile locates the network inside a model directory.
func findONNXFile(dir, configured string) (string, error) {
	cands := []string{defaultONNXFile, filepath.Join("onnx", defaultONNXFile)}
	if configured != "" {
		cands = []string{configured}
	}
	for _, c := range cands {
		p := filepath.Join(dir, c)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: model directory %s has no %s", ErrModelConfig, dir, strings.Join(cands, " nor "))
}

// ctxReader stops a long read (hashing a 90 MB model) when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
