package db

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/fnv"
	"math"
	"strings"
	"sync/atomic"

	"github.com/vecbolt/vecbolt/embedder"
)

// hashEmbedder is a deterministic bag-of-words embedder for db tests: each
// lower-cased word adds ±1 to a few hashed dimensions. Texts sharing words
// are close. It stands in for a real model only where the model's quality
// is not what is being tested.
type hashEmbedder struct {
	name  string
	dim   int
	calls atomic.Int64
	fail  error
}

func newHashEmbedder(name string, dim int) *hashEmbedder {
	return &hashEmbedder{name: name, dim: dim}
}

func (h *hashEmbedder) Identity() embedder.Identity {
	sum := sha256.Sum256([]byte(h.name))
	return embedder.Identity{Name: h.name, Hash: hex.EncodeToString(sum[:]), Dim: h.dim, Pooling: "mean"}
}

func (h *hashEmbedder) vec(text string) []float32 {
	v := make([]float32, h.dim)
	for _, w := range strings.Fields(strings.ToLower(text)) {
		w = strings.Trim(w, ".,;:!?\"'()")
		for k := 0; k < 3; k++ {
			f := fnv.New64a()
			f.Write([]byte{byte(k)})
			f.Write([]byte(w))
			x := f.Sum64()
			sign := float32(1)
			if x&1 == 1 {
				sign = -1
			}
			v[(x>>1)%uint64(h.dim)] += sign
		}
	}
	var n float64
	for _, x := range v {
		n += float64(x * x)
	}
	if n == 0 {
		v[0] = 1
		return v
	}
	inv := float32(1 / math.Sqrt(n))
	for i := range v {
		v[i] *= inv
	}
	return v
}

func (h *hashEmbedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	h.calls.Add(1)
	if h.fail != nil {
		return nil, h.fail
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if strings.TrimSpace(t) == "" {
			return nil, embedder.ErrEmptyText
		}
		out[i] = h.vec(t)
	}
	return out, nil
}

func (h *hashEmbedder) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	if strings.TrimSpace(text) == "" {
		return nil, embedder.ErrEmptyText
	}
	return h.vec(text), nil
}

// poisonEmbedder fails on any text containing "poison".
type poisonEmbedder struct{ *hashEmbedder }

func (p poisonEmbedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	for _, t := range texts {
		if strings.Contains(t, "poison") {
			return nil, errPoison
		}
	}
	return p.hashEmbedder.EmbedDocuments(ctx, texts)
}

var errPoison = errors.New("model cannot represent this text")
