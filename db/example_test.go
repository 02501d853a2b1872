//go:build !vecbolt_nomodel

// The examples use the built-in model, which a build with the tag
// vecbolt_nomodel leaves out.

package db_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/query"
)

// tempPath returns a path for a database file in a new temporary directory,
// and a function that removes it.
func tempPath() (string, func()) {
	dir, err := os.MkdirTemp("", "vecbolt-example")
	if err != nil {
		log.Fatal(err)
	}
	return filepath.Join(dir, "notes.vecbolt"), func() { os.RemoveAll(dir) }
}

var notes = []db.Document{
	{ID: "go", Text: "Go has goroutines and channels for concurrency", Metadata: map[string]any{"lang": "en", "year": 2009}},
	{ID: "rust", Text: "Rust guarantees memory safety without a garbage collector", Metadata: map[string]any{"lang": "en", "year": 2015}},
	{ID: "bread", Text: "Bake the bread for forty minutes in a hot oven", Metadata: map[string]any{"lang": "en", "year": 2020}},
	{ID: "pain", Text: "Le pain cuit quarante minutes au four", Metadata: map[string]any{"lang": "fr", "year": 2020}},
}

// Open a database file (created if missing), make a collection embedded by
// the built-in model, and store documents.
func Example() {
	path, cleanup := tempPath()
	defer cleanup()
	ctx := context.Background()

	d, err := db.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	c, err := d.CreateCollection(ctx, "notes")
	if err != nil {
		log.Fatal(err)
	}
	ids, err := c.Insert(ctx, notes...)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stored", ids)

	hits, err := c.Search(ctx, "baking in the oven", db.TopK(1))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("best match:", hits[0].ID)
	// Output:
	// stored [go rust bread pain]
	// best match: bread
}

// Reopen a database and a collection written earlier.
func ExampleOpen() {
	path, cleanup := tempPath()
	defer cleanup()
	ctx := context.Background()

	d, err := db.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	c, err := d.CreateCollection(ctx, "notes")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Insert(ctx, notes...); err != nil {
		log.Fatal(err)
	}
	if err := d.Close(); err != nil {
		log.Fatal(err)
	}

	// Later, or in another program: a read-only handle can share the file
	// with other readers.
	d, err = db.Open(path, db.ReadOnly())
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	c, err = d.Collection(ctx, "notes")
	if err != nil {
		log.Fatal(err)
	}
	n, err := c.Count(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Info().Model.Name, "embeds", n, "documents")
	// Output:
	// vecbolt-static-en-v4 embeds 4 documents
}

// Search with a metadata filter, built in Go or parsed from text.
func ExampleCollection_Search() {
	path, cleanup := tempPath()
	defer cleanup()
	ctx := context.Background()
	d, err := db.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	c, err := d.CreateCollection(ctx, "notes")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Insert(ctx, notes...); err != nil {
		log.Fatal(err)
	}

	hits, err := c.Search(ctx, "programming languages", db.TopK(5),
		db.Where(query.And(query.Eq("lang", "en"), query.Lt("year", 2020))))
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hits {
		fmt.Println(h.ID, h.Metadata["year"])
	}
	hits, err = c.Search(ctx, "bread", db.WhereExpr(`lang = "fr"`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("in French:", hits[0].ID)
	// Unordered output:
	// go 2009
	// rust 2015
	// in French: pain
}

// Store the valid documents of a batch and learn which ones were rejected
// and why.
func ExampleSkipInvalid() {
	path, cleanup := tempPath()
	defer cleanup()
	ctx := context.Background()
	d, err := db.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	c, err := d.CreateCollection(ctx, "notes")
	if err != nil {
		log.Fatal(err)
	}

	batch := []db.Document{
		{ID: "a", Text: "a note about rivers"},
		{ID: "b", Text: "   "}, // nothing to embed
		{ID: "c", Text: "a note about mountains"},
		{ID: "a", Text: "a second note with the same ID"},
	}
	// Without SkipInvalid, the batch fails whole and every rejected
	// document is listed.
	_, err = c.Insert(ctx, batch...)
	var be *db.BatchError
	if errors.As(err, &be) {
		fmt.Println("rejected:", len(be.Rejected), "of", be.Total, "- stored nothing")
	}

	res, err := c.InsertWith(ctx, batch, db.SkipInvalid())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("stored %q\n", res.IDs)
	for _, de := range res.Rejected {
		fmt.Println("document", de.Index, "duplicate:", errors.Is(de, db.ErrDuplicateID))
	}
	// Output:
	// rejected: 2 of 4 - stored nothing
	// stored ["a" "" "c" ""]
	// document 1 duplicate: false
	// document 3 duplicate: true
}

// Get returns text and metadata; ask for vectors with GetFields.
func ExampleCollection_GetFields() {
	path, cleanup := tempPath()
	defer cleanup()
	ctx := context.Background()
	d, err := db.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	c, err := d.CreateCollection(ctx, "points", db.WithDimension(3))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Insert(ctx, db.Document{ID: "p", Text: "a point", Vector: []float32{1, 2, 3}}); err != nil {
		log.Fatal(err)
	}

	docs, err := c.Get(ctx, "p")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(docs[0].Text, docs[0].Vector)
	docs, err = c.GetFields(ctx, db.FieldVector, "p")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(docs[0].Vector)
	_, err = c.Get(ctx, "p", "q")
	fmt.Println(errors.Is(err, db.ErrNotFound))
	// Output:
	// a point []
	// [1 2 3]
	// true
}

// A collection of your own vectors needs no model.
func ExampleCollection_SearchVector() {
	path, cleanup := tempPath()
	defer cleanup()
	ctx := context.Background()
	d, err := db.Open(path, db.WithEmbedder(nil))
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	c, err := d.CreateCollection(ctx, "points", db.WithDimension(2), db.WithMetric(db.L2))
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Insert(ctx,
		db.Document{ID: "origin", Vector: []float32{0, 0}, Metadata: map[string]any{"axis": false}},
		db.Document{ID: "east", Vector: []float32{1, 0}, Metadata: map[string]any{"axis": true}},
		db.Document{ID: "north", Vector: []float32{0, 1}, Metadata: map[string]any{"axis": true}},
	)
	if err != nil {
		log.Fatal(err)
	}
	hits, err := c.SearchVector(ctx, []float32{0.9, 0.2}, db.TopK(2), db.WhereExpr("axis = true"))
	if err != nil {
		log.Fatal(err)
	}
	for _, h := range hits {
		fmt.Printf("%s %.2f\n", h.ID, h.Score)
	}
	// Output:
	// east -0.22
	// north -1.20
}

// Walk a collection in ID order, a page at a time, with a filter: the
// documents of 2015 and later, their metadata only.
func ExampleCollection_Scan() {
	path, cleanup := tempPath()
	defer cleanup()
	ctx := context.Background()

	d, err := db.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	c, err := d.CreateCollection(ctx, "notes")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Insert(ctx, notes...); err != nil {
		log.Fatal(err)
	}
	for doc, err := range c.Scan(ctx, db.ScanWhereExpr(`year >= 2015`), db.ScanFields(db.FieldMetadata)) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(doc.ID, doc.Metadata["lang"], doc.Metadata["year"])
	}
	// Output:
	// bread en 2020
	// pain fr 2020
	// rust en 2015
}

// Export a collection as JSON Lines, the format Import (and `vecbolt
// import`) reads back.
func ExampleCollection_Export() {
	path, cleanup := tempPath()
	defer cleanup()
	ctx := context.Background()

	d, err := db.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	c, err := d.CreateCollection(ctx, "notes")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Insert(ctx, notes...); err != nil {
		log.Fatal(err)
	}
	n, err := c.Export(ctx, os.Stdout, db.ExportWhereExpr(`lang = "fr"`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, "exported")
	// Output:
	// {"id":"pain","text":"Le pain cuit quarante minutes au four","metadata":{"lang":"fr","year":2020}}
	// 1 exported
}
