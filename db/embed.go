package db

import (
	"context"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/vecbolt/vecbolt/embedder"
)

// This file exposes the embedder itself: the vectors a text gets, on the
// document side (what Insert stores) or the query side (what Search
// compares with), and the cosine similarity of texts. Some models (bge,
// e5) embed the two sides differently, so every entry point names its
// side rather than choosing one silently.

// Side says which of a model's two embeddings a text gets.
type Side uint8

const (
	// DocumentSide embeds texts the way Insert embeds documents.
	DocumentSide Side = iota
	// QuerySide embeds texts the way Search embeds its query.
	QuerySide
)

// String returns "document" or "query".
func (s Side) String() string {
	if s == QuerySide {
		return "query"
	}
	return "document"
}

// EmbedWith embeds texts with e on the given side, one vector per text in
// order, handing the model at most 64 documents per call (the default of
// WithEmbedBatchSize). Each text is checked as Insert checks a document's text (not
// blank, valid UTF-8, at most 8 MiB), and each vector as Insert checks the
// embedder's output (the model's dimension, finite); the error names the
// text's position. It is the function behind DB.EmbedDocuments,
// Collection.EmbedQuery and the others, for a program that holds a model
// but no database (the vecbolt embed command is one).
func EmbedWith(ctx context.Context, e embedder.Embedder, side Side, texts ...string) ([][]float32, error) {
	return embedBatches(ctx, e, side, texts, 64)
}

// embedBatches is EmbedWith with the number of documents per model call.
func embedBatches(ctx context.Context, e embedder.Embedder, side Side, texts []string, batch int) ([][]float32, error) {
	if e == nil {
		return nil, fmt.Errorf("%w: no model to embed with", ErrNoEmbedder)
	}
	if side != DocumentSide && side != QuerySide {
		return nil, fmt.Errorf("%w: unknown embedding side %d", ErrInvalidArgument, side)
	}
	for i, t := range texts {
		if err := checkText(t); err != nil {
			return nil, fmt.Errorf("%w: text %d: %s", ErrInvalidArgument, i, err)
		}
	}
	if len(texts) == 0 {
		return [][]float32{}, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var vecs [][]float32
	if side == QuerySide {
		vecs = make([][]float32, len(texts))
		for i, t := range texts {
			v, err := e.EmbedQuery(ctx, t)
			if err != nil {
				return nil, fmt.Errorf("vecbolt: embed text %d as a query: %w", i, err)
			}
			vecs[i] = v
		}
	} else {
		for start := 0; start < len(texts); start += batch {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			part := texts[start:min(start+batch, len(texts))]
			got, err := e.EmbedDocuments(ctx, part)
			if err != nil {
				return nil, fmt.Errorf("vecbolt: embed texts %d..%d as documents: %w", start, start+len(part)-1, err)
			}
			if len(got) != len(part) {
				return nil, fmt.Errorf("vecbolt: embedder returned %d vectors for %d texts", len(got), len(part))
			}
			vecs = append(vecs, got...)
		}
	}
	dim := e.Identity().Dim
	for i, v := range vecs {
		if len(v) != dim {
			return nil, fmt.Errorf("vecbolt: embedder output for text %d has dimension %d, the model declares %d", i, len(v), dim)
		}
		for j, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, fmt.Errorf("vecbolt: embedder output for text %d: component %d is %v", i, j, x)
			}
		}
	}
	return vecs, nil
}

// checkText applies Insert's rules for a document text.
func checkText(t string) error {
	switch {
	case isBlank(t):
		return fmt.Errorf("empty text")
	case len(t) > maxTextBytes:
		return fmt.Errorf("text of %d bytes exceeds %d", len(t), maxTextBytes)
	case !utf8.ValidString(t):
		return fmt.Errorf("text is not valid UTF-8")
	}
	return nil
}

// EmbedDocuments embeds texts with the DB's embedder (see DB.Embedder) the
// way Insert embeds documents.
func (d *DB) EmbedDocuments(ctx context.Context, texts ...string) ([][]float32, error) {
	return d.embedSide(ctx, DocumentSide, texts)
}

// EmbedQuery embeds text with the DB's embedder the way Search embeds its
// query.
func (d *DB) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	v, err := d.embedSide(ctx, QuerySide, []string{text})
	if err != nil {
		return nil, err
	}
	return v[0], nil
}

func (d *DB) embedSide(ctx context.Context, side Side, texts []string) ([][]float32, error) {
	leave, err := d.enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	e, err := d.Embedder()
	if err != nil {
		return nil, err
	}
	return embedBatches(ctx, e, side, texts, d.opts.embedBatch)
}

// Similarity returns the cosine similarity of every pair of texts, as a
// symmetric matrix with 1 on the diagonal, embedding them with the DB's
// embedder on the document side (see SimilarityWith).
func (d *DB) Similarity(ctx context.Context, texts ...string) ([][]float32, error) {
	vecs, err := d.EmbedDocuments(ctx, texts...)
	if err != nil {
		return nil, err
	}
	return CosineMatrix(vecs)
}

// SimilarityWith is DB.Similarity with a model but no database. Texts are
// embedded on the document side: comparing texts with each other is
// symmetric, and a query-side embedding (an instruction prefix, for the
// models that have one) would make it depend on which text was called
// the query. For a query against documents, embed each side explicitly
// (EmbedWith) and call CosineMatrix or CosineSimilarity.
func SimilarityWith(ctx context.Context, e embedder.Embedder, texts ...string) ([][]float32, error) {
	vecs, err := EmbedWith(ctx, e, DocumentSide, texts...)
	if err != nil {
		return nil, err
	}
	return CosineMatrix(vecs)
}

// CosineSimilarity returns the cosine similarity of a and b, computed in float64.
// It fails for vectors of different lengths and for a zero vector, which
// has no direction.
func CosineSimilarity(a, b []float32) (float32, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("%w: vectors of dimension %d and %d", ErrInvalidArgument, len(a), len(b))
	}
	na, nb := norm(a), norm(b)
	if na == 0 || nb == 0 || math.IsInf(na, 0) || math.IsInf(nb, 0) {
		return 0, fmt.Errorf("%w: a zero or infinite vector has no direction", ErrInvalidArgument)
	}
	return float32(clampUnit(dot64(a, b) / (na * nb))), nil
}

// CosineMatrix returns the cosine similarity of every pair of vecs: m[i][j]
// is the similarity of vecs[i] and vecs[j]. The matrix is symmetric with
// exactly 1 on the diagonal. It fails, naming the vector, when the lengths
// differ or a vector is zero or not finite.
func CosineMatrix(vecs [][]float32) ([][]float32, error) {
	unit := make([][]float64, len(vecs))
	for i, v := range vecs {
		if len(v) != len(vecs[0]) {
			return nil, fmt.Errorf("%w: vector %d has dimension %d, vector 0 has %d", ErrInvalidArgument, i, len(v), len(vecs[0]))
		}
		n := norm(v)
		if n == 0 || math.IsInf(n, 0) || math.IsNaN(n) {
			return nil, fmt.Errorf("%w: vector %d has norm %v, so no direction", ErrInvalidArgument, i, n)
		}
		u := make([]float64, len(v))
		for j, x := range v {
			u[j] = float64(x) / n
		}
		unit[i] = u
	}
	m := make([][]float32, len(vecs))
	for i := range m {
		m[i] = make([]float32, len(vecs))
		m[i][i] = 1
	}
	for i := range unit {
		for j := i + 1; j < len(unit); j++ {
			var s float64
			for k, x := range unit[i] {
				s += x * unit[j][k]
			}
			c := float32(clampUnit(s))
			m[i][j], m[j][i] = c, c
		}
	}
	return m, nil
}

func dot64(a, b []float32) float64 {
	var s float64
	for i, x := range a {
		s += float64(x) * float64(b[i])
	}
	return s
}

// clampUnit keeps a cosine computed with rounding inside [-1, 1].
func clampUnit(x float64) float64 { return max(-1, min(1, x)) }

// EmbedDocuments embeds texts with the collection's model the way Insert
// does. It fails with ErrNoEmbedder for a collection of caller-supplied
// vectors, or when the DB was opened without the collection's model.
func (c *Collection) EmbedDocuments(ctx context.Context, texts ...string) ([][]float32, error) {
	leave, st, err := c.enter(false)
	if err != nil {
		return nil, err
	}
	defer leave()
	return c.embedTexts(ctx, st, DocumentSide, texts)
}

// EmbedQuery embeds text with the collection's model the way Search does.
func (c *Collection) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	leave, st, err := c.enter(false)
	if err != nil {
		return nil, err
	}
	defer leave()
	v, err := c.embedTexts(ctx, st, QuerySide, []string{text})
	if err != nil {
		return nil, err
	}
	return v[0], nil
}

// embedTexts embeds texts with st's model and checks the vectors as
// Search checks its query's.
func (c *Collection) embedTexts(ctx context.Context, st *colState, side Side, texts []string) ([][]float32, error) {
	if st.cfg.Model == nil {
		return nil, fmt.Errorf("%w: collection %q holds caller-supplied vectors and has no model", ErrNoEmbedder, c.name)
	}
	if st.emb == nil {
		return nil, fmt.Errorf("%w to embed texts: open the database WithEmbedder of %v", ErrNoEmbedder, st.info.Model)
	}
	vecs, err := embedBatches(ctx, st.emb, side, texts, c.db.opts.embedBatch)
	if err != nil {
		return nil, err
	}
	for i, v := range vecs {
		if err := checkNewVector(v, int(st.cfg.Dimension), st.metric); err != nil {
			return nil, fmt.Errorf("vecbolt: embed text %d: embedder output: %w", i, err)
		}
	}
	return vecs, nil
}
