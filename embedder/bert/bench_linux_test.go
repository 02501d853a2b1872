//go:build linux

package bert

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func threadCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEmbed embeds short sentences and ~200-token documents with the
// MiniLM-shaped random model (generated; skipped without python3-onnx).
// Throughput comparisons against ONNX Runtime live in bench/ (the encoder
// suite); this is for profiling the forward pass.
func BenchmarkEmbed(b *testing.B) {
	dir := generated(b, "minilm")
	m, err := Load(context.Background(), dir, WithThreads(1))
	if err != nil {
		b.Fatal(err)
	}
	words := strings.Fields("the quick brown fox jumps over the lazy dog while machine learning models search a vector database today")
	sentence := strings.Join(words[:12], " ")
	doc := strings.Repeat(strings.Join(words, " ")+" . ", 11)
	for _, c := range []struct {
		name string
		text string
	}{{"sentence", sentence}, {"document", doc}} {
		texts := make([]string, 32)
		for i := range texts {
			texts[i] = c.text
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := m.EmbedDocuments(context.Background(), texts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(texts))/b.Elapsed().Seconds(), "texts/s")
		})
	}
}

// BenchmarkGemm measures the matrix-product kernels on the encoder's
// largest product shape (256 tokens × 1536 outputs × 384 inputs).
func BenchmarkGemm(b *testing.B) {
	const m, n, k = 256, 1536, 384
	a := make([]float32, m*k)
	w := make([]float32, n*k)
	for i := range a {
		a[i] = float32(i%7) * 0.1
	}
	for i := range w {
		w[i] = float32(i%5) * 0.1
	}
	bp := packed(packPanels(w, n, k), k)
	c := make([]float32, m*n)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	for b.Loop() {
		gemm(m, n, k, a, k, bp, c, n)
	}
	cpu := threadCPU() - cpu0
	b.ReportMetric(2*m*n*k*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	// Per second of this thread's CPU time: what the kernel achieves when
	// it has the core, on a machine shared with other work.
	b.ReportMetric(2*m*n*k*float64(b.N)/cpu.Seconds()/1e9, "GFLOP/cpu-s")
}
