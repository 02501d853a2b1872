package builtin

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"testing"
	"testing/fstest"

	"github.com/vecbolt/vecbolt/embedder/safetensors"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"

	"github.com/vecbolt/vecbolt/embedder"
)

func TestOneWord(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"automobile", true},
		{"  Automobile\n", true},
		{"café", true},
		{"mp3", true},
		{"e-mail", false},
		{"don't", false},
		{"motor car", false},
		{"", false},
		{" \t", false},
		{"U.S.A.", false},
	} {
		if got := OneWord(tc.text); got != tc.want {
			t.Errorf("OneWord(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

// The tiny test model: vocabulary specials + cat, dog, pet, a; dim 4.
var testVocab = []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "cat", "dog", "pet", "a"}

const testDim = 4

// docRow returns token id's document row: a distinct exactly-representable
// int8 pattern (scale 1).
func docRow(id int) []float32 {
	r := make([]float32, testDim)
	if id >= 5 {
		r[(id-5)%testDim] = 100
		r[(id-4)%testDim] = 20
	}
	return r
}

func i8(rows [][]float32) ([]int8, []float32) {
	var q []int8
	var s []float32
	for _, r := range rows {
		for _, x := range r {
			q = append(q, int8(x))
		}
		s = append(s, 1)
	}
	return q, s
}

func stBytes(t testing.TB, ts ...safetensors.Tensor) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := safetensors.Write(&b, ts, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func i32Tensor(name string, v ...int32) safetensors.Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return safetensors.Tensor{Name: name, DType: "I32", Shape: []int{len(v)}, Data: b}
}

func testFS(t testing.TB, query []byte) fstest.MapFS {
	t.Helper()
	tok, err := tokenizer.NewWordPiece(testVocab)
	if err != nil {
		t.Fatal(err)
	}
	tj, err := tok.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]float32
	for i := range testVocab {
		rows = append(rows, docRow(i))
	}
	q, s := i8(rows)
	fs := fstest.MapFS{
		"tokenizer.json":    {Data: tj},
		"config.json":       {Data: []byte(`{"model_name": "tiny", "hidden_dim": 4, "normalize": true}`)},
		"model.safetensors": {Data: stBytes(t, safetensors.I8Tensor("embeddings", []int{len(rows), testDim}, q), safetensors.F32Tensor("scales", []int{len(rows)}, s))},
	}
	if query != nil {
		fs["query.safetensors"] = &fstest.MapFile{Data: query}
	}
	return fs
}

func unit(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) / math.Sqrt(s))
	}
	return out
}

func near(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-5 {
			return false
		}
	}
	return true
}

func TestLoadQuerySide(t *testing.T) {
	ctx := context.Background()
	catQ := []float32{0, 0, 50, 50} // query row of "cat" (id 5)
	q, s := i8([][]float32{catQ})
	// W swaps the first two coordinates.
	w := make([]float32, testDim*testDim)
	w[0*testDim+1], w[1*testDim+0], w[2*testDim+2], w[3*testDim+3] = 1, 1, 1, 1
	rows := []safetensors.Tensor{i32Tensor("ids", 5), safetensors.I8Tensor("embeddings", []int{1, testDim}, q), safetensors.F32Tensor("scales", []int{1}, s)}
	tf := safetensors.F32Tensor("transform", []int{testDim, testDim}, w)
	swap := func(v []float32) []float32 { return []float32{v[1], v[0], v[2], v[3]} }
	for _, tc := range []struct {
		name     string
		query    []byte
		text     string
		wantQ    []float32 // EmbedQuery(text)
		wantDocs []float32 // EmbedDocuments(text)
	}{
		{"symmetric", nil, "cat", unit(docRow(5)), unit(docRow(5))},
		{"rows, one word", stBytes(t, rows...), "cat", unit(catQ), unit(docRow(5))},
		{"rows, other word", stBytes(t, rows...), "dog", unit(docRow(6)), unit(docRow(6))},
		{"rows, several words use document rows", stBytes(t, rows...), "a cat", unit(add(docRow(8), docRow(5))), unit(add(docRow(8), docRow(5)))},
		{"transform only", stBytes(t, tf), "dog", swap(unit(docRow(6))), unit(docRow(6))},
		{"rows and transform", stBytes(t, append(rows, tf)...), "cat", swap(unit(catQ)), unit(docRow(5))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Load(testFS(t, tc.query))
			if err != nil {
				t.Fatal(err)
			}
			if id := m.Identity(); id.Name != "tiny" || id.Dim != testDim || len(id.Hash) != 64 {
				t.Errorf("identity %+v", id)
			}
			got, err := m.EmbedQuery(ctx, tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, tc.wantQ) {
				t.Errorf("EmbedQuery(%q) = %v, want %v", tc.text, got, tc.wantQ)
			}
			into := make([]float32, testDim)
			if err := m.EmbedQueryInto(tc.text, into); err != nil || !near(into, got) {
				t.Errorf("EmbedQueryInto = %v, %v; EmbedQuery gave %v", into, err, got)
			}
			docs, err := m.EmbedDocuments(ctx, []string{tc.text})
			if err != nil {
				t.Fatal(err)
			}
			if !near(docs[0], tc.wantDocs) {
				t.Errorf("EmbedDocuments(%q) = %v, want %v", tc.text, docs[0], tc.wantDocs)
			}
			if err := m.Embed(tc.text, into); err != nil || !near(into, docs[0]) {
				t.Errorf("Embed = %v, %v; EmbedDocuments gave %v", into, err, docs[0])
			}
			if _, err := m.EmbedQuery(ctx, "  "); !errors.Is(err, embedder.ErrEmptyText) {
				t.Errorf("blank query: %v", err)
			}
		})
	}
	// The identity covers the query side.
	a, _ := Load(testFS(t, nil))
	b, _ := Load(testFS(t, stBytes(t, rows...)))
	c, _ := Load(testFS(t, stBytes(t, tf)))
	if a.Identity().Equal(b.Identity()) || b.Identity().Equal(c.Identity()) || a.Identity().Equal(c.Identity()) {
		t.Error("query side does not change the identity")
	}
}

func add(a, b []float32) []float32 {
	out := make([]float32, len(a))
	for i := range a {
		out[i] = a[i] + b[i]
	}
	return out
}

func TestLoadErrors(t *testing.T) {
	q, s := i8([][]float32{{1, 2, 3, 4}})
	emb := safetensors.I8Tensor("embeddings", []int{1, testDim}, q)
	sc := safetensors.F32Tensor("scales", []int{1}, s)
	nan := make([]float32, testDim*testDim)
	nan[3] = float32(math.NaN())
	for _, tc := range []struct {
		name  string
		query []byte
	}{
		{"not safetensors", []byte("hello")},
		{"empty", stBytes(t)},
		{"id out of range", stBytes(t, i32Tensor("ids", 99), emb, sc)},
		{"negative id", stBytes(t, i32Tensor("ids", -1), emb, sc)},
		{"id twice", stBytes(t, i32Tensor("ids", 5, 5), safetensors.I8Tensor("embeddings", []int{2, testDim}, append(q, q...)), safetensors.F32Tensor("scales", []int{2}, append(s, s...)))},
		{"no ids", stBytes(t, emb, sc)},
		{"ids count", stBytes(t, i32Tensor("ids", 5, 6), emb, sc)},
		{"no scales", stBytes(t, i32Tensor("ids", 5), emb)},
		{"float rows", stBytes(t, i32Tensor("ids", 5), safetensors.F32Tensor("embeddings", []int{1, testDim}, []float32{1, 2, 3, 4}), sc)},
		{"wrong dim", stBytes(t, i32Tensor("ids", 5), safetensors.I8Tensor("embeddings", []int{1, 2}, q[:2]), sc)},
		{"transform shape", stBytes(t, safetensors.F32Tensor("transform", []int{2, 8}, make([]float32, 16)))},
		{"transform NaN", stBytes(t, safetensors.F32Tensor("transform", []int{testDim, testDim}, nan))},
		{"bad scale", stBytes(t, i32Tensor("ids", 5), emb, safetensors.F32Tensor("scales", []int{1}, []float32{float32(math.Inf(1))}))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(testFS(t, tc.query))
			if err == nil {
				t.Fatal("loaded")
			}
			if !errors.Is(err, ErrFormat) && !errors.Is(err, safetensors.ErrInvalid) {
				t.Errorf("error %v is neither ErrFormat nor safetensors.ErrInvalid", err)
			}
		})
	}
	fs := testFS(t, nil)
	delete(fs, "model.safetensors")
	if _, err := Load(fs); err == nil {
		t.Error("loaded without model.safetensors")
	}
}

func FuzzLoadQuery(f *testing.F) {
	q, s := i8([][]float32{{1, 2, 3, 4}})
	f.Add(stBytes(f, i32Tensor("ids", 5), safetensors.I8Tensor("embeddings", []int{1, testDim}, q), safetensors.F32Tensor("scales", []int{1}, s)))
	f.Add(stBytes(f, safetensors.F32Tensor("transform", []int{testDim, testDim}, make([]float32, testDim*testDim))))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, query []byte) {
		m, err := Load(testFS(t, query))
		if err != nil {
			return
		}
		for _, text := range []string{"cat", "a dog", "pet"} {
			v, err := m.EmbedQuery(context.Background(), text)
			if err != nil {
				continue
			}
			for _, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("EmbedQuery(%q) = %v", text, v)
				}
			}
		}
	})
}

// TestQuerySideConcurrent: the one-word query side is built on first use;
// goroutines racing to build it must all get the same vectors (run with
// -race).
func TestQuerySideConcurrent(t *testing.T) {
	q, s := i8([][]float32{{0, 0, 50, 50}})
	m, err := Load(testFS(t, stBytes(t, i32Tensor("ids", 5), safetensors.I8Tensor("embeddings", []int{1, testDim}, q), safetensors.F32Tensor("scales", []int{1}, s))))
	if err != nil {
		t.Fatal(err)
	}
	want := unit([]float32{0, 0, 50, 50})
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			v, err := m.EmbedQuery(context.Background(), "cat")
			if err == nil && !near(v, want) {
				err = errors.New("wrong vector")
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
