package models

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/onnx"
	"github.com/vecbolt/vecbolt/embedder/safetensors"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"
)

// The helpers below are small copies of those of the family packages'
// tests (embedder/download_test.go, embedder/static/static_test.go,
// embedder/onnx/helpers_test.go): a test cannot import another package's
// tests.

const tinyDir = "../testdata/tinybert"

// requireORT skips a test only when the ONNX Runtime library is absent,
// unless VECBOLT_REQUIRE_ONNXRUNTIME=1 (see embedder/onnx/helpers_test.go).
func requireORT(t testing.TB) {
	t.Helper()
	if _, err := onnx.FindRuntime(""); err != nil {
		if errors.Is(err, onnx.ErrNoRuntime) && os.Getenv("VECBOLT_REQUIRE_ONNXRUNTIME") != "1" {
			t.Skipf("ONNX Runtime not installed; run scripts/install-onnxruntime.sh (%v)", err)
		}
		t.Fatalf("loading ONNX Runtime: %v", err)
	}
}

// newHubServer serves files under /REPO/resolve/REV/PATH like the Hugging
// Face hub.
func newHubServer(t testing.TB, files map[string][]byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// tinyRegistryModel describes the generated model as a hub model, with its
// real digests.
func tinyRegistryModel(t testing.TB) (embedder.RegistryModel, map[string][]byte) {
	t.Helper()
	model, err := os.ReadFile(filepath.Join(tinyDir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile(filepath.Join(tinyDir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	m := embedder.RegistryModel{
		Name: "tinybert", Repo: "vecbolt/tinybert", Revision: "v1", Dim: 32,
		Files: []embedder.RegistryFile{
			{Path: "onnx/model.onnx", SHA256: sha256Hex(model)},
			{Path: "tokenizer.json", SHA256: sha256Hex(tok)},
		},
		Config: embedder.ModelConfig{Name: "tinybert", Pooling: embedder.PoolingMean, Normalize: true, MaxSeqLength: 32},
	}
	files := map[string][]byte{
		"/vecbolt/tinybert/resolve/v1/onnx/model.onnx": model,
		"/vecbolt/tinybert/resolve/v1/tokenizer.json":  tok,
	}
	return m, files
}

func newTestCache(t testing.TB, srvURL string, opts ...embedder.CacheOption) *embedder.ModelCache {
	t.Helper()
	c, err := embedder.NewModelCache(append([]embedder.CacheOption{embedder.WithCacheDirectory(t.TempDir()), embedder.WithBaseURL(srvURL), embedder.WithProgress(nil)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

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

// writeStaticModelDir writes a static model in the Model2Vec layout.
func writeStaticModelDir(t testing.TB, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tensors := []safetensors.Tensor{safetensors.F32Tensor("embeddings", []int{len(staticVocab), staticDim}, staticRows())}
	if err := safetensors.Write(&buf, tensors, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.NewWordPiece(staticVocab)
	if err != nil {
		t.Fatal(err)
	}
	tj, err := tok.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), tj, 0o644); err != nil {
		t.Fatal(err)
	}
}
