package bert

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/vecbolt/vecbolt/embedder/safetensors"
)

// ErrWeights is wrapped by every error about model.safetensors or
// config.json not describing a BERT network this package can run: a missing
// tensor, a tensor of the wrong shape, an unsupported architecture setting.
var ErrWeights = errors.New("bert: invalid model weights")

// Architecture is the part of Hugging Face's config.json that fixes the
// network's shapes.
type Architecture struct {
	ModelType         string  `json:"model_type"`
	Hidden            int     `json:"hidden_size"`
	Layers            int     `json:"num_hidden_layers"`
	Heads             int     `json:"num_attention_heads"`
	Intermediate      int     `json:"intermediate_size"`
	Vocab             int     `json:"vocab_size"`
	MaxPositions      int     `json:"max_position_embeddings"`
	TypeVocab         int     `json:"type_vocab_size"`
	LayerNormEps      float64 `json:"layer_norm_eps"`
	HiddenAct         string  `json:"hidden_act"`
	PositionEmbedding string  `json:"position_embedding_type"`
}

// parseArchitecture reads and checks config.json.
func parseArchitecture(b []byte) (Architecture, error) {
	a := Architecture{TypeVocab: 2, LayerNormEps: 1e-12, HiddenAct: "gelu", PositionEmbedding: "absolute"}
	if err := json.Unmarshal(b, &a); err != nil {
		return a, fmt.Errorf("%w: config.json: %v", ErrWeights, err)
	}
	bad := func(format string, args ...any) (Architecture, error) {
		return a, fmt.Errorf("%w: config.json: %s", ErrWeights, fmt.Sprintf(format, args...))
	}
	switch a.ModelType {
	case "bert", "":
	default:
		return bad("model_type %q is not supported (this encoder runs BERT: all-MiniLM, bge, e5, gte)", a.ModelType)
	}
	if a.HiddenAct != "gelu" {
		return bad("hidden_act %q is not supported (only \"gelu\", the erf form BERT uses)", a.HiddenAct)
	}
	if a.PositionEmbedding != "absolute" {
		return bad("position_embedding_type %q is not supported (only \"absolute\")", a.PositionEmbedding)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"hidden_size", a.Hidden}, {"num_hidden_layers", a.Layers}, {"num_attention_heads", a.Heads},
		{"intermediate_size", a.Intermediate}, {"vocab_size", a.Vocab}, {"max_position_embeddings", a.MaxPositions},
		{"type_vocab_size", a.TypeVocab}} {
		if f.v < 1 || f.v > 1<<20 {
			return bad("%s %d out of range [1, %d]", f.name, f.v, 1<<20)
		}
	}
	if a.Hidden%a.Heads != 0 {
		return bad("hidden_size %d is not a multiple of num_attention_heads %d", a.Hidden, a.Heads)
	}
	if !(a.LayerNormEps > 0 && a.LayerNormEps < 1) {
		return bad("layer_norm_eps %v out of range (0, 1)", a.LayerNormEps)
	}
	return a, nil
}

// layerWeights are one transformer layer's parameters. Linear weights are
// packed into gemm panels (gemm.go); query, key and value are fused into one
// product of width 3×hidden.
type layerWeights struct {
	qkv, qkvBias      []float32
	attnOut, attnBias []float32
	ln1Gain, ln1Bias  []float32
	inter, interBias  []float32
	out, outBias      []float32
	ln2Gain, ln2Bias  []float32
}

// weights are the network's parameters in the layouts the forward pass uses.
type weights struct {
	word, pos, typ   []float32 // [vocab|positions|types][hidden]
	embGain, embBias []float32
	layers           []layerWeights
}

// tensorSource finds tensors by their Hugging Face BertModel name, with or
// without the "bert." prefix BertForX checkpoints carry, and checks shapes.
type tensorSource struct {
	st     *safetensors.File
	prefix string
}

func newTensorSource(st *safetensors.File) (tensorSource, error) {
	const probe = "embeddings.word_embeddings.weight"
	for _, p := range []string{"", "bert.", "model."} {
		if _, ok := st.Tensor(p + probe); ok {
			return tensorSource{st: st, prefix: p}, nil
		}
	}
	names := st.Names()
	if len(names) > 8 {
		names = append(names[:8], "...")
	}
	return tensorSource{}, fmt.Errorf("%w: model.safetensors has no tensor %q (nor with a \"bert.\" prefix); it holds %v", ErrWeights, probe, names)
}

// get returns the named tensor as float32 (F16, BF16 and F64 converted),
// checking its shape. alt is an older name for the same tensor
// (LayerNorm.gamma for LayerNorm.weight).
func (s tensorSource) get(name string, shape ...int) ([]float32, error) {
	full := s.prefix + name
	t, ok := s.st.Tensor(full)
	if !ok {
		alt := ""
		switch {
		case len(name) > 16 && name[len(name)-16:] == "LayerNorm.weight":
			alt = name[:len(name)-6] + "gamma"
		case len(name) > 14 && name[len(name)-14:] == "LayerNorm.bias":
			alt = name[:len(name)-4] + "beta"
		}
		if alt != "" {
			t, ok = s.st.Tensor(s.prefix + alt)
		}
		if !ok {
			return nil, fmt.Errorf("%w: model.safetensors has no tensor %q", ErrWeights, full)
		}
	}
	if !slices.Equal(t.Shape, shape) {
		return nil, fmt.Errorf("%w: tensor %q has shape %v, want %v (from config.json)", ErrWeights, t.Name, t.Shape, shape)
	}
	v, err := t.Float32s()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWeights, err)
	}
	return v, nil
}

// loadWeights reads every parameter the forward pass needs.
func loadWeights(st *safetensors.File, a Architecture) (*weights, error) {
	src, err := newTensorSource(st)
	if err != nil {
		return nil, err
	}
	H, I := a.Hidden, a.Intermediate
	w := &weights{}
	var firstErr error
	get := func(name string, shape ...int) []float32 {
		if firstErr != nil {
			return nil
		}
		v, err := src.get(name, shape...)
		if err != nil {
			firstErr = err
		}
		return v
	}
	w.word = get("embeddings.word_embeddings.weight", a.Vocab, H)
	w.pos = get("embeddings.position_embeddings.weight", a.MaxPositions, H)
	w.typ = get("embeddings.token_type_embeddings.weight", a.TypeVocab, H)
	w.embGain = get("embeddings.LayerNorm.weight", H)
	w.embBias = get("embeddings.LayerNorm.bias", H)
	for l := 0; l < a.Layers && firstErr == nil; l++ {
		p := fmt.Sprintf("encoder.layer.%d.", l)
		q := get(p+"attention.self.query.weight", H, H)
		k := get(p+"attention.self.key.weight", H, H)
		v := get(p+"attention.self.value.weight", H, H)
		qb := get(p+"attention.self.query.bias", H)
		kb := get(p+"attention.self.key.bias", H)
		vb := get(p+"attention.self.value.bias", H)
		lw := layerWeights{
			attnOut:   get(p+"attention.output.dense.weight", H, H),
			attnBias:  get(p+"attention.output.dense.bias", H),
			ln1Gain:   get(p+"attention.output.LayerNorm.weight", H),
			ln1Bias:   get(p+"attention.output.LayerNorm.bias", H),
			inter:     get(p+"intermediate.dense.weight", I, H),
			interBias: get(p+"intermediate.dense.bias", I),
			out:       get(p+"output.dense.weight", H, I),
			outBias:   get(p+"output.dense.bias", H),
			ln2Gain:   get(p+"output.LayerNorm.weight", H),
			ln2Bias:   get(p+"output.LayerNorm.bias", H),
		}
		if firstErr != nil {
			break
		}
		// Rows of a Linear weight are its outputs, so stacking the three
		// matrices row-wise makes one product whose outputs are q|k|v.
		lw.qkv = packPanels(slices.Concat(q, k, v), 3*H, H)
		lw.qkvBias = slices.Concat(qb, kb, vb)
		lw.attnOut = packPanels(lw.attnOut, H, H)
		lw.inter = packPanels(lw.inter, I, H)
		lw.out = packPanels(lw.out, H, I)
		w.layers = append(w.layers, lw)
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return w, nil
}
