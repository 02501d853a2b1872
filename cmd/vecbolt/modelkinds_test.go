package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/models"
	"github.com/vecbolt/vecbolt/embedder/onnx"
	"github.com/vecbolt/vecbolt/embedder/safetensors"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"
)

// classicTexts is the check of issue #15: the first text must be closer to
// the second than to the third.
var classicTexts = []string{"I love machine learning", "Artificial intelligence is amazing", "Bananas are yellow"}

// classicWords gives the words of classicTexts small vectors with the
// meaning the check expects: a computing axis, a fruit axis, and common
// words that carry little. Every model family of the test is built from it
// (a word-vector file, a Model2Vec table, the servers' answers), so each
// must pass the check by what it computes, not by luck.
var classicWords = map[string][]float32{
	"i": {0.05, 0.05, 0.05, 0}, "love": {0.1, 0.1, 0.2, 0}, "is": {0.05, 0.05, 0.05, 0}, "are": {0.05, 0.05, 0.05, 0},
	"amazing": {0.1, 0.1, 0.2, 0}, "machine": {1, 0, 0, 0.2}, "learning": {0.9, 0.1, 0, 0.3},
	"artificial": {0.8, 0, 0.1, 0.3}, "intelligence": {1, 0.1, 0, 0.1}, "bananas": {0, 1, 0, 0}, "yellow": {0.1, 0.9, 0.1, 0},
}

// classicVector is the mean of the known words' vectors of text (the
// servers' model).
func classicVector(text string) []float32 {
	v := make([]float32, 4)
	for _, w := range strings.Fields(strings.ToLower(text)) {
		for i, x := range classicWords[w] {
			v[i] += x
		}
	}
	v[3] += 0.01 // never the zero vector
	return v
}

// writeClassicModel2Vec writes a Model2Vec-layout directory (WordPiece
// tokenizer.json, model.safetensors, config.json) holding classicWords.
func writeClassicModel2Vec(t *testing.T) string {
	t.Helper()
	vocab := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]"}
	for w := range classicWords {
		vocab = append(vocab, w)
	}
	tok, err := tokenizer.NewWordPiece(vocab)
	if err != nil {
		t.Fatal(err)
	}
	tj, err := tok.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]float32, len(vocab)*4)
	for i, w := range vocab {
		copy(rows[i*4:], classicWords[w])
	}
	var st bytes.Buffer
	if err := safetensors.Write(&st, []safetensors.Tensor{safetensors.F32Tensor("embeddings", []int{len(vocab), 4}, rows)}, nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, b := range map[string][]byte{"tokenizer.json": tj, "model.safetensors": st.Bytes(), "config.json": []byte(`{"normalize": true}`)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// cachedRegistryModel registers dir's files as a fully pinned static model
// named "classic-m2v" (as the potion entries are pinned: a commit, sizes,
// digests), fetches it once from a local hub server into a fresh cache,
// stops the server, and returns the --model options of a command that
// finds it by name in that cache, offline.
func cachedRegistryModel(t *testing.T, dir string) []models.Option {
	t.Helper()
	rev := strings.Repeat("c1", 20)
	m := embedder.RegistryModel{Name: "classic-m2v", Kind: embedder.KindStatic, Repo: "vecbolt/classic-m2v", Revision: rev, Dim: 4}
	files := map[string][]byte{}
	for _, name := range []string{"model.safetensors", "tokenizer.json", "config.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		m.Files = append(m.Files, embedder.RegistryFile{Path: name, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(b))})
		files["/vecbolt/classic-m2v/resolve/"+rev+"/"+name] = b
	}
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	}))
	cacheDir := t.TempDir()
	online, err := embedder.NewModelCache(embedder.WithCacheDirectory(cacheDir), embedder.WithBaseURL(hub.URL), embedder.WithProgress(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := online.EnsureModel(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	hub.Close()
	offline, err := embedder.NewModelCache(embedder.WithCacheDirectory(cacheDir), embedder.WithOffline(true), embedder.WithProgress(nil))
	if err != nil {
		t.Fatal(err)
	}
	return []models.Option{models.WithCache(offline), models.WithRegistry(m)}
}

// classicServer answers OpenAI's /v1/embeddings or Ollama's /api/embed
// (whichever path the request takes) with classicVector, in each API's
// documented response shape.
func classicServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model string          `json:"model"`
			Input json.RawMessage `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// Both APIs take a string or an array of strings.
		var texts []string
		if err := json.Unmarshal(req.Input, &texts); err != nil {
			var one string
			if err := json.Unmarshal(req.Input, &one); err != nil {
				http.Error(w, "input: "+err.Error(), http.StatusBadRequest)
				return
			}
			texts = []string{one}
		}
		vecs := make([][]float32, len(texts))
		for i, s := range texts {
			vecs[i] = classicVector(s)
		}
		switch r.URL.Path {
		case "/v1/embeddings":
			data := make([]map[string]any, len(vecs))
			for i, v := range vecs {
				data[i] = map[string]any{"object": "embedding", "index": i, "embedding": v}
			}
			json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model,
				"usage": map[string]int{"prompt_tokens": 8, "total_tokens": 8}})
		case "/api/embed":
			json.NewEncoder(w).Encode(map[string]any{"model": req.Model, "embeddings": vecs,
				"total_duration": 1000, "load_duration": 10, "prompt_eval_count": 8})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestSimilarityModelKinds runs `vecbolt similarity --model X` and its
// --json form with every kind of model --model takes: a registered name
// found offline in the model cache, a word-vector file, a Model2Vec
// directory, an ONNX directory (where ONNX Runtime is installed), and both
// kinds of embedding server. Each prints the pairs and the full matrix,
// and each model with meaning passes the classic check.
//
// The registered name is an entry of the test's own (models.WithRegistry,
// passed as the command's models.Load options), because the built-in
// entries pin real files the test cannot hold; the path from the name to
// the cached, verified directory is the one the built-in names take
// (embedder/models.Load, embedder.ModelCache.EnsureModel).
func TestSimilarityModelKinds(t *testing.T) {
	m2v := writeClassicModel2Vec(t)
	var glove strings.Builder
	for w, v := range classicWords {
		fmt.Fprintf(&glove, "%s %g %g %g %g\n", w, v[0], v[1], v[2], v[3])
	}
	wordFile := filepath.Join(t.TempDir(), "classic.txt")
	if err := os.WriteFile(wordFile, []byte(glove.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := classicServer(t)
	_, ortErr := onnx.FindRuntime("")

	tests := []struct {
		name    string
		model   string
		opts    func(t *testing.T) []models.Option
		env     map[string]string
		skip    error // skip the case when set (ONNX Runtime missing)
		meaning bool  // the model knows the classic words
	}{
		{name: "registry name from the cache", model: "classic-m2v", opts: func(t *testing.T) []models.Option { return cachedRegistryModel(t, m2v) }, meaning: true},
		{name: "word-vector file", model: wordFile, meaning: true},
		{name: "Model2Vec directory", model: m2v, meaning: true},
		// The generated tiny BERT has random weights: the command must
		// work, its similarities mean nothing.
		{name: "ONNX directory", model: "../../embedder/testdata/tinybert", skip: ortErr},
		{name: "openai server", model: "openai:text-embedding-3-small", env: map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "sk-test"}, meaning: true},
		{name: "ollama server", model: "ollama:nomic-embed-text", env: map[string]string{"OLLAMA_HOST": srv.URL}, meaning: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skip != nil {
				if errors.Is(tc.skip, onnx.ErrNoRuntime) && os.Getenv("VECBOLT_REQUIRE_ONNXRUNTIME") != "1" {
					t.Skipf("ONNX Runtime not installed: %v", tc.skip)
				}
				t.Fatal(tc.skip)
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			opts := []option{withTerminal(false)}
			if tc.opts != nil {
				opts = append(opts, withModelOptions(tc.opts(t)...))
			}
			o := vbOpts(t, "", opts, append([]string{"similarity", "--model", tc.model, "--json"}, classicTexts...)...)
			var js jsonSimilarity
			if err := json.Unmarshal([]byte(o.stdout), &js); err != nil || o.code != 0 {
				t.Fatalf("similarity --json: %v %q %s", err, o.stdout, o.stderr)
			}
			if len(js.Texts) != 3 || len(js.Matrix) != 3 {
				t.Fatalf("similarity --json = %+v", js)
			}
			for i, row := range js.Matrix {
				if len(row) != 3 || math.Abs(float64(row[i])-1) > 1e-3 {
					t.Fatalf("row %d = %v: want 3 values, 1 on the diagonal", i, row)
				}
				for j := range row {
					if row[j] != js.Matrix[j][i] {
						t.Errorf("matrix not symmetric at %d,%d: %v", i, j, js.Matrix)
					}
				}
			}
			if tc.meaning && !(js.Matrix[0][1] > js.Matrix[0][2]+0.3) {
				t.Errorf("ML~AI %.4f not clearly above ML~bananas %.4f", js.Matrix[0][1], js.Matrix[0][2])
			}
			o = vbOpts(t, "", opts, append([]string{"similarity", "--model", tc.model}, classicTexts...)...)
			for _, want := range []string{
				" 1  I love machine learning\n",
				fmt.Sprintf(" 1 ~ 2   %7.4f\n", js.Matrix[0][1]),
				fmt.Sprintf(" 1 ~ 3   %7.4f\n", js.Matrix[0][2]),
				fmt.Sprintf(" 2 ~ 3   %7.4f\n", js.Matrix[1][2]),
			} {
				if o.code != 0 || !strings.Contains(o.stdout, want) {
					t.Errorf("similarity output lacks %q:\n%s%s", want, o.stdout, o.stderr)
				}
			}
		})
	}
}

// TestRegistryNameOfflineNotCached: a name the cache does not hold fails
// offline with an error naming the file and the model, and writes nothing
// (the other half of "offline from the cache").
func TestRegistryNameOfflineNotCached(t *testing.T) {
	m2v := writeClassicModel2Vec(t)
	opts := cachedRegistryModel(t, m2v)
	cacheDir := t.TempDir()
	empty, err := embedder.NewModelCache(embedder.WithCacheDirectory(cacheDir), embedder.WithOffline(true), embedder.WithProgress(nil))
	if err != nil {
		t.Fatal(err)
	}
	o := vbOpts(t, "", []option{withTerminal(false), withModelOptions(append(opts, models.WithCache(empty))...)},
		"similarity", "--model", "classic-m2v", "a", "b")
	if o.code != exitRuntime || !strings.Contains(o.stderr, "classic-m2v") || !strings.Contains(o.stderr, "offline") {
		t.Errorf("uncached name offline: %d %s", o.code, o.stderr)
	}
	if ents, err := os.ReadDir(cacheDir); err != nil || len(ents) != 0 {
		t.Errorf("offline miss wrote into the cache: %v %v", ents, err)
	}
}

// TestTokenizeWordVectorFile: tokenize refuses a word-vector file with an
// error that says what it is, instead of a JSON syntax error.
func TestTokenizeWordVectorFile(t *testing.T) {
	dir := t.TempDir()
	glove := filepath.Join(dir, "vectors.txt")
	if err := os.WriteFile(glove, []byte("cat 1 0\ndog 0.9 0.1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.NewWordPiece([]string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "cat"})
	if err != nil {
		t.Fatal(err)
	}
	tj, err := tok.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	tjPath := filepath.Join(dir, "tokenizer.json")
	if err := os.WriteFile(tjPath, append([]byte("\n  "), tj...), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, model string
		code        int
		want        string
	}{
		{"word-vector file", glove, exitRuntime, "word-vector file has no tokenizer"},
		{"tokenizer.json", tjPath, exitOK, "[\n  4\n]"},
		{"server model", "ollama:nomic-embed-text", exitRuntime, "tokenizer runs on the server"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := vbOpts(t, "", []option{withTerminal(false)}, "tokenize", "--model", tc.model, "--json", "--no-special", "cat")
			if o.code != tc.code || !strings.Contains(o.stdout+o.stderr, tc.want) {
				t.Errorf("tokenize --model %s: %d %q %q, want %d and %q", tc.model, o.code, o.stdout, o.stderr, tc.code, tc.want)
			}
		})
	}
}

// TestModelFlagUsage: every command's --model flag has one placeholder,
// and every embedding command's usage names each kind it takes.
func TestModelFlagUsage(t *testing.T) {
	n := 0
	for _, c := range commands() {
		fs := c.flagSet()
		c.flags(fs)
		f := fs.Lookup("model")
		if f == nil {
			continue
		}
		n++
		placeholder, usage := flag.UnquoteUsage(f)
		if placeholder != "MODEL" || (strings.Contains(c.args, "--model") && !strings.Contains(c.args, "--model MODEL")) {
			t.Errorf("%s: --model placeholder %q, synopsis %q", c.name, placeholder, c.args)
		}
		if c.name == "tokenize" {
			continue
		}
		for _, kind := range []string{"directory", "word-vector file", "registered name", "openai:", "ollama:"} {
			if !strings.Contains(usage, kind) {
				t.Errorf("%s: --model usage %q does not mention %s", c.name, usage, kind)
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d commands have --model", n)
	}
}
