package models

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/bert"
	"github.com/vecbolt/vecbolt/embedder/onnx"
)

// generateBothLayouts runs tools/gentinybert/gentinybert.py, which writes
// one random-weight BERT in both layouts (model.onnx and model.safetensors
// with the same weights), skipping the test when python3 with onnx and
// numpy is missing, unless VECBOLT_REQUIRE_GENTINYBERT=1 (set where the
// tools are installed, as CI does) makes that a failure. The same helper
// lives in embedder/bert/gen_test.go; a test cannot import another
// package's tests.
func generateBothLayouts(t *testing.T) string {
	t.Helper()
	var python string
	for _, c := range []string{os.Getenv("VECBOLT_PYTHON"), "/usr/bin/python3", "python3"} {
		if c != "" && exec.Command(c, "-c", "import onnx, numpy").Run() == nil {
			python = c
			break
		}
	}
	if python == "" {
		msg := "python3 with onnx and numpy is needed to generate the test model (Debian: apt-get install -y python3-onnx python3-numpy)"
		if os.Getenv("VECBOLT_REQUIRE_GENTINYBERT") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "tools", "gentinybert", "gentinybert.py")
	dir := filepath.Join(t.TempDir(), "gen")
	if out, err := exec.Command(python, script, "--shape", "tiny", dir).CombinedOutput(); err != nil {
		t.Fatalf("gentinybert: %v\n%s", err, out)
	}
	return dir
}

// bothLayoutsEntry describes the generated model as a hub model published
// in both layouts, as the built-in transformers are, and the files the hub
// serves for it.
func bothLayoutsEntry(t *testing.T, src string) (embedder.RegistryModel, map[string][]byte) {
	t.Helper()
	rev := strings.Repeat("cd", 20)
	m := embedder.RegistryModel{
		Name: "tinyboth", Kind: embedder.KindONNX, Repo: "vecbolt/tinyboth", Revision: rev, Dim: 32,
		Config: embedder.ModelConfig{Name: "tinyboth", Model: "model.onnx", Pooling: embedder.PoolingMean, Normalize: true, MaxSeqLength: 32},
	}
	files := map[string][]byte{}
	for _, f := range []struct{ path, layout string }{
		{"model.onnx", embedder.LayoutONNX},
		{"tokenizer.json", ""},
		{"model.safetensors", embedder.LayoutSafetensors},
		{"config.json", embedder.LayoutSafetensors},
	} {
		b, err := os.ReadFile(filepath.Join(src, f.path))
		if err != nil {
			t.Fatal(err)
		}
		m.Files = append(m.Files, embedder.RegistryFile{Path: f.path, Layout: f.layout, SHA256: sha256Hex(b), Size: int64(len(b))})
		files["/vecbolt/tinyboth/resolve/"+rev+"/"+f.path] = b
	}
	return m, files
}

// countingHub serves files like newHubServer and records the file names
// (the part after the revision) it was asked for.
func countingHub(t *testing.T, files map[string][]byte) (url string, fetched func() []string) {
	var mu sync.Mutex
	var names []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if i := strings.Index(r.URL.Path, "/resolve/"); i >= 0 {
			rest := r.URL.Path[i+len("/resolve/"):]
			names = append(names, rest[strings.Index(rest, "/")+1:])
		}
		mu.Unlock()
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := slices.Clone(names)
		slices.Sort(out)
		return slices.Compact(out)
	}
}

// TestRegistryLayoutDownloads: a registered transformer in both layouts is
// fetched in the layout of the backend that runs it, and no other file is
// requested: the pure-Go backend gets tokenizer.json, model.safetensors and
// config.json, ONNX Runtime gets model.onnx and tokenizer.json. Without
// ONNX Runtime (a CGO_ENABLED=0 build, or the library absent) the default
// backend is the pure-Go one. Where ONNX Runtime is installed, both
// backends' vectors for the same weights agree within 1e-4 per component.
func TestRegistryLayoutDownloads(t *testing.T) {
	ctx := context.Background()
	src := generateBothLayouts(t)
	m, files := bothLayoutsEntry(t, src)
	if !m.Pinned() {
		t.Fatal("fully pinned entry reports unpinned")
	}
	goFiles := []string{"config.json", "model.safetensors", "tokenizer.json"}
	onnxFiles := []string{"model.onnx", "tokenizer.json"}
	_, ortErr := onnx.FindRuntime("")
	texts := []string{"the quick brown fox", "a", strings.Repeat("jumps over the lazy dog ", 20), "héllo wörld ✓"}

	load := func(t *testing.T, b Backend) (embedder.Embedder, []string, string, error) {
		t.Helper()
		url, fetched := countingHub(t, files)
		c := newTestCache(t, url)
		e, err := Load(ctx, "tinyboth", WithCache(c), WithRegistry(m), WithBackend(b), WithBERT(bert.WithThreads(1)))
		if e != nil {
			if cl, ok := e.(interface{ Close() error }); ok {
				t.Cleanup(func() { cl.Close() })
			}
		}
		dir := filepath.Join(c.Dir(), "models", m.Name, m.Revision)
		return e, fetched(), dir, err
	}

	goE, got, dir, err := load(t, BackendGo)
	if _, ok := goE.(*bert.Model); err != nil || !ok {
		t.Fatalf("BackendGo: %T %v, want *bert.Model", goE, err)
	}
	if !slices.Equal(got, goFiles) {
		t.Fatalf("BackendGo fetched %v, want %v", got, goFiles)
	}
	if _, err := os.Stat(filepath.Join(dir, "model.onnx")); !os.IsNotExist(err) {
		t.Fatalf("the pure-Go backend's cache holds model.onnx (%v)", err)
	}
	if goE.Identity().Dim != 32 {
		t.Fatalf("dim %d", goE.Identity().Dim)
	}

	// Dir fetches as Load would, without loading.
	url, fetched := countingHub(t, files)
	d, err := Dir(ctx, "tinyboth", WithCache(newTestCache(t, url)), WithRegistry(m), WithBackend(BackendGo))
	if err != nil || !bert.IsModelDir(d) || !slices.Equal(fetched(), goFiles) {
		t.Fatalf("Dir with BackendGo: %s %v, fetched %v", d, err, fetched())
	}

	autoE, got, _, err := load(t, BackendAuto)
	switch {
	case err != nil:
		t.Fatalf("BackendAuto: %v", err)
	case ortErr != nil && (!slices.Equal(got, goFiles) || !isBERTModel(autoE)):
		t.Fatalf("BackendAuto without ONNX Runtime: %T fetched %v, want the pure-Go encoder and %v", autoE, got, goFiles)
	case ortErr == nil && (!slices.Equal(got, onnxFiles) || isBERTModel(autoE)):
		t.Fatalf("BackendAuto with ONNX Runtime: %T fetched %v, want ONNX Runtime and %v", autoE, got, onnxFiles)
	}

	onnxE, got, _, err := load(t, BackendONNX)
	if !slices.Equal(got, onnxFiles) {
		t.Fatalf("BackendONNX fetched %v, want %v", got, onnxFiles)
	}
	if ortErr != nil {
		if !errors.Is(err, onnx.ErrNoRuntime) {
			t.Fatalf("BackendONNX without ONNX Runtime: %v, want onnx.ErrNoRuntime", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("BackendONNX: %v", err)
	}
	want, err := onnxE.EmbedDocuments(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	gotV, err := goE.EmbedDocuments(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	maxDiff := 0.0
	for i := range texts {
		var dot, na, nb float64
		for j := range want[i] {
			d := math.Abs(float64(gotV[i][j] - want[i][j]))
			maxDiff = max(maxDiff, d)
			if d > 1e-4 {
				t.Fatalf("text %d component %d: pure Go %g, ONNX Runtime %g", i, j, gotV[i][j], want[i][j])
			}
			dot += float64(gotV[i][j]) * float64(want[i][j])
			na += float64(gotV[i][j]) * float64(gotV[i][j])
			nb += float64(want[i][j]) * float64(want[i][j])
		}
		if cos := dot / math.Sqrt(na*nb); cos < 0.99999 {
			t.Fatalf("text %d: cosine %g between the backends", i, cos)
		}
	}
	t.Logf("largest difference between the backends: %.3g", maxDiff)
}

func isBERTModel(e embedder.Embedder) bool { _, ok := e.(*bert.Model); return ok }

// TestRegistryLayoutChoice: which layout a registered model is fetched in,
// for each backend, with and without ONNX Runtime; a backend the model is
// not published for is ErrNotModel before anything is fetched.
func TestRegistryLayoutChoice(t *testing.T) {
	both := []string{embedder.LayoutONNX, embedder.LayoutSafetensors}
	tests := []struct {
		layouts   []string
		installed bool
		want      string
	}{
		{both, true, embedder.LayoutONNX},
		{both, false, embedder.LayoutSafetensors},
		{[]string{embedder.LayoutONNX}, false, embedder.LayoutONNX}, // loading then reports onnx.ErrNoRuntime
		{[]string{embedder.LayoutSafetensors}, true, embedder.LayoutSafetensors},
	}
	for _, tc := range tests {
		if got := autoLayout(tc.layouts, tc.installed); got != tc.want {
			t.Errorf("autoLayout(%v, installed %v) = %q, want %q", tc.layouts, tc.installed, got, tc.want)
		}
	}
	onnxOnly := embedder.RegistryModel{Name: "x", Files: []embedder.RegistryFile{
		{Path: "model.onnx", Layout: embedder.LayoutONNX}, {Path: "tokenizer.json"}}}
	if _, err := registryLayout(onnxOnly, BackendGo); !errors.Is(err, ErrNotModel) {
		t.Errorf("BackendGo on an ONNX-only entry: %v, want ErrNotModel", err)
	}
	if l, err := registryLayout(onnxOnly, BackendONNX); err != nil || l != embedder.LayoutONNX {
		t.Errorf("BackendONNX: %q %v", l, err)
	}
	static := embedder.RegistryModel{Name: "s", Files: []embedder.RegistryFile{{Path: "model.safetensors"}}}
	if l, err := registryLayout(static, BackendGo); err != nil || l != "" {
		t.Errorf("a model without layouts: %q %v, want the whole entry", l, err)
	}
	if _, err := registryLayout(onnxOnly, "tpu"); err == nil {
		t.Error("unknown backend accepted")
	}
}
