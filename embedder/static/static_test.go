package static

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/safetensors"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"
)

// staticVocab is a tiny WordPiece vocabulary; ids are the indexes.
var staticVocab = []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "cat", "dog", "runs", "fast", "play", "##ing", "the", ".", "a", "b"}

const staticDim = 4

// staticRows gives every token a distinct, non-trivial vector.
func staticRows() []float32 {
	emb := make([]float32, len(staticVocab)*staticDim)
	for i := range staticVocab {
		for j := range staticDim {
			emb[i*staticDim+j] = float32(math.Sin(float64(i*staticDim+j+1))) * float32(1+i%3)
		}
	}
	return emb
}

func staticTestTokenizer(t testing.TB) *tokenizer.Tokenizer {
	t.Helper()
	tok, err := tokenizer.NewWordPiece(staticVocab)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type staticModelFiles struct {
	tensors []safetensors.Tensor
	config  string // "" = no config.json
}

func writeStaticModelDir(t testing.TB, dir string, mf staticModelFiles) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, mf.tensors, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tj, err := staticTestTokenizer(t).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), tj, 0o644); err != nil {
		t.Fatal(err)
	}
	if mf.config != "" {
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(mf.config), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// expected computes the pooling by its definition, in float64.
func staticExpected(ids []int, emb []float32, weights []float32, mapping []int32, normalize bool) []float64 {
	out := make([]float64, staticDim)
	for _, id := range ids {
		row := id
		if mapping != nil {
			row = int(mapping[id])
		}
		w := 1.0
		if weights != nil {
			w = float64(weights[id])
		}
		for j := range staticDim {
			out[j] += w * float64(emb[row*staticDim+j])
		}
	}
	var n float64
	for _, v := range out {
		n += v * v
	}
	div := float64(len(ids))
	if normalize {
		div = math.Sqrt(n)
	}
	for j := range out {
		out[j] /= div
	}
	return out
}

func staticCloseTo(t *testing.T, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("len %d, want %d", len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i])-want[i]) > tol {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestLoadLayouts(t *testing.T) {
	emb := staticRows()
	n := len(staticVocab)
	weights := make([]float32, n)
	for i := range weights {
		weights[i] = 0.25 + float32(i%4)/4
	}
	// Potion-like: 6 distinct rows shared through a mapping, per-token
	// weights, Model2Vec config.
	rows := 6
	mapping := make([]int32, n)
	for i := range mapping {
		mapping[i] = int32(i % rows)
	}
	mapI64 := make([]byte, 8*n)
	for i, m := range mapping {
		mapI64[8*i] = byte(m)
	}
	// int8 quantization with per-row scales.
	q := make([]int8, len(emb))
	scales := make([]float32, n)
	deq := make([]float32, len(emb))
	for i := range n {
		var mx float32
		for j := range staticDim {
			mx = max(mx, float32(math.Abs(float64(emb[i*staticDim+j]))))
		}
		scales[i] = mx / 127
		for j := range staticDim {
			q[i*staticDim+j] = int8(math.Round(float64(emb[i*staticDim+j] / scales[i])))
			deq[i*staticDim+j] = float32(q[i*staticDim+j]) * scales[i]
		}
	}
	// "the cat runs playing ." -> the cat runs play ##ing .
	text := "The cat runs playing ."
	ids := []int{11, 5, 7, 9, 10, 12}
	tests := []struct {
		name      string
		mf        staticModelFiles
		wantEmb   []float32
		weights   []float32
		mapping   []int32
		normalize bool
		tol       float64
	}{
		{"f32", staticModelFiles{tensors: []safetensors.Tensor{safetensors.F32Tensor("embeddings", []int{n, staticDim}, emb)}}, emb, nil, nil, true, 1e-6},
		{"f16", staticModelFiles{tensors: []safetensors.Tensor{safetensors.F16Tensor("embeddings", []int{n, staticDim}, emb)}}, emb, nil, nil, true, 2e-3},
		{"sentence-transformers name", staticModelFiles{tensors: []safetensors.Tensor{safetensors.F32Tensor("embedding.weight", []int{n, staticDim}, emb)}}, emb, nil, nil, true, 1e-6},
		{"i8 with scales and weights", staticModelFiles{tensors: []safetensors.Tensor{
			safetensors.I8Tensor("embeddings", []int{n, staticDim}, q),
			safetensors.F32Tensor("scales", []int{n}, scales),
			safetensors.F32Tensor("weights", []int{n}, weights),
		}}, deq, weights, nil, true, 1e-5},
		{"potion-like", staticModelFiles{
			tensors: []safetensors.Tensor{
				safetensors.F16Tensor("embeddings", []int{rows, staticDim}, emb[:rows*staticDim]),
				safetensors.F32Tensor("weights", []int{n}, weights),
				{Name: "mapping", DType: "I64", Shape: []int{n}, Data: mapI64},
			},
			config: `{"model_type":"model2vec","architectures":["StaticModel"],"tokenizer_name":"x","apply_pca":4,"apply_zipf":true,"hidden_dim":4,"seq_length":1000000,"normalize":true}`,
		}, emb, weights, mapping, true, 2e-3},
		{"not normalized", staticModelFiles{
			tensors: []safetensors.Tensor{safetensors.F32Tensor("embeddings", []int{n, staticDim}, emb)},
			config:  `{"normalize":false}`,
		}, emb, nil, nil, false, 1e-6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "mini-model")
			writeStaticModelDir(t, dir, tc.mf)
			m, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			id := m.Identity()
			if id.Name != "mini-model" || id.Dim != staticDim || id.Pooling != "weighted-mean" || len(id.Hash) != 64 {
				t.Errorf("identity = %+v", id)
			}
			got, err := m.EmbedQuery(context.Background(), text)
			if err != nil {
				t.Fatal(err)
			}
			staticCloseTo(t, got, staticExpected(ids, tc.wantEmb, tc.weights, tc.mapping, tc.normalize), tc.tol)
		})
	}
}

func TestStaticIdentityHash(t *testing.T) {
	emb := staticRows()
	n := len(staticVocab)
	base := t.TempDir()
	a, b, c := filepath.Join(base, "a"), filepath.Join(base, "b"), filepath.Join(base, "c")
	writeStaticModelDir(t, a, staticModelFiles{tensors: []safetensors.Tensor{safetensors.F32Tensor("embeddings", []int{n, staticDim}, emb)}, config: `{"model_name":"named"}`})
	writeStaticModelDir(t, b, staticModelFiles{tensors: []safetensors.Tensor{safetensors.F32Tensor("embeddings", []int{n, staticDim}, emb)}, config: `{"model_name":"named"}`})
	emb2 := append([]float32(nil), emb...)
	emb2[7] += 0.5
	writeStaticModelDir(t, c, staticModelFiles{tensors: []safetensors.Tensor{safetensors.F32Tensor("embeddings", []int{n, staticDim}, emb2)}, config: `{"model_name":"named"}`})
	ma, err := Load(a)
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := Load(b)
	mc, _ := Load(c)
	if ma.Identity().Name != "named" {
		t.Errorf("name %q, want the config's model_name", ma.Identity().Name)
	}
	if !ma.Identity().Equal(mb.Identity()) {
		t.Errorf("same files, different identities: %v vs %v", ma.Identity(), mb.Identity())
	}
	if ma.Identity().Equal(mc.Identity()) {
		t.Errorf("changed weights kept the identity %v", mc.Identity())
	}
	md, _ := Load(a, WithName("custom"))
	if md.Identity().Name != "custom" {
		t.Errorf("WithName ignored: %v", md.Identity())
	}
	// LoadFS reads the same layout from any fs.FS.
	me, err := LoadFS(os.DirFS(a))
	if err != nil || me.Identity().Hash != ma.Identity().Hash {
		t.Errorf("LoadFS: %v, %v", me, err)
	}
}

func TestNew(t *testing.T) {
	tok := staticTestTokenizer(t)
	emb := staticRows()
	m, err := New(tok, emb, staticDim, WithName("mem"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	vs, err := m.EmbedDocuments(ctx, []string{"cat", "dog runs", "a b"})
	if err != nil {
		t.Fatal(err)
	}
	staticCloseTo(t, vs[0], staticExpected([]int{5}, emb, nil, nil, true), 1e-6)
	staticCloseTo(t, vs[1], staticExpected([]int{6, 7}, emb, nil, nil, true), 1e-6)
	staticCloseTo(t, vs[2], staticExpected([]int{13, 14}, emb, nil, nil, true), 1e-6)
	for _, v := range vs {
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		if math.Abs(n-1) > 1e-5 {
			t.Errorf("norm² %v, want 1", n)
		}
	}
	// [UNK] is dropped: "cat zebra" == "cat".
	v1, _ := m.EmbedQuery(ctx, "cat zebra")
	staticCloseTo(t, v1, staticExpected([]int{5}, emb, nil, nil, true), 1e-6)
	// Truncation.
	mt, _ := New(tok, emb, staticDim, WithMaxTokens(1))
	v2, _ := mt.EmbedQuery(ctx, "dog cat cat")
	staticCloseTo(t, v2, staticExpected([]int{6}, emb, nil, nil, true), 1e-6)
	// embedder.Identity hash depends on the weights.
	w := make([]float32, len(staticVocab))
	for i := range w {
		w[i] = 1
	}
	mw, _ := New(tok, emb, staticDim, WithName("mem"), WithWeights(w))
	if mw.Identity().Hash == m.Identity().Hash {
		t.Error("weights do not change the identity hash")
	}
}

func TestStaticErrors(t *testing.T) {
	tok := staticTestTokenizer(t)
	emb := staticRows()
	m, err := New(tok, emb, staticDim)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, text := range []string{"", "  \n\t", "\u3000"} {
		if _, err := m.EmbedQuery(ctx, text); !errors.Is(err, embedder.ErrEmptyText) {
			t.Errorf("%q: err = %v, want embedder.ErrEmptyText", text, err)
		}
	}
	strict, err := New(tok, emb, staticDim, WithFallback(false))
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"zebra", "☃ ☃", "\u200b"} {
		if _, err := strict.EmbedQuery(ctx, text); !errors.Is(err, ErrNoTokens) {
			t.Errorf("%q without fallback: err = %v, want ErrNoTokens", text, err)
		}
	}
	_, err = m.EmbedDocuments(ctx, []string{"cat", "dog", ""})
	if !errors.Is(err, embedder.ErrEmptyText) || !strings.Contains(err.Error(), "text 2") {
		t.Errorf("EmbedDocuments err = %v, want embedder.ErrEmptyText naming text 2", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.EmbedDocuments(cctx, []string{"cat"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
	if err := m.Embed("cat", make([]float32, 3)); err == nil {
		t.Error("Embed into a short buffer: no error")
	}
	zero := make([]float32, len(staticVocab))
	mz, _ := New(tok, emb, staticDim, WithWeights(zero), WithFallback(false))
	if _, err := mz.EmbedQuery(ctx, "cat"); !errors.Is(err, ErrNoTokens) {
		t.Errorf("all-zero weights: err = %v, want ErrNoTokens", err)
	}

	nan := append([]float32(nil), emb...)
	nan[3] = float32(math.NaN())
	// Finite but so large that two of them sum to +Inf (and normalize to
	// NaN): "cat dog" embedded to NaN before New bounded them.
	huge := append([]float32(nil), emb...)
	huge[5] = 3e38
	bigWeights := make([]float32, len(staticVocab))
	for i := range bigWeights {
		bigWeights[i] = 1
	}
	bigWeights[7] = 1e30
	bad := []struct {
		name string
		fn   func() (*Model, error)
		want string
	}{
		{"nil tokenizer", func() (*Model, error) { return New(nil, emb, staticDim) }, "tokenizer"},
		{"zero dim", func() (*Model, error) { return New(tok, emb, 0) }, "positive"},
		{"ragged", func() (*Model, error) { return New(tok, emb[:len(emb)-1], staticDim) }, "multiple"},
		{"rows != vocab", func() (*Model, error) { return New(tok, emb[:8], staticDim) }, "rows"},
		{"weights length", func() (*Model, error) { return New(tok, emb, staticDim, WithWeights([]float32{1})) }, "weights"},
		{"mapping range", func() (*Model, error) {
			mp := make([]int32, len(staticVocab))
			mp[2] = 99
			return New(tok, emb, staticDim, WithMapping(mp))
		}, "row 99"},
		{"nan", func() (*Model, error) { return New(tok, nan, staticDim) }, "NaN"},
		{"huge component", func() (*Model, error) { return New(tok, huge, staticDim) }, "row 1 holds 3e+38, implausibly large"},
		{"huge weight", func() (*Model, error) { return New(tok, emb, staticDim, WithWeights(bigWeights)) }, "weight of token 7"},
		{"negative max tokens", func() (*Model, error) { return New(tok, emb, staticDim, WithMaxTokens(-1)) }, "negative"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.fn()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestLoadInvalid(t *testing.T) {
	emb := staticRows()
	n := len(staticVocab)
	q := make([]int8, len(emb))
	tests := []struct {
		name string
		mf   staticModelFiles
		want string
	}{
		{"no embeddings", staticModelFiles{tensors: []safetensors.Tensor{safetensors.F32Tensor("other", []int{n, staticDim}, emb)}}, "no tensor named"},
		{"1-d embeddings", staticModelFiles{tensors: []safetensors.Tensor{safetensors.F32Tensor("embeddings", []int{n * staticDim}, emb)}}, "want [rows, dim]"},
		{"int embeddings", staticModelFiles{tensors: []safetensors.Tensor{{Name: "embeddings", DType: "I32", Shape: []int{n, staticDim}, Data: make([]byte, 4*n*staticDim)}}}, "float type"},
		{"i8 without scales", staticModelFiles{tensors: []safetensors.Tensor{safetensors.I8Tensor("embeddings", []int{n, staticDim}, q)}}, "scales"},
		{"scales shape", staticModelFiles{tensors: []safetensors.Tensor{safetensors.I8Tensor("embeddings", []int{n, staticDim}, q), safetensors.F32Tensor("scales", []int{2}, []float32{1, 1})}}, "scales has shape"},
		{"wrong rows", staticModelFiles{tensors: []safetensors.Tensor{safetensors.F32Tensor("embeddings", []int{5, staticDim}, emb[:5*staticDim])}}, "5 rows"},
		{"dim mismatch", staticModelFiles{tensors: []safetensors.Tensor{safetensors.F32Tensor("embeddings", []int{n, staticDim}, emb)}, config: `{"hidden_dim": 8}`}, "dimension 8"},
		{"bad config", staticModelFiles{tensors: []safetensors.Tensor{safetensors.F32Tensor("embeddings", []int{n, staticDim}, emb)}, config: `{`}, "config.json"},
		{"weights 2-d", staticModelFiles{tensors: []safetensors.Tensor{safetensors.F32Tensor("embeddings", []int{n, staticDim}, emb), safetensors.F32Tensor("weights", []int{1, n}, make([]float32, n))}}, "weights has shape"},
		{"huge embedding", staticModelFiles{tensors: []safetensors.Tensor{safetensors.F32Tensor("embeddings", []int{n, staticDim}, slices.Repeat([]float32{3e38}, n*staticDim))}}, "implausibly large"},
		{"mapping float", staticModelFiles{tensors: []safetensors.Tensor{safetensors.F32Tensor("embeddings", []int{n, staticDim}, emb), safetensors.F32Tensor("mapping", []int{n}, make([]float32, n))}}, "integer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeStaticModelDir(t, dir, tc.mf)
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("err = %v, want it to name the directory and mention %q", err, tc.want)
			}
		})
	}
	t.Run("missing files", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "model.safetensors") {
			t.Errorf("err = %v", err)
		}
		writeStaticModelDir(t, dir, staticModelFiles{tensors: []safetensors.Tensor{safetensors.F32Tensor("embeddings", []int{n, staticDim}, emb)}})
		os.Remove(filepath.Join(dir, "tokenizer.json"))
		if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "tokenizer.json") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("corrupt safetensors", func(t *testing.T) {
		dir := t.TempDir()
		writeStaticModelDir(t, dir, staticModelFiles{tensors: []safetensors.Tensor{safetensors.F32Tensor("embeddings", []int{n, staticDim}, emb)}})
		p := filepath.Join(dir, "model.safetensors")
		b, _ := os.ReadFile(p)
		os.WriteFile(p, b[:len(b)-3], 0o644)
		if _, err := Load(dir); !errors.Is(err, safetensors.ErrInvalid) {
			t.Errorf("err = %v, want safetensors.ErrInvalid", err)
		}
	})
}

func TestStaticConcurrent(t *testing.T) {
	m, err := New(staticTestTokenizer(t), staticRows(), staticDim)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"cat", "dog runs fast", "the playing cat .", "a b a b"}
	want := make([][]float32, len(texts))
	for i, s := range texts {
		want[i], _ = m.EmbedQuery(context.Background(), s)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range 200 {
				i := (g + it) % len(texts)
				v, err := m.EmbedQuery(context.Background(), texts[i])
				if err != nil {
					errs <- err
					return
				}
				for j := range v {
					if v[j] != want[i][j] {
						errs <- fmt.Errorf("text %d differs under concurrency", i)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// FuzzStaticEmbed checks that any text that is not blank (empty or all
// whitespace) embeds to a finite, non-zero unit vector, the same on every
// call, and that a blank text fails with embedder.ErrEmptyText: with the fallback,
// no other outcome is possible.
func FuzzStaticEmbed(f *testing.F) {
	for _, s := range []string{"cat", "", " ", "zebra", "the playing cat .", "\xff\xfe", "ca\u00adt", "dog\u2028runs", "猫 cat", "🙂", "ᚠᚢᚦ", "☃ ±", "\u200b"} {
		f.Add(s)
	}
	m, err := New(staticTestTokenizer(f), staticRows(), staticDim)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := m.EmbedQuery(context.Background(), s)
		if blank := strings.TrimFunc(s, unicode.IsSpace) == ""; blank || err != nil {
			if !blank || !errors.Is(err, embedder.ErrEmptyText) {
				t.Fatalf("%q (blank %v): error %v", s, blank, err)
			}
			return
		}
		var n float64
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("%q: non-finite %v", s, v)
			}
			n += float64(x) * float64(x)
		}
		if math.Abs(n-1) > 1e-4 {
			t.Fatalf("%q: norm² %v", s, n)
		}
		if again, err := m.EmbedQuery(context.Background(), s); err != nil || !slices.Equal(again, v) {
			t.Fatalf("%q: second call gives %v (%v), first %v", s, again, err, v)
		}
	})
}
