package main

import (
	"context"
	"testing"

	"github.com/vecbolt/vecbolt/embedder/models"

	"github.com/vecbolt/vecbolt/db"
)

// TestAppReopensWithCLIModel is issue #13's case: a collection written by
// the command line with --model is opened by a program that loads the
// model from the same argument with models.Load.
func TestAppReopensWithCLIModel(t *testing.T) {
	model := writeStaticModel(t)
	dbp := tempDB(t)
	for _, text := range []string{"the cat", "the trucks"} {
		if o := vbOpts(t, "", []option{withTerminal(false)}, "add", "--db", dbp, "--collection", "c", "--model", model, "--id", text, text); o.code != 0 {
			t.Fatalf("add: %s", o.stderr)
		}
	}
	ctx := context.Background()
	m, err := models.Load(ctx, model)
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(dbp, db.WithEmbedder(m))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err := d.Collection(ctx, "c")
	if err != nil {
		t.Fatalf("the model the CLI used does not open its collection: %v", err)
	}
	hits, err := c.Search(ctx, "truck", db.TopK(1))
	if err != nil || len(hits) != 1 || hits[0].ID != "the trucks" {
		t.Fatalf("search: %v %v", hits, err)
	}
}
