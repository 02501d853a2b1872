//go:build !vecbolt_nomodel

package db_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/ingest"
)

// Retrieval for generation: import a folder of notes into a chunked
// collection, then assemble the passages best for a question, within a
// token budget and with citations, for a model's prompt.
func ExampleCollection_Context() {
	path, cleanup := tempPath()
	defer cleanup()
	folder := filepath.Join(filepath.Dir(path), "notes")
	os.MkdirAll(folder, 0o755)
	os.WriteFile(filepath.Join(folder, "backup.md"), []byte("# Backups\n\nRun vecbolt backup while the database is in use: the copy is consistent.\n\n## Restore\n\nStop the program, then copy the backup over the database file.\n"), 0o644)
	os.WriteFile(filepath.Join(folder, "bread.txt"), []byte("Bread\n\nBake the loaf for forty minutes in a hot oven.\n"), 0o644)

	ctx := context.Background()
	d, err := db.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	c, err := d.CreateCollection(ctx, "notes", db.WithChunking(32, 4))
	if err != nil {
		log.Fatal(err)
	}
	res, err := ingest.Files(ctx, c, []string{folder})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("imported", res.Added, "files")

	cx, err := c.Context(ctx, "how do I restore a backup?", db.ContextBudget(40))
	if err != nil {
		log.Fatal(err)
	}
	// The two passages of backup.md are adjacent, so they come back merged
	// into one citation.
	fmt.Print(cx) // paste into the prompt, after the question
	// Output:
	// imported 2 files
	// [1] backup.md (bytes 0-159) Backups
	// # Backups
	//
	// Run vecbolt backup while the database is in use: the copy is consistent.
	//
	// ## Restore
	//
	// Stop the program, then copy the backup over the database file.
}
