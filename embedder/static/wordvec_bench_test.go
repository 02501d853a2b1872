package static

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// synthWordVectors writes n words of dimension dim in GloVe text (six
// decimals, as GloVe's files) or word2vec binary.
func synthWordVectors(n, dim int, bin bool) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	if bin {
		fmt.Fprintf(&b, "%d %d\n", n, dim)
	}
	for i := range n {
		fmt.Fprintf(&b, "w%d", i)
		if bin {
			b.WriteByte(' ')
			for range dim {
				v := float32(r.NormFloat64())
				b.Write([]byte{byte(math.Float32bits(v)), byte(math.Float32bits(v) >> 8), byte(math.Float32bits(v) >> 16), byte(math.Float32bits(v) >> 24)})
			}
			b.WriteByte('\n')
			continue
		}
		for range dim {
			fmt.Fprintf(&b, " %.6f", r.NormFloat64())
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// BenchmarkReadWordVectors measures loading (MB/s of file content):
// go test -run XXX -bench ReadWordVectors -benchtime 3x ./embedder/static/
func BenchmarkReadWordVectors(b *testing.B) {
	for _, bin := range []bool{false, true} {
		data := synthWordVectors(20000, 100, bin)
		b.Run(fmt.Sprintf("binary=%v", bin), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := ReadWordVectors(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWordVectorsEmbed measures embedding a 60-word text.
func BenchmarkWordVectorsEmbed(b *testing.B) {
	m, err := ReadWordVectors(bytes.NewReader(synthWordVectors(20000, 100, true)))
	if err != nil {
		b.Fatal(err)
	}
	words := make([]string, 60)
	for i := range words {
		words[i] = fmt.Sprintf("W%d", i*97)
	}
	text := strings.Join(words, " ")
	dst := make([]float32, m.Dim())
	for b.Loop() {
		if err := m.Embed(text, dst); err != nil {
			b.Fatal(err)
		}
	}
}
