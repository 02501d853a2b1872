package embedder

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStaticRegistryModel fetches a Model2Vec-layout model registered with
// Kind static, pinned as the potion entries are (commit, sizes, digests),
// and loads it by name: the files are verified, no vecbolt.json is added,
// and the model is the one LoadStatic gives for the same directory.
func TestStaticRegistryModel(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "src")
	writeStaticModelDir(t, src, staticModelFiles{
		tensors: []Tensor{F32Tensor("embeddings", []int{len(staticVocab), staticDim}, staticRows())},
		config:  `{"normalize": true}`,
	})
	rev := strings.Repeat("ab", 20)
	m := RegistryModel{Name: "tinym2v", Kind: KindStatic, Repo: "vecbolt/tinym2v", Revision: rev, Dim: staticDim}
	files := map[string][]byte{}
	for _, name := range []string{"model.safetensors", "tokenizer.json", "config.json"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		m.Files = append(m.Files, RegistryFile{Path: name, SHA256: sha256Hex(b), Size: int64(len(b))})
		files["/vecbolt/tinym2v/resolve/"+rev+"/"+name] = b
	}
	if !m.Pinned() {
		t.Fatal("fully pinned entry reports unpinned")
	}
	_, srv := newHubServer(t, files)
	c := newTestCache(t, srv.URL)
	e, err := Load(ctx, "tinym2v", WithModelCache(c), func(o *loadOptions) { o.extra = []RegistryModel{m} })
	if err != nil {
		t.Fatal(err)
	}
	want, err := LoadStatic(src)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Identity(); got.Hash != want.Identity().Hash || got.Dim != staticDim {
		t.Fatalf("identity %v, want the source directory's %v", got, want.Identity())
	}
	dir := modelCacheDir(c.Dir(), m)
	if _, err := os.Stat(filepath.Join(dir, ConfigFileName)); !os.IsNotExist(err) {
		t.Fatalf("a static model's cache directory got a %s (%v)", ConfigFileName, err)
	}
	if !c.Cached(m) {
		t.Fatal("fetched model not reported cached")
	}
	// A static entry must list the three files a Model2Vec model needs.
	short := m
	short.Files = m.Files[:2]
	if err := short.validate(); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Fatalf("entry without config.json: %v", err)
	}
}
