package db_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/vecbolt/vecbolt/db"
)

// exampleDB opens a new database in a temporary directory with a
// collection "notes" of 100 three-dimensional vectors.
func exampleDB() (*db.DB, string) {
	dir, err := os.MkdirTemp("", "vecbolt-example")
	if err != nil {
		log.Fatal(err)
	}
	d, err := db.Open(filepath.Join(dir, "notes.vecbolt"), db.WithEmbedder(nil))
	if err != nil {
		log.Fatal(err)
	}
	notes, err := d.CreateCollection(context.Background(), "notes", db.WithDimension(3))
	if err != nil {
		log.Fatal(err)
	}
	var docs []db.Document
	for i := range 100 {
		docs = append(docs, db.Document{ID: fmt.Sprintf("n%03d", i), Vector: []float32{1, float32(i), float32(i % 7)}})
	}
	if _, err := notes.Insert(context.Background(), docs...); err != nil {
		log.Fatal(err)
	}
	return d, dir
}

// Backup writes a consistent copy while other goroutines may keep writing;
// BackupFile does the same to a path, atomically.
func ExampleDB_Backup() {
	d, dir := exampleDB()
	defer os.RemoveAll(dir)
	defer d.Close()
	ctx := context.Background()

	var buf bytes.Buffer
	if _, err := d.Backup(ctx, &buf); err != nil {
		log.Fatal(err)
	}
	out := filepath.Join(dir, "notes-backup.vecbolt")
	n, err := d.BackupFile(ctx, out, db.WithCopyProgress(func(done, total int64) {
		// Called as the copy advances: bytes written of total.
	}))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same size:", n == int64(buf.Len()))
	// Output: same size: true
}

// Check reports what is wrong with a file; its error is only for failing
// to run.
func ExampleDB_Check() {
	d, dir := exampleDB()
	defer os.RemoveAll(dir)
	defer d.Close()

	rep, err := d.Check(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range rep.Problems {
		fmt.Printf("%s: %s\n", p.Kind, p.Message)
	}
	for _, c := range rep.Collections {
		fmt.Printf("%s: %d documents, %s\n", c.Name, c.Documents, c.Verdict)
	}
	fmt.Println("ok:", rep.OK())
	// Output:
	// notes: 100 documents, intact
	// ok: true
}

// CompactTo writes a copy without the space that deletes left; a file
// never shrinks by itself. CompactFile does it in place.
func ExampleDB_CompactTo() {
	d, dir := exampleDB()
	defer os.RemoveAll(dir)
	defer d.Close()
	ctx := context.Background()
	notes, err := d.Collection(ctx, "notes")
	if err != nil {
		log.Fatal(err)
	}
	var ids []string
	for i := range 90 {
		ids = append(ids, fmt.Sprintf("n%03d", i))
	}
	if _, err := notes.Delete(ctx, ids...); err != nil {
		log.Fatal(err)
	}
	st, err := d.CompactTo(ctx, filepath.Join(dir, "notes-compact.vecbolt"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("smaller:", st.After < st.Before)
	// Output: smaller: true
}
