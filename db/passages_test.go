package db

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/storage"
)

// checkChunked verifies a chunked collection against the documents it
// should hold (ID -> text): every document is stored once with its text,
// has exactly the passages 0..n-1, each pointing back to it with valid
// offsets, no text of its own and the document's metadata; no passage
// entry lacks its document (no orphan); Get, Count, Scan and searches
// agree.
func checkChunked(t *testing.T, c *Collection, want map[string]string) {
	t.Helper()
	passages := 0
	ptext := make(map[string]string) // passage ID -> its text
	err := c.db.store.View(func(tx *storage.Tx) error {
		ctx, err := tx.Collection(c.name)
		if err != nil {
			return err
		}
		if n := ctx.ParentCount(); n != len(want) {
			t.Errorf("%d documents stored, want %d", n, len(want))
		}
		owned := make(map[string]bool)
		for id, text := range want {
			p, ok, err := ctx.Parent(id)
			if err != nil {
				return err
			}
			if !ok {
				t.Errorf("document %q missing", id)
				continue
			}
			if p.Text != text || p.Passages == 0 || len(p.Vector) != int(c.st.Load().cfg.Dimension) {
				t.Errorf("document %q: text %q (want %q), %d passages, vector of %d", id, p.Text, text, p.Passages, len(p.Vector))
			}
			for k := range int(p.Passages) {
				pid := passageID(id, k)
				owned[pid] = true
				label, ok, err := ctx.Label(pid)
				if err != nil {
					return err
				}
				rec, ok2, err := ctx.Document(label)
				if err != nil {
					return err
				}
				if !ok || !ok2 {
					t.Errorf("passage %q missing", pid)
					continue
				}
				if rec.Id != pid || rec.ParentId != id || rec.Text != "" || rec.Start >= rec.End || int(rec.End) > len(text) || len(rec.Vector) == 0 {
					t.Errorf("passage %q: %+v", pid, rec)
				}
				if rec.Start < rec.End && int(rec.End) <= len(text) {
					ptext[pid] = text[rec.Start:rec.End]
				}
				if fmt.Sprint(rec.Metadata["n"]) != fmt.Sprint(p.Metadata["n"]) {
					t.Errorf("passage %q metadata %v, document's %v", pid, rec.Metadata, p.Metadata)
				}
			}
			passages += int(p.Passages)
		}
		return ctx.ForEachID(func(id []byte, label uint64) error {
			if !owned[string(id)] {
				t.Errorf("orphan passage %q (label %d)", id, label)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	info := c.Info()
	if info.Count != len(want) || info.Passages != passages {
		t.Errorf("Info: %d documents, %d passages; want %d, %d", info.Count, info.Passages, len(want), passages)
	}
	if n, err := c.Count(bg, nil); err != nil || n != len(want) {
		t.Errorf("Count = %d, %v; want %d", n, err, len(want))
	}
	var scanned []string
	for d, err := range c.Scan(bg) {
		if err != nil {
			t.Fatal(err)
		}
		if d.Text != want[d.ID] {
			t.Errorf("Scan: %q has text %q, want %q", d.ID, d.Text, want[d.ID])
		}
		scanned = append(scanned, d.ID)
	}
	if len(scanned) != len(want) {
		t.Errorf("Scan gave %d documents, want %d", len(scanned), len(want))
	}
	if len(want) == 0 {
		return
	}
	res, err := c.Search(bg, "river stone", TopK(passages))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != passages {
		t.Errorf("exhaustive search found %d passages of %d", len(res), passages)
	}
	for _, r := range res {
		text, ok := want[r.DocID]
		if !ok || r.Start < 0 || r.End > len(text) || r.Start >= r.End || r.Text != text[r.Start:r.End] || parentOf(r.ID) != r.DocID {
			t.Errorf("search result %q of %q: bytes %d..%d, text %q", r.ID, r.DocID, r.Start, r.End, r.Text)
		}
	}
	// The keyword index holds each passage with its own text: a word's
	// keyword search finds exactly the passages that contain it (the
	// words of randomText are distinct stems), and none of a replaced or
	// deleted document.
	if c.st.Load().ft == nil {
		return
	}
	for _, word := range []string{"river", "glacier", "violin"} {
		var wantIDs, gotIDs []string
		for pid, text := range ptext {
			if slices.Contains(strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == '.' || r == '\n' }), word) {
				wantIDs = append(wantIDs, pid)
			}
		}
		res, err := c.Search(bg, word, WithMode(ModeKeyword), TopK(passages))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			gotIDs = append(gotIDs, r.ID)
			if r.DocID != parentOf(r.ID) || r.Text != ptext[r.ID] {
				t.Errorf("keyword result %q: document %q, text %q, want %q", r.ID, r.DocID, r.Text, ptext[r.ID])
			}
		}
		slices.Sort(wantIDs)
		slices.Sort(gotIDs)
		if !slices.Equal(gotIDs, wantIDs) {
			t.Errorf("keyword search %q found passages %v, want %v", word, gotIDs, wantIDs)
		}
	}
}

var passageWords = strings.Fields("river stone bridge lantern harbor meadow copper violin garden thunder orchard candle mirror falcon glacier")

func randomText(r *rand.Rand) string {
	var b strings.Builder
	for p := range 1 + r.IntN(4) {
		if p > 0 {
			b.WriteString("\n\n")
		}
		for s := range 1 + r.IntN(4) {
			if s > 0 {
				b.WriteString(" ")
			}
			for w := range 3 + r.IntN(8) {
				if w > 0 {
					b.WriteString(" ")
				}
				b.WriteString(passageWords[r.IntN(len(passageWords))])
			}
			b.WriteString(".")
		}
	}
	return b.String()
}

// Random inserts, replacements, deletes (by ID and by filter) and reopens
// of long documents keep documents and passages consistent, with the real
// storage and index (the model is the test's hashing embedder, or the
// built-in one where it is compiled in).
func TestChunkedRandomOps(t *testing.T) {
	var opts []Option
	if !hasBuiltinModel {
		opts = []Option{WithEmbedder(newHashEmbedder("hash-a", 64))}
	}
	path := filepath.Join(t.TempDir(), "chunked.vecbolt")
	d, err := Open(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { d.Close() }()
	c := mustCollection(t, d, "long", WithChunking(12, 3), WithFlatIndex())
	if ci, ok := c.Chunking(); !ok || ci.MaxTokens != 12 || ci.Overlap != 3 {
		t.Fatalf("Chunking() = %+v, %v", ci, ok)
	}
	r := rand.New(rand.NewPCG(1, 18))
	want := make(map[string]string)
	ids := func() []string {
		var out []string
		for id := range want {
			out = append(out, id)
		}
		slices.Sort(out)
		return out
	}
	for step := range 60 {
		switch op := r.IntN(10); {
		case op < 4: // insert or replace a batch
			var docs []Document
			for range 1 + r.IntN(3) {
				id := fmt.Sprintf("doc#%d", r.IntN(12)) // a "#" in the ID too
				if slices.ContainsFunc(docs, func(d Document) bool { return d.ID == id }) {
					continue
				}
				docs = append(docs, Document{ID: id, Text: randomText(r), Metadata: map[string]any{"n": r.IntN(3)}})
			}
			if _, err := c.Upsert(bg, docs...); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			for _, doc := range docs {
				want[doc.ID] = doc.Text
			}
		case op < 5: // insert of an existing ID fails and writes nothing
			if len(want) == 0 {
				continue
			}
			id := ids()[r.IntN(len(want))]
			if _, err := c.Insert(bg, Document{ID: id, Text: "river"}); !errors.Is(err, ErrDuplicateID) {
				t.Fatalf("step %d: insert of existing %q: %v", step, id, err)
			}
		case op < 7:
			if len(want) == 0 {
				continue
			}
			id := ids()[r.IntN(len(want))]
			n, err := c.Delete(bg, id, "absent")
			if err != nil || n != 1 {
				t.Fatalf("step %d: delete %q = %d, %v", step, id, n, err)
			}
			delete(want, id)
		case op < 8:
			n := r.IntN(3)
			deleted, err := c.DeleteWhere(bg, mustParse(t, fmt.Sprintf("n = %d", n)))
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Count(bg, nil)
			if err != nil {
				t.Fatal(err)
			}
			before := len(want)
			for _, id := range ids() {
				docs, err := c.Get(bg, id)
				if errors.Is(err, ErrNotFound) {
					delete(want, id)
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(docs[0].Metadata["n"]) == fmt.Sprint(n) {
					t.Fatalf("step %d: %q survived DeleteWhere n = %d", step, id, n)
				}
			}
			if before-len(want) != deleted || got != len(want) {
				t.Fatalf("step %d: DeleteWhere deleted %d, %d gone, count %d of %d", step, deleted, before-len(want), got, len(want))
			}
		default: // reopen
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			if d, err = Open(path, opts...); err != nil {
				t.Fatal(err)
			}
			if c, err = d.Collection(bg, "long"); err != nil {
				t.Fatal(err)
			}
			if rep, err := d.Check(bg); err != nil || !rep.OK() {
				t.Fatalf("step %d: check after reopen: %v %+v", step, err, rep.Problems)
			}
			if step%2 == 0 {
				if err := d.Reindex(bg, "long", nil); err != nil {
					t.Fatal(err)
				}
			}
			// Export and import into a fresh chunked collection give the
			// same documents (import re-chunks them).
			var buf bytes.Buffer
			if _, err := c.Export(bg, &buf); err != nil {
				t.Fatal(err)
			}
			_ = d.DeleteCollection(bg, "copy")
			cp := mustCollection(t, d, "copy", WithChunking(12, 3), WithFlatIndex())
			if res, err := cp.Import(bg, bytes.NewReader(buf.Bytes())); err != nil || res.Stored != len(want) {
				t.Fatalf("step %d: import of the export: %+v, %v", step, res, err)
			}
			if res, err := cp.Import(bg, bytes.NewReader(buf.Bytes()), ImportSkipInvalid()); err != nil || res.RejectedCount != len(want) || res.Stored != 0 {
				t.Fatalf("step %d: import of existing documents: %+v, %v", step, res, err)
			}
			checkChunked(t, cp, want)
		}
		checkChunked(t, c, want)
		if t.Failed() {
			t.Fatalf("inconsistent after step %d", step)
		}
	}
}

// Check finds a chunked collection's documents and passages out of step:
// a passage without its document, a document without a passage.
func TestCheckChunked(t *testing.T) {
	tests := []struct {
		name   string
		damage func(ct *storage.CollectionTx) error
		want   string
	}{
		{"intact", func(*storage.CollectionTx) error { return nil }, ""},
		{"document gone", func(ct *storage.CollectionTx) error { return ct.DeleteParent("b") }, `passage "b#0" belongs to no document`},
		{"passage gone", func(ct *storage.CollectionTx) error {
			label, _, err := ct.Label("a#1")
			if err != nil {
				return err
			}
			return ct.DeleteDocument(label, "a#1")
		}, `document "a" lacks its passage 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := openTest(t)
			c := mustCollection(t, d, "long", WithChunking(4, 1), WithFlatIndex())
			if _, err := c.Insert(bg, Document{ID: "a", Text: "river stone bridge lantern harbor meadow copper violin"}, Document{ID: "b", Text: "garden thunder"}); err != nil {
				t.Fatal(err)
			}
			err := d.store.Update(func(tx *storage.Tx) error {
				ct, err := tx.Collection("long")
				if err != nil {
					return err
				}
				return tt.damage(ct)
			})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := d.Check(bg)
			if err != nil {
				t.Fatal(err)
			}
			var msgs []string
			for _, p := range rep.Problems {
				msgs = append(msgs, p.Message)
			}
			all := strings.Join(msgs, "\n")
			if tt.want == "" && !rep.OK() || tt.want != "" && !strings.Contains(all, tt.want) {
				t.Errorf("problems:\n%s\nwant one with %q", all, tt.want)
			}
		})
	}
}

// Re-importing a chunked collection's own export with SkipInvalid finds
// the existing documents before embedding anything (in the documents, not
// the passages' ID map).
func TestChunkedReimportEmbedsNothing(t *testing.T) {
	emb := newHashEmbedder("hash-a", 64)
	d, _ := openTest(t, WithEmbedder(emb))
	c := mustCollection(t, d, "long", WithChunking(6, 1), WithFlatIndex())
	var docs []Document
	for i := range 5 {
		docs = append(docs, Document{ID: fmt.Sprint("d", i), Text: strings.Repeat("river stone bridge lantern. ", i+2)})
	}
	if _, err := c.Insert(bg, docs...); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := c.Export(bg, &buf); err != nil {
		t.Fatal(err)
	}
	before := emb.calls.Load()
	res, err := c.Import(bg, &buf, ImportSkipInvalid())
	if err != nil || res.RejectedCount != 5 || res.Stored != 0 {
		t.Fatalf("re-import: %+v, %v", res, err)
	}
	if n := emb.calls.Load() - before; n != 0 {
		t.Errorf("re-import embedded %d batches, want none", n)
	}
}

// Searches running while documents are replaced and deleted see each
// passage with its own document's text, never an error (run with -race).
func TestChunkedConcurrentReplace(t *testing.T) {
	d, _ := openTest(t)
	c := mustCollection(t, d, "long", WithChunking(8, 2))
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	done := make(chan error, 3)
	writes := 150
	if testing.Short() {
		writes = 40
	}
	go func() {
		r := rand.New(rand.NewPCG(3, 4))
		for i := 0; ctx.Err() == nil && i < writes; i++ {
			id := fmt.Sprint("doc", r.IntN(5))
			var err error
			if r.IntN(4) == 0 {
				_, err = c.Delete(bg, id)
			} else {
				_, err = c.Upsert(bg, Document{ID: id, Text: randomText(r)})
			}
			if err != nil {
				done <- err
				return
			}
		}
		cancel()
		done <- nil
	}()
	for range 2 {
		go func() {
			for ctx.Err() == nil {
				res, err := c.Search(bg, "river garden", TopK(20))
				if err != nil {
					done <- err
					return
				}
				for _, r := range res {
					if r.DocID != parentOf(r.ID) || len(r.Text) != r.End-r.Start || r.Text == "" {
						done <- fmt.Errorf("result %+v", r)
						return
					}
				}
				if _, err := c.SearchDocuments(bg, "stone bridge", TopK(3)); err != nil {
					done <- err
					return
				}
				if _, err := c.Context(bg, "lantern", ContextBudget(30)); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// limitedEmbedder is a hashing embedder that reports a transformer's
// maximum sequence length, as onnx.Model does.
type limitedEmbedder struct {
	*hashEmbedder
	maxSeq int
}

func (l limitedEmbedder) Config() embedder.ModelConfig {
	return embedder.ModelConfig{MaxSeqLength: l.maxSeq}
}

// WithChunking's size is capped at a transformer's maximum length less
// [CLS] and [SEP], and the settings are stored with the collection.
func TestChunkingCappedAtModelLength(t *testing.T) {
	tests := []struct {
		maxSeq, tokens, overlap int
		wantTokens, wantOverlap int
	}{
		{0, 100, 10, 100, 10},   // no limit known
		{512, 256, 32, 256, 32}, // within the limit
		{10, 100, 10, 8, 7},     // capped; the overlap stays below the size
		{10, 100, 3, 8, 3},
	}
	for _, tt := range tests {
		emb := limitedEmbedder{newHashEmbedder("hash-a", 64), tt.maxSeq}
		d, path := openTest(t, WithEmbedder(emb))
		c := mustCollection(t, d, "long", WithChunking(tt.tokens, tt.overlap))
		got, _ := c.Chunking()
		if got.MaxTokens != tt.wantTokens || got.Overlap != tt.wantOverlap {
			t.Errorf("max length %d, WithChunking(%d, %d): got %+v, want %d, %d", tt.maxSeq, tt.tokens, tt.overlap, got, tt.wantTokens, tt.wantOverlap)
		}
		d.Close()
		d, err := Open(path, WithEmbedder(emb))
		if err != nil {
			t.Fatal(err)
		}
		c, err = d.Collection(bg, "long")
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := c.Chunking(); again != got {
			t.Errorf("after reopen: %+v, want %+v", again, got)
		}
		d.Close()
	}
}
