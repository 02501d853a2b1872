package bert

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/embedder"
)

// refForward is an independent float64 forward pass of one sequence,
// written from the BERT paper's equations and Hugging Face's BertModel,
// over padded batches the textbook way: it shares no code with forward.go
// (no panels, no fused products, no unpadded batching). w holds the
// weights by their Hugging Face names, Linear weights [out, in].
func refForward(a Architecture, w map[string][]float32, ids []int32, pooling embedder.Pooling, normalize bool) []float64 {
	H, I, L := a.Hidden, a.Intermediate, len(ids)
	hd := H / a.Heads
	get := func(n string) []float64 {
		v := w[n]
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
	lin := func(x [][]float64, wn, bn string, out, in int) [][]float64 {
		W, b := get(wn), get(bn)
		y := make([][]float64, len(x))
		for t := range x {
			y[t] = make([]float64, out)
			for o := 0; o < out; o++ {
				s := b[o]
				for i := 0; i < in; i++ {
					s += W[o*in+i] * x[t][i]
				}
				y[t][o] = s
			}
		}
		return y
	}
	ln := func(x []float64, gn, bn string) {
		g, b := get(gn), get(bn)
		var mean, v float64
		for _, e := range x {
			mean += e
		}
		mean /= float64(len(x))
		for _, e := range x {
			v += (e - mean) * (e - mean)
		}
		v /= float64(len(x))
		for j := range x {
			x[j] = (x[j]-mean)/math.Sqrt(v+a.LayerNormEps)*g[j] + b[j]
		}
	}
	word, pos, typ := get("embeddings.word_embeddings.weight"), get("embeddings.position_embeddings.weight"), get("embeddings.token_type_embeddings.weight")
	x := make([][]float64, L)
	for t, id := range ids {
		x[t] = make([]float64, H)
		for j := range H {
			x[t][j] = word[int(id)*H+j] + pos[t*H+j] + typ[j]
		}
		ln(x[t], "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias")
	}
	for l := range a.Layers {
		p := fmt.Sprintf("encoder.layer.%d.", l)
		q := lin(x, p+"attention.self.query.weight", p+"attention.self.query.bias", H, H)
		k := lin(x, p+"attention.self.key.weight", p+"attention.self.key.bias", H, H)
		v := lin(x, p+"attention.self.value.weight", p+"attention.self.value.bias", H, H)
		ctx := make([][]float64, L)
		for i := range ctx {
			ctx[i] = make([]float64, H)
		}
		for h := range a.Heads {
			for i := range L {
				s := make([]float64, L)
				mx := math.Inf(-1)
				for j := range L {
					for d := range hd {
						s[j] += q[i][h*hd+d] * k[j][h*hd+d]
					}
					s[j] /= math.Sqrt(float64(hd))
					mx = math.Max(mx, s[j])
				}
				var sum float64
				for j := range s {
					s[j] = math.Exp(s[j] - mx)
					sum += s[j]
				}
				for j := range L {
					for d := range hd {
						ctx[i][h*hd+d] += s[j] / sum * v[j][h*hd+d]
					}
				}
			}
		}
		o := lin(ctx, p+"attention.output.dense.weight", p+"attention.output.dense.bias", H, H)
		for t := range x {
			for j := range H {
				x[t][j] += o[t][j]
			}
			ln(x[t], p+"attention.output.LayerNorm.weight", p+"attention.output.LayerNorm.bias")
		}
		hmid := lin(x, p+"intermediate.dense.weight", p+"intermediate.dense.bias", I, H)
		for t := range hmid {
			for j, e := range hmid[t] {
				hmid[t][j] = 0.5 * e * (1 + math.Erf(e/math.Sqrt2))
			}
		}
		o = lin(hmid, p+"output.dense.weight", p+"output.dense.bias", H, I)
		for t := range x {
			for j := range H {
				x[t][j] += o[t][j]
			}
			ln(x[t], p+"output.LayerNorm.weight", p+"output.LayerNorm.bias")
		}
	}
	out := make([]float64, H)
	if pooling == embedder.PoolingCLS {
		copy(out, x[0])
	} else {
		for t := range x {
			for j := range H {
				out[j] += x[t][j] / float64(L)
			}
		}
	}
	if normalize {
		var ss float64
		for _, e := range out {
			ss += e * e
		}
		for j := range out {
			out[j] /= math.Sqrt(ss)
		}
	}
	return out
}

func toF32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// TestMatchesFloat64Reference compares the encoder with refForward on
// random weights, for mean and CLS pooling, with and without normalization,
// on inputs from [CLS] [SEP] alone (an empty text's network input) to the
// maximum length, one at a time and in mixed batches.
func TestMatchesFloat64Reference(t *testing.T) {
	a := testModelArch(t)
	vals, shapes := randomTensors(a, 1)
	for _, pooling := range []string{"mean", "cls"} {
		dir := writeModelDir(t, a, pooling, vals, shapes, nil)
		for _, norm := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/normalize=%v", pooling, norm), func(t *testing.T) {
				m, err := Load(context.Background(), dir, WithNormalize(norm), WithBatchSize(3), WithThreads(2))
				if err != nil {
					t.Fatal(err)
				}
				if norm {
					// Batches cut by the token cap rather than the count.
					m.maxTokens = 20
				}
				texts := []string{
					"fox",
					"the quick brown fox jumps over the lazy dog",
					strings.Repeat("machine learning ", 40), // truncated to 32 tokens
					"Ça coûte 5€, naïve café 東京",
					"a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3", // exactly 32 tokens
					"run", "running fast", "vector database search",
				}
				got, err := m.EmbedDocuments(context.Background(), texts)
				if err != nil {
					t.Fatal(err)
				}
				for i, text := range texts {
					ids := m.Tokenizer().Encode(text, true).IDs
					want := refForward(a, vals, ids, embedder.Pooling(pooling), norm)
					compareVectors(t, fmt.Sprintf("text %d (%d tokens)", i, len(ids)), got[i], toF32(want))
				}
				// [CLS] [SEP] alone, below the embedder's empty-text check.
				cls, sep, _, _ := m.Tokenizer().SpecialIDs()
				sc := &scratch{}
				sc.add([]int32{cls, sep}, []int32{0, 0})
				dst := [][]float32{make([]float32, a.Hidden)}
				if err := m.embedBatch(sc, []int{0}, dst); err != nil {
					t.Fatal(err)
				}
				compareVectors(t, "[CLS] [SEP]", dst[0], toF32(refForward(a, vals, []int32{cls, sep}, embedder.Pooling(pooling), norm)))
			})
		}
	}
}
