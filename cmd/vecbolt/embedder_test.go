package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"unicode"

	"github.com/vecbolt/vecbolt/embedder/static"

	"github.com/vecbolt/vecbolt/embedder"
)

// wordEmbedder is a deterministic test model: every lower-cased word (and
// its 4-letter prefix, a crude stem) adds +1 to one hashed dimension, then
// the vector is normalized. Texts sharing words score high, which is all the
// CLI tests need from a model. Texts with the word "unembeddable" fail with
// static.ErrNoTokens, to test per-document embedder failures.
type wordEmbedder struct {
	name string
	dim  int
}

func newWordEmbedder(name string, dim int) *wordEmbedder { return &wordEmbedder{name: name, dim: dim} }

func (w *wordEmbedder) Identity() embedder.Identity {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", w.name, w.dim)))
	return embedder.Identity{Name: w.name, Hash: hex.EncodeToString(sum[:]), Dim: w.dim, Pooling: "mean"}
}

func (w *wordEmbedder) embed(text string) ([]float32, error) {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) == 0 {
		return nil, embedder.ErrEmptyText
	}
	v := make([]float32, w.dim)
	for _, word := range words {
		if word == "unembeddable" {
			return nil, static.ErrNoTokens
		}
		for _, t := range []string{word, "stem:" + word[:min(4, len(word))]} {
			h := fnv.New32a()
			h.Write([]byte(t))
			v[h.Sum32()%uint32(w.dim)]++
		}
	}
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(n))
	}
	return v, nil
}

func (w *wordEmbedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v, err := w.embed(t)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (w *wordEmbedder) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	return w.embed(text)
}
