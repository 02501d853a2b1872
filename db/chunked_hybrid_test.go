package db

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/storage"
)

// Keyword and hybrid search on a chunked collection: results are passages
// with their document, offsets and own text; SearchDocuments groups them
// in every mode, and in hybrid fuses the document rankings of the two
// others; an upsert or delete takes the document's old passages out of
// the keyword index.
func TestChunkedKeywordAndHybrid(t *testing.T) {
	d, _ := openTest(t)
	c := mustCollection(t, d, "long", WithChunking(8, 0), WithFlatIndex())
	docs := []Document{
		{ID: "a", Text: "The river runs past the old mill. Salmon climb the weir in autumn.\n\nA copper lantern hangs by the door of the miller's house."},
		{ID: "b", Text: "Glaciers carve valleys slowly. The ice moves a few metres each year.\n\nMeltwater feeds the river below the glacier."},
		{ID: "c", Text: "The violin maker seasons spruce for ten years before carving a top."},
	}
	if _, err := c.Insert(bg, docs...); err != nil {
		t.Fatal(err)
	}
	text := map[string]string{}
	for _, doc := range docs {
		text[doc.ID] = doc.Text
	}
	checkPassage := func(what string, r Result) {
		t.Helper()
		doc, ok := text[r.DocID]
		if !ok || parentOf(r.ID) != r.DocID || r.Start >= r.End || r.End > len(doc) || r.Text != doc[r.Start:r.End] {
			t.Errorf("%s: result %q of %q bytes %d..%d text %q", what, r.ID, r.DocID, r.Start, r.End, r.Text)
		}
	}
	tests := []struct {
		mode  Mode
		query string
		want  []string // documents whose passages must be found, best first for keyword
	}{
		{ModeKeyword, "salmon", []string{"a"}},
		{ModeKeyword, "lantern", []string{"a"}},
		{ModeKeyword, "meltwater river", []string{"b", "a"}},
		{ModeHybrid, "spruce violin", []string{"c"}},
		{ModeDefault, "copper lantern", []string{"a"}},
	}
	for _, tt := range tests {
		res, err := c.Search(bg, tt.query, WithMode(tt.mode), WithExplain())
		if err != nil {
			t.Fatalf("%v %q: %v", tt.mode, tt.query, err)
		}
		if len(res) == 0 || res[0].DocID != tt.want[0] {
			t.Fatalf("%v %q: %+v, want a passage of %q first", tt.mode, tt.query, res, tt.want[0])
		}
		for _, r := range res {
			checkPassage(tt.mode.String()+" "+tt.query, r)
			if r.Explain == nil {
				t.Errorf("%v %q: %q has no explanation", tt.mode, tt.query, r.ID)
			}
		}
		if tt.mode == ModeKeyword {
			// The matching passage, not the whole document: its text
			// holds a query word.
			words := strings.Fields(tt.query)
			if !slices.ContainsFunc(words, func(w string) bool { return strings.Contains(strings.ToLower(res[0].Text), w) }) {
				t.Errorf("keyword %q: best passage %q holds none of the words", tt.query, res[0].Text)
			}
			var got []string
			for _, r := range res {
				if !slices.Contains(got, r.DocID) {
					got = append(got, r.DocID)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("keyword %q: documents %v, want %v", tt.query, got, tt.want)
			}
		}
		// IDs only: the document is still known.
		res, err = c.Search(bg, tt.query, WithMode(tt.mode), WithFields())
		if err != nil || len(res) == 0 || res[0].DocID != tt.want[0] || res[0].Text != "" {
			t.Errorf("%v %q WithFields(): %+v, %v", tt.mode, tt.query, res, err)
		}
	}

	// SearchDocuments in each mode.
	for _, mode := range []Mode{ModeVector, ModeKeyword, ModeHybrid, ModeDefault} {
		groups, err := c.SearchDocuments(bg, "river", WithMode(mode), PassagesPerDocument(2), TopK(3))
		if err != nil {
			t.Fatalf("SearchDocuments %v: %v", mode, err)
		}
		if len(groups) == 0 {
			t.Fatalf("SearchDocuments %v: nothing", mode)
		}
		for i, g := range groups {
			if len(g.Passages) == 0 || len(g.Passages) > 2 || (i > 0 && g.Score > groups[i-1].Score) {
				t.Errorf("SearchDocuments %v: group %d %+v", mode, i, g)
			}
			for _, p := range g.Passages {
				if p.DocID != g.ID {
					t.Errorf("SearchDocuments %v: passage %q in %q", mode, p.ID, g.ID)
				}
				checkPassage("SearchDocuments", p)
			}
		}
		if mode == ModeKeyword {
			// BM25 alone: a document scores its best passage; only a and
			// b mention the river.
			ids := []string{groups[0].ID}
			if len(groups) > 1 {
				ids = append(ids, groups[1].ID)
			}
			slices.Sort(ids)
			if len(groups) != 2 || !slices.Equal(ids, []string{"a", "b"}) || groups[0].Score != groups[0].Passages[0].Score {
				t.Errorf("keyword SearchDocuments: %+v", groups)
			}
		}
	}
	// Hybrid fuses the two document rankings: with alpha 1 it is the
	// vector ranking (DocumentWeight included), with alpha 0 the keyword
	// one.
	for _, tc := range []struct {
		alpha float64
		side  Mode
	}{{1, ModeVector}, {0, ModeKeyword}} {
		fusedDocs, err := c.SearchDocuments(bg, "river glacier", WithMode(ModeHybrid), WithAlpha(tc.alpha), WithFusion(FusionRRF))
		if err != nil {
			t.Fatal(err)
		}
		sideDocs, err := c.SearchDocuments(bg, "river glacier", WithMode(tc.side))
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, g := range fusedDocs {
			got = append(got, g.ID)
		}
		for _, g := range sideDocs {
			want = append(want, g.ID)
		}
		if !slices.Equal(got[:len(want)], want) {
			t.Errorf("hybrid with alpha %v ranks %v, the %v side %v", tc.alpha, got, tc.side, want)
		}
	}

	// Replacing a document takes its old passages out of the keyword
	// index; deleting one takes all of them.
	if _, err := c.Upsert(bg, Document{ID: "a", Text: "A quiet pond with reeds and frogs."}); err != nil {
		t.Fatal(err)
	}
	text["a"] = "A quiet pond with reeds and frogs."
	for _, q := range []string{"salmon", "lantern"} {
		if res, err := c.Search(bg, q, WithMode(ModeKeyword)); err != nil || len(res) != 0 {
			t.Errorf("keyword %q after the upsert: %+v, %v", q, res, err)
		}
	}
	if res, err := c.Search(bg, "frogs", WithMode(ModeKeyword)); err != nil || len(res) != 1 || res[0].DocID != "a" {
		t.Errorf("keyword frogs after the upsert: %+v, %v", res, err)
	}
	if n, err := c.Delete(bg, "b"); err != nil || n != 1 {
		t.Fatalf("delete: %d, %v", n, err)
	}
	if res, err := c.Search(bg, "glacier meltwater", WithMode(ModeKeyword)); err != nil || len(res) != 0 {
		t.Errorf("keyword search after the delete: %+v, %v", res, err)
	}
	if rep, err := d.Check(bg); err != nil || !rep.OK() {
		t.Fatalf("check: %v %+v", err, rep.Problems)
	}
}

// A chunked collection whose file has no keyword index yet (as one
// written before the index, simulated by removing it) gets one built on
// the first writable open, with every passage indexed with its own text.
func TestChunkedFullTextUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.vecbolt")
	var opts []Option
	if !hasBuiltinModel {
		opts = []Option{WithEmbedder(newHashEmbedder("hash-a", 64))}
	}
	d, err := Open(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	c := mustCollection(t, d, "long", WithChunking(8, 0), WithFlatIndex())
	if _, err := c.Insert(bg, Document{ID: "a", Text: "The river runs past the old mill. Salmon climb the weir in autumn. A copper lantern hangs by the door."}); err != nil {
		t.Fatal(err)
	}
	err = d.store.Update(func(tx *storage.Tx) error {
		ct, err := tx.Collection("long")
		if err != nil {
			return err
		}
		cfg, err := ct.Config()
		if err != nil {
			return err
		}
		cfg.FullText = nil
		if err := ct.DropFullText(); err != nil {
			return err
		}
		return ct.PutConfig(cfg)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	var events []FullTextBuildEvent
	d, err = Open(path, append(opts, WithFullTextBuildLog(func(e FullTextBuildEvent) { events = append(events, e) }))...)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err = d.Collection(bg, "long")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 || !events[len(events)-1].Finished {
		t.Errorf("no build reported: %+v", events)
	}
	res, err := c.Search(bg, "lantern", WithMode(ModeKeyword))
	if err != nil || len(res) != 1 || res[0].DocID != "a" || !strings.Contains(res[0].Text, "lantern") || strings.Contains(res[0].Text, "Salmon") {
		t.Errorf("keyword search after the build: %+v, %v", res, err)
	}
	if rep, err := d.Check(bg); err != nil || !rep.OK() {
		t.Fatalf("check after the build: %v %+v", err, rep.Problems)
	}
}
