package models

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/vecbolt/vecbolt/embedder/bert"
	"github.com/vecbolt/vecbolt/embedder/onnx"
	"github.com/vecbolt/vecbolt/embedder/safetensors"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"
)

// writeBERTDir writes a sentence-transformers directory with random BERT
// weights (hidden 16, one layer) and the tiny tokenizer; with withONNX it
// also copies the tiny ONNX network in, as a directory both backends can
// run. (embedder/bert's own tests check the weights' numerics; here only
// which backend loads matters.)
func writeBERTDir(t testing.TB, withONNX bool) string {
	t.Helper()
	dir := t.TempDir()
	tokJSON, err := os.ReadFile(filepath.Join(tinyDir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Parse(tokJSON)
	if err != nil {
		t.Fatal(err)
	}
	const H, I = 16, 32
	V := tok.VocabSize()
	r := rand.New(rand.NewPCG(1, 1))
	var ts []safetensors.Tensor
	add := func(name string, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() * 0.2)
		}
		ts = append(ts, safetensors.F32Tensor(name, shape, v))
	}
	add("embeddings.word_embeddings.weight", V, H)
	add("embeddings.position_embeddings.weight", 64, H)
	add("embeddings.token_type_embeddings.weight", 2, H)
	add("embeddings.LayerNorm.weight", H)
	add("embeddings.LayerNorm.bias", H)
	p := "encoder.layer.0."
	for _, n := range []string{"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"} {
		add(p+n+".weight", H, H)
		add(p+n+".bias", H)
	}
	add(p+"intermediate.dense.weight", I, H)
	add(p+"intermediate.dense.bias", I)
	add(p+"output.dense.weight", H, I)
	add(p+"output.dense.bias", H)
	for _, n := range []string{"attention.output.LayerNorm", "output.LayerNorm"} {
		add(p+n+".weight", H)
		add(p+n+".bias", H)
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, ts, nil); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"model.safetensors": buf.Bytes(),
		"tokenizer.json":    tokJSON,
		"config.json": []byte(fmt.Sprintf(`{"model_type":"bert","hidden_size":%d,"num_hidden_layers":1,"num_attention_heads":2,
			"intermediate_size":%d,"vocab_size":%d,"max_position_embeddings":64,"hidden_act":"gelu"}`, H, I, V)),
	}
	if withONNX {
		for _, name := range []string{"model.onnx", "modules.json", "1_Pooling/config.json", "sentence_bert_config.json"} {
			b, err := os.ReadFile(filepath.Join(tinyDir, name))
			if err != nil {
				t.Fatal(err)
			}
			files[name] = b
		}
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

// TestLoadBackends: which backend runs a transformer directory, with and
// without ONNX Runtime, and what an explicit backend does.
func TestLoadBackends(t *testing.T) {
	ctx := context.Background()
	goOnly := writeBERTDir(t, false)
	both := writeBERTDir(t, true)
	static := filepath.Join(t.TempDir(), "static")
	writeStaticModelDir(t, static)
	_, ortErr := onnx.FindRuntime("")
	isBERT := func(e any) bool { _, ok := e.(*bert.Model); return ok }
	isONNX := func(e any) bool { _, ok := e.(*onnx.Model); return ok }

	e, err := Load(ctx, goOnly)
	if err != nil || !isBERT(e) {
		t.Fatalf("safetensors-only transformer: %T %v, want *bert.Model", e, err)
	}
	if e.Identity().Dim != 16 {
		t.Errorf("dim %d, want 16", e.Identity().Dim)
	}
	e, err = Load(ctx, both)
	switch {
	case ortErr == nil && (err != nil || !isONNX(e)):
		t.Errorf("both layouts, ONNX Runtime installed: %T %v, want *onnx.Model", e, err)
	case ortErr != nil && (err != nil || !isBERT(e)):
		t.Errorf("both layouts, no ONNX Runtime: %T %v, want *bert.Model", e, err)
	}
	if c, ok := e.(interface{ Close() error }); ok {
		c.Close()
	}
	if e, err = Load(ctx, both, WithBackend(BackendGo), WithBERT(bert.WithThreads(1))); err != nil || !isBERT(e) {
		t.Errorf("BackendGo: %T %v", e, err)
	}
	e, err = Load(ctx, both, WithBackend(BackendONNX))
	switch {
	case ortErr == nil && (err != nil || !isONNX(e)):
		t.Errorf("BackendONNX: %T %v", e, err)
	case ortErr != nil && !errors.Is(err, onnx.ErrNoRuntime):
		t.Errorf("BackendONNX without the runtime: %v, want onnx.ErrNoRuntime", err)
	}
	if c, ok := e.(interface{ Close() error }); ok {
		c.Close()
	}
	if _, err := Load(ctx, static, WithBackend(BackendGo)); !errors.Is(err, ErrNotModel) {
		t.Errorf("BackendGo on a static model: %v, want ErrNotModel", err)
	}
	if _, err := Load(ctx, goOnly, WithBackend(BackendONNX)); !errors.Is(err, ErrNotModel) {
		t.Errorf("BackendONNX without model.onnx: %v, want ErrNotModel", err)
	}
	if _, err := Load(ctx, goOnly, WithBackend("tpu")); err == nil {
		t.Error("an unknown backend was accepted")
	}
	// A static model still loads as one.
	if e, err := Load(ctx, static); err != nil || isBERT(e) {
		t.Errorf("static directory: %T %v", e, err)
	}
}
