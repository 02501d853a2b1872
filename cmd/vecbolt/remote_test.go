package main

import (
	"encoding/json"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vecbolt/vecbolt/embedder/onnx"
)

// embeddingServer answers OpenAI's /v1/embeddings and Ollama's /api/embed
// with bag-of-words vectors (so search has a right answer), requiring
// wantKey as a bearer token when it is set.
func embeddingServer(t *testing.T, wantKey string) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if wantKey != "" && r.Header.Get("Authorization") != "Bearer "+wantKey {
			w.WriteHeader(http.StatusUnauthorized)
			// OpenAI's error body, which quotes (part of) the key sent.
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
				"message": "Incorrect API key provided: " + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "),
				"type":    "invalid_request_error", "param": nil, "code": "invalid_api_key"}})
			return
		}
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		vecs := make([][]float32, len(req.Input))
		for i, text := range req.Input {
			v := make([]float32, 256)
			v[0] = 0.01
			for _, word := range strings.Fields(strings.ToLower(text)) {
				h := fnv.New32a()
				h.Write([]byte(strings.Trim(word, ".,?")))
				v[h.Sum32()%256]++
			}
			vecs[i] = v
		}
		switch r.URL.Path {
		case "/v1/embeddings":
			data := make([]map[string]any, len(vecs))
			for i, v := range vecs {
				data[i] = map[string]any{"object": "embedding", "index": i, "embedding": v}
			}
			json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model,
				"usage": map[string]int{"prompt_tokens": 1, "total_tokens": 1}})
		case "/api/embed":
			json.NewEncoder(w).Encode(map[string]any{"model": req.Model, "embeddings": vecs})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// TestServerModels runs add and search with --model openai:MODEL and
// ollama:MODEL against local servers, end to end on a real database, the
// server found through the environment as users configure it.
func TestServerModels(t *testing.T) {
	const key = "sk-cli-test-5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b"
	srv, _ := embeddingServer(t, key)
	open, _ := embeddingServer(t, "") // Ollama takes no key
	docs := map[string]string{"rust": "iron rusts when wet", "cats": "cats purr and sleep", "bread": "bread rises with yeast"}
	for _, tc := range []struct {
		model string
		env   map[string]string
	}{
		{"openai:text-embedding-3-small", map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": key}},
		// OLLAMA_HOST without a scheme, as Ollama accepts it.
		{"ollama:nomic-embed-text", map[string]string{"OLLAMA_HOST": strings.TrimPrefix(open.URL, "http://")}},
	} {
		t.Run(tc.model, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			dbp := tempDB(t)
			for id, text := range docs {
				o := vbOpts(t, "", []option{withTerminal(false)}, "add", "--db", dbp, "--collection", "c", "--model", tc.model, "--id", id, text)
				if o.code != 0 {
					t.Fatalf("add: %s", o.stderr)
				}
			}
			o := vbOpts(t, "", []option{withTerminal(false)}, "search", "--db", dbp, "--collection", "c", "--model", tc.model, "--json", "wet iron")
			if o.code != 0 {
				t.Fatalf("search: %s", o.stderr)
			}
			var res []jsonResult
			if err := json.Unmarshal([]byte(o.stdout), &res); err != nil || len(res) == 0 || res[0].ID != "rust" {
				t.Fatalf("search results %s (%v), want rust first", o.stdout, err)
			}
			// Another model is refused by the collection.
			o = vbOpts(t, "", []option{withTerminal(false)}, "search", "--db", dbp, "--collection", "c", "--model", tc.model+"-other", "x")
			if o.code != exitRuntime || !strings.Contains(o.stderr, "embedded with") {
				t.Fatalf("another model: exit %d: %s", o.code, o.stderr)
			}
			raw, err := os.ReadFile(dbp)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(raw), key) {
				t.Fatal("the database file holds the API key")
			}
		})
	}
	t.Run("wrong key", func(t *testing.T) {
		t.Setenv("OPENAI_BASE_URL", srv.URL+"/v1")
		t.Setenv("OPENAI_API_KEY", "sk-wrong-1234567890abcdef1234567890")
		dbp := tempDB(t)
		o := vbOpts(t, "", []option{withTerminal(false)}, "add", "--db", dbp, "--collection", "c", "--model", "openai:m", "text")
		if o.code != exitRuntime || !strings.Contains(o.stderr, "HTTP 401") || strings.Contains(o.stderr, "sk-wrong-1234567890abcdef1234567890") {
			t.Fatalf("exit %d, stderr %q: want a 401 that does not show the key", o.code, o.stderr)
		}
		if _, err := os.Stat(dbp); err == nil {
			t.Fatal("a failed add created the database file")
		}
	})
}

func TestTokenizeServerModel(t *testing.T) {
	o := vbOpts(t, "", []option{withTerminal(false)}, "tokenize", "--model", "ollama:all-minilm", "text")
	if o.code != exitRuntime || !strings.Contains(o.stderr, "server's model") {
		t.Fatalf("exit %d: %s", o.code, o.stderr)
	}
}

func TestModelsCommand(t *testing.T) {
	t.Setenv("VECBOLT_CACHE", t.TempDir())
	o := vbOpts(t, "", []option{withTerminal(false)}, "models", "--json")
	if o.code != 0 {
		t.Fatalf("models --json: %s", o.stderr)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(o.stdout), &rows); err != nil {
		t.Fatalf("not one JSON array: %v", err)
	}
	want := map[string]string{"all-MiniLM-L6-v2": "onnx", "bge-small-en-v1.5": "onnx", "e5-small-v2": "onnx", "gte-small": "onnx",
		"potion-base-8M": "static", "potion-retrieval-32M": "static", "openai:MODEL": "server", "ollama:MODEL": "server"}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for _, r := range rows {
		if len(r) != 6 {
			t.Fatalf("row %v: want exactly name, kind, dim, bytes, pinned, cached", r)
		}
		if want[r["name"].(string)] != r["kind"] || r["cached"] != false {
			t.Fatalf("row %v", r)
		}
		// Every registered model is pinned in the layout this build
		// downloads (embedder/registry.go); servers download nothing.
		if r["kind"] != "server" && r["pinned"] != true {
			t.Fatalf("row %v: registered model not pinned", r)
		}
		if r["name"] == "potion-base-8M" && (r["dim"] != 256.0 || r["bytes"] != 30920628.0 || r["pinned"] != true) {
			t.Fatalf("row %v", r)
		}
		// A transformer's size is that of the files this build's backend
		// downloads: the ONNX export with ONNX Runtime, else
		// model.safetensors and config.json (the tokenizer in both).
		if r["name"] == "all-MiniLM-L6-v2" {
			want := 90868376.0 + 612 + 466247
			if _, err := onnx.FindRuntime(""); err == nil {
				want = 90405214 + 466247
			}
			if r["bytes"] != want || r["pinned"] != true {
				t.Fatalf("row %v: want %v bytes", r, want)
			}
		}
	}
	o = vbOpts(t, "", []option{withTerminal(false)}, "models")
	if o.code != 0 || !strings.Contains(o.stdout, "potion-retrieval-32M   static  -         512") || !strings.Contains(o.stdout, "e5-small-v2") {
		t.Fatalf("models: %d %s %s", o.code, o.stdout, o.stderr)
	}
	if o := vbOpts(t, "", []option{withTerminal(false)}, "models", "x"); o.code != exitUsage {
		t.Fatalf("models x: exit %d", o.code)
	}
}
