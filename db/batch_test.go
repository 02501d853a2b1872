package db

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/vecbolt/vecbolt/embedder/static"

	"github.com/vecbolt/vecbolt/embedder/builtin"
)

// failOnEmbedder fails any batch that holds one of its texts, the way a
// model fails on a text it cannot represent; with together set it fails
// every batch of more than one text instead, like a model that runs out of
// memory on batches but handles each text alone.
type failOnEmbedder struct {
	*hashEmbedder
	bad      map[string]bool
	together bool
}

var errCannotEmbed = errors.New("fake model cannot embed this text")

func (f failOnEmbedder) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	if f.together && len(texts) > 1 {
		return nil, errors.New("fake model out of memory")
	}
	for _, t := range texts {
		if f.bad[t] {
			return nil, fmt.Errorf("%w: %q", errCannotEmbed, t)
		}
	}
	return f.hashEmbedder.EmbedDocuments(ctx, texts)
}

// rejection is what a test expects of one rejected document.
type rejection struct {
	index int
	is    error // besides ErrInvalidDocument
}

// TestBatchRejections checks that every rejected document of a batch is
// reported, with its position and cause, whether it failed validation, the
// embedder or the duplicate check; that a failing batch writes nothing;
// and that SkipInvalid stores exactly the others in one write.
func TestBatchRejections(t *testing.T) {
	poison := map[string]bool{"poison one": true, "poison two": true, "poison three": true}
	existing := []Document{{ID: "old-1", Text: "already here"}, {ID: "old-2", Text: "also here"}}
	tests := []struct {
		name     string
		docs     []Document
		upsert   bool
		skip     bool
		together bool
		want     []rejection // in batch order
		wantErr  error       // a whole-batch failure, not a rejection
	}{
		{
			name: "validation failures are all listed",
			docs: []Document{{ID: "a", Text: "fine"}, {ID: "b", Text: " "}, {ID: "c", Text: "ok"}, {ID: "d", Text: "bad \xff"}, {ID: strings.Repeat("x", 600), Text: "long id"}},
			want: []rejection{{1, nil}, {3, nil}, {4, nil}},
		},
		{
			name: "embedding failures are all listed",
			docs: []Document{{ID: "a", Text: "poison one"}, {ID: "b", Text: "fine"}, {ID: "c", Text: "fine too"}, {ID: "d", Text: "poison two"}, {ID: "e", Text: "ok"}, {ID: "f", Text: "ok again"}, {ID: "g", Text: "poison three"}},
			want: []rejection{{0, errCannotEmbed}, {3, errCannotEmbed}, {6, errCannotEmbed}},
		},
		{
			name: "existing IDs are all listed",
			docs: []Document{{ID: "old-1", Text: "x"}, {ID: "new", Text: "y"}, {ID: "old-2", Text: "z"}},
			want: []rejection{{0, ErrDuplicateID}, {2, ErrDuplicateID}},
		},
		{
			name: "validation fails the batch before any embedding",
			docs: []Document{{ID: "a", Text: "poison one"}, {ID: "b", Text: ""}},
			want: []rejection{{1, nil}},
		},
		{
			name: "skip stores the rest",
			skip: true,
			docs: []Document{
				{ID: "a", Text: "fine"}, {ID: "b", Text: "poison one"}, {ID: "old-1", Text: "dup of stored"},
				{ID: "c", Text: ""}, {ID: "a", Text: "dup in batch"}, {Text: "no id"}, {ID: "d", Text: "poison two"}, {ID: "e", Vector: []float32{1}},
			},
			want: []rejection{{1, errCannotEmbed}, {2, ErrDuplicateID}, {3, nil}, {4, ErrDuplicateID}, {6, errCannotEmbed}, {7, nil}},
		},
		{
			name:   "skip with upsert replaces existing IDs",
			skip:   true,
			upsert: true,
			docs:   []Document{{ID: "old-1", Text: "replaced"}, {ID: "b", Text: "poison one"}, {ID: "c", Text: "new"}},
			want:   []rejection{{1, errCannotEmbed}},
		},
		{
			name: "skip with everything rejected stores nothing and is no error",
			skip: true,
			docs: []Document{{ID: "a", Text: "poison one"}, {ID: "b", Text: "\t"}},
			want: []rejection{{0, errCannotEmbed}, {1, nil}},
		},
		{
			name: "an invalid document does not make a valid one its duplicate",
			skip: true,
			docs: []Document{{ID: "a", Text: ""}, {ID: "a", Text: "valid"}},
			want: []rejection{{0, nil}},
		},
		{
			name:     "skip with nothing to reject",
			skip:     true,
			together: false,
			docs:     []Document{{ID: "a", Text: "fine"}, {ID: "b", Text: "fine too"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emb := failOnEmbedder{hashEmbedder: newHashEmbedder("hash-a", 32), bad: poison, together: tt.together}
			d, _ := openTest(t, WithEmbedder(emb), WithEmbedBatchSize(4))
			c := mustCollection(t, d, "c")
			if _, err := c.Insert(bg, existing...); err != nil {
				t.Fatal(err)
			}
			var opts []WriteOption
			if tt.skip {
				opts = append(opts, SkipInvalid())
			}
			write := c.InsertWith
			if tt.upsert {
				write = c.UpsertWith
			}
			res, err := write(bg, tt.docs, opts...)

			var rejected []*DocumentError
			switch {
			case tt.skip:
				if err != nil {
					t.Fatalf("SkipInvalid: unexpected error %v", err)
				}
				rejected = res.Rejected
			case len(tt.want) == 0:
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
			default:
				var be *BatchError
				if !errors.As(err, &be) || !errors.Is(err, ErrInvalidDocument) {
					t.Fatalf("got %v, want a *BatchError matching ErrInvalidDocument", err)
				}
				var first *DocumentError
				if !errors.As(err, &first) || first.Index != tt.want[0].index {
					t.Errorf("errors.As DocumentError: %v, want document %d", first, tt.want[0].index)
				}
				if be.Total != len(tt.docs) || be.Collection != "c" {
					t.Errorf("BatchError Total %d Collection %q", be.Total, be.Collection)
				}
				if res.IDs != nil || res.Rejected != nil {
					t.Errorf("failed write returned a result %+v", res)
				}
				rejected = be.Rejected
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), fmt.Sprintf("document %d", w.index)) {
						t.Errorf("message does not name document %d: %v", w.index, err)
					}
				}
			}
			if len(rejected) != len(tt.want) {
				t.Fatalf("rejected %d documents, want %d: %v", len(rejected), len(tt.want), rejected)
			}
			bad := map[int]bool{}
			for i, w := range tt.want {
				de := rejected[i]
				bad[w.index] = true
				if de.Index != w.index || de.ID != tt.docs[w.index].ID {
					t.Errorf("rejection %d: document %d (%q), want %d (%q)", i, de.Index, de.ID, w.index, tt.docs[w.index].ID)
				}
				if !errors.Is(de, ErrInvalidDocument) || (w.is != nil && !errors.Is(de, w.is)) {
					t.Errorf("rejection %d: %v, want ErrInvalidDocument and %v", i, de, w.is)
				}
			}

			// What was stored: nothing unless SkipInvalid or no rejection,
			// then exactly the documents not rejected.
			n, _ := c.Count(bg, nil)
			stored := 0
			for i, doc := range tt.docs {
				if (tt.skip || len(tt.want) == 0) && !bad[i] {
					stored++
					if res.IDs[i] == "" || (doc.ID != "" && res.IDs[i] != doc.ID) {
						t.Errorf("IDs[%d] = %q for stored document %q", i, res.IDs[i], doc.ID)
					}
					got, err := c.Get(bg, res.IDs[i])
					if err != nil || got[0].Text != doc.Text {
						t.Errorf("stored document %d: %v %v", i, got, err)
					}
				} else if tt.skip && res.IDs[i] != "" {
					t.Errorf("IDs[%d] = %q for a rejected document", i, res.IDs[i])
				}
			}
			replaced := 0
			if tt.upsert {
				for _, doc := range tt.docs {
					if strings.HasPrefix(doc.ID, "old-") {
						replaced++
					}
				}
			}
			if want := len(existing) + stored - replaced; n != want {
				t.Errorf("count %d, want %d", n, want)
			}
			// The index holds what the file holds.
			hits, err := c.Search(bg, "fine valid new replaced already here", TopK(100))
			if err != nil || len(hits) != n {
				t.Errorf("search found %d of %d documents: %v", len(hits), n, err)
			}
		})
	}
}

// TestBatchFailureNotBlamed checks that an embedder failing on batches but
// on no text alone fails the write whole, with SkipInvalid too, rather
// than rejecting every document.
func TestBatchFailureNotBlamed(t *testing.T) {
	emb := failOnEmbedder{hashEmbedder: newHashEmbedder("hash-a", 32), together: true}
	d, _ := openTest(t, WithEmbedder(emb), WithEmbedBatchSize(4))
	c := mustCollection(t, d, "c")
	docs := []Document{{ID: "a", Text: "one"}, {ID: "b", Text: "two"}}
	// Each text embeds alone, so blame finds no culprit, and the vectors
	// it made are not used: the batch's error stands.
	_, err := c.InsertWith(bg, docs, SkipInvalid())
	var de *DocumentError
	if err == nil || errors.As(err, &de) || errors.Is(err, ErrInvalidDocument) || !strings.Contains(err.Error(), "out of memory") {
		t.Fatalf("got %v, want the embedder's batch error", err)
	}
	if n, _ := c.Count(bg, nil); n != 0 {
		t.Fatalf("count %d after a failed write", n)
	}
}

// TestBatchErrorMessage checks that a batch error's message lists a
// bounded number of documents and says how many it left out.
func TestBatchErrorMessage(t *testing.T) {
	d, _ := openTest(t, WithEmbedder(newHashEmbedder("hash-a", 32)))
	c := mustCollection(t, d, "c")
	docs := make([]Document, 25)
	for i := range docs {
		docs[i] = Document{ID: fmt.Sprint("d", i), Text: ""}
	}
	_, err := c.Insert(bg, docs...)
	var be *BatchError
	if !errors.As(err, &be) || len(be.Rejected) != 25 {
		t.Fatalf("got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"25 of 25 documents rejected", `document 9 (id "d9")`, "and 15 more"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, `"d10"`) {
		t.Errorf("message lists more than %d documents: %s", maxListedIDs, msg)
	}
	// One rejection reads as the DocumentError itself.
	_, err = c.Insert(bg, Document{ID: "x", Text: "ok"}, Document{ID: "y"})
	if want := `vecbolt: document 1 (id "y"): invalid document: text is empty and no vector is given`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestBatchRejectionsBuiltin runs the rejection of texts a model cannot
// embed through the real built-in model. The default configuration embeds
// every text that is not blank (its fallback for texts with no known
// token), so the rejecting model here is the built-in one with the
// fallback turned off, which fails on such texts with ErrNoTokens as the
// default once did.
func TestBatchRejectionsBuiltin(t *testing.T) {
	if !hasBuiltinModel {
		t.Skip("built with vecbolt_nomodel")
	}
	strict, err := builtin.New(static.WithFallback(false))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Open(filepath.Join(t.TempDir(), "builtin.vecbolt"), WithEmbedder(strict))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c := mustCollection(t, d, "c")
	docs := []Document{{ID: "a", Text: "rivers and lakes"}, {ID: "b", Text: "ᚠᚢᚦ"}, {ID: "c", Text: "mountains"}, {ID: "d", Text: "🙂"}}
	_, err = c.Insert(bg, docs...)
	var be *BatchError
	if !errors.As(err, &be) || len(be.Rejected) != 2 || !errors.Is(err, static.ErrNoTokens) {
		t.Fatalf("Insert: got %v, want two rejections for texts without tokens", err)
	}
	res, err := c.InsertWith(bg, docs, SkipInvalid())
	if err != nil {
		t.Fatal(err)
	}
	var idx []int
	for _, de := range res.Rejected {
		idx = append(idx, de.Index)
		if !errors.Is(de, static.ErrNoTokens) || !errors.Is(de, ErrInvalidDocument) {
			t.Errorf("rejection %v", de)
		}
	}
	if !slices.Equal(idx, []int{1, 3}) || !slices.Equal(res.IDs, []string{"a", "", "c", ""}) {
		t.Fatalf("rejected %v, IDs %q", idx, res.IDs)
	}
	hits, err := c.Search(bg, "lake", TopK(5))
	if err != nil || len(hits) != 2 || hits[0].ID != "a" {
		t.Fatalf("search: %v %v", hits, err)
	}
}

// TestBuiltinStoresUnknownText checks that the default model stores texts
// with no token in its vocabulary (emoji, symbols, Runic, a CJK character
// it lacks), which it used to reject, and that each is found first by a
// search for its own text without disturbing searches by meaning.
func TestBuiltinStoresUnknownText(t *testing.T) {
	if !hasBuiltinModel {
		t.Skip("built with vecbolt_nomodel")
	}
	d, err := Open(filepath.Join(t.TempDir(), "builtin.vecbolt")) // the default model
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c := mustCollection(t, d, "c")
	docs := []Document{{ID: "a", Text: "rivers and lakes"}, {ID: "b", Text: "ᚠᚢᚦ"}, {ID: "c", Text: "mountains"},
		{ID: "d", Text: "🙂"}, {ID: "e", Text: "☃ ±"}, {ID: "f", Text: "鑫"}}
	ids, err := c.Insert(bg, docs...)
	if err != nil || len(ids) != len(docs) {
		t.Fatalf("Insert: %v %v", ids, err)
	}
	for _, doc := range docs {
		// Vector mode: the scores checked below are the model's.
		hits, err := c.Search(bg, doc.Text, TopK(3), WithMode(ModeVector))
		if err != nil || len(hits) == 0 || hits[0].ID != doc.ID {
			t.Errorf("search %q: %v %v, want %s first", doc.Text, hits, err, doc.ID)
		}
		// A one-word query by a known word uses the query rows, so only
		// the fallback texts score exactly 1 against themselves.
		if unknown := strings.IndexFunc(doc.Text, unicode.IsLower) < 0; unknown && err == nil && len(hits) > 0 && hits[0].Score < 0.999 {
			t.Errorf("search %q: score %v, want 1", doc.Text, hits[0].Score)
		}
	}
	hits, err := c.Search(bg, "lake", TopK(1))
	if err != nil || len(hits) != 1 || hits[0].ID != "a" {
		t.Errorf("search \"lake\": %v %v, want a", hits, err)
	}
	if _, err := c.Insert(bg, Document{ID: "g", Text: " \n"}); !errors.Is(err, ErrInvalidDocument) {
		t.Errorf("blank text: err = %v, want ErrInvalidDocument", err)
	}
}
