package db

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// slowEmbedder is a hashEmbedder that pauses on every document batch, so
// that a Reembed lasts long enough for other goroutines to act during it.
type slowEmbedder struct {
	*hashEmbedder
	pause time.Duration
}

func (s slowEmbedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	time.Sleep(s.pause)
	return s.hashEmbedder.EmbedDocuments(ctx, texts)
}

// TestReembedUnloadedRace is the regression test for Reembed of a
// collection this DB handle had not loaded, racing with a goroutine that
// loads it (d.Collection) and writes: Reembed locked a private handle, so
// those writes were not serialized with it; its final write of every
// document reverted an upsert that had returned nil, an acknowledged insert
// was left out of the new index, and the collection then failed to open.
// Every acknowledged write must be there afterwards, with its content,
// found by a search for its own vector, before and after a reopen.
//
// VECBOLT_REEMBED_RACE_ROUNDS sets the rounds per case (default 6).
func TestReembedUnloadedRace(t *testing.T) {
	rounds := 6
	if s := os.Getenv("VECBOLT_REEMBED_RACE_ROUNDS"); s != "" {
		if _, err := fmt.Sscan(s, &rounds); err != nil {
			t.Fatalf("VECBOLT_REEMBED_RACE_ROUNDS=%q: %v", s, err)
		}
	}
	cases := []struct {
		name string
		opts []CollectionOption
	}{
		// The collection's model is the DB's: a same-model re-embed.
		{"same model", nil},
		{"same model flat", []CollectionOption{WithFlatIndex()}},
		// Caller-supplied vectors of the model's dimension: Reembed turns
		// them into the model's.
		{"vectors only", []CollectionOption{WithDimension(64)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for round := range rounds {
				reembedRaceRound(t, tc.opts, round)
			}
		})
	}
}

func reembedRaceRound(t *testing.T, opts []CollectionOption, round int) {
	const n = 40
	emb := newHashEmbedder("hash-a", 64)
	path := filepath.Join(t.TempDir(), "r.vecbolt")
	d, err := Open(path, WithEmbedder(emb))
	if err != nil {
		t.Fatal(err)
	}
	c := mustCollection(t, d, "c", opts...)
	// want is every acknowledged document's text, by ID.
	want := map[string]string{}
	var docs []Document
	for i := range n {
		id := fmt.Sprintf("d%02d", i)
		text := fmt.Sprintf("document %s about topic%d", id, i)
		docs = append(docs, Document{ID: id, Text: text, Vector: emb.vec(text)})
		want[id] = text
	}
	if _, err := c.Insert(bg, docs...); err != nil {
		t.Fatal(err)
	}
	d.Close()

	d, err = Open(path, WithEmbedder(slowEmbedder{emb, time.Millisecond}), WithEmbedBatchSize(4))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { d.Close() }()
	var wg sync.WaitGroup
	var reembedErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		// Some rounds let the writers start first, so that writes land
		// before, during and after the re-embedding.
		time.Sleep(time.Duration(round%3*2) * time.Millisecond)
		reembedErr = d.Reembed(bg, "c", nil)
	}()
	var mu sync.Mutex
	var writeErrs []error
	var acked, refused int
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Stagger the writers over the re-embedding.
			time.Sleep(time.Duration(w*2) * time.Millisecond)
			c, err := d.Collection(bg, "c")
			if err != nil {
				mu.Lock()
				writeErrs = append(writeErrs, fmt.Errorf("writer %d: open: %w", w, err))
				mu.Unlock()
				return
			}
			for i := range 4 {
				up := fmt.Sprintf("d%02d", w*10+i)
				upText := fmt.Sprintf("rewritten %s by writer %d round %d", up, w, i)
				ins := fmt.Sprintf("new-%d-%d", w, i)
				insText := fmt.Sprintf("inserted %s by writer %d", ins, w)
				for _, wr := range []struct {
					upsert bool
					doc    Document
				}{
					{true, Document{ID: up, Text: upText, Vector: emb.vec(upText)}},
					{false, Document{ID: ins, Text: insText, Vector: emb.vec(insText)}},
				} {
					var err error
					if wr.upsert {
						_, err = c.Upsert(bg, wr.doc)
					} else {
						_, err = c.Insert(bg, wr.doc)
					}
					switch {
					case err == nil:
						mu.Lock()
						want[wr.doc.ID] = wr.doc.Text
						acked++
						mu.Unlock()
					case errors.Is(err, ErrModelMismatch):
						// Embedded for the state Reembed replaced: refused,
						// not written; the caller retries.
						mu.Lock()
						refused++
						mu.Unlock()
					default:
						mu.Lock()
						writeErrs = append(writeErrs, fmt.Errorf("writer %d: %s: %w", w, wr.doc.ID, err))
						mu.Unlock()
					}
				}
			}
		}()
	}
	wg.Wait()
	if reembedErr != nil {
		t.Fatalf("round %d: Reembed: %v", round, reembedErr)
	}
	if len(writeErrs) > 0 {
		t.Fatalf("round %d: writes: %v", round, errors.Join(writeErrs...))
	}
	verify := func(stage string) {
		t.Helper()
		c, err := d.Collection(bg, "c")
		if err != nil {
			t.Fatalf("round %d, %s: open: %v", round, stage, err)
		}
		if got, _ := c.Count(bg, nil); got != len(want) {
			t.Errorf("round %d, %s: %d documents, want %d", round, stage, got, len(want))
		}
		for id, text := range want {
			got, err := c.GetFields(bg, FieldText|FieldMetadata|FieldVector, id)
			if err != nil {
				t.Errorf("round %d, %s: acknowledged %s: %v", round, stage, id, err)
				continue
			}
			if got[0].Text != text {
				t.Errorf("round %d, %s: %s holds %q, the acknowledged write was %q", round, stage, id, got[0].Text, text)
			}
			res, err := c.SearchVector(bg, got[0].Vector, TopK(len(want)), WithFields())
			if err != nil || !slices.ContainsFunc(res, func(r Result) bool { return r.ID == id }) {
				t.Errorf("round %d, %s: %s is not found by its own vector (err %v)", round, stage, id, err)
			}
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	t.Logf("round %d: %d writes acknowledged, %d refused as made for the replaced state", round, acked, refused)
	verify("after the race")
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if d, err = Open(path, WithEmbedder(emb)); err != nil {
		t.Fatal(err)
	}
	verify("after reopening")
}

// A Reembed that fails leaves no handle without a state behind: the name
// loads, or is created, as if it had never run, and Close (which
// snapshots every registered handle) works.
func TestReembedFailureLeavesNoHandle(t *testing.T) {
	d, path := openTest(t)
	if err := d.Reembed(bg, "nope", nil); !errors.Is(err, ErrCollectionNotFound) {
		t.Fatalf("Reembed of an unknown collection: %v", err)
	}
	if _, err := d.Collection(bg, "nope"); !errors.Is(err, ErrCollectionNotFound) {
		t.Fatalf("Collection after a failed Reembed: %v", err)
	}
	c := mustCollection(t, d, "nope")
	if _, err := c.Insert(bg, animals...); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	bad := newHashEmbedder("hash-b", 32)
	bad.fail = errors.New("model exploded")
	d, err := Open(path, WithEmbedder(bad))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Reembed(bg, "nope", nil); err == nil {
		t.Fatal("Reembed with a failing model succeeded")
	}
	if _, err := d.Collection(bg, "nope"); !errors.Is(err, ErrModelMismatch) {
		t.Fatalf("Collection after a failed Reembed: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}
