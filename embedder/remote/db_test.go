package remote_test

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/embedder/remote"
)

// ollamaLike answers /api/embed with bag-of-words vectors, so that search
// has a right answer; it requires the bearer key a proxy in front of
// Ollama would.
func ollamaLike(t *testing.T, key string, dim int) *httptest.Server {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/embed" || r.Header.Get("Authorization") != "Bearer "+key {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, `{"error":"bad json"}`, http.StatusBadRequest)
			return
		}
		out := make([][]float32, len(req.Input))
		for i, text := range req.Input {
			v := make([]float32, dim)
			v[0] = 0.01
			for _, w := range strings.Fields(strings.ToLower(text)) {
				h := fnv.New32a()
				h.Write([]byte(w))
				v[h.Sum32()%uint32(dim)]++
			}
			out[i] = v
		}
		json.NewEncoder(w).Encode(map[string]any{"model": req.Model, "embeddings": out})
	}))
	t.Cleanup(ts.Close)
	return ts
}

// TestDatabaseWithServerModel runs the real database with a server's model:
// documents are embedded through the server, search finds the right one,
// the key never reaches the file, and a collection refuses another model.
func TestDatabaseWithServerModel(t *testing.T) {
	const key = "sk-proxy-0d8f7e6a5b4c3d2e1f0a9b8c7d6e5f4a"
	ts := ollamaLike(t, key, 64)
	ctx := context.Background()
	emb, err := remote.Open(ctx, "ollama:nomic-embed-text", remote.WithBaseURL(ts.URL), remote.WithAPIKey(key))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "r.vb")
	d, err := db.Open(path, db.WithEmbedder(emb))
	if err != nil {
		t.Fatal(err)
	}
	col, err := d.CreateCollection(ctx, "notes")
	if err != nil {
		t.Fatal(err)
	}
	docs := []db.Document{
		{ID: "cats", Text: "cats purr and sleep all day"},
		{ID: "rust", Text: "iron rusts when wet"},
		{ID: "bread", Text: "bread rises with yeast"},
	}
	if _, err := col.Insert(ctx, docs...); err != nil {
		t.Fatal(err)
	}
	res, err := col.Search(ctx, "why does iron rust when wet")
	if err != nil {
		t.Fatal(err)
	}
	if len(res) == 0 || res[0].ID != "rust" {
		t.Fatalf("search results %+v, want rust first", res)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), key) || strings.Contains(string(raw), ts.URL) {
		t.Fatal("the database file holds the API key or the server's address")
	}
	if !strings.Contains(string(raw), "ollama:nomic-embed-text") {
		t.Fatal("the database file does not record the model's name")
	}

	// Another model name on the same server is refused by the collection.
	other, err := remote.Open(ctx, "ollama:mxbai-embed-large", remote.WithBaseURL(ts.URL), remote.WithAPIKey(key))
	if err != nil {
		t.Fatal(err)
	}
	d2, err := db.Open(path, db.WithEmbedder(other))
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if _, err := d2.Collection(ctx, "notes"); !errors.Is(err, db.ErrModelMismatch) {
		t.Fatalf("opening with another model: %v, want ErrModelMismatch", err)
	}
}
