//go:build cgo

package onnx

import (
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file recomputes the tiny BERT's forward pass in plain Go, float64,
// from the initializers stored in testdata/tinybert/model.onnx. It shares
// nothing with the ONNX graph but the weights, so agreement with ONNX
// Runtime checks the generated graph, the tensors fed to it and the pooling.
// Masked keys are skipped outright here instead of adding -10000 as the
// graph does; the two agree because exp(-10000) is 0 in float32.

// Hyperparameters of tools/gentinybert.
const (
	refHidden = 32
	refHeads  = 4
	refLayers = 2
	refLNEps  = 1e-12
)

// onnxInitializers decodes the float32 initializers of an ONNX model
// (ModelProto.graph = 7, GraphProto.initializer = 5, TensorProto: dims = 1,
// data_type = 2, float_data = 4, name = 8, raw_data = 9).
func onnxInitializers(b []byte) (map[string][]float64, map[string][]int64, error) {
	vals := map[string][]float64{}
	shapes := map[string][]int64{}
	graph, err := protoField(b, 7)
	if err != nil {
		return nil, nil, fmt.Errorf("model.graph: %w", err)
	}
	for len(graph) > 0 {
		num, typ, n := protowire.ConsumeTag(graph)
		if n < 0 {
			return nil, nil, protowire.ParseError(n)
		}
		graph = graph[n:]
		if num != 5 || typ != protowire.BytesType {
			m := protowire.ConsumeFieldValue(num, typ, graph)
			if m < 0 {
				return nil, nil, protowire.ParseError(m)
			}
			graph = graph[m:]
			continue
		}
		t, m := protowire.ConsumeBytes(graph)
		if m < 0 {
			return nil, nil, protowire.ParseError(m)
		}
		graph = graph[m:]
		name, dims, dtype, raw, err := decodeTensor(t)
		if err != nil {
			return nil, nil, err
		}
		if dtype != 1 { // FLOAT; the int64 constants are not weights
			continue
		}
		f := make([]float64, len(raw)/4)
		for i := range f {
			f[i] = float64(math.Float32frombits(uint32(raw[4*i]) | uint32(raw[4*i+1])<<8 | uint32(raw[4*i+2])<<16 | uint32(raw[4*i+3])<<24))
		}
		vals[name], shapes[name] = f, dims
	}
	return vals, shapes, nil
}

func protoField(b []byte, want protowire.Number) ([]byte, error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		if num == want && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return nil, protowire.ParseError(m)
			}
			return v, nil
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		b = b[m:]
	}
	return nil, fmt.Errorf("field %d not found", want)
}

func decodeTensor(b []byte) (name string, dims []int64, dtype int, raw []byte, err error) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return "", nil, 0, nil, protowire.ParseError(n)
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return "", nil, 0, nil, protowire.ParseError(m)
			}
			dims, b = append(dims, int64(v)), b[m:]
			continue
		case num == 1 && typ == protowire.BytesType:
			p, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return "", nil, 0, nil, protowire.ParseError(m)
			}
			for len(p) > 0 {
				v, k := protowire.ConsumeVarint(p)
				if k < 0 {
					return "", nil, 0, nil, protowire.ParseError(k)
				}
				dims, p = append(dims, int64(v)), p[k:]
			}
			b = b[m:]
			continue
		case num == 2 && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return "", nil, 0, nil, protowire.ParseError(m)
			}
			dtype, b = int(v), b[m:]
			continue
		case num == 8 && typ == protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return "", nil, 0, nil, protowire.ParseError(m)
			}
			name, b = string(v), b[m:]
			continue
		case num == 9 && typ == protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return "", nil, 0, nil, protowire.ParseError(m)
			}
			raw, b = v, b[m:]
			continue
		case num == 4:
			return "", nil, 0, nil, fmt.Errorf("tensor uses float_data; the generator writes raw_data")
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return "", nil, 0, nil, protowire.ParseError(m)
		}
		b = b[m:]
	}
	return name, dims, dtype, raw, nil
}

// refBERT is the reference network.
type refBERT struct {
	w      map[string][]float64
	shapes map[string][]int64
}

func loadRefBERT(t testing.TB, path string) *refBERT {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w, shapes, err := onnxInitializers(b)
	if err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	if len(w) == 0 {
		t.Fatalf("%s: no float initializers", path)
	}
	return &refBERT{w: w, shapes: shapes}
}

func (r *refBERT) get(t testing.TB, name string) []float64 {
	t.Helper()
	v, ok := r.w[name]
	if !ok {
		t.Fatalf("reference: weight %s missing", name)
	}
	return v
}

// dense computes x @ W + b for x [n, in], W [in, out].
func refDense(x []float64, n, in int, w, b []float64) []float64 {
	out := len(b)
	y := make([]float64, n*out)
	for i := 0; i < n; i++ {
		for o := 0; o < out; o++ {
			s := b[o]
			for k := 0; k < in; k++ {
				s += x[i*in+k] * w[k*out+o]
			}
			y[i*out+o] = s
		}
	}
	return y
}

func refLayerNorm(x []float64, n, d int, g, b []float64) {
	for i := 0; i < n; i++ {
		row := x[i*d : (i+1)*d]
		var mean, v float64
		for _, a := range row {
			mean += a
		}
		mean /= float64(d)
		for _, a := range row {
			v += (a - mean) * (a - mean)
		}
		v /= float64(d)
		inv := 1 / math.Sqrt(v+refLNEps)
		for j := range row {
			row[j] = (row[j]-mean)*inv*g[j] + b[j]
		}
	}
}

// forward returns last_hidden_state [len(ids), hidden] for one unpadded
// sequence. typeIDs nil means the model has no token-type embedding.
func (r *refBERT) forward(t testing.TB, ids, typeIDs []int32) []float64 {
	t.Helper()
	n, d := len(ids), refHidden
	word := r.get(t, "embeddings.word_embeddings.weight")
	pos := r.get(t, "embeddings.position_embeddings.weight")
	x := make([]float64, n*d)
	for i, id := range ids {
		for j := 0; j < d; j++ {
			x[i*d+j] = word[int(id)*d+j] + pos[i*d+j]
		}
		if typeIDs != nil {
			tt := r.get(t, "embeddings.token_type_embeddings.weight")
			for j := 0; j < d; j++ {
				x[i*d+j] += tt[int(typeIDs[i])*d+j]
			}
		}
	}
	refLayerNorm(x, n, d, r.get(t, "embeddings.LayerNorm.weight"), r.get(t, "embeddings.LayerNorm.bias"))
	hd := d / refHeads
	for l := 0; l < refLayers; l++ {
		p := fmt.Sprintf("encoder.layer.%d.", l)
		q := refDense(x, n, d, r.get(t, p+"attention.self.query.weight"), r.get(t, p+"attention.self.query.bias"))
		k := refDense(x, n, d, r.get(t, p+"attention.self.key.weight"), r.get(t, p+"attention.self.key.bias"))
		v := refDense(x, n, d, r.get(t, p+"attention.self.value.weight"), r.get(t, p+"attention.self.value.bias"))
		ctx := make([]float64, n*d)
		scores := make([]float64, n)
		for h := 0; h < refHeads; h++ {
			for i := 0; i < n; i++ {
				maxS := math.Inf(-1)
				for j := 0; j < n; j++ {
					var s float64
					for c := 0; c < hd; c++ {
						s += q[i*d+h*hd+c] * k[j*d+h*hd+c]
					}
					scores[j] = s / math.Sqrt(float64(hd))
					maxS = math.Max(maxS, scores[j])
				}
				var z float64
				for j := range scores {
					scores[j] = math.Exp(scores[j] - maxS)
					z += scores[j]
				}
				for j := 0; j < n; j++ {
					for c := 0; c < hd; c++ {
						ctx[i*d+h*hd+c] += scores[j] / z * v[j*d+h*hd+c]
					}
				}
			}
		}
		o := refDense(ctx, n, d, r.get(t, p+"attention.output.dense.weight"), r.get(t, p+"attention.output.dense.bias"))
		for i := range x {
			x[i] += o[i]
		}
		refLayerNorm(x, n, d, r.get(t, p+"attention.output.LayerNorm.weight"), r.get(t, p+"attention.output.LayerNorm.bias"))
		b1 := r.get(t, p+"intermediate.dense.bias")
		hid := refDense(x, n, d, r.get(t, p+"intermediate.dense.weight"), b1)
		for i, a := range hid {
			hid[i] = 0.5 * a * (1 + math.Erf(a/math.Sqrt2))
		}
		o = refDense(hid, n, len(b1), r.get(t, p+"output.dense.weight"), r.get(t, p+"output.dense.bias"))
		for i := range x {
			x[i] += o[i]
		}
		refLayerNorm(x, n, d, r.get(t, p+"output.LayerNorm.weight"), r.get(t, p+"output.LayerNorm.bias"))
	}
	return x
}

// refEmbed pools and optionally normalizes like the embedder should.
func (r *refBERT) refEmbed(t testing.TB, ids, typeIDs []int32, pooling embedder.Pooling, normalize bool) []float64 {
	x := r.forward(t, ids, typeIDs)
	d := refHidden
	v := make([]float64, d)
	if pooling == embedder.PoolingCLS {
		copy(v, x[:d])
	} else {
		for i := range ids {
			for j := 0; j < d; j++ {
				v[j] += x[i*d+j]
			}
		}
		for j := range v {
			v[j] /= float64(len(ids))
		}
	}
	if normalize {
		var ss float64
		for _, a := range v {
			ss += a * a
		}
		n := math.Sqrt(ss)
		for j := range v {
			v[j] /= n
		}
	}
	return v
}

// TestONNXInitializerDecoding guards the reference itself: the decoded
// weights must have the shapes the generator wrote, or the comparison in
// TestONNXMatchesReference could pass vacuously on a misread.
func TestONNXInitializerDecoding(t *testing.T) {
	r := loadRefBERT(t, tinyModelPath)
	tok, err := tokenizer.Load(tinyDir + "/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		shape []int64
	}{
		{"embeddings.word_embeddings.weight", []int64{int64(tok.VocabSize()), refHidden}},
		{"embeddings.position_embeddings.weight", []int64{64, refHidden}},
		{"embeddings.token_type_embeddings.weight", []int64{2, refHidden}},
		{"encoder.layer.1.intermediate.dense.weight", []int64{refHidden, 64}},
		{"encoder.layer.1.output.LayerNorm.bias", []int64{refHidden}},
	}
	for _, tc := range tests {
		got := r.shapes[tc.name]
		if fmt.Sprint(got) != fmt.Sprint(tc.shape) {
			t.Errorf("%s: shape %v, want %v", tc.name, got, tc.shape)
		}
		n := int64(1)
		for _, s := range tc.shape {
			n *= s
		}
		if int64(len(r.w[tc.name])) != n {
			t.Errorf("%s: %d values, want %d", tc.name, len(r.w[tc.name]), n)
		}
	}
}
