package models

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/remote"
	"github.com/vecbolt/vecbolt/embedder/static"
)

// TestStaticRegistryModel fetches a Model2Vec-layout model registered with
// Kind static, pinned as the potion entries are (commit, sizes, digests),
// and loads it by name: the files are verified, no vecbolt.json is added,
// and the model is the one static.Load gives for the same directory.
func TestStaticRegistryModel(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "src")
	writeStaticModelDir(t, src)
	if err := os.WriteFile(filepath.Join(src, "config.json"), []byte(`{"normalize": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	rev := strings.Repeat("ab", 20)
	m := embedder.RegistryModel{Name: "tinym2v", Kind: embedder.KindStatic, Repo: "vecbolt/tinym2v", Revision: rev, Dim: staticDim}
	files := map[string][]byte{}
	for _, name := range []string{"model.safetensors", "tokenizer.json", "config.json"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		m.Files = append(m.Files, embedder.RegistryFile{Path: name, SHA256: sha256Hex(b), Size: int64(len(b))})
		files["/vecbolt/tinym2v/resolve/"+rev+"/"+name] = b
	}
	if !m.Pinned() {
		t.Fatal("fully pinned entry reports unpinned")
	}
	srv := newHubServer(t, files)
	c := newTestCache(t, srv.URL)
	e, err := Load(ctx, "tinym2v", WithCache(c), WithRegistry(m))
	if err != nil {
		t.Fatal(err)
	}
	want, err := static.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Identity(); got.Hash != want.Identity().Hash || got.Dim != staticDim {
		t.Fatalf("identity %v, want the source directory's %v", got, want.Identity())
	}
	dir, err := c.EnsureModel(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, embedder.ConfigFileName)); !os.IsNotExist(err) {
		t.Fatalf("a static model's cache directory got a %s (%v)", embedder.ConfigFileName, err)
	}
	if !c.Cached(m) {
		t.Fatal("fetched model not reported cached")
	}
	// A static entry must list the three files a Model2Vec model needs.
	short := m
	short.Files = m.Files[:2]
	if _, err := c.EnsureModel(ctx, short); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Fatalf("entry without config.json: %v", err)
	}
}

// TestLoadServerNames: Load sends openai:MODEL and ollama:MODEL to package
// remote with WithRemote's options, and reads no environment by itself.
func TestLoadServerNames(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		var req struct{ Input []string }
		json.NewDecoder(r.Body).Decode(&req)
		vec := []float32{1, 2, 3}
		switch r.URL.Path {
		case "/v1/embeddings":
			data := []map[string]any{}
			for i := range req.Input {
				data = append(data, map[string]any{"index": i, "embedding": vec})
			}
			json.NewEncoder(w).Encode(map[string]any{"data": data})
		case "/api/embed":
			embs := [][]float32{}
			for range req.Input {
				embs = append(embs, vec)
			}
			json.NewEncoder(w).Encode(map[string]any{"embeddings": embs})
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	env := map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OLLAMA_HOST": srv.URL}
	for _, name := range []string{"openai:text-embedding-3-small", "ollama:all-minilm"} {
		e, err := Load(ctx, name, WithRemote(remote.WithEnv(func(k string) string { return env[k] })))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if id := e.Identity(); id.Name != name || id.Dim != 3 {
			t.Fatalf("%s: identity %v", name, id)
		}
	}
	// Without remote.WithEnv the process environment is not read: the
	// client goes to OpenAI's default address (unreachable here, or
	// refusing a request without a key), never to the test server.
	t.Setenv("OPENAI_BASE_URL", srv.URL+"/v1")
	t.Setenv("OLLAMA_HOST", srv.URL)
	before := hits.Load()
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := Load(tctx, "openai:m", WithRemote(remote.WithRetries(0), remote.WithAttemptTimeout(5*time.Second))); err == nil {
		t.Fatal("Load reached a server without an address or key")
	}
	if hits.Load() != before {
		t.Fatal("Load followed OPENAI_BASE_URL without WithRemote(remote.WithEnv)")
	}
}

// TestWithRegistry: an entry given to WithRegistry loads by name from the
// cache offline once fetched, and cannot stand in for a built-in name (the
// built-in pins win, so a fake entry named potion-base-8M is not used).
func TestWithRegistry(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "src")
	writeStaticModelDir(t, src)
	if err := os.WriteFile(filepath.Join(src, "config.json"), []byte(`{"normalize": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	rev := strings.Repeat("cd", 20)
	files := map[string][]byte{}
	mine := embedder.RegistryModel{Name: "mine", Kind: embedder.KindStatic, Repo: "me/mine", Revision: rev, Dim: staticDim}
	for _, name := range []string{"model.safetensors", "tokenizer.json", "config.json"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		mine.Files = append(mine.Files, embedder.RegistryFile{Path: name, SHA256: sha256Hex(b), Size: int64(len(b))})
		files["/me/mine/resolve/"+rev+"/"+name] = b
	}
	srv := newHubServer(t, files)
	online := newTestCache(t, srv.URL)
	if _, err := Load(ctx, "mine", WithCache(online), WithRegistry(mine)); err != nil {
		t.Fatal(err)
	}
	// The same files cached under a built-in name: Load must still not
	// use them for that name.
	impostor := mine
	impostor.Name = "potion-base-8M"
	if _, err := online.EnsureModel(ctx, impostor); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	offline, err := embedder.NewModelCache(embedder.WithCacheDirectory(online.Dir()), embedder.WithOffline(true), embedder.WithProgress(nil))
	if err != nil {
		t.Fatal(err)
	}
	want, err := static.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		arg     string
		reg     embedder.RegistryModel
		wantErr error
	}{
		{"own entry, offline from the cache", "mine", mine, nil},
		{"without the option the name is unknown", "mine", embedder.RegistryModel{}, embedder.ErrUnknownModel},
		{"a built-in name is not replaced", "potion-base-8M", impostor, embedder.ErrNotCached},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := []Option{WithCache(offline)}
			if tc.reg.Name != "" {
				opts = append(opts, WithRegistry(tc.reg))
			}
			e, err := Load(ctx, tc.arg, opts...)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Load(%q) = %v, want %v", tc.arg, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.Identity().Hash != want.Identity().Hash {
				t.Errorf("identity %v, want %v", e.Identity(), want.Identity())
			}
		})
	}
}
