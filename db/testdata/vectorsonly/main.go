// Command vectorsonly is the smallest program that uses db for vectors
// only. db's tests build it with the tag vecbolt_nomodel to check that such
// a program works without the built-in model, and README quotes its size.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vecbolt/vecbolt/db"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "vectorsonly")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	d, err := db.Open(filepath.Join(dir, "v.vecbolt"))
	if err != nil {
		return err
	}
	defer d.Close()
	c, err := d.CreateCollection(ctx, "points", db.WithDimension(3))
	if err != nil {
		return err
	}
	if _, err := c.Insert(ctx, db.Document{ID: "x", Vector: []float32{1, 0, 0}}, db.Document{ID: "y", Vector: []float32{0, 1, 0}}); err != nil {
		return err
	}
	hits, err := c.SearchVector(ctx, []float32{0.9, 0.1, 0}, db.TopK(1))
	if err != nil {
		return err
	}
	fmt.Println("nearest:", hits[0].ID)
	// A text collection needs a model.
	_, err = d.CreateCollection(ctx, "texts")
	fmt.Println("text collection needs a model:", errors.Is(err, db.ErrNoEmbedder))
	return nil
}
