package db_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/embedder"
)

// These tests use only the exported API, as an application does.

// lengthEmbedder is a toy model for black-box tests: a text's vector
// counts its letters by case and its other runes. It fails on every batch
// that holds a text containing "💥", the way a model fails on a text it
// cannot represent.
type lengthEmbedder struct{}

var errBoom = errors.New("lengthEmbedder cannot embed 💥")

func (lengthEmbedder) Identity() embedder.Identity {
	sum := sha256.Sum256([]byte("length"))
	return embedder.Identity{Name: "length", Hash: hex.EncodeToString(sum[:]), Dim: 3, Pooling: "none"}
}

func (lengthEmbedder) vec(t string) []float32 {
	v := []float32{1, 1, 1}
	for _, r := range t {
		switch {
		case r >= 'a' && r <= 'z':
			v[0]++
		case r >= 'A' && r <= 'Z':
			v[1]++
		default:
			v[2]++
		}
	}
	return v
}

func (e lengthEmbedder) EmbedDocuments(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if strings.Contains(t, "💥") {
			return nil, errBoom
		}
		out[i] = e.vec(t)
	}
	return out, nil
}

func (e lengthEmbedder) EmbedQuery(_ context.Context, t string) ([]float32, error) {
	return e.vec(t), nil
}

func openBlackBox(t *testing.T) (*db.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bb.vecbolt")
	d, err := db.Open(path, db.WithEmbedder(lengthEmbedder{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, path
}

// TestWriteErrorContract checks what an application can learn from a
// failed write with errors.Is and errors.As, and that it stored nothing.
func TestWriteErrorContract(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		docs    []db.Document
		upsert  bool
		is      []error
		indexes []int
	}{
		{"empty text", []db.Document{{ID: "a", Text: "ok"}, {ID: "b", Text: ""}}, false, []error{db.ErrInvalidDocument}, []int{1}},
		{"model failures", []db.Document{{ID: "a", Text: "💥"}, {ID: "b", Text: "ok"}, {ID: "c", Text: "x 💥"}}, false, []error{db.ErrInvalidDocument, errBoom}, []int{0, 2}},
		{"existing ID", []db.Document{{ID: "seed", Text: "again"}}, false, []error{db.ErrInvalidDocument, db.ErrDuplicateID}, []int{0}},
		{"ID twice in the batch", []db.Document{{ID: "a", Text: "x"}, {ID: "a", Text: "y"}}, true, []error{db.ErrInvalidDocument, db.ErrDuplicateID}, []int{1}},
		{"wrong vector", []db.Document{{ID: "a", Vector: []float32{1}}}, true, []error{db.ErrInvalidDocument}, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := openBlackBox(t)
			c, err := d.CreateCollection(ctx, "c")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Insert(ctx, db.Document{ID: "seed", Text: "seed"}); err != nil {
				t.Fatal(err)
			}
			write := c.Insert
			if tt.upsert {
				write = c.Upsert
			}
			ids, err := write(ctx, tt.docs...)
			if ids != nil {
				t.Errorf("a failed write returned IDs %v", ids)
			}
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("errors.Is(%v, %v) is false", err, target)
				}
			}
			var be *db.BatchError
			if !errors.As(err, &be) {
				t.Fatalf("%v is no *BatchError", err)
			}
			var got []int
			for _, de := range be.Rejected {
				got = append(got, de.Index)
				if de.ID != tt.docs[de.Index].ID {
					t.Errorf("document %d: ID %q, want %q", de.Index, de.ID, tt.docs[de.Index].ID)
				}
			}
			if !slices.Equal(got, tt.indexes) {
				t.Errorf("rejected %v, want %v", got, tt.indexes)
			}
			var de *db.DocumentError
			if !errors.As(err, &de) || de.Index != tt.indexes[0] {
				t.Errorf("errors.As *DocumentError: %v", de)
			}
			if n, _ := c.Count(ctx, nil); n != 1 {
				t.Errorf("count %d after a failed write, want 1", n)
			}
		})
	}
}

// TestSkipInvalidContract checks InsertWith and UpsertWith with
// SkipInvalid from the outside: what is stored is searchable, what is
// rejected is absent, and a later upsert of the fixed documents works.
func TestSkipInvalidContract(t *testing.T) {
	ctx := context.Background()
	d, _ := openBlackBox(t)
	c, err := d.CreateCollection(ctx, "c", db.WithFlatIndex())
	if err != nil {
		t.Fatal(err)
	}
	docs := make([]db.Document, 20)
	for i := range docs {
		docs[i] = db.Document{ID: fmt.Sprint("d", i), Text: strings.Repeat("a", i+1)}
		if i%5 == 0 {
			docs[i].Text += " 💥"
		}
	}
	res, err := c.InsertWith(ctx, docs, db.SkipInvalid())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) != 4 || len(res.IDs) != len(docs) {
		t.Fatalf("rejected %d, IDs %d", len(res.Rejected), len(res.IDs))
	}
	if n, _ := c.Count(ctx, nil); n != 16 {
		t.Fatalf("count %d, want 16", n)
	}
	for _, de := range res.Rejected {
		if _, err := c.Get(ctx, docs[de.Index].ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("rejected %s: %v", docs[de.Index].ID, err)
		}
		docs[de.Index].Text = strings.TrimSuffix(docs[de.Index].Text, " 💥")
	}
	res, err = c.UpsertWith(ctx, docs, db.SkipInvalid())
	if err != nil || len(res.Rejected) != 0 {
		t.Fatalf("upsert of the fixed batch: %v %v", res.Rejected, err)
	}
	if n, _ := c.Count(ctx, nil); n != 20 {
		t.Fatalf("count %d, want 20", n)
	}
	hits, err := c.Search(ctx, "aaaaaa", db.TopK(1))
	if err != nil || len(hits) != 1 || hits[0].ID != "d5" {
		t.Fatalf("search: %v %v", hits, err)
	}
}

// TestCollectionContextContract checks that Collection gives up on a done
// context and that the collection loads afterwards.
func TestCollectionContextContract(t *testing.T) {
	ctx := context.Background()
	d, path := openBlackBox(t)
	c, err := d.CreateCollection(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Insert(ctx, db.Document{ID: "a", Text: "abc"}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	d, err = db.Open(path, db.WithEmbedder(lengthEmbedder{}))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	expired, cancel2 := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel2()
	for _, tt := range []struct {
		ctx context.Context
		is  error
	}{{cancelled, context.Canceled}, {expired, context.DeadlineExceeded}} {
		if _, err := d.Collection(tt.ctx, "c"); !errors.Is(err, tt.is) {
			t.Errorf("got %v, want %v", err, tt.is)
		}
	}
	c, err = d.Collection(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Count(ctx, nil); n != 1 {
		t.Fatalf("count %d", n)
	}
}
