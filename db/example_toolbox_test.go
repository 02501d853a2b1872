//go:build !vecbolt_nomodel

package db_test

import (
	"context"
	"fmt"
	"log"

	"github.com/vecbolt/vecbolt/db"
)

// The cosine similarity of texts, with the DB's embedder (here the
// built-in model): no collection needed.
func ExampleDB_Similarity() {
	path, cleanup := tempPath()
	defer cleanup()
	d, err := db.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	m, err := d.Similarity(context.Background(),
		"I love machine learning", "Artificial intelligence is amazing", "Bananas are yellow")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("ML ~ AI %.2f, ML ~ bananas %.2f\n", m[0][1], m[0][2])
	// Output: ML ~ AI 0.11, ML ~ bananas 0.04
}

// The toolbox on hand-made vectors: more like a stored document,
// recommendations from liked and disliked ones, and a label by a vote.
func ExampleCollection_Recommend() {
	path, cleanup := tempPath()
	defer cleanup()
	ctx := context.Background()
	d, err := db.Open(path, db.WithEmbedder(nil))
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	c, err := d.CreateCollection(ctx, "v", db.WithDimension(2), db.WithFlatIndex())
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Insert(ctx,
		db.Document{ID: "a", Vector: []float32{1, 0}, Metadata: map[string]any{"kind": "x"}},
		db.Document{ID: "b", Vector: []float32{0.9, 0.1}, Metadata: map[string]any{"kind": "x"}},
		db.Document{ID: "c", Vector: []float32{0.7, 0.7}},
		db.Document{ID: "d", Vector: []float32{0.1, 0.9}, Metadata: map[string]any{"kind": "y"}},
		db.Document{ID: "e", Vector: []float32{0, 1}, Metadata: map[string]any{"kind": "y"}},
	)
	if err != nil {
		log.Fatal(err)
	}
	ids := func(res []db.Result) (out []string) {
		for _, r := range res {
			out = append(out, r.ID)
		}
		return out
	}

	like, err := c.Similar(ctx, "a", db.TopK(2))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("like a:", ids(like))

	recs, err := c.Recommend(ctx, db.Recommendation{Positive: db.ExamplesByID("c"), Negative: db.ExamplesByID("a")}, db.TopK(2))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("like c, not a:", ids(recs))

	cl, err := c.ClassifyVector(ctx, []float32{0.6, 0.8}, "kind", db.TopK(3)) // c has no kind: d, e and b vote
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("label %s, scores x %.3f y %.3f\n", cl.Label, cl.Scores["x"], cl.Scores["y"])
	// Output:
	// like a: [b c]
	// like c, not a: [d e]
	// label y, scores x 0.292 y 0.708
}
