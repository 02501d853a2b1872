//go:build !vecbolt_nomodel

package db_test

import (
	"bytes"
	"context"
	"fmt"
	"log"

	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/viz"
)

// Group a collection's documents by meaning with k-means, and draw it.
func ExampleCollection_Cluster() {
	ctx := context.Background()
	path, cleanup := tempPath()
	defer cleanup()
	d, err := db.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	c, err := d.CreateCollection(ctx, "texts")
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Insert(ctx,
		db.Document{ID: "bread", Text: "Bake the bread in a hot oven", Metadata: map[string]any{"kind": "food"}},
		db.Document{ID: "soup", Text: "Simmer the vegetable soup in a pot", Metadata: map[string]any{"kind": "food"}},
		db.Document{ID: "cake", Text: "Bake the cake in the oven", Metadata: map[string]any{"kind": "food"}},
		db.Document{ID: "go", Text: "Goroutines and channels make concurrent programs simple", Metadata: map[string]any{"kind": "code"}},
		db.Document{ID: "rust", Text: "Concurrent programs in Rust share memory safely", Metadata: map[string]any{"kind": "code"}},
		db.Document{ID: "java", Text: "Java threads run concurrent programs", Metadata: map[string]any{"kind": "code"}},
	)
	if err != nil {
		log.Fatal(err)
	}
	res, err := c.Cluster(ctx, db.ClusterK(2), db.ClusterTopTerms(2))
	if err != nil {
		log.Fatal(err)
	}
	for _, cl := range res.Clusters {
		fmt.Println(cl.ID, cl.Members, cl.Terms)
	}

	m, err := c.Map(ctx, db.MapColorBy("kind"))
	if err != nil {
		log.Fatal(err)
	}
	pts := make([]viz.Point, len(m.Points))
	for i, p := range m.Points {
		pts[i] = viz.Point{X: p.X, Y: p.Y, Group: p.Group}
	}
	var svg bytes.Buffer // or a file
	if err := viz.WriteMap(&svg, pts, viz.MapOptions{Format: "svg", Title: "texts"}); err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Groups, svg.Len() > 0)
	// Output:
	// 0 [bread cake soup] [bake oven]
	// 1 [go java rust] [concurrent programs]
	// [code food] true
}
