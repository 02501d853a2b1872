package bert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/vecbolt/vecbolt/embedder/safetensors"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"
)

// compareVectors fails unless got and want agree within 1e-4 per component
// and have cosine similarity at least 0.99999.
func compareVectors(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", what, len(got), len(want))
	}
	var dot, ng, nw, worst float64
	at := 0
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		dot += g * w
		ng += g * g
		nw += w * w
		if d := math.Abs(g - w); d > worst {
			worst, at = d, i
		}
	}
	cos := dot / math.Sqrt(ng*nw)
	if worst > 1e-4 || !(cos >= 0.99999) {
		t.Errorf("%s: max |diff| %.3g at component %d (%v vs %v), cosine %.7f; want ≤ 1e-4 and ≥ 0.99999",
			what, worst, at, got[at], want[at], cos)
	}
}

// testArch is the shape of the models the Go tests write themselves (no
// Python needed): small, with a head width (12) and an intermediate size
// (48) that are not multiples of the 16-column panels, so the tail paths of
// gemm run too.
var testArch = Architecture{
	ModelType: "bert", Hidden: 36, Layers: 2, Heads: 3, Intermediate: 40,
	MaxPositions: 40, TypeVocab: 2, LayerNormEps: 1e-12, HiddenAct: "gelu",
	PositionEmbedding: "absolute",
}

// randomTensors returns random BERT weights in Hugging Face's layout
// (Linear weights [out, in]), by name.
func randomTensors(a Architecture, seed uint64) (map[string][]float32, map[string][]int) {
	r := rand.New(rand.NewPCG(seed, 7))
	vals, shapes := map[string][]float32{}, map[string][]int{}
	add := func(name string, scale, offset float64, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(offset + r.NormFloat64()*scale)
		}
		vals[name], shapes[name] = v, shape
	}
	H, I := a.Hidden, a.Intermediate
	ws := 1 / math.Sqrt(float64(H))
	add("embeddings.word_embeddings.weight", 0.5, 0, a.Vocab, H)
	add("embeddings.position_embeddings.weight", 0.2, 0, a.MaxPositions, H)
	add("embeddings.token_type_embeddings.weight", 0.2, 0, a.TypeVocab, H)
	add("embeddings.LayerNorm.weight", 0.1, 1, H)
	add("embeddings.LayerNorm.bias", 0.1, 0, H)
	for l := range a.Layers {
		p := fmt.Sprintf("encoder.layer.%d.", l)
		for _, n := range []string{"query", "key", "value"} {
			add(p+"attention.self."+n+".weight", 1.5*ws, 0, H, H)
			add(p+"attention.self."+n+".bias", 0.1, 0, H)
		}
		add(p+"attention.output.dense.weight", ws, 0, H, H)
		add(p+"attention.output.dense.bias", 0.1, 0, H)
		add(p+"attention.output.LayerNorm.weight", 0.1, 1, H)
		add(p+"attention.output.LayerNorm.bias", 0.1, 0, H)
		add(p+"intermediate.dense.weight", ws, 0, I, H)
		add(p+"intermediate.dense.bias", 0.1, 0, I)
		add(p+"output.dense.weight", 1/math.Sqrt(float64(I)), 0, H, I)
		add(p+"output.dense.bias", 0.1, 0, H)
		add(p+"output.LayerNorm.weight", 0.1, 1, H)
		add(p+"output.LayerNorm.bias", 0.1, 0, H)
	}
	return vals, shapes
}

// writeModelDir writes a sentence-transformers directory: the committed
// tiny tokenizer, the given weights (each tensor through conv, which picks
// its name and dtype), config.json and the pooling files.
func writeModelDir(t testing.TB, a Architecture, pooling string, vals map[string][]float32, shapes map[string][]int,
	conv func(name string, shape []int, v []float32) (safetensors.Tensor, bool)) string {
	t.Helper()
	dir := t.TempDir()
	tokJSON, err := os.ReadFile("../testdata/tinybert/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Parse(tokJSON)
	if err != nil {
		t.Fatal(err)
	}
	if a.Vocab < tok.VocabSize() {
		t.Fatalf("architecture vocab %d < tokenizer's %d", a.Vocab, tok.VocabSize())
	}
	var ts []safetensors.Tensor
	for name, v := range vals {
		if conv == nil {
			ts = append(ts, safetensors.F32Tensor(name, shapes[name], v))
			continue
		}
		if tt, ok := conv(name, shapes[name], v); ok {
			ts = append(ts, tt)
		}
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, ts, nil); err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(a)
	files := map[string][]byte{
		"tokenizer.json":            tokJSON,
		"model.safetensors":         buf.Bytes(),
		"config.json":               cfg,
		"modules.json":              []byte(`[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},{"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}]`),
		"1_Pooling/config.json":     []byte(fmt.Sprintf(`{"word_embedding_dimension":%d,"pooling_mode_cls_token":%v,"pooling_mode_mean_tokens":%v}`, a.Hidden, pooling == "cls", pooling == "mean")),
		"sentence_bert_config.json": []byte(`{"max_seq_length":32}`),
	}
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// testModelArch is testArch with the committed tokenizer's vocabulary.
func testModelArch(t testing.TB) Architecture {
	t.Helper()
	tok, err := tokenizer.Load("../testdata/tinybert/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	a := testArch
	a.Vocab = tok.VocabSize() + 3 // a table larger than the vocabulary is fine
	return a
}
