package builtin

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/embedder"
)

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func newModel(t testing.TB) *Model {
	t.Helper()
	m, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestIdentity(t *testing.T) {
	m := newModel(t)
	id := m.Identity()
	if id.Name != Name || id.Dim != Dim || id.Pooling != "weighted-mean" || len(id.Hash) != 64 {
		t.Errorf("identity = %+v", id)
	}
	var _ embedder.Embedder = m
	if m2 := newModel(t); !m2.Identity().Equal(id) {
		t.Errorf("two loads disagree: %v vs %v", m2.Identity(), id)
	}
}

// TestManifestMatchesFiles guards the embedded files against edits that
// bypass the training tool: their SHA-256 must be the ones it recorded.
func TestManifestMatchesFiles(t *testing.T) {
	b, err := os.ReadFile("model/MANIFEST.json")
	if err != nil {
		t.Fatal(err)
	}
	var man struct {
		Model  string            `json:"model"`
		Output map[string]string `json:"output_sha256"`
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	if man.Model != Name {
		t.Errorf("manifest model %q, want %q", man.Model, Name)
	}
	// Every embedded file is in the manifest and matches it.
	files, err := fs.Glob(modelFiles, "model/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(man.Output) {
		t.Errorf("embedded files %q, manifest lists %d", files, len(man.Output))
	}
	for _, f := range []string{"model.safetensors", "tokenizer.json", "config.json"} {
		if _, ok := man.Output[f]; !ok {
			t.Errorf("manifest lacks %s", f)
		}
	}
	for f := range man.Output {
		data, err := modelFiles.ReadFile(filepath.Join("model", f))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != man.Output[f] {
			t.Errorf("%s: sha256 %s, manifest says %s", f, got, man.Output[f])
		}
	}
}

func TestSeedExample(t *testing.T) {
	m := newModel(t)
	ctx := context.Background()
	vs, err := m.EmbedDocuments(ctx, []string{"I love machine learning", "Artificial intelligence is amazing", "Bananas are yellow"})
	if err != nil {
		t.Fatal(err)
	}
	near, far := dot(vs[0], vs[1]), dot(vs[0], vs[2])
	t.Logf("ML·AI = %.3f, ML·bananas = %.3f", near, far)
	if near <= far {
		t.Errorf("\"I love machine learning\" is closer to bananas (%.3f) than to AI (%.3f)", far, near)
	}
}

type triple struct{ anchor, near, far string }

func readTriples(t *testing.T) []triple {
	f, err := os.Open("testdata/triples.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []triple
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 3 {
			t.Fatalf("bad triple line %q", line)
		}
		out = append(out, triple{c[0], c[1], c[2]})
	}
	return out
}

// TestTriples: of everyday (anchor, related, unrelated) sentence triples,
// at least 90% must score the related sentence higher.
func TestTriples(t *testing.T) {
	m := newModel(t)
	ctx := context.Background()
	ts := readTriples(t)
	if len(ts) < 30 {
		t.Fatalf("only %d triples", len(ts))
	}
	ok := 0
	for _, tr := range ts {
		vs, err := m.EmbedDocuments(ctx, []string{tr.anchor, tr.near, tr.far})
		if err != nil {
			t.Fatal(err)
		}
		near, far := dot(vs[0], vs[1]), dot(vs[0], vs[2])
		if near > far {
			ok++
		} else {
			t.Logf("misordered: %q: related %q %.3f <= unrelated %q %.3f", tr.anchor, tr.near, near, tr.far, far)
		}
	}
	frac := float64(ok) / float64(len(ts))
	t.Logf("%d/%d triples ordered correctly (%.1f%%)", ok, len(ts), 100*frac)
	if frac < 0.9 {
		t.Errorf("only %.1f%% of triples ordered correctly, want >= 90%%", 100*frac)
	}
}

func TestEmbedProperties(t *testing.T) {
	m := newModel(t)
	ctx := context.Background()
	v, err := m.EmbedQuery(ctx, "Naïve café owners serve crème brûlée — déjà vu!")
	if err != nil {
		t.Fatal(err)
	}
	if n := dot(v, v); n < 0.9999 || n > 1.0001 {
		t.Errorf("norm² = %v, want 1", n)
	}
	if _, err := m.EmbedQuery(ctx, " \t"); err != embedder.ErrEmptyText {
		t.Errorf("blank text: err = %v", err)
	}
	// Case and surrounding whitespace do not matter (uncased tokenizer).
	a, _ := m.EmbedQuery(ctx, "Database Index")
	b, _ := m.EmbedQuery(ctx, "  database index ")
	if d := dot(a, b); d < 0.9999 {
		t.Errorf("case changed the vector: dot %v", d)
	}
}

var benchSentences = []string{
	"The quick brown fox jumps over the lazy dog.",
	"How do I reset my password if I forgot the old one?",
	"Scientists discovered a new species of frog in the rainforest.",
	"The meeting has been moved to Thursday afternoon at three.",
	"This library provides fast JSON parsing for Go programs.",
	"Our team won the regional football championship last weekend.",
	"Add two cups of flour and a pinch of salt, then stir well.",
	"The server returned an unexpected error while saving the file.",
}

// BenchmarkEmbedSentence measures single-core throughput on typical
// sentences (about 10 words); sentences/s is reported as a metric.
func BenchmarkEmbedSentence(b *testing.B) {
	m := newModel(b)
	dst := make([]float32, m.Dim())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := m.Embed(benchSentences[i%len(benchSentences)], dst); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sentences/s")
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEmbedQuery measures the query side: one-word queries (query
// rows) and sentences (document rows), through the allocation-free path.
func BenchmarkEmbedQuery(b *testing.B) {
	m := newModel(b)
	dst := make([]float32, m.Dim())
	texts := append([]string{"automobile", "database", "happiness", "compiler"}, benchSentences[:4]...)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := m.EmbedQueryInto(texts[i%len(texts)], dst); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
}
