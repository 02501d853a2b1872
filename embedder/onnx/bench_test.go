//go:build cgo

package onnx

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/vecbolt/vecbolt/embedder/internal/stlayout"
)

// benchSentences are 32 everyday sentences of typical length (8-20 words).
var benchSentences = []string{
	"The quick brown fox jumps over the lazy dog near the river bank.",
	"I love machine learning and the way it changes how we work every day.",
	"Artificial intelligence is amazing, but it still needs good data to learn from.",
	"Bananas are yellow when they are ripe and green before that.",
	"The city council voted to build a new park next to the old school.",
	"My mother made soup for the whole family on a cold winter night.",
	"Search engines rank documents by how well they match the query words.",
	"The team played a great game and won the match in the last minute.",
	"Please send me the report before the meeting tomorrow morning.",
	"Rain is expected this afternoon, so take an umbrella when you go out.",
	"She read the book in one night because the story was so good.",
	"Our company hired ten new engineers to work on the database system.",
	"The history of art tells us a lot about how people saw the world.",
	"He walked the dog in the park while listening to music on his phone.",
	"Students asked the teacher a question about the next chapter of the book.",
	"The government announced new rules for public health and education.",
	"A small cat sat on the window and watched the birds outside.",
	"The movie was long, but the ending made it worth watching.",
	"They moved to a bigger house with a garden and a view of the hills.",
	"Water boils at one hundred degrees at sea level.",
	"The president met business leaders to talk about jobs and money.",
	"Running every morning helps me feel better for the rest of the day.",
	"The office door was open, so anyone could walk in and ask for help.",
	"Children learn languages faster than adults in most studies.",
	"The vector database returns the nearest documents for each query.",
	"Green tea has less caffeine than coffee but more than water.",
	"We took the train to the coast and spent the week by the sea.",
	"His father told him a story about the war and the years after it.",
	"The computer was slow because too many programs were running at once.",
	"Tomorrow the sun will shine and the sky will be blue again.",
	"The research team found a link between sleep and memory.",
	"People in the community came together to clean the streets.",
}

// benchModelDir is the model the benchmarks run: the committed tiny model,
// or any model directory named by $VECBOLT_BENCH_ONNX_DIR (e.g. a real
// all-MiniLM-L6-v2, or the MiniLM-shaped network that
// `tools/gentinybert/gentinybert.py --shape minilm DIR` writes).
func benchModelDir() string {
	if d := os.Getenv("VECBOLT_BENCH_ONNX_DIR"); d != "" {
		return d
	}
	return tinyDir
}

// BenchmarkONNXEmbed embeds a batch of 32 typical sentences and reports
// embeddings/s and overhead_%: the time outside ONNX Runtime's Run
// (tokenization, padding, tensor set-up, pooling, normalization) as a
// percentage of Run's own time. The target is under 10% for real models.
func BenchmarkONNXEmbed(b *testing.B) {
	requireORT(b)
	e, err := Load(context.Background(), benchModelDir())
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	if _, err := e.EmbedDocuments(ctx, benchSentences); err != nil { // warm up
		b.Fatal(err)
	}
	before := e.Stats()
	b.ReportAllocs()
	b.ResetTimer()
	t0 := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := e.EmbedDocuments(ctx, benchSentences); err != nil {
			b.Fatal(err)
		}
	}
	total := time.Since(t0)
	b.StopTimer()
	ortTime := e.Stats().RunTime - before.RunTime
	b.ReportMetric(float64(b.N*len(benchSentences))/total.Seconds(), "embeds/s")
	b.ReportMetric(100*float64(total-ortTime)/float64(ortTime), "overhead_%")
}

// BenchmarkONNXTokenizeAndPool measures the same non-ORT work directly,
// without running the network: tokenize 32 sentences, pad them into a
// batch, and pool + normalize a hidden-state block of the model's size.
func BenchmarkONNXTokenizeAndPool(b *testing.B) {
	requireORT(b)
	e, err := Load(context.Background(), benchModelDir())
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	const seq = 32
	hidden := make([]float32, seq*e.dim)
	mask := make([]int64, seq)
	out := make([]float32, e.dim)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, s := range benchSentences {
			enc := e.tok.Encode(s, true)
			for j := range mask {
				mask[j] = 0
				if j < len(enc.IDs) {
					mask[j] = 1
				}
			}
			stlayout.PoolInto(out, hidden, mask, e.dim, e.cfg.Pooling)
			stlayout.NormalizeL2(out)
		}
	}
}

// BenchmarkONNXConcurrentCallers compares one caller with two callers on
// the one shared session. Each iteration does the same work both ways, back
// to back (one caller embeds two batches of 32; then two callers embed one
// batch each at the same time), so drifting load on a shared machine hits
// both alike. speedup_2v1 > 1 means two callers together beat one; it must
// not fall below 1 (the session-per-call trap).
func BenchmarkONNXConcurrentCallers(b *testing.B) {
	for _, spin := range []bool{false, true} {
		b.Run(fmt.Sprintf("spin=%v", spin), func(b *testing.B) { benchCallers(b, spin) })
	}
}

func benchCallers(b *testing.B, spin bool) {
	requireORT(b)
	e, err := Load(context.Background(), benchModelDir(), WithThreadSpinning(spin))
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	embed := func() {
		if _, err := e.EmbedDocuments(ctx, benchSentences); err != nil {
			b.Error(err)
		}
	}
	embed()
	var one, two time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		embed()
		embed()
		one += time.Since(t0)
		t0 = time.Now()
		var wg sync.WaitGroup
		for c := 0; c < 2; c++ {
			wg.Add(1)
			go func() { defer wg.Done(); embed() }()
		}
		wg.Wait()
		two += time.Since(t0)
	}
	n := float64(2 * b.N * len(benchSentences))
	b.ReportMetric(n/one.Seconds(), "embeds/s_1caller")
	b.ReportMetric(n/two.Seconds(), "embeds/s_2callers")
	b.ReportMetric(one.Seconds()/two.Seconds(), "speedup_2v1")
}
