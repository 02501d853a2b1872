package models

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/onnx"
	"github.com/vecbolt/vecbolt/embedder/static"
)

// staticRegistryModel publishes a static model directory as a hub model
// named "tinystatic", with its real digests, served by a hubServer.
func staticRegistryModel(t testing.TB, dir string) (embedder.RegistryModel, map[string][]byte) {
	t.Helper()
	m := embedder.RegistryModel{Name: "tinystatic", Repo: "vecbolt/tinystatic", Revision: "v1", Dim: staticDim,
		Config: embedder.ModelConfig{Name: "tinystatic", Pooling: embedder.PoolingMean, MaxSeqLength: 128}}
	files := map[string][]byte{}
	for _, name := range []string{"model.safetensors", "tokenizer.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		m.Files = append(m.Files, embedder.RegistryFile{Path: name, SHA256: sha256Hex(b), Size: int64(len(b))})
		files["/vecbolt/tinystatic/resolve/v1/"+name] = b
	}
	return m, files
}

// TestLoad resolves every kind of argument the --model flag takes.
func TestLoad(t *testing.T) {
	ctx := context.Background()
	staticDir := filepath.Join(t.TempDir(), "static")
	writeStaticModelDir(t, staticDir)
	want, err := static.Load(staticDir)
	if err != nil {
		t.Fatal(err)
	}
	aFile := filepath.Join(staticDir, "model.safetensors")
	empty := t.TempDir()

	sm, sfiles := staticRegistryModel(t, staticDir)
	tm, tfiles := tinyRegistryModel(t)
	for k, v := range tfiles {
		sfiles[k] = v
	}
	srv := newHubServer(t, sfiles)
	hub := func(t *testing.T) []Option {
		c := newTestCache(t, srv.URL)
		return []Option{WithCache(c), WithRegistry(sm, tm)}
	}
	offline := func(t *testing.T) []Option {
		zero := strings.Repeat("0", 64)
		c := newTestCache(t, srv.URL, embedder.WithOffline(true),
			embedder.WithFileSHA256("all-MiniLM-L6-v2", "onnx/model.onnx", zero), embedder.WithFileSHA256("all-MiniLM-L6-v2", "tokenizer.json", zero))
		return []Option{WithCache(c)}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()

	tests := []struct {
		name      string
		ctx       context.Context
		arg       string
		opts      func(*testing.T) []Option
		onnx      bool   // needs ONNX Runtime
		wantDim   int    // 0: an error is wanted
		is        error  // the error wanted
		contains  string // in the error message
		sameAsDir bool   // the same identity as static.Load(staticDir)
		wantName  string // the identity's name, if not ""
	}{
		{name: "static directory", arg: staticDir, wantDim: staticDim, sameAsDir: true},
		{name: "static model by name, downloaded", arg: "tinystatic", opts: hub, wantDim: staticDim},
		{name: "onnx directory", arg: tinyDir, onnx: true, wantDim: 32},
		{name: "onnx model by name, downloaded", arg: "tinybert", opts: hub, onnx: true, wantDim: 32},
		{name: "static options apply", arg: staticDir, opts: func(*testing.T) []Option {
			return []Option{WithStatic(static.WithName("renamed"))}
		}, wantDim: staticDim, wantName: "renamed"},
		{name: "onnx options apply", arg: tinyDir, opts: func(*testing.T) []Option {
			return []Option{WithONNX(onnx.WithPooling("max"))}
		}, is: embedder.ErrModelConfig},
		{name: "empty directory", arg: empty, is: ErrNotModel, contains: "neither model.onnx"},
		{name: "a file not of word vectors", arg: aFile, is: static.ErrWordVectors, contains: "is it a word-vector file?"},
		{name: "unknown name", arg: "no-such-model", is: embedder.ErrUnknownModel, contains: "all-MiniLM-L6-v2"},
		{name: "no name", arg: "", is: embedder.ErrUnknownModel, contains: "built-in"},
		{name: "registered name, offline and not cached", arg: "all-MiniLM-L6-v2", opts: offline, is: embedder.ErrNotCached},
		{name: "cancelled", ctx: cancelled, arg: staticDir, is: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.onnx {
				requireORT(t)
			}
			c := ctx
			if tt.ctx != nil {
				c = tt.ctx
			}
			var opts []Option
			if tt.opts != nil {
				opts = tt.opts(t)
			}
			e, err := Load(c, tt.arg, opts...)
			if tt.wantDim == 0 {
				if !errors.Is(err, tt.is) || !strings.Contains(errString(err), tt.contains) {
					t.Fatalf("got %v, want %v containing %q", err, tt.is, tt.contains)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cl, ok := e.(interface{ Close() error }); ok {
				defer cl.Close()
			}
			if e.Identity().Dim != tt.wantDim {
				t.Fatalf("dimension %d, want %d", e.Identity().Dim, tt.wantDim)
			}
			if tt.wantName != "" && e.Identity().Name != tt.wantName {
				t.Fatalf("name %q, want %q", e.Identity().Name, tt.wantName)
			}
			if tt.sameAsDir && !e.Identity().Equal(want.Identity()) {
				t.Fatalf("identity %v, want %v", e.Identity(), want.Identity())
			}
			vecs, err := e.EmbedDocuments(ctx, []string{"the cat runs"})
			if err != nil || len(vecs) != 1 || len(vecs[0]) != tt.wantDim {
				t.Fatalf("embed: %v %v", vecs, err)
			}
			// ModelDir finds the same files.
			var o options
			for _, opt := range opts {
				opt(&o)
			}
			dir, err := modelDir(ctx, tt.arg, o)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err != nil {
				t.Fatalf("ModelDir %s: %v", dir, err)
			}
		})
	}

	// A model fetched by name is the same model as the directory it was
	// published from.
	byName, err := Load(ctx, "tinystatic", hub(t)...)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := byName.EmbedDocuments(ctx, []string{"the dog plays"})
	b, _ := want.EmbedDocuments(ctx, []string{"the dog plays"})
	if !slices.Equal(a[0], b[0]) || byName.Identity().Hash != want.Identity().Hash {
		t.Fatalf("by name %v (%s), by directory %v (%s)", a[0], byName.Identity().Hash, b[0], want.Identity().Hash)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestLoadDownloadedONNX: a transformer fetched by name embeds exactly as
// the directory it was published from, and the errors for names name the
// registered models.
func TestLoadDownloadedONNX(t *testing.T) {
	ctx := context.Background()
	off := newTestCache(t, "", embedder.WithOffline(true))
	if _, err := Load(ctx, "no-such-model", WithCache(off)); !errors.Is(err, embedder.ErrUnknownModel) || !strings.Contains(err.Error(), "all-MiniLM-L6-v2") {
		t.Fatalf("unknown name: %v", err)
	}
	if _, err := Load(ctx, "all-MiniLM-L6-v2", WithCache(off)); !errors.Is(err, embedder.ErrUnpinned) && !errors.Is(err, embedder.ErrNotCached) {
		t.Fatalf("registered but unpinned/uncached: %v", err)
	}
	requireORT(t)
	tm, files := tinyRegistryModel(t)
	srv := newHubServer(t, files)
	byName, err := Load(ctx, "tinybert", WithCache(newTestCache(t, srv.URL)), WithRegistry(tm))
	if err != nil {
		t.Fatal(err)
	}
	defer byName.(io.Closer).Close()
	local, err := onnx.Load(ctx, tinyDir)
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	a, _ := byName.EmbedQuery(ctx, "the weather today")
	b, _ := local.EmbedQuery(ctx, "the weather today")
	if len(a) == 0 || !slices.Equal(a, b) {
		t.Fatalf("downloaded model embeds differently: %v vs %v", a, b)
	}
}
