package embedder

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// hubServer serves files under /REPO/resolve/REV/PATH like the Hugging Face
// hub, with Range support (http.ServeContent), and can misbehave on demand.
type hubServer struct {
	t     testing.TB
	files map[string][]byte // URL path -> content

	mu        sync.Mutex
	requests  []hubRequest
	cutOnce   map[string]int // URL path -> bytes to send before dropping the connection, once
	corrupted map[string]bool
}

type hubRequest struct {
	path, rangeHdr string
}

func newHubServer(t testing.TB, files map[string][]byte) (*hubServer, *httptest.Server) {
	h := &hubServer{t: t, files: files, cutOnce: map[string]int{}, corrupted: map[string]bool{}}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv
}

func (h *hubServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.requests = append(h.requests, hubRequest{r.URL.Path, r.Header.Get("Range")})
	cut, doCut := h.cutOnce[r.URL.Path]
	delete(h.cutOnce, r.URL.Path)
	corrupt := h.corrupted[r.URL.Path]
	h.mu.Unlock()
	b, ok := h.files[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if corrupt {
		b = bytes.Clone(b)
		b[len(b)/2] ^= 0xff
	}
	if doCut {
		// Promise the whole file, send part of it, then drop the
		// connection: what a network failure mid-transfer looks like.
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		w.WriteHeader(http.StatusOK)
		w.Write(b[:cut])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}

func (h *hubServer) log() []hubRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hubRequest(nil), h.requests...)
}

// tinyDir is the tiny BERT export the embedder packages' tests share
// (tools/gentinybert/gentinybert.py makes it).
const (
	tinyDir       = "testdata/tinybert"
	tinyModelPath = tinyDir + "/model.onnx"
)

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// tinyRegistryModel describes the generated model as a hub model, with its
// real digests, served by a hubServer.
func tinyRegistryModel(t testing.TB) (RegistryModel, map[string][]byte) {
	t.Helper()
	model, err := os.ReadFile(tinyModelPath)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile(filepath.Join(tinyDir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	m := RegistryModel{
		Name: "tinybert", Repo: "vecbolt/tinybert", Revision: "v1", Dim: 32,
		Files: []RegistryFile{
			{Path: "onnx/model.onnx", SHA256: sha256Hex(model)},
			{Path: "tokenizer.json", SHA256: sha256Hex(tok)},
		},
		Config: ModelConfig{Name: "tinybert", Pooling: PoolingMean, Normalize: true, MaxSeqLength: 32},
	}
	files := map[string][]byte{
		"/vecbolt/tinybert/resolve/v1/onnx/model.onnx": model,
		"/vecbolt/tinybert/resolve/v1/tokenizer.json":  tok,
	}
	return m, files
}

func newTestCache(t testing.TB, srvURL string, opts ...CacheOption) *ModelCache {
	t.Helper()
	c, err := NewModelCache(append([]CacheOption{WithCacheDirectory(t.TempDir()), WithBaseURL(srvURL), WithProgress(nil)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDownloadSuccessThenCached(t *testing.T) {
	m, files := tinyRegistryModel(t)
	hub, srv := newHubServer(t, files)
	var progress bytes.Buffer
	c := newTestCache(t, srv.URL, WithProgress(&progress))
	ctx := context.Background()
	dir, err := c.EnsureModel(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Files {
		b, err := os.ReadFile(filepath.Join(dir, f.Path))
		if err != nil || sha256Hex(b) != f.SHA256 {
			t.Fatalf("%s: %v, hash mismatch", f.Path, err)
		}
		if _, err := os.Stat(filepath.Join(dir, f.Path+partSuffix)); !os.IsNotExist(err) {
			t.Errorf("%s: part file left behind", f.Path)
		}
	}
	var cfg ModelConfig
	cb, err := os.ReadFile(filepath.Join(dir, ConfigFileName))
	if err == nil {
		err = json.Unmarshal(cb, &cfg)
	}
	if err != nil || cfg.Model != "" || cfg.Pooling != PoolingMean || cfg.MaxSeqLength != 32 || cfg.Name != "tinybert" {
		t.Fatalf("written config %+v, %v", cfg, err)
	}
	if !strings.Contains(progress.String(), "tinybert/onnx/model.onnx") || !strings.Contains(progress.String(), "done") {
		t.Errorf("progress output %q", progress.String())
	}
	n := len(hub.log())
	if n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
	// Second time: verified from disk, no network.
	if _, err := c.EnsureModel(ctx, m); err != nil {
		t.Fatal(err)
	}
	if len(hub.log()) != n {
		t.Fatalf("cached model was fetched again: %v", hub.log()[n:])
	}
	// Offline now works too.
	off := newTestCache(t, "http://127.0.0.1:1", WithOffline(true), WithCacheDirectory(c.Dir()))
	if d, err := off.EnsureModel(ctx, m); err != nil || d != dir {
		t.Fatalf("offline with cached model: %q, %v", d, err)
	}
}

func TestDownloadConcurrentSameModel(t *testing.T) {
	m, files := tinyRegistryModel(t)
	hub, srv := newHubServer(t, files)
	c := newTestCache(t, srv.URL)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.EnsureModel(context.Background(), m)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(hub.log()); n != len(m.Files) {
		t.Fatalf("%d requests for %d files: the same model was fetched more than once", n, len(m.Files))
	}
}

func TestDownloadCorrupted(t *testing.T) {
	m, files := tinyRegistryModel(t)
	hub, srv := newHubServer(t, files)
	hub.corrupted["/vecbolt/tinybert/resolve/v1/onnx/model.onnx"] = true
	c := newTestCache(t, srv.URL)
	_, err := c.EnsureModel(context.Background(), m)
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "onnx/model.onnx") {
		t.Fatalf("got %v, want ErrChecksum naming the file", err)
	}
	dir := modelCacheDir(c.Dir(), m)
	for _, p := range []string{"onnx/model.onnx", "onnx/model.onnx" + partSuffix, ConfigFileName} {
		if _, err := os.Stat(filepath.Join(dir, p)); !os.IsNotExist(err) {
			t.Errorf("%s left in place after a hash mismatch (%v)", p, err)
		}
	}
	// Once the server is fixed, the next attempt succeeds from scratch.
	hub.mu.Lock()
	delete(hub.corrupted, "/vecbolt/tinybert/resolve/v1/onnx/model.onnx")
	hub.mu.Unlock()
	if _, err := c.EnsureModel(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

func TestDownloadResume(t *testing.T) {
	m, files := tinyRegistryModel(t)
	hub, srv := newHubServer(t, files)
	const path = "/vecbolt/tinybert/resolve/v1/onnx/model.onnx"
	cut := len(files[path]) / 3
	hub.cutOnce[path] = cut
	c := newTestCache(t, srv.URL)
	ctx := context.Background()
	_, err := c.EnsureModel(ctx, m)
	if !errors.Is(err, ErrDownload) || !strings.Contains(err.Error(), "resume") {
		t.Fatalf("interrupted transfer: got %v, want ErrDownload suggesting a resume", err)
	}
	dir := modelCacheDir(c.Dir(), m)
	st, err := os.Stat(filepath.Join(dir, "onnx/model.onnx"+partSuffix))
	if err != nil || st.Size() != int64(cut) {
		t.Fatalf("part file after interruption: %v, size %v, want %d", err, st, cut)
	}
	if _, err := os.Stat(filepath.Join(dir, "onnx/model.onnx")); !os.IsNotExist(err) {
		t.Fatal("incomplete file renamed into place")
	}
	if _, err := c.EnsureModel(ctx, m); err != nil {
		t.Fatalf("resumed download: %v", err)
	}
	var ranges []string
	for _, r := range hub.log() {
		if r.path == path {
			ranges = append(ranges, r.rangeHdr)
		}
	}
	if want := fmt.Sprintf("bytes=%d-", cut); len(ranges) != 2 || ranges[0] != "" || ranges[1] != want {
		t.Fatalf("Range headers %q, want [\"\" %q]", ranges, want)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "onnx/model.onnx"))
	if !bytes.Equal(b, files[path]) {
		t.Fatal("resumed file differs from the original")
	}
}

func TestDownloadPartAlreadyComplete(t *testing.T) {
	// A crash between the last byte and the rename leaves a complete .part:
	// the server answers the Range request with 416, and the part is
	// verified and installed without downloading anything.
	m, files := tinyRegistryModel(t)
	hub, srv := newHubServer(t, files)
	c := newTestCache(t, srv.URL)
	dir := modelCacheDir(c.Dir(), m)
	if err := os.MkdirAll(filepath.Join(dir, "onnx"), 0o755); err != nil {
		t.Fatal(err)
	}
	whole := files["/vecbolt/tinybert/resolve/v1/onnx/model.onnx"]
	if err := os.WriteFile(filepath.Join(dir, "onnx/model.onnx"+partSuffix), whole, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnsureModel(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if got := hub.log()[0]; got.rangeHdr != fmt.Sprintf("bytes=%d-", len(whole)) {
		t.Fatalf("first request %+v", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "onnx/model.onnx")); !bytes.Equal(b, whole) {
		t.Fatal("installed file differs")
	}
}

func TestDownloadServerIgnoresRange(t *testing.T) {
	// A server (or proxy) that answers a Range request with 200 and the whole
	// file must not produce a file with the first part twice.
	m, files := tinyRegistryModel(t)
	c := newTestCache(t, "")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	c.baseURL = srv.URL
	dir := modelCacheDir(c.Dir(), m)
	if err := os.MkdirAll(filepath.Join(dir, "onnx"), 0o755); err != nil {
		t.Fatal(err)
	}
	stale := files["/vecbolt/tinybert/resolve/v1/onnx/model.onnx"][:1000]
	if err := os.WriteFile(filepath.Join(dir, "onnx/model.onnx"+partSuffix), stale, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.EnsureModel(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

func TestDownloadErrors(t *testing.T) {
	m, files := tinyRegistryModel(t)
	_, srv := newHubServer(t, files)
	ctx := context.Background()

	missing := m
	missing.Files = append([]RegistryFile(nil), m.Files...)
	missing.Files[1] = RegistryFile{Path: "nothere.json", SHA256: strings.Repeat("0", 64)}
	unpinned := m
	unpinned.Files = []RegistryFile{{Path: "onnx/model.onnx"}}
	escaping := m
	escaping.Files = []RegistryFile{{Path: "../../etc/passwd", SHA256: strings.Repeat("0", 64)}}

	tests := []struct {
		name    string
		model   RegistryModel
		opts    []CacheOption
		want    error
		mention []string
	}{
		{"404", missing, nil, ErrDownload, []string{"404", "nothere.json"}},
		{"offline, not cached", m, []CacheOption{WithOffline(true)}, ErrNotCached, []string{"offline", "onnx/model.onnx"}},
		{"unpinned", unpinned, nil, ErrUnpinned, []string{"WithFileSHA256", "onnx/model.onnx"}},
		{"unpinned with a wrong supplied hash", unpinned,
			[]CacheOption{WithFileSHA256("tinybert", "onnx/model.onnx", strings.Repeat("ab", 32))}, ErrChecksum, []string{"onnx/model.onnx"}},
		{"path escapes the cache", escaping, nil, nil, []string{"../../etc/passwd"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCache(t, srv.URL, tc.opts...)
			_, err := c.EnsureModel(ctx, tc.model)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
			for _, s := range tc.mention {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
	// Offline mode must never touch the network: count requests.
	hub, srv2 := newHubServer(t, files)
	c := newTestCache(t, srv2.URL, WithOffline(true))
	c.EnsureModel(ctx, m)
	if n := len(hub.log()); n != 0 {
		t.Fatalf("offline cache made %d requests", n)
	}
	// A supplied correct hash makes an unpinned file usable.
	c = newTestCache(t, srv.URL, WithFileSHA256("tinybert", "onnx/model.onnx", m.Files[0].SHA256))
	if _, err := c.EnsureModel(ctx, unpinned); err != nil {
		t.Fatal(err)
	}
	if _, err := NewModelCache(WithFileSHA256("x", "y", "nothex")); err == nil {
		t.Fatal("accepted a malformed digest")
	}
}

func TestDigestsFromEnvironment(t *testing.T) {
	m, files := tinyRegistryModel(t)
	_, srv := newHubServer(t, files)
	unpinned := m
	unpinned.Files = []RegistryFile{{Path: "onnx/model.onnx"}, {Path: "tokenizer.json"}}
	t.Setenv(EnvModelSHA256, "tinybert/onnx/model.onnx="+strings.ToUpper(m.Files[0].SHA256)+",\n tinybert/tokenizer.json="+m.Files[1].SHA256)
	c := newTestCache(t, srv.URL)
	if _, err := c.EnsureModel(context.Background(), unpinned); err != nil {
		t.Fatal(err)
	}
	// An option beats the environment.
	c = newTestCache(t, srv.URL, WithFileSHA256("tinybert", "tokenizer.json", strings.Repeat("0", 64)))
	if _, err := c.EnsureModel(context.Background(), unpinned); !errors.Is(err, ErrChecksum) {
		t.Fatalf("option did not override the environment: %v", err)
	}
	for _, bad := range []string{"tinybert/x", "noslash=" + strings.Repeat("0", 64), "a/b=123"} {
		t.Setenv(EnvModelSHA256, bad)
		if _, err := NewModelCache(WithCacheDirectory(t.TempDir())); err == nil || !strings.Contains(err.Error(), EnvModelSHA256) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestDownloadDamagedCacheIsReplaced(t *testing.T) {
	m, files := tinyRegistryModel(t)
	_, srv := newHubServer(t, files)
	c := newTestCache(t, srv.URL)
	ctx := context.Background()
	dir, err := c.EnsureModel(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "tokenizer.json")
	if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	off := newTestCache(t, "", WithOffline(true), WithCacheDirectory(c.Dir()))
	if _, err := off.EnsureModel(ctx, m); !errors.Is(err, ErrChecksum) {
		t.Fatalf("offline with a damaged file: %v, want ErrChecksum", err)
	}
	if _, err := c.EnsureModel(ctx, m); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); sha256Hex(b) != m.Files[1].SHA256 {
		t.Fatal("damaged file not replaced")
	}
}

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		in          string
		start, size int64
		ok          bool
	}{
		{"bytes 100-199/200", 100, 200, true},
		{"bytes 0-0/*", 0, -1, true},
		{"bytes 100-199", 0, 0, false},
		{"items 1-2/3", 0, 0, false},
		{"bytes x-1/2", 0, 0, false},
		{"bytes -5-1/2", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tc := range tests {
		s, n, ok := parseContentRange(tc.in)
		if ok != tc.ok || (ok && (s != tc.start || n != tc.size)) {
			t.Errorf("%q: %d %d %v, want %d %d %v", tc.in, s, n, ok, tc.start, tc.size, tc.ok)
		}
	}
}

// FuzzParseContentRange: a server's Content-Range header is untrusted input.
func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 100-199/200", "bytes 0-0/*", "bytes -1-2/3", "bytes 9223372036854775807-1/2", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start, size, ok := parseContentRange(s)
		if ok && (start < 0 || size < -1) {
			t.Fatalf("%q: start %d size %d accepted", s, start, size)
		}
	})
}

// FuzzParseDigestList: $VECBOLT_MODEL_SHA256 is user input; every accepted
// entry must be a MODEL/PATH key with a lowercase hex SHA-256.
func FuzzParseDigestList(f *testing.F) {
	f.Add("m/onnx/model.onnx=" + strings.Repeat("ab", 32))
	f.Add("a/b=" + strings.Repeat("0", 64) + ", c/d=" + strings.Repeat("F", 64))
	f.Add("x=y")
	f.Fuzz(func(t *testing.T, s string) {
		m := map[string]string{}
		if err := parseDigestList(s, m); err != nil {
			return
		}
		for k, v := range m {
			if !strings.Contains(k, "/") || !sha256RE.MatchString(v) {
				t.Fatalf("%q accepted as %q=%q", s, k, v)
			}
		}
	})
}

// TestEnsureModelLayouts: a model offered in two layouts is fetched in one
// at a time (its default one by EnsureModel, another through ForLayout),
// and the cache reports each layout's completeness on its own.
func TestEnsureModelLayouts(t *testing.T) {
	content := map[string][]byte{
		"onnx/model.onnx":   []byte("onnx network"),
		"tokenizer.json":    []byte(`{"shared": true}`),
		"model.safetensors": []byte("safetensors weights"),
		"config.json":       []byte(`{"model_type": "bert"}`),
	}
	rev := strings.Repeat("ef", 20)
	m := RegistryModel{Name: "twolayouts", Repo: "vecbolt/twolayouts", Revision: rev, Dim: 4,
		Config: ModelConfig{Pooling: PoolingMean, Normalize: true, MaxSeqLength: 16}}
	files := map[string][]byte{}
	for _, f := range []struct{ path, layout string }{
		{"onnx/model.onnx", LayoutONNX}, {"tokenizer.json", ""}, {"model.safetensors", LayoutSafetensors}, {"config.json", LayoutSafetensors},
	} {
		b := content[f.path]
		m.Files = append(m.Files, RegistryFile{Path: f.path, Layout: f.layout, SHA256: sha256Hex(b), Size: int64(len(b))})
		files["/vecbolt/twolayouts/resolve/"+rev+"/"+f.path] = b
	}
	onnxView, _ := m.ForLayout(LayoutONNX)
	stView, _ := m.ForLayout(LayoutSafetensors)
	fetched := func(h *hubServer) []string {
		var out []string
		for _, r := range h.log() {
			out = append(out, strings.TrimPrefix(r.path, "/vecbolt/twolayouts/resolve/"+rev+"/"))
		}
		slices.Sort(out)
		return out
	}
	ctx := context.Background()

	hub, srv := newHubServer(t, files)
	c := newTestCache(t, srv.URL)
	if _, err := c.EnsureModel(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got := fetched(hub); !slices.Equal(got, []string{"onnx/model.onnx", "tokenizer.json"}) {
		t.Fatalf("EnsureModel fetched %v, want the default (ONNX) layout only", got)
	}
	if !c.Cached(m) || !c.Cached(onnxView) || c.Cached(stView) {
		t.Fatalf("cached: model %v, onnx %v, safetensors %v; want true, true, false", c.Cached(m), c.Cached(onnxView), c.Cached(stView))
	}

	hub, srv = newHubServer(t, files)
	c = newTestCache(t, srv.URL)
	dir, err := c.EnsureModel(ctx, stView)
	if err != nil {
		t.Fatal(err)
	}
	if got := fetched(hub); !slices.Equal(got, []string{"config.json", "model.safetensors", "tokenizer.json"}) {
		t.Fatalf("the safetensors layout fetched %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "onnx", "model.onnx")); !os.IsNotExist(err) {
		t.Fatalf("the safetensors layout's directory holds the ONNX file (%v)", err)
	}
	if !c.Cached(m) || c.Cached(onnxView) || !c.Cached(stView) {
		t.Fatalf("cached: model %v, onnx %v, safetensors %v; want true, false, true", c.Cached(m), c.Cached(onnxView), c.Cached(stView))
	}
}
