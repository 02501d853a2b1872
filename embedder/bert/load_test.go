package bert

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/safetensors"
)

// TestLoadErrors: every malformed directory is refused with an error that
// names the offending tensor or setting.
func TestLoadErrors(t *testing.T) {
	a := testModelArch(t)
	vals, shapes := randomTensors(a, 2)
	drop := func(victim string) func(string, []int, []float32) (safetensors.Tensor, bool) {
		return func(n string, s []int, v []float32) (safetensors.Tensor, bool) {
			return safetensors.F32Tensor(n, s, v), n != victim
		}
	}
	reshape := func(victim string) func(string, []int, []float32) (safetensors.Tensor, bool) {
		return func(n string, s []int, v []float32) (safetensors.Tensor, bool) {
			if n == victim {
				s = []int{s[1], s[0]}
			}
			return safetensors.F32Tensor(n, s, v), true
		}
	}
	intType := func(n string, s []int, v []float32) (safetensors.Tensor, bool) {
		if n == "encoder.layer.0.output.dense.bias" {
			return safetensors.I8Tensor(n, s, make([]int8, len(v))), true
		}
		return safetensors.F32Tensor(n, s, v), true
	}
	cases := []struct {
		name   string
		conv   func(string, []int, []float32) (safetensors.Tensor, bool)
		edit   func(dir string)
		target error
		want   []string
	}{
		{"missing tensor", drop("encoder.layer.1.attention.self.key.bias"), nil, ErrWeights,
			[]string{`no tensor "encoder.layer.1.attention.self.key.bias"`}},
		{"no word embeddings", drop("embeddings.word_embeddings.weight"), nil, ErrWeights,
			[]string{`"embeddings.word_embeddings.weight"`}},
		{"transposed", reshape("encoder.layer.0.intermediate.dense.weight"), nil, ErrWeights,
			[]string{`"encoder.layer.0.intermediate.dense.weight" has shape [36 40], want [40 36]`}},
		{"integer tensor", intType, nil, ErrWeights, []string{"encoder.layer.0.output.dense.bias", "I8"}},
		{"too few layers in file", nil, func(dir string) { editConfig(t, dir, `"num_hidden_layers":2`, `"num_hidden_layers":3`) }, ErrWeights,
			[]string{`no tensor "encoder.layer.2.`}},
		{"heads do not divide hidden", nil, func(dir string) { editConfig(t, dir, `"num_attention_heads":3`, `"num_attention_heads":5`) }, ErrWeights,
			[]string{"hidden_size 36 is not a multiple of num_attention_heads 5"}},
		{"tanh gelu", nil, func(dir string) { editConfig(t, dir, `"hidden_act":"gelu"`, `"hidden_act":"gelu_new"`) }, ErrWeights,
			[]string{`hidden_act "gelu_new"`}},
		{"not bert", nil, func(dir string) { editConfig(t, dir, `"model_type":"bert"`, `"model_type":"roberta"`) }, ErrWeights,
			[]string{`model_type "roberta"`}},
		{"bad config json", nil, func(dir string) { os.WriteFile(filepath.Join(dir, "config.json"), []byte("{"), 0o644) }, ErrWeights,
			[]string{"config.json"}},
		{"no config.json", nil, func(dir string) { os.Remove(filepath.Join(dir, "config.json")) }, ErrWeights,
			[]string{"config.json"}},
		{"no weights", nil, func(dir string) { os.Remove(filepath.Join(dir, "model.safetensors")) }, ErrWeights,
			[]string{"model.safetensors"}},
		{"corrupt weights", nil, func(dir string) { os.WriteFile(filepath.Join(dir, "model.safetensors"), []byte("1234567890"), 0o644) },
			safetensors.ErrInvalid, []string{"model.safetensors"}},
		{"vocabulary larger than table", nil, func(dir string) { editConfig(t, dir, `"vocab_size":345`, `"vocab_size":100`) }, ErrWeights,
			[]string{"vocab_size is 100"}},
		{"one position", nil, func(dir string) { editConfig(t, dir, `"max_position_embeddings":40`, `"max_position_embeddings":1`) }, ErrWeights,
			[]string{"max_position_embeddings 1"}},
		{"bad pooling", nil, func(dir string) {
			os.WriteFile(filepath.Join(dir, "1_Pooling", "config.json"), []byte(`{"pooling_mode_max_tokens":true}`), 0o644)
		}, embedder.ErrModelConfig, []string{"pooling"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeModelDir(t, a, "mean", vals, shapes, c.conv)
			if c.edit != nil {
				c.edit(dir)
			}
			_, err := Load(context.Background(), dir)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !errors.Is(err, c.target) {
				t.Errorf("error %v does not wrap %v", err, c.target)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	dir := writeModelDir(t, a, "mean", vals, shapes, nil)
	if _, err := Load(context.Background(), dir, WithMaxLength(a.MaxPositions+1)); !errors.Is(err, embedder.ErrModelConfig) {
		t.Errorf("max length past the position table: %v, want ErrModelConfig", err)
	}
	for _, o := range []Option{WithThreads(0), WithBatchSize(0)} {
		if _, err := Load(context.Background(), dir, o); err == nil {
			t.Error("a zero thread count or batch size was accepted")
		}
	}
}

func editConfig(t testing.TB, dir, old, repl string) {
	t.Helper()
	p := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("config.json %s lacks %s", b, old)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, repl, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestStorageVariants: float16 weights (converted on load) and names with
// the "bert." prefix give exactly the vectors of the plain float32 file
// when the weights are representable in float16.
func TestStorageVariants(t *testing.T) {
	a := testModelArch(t)
	vals, shapes := randomTensors(a, 3)
	for n, v := range vals { // round to float16 so all variants hold equal weights
		tt := safetensors.F16Tensor(n, shapes[n], v)
		f, err := tt.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		vals[n] = f
	}
	texts := []string{"the quick brown fox", "vector database search", "Ça coûte 5€"}
	embed := func(dir string) ([][]float32, embedder.Identity) {
		m, err := Load(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		v, err := m.EmbedDocuments(context.Background(), texts)
		if err != nil {
			t.Fatal(err)
		}
		return v, m.Identity()
	}
	base, baseID := embed(writeModelDir(t, a, "mean", vals, shapes, nil))
	for name, conv := range map[string]func(string, []int, []float32) (safetensors.Tensor, bool){
		"float16": func(n string, s []int, v []float32) (safetensors.Tensor, bool) {
			return safetensors.F16Tensor(n, s, v), true
		},
		"bert. prefix": func(n string, s []int, v []float32) (safetensors.Tensor, bool) {
			return safetensors.F32Tensor("bert."+n, s, v), true
		},
	} {
		got, id := embed(writeModelDir(t, a, "mean", vals, shapes, conv))
		for i := range got {
			if !slices.Equal(got[i], base[i]) {
				t.Errorf("%s: text %d differs from the float32 file", name, i)
			}
		}
		if name == "float16" && id.Hash == baseID.Hash {
			t.Errorf("%s: identity hash equals the float32 file's; the hash must cover the weights file", name)
		}
	}
	// Settings that change vectors change the identity.
	dir := writeModelDir(t, a, "mean", vals, shapes, nil)
	ids := map[string]bool{}
	for _, opts := range [][]Option{nil, {WithPooling(embedder.PoolingCLS)}, {WithNormalize(false)}, {WithMaxLength(16)}, {WithPrefixes("q: ", "")}} {
		m, err := Load(context.Background(), dir, opts...)
		if err != nil {
			t.Fatal(err)
		}
		ids[m.Identity().Hash+string(m.Identity().Pooling)] = true
	}
	if len(ids) != 5 {
		t.Errorf("%d distinct identities for 5 different settings", len(ids))
	}
}

// TestPrefixes: queries and documents get their prefixes, as in the ONNX
// embedder: EmbedQuery(x) with prefix p equals EmbedDocuments(p+x) with none.
func TestPrefixes(t *testing.T) {
	a := testModelArch(t)
	vals, shapes := randomTensors(a, 4)
	dir := writeModelDir(t, a, "mean", vals, shapes, nil)
	ctx := context.Background()
	m, err := Load(ctx, dir, WithPrefixes("query: ", "passage: "))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Load(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := m.EmbedQuery(ctx, "brown fox")
	d, _ := m.EmbedDocuments(ctx, []string{"brown fox"})
	want, _ := plain.EmbedDocuments(ctx, []string{"query: brown fox", "passage: brown fox"})
	if !slices.Equal(q, want[0]) || !slices.Equal(d[0], want[1]) {
		t.Error("prefixed embeddings differ from embedding the prefixed texts")
	}
	if slices.Equal(q, d[0]) {
		t.Error("query and document prefixes made no difference")
	}
}

// TestConcurrent: many goroutines embedding at once (run with -race) get
// what one goroutine gets, whatever the batching.
func TestConcurrent(t *testing.T) {
	a := testModelArch(t)
	vals, shapes := randomTensors(a, 5)
	dir := writeModelDir(t, a, "mean", vals, shapes, nil)
	ctx := context.Background()
	m, err := Load(ctx, dir, WithBatchSize(2), WithThreads(3))
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"fox", "quick brown fox jumps", "the lazy dog", "music movie computer phone today",
		"a", "search", "machine learning is amazing", "blue sky and rain"}
	one, err := Load(ctx, dir, WithBatchSize(1), WithThreads(1))
	if err != nil {
		t.Fatal(err)
	}
	want, err := one.EmbedDocuments(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for r := range 5 {
				sub := texts[(g+r)%len(texts):]
				got, err := m.EmbedDocuments(ctx, sub)
				if err != nil {
					t.Error(err)
					return
				}
				for i := range got {
					compareVectors(t, "concurrent", got[i], want[(g+r)%len(texts)+i])
				}
			}
		})
	}
	wg.Wait()
	if s := m.Stats(); s.Texts == 0 || s.Tokens < s.Texts*3 {
		t.Errorf("stats %+v", s)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.EmbedDocuments(cctx, texts); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

// TestProfile: the breakdown accounts for the work (every phase ran, the
// FLOP counts match the shapes) and profiling does not change results.
func TestProfile(t *testing.T) {
	a := testModelArch(t)
	vals, shapes := randomTensors(a, 7)
	m, err := Load(context.Background(), writeModelDir(t, a, "mean", vals, shapes, nil))
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"the quick brown fox", "fox"}
	b, err := m.Profile(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	var T, sq float64
	for _, s := range texts {
		n := float64(len(m.Tokenizer().Encode(s, true).IDs))
		T += n
		sq += n * n
	}
	H, I := float64(a.Hidden), float64(a.Intermediate)
	if want := float64(a.Layers) * 2 * T * H * (4*H + 2*I); b.DenseFLOPs != want {
		t.Errorf("dense FLOPs %v, want %v", b.DenseFLOPs, want)
	}
	if want := float64(a.Layers) * 4 * sq * H; b.AttentionFLOPs != want {
		t.Errorf("attention FLOPs %v, want %v", b.AttentionFLOPs, want)
	}
	if b.Dense <= 0 || b.AttentionProducts <= 0 || b.Softmax <= 0 || b.GELU <= 0 || b.LayerNorm <= 0 || b.Total() < b.Dense {
		t.Errorf("breakdown %+v", b)
	}
}
