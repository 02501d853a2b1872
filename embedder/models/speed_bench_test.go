package models

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/builtin"
	"github.com/vecbolt/vecbolt/embedder/safetensors"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"
	"github.com/vecbolt/vecbolt/testdata/demo"
)

// BenchmarkModelKindSpeed measures the sentences per second of the model
// kinds that run on any machine, through models.Load as --model opens
// them: the built-in model, Model2Vec-layout directories of the potion
// models' shapes and a word-vector file of GloVe 6B 100d's shape. The
// weights are random (no real model is reachable from the build machines)
// but the shapes, vocabularies and code paths are the real ones, and a
// static model's cost does not depend on its weights' values. One
// goroutine, batches of 32 sentences of the demo corpus. README's
// "Choosing a model" quotes it:
//
//	go test -run XXX -bench ModelKindSpeed -benchtime 3s ./embedder/models/
func BenchmarkModelKindSpeed(b *testing.B) {
	sentences := demoSentences(b)
	vocab := bertVocab(b)
	dir := b.TempDir()
	kinds := []struct {
		name  string
		model func(b *testing.B) embedder.Embedder
	}{
		{"builtin", func(b *testing.B) embedder.Embedder {
			m, err := builtin.New()
			if err != nil {
				b.Skipf("no built-in model: %v", err)
			}
			return m
		}},
		// potion-base-8M is a 29,528 × 256 table and potion-retrieval-32M
		// 63,091 × 512, both over bert-base-uncased's WordPiece; the
		// synthetic ones use that vocabulary (30,522 tokens) at each width.
		{"model2vec-30522x256", func(b *testing.B) embedder.Embedder { return model2vecDir(b, dir, vocab, 256) }},
		{"model2vec-30522x512", func(b *testing.B) embedder.Embedder { return model2vecDir(b, dir, vocab, 512) }},
		// GloVe 6B 100d: 400,000 lower-cased words × 100.
		{"wordvec-400000x100", func(b *testing.B) embedder.Embedder { return wordVectorFile(b, dir, vocab, 400000, 100) }},
	}
	ctx := context.Background()
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			m := k.model(b)
			const batch = 32
			n := 0
			b.ResetTimer()
			cpu0 := processCPUTime()
			for b.Loop() {
				i := (n * batch) % (len(sentences) - batch)
				if _, err := m.EmbedDocuments(ctx, sentences[i:i+batch]); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n*batch)/b.Elapsed().Seconds(), "sentences/s")
			if cpu := processCPUTime() - cpu0; cpu > 0 {
				// The machine is shared: CPU time leaves out the waits
				// for a core that wall time includes (GC counted).
				b.ReportMetric(float64(n*batch)/cpu.Seconds(), "sentences/cpu-s")
			}
		})
	}
}

// demoSentences splits the demo corpus's documents into sentences of at
// least four words (14.9 words on average), as the bench's embed suite
// does (bench/embedders.go).
func demoSentences(b *testing.B) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(demo.Corpus))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			b.Fatal(err)
		}
		for _, s := range strings.Split(rec.Text, ". ") {
			if len(strings.Fields(s)) >= 4 {
				out = append(out, strings.TrimSpace(s))
			}
		}
	}
	if len(out) < 100 {
		b.Fatalf("demo corpus gave %d sentences", len(out))
	}
	return out
}

func bertVocab(b *testing.B) []string {
	f, err := os.Open("../tokenizer/testdata/bert-base-uncased-vocab.txt")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	vocab, err := tokenizer.LoadVocabTxt(f)
	if err != nil {
		b.Fatal(err)
	}
	return vocab
}

// model2vecDir writes a Model2Vec-layout directory with a random
// len(vocab) × dim table and loads it through Load.
func model2vecDir(b *testing.B, root string, vocab []string, dim int) embedder.Embedder {
	dir := filepath.Join(root, fmt.Sprintf("m2v-%d", dim))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, uint64(dim)))
	rows := make([]float32, len(vocab)*dim)
	for i := range rows {
		rows[i] = float32(r.NormFloat64())
	}
	var st bytes.Buffer
	if err := safetensors.Write(&st, []safetensors.Tensor{safetensors.F32Tensor("embeddings", []int{len(vocab), dim}, rows)}, nil); err != nil {
		b.Fatal(err)
	}
	tok, err := tokenizer.NewWordPiece(vocab)
	if err != nil {
		b.Fatal(err)
	}
	tj, err := tok.MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	for name, data := range map[string][]byte{"model.safetensors": st.Bytes(), "tokenizer.json": tj, "config.json": []byte(`{"normalize": true}`)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	m, err := Load(context.Background(), dir)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// wordVectorFile writes a word2vec binary file of rows words × dim (the
// whole words of vocab first, so the sentences find their words as they
// would in a real file, then fillers) and loads it through Load.
func wordVectorFile(b *testing.B, root string, vocab []string, rows, dim int) embedder.Embedder {
	path := filepath.Join(root, fmt.Sprintf("wv-%dx%d.bin", rows, dim))
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(w, "%d %d\n", rows, dim)
	r := rand.New(rand.NewPCG(3, 4))
	vec := make([]byte, 4*dim)
	n := 0
	word := func(s string) {
		w.WriteString(s)
		w.WriteByte(' ')
		for i := range dim {
			binary.LittleEndian.PutUint32(vec[4*i:], math.Float32bits(float32(r.NormFloat64())))
		}
		w.Write(vec)
		w.WriteByte('\n')
		n++
	}
	for _, v := range vocab {
		if n < rows && !strings.HasPrefix(v, "##") && !strings.HasPrefix(v, "[") {
			word(v)
		}
	}
	for i := 0; n < rows; i++ {
		word(fmt.Sprintf("filler%d", i))
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	m, err := Load(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	return m
}
