package embedder

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestRegistryEntries(t *testing.T) {
	tests := []struct {
		name    string
		repo    string
		kind    string
		dim     int
		pooling Pooling
		query   string
		doc     string
		maxLen  int
		pinned  bool
	}{
		{"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", KindONNX, 384, PoolingMean, "", "", 256, true},
		{"bge-small-en-v1.5", "BAAI/bge-small-en-v1.5", KindONNX, 384, PoolingCLS, "Represent this sentence for searching relevant passages: ", "", 512, true},
		{"e5-small-v2", "intfloat/e5-small-v2", KindONNX, 384, PoolingMean, "query: ", "passage: ", 512, true},
		{"gte-small", "thenlper/gte-small", KindONNX, 384, PoolingMean, "", "", 512, true},
		{"potion-base-8M", "minishlab/potion-base-8M", KindStatic, 256, "", "", "", 0, true},
		{"potion-retrieval-32M", "minishlab/potion-retrieval-32M", KindStatic, 512, "", "", "", 0, true},
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
			if m.Repo != tc.repo || m.Kind != tc.kind || m.Dim != tc.dim || m.Pinned() != tc.pinned {
				t.Fatalf("entry %+v (pinned %v)", m, m.Pinned())
			}
			paths := map[string]bool{}
			for _, f := range m.Files {
				paths[f.Path] = true
			}
			if tc.kind == KindStatic {
				if len(m.Files) != 3 || !paths["model.safetensors"] || !paths["tokenizer.json"] || !paths["config.json"] {
					t.Fatalf("files %v: a Model2Vec model needs model.safetensors, tokenizer.json, config.json", m.Files)
				}
				if m.Config != (ModelConfig{}) {
					t.Fatalf("static model with an ONNX config %+v", m.Config)
				}
			} else {
				c := m.Config
				if c.Pooling != tc.pooling || c.QueryPrefix != tc.query || c.DocumentPrefix != tc.doc ||
					c.MaxSeqLength != tc.maxLen || !c.Normalize || c.Name != tc.name {
					t.Fatalf("config %+v", c)
				}
				if !paths["tokenizer.json"] || !paths[c.Model] {
					t.Fatalf("files %v lack tokenizer.json or %s", m.Files, c.Model)
				}
			}
			if tc.pinned && len(m.Revision) != 40 {
				t.Fatalf("pinned model at revision %q, not a commit", m.Revision)
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
	m, _ := LookupModel("e5-small-v2")
	want := m.Files[0].SHA256
	m.Files[0].SHA256 = strings.Repeat("0", 64)
	if again, _ := LookupModel("e5-small-v2"); again.Files[0].SHA256 != want {
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

func TestPinnedAndUnpinned(t *testing.T) {
	// What could not be confirmed from two public sources stays unpinned
	// (see registry's doc), and reports itself, so fetching it demands
	// WithFileSHA256.
	want := map[string][]string{
		"all-MiniLM-L6-v2":     nil,
		"bge-small-en-v1.5":    nil,
		"e5-small-v2":          nil,
		"gte-small":            nil,
		"potion-base-8M":       nil,
		"potion-retrieval-32M": nil,
	}
	for _, m := range RegisteredModels() {
		if got := m.Unpinned(); strings.Join(got, ",") != strings.Join(want[m.Name], ",") {
			t.Errorf("%s: unpinned %v, want %v", m.Name, got, want[m.Name])
		}
	}
	m, _ := LookupModel("potion-base-8M")
	if m.DownloadBytes() != 30236760+683666+202 {
		t.Errorf("potion-base-8M download bytes %d", m.DownloadBytes())
	}
	for _, edit := range []func(*RegistryModel){
		func(m *RegistryModel) { m.Revision = "main" },
		func(m *RegistryModel) { m.Files[0].Size = 0 },
		func(m *RegistryModel) { m.Files[1].SHA256 = "" },
	} {
		c := m
		c.Files = append([]RegistryFile(nil), m.Files...)
		if edit(&c); c.Pinned() {
			t.Errorf("%+v reports itself pinned", c)
		}
	}
}

func TestListModels(t *testing.T) {
	c := newTestCache(t, "", WithOffline(true))
	list := ListModels(c)
	if len(list) != len(RegisteredModels())+2 {
		t.Fatalf("%d rows", len(list))
	}
	for _, r := range list {
		if r.Cached {
			t.Fatalf("%s cached in an empty cache", r.Name)
		}
	}
	last := list[len(list)-2:]
	if !reflect.DeepEqual(last[0], ModelInfo{Name: "ollama:MODEL", Kind: KindServer}) || !reflect.DeepEqual(last[1], ModelInfo{Name: "openai:MODEL", Kind: KindServer}) {
		t.Fatalf("server rows %+v", last)
	}
	// Put potion-base-8M's files in the cache at their pinned sizes: it
	// is then listed as cached; one file short, it is not.
	m, _ := LookupModel("potion-base-8M")
	dir := modelCacheDir(c.Dir(), m)
	for i, f := range m.Files {
		p := filepath.Join(dir, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		size := f.Size
		if i == 0 {
			size-- // damaged
		}
		if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if c.Cached(m) {
		t.Fatal("a file of the wrong size counts as cached")
	}
	if err := os.WriteFile(filepath.Join(dir, m.Files[0].Path), make([]byte, m.Files[0].Size), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, r := range ListModels(c) {
		if r.Cached != (r.Name == "potion-base-8M") {
			t.Fatalf("row %+v", r)
		}
		if r.Name == "potion-base-8M" && (r.Kind != KindStatic || r.Dim != 256 || !r.Pinned || r.Bytes != m.DownloadBytes()) {
			t.Fatalf("row %+v", r)
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

// TestRegistryLayouts: each built-in transformer is offered in both
// layouts, and a layout's view lists exactly what its backend downloads,
// with the pinned sizes the registry's comments cite.
func TestRegistryLayouts(t *testing.T) {
	tests := []struct {
		name               string
		onnxBytes, stBytes int64 // 0: not every size pinned
		pinned             bool  // both layouts Pinned
	}{
		{"all-MiniLM-L6-v2", 90405214 + 466247, 90868376 + 466247 + 612, true},
		{"bge-small-en-v1.5", 133093490 + 711396, 133466304 + 711396 + 743, true},
		{"e5-small-v2", 133093468 + 711396, 133466304 + 711396 + 615, true},
		{"gte-small", 133126567 + 711661, 66746168 + 711661 + 583, true},
	}
	for _, tc := range tests {
		m, ok := LookupModel(tc.name)
		if !ok {
			t.Fatalf("%s not registered", tc.name)
		}
		if got := m.Layouts(); !reflect.DeepEqual(got, []string{LayoutONNX, LayoutSafetensors}) || m.DefaultLayout() != LayoutONNX {
			t.Fatalf("%s: layouts %v, default %q", tc.name, got, m.DefaultLayout())
		}
		o, err := m.ForLayout(LayoutONNX)
		if err != nil {
			t.Fatal(err)
		}
		st, err := m.ForLayout(LayoutSafetensors)
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, f := range st.Files {
			paths = append(paths, f.Path)
			if f.SHA256 == "" {
				t.Errorf("%s: %s has no digest", tc.name, f.Path)
			}
		}
		if !reflect.DeepEqual(paths, []string{"tokenizer.json", "model.safetensors", "config.json"}) {
			t.Errorf("%s: safetensors layout files %v", tc.name, paths)
		}
		if len(o.Files) != 2 || !strings.HasSuffix(o.Files[0].Path, ".onnx") || o.Files[1].Path != "tokenizer.json" {
			t.Errorf("%s: onnx layout files %+v", tc.name, o.Files)
		}
		if o.Pinned() != tc.pinned || st.Pinned() != tc.pinned {
			t.Errorf("%s: pinned onnx %v safetensors %v, want %v", tc.name, o.Pinned(), st.Pinned(), tc.pinned)
		}
		if tc.pinned && (o.DownloadBytes() != tc.onnxBytes || st.DownloadBytes() != tc.stBytes) {
			t.Errorf("%s: bytes onnx %d safetensors %d, want %d and %d", tc.name, o.DownloadBytes(), st.DownloadBytes(), tc.onnxBytes, tc.stBytes)
		}
		if m.Pinned() != tc.pinned {
			t.Errorf("%s: whole entry pinned %v", tc.name, m.Pinned())
		}
	}
	m, _ := LookupModel("potion-base-8M")
	if _, err := m.ForLayout(LayoutSafetensors); !errors.Is(err, ErrNoLayout) {
		t.Errorf("static model's safetensors layout: %v, want ErrNoLayout", err)
	}
	if v, err := m.ForLayout(""); err != nil || len(v.Files) != len(m.Files) {
		t.Errorf("layout \"\": %v %v", v, err)
	}

	// ListModelsFor: the top-level figures are the asked layout's, and
	// every layout is listed.
	c := newTestCache(t, "", WithOffline(true))
	for _, layout := range []string{LayoutONNX, LayoutSafetensors} {
		for _, r := range ListModelsFor(c, layout) {
			if r.Name != "all-MiniLM-L6-v2" {
				continue
			}
			want := map[string]int64{LayoutONNX: 90405214 + 466247, LayoutSafetensors: 90868376 + 466247 + 612}
			if r.Layout != layout || r.Bytes != want[layout] || !r.Pinned || len(r.Layouts) != 2 ||
				r.Layouts[0].Bytes != want[LayoutONNX] || r.Layouts[1].Bytes != want[LayoutSafetensors] {
				t.Errorf("ListModelsFor(%s): %+v", layout, r)
			}
		}
	}
}

// TestLayoutValidation: a malformed layout description is refused before
// anything is fetched.
func TestLayoutValidation(t *testing.T) {
	base := func() RegistryModel {
		m, _ := LookupModel("all-MiniLM-L6-v2")
		m.Files = append([]RegistryFile(nil), m.Files...)
		return m
	}
	tests := []struct {
		name string
		edit func(*RegistryModel)
		want string
	}{
		{"unknown layout", func(m *RegistryModel) { m.Files[2].Layout = "tflite" }, `layout "tflite"`},
		{"no config.json", func(m *RegistryModel) { m.Files = m.Files[:3] }, "must list model.safetensors and config.json"},
		{"no onnx file", func(m *RegistryModel) { m.Files[0].Path = "onnx/model.bin" }, "lists no .onnx file"},
		{"static with a layout", func(m *RegistryModel) {
			p, _ := LookupModel("potion-base-8M")
			*m = p
			m.Files = append([]RegistryFile(nil), p.Files...)
			m.Files[0].Layout = LayoutSafetensors
		}, "a static model has one layout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := base()
			tc.edit(&m)
			if err := m.validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if err := base().validate(); err != nil {
		t.Fatal(err)
	}
}
