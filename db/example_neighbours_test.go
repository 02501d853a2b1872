//go:build !vecbolt_nomodel

package db_test

import (
	"context"
	"fmt"
	"log"

	"github.com/vecbolt/vecbolt/db"
)

// The odd one out among notes about programming languages.
func ExampleCollection_Outliers() {
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
	_, err = c.Insert(ctx,
		db.Document{ID: "go", Text: "Go is a compiled programming language with goroutines"},
		db.Document{ID: "rust", Text: "Rust is a compiled programming language with ownership"},
		db.Document{ID: "python", Text: "Python is an interpreted programming language"},
		db.Document{ID: "java", Text: "Java is a compiled programming language for the JVM"},
		db.Document{ID: "bread", Text: "Bake the bread for forty minutes in a hot oven"},
	)
	if err != nil {
		log.Fatal(err)
	}
	odd, err := c.Outliers(ctx, db.Neighbours(2), db.OutlierCount(1))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(odd[0].ID)
	// Output: bread
}

// Two near-identical notes among others.
func ExampleCollection_Duplicates() {
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
	_, err = c.Insert(ctx,
		db.Document{ID: "a", Text: "Bake the bread for forty minutes in a hot oven"},
		db.Document{ID: "b", Text: "Bake the bread for forty five minutes in a hot oven"},
		db.Document{ID: "c", Text: "Go has goroutines and channels for concurrency"},
		db.Document{ID: "d", Text: "Rust guarantees memory safety without a garbage collector"},
	)
	if err != nil {
		log.Fatal(err)
	}
	pairs, err := c.Duplicates(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range pairs {
		fmt.Println(p.A, p.B)
	}
	// Output: a b
}
