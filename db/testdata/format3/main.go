// Command format3 wrote release-4113dad.vecbolt, the format-3 file of
// TestUpgradeFromFormat3 (`go run ./db/testdata/format3 OUT`, then
// `vecbolt compact --db OUT release-4113dad.vecbolt`, which keeps every
// bucket, the pending lists included), when built against commit 4113dad
// (the last release whose file format is 3: vectors kept in the document
// records and again in the graph snapshot). Built against a later db it
// writes that build's format instead; it is kept to say how the file was
// made.
//
// The file holds the collections the upgrade must carry over: a float32
// HNSW graph of caller-supplied vectors, an int8 one, a flat index, and a
// collection of texts embedded with the built-in model. It is a backup
// taken while writes made after the last snapshot were pending (deletes,
// replacements and new documents), so the upgrade also meets the replay
// of a pending list whose documents carry their vectors.
package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/vecbolt/vecbolt/db"
)

func main() {
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// vec is the vector of document i of a collection of dimension dim, in
// generation gen (replacements use gen 1). The test recomputes it.
func vec(i, dim, gen int) []float32 {
	v := make([]float32, dim)
	for j := range v {
		v[j] = float32(math.Sin(float64(i*dim+j)*0.37 + float64(gen)))
	}
	return v
}

func run(out string) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "format3")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "f.vecbolt")
	d, err := db.Open(path)
	if err != nil {
		return err
	}
	specs := []struct {
		name string
		dim  int
		n    int
		opts []db.CollectionOption
	}{
		{"hnsw", 8, 300, []db.CollectionOption{db.WithDimension(8)}},
		{"int8", 16, 200, []db.CollectionOption{db.WithDimension(16), db.WithInt8()}},
		{"flat", 3, 40, []db.CollectionOption{db.WithDimension(3), db.WithFlatIndex(), db.WithMetric(db.L2)}},
	}
	for _, s := range specs {
		c, err := d.CreateCollection(ctx, s.name, s.opts...)
		if err != nil {
			return err
		}
		var docs []db.Document
		for i := range s.n {
			docs = append(docs, db.Document{ID: fmt.Sprintf("%s-%03d", s.name, i), Vector: vec(i, s.dim, 0),
				Metadata: map[string]any{"i": i, "even": i%2 == 0}})
		}
		if _, err := c.Insert(ctx, docs...); err != nil {
			return err
		}
	}
	texts, err := d.CreateCollection(ctx, "texts")
	if err != nil {
		return err
	}
	if _, err := texts.Insert(ctx,
		db.Document{ID: "nethack", Text: "a dungeon crawling game with dragons and a mysterious amulet"},
		db.Document{ID: "gimp", Text: "an image editor for photos, paintings and drawings"},
		db.Document{ID: "vim", Text: "a text editor that many programmers use in the terminal"},
	); err != nil {
		return err
	}
	if err := d.Close(); err != nil {
		return err
	}
	// Writes after the snapshots: left pending in the backup.
	if d, err = db.Open(path); err != nil {
		return err
	}
	defer d.Close()
	for _, s := range specs {
		c, err := d.Collection(ctx, s.name)
		if err != nil {
			return err
		}
		var del []string
		for i := 0; i < s.n; i += 10 {
			del = append(del, fmt.Sprintf("%s-%03d", s.name, i))
		}
		if _, err := c.Delete(ctx, del...); err != nil {
			return err
		}
		var up []db.Document
		for i := 5; i < s.n; i += 10 {
			up = append(up, db.Document{ID: fmt.Sprintf("%s-%03d", s.name, i), Vector: vec(i, s.dim, 1), Metadata: map[string]any{"i": i, "replaced": true}})
		}
		up = append(up, db.Document{ID: fmt.Sprintf("%s-new", s.name), Vector: vec(s.n, s.dim, 0)})
		if _, err := c.Upsert(ctx, up...); err != nil {
			return err
		}
	}
	_, err = d.BackupFile(ctx, out)
	return err
}
