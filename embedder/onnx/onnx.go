//go:build cgo

package onnx

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/internal/stlayout"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"

	ort "github.com/yalue/onnxruntime_go"
)

// Model is a transformer embedding model run on ONNX Runtime.
//
// One session serves all calls and goroutines: ONNX Runtime documents
// Session::Run as safe to call concurrently, and onnxruntime_go's
// DynamicAdvancedSession keeps no per-run state in Go (its Run builds its
// argument arrays afresh in each call). A session per call would rebuild the
// graph every time and multiply thread pools (the trap Chroma fell into, see
// anchors.md). How many batches run at once is bounded by run slots
// (WithConcurrentRuns), so concurrent callers share the cores instead of
// oversubscribing them; tokenization and pooling run outside the slots.
//
// Texts are sorted by token count before batching and each batch is padded
// only to its longest member. Pooling is mean over the attention mask or the
// [CLS] vector, then L2 normalization with the norm clamped at 1e-12.
type Model struct {
	cfg       embedder.ModelConfig
	tok       *tokenizer.Tokenizer
	session   *ort.DynamicAdvancedSession
	feed      []string // declared inputs in the order given to Run
	output    string
	dim       int
	batchSize int
	id        embedder.Identity
	libPath   string

	// mu is held shared by every Run and exclusively by Close, so Close
	// never destroys the session under a running batch.
	mu     sync.RWMutex
	closed bool
	// slots bounds the batches inside ORT at once (WithConcurrentRuns).
	slots chan struct{}

	texts         atomic.Int64
	truncated     atomic.Int64
	droppedTokens atomic.Int64
	batches       atomic.Int64
	runNanos      atomic.Int64

	bufs sync.Pool // *batchBuffers
}

// Load loads a transformer embedding model from a directory holding
// model.onnx (or onnx/model.onnx), tokenizer.json and its configuration
// (vecbolt.json or the sentence-transformers files; see stlayout.ReadModelConfig).
//
// It returns an error wrapping ErrNoRuntime when ONNX Runtime cannot be
// found, embedder.ErrModelConfig for bad configuration and ErrModelSignature when the
// model lacks input_ids, attention_mask or the output.
func Load(ctx context.Context, dir string, opts ...Option) (*Model, error) {
	p, err := prepareONNX(dir, opts)
	if err != nil {
		return nil, err
	}
	s, cfg, modelPath, tokPath, tok := p.settings, p.cfg, p.modelPath, p.tokPath, p.tok
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	libPath, err := ortProcess.ensure(s.libPath)
	if err != nil {
		return nil, err
	}
	feed, outDim, err := inspectModel(modelPath, s.output)
	if err != nil {
		return nil, err
	}
	hash, err := modelHash(ctx, modelPath, tokPath, cfg)
	if err != nil {
		return nil, err
	}
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("embedder: ONNX Runtime session options: %w", err)
	}
	defer so.Destroy()
	if err := so.SetIntraOpNumThreads(s.threads); err != nil {
		return nil, fmt.Errorf("embedder: setting %d intra-op threads: %w", s.threads, err)
	}
	if err := so.SetInterOpNumThreads(1); err != nil {
		return nil, fmt.Errorf("embedder: setting inter-op threads: %w", err)
	}
	spin := "0"
	if s.spin {
		spin = "1"
	}
	if err := so.AddSessionConfigEntry("session.intra_op.allow_spinning", spin); err != nil {
		return nil, fmt.Errorf("embedder: configuring thread spinning: %w", err)
	}
	sess, err := ort.NewDynamicAdvancedSession(modelPath, feed, []string{s.output}, so)
	if err != nil {
		return nil, fmt.Errorf("embedder: creating ONNX Runtime session for %s: %w", modelPath, err)
	}
	e := &Model{
		cfg: cfg, tok: tok, session: sess, feed: feed, output: s.output,
		batchSize: s.batchSize, libPath: libPath, dim: outDim,
		slots: make(chan struct{}, s.runs),
	}
	if e.dim <= 0 {
		// The export left the hidden size symbolic: learn it from one run.
		if e.dim, err = e.probeDim(ctx); err != nil {
			sess.Destroy()
			return nil, err
		}
	}
	e.id = embedder.Identity{Name: cfg.Name, Hash: hash, Dim: e.dim, Pooling: string(cfg.Pooling)}
	return e, nil
}

// inspectModel checks the declared signature and returns the inputs to
// feed, in declaration order, and the hidden size if the output declares it
// (else 0). Only declared inputs are fed: some exports (e.g. DistilBERT-based
// ones) have no token_type_ids, and ORT rejects undeclared inputs.
func inspectModel(modelPath, output string) ([]string, int, error) {
	ins, outs, err := ort.GetInputOutputInfo(modelPath)
	if err != nil {
		return nil, 0, fmt.Errorf("embedder: reading %s: %w", modelPath, err)
	}
	var feed []string
	have := map[string]bool{}
	for _, in := range ins {
		switch in.Name {
		case inputIDsName, attentionMaskName, tokenTypeIDsName:
		default:
			return nil, 0, fmt.Errorf("%w: %s declares input %q, which a BERT embedding model does not have (vecbolt feeds %s, %s, %s)",
				ErrModelSignature, modelPath, in.Name, inputIDsName, attentionMaskName, tokenTypeIDsName)
		}
		if in.DataType != ort.TensorElementDataTypeInt64 || len(in.Dimensions) != 2 {
			return nil, 0, fmt.Errorf("%w: %s: input %q is %v %v, want int64 [batch, sequence]",
				ErrModelSignature, modelPath, in.Name, in.DataType, in.Dimensions)
		}
		have[in.Name] = true
		feed = append(feed, in.Name)
	}
	for _, need := range []string{inputIDsName, attentionMaskName} {
		if !have[need] {
			return nil, 0, fmt.Errorf("%w: %s has no input %q (declared: %s)", ErrModelSignature, modelPath, need, ioNames(ins))
		}
	}
	for _, o := range outs {
		if o.Name != output {
			continue
		}
		if o.DataType != ort.TensorElementDataTypeFloat || len(o.Dimensions) != 3 {
			return nil, 0, fmt.Errorf("%w: %s: output %q is %v %v, want float32 [batch, sequence, hidden]",
				ErrModelSignature, modelPath, output, o.DataType, o.Dimensions)
		}
		return feed, int(o.Dimensions[2]), nil
	}
	return nil, 0, fmt.Errorf("%w: %s has no output %q (declared: %s)", ErrModelSignature, modelPath, output, ioNames(outs))
}

func ioNames(infos []ort.InputOutputInfo) string {
	names := make([]string, len(infos))
	for i, in := range infos {
		names[i] = in.Name
	}
	return strings.Join(names, ", ")
}

// probeDim runs the network once on [CLS] [SEP] to learn its hidden size.
func (e *Model) probeDim(ctx context.Context) (int, error) {
	cls, sep, _, _ := e.tok.SpecialIDs()
	ids := []int64{int64(cls), int64(sep)}
	mask := []int64{1, 1}
	types := []int64{0, 0}
	out, err := e.run(ctx, 1, 2, ids, mask, types, nil)
	if err != nil {
		return 0, fmt.Errorf("embedder: probing the model's hidden size: %w", err)
	}
	defer out.Destroy()
	shape := out.GetShape()
	if len(shape) != 3 || shape[2] < 1 {
		return 0, fmt.Errorf("%w: output %q has shape %v, want [batch, sequence, hidden]", ErrModelSignature, e.output, shape)
	}
	return int(shape[2]), nil
}

// embedder.Identity describes the model: name, content hash, dimension, pooling.
func (e *Model) Identity() embedder.Identity { return e.id }

// Config returns the model's effective configuration.
func (e *Model) Config() embedder.ModelConfig { return e.cfg }

// Tokenizer returns the model's tokenizer.
func (e *Model) Tokenizer() *tokenizer.Tokenizer { return e.tok }

// LibraryPath returns the ONNX Runtime library the process loaded.
func (e *Model) LibraryPath() string { return e.libPath }

// Stats returns counters since the model was loaded.
func (e *Model) Stats() Stats {
	return Stats{
		Texts:         e.texts.Load(),
		Truncated:     e.truncated.Load(),
		DroppedTokens: e.droppedTokens.Load(),
		Batches:       e.batches.Load(),
		RunTime:       time.Duration(e.runNanos.Load()),
	}
}

// Close releases the session. It waits for running batches; later calls
// return ErrClosed. Closing twice is not an error.
func (e *Model) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	if err := e.session.Destroy(); err != nil {
		return fmt.Errorf("embedder: destroying ONNX session: %w", err)
	}
	return nil
}

// EmbedQuery embeds a search query, with the model's query prefix.
func (e *Model) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	v, err := e.embed(ctx, []string{text}, e.cfg.QueryPrefix)
	if err != nil {
		return nil, err
	}
	return v[0], nil
}

// EmbedDocuments embeds texts to store, with the model's document prefix,
// one vector per text in order. An empty text fails the whole call with
// embedder.ErrEmptyText naming its index; over-long texts are truncated and counted
// in Stats.
func (e *Model) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	return e.embed(ctx, texts, e.cfg.DocumentPrefix)
}

func (e *Model) embed(ctx context.Context, texts []string, prefix string) ([][]float32, error) {
	if len(texts) == 0 {
		return [][]float32{}, nil
	}
	enc, err := stlayout.Encode(e.tok, texts, prefix)
	if err != nil {
		return nil, err
	}
	encs, truncated, dropped := enc.Encs, enc.Truncated, enc.Dropped
	// Sorting by length keeps similar lengths in a batch, so little padding
	// is computed. Stable, so equal lengths keep input order (determinism).
	order := make([]int, len(texts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(encs[a].IDs) - len(encs[b].IDs) })

	out := make([][]float32, len(texts))
	flat := make([]float32, len(texts)*e.dim)
	for i := range out {
		out[i] = flat[i*e.dim : (i+1)*e.dim : (i+1)*e.dim]
	}
	bb, _ := e.bufs.Get().(*batchBuffers)
	if bb == nil {
		bb = &batchBuffers{}
	}
	defer e.bufs.Put(bb)
	for start := 0; start < len(order); start += e.batchSize {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		idx := order[start:min(start+e.batchSize, len(order))]
		seq := len(encs[idx[len(idx)-1]].IDs) // sorted: the last is longest
		n := len(idx) * seq
		bb.ids = grow(bb.ids, n)
		bb.mask = grow(bb.mask, n)
		bb.types = grow(bb.types, n)
		_, _, pad, _ := e.tok.SpecialIDs()
		pad = max(pad, 0)
		for r, ti := range idx {
			enc := encs[ti]
			row := r * seq
			for j := 0; j < seq; j++ {
				if j < len(enc.IDs) {
					bb.ids[row+j] = int64(enc.IDs[j])
					bb.mask[row+j] = 1
					bb.types[row+j] = int64(enc.TypeIDs[j])
				} else {
					bb.ids[row+j], bb.mask[row+j], bb.types[row+j] = int64(pad), 0, 0
				}
			}
		}
		bb.hidden = grow(bb.hidden, n*e.dim)
		res, err := e.run(ctx, len(idx), seq, bb.ids[:n], bb.mask[:n], bb.types[:n], bb.hidden[:n*e.dim])
		if err != nil {
			return nil, err
		}
		res.Destroy()
		for r, ti := range idx {
			v := out[ti]
			stlayout.PoolInto(v, bb.hidden[r*seq*e.dim:(r+1)*seq*e.dim], bb.mask[r*seq:(r+1)*seq], e.dim, e.cfg.Pooling)
			if e.cfg.Normalize {
				stlayout.NormalizeL2(v)
			}
			if err := stlayout.CheckFinite(v); err != nil {
				return nil, fmt.Errorf("embedder: model %s produced an invalid vector for text %d: %s", e.id.Name, ti, err)
			}
		}
	}
	e.texts.Add(int64(len(texts)))
	e.truncated.Add(truncated)
	e.droppedTokens.Add(dropped)
	return out, nil
}

// run executes one batch. When hidden is non-nil ORT writes the output
// straight into it (no copy); otherwise ORT allocates it. The caller
// destroys the returned tensor.
func (e *Model) run(ctx context.Context, batch, seq int, ids, mask, types []int64, hidden []float32) (ort.Value, error) {
	select {
	case e.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-e.slots }()
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, ErrClosed
	}
	shape := ort.NewShape(int64(batch), int64(seq))
	inputs := make([]ort.Value, 0, len(e.feed))
	defer func() {
		for _, v := range inputs {
			v.Destroy()
		}
	}()
	for _, name := range e.feed {
		var data []int64
		switch name {
		case inputIDsName:
			data = ids
		case attentionMaskName:
			data = mask
		default:
			data = types
		}
		t, err := ort.NewTensor(shape, data)
		if err != nil {
			return nil, fmt.Errorf("embedder: input tensor %s: %w", name, err)
		}
		inputs = append(inputs, t)
	}
	outputs := []ort.Value{nil}
	if hidden != nil {
		t, err := ort.NewTensor(ort.NewShape(int64(batch), int64(seq), int64(e.dim)), hidden)
		if err != nil {
			return nil, fmt.Errorf("embedder: output tensor: %w", err)
		}
		outputs[0] = t
	}
	ro, err := ort.NewRunOptions()
	if err != nil {
		if outputs[0] != nil {
			outputs[0].Destroy()
		}
		return nil, fmt.Errorf("embedder: run options: %w", err)
	}
	defer ro.Destroy()
	// Cancelling ctx asks ORT to abandon the run rather than finish a
	// batch nobody waits for.
	// If the callback already started, wait for it: ro is destroyed on
	// return and Terminate must not touch it afterwards.
	terminated := make(chan struct{})
	stop := context.AfterFunc(ctx, func() { ro.Terminate(); close(terminated) })
	t0 := time.Now()
	err = e.session.RunWithOptions(inputs, outputs, ro)
	if !stop() {
		<-terminated
	}
	e.runNanos.Add(int64(time.Since(t0)))
	e.batches.Add(1)
	if err != nil {
		if outputs[0] != nil {
			outputs[0].Destroy()
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("embedder: running %s on a batch of %d×%d tokens: %w", e.id.Name, batch, seq, err)
	}
	return outputs[0], nil
}

// Names of the tensors a sentence-transformers BERT export declares.
const (
	inputIDsName      = "input_ids"
	attentionMaskName = "attention_mask"
	tokenTypeIDsName  = "token_type_ids"
)

// modelHash is the content hash of Identity: SHA-256 over the network, the
// tokenizer and the configuration that changes vectors (pooling,
// normalization, length, prefixes). Each part is length-prefixed so no two
// different inputs hash alike by concatenation.
func modelHash(ctx context.Context, modelPath, tokPath string, cfg embedder.ModelConfig) (string, error) {
	h := sha256.New()
	io.WriteString(h, "vecbolt-onnx-identity-v1\n")
	for _, p := range []string{modelPath, tokPath} {
		if err := hashFileInto(ctx, h, p); err != nil {
			return "", err
		}
	}
	c, _ := json.Marshal(struct {
		Pooling        embedder.Pooling `json:"pooling"`
		Normalize      bool             `json:"normalize"`
		MaxSeqLength   int              `json:"max_seq_length"`
		QueryPrefix    string           `json:"query_prefix"`
		DocumentPrefix string           `json:"document_prefix"`
	}{cfg.Pooling, cfg.Normalize, cfg.MaxSeqLength, cfg.QueryPrefix, cfg.DocumentPrefix})
	writeLenPrefixed(h, c)
	return hex.EncodeToString(h.Sum(nil)), nil
}

func writeLenPrefixed(h hash.Hash, b []byte) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}

func hashFileInto(ctx context.Context, h hash.Hash, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("embedder: hashing model: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("embedder: hashing model: %w", err)
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(st.Size()))
	h.Write(n[:])
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		return fmt.Errorf("embedder: hashing %s: %w", path, err)
	}
	return nil
}

// batchBuffers are the per-batch arrays, pooled so steady-state embedding
// allocates only the returned vectors.
type batchBuffers struct {
	ids, mask, types []int64
	hidden           []float32
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}
