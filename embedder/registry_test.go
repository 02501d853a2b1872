package embedder

import (
	"runtime"
	"strings"
	"testing"
)

func TestRegistryEntries(t *testing.T) {
	tests := []struct {
		name    string
		repo    string
		pooling Pooling
		query   string
		doc     string
		maxLen  int
	}{
		{"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", PoolingMean, "", "", 256},
		{"bge-small-en-v1.5", "BAAI/bge-small-en-v1.5", PoolingCLS, "Represent this sentence for searching relevant passages: ", "", 512},
		{"e5-small-v2", "intfloat/e5-small-v2", PoolingMean, "query: ", "passage: ", 512},
		{"gte-small", "thenlper/gte-small", PoolingMean, "", "", 512},
	}
	if got := len(RegisteredModels()); got != len(tests) {
		t.Fatalf("%d registered models, want %d", got, len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := LookupModel(tc.name)
			if !ok {
				t.Fatal("not registered")
			}
			if err := m.validate(); err != nil {
				t.Fatal(err)
			}
			c := m.Config
			if m.Repo != tc.repo || c.Pooling != tc.pooling || c.QueryPrefix != tc.query || c.DocumentPrefix != tc.doc ||
				c.MaxSeqLength != tc.maxLen || !c.Normalize || m.Dim != 384 || c.Name != tc.name {
				t.Fatalf("entry %+v", m)
			}
			paths := map[string]bool{}
			for _, f := range m.Files {
				paths[f.Path] = true
			}
			if !paths["tokenizer.json"] || !paths[c.Model] {
				t.Fatalf("files %v lack tokenizer.json or %s", m.Files, c.Model)
			}
			// Without pinned sizes, every file has a bound, so that a
			// wrong server cannot fill the disk (issue #12).
			for _, f := range m.Files {
				if f.Size == 0 && (f.MaxSize <= 0 || f.MaxSize > DefaultMaxDownloadSize) {
					t.Errorf("%s: no size and no bound tighter than the default (%d)", f.Path, f.MaxSize)
				}
			}
		})
	}
	// Callers get copies: changing one does not change the registry.
	m, _ := LookupModel("gte-small")
	m.Files[0].SHA256 = strings.Repeat("0", 64)
	if again, _ := LookupModel("gte-small"); again.Files[0].SHA256 != "" {
		t.Fatal("registry mutated through a returned value")
	}
}

func TestRegistryValidate(t *testing.T) {
	good, _ := LookupModel("all-MiniLM-L6-v2")
	tests := []struct {
		name string
		edit func(*RegistryModel)
		want string
	}{
		{"bad name", func(m *RegistryModel) { m.Name = "../x" }, "model name"},
		{"no repo", func(m *RegistryModel) { m.Repo = "" }, "repository"},
		{"revision with slash", func(m *RegistryModel) { m.Revision = "a/b" }, "revision"},
		{"no files", func(m *RegistryModel) { m.Files = nil }, "no files"},
		{"absolute file", func(m *RegistryModel) { m.Files = []RegistryFile{{Path: "/etc/passwd"}} }, "relative"},
		{"dot-dot file", func(m *RegistryModel) { m.Files = []RegistryFile{{Path: "a/../../b"}} }, "relative"},
		{"part file", func(m *RegistryModel) { m.Files = []RegistryFile{{Path: "model.onnx.part"}} }, "relative"},
		{"overwrites config", func(m *RegistryModel) { m.Files = []RegistryFile{{Path: ConfigFileName}} }, ConfigFileName},
		{"bad digest", func(m *RegistryModel) { m.Files = []RegistryFile{{Path: "a", SHA256: "ABC"}} }, "SHA-256"},
		{"bad config", func(m *RegistryModel) { m.Config.MaxSeqLength = 0 }, "max_seq_length"},
		{"negative size", func(m *RegistryModel) { m.Files = []RegistryFile{{Path: "a", Size: -1}} }, "size -1"},
		{"negative bound", func(m *RegistryModel) { m.Files = []RegistryFile{{Path: "a", MaxSize: -1}} }, "bound -1"},
		{"size over its bound", func(m *RegistryModel) { m.Files = []RegistryFile{{Path: "a", Size: 10, MaxSize: 5}} }, "exceeds the bound"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := good
			m.Files = append([]RegistryFile(nil), good.Files...)
			tc.edit(&m)
			if err := m.validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want error mentioning %q", err, tc.want)
			}
		})
	}
}

func TestUnpinned(t *testing.T) {
	// No real digests are pinned yet (see registry's doc): every file must
	// report itself, so fetching demands WithFileSHA256.
	for _, m := range RegisteredModels() {
		if got := m.Unpinned(); len(got) != len(m.Files) {
			t.Errorf("%s: unpinned %v of %d files", m.Name, got, len(m.Files))
		}
	}
}

func TestCacheDir(t *testing.T) {
	t.Setenv(EnvCache, "/some/where")
	if d, err := CacheDir(); err != nil || d != "/some/where" {
		t.Fatalf("%q %v", d, err)
	}
	if runtime.GOOS != "linux" {
		return // os.UserCacheDir follows XDG only on Linux
	}
	t.Setenv(EnvCache, "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	if d, err := CacheDir(); err != nil || d != "/xdg/vecbolt" {
		t.Fatalf("%q %v", d, err)
	}
}
