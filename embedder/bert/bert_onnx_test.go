//go:build cgo

package bert

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/onnx"
)

// requireORT skips when ONNX Runtime is not installed, unless
// VECBOLT_REQUIRE_ONNXRUNTIME=1 (CI installs it) makes that a failure.
func requireORT(t testing.TB) {
	t.Helper()
	if _, err := onnx.FindRuntime(""); err != nil {
		if errors.Is(err, onnx.ErrNoRuntime) && os.Getenv("VECBOLT_REQUIRE_ONNXRUNTIME") != "1" {
			t.Skipf("ONNX Runtime not installed; run scripts/install-onnxruntime.sh (%v)", err)
		}
		t.Fatalf("loading ONNX Runtime: %v", err)
	}
}

// TestMatchesONNXRuntime runs the same random weights through ONNX Runtime
// (the ONNX export) and through this package (the safetensors copy) for
// inputs that exercise every path: one token, exactly the maximum length,
// truncation, a batch of mixed lengths that ONNX Runtime pads, non-ASCII.
func TestMatchesONNXRuntime(t *testing.T) {
	requireORT(t)
	shapes := []string{"tiny", "minilm", "bge"}
	if testing.Short() {
		shapes = []string{"tiny", "minilm"}
		if kernelName() == "generic" {
			// The portable kernels (purego builds) are a few times slower;
			// the tiny model exercises every path they take.
			shapes = shapes[:1]
		}
	}
	for _, shape := range shapes {
		t.Run(shape, func(t *testing.T) {
			dir := generated(t, shape)
			ctx := context.Background()
			ox, err := onnx.Load(ctx, dir, onnx.WithIntraOpThreads(1))
			if err != nil {
				t.Fatal(err)
			}
			defer ox.Close()
			m, err := Load(ctx, dir, WithBatchSize(8))
			if err != nil {
				t.Fatal(err)
			}
			if m.Identity().Dim != ox.Identity().Dim || m.Identity().Pooling != ox.Identity().Pooling {
				t.Fatalf("identity %v vs ONNX %v", m.Identity(), ox.Identity())
			}
			maxLen := m.Config().MaxSeqLength
			words := strings.Fields("the quick brown fox jumps over the lazy dog and runs to the city")
			exact := make([]string, maxLen-2) // one token per word
			for i := range exact {
				exact[i] = words[i%len(words)]
			}
			long := strings.Repeat("machine learning works fast today. ", maxLen)
			var mixed []string
			// Lengths 1..96 words in a scrambled order, so batches of 8
			// (here) and 32 (ONNX) mix short and long texts.
			for i := range 19 {
				mixed = append(mixed, strings.Join(exact[:1+(i*37)%min(96, maxLen-2)], " "))
			}
			cases := []struct {
				name  string
				texts []string
			}{
				{"one token", []string{"fox"}},
				{"maximum length", []string{strings.Join(exact, " ")}},
				{"truncated", []string{long}},
				{"padded batch of mixed lengths", mixed},
				{"non-ASCII", []string{"Ça coûte 5€ — naïve café, 東京 über straße 🙂", "ÉCOLE\u00adnormale\u200b supérieure"}},
			}
			for _, c := range cases {
				got, err := m.EmbedDocuments(ctx, c.texts)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				want, err := ox.EmbedDocuments(ctx, c.texts)
				if err != nil {
					t.Fatalf("%s: ONNX: %v", c.name, err)
				}
				for i := range got {
					compareVectors(t, c.name, got[i], want[i])
				}
			}
			q, err := m.EmbedQuery(ctx, "quick fox")
			if err != nil {
				t.Fatal(err)
			}
			oq, err := ox.EmbedQuery(ctx, "quick fox")
			if err != nil {
				t.Fatal(err)
			}
			compareVectors(t, "query", q, oq)
			// Empty text is refused the same way by both.
			for _, e := range []embedder.Embedder{m, ox} {
				if _, err := e.EmbedDocuments(ctx, []string{"fox", " "}); !errors.Is(err, embedder.ErrEmptyText) {
					t.Errorf("%T: empty text: %v, want ErrEmptyText", e, err)
				}
			}
		})
	}
}
