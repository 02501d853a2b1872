package onnx

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

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/internal/stlayout"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"
)

// This file holds the parts of the ONNX embedder that do not need cgo:
// options, configuration checks, identity hashing. onnx.go (cgo builds) runs
// models; nocgo.go makes Load report why it cannot.

const (
	// DefaultOutput is the output Load reads unless told otherwise.
	DefaultOutput = "last_hidden_state"
	// DefaultBatchSize is how many texts go through the network at once.
	DefaultBatchSize = 32
)

// ErrModelSignature is returned when a model's declared inputs or outputs
// are not what a BERT-style embedding model has; the message names the
// offending tensor.
var ErrModelSignature = errors.New("embedder: model inputs/outputs not usable")

// ErrClosed is returned by an embedder used after Close.
var ErrClosed = errors.New("embedder: embedder is closed")

// Stats counts what an ONNX embedder has done since it was loaded.
type Stats struct {
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

// Option configures Load.
type Option func(*onnxSettings)

type onnxSettings struct {
	libPath   string
	batchSize int
	threads   int
	spin      bool
	runs      int
	output    string
	// ov holds the options every transformer family shares.
	ov stlayout.Overrides
}

// WithLibraryPath loads ONNX Runtime from exactly this shared library,
// overriding $ONNXRUNTIME_LIB and the cache. ONNX Runtime is loaded once per
// process: asking for a different library later is an error.
func WithLibraryPath(path string) Option {
	return func(s *onnxSettings) { s.libPath = path }
}

// WithBatchSize sets how many texts run through the network at once
// (default 32). Larger batches pad more; smaller ones call ORT more often.
func WithBatchSize(n int) Option {
	return func(s *onnxSettings) { s.batchSize = n }
}

// WithIntraOpThreads sets ONNX Runtime's intra-op thread count for the
// session (default: GOMAXPROCS). Concurrent callers share these threads.
func WithIntraOpThreads(n int) Option {
	return func(s *onnxSettings) { s.threads = n }
}

// WithThreadSpinning lets ONNX Runtime's intra-op threads busy-wait for
// work between operators (ORT's default). It is off by default here: an
// embedded database shares the CPU with its host program, and spinning
// threads burn cores that other goroutines (and other callers' runs) need.
func WithThreadSpinning(on bool) Option {
	return func(s *onnxSettings) { s.spin = on }
}

// WithConcurrentRuns sets how many batches may be inside ONNX Runtime at
// once across all callers (default: GOMAXPROCS / intra-op threads, at least
// 1). Each run already spreads over the intra-op threads, so letting more
// runs in than the cores can hold only makes them fight over the CPU; callers
// beyond the limit wait for a slot (their tokenization and pooling still
// overlap with the running batch).
func WithConcurrentRuns(n int) Option {
	return func(s *onnxSettings) { s.runs = n }
}

// WithName overrides the model name reported in Identity.
func WithName(name string) Option {
	return func(s *onnxSettings) { s.ov.Name = name }
}

// WithOutput names the output holding the token vectors
// (default "last_hidden_state").
func WithOutput(name string) Option {
	return func(s *onnxSettings) { s.output = name }
}

// WithPooling overrides the directory's pooling ("mean" or "cls").
func WithPooling(p embedder.Pooling) Option {
	return func(s *onnxSettings) { s.ov.Pooling = p }
}

// WithMaxLength overrides the maximum sequence length, counting [CLS]
// and [SEP].
func WithMaxLength(n int) Option {
	return func(s *onnxSettings) { s.ov.MaxLen = n }
}

// WithNormalize overrides whether vectors are L2-normalized.
func WithNormalize(on bool) Option {
	return func(s *onnxSettings) { s.ov.Normalize = &on }
}

// WithPrefixes overrides the query and document prefixes.
func WithPrefixes(query, document string) Option {
	return func(s *onnxSettings) { s.ov.QueryPrefix, s.ov.DocumentPrefix = &query, &document }
}

// onnxPrepared is everything Load settles before touching ONNX Runtime.
type onnxPrepared struct {
	settings           onnxSettings
	cfg                embedder.ModelConfig
	modelPath, tokPath string
	tok                *tokenizer.Tokenizer
}

// prepareONNX applies the options, reads the directory's configuration and
// tokenizer and finds the network: the checks that need no runtime, shared
// by cgo and non-cgo builds so both report the same configuration errors.
func prepareONNX(dir string, opts []Option) (onnxPrepared, error) {
	var none onnxPrepared
	s := onnxSettings{batchSize: DefaultBatchSize, threads: runtime.GOMAXPROCS(0), output: DefaultOutput}
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
	cfg, err := stlayout.ReadModelConfig(dir)
	if err != nil {
		return none, fmt.Errorf("loading model %s: %w", dir, err)
	}
	s.ov.Apply(&cfg)
	if err := cfg.Validate("options"); err != nil {
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
	tok, err := tokenizer.Load(tokPath, tokenizer.WithMaxLength(cfg.MaxSeqLength))
	if err != nil {
		return none, fmt.Errorf("loading model %s: %w", dir, err)
	}
	if cls, sep, _, _ := tok.SpecialIDs(); cls < 0 || sep < 0 {
		return none, fmt.Errorf("%w: %s: the vocabulary lacks [CLS] or [SEP], which BERT models need", embedder.ErrModelConfig, tokPath)
	}
	return onnxPrepared{settings: s, cfg: cfg, modelPath: modelPath, tokPath: tokPath, tok: tok}, nil
}

// findONNXFile locates the network inside a model directory.
func findONNXFile(dir, configured string) (string, error) {
	cands := []string{defaultModelFile, filepath.Join("onnx", defaultModelFile)}
	if configured != "" {
		cands = []string{configured}
	}
	for _, c := range cands {
		p := filepath.Join(dir, c)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: model directory %s has no %s", embedder.ErrModelConfig, dir, strings.Join(cands, " nor "))
}

// defaultModelFile is the network's file name when the configuration
// names none: "model.onnx", or "onnx/model.onnx" as the Hugging Face
// exports lay it out.
const defaultModelFile = "model.onnx"

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
