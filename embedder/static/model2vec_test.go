package static

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/vecbolt/vecbolt/embedder/safetensors"
)

// m2vConfig is config.json as model2vec's save_pretrained writes it
// (normalize is always written: the StaticModel.normalize setter stores
// it in the config).
const m2vConfig = `{"model_type":"model2vec","architectures":["StaticModel"],"tokenizer_name":"tiny","apply_pca":null,"apply_zipf":true,"hidden_dim":2,"seq_length":1000000,"normalize":%s}`

// TestModel2VecReference checks Load against vectors computed by hand from
// the reference algorithm (model2vec/model.py, StaticModel.encode; see
// the Model2Vec section of doc.go) on a tiny Model2Vec directory.
//
// Vocabulary (staticVocab): cat=5 dog=6 runs=7 play=9 ##ing=10 the=11.
// Rows (dim 2, exact in float16): cat (1,0), dog (0,1), runs (2,2),
// play (1,1), ##ing (3,-1), the (0.5,0.5); every other row (0,0).
// Weights: the 0.5, cat 2, others 1.
func TestModel2VecReference(t *testing.T) {
	n := len(staticVocab)
	rows := make([]float32, 2*n)
	set := func(id int, a, b float32) { rows[2*id], rows[2*id+1] = a, b }
	set(5, 1, 0)
	set(6, 0, 1)
	set(7, 2, 2)
	set(9, 1, 1)
	set(10, 3, -1)
	set(11, 0.5, 0.5)
	weights := make([]float32, n)
	for i := range weights {
		weights[i] = 1
	}
	weights[11], weights[5] = 0.5, 2
	// Vocabulary quantization: three rows, tokens mapped onto them.
	qrows := []float32{0, 0, 1, 0, 0, 1}
	mapping := make([]byte, 8*n) // I64, little-endian
	for id, r := range map[int]uint64{5: 1, 6: 2, 7: 1} {
		binary.LittleEndian.PutUint64(mapping[8*id:], r)
	}
	withWeights := []safetensors.Tensor{
		safetensors.F16Tensor("embeddings", []int{n, 2}, rows),
		safetensors.F32Tensor("weights", []int{n}, weights),
	}
	tests := []struct {
		name    string
		tensors []safetensors.Tensor
		norm    string
		opts    []Option
		text    string
		want    []float64
	}{
		// the, cat ("plays": no "##s" in the vocabulary, so WordPiece
		// makes the whole word [UNK], which is dropped):
		// (0.5·(0.5,0.5) + 2·(1,0)) / 2 = (1.125, 0.125); norm
		// √1.28125 = 1.1319231.
		{"weighted, normalized", withWeights, "true", nil, "The cat plays", []float64{0.9938837, 0.1104315}},
		// play, ##ing, dog: ((1,1) + (3,-1) + (0,1)) / 3, not normalized.
		{"unweighted mean, not normalized", []safetensors.Tensor{safetensors.F32Tensor("embeddings", []int{n, 2}, rows)}, "false", nil, "playing dog", []float64{4.0 / 3, 1.0 / 3}},
		// cat, dog, runs → rows 1, 2, 1: (2,1)/3, normalized (2,1)/√5.
		{"vocabulary quantization", []safetensors.Tensor{
			safetensors.F32Tensor("embeddings", []int{3, 2}, qrows),
			{Name: "mapping", DType: "I64", Shape: []int{n}, Data: mapping},
		}, "true", nil, "cat dog runs", []float64{0.8944272, 0.4472136}},
		// encode(max_length=2): the median token length is 4 ([PAD]…
		// lengths sorted 1 1 1 3 3 3 4 4 4 5 5 5 5 5 6), so the text is cut
		// to 8 characters, "xx cat d": [UNK] cat [UNK] → cat alone.
		{"model2vec max_length 2", withWeights, "true", []Option{WithModel2VecMaxLength(2)}, "xx cat dog runs", []float64{1, 0}},
		// WithMaxTokens(2) has no character cut: cat, dog ([UNK] not
		// counted): (2·(1,0) + (0,1)) / 2, normalized (2,1)/√5.
		{"max tokens 2", withWeights, "true", []Option{WithMaxTokens(2)}, "xx cat dog runs", []float64{0.8944272, 0.4472136}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "potion-tiny")
			writeStaticModelDir(t, dir, staticModelFiles{tensors: tc.tensors, config: fmtConfig(tc.norm)})
			m, err := Load(dir, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.EmbedQuery(context.Background(), tc.text)
			if err != nil {
				t.Fatal(err)
			}
			staticCloseTo(t, got, tc.want, 1e-6)
		})
	}
}

func fmtConfig(norm string) string {
	return fmt.Sprintf(m2vConfig, norm)
}
