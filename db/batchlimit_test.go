package db

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/storage"
)

// TestInsertBatchBytesLimit: a call over MaxBatchBytes is refused before
// anything is embedded or written, and one at the limit's order of a few
// documents goes through. The documents share one text, so the test holds
// a single 8 MiB string however many documents it passes.
func TestInsertBatchBytesLimit(t *testing.T) {
	d, _ := openTest(t)
	c := mustCollection(t, d, "v", WithDimension(4), WithFlatIndex())
	text := strings.Repeat("x", MaxTextBytes)
	docs := func(n int) []Document {
		out := make([]Document, n)
		for i := range out {
			out[i] = Document{ID: fmt.Sprint("d", i), Text: text, Vector: []float32{1, 0, 0, float32(i)}}
		}
		return out
	}
	over := MaxBatchBytes/MaxTextBytes + 1
	for _, write := range []struct {
		name string
		f    func(...Document) ([]string, error)
	}{
		{"insert", func(ds ...Document) ([]string, error) { return c.Insert(bg, ds...) }},
		{"upsert", func(ds ...Document) ([]string, error) { return c.Upsert(bg, ds...) }},
	} {
		_, err := write.f(docs(over)...)
		if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "MaxBatchBytes") {
			t.Fatalf("%s of %d documents of %d bytes: %v, want ErrInvalidArgument naming MaxBatchBytes", write.name, over, MaxTextBytes, err)
		}
		if n, err := c.Count(bg, nil); err != nil || n != 0 {
			t.Fatalf("%s: refused batch left %d documents (%v)", write.name, n, err)
		}
	}
	if _, err := c.Insert(bg, docs(2)...); err != nil {
		t.Fatalf("2 documents of %d bytes: %v", MaxTextBytes, err)
	}
}

// TestCheckBatchBytes: the count is the encoded records, with the vector an
// embedded document will get.
func TestCheckBatchBytes(t *testing.T) {
	rec := func(text string, vec []float32) *storage.DocumentRecord {
		return &storage.DocumentRecord{Id: "id", Text: text, Vector: vec}
	}
	big := strings.Repeat("a", MaxBatchBytes/2)
	cases := []struct {
		name  string
		batch []prepared
		dim   int
		ok    bool
	}{
		{"small", []prepared{{rec: rec("hello", []float32{1, 2})}}, 2, true},
		{"two halves of text", []prepared{{rec: rec(big, nil), embed: true}, {rec: rec(big[:len(big)-100], nil), embed: true}}, 4, true},
		{"two halves and their vectors", []prepared{{rec: rec(big, nil), embed: true}, {rec: rec(big, nil), embed: true}}, 4, false},
		// Many small documents to embed: the vectors are most of the bytes.
		{"embedded vectors count", manyEmbedded(MaxBatchBytes/(4*4096) + 1), 4096, false},
		{"given vectors count", []prepared{{rec: rec("", make([]float32, MaxBatchBytes/4))}}, MaxBatchBytes / 4, false},
	}
	for _, tc := range cases {
		err := checkBatchBytes(tc.batch, tc.dim)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidArgument)) {
			t.Errorf("%s: %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func manyEmbedded(n int) []prepared {
	out := make([]prepared, n)
	for i := range out {
		out[i] = prepared{rec: &storage.DocumentRecord{Id: "x", Text: "t"}, embed: true}
	}
	return out
}
