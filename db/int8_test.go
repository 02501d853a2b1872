package db

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// clustered returns n vectors of dimension dim around 8 centres.
func clustered(n, dim int, seed uint64) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	centres := make([][]float32, 8)
	for i := range centres {
		centres[i] = make([]float32, dim)
		for j := range centres[i] {
			centres[i][j] = float32(r.NormFloat64())
		}
	}
	out := make([][]float32, n)
	for i := range out {
		c := centres[r.IntN(len(centres))]
		out[i] = make([]float32, dim)
		for j := range out[i] {
			out[i][j] = c[j] + 0.4*float32(r.NormFloat64())
		}
	}
	return out
}

// TestInt8Collection compares an int8 collection with an exact one holding
// the same vectors: with ef covering the collection the re-ranked results
// must be the exact ones, scores included, before and after reopening.
func TestInt8Collection(t *testing.T) {
	const n, dim = 600, 32
	for _, m := range []Metric{Cosine, Dot, L2} {
		t.Run(m.String(), func(t *testing.T) {
			d, path := openTest(t, WithEmbedder(nil))
			q8 := mustCollection(t, d, "q8", WithDimension(dim), WithMetric(m), WithInt8())
			flat := mustCollection(t, d, "flat", WithDimension(dim), WithMetric(m), WithFlatIndex())
			if info := q8.Info(); info.Quantization != QuantizationInt8 || info.Index != IndexHNSW {
				t.Fatalf("info: %+v", info)
			}
			vecs := clustered(n, dim, 1)
			var docs []Document
			for i, v := range vecs {
				docs = append(docs, Document{ID: fmt.Sprint("d", i), Vector: v, Metadata: map[string]any{"even": i%2 == 0}})
			}
			for _, c := range []*Collection{q8, flat} {
				if _, err := c.Insert(bg, docs...); err != nil {
					t.Fatal(err)
				}
			}
			queries := clustered(20, dim, 2)
			check := func(q8 *Collection, opts ...SearchOption) {
				t.Helper()
				for qi, q := range queries {
					want, err := flat.SearchVector(bg, q, append(opts, TopK(10))...)
					if err != nil {
						t.Fatal(err)
					}
					got, err := q8.SearchVector(bg, q, append(opts, TopK(10), WithEf(n))...)
					if err != nil {
						t.Fatal(err)
					}
					if len(got) != len(want) {
						t.Fatalf("query %d: %d results, want %d", qi, len(got), len(want))
					}
					for i := range got {
						if got[i].ID != want[i].ID || got[i].Score != want[i].Score {
							t.Fatalf("query %d rank %d: %s %v, exact %s %v", qi, i, got[i].ID, got[i].Score, want[i].ID, want[i].Score)
						}
					}
				}
			}
			check(q8)
			check(q8, WhereExpr("even = true"))
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			d2, err := Open(path, WithEmbedder(nil))
			if err != nil {
				t.Fatal(err)
			}
			defer d2.Close()
			q8, err = d2.Collection(bg, "q8")
			if err != nil {
				t.Fatal(err)
			}
			flat, err = d2.Collection(bg, "flat")
			if err != nil {
				t.Fatal(err)
			}
			if q8.Info().Quantization != QuantizationInt8 {
				t.Fatal("quantization lost on reopen")
			}
			check(q8)
			// Get returns the stored float32 vector, not the codes.
			got, err := q8.GetFields(bg, FieldText|FieldMetadata|FieldVector, "d5")
			if err != nil {
				t.Fatal(err)
			}
			for j := range vecs[5] {
				if got[0].Vector[j] != vecs[5][j] {
					t.Fatalf("Get returned a changed vector at %d: %v, want %v", j, got[0].Vector[j], vecs[5][j])
				}
			}
		})
	}
}

func TestInt8NeedsHNSW(t *testing.T) {
	d, _ := openTest(t, WithEmbedder(nil))
	_, err := d.CreateCollection(bg, "x", WithDimension(4), WithInt8(), WithFlatIndex())
	if !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("int8 with a flat index: %v", err)
	}
	if infos, err := d.Collections(bg); err != nil || len(infos) != 0 {
		t.Fatalf("a refused collection was written: %v %v", infos, err)
	}
}
