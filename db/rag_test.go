package db

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/chunk"
)

func TestGroupPassages(t *testing.T) {
	res := []Result{
		{ID: "a#0", DocID: "a", Score: 0.9},
		{ID: "b#2", DocID: "b", Score: 0.8},
		{ID: "a#3", DocID: "a", Score: 0.7},
		{ID: "a#1", DocID: "a", Score: 0.6},
		{ID: "c#0", DocID: "c", Score: 0.5},
		{ID: "b#0", DocID: "b", Score: 0.4},
	}
	tests := []struct {
		k, perDoc int
		want      string
	}{
		{3, 2, "a:0.9[a#0 a#3] b:0.8[b#2 b#0] c:0.5[c#0]"},
		{2, 1, "a:0.9[a#0] b:0.8[b#2]"},
		{1, 5, "a:0.9[a#0 a#3 a#1]"},
		{9, 3, "a:0.9[a#0 a#3 a#1] b:0.8[b#2 b#0] c:0.5[c#0]"},
	}
	for _, tt := range tests {
		var got []string
		for _, d := range groupPassages(res, tt.k, tt.perDoc) {
			var ps []string
			for _, p := range d.Passages {
				ps = append(ps, p.ID)
			}
			got = append(got, fmt.Sprintf("%s:%g[%s]", d.ID, d.Score, strings.Join(ps, " ")))
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("k=%d perDoc=%d: got %s, want %s", tt.k, tt.perDoc, g, tt.want)
		}
	}
}

// A chunked collection through the public API: grouped search, context
// assembly within a budget, and the errors of what it does not take.
func TestChunkedSearchAndContext(t *testing.T) {
	d, _ := openTest(t)
	c := mustCollection(t, d, "guide", WithChunking(10, 2), WithFlatIndex())
	if f := c.st.Load().cfg.FormatVersion; f != chunkedFormat {
		t.Errorf("chunked collection of format %d, want %d (older builds must refuse it)", f, chunkedFormat)
	}
	docs := []Document{
		{ID: "install.md", Text: "# Install\n\nDownload the archive. Unpack the archive into a folder.\n\n## Debian\n\nRun apt install vecbolt as root. Then check the version.", Metadata: map[string]any{"kind": "guide"}},
		{ID: "faq.md", Text: "# FAQ\n\nWhy is the sky blue? Light scatters in the air.\n\nWhy is the sea salty? Rivers carry salt into it.", Metadata: map[string]any{"kind": "faq"}},
	}
	if _, err := c.InsertWith(bg, docs, PassageFormat(chunk.Markdown)); err != nil {
		t.Fatal(err)
	}
	res, err := c.Search(bg, "apt install on Debian", TopK(100))
	if err != nil {
		t.Fatal(err)
	}
	headed := false
	for _, r := range res {
		if strings.Contains(r.Text, "apt install") && strings.Join(r.Headings, " > ") == "Install > Debian" {
			headed = true
		}
	}
	if !headed {
		t.Errorf("no passage with apt install under Install > Debian: %+v", res)
	}
	passages := map[string]int{} // TopK(100) found every passage
	for _, r := range res {
		passages[r.DocID]++
	}
	groups, err := c.SearchDocuments(bg, "apt install on Debian", TopK(5), PassagesPerDocument(2), WithMode(ModeVector))
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 {
		t.Fatalf("SearchDocuments gave %d documents, want 2: %+v", len(groups), groups)
	}
	q, err := c.st.Load().emb.EmbedQuery(bg, "apt install on Debian")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		whole, err := c.GetFields(bg, FieldVector, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		n := passages[g.ID]
		if n < 2 {
			t.Fatalf("document %q has %d passages; the test needs several to see the length penalty", g.ID, n)
		}
		want := float64(g.Passages[0].Score) + DefaultDocumentWeight*float64(similarity(Cosine, q, whole[0].Vector)) - DefaultLengthPenalty*math.Log(float64(n))
		if math.Abs(float64(g.Score)-want) > 1e-6 {
			t.Errorf("group %q scores %v, want best passage %v + %v × whole-text similarity - %v × ln(%d passages) = %v", g.ID, g.Score, g.Passages[0].Score, DefaultDocumentWeight, DefaultLengthPenalty, n, want)
		}
		if len(g.Passages) == 0 || len(g.Passages) > 2 || g.Metadata["kind"] == nil {
			t.Errorf("group %+v", g)
		}
		for _, p := range g.Passages {
			if p.DocID != g.ID {
				t.Errorf("passage %q in group %q", p.ID, g.ID)
			}
		}
	}
	groups, err = c.SearchDocuments(bg, "apt install on Debian", DocumentWeight(0), LengthPenalty(0), WithMode(ModeVector))
	if err != nil || len(groups) != 2 || groups[0].Score != groups[0].Passages[0].Score || groups[1].Score > groups[0].Score {
		t.Errorf("DocumentWeight(0), LengthPenalty(0): %+v, %v", groups, err)
	}
	groups, err = c.SearchDocuments(bg, "apt install on Debian", DocumentWeight(0), LengthPenalty(0.5), WithMode(ModeVector))
	if err != nil || len(groups) != 2 {
		t.Fatalf("LengthPenalty(0.5): %+v, %v", groups, err)
	}
	for _, g := range groups {
		if want := float64(g.Passages[0].Score) - 0.5*math.Log(float64(passages[g.ID])); math.Abs(float64(g.Score)-want) > 1e-6 {
			t.Errorf("LengthPenalty(0.5): group %q scores %v, want best passage %v - 0.5 × ln(%d) = %v", g.ID, g.Score, g.Passages[0].Score, passages[g.ID], want)
		}
	}
	for _, bad := range []SearchOption{DocumentWeight(-1), DocumentWeight(math.NaN()), LengthPenalty(-0.1), LengthPenalty(math.Inf(1))} {
		if _, err := c.SearchDocuments(bg, "apt install", bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("SearchDocuments with a bad weight or penalty: %v, want ErrInvalidArgument", err)
		}
	}
	groups, err = c.SearchDocuments(bg, "apt install on Debian", WhereExpr(`kind = "faq"`))
	if err != nil || len(groups) != 1 || groups[0].ID != "faq.md" {
		t.Errorf("filtered SearchDocuments = %+v, %v", groups, err)
	}

	texts := map[string]string{docs[0].ID: docs[0].Text, docs[1].ID: docs[1].Text}
	for _, budget := range []int{1, 8, 20, 40, 1000} {
		cx, err := c.Context(bg, "how do I install it", ContextBudget(budget))
		if err != nil {
			t.Fatal(err)
		}
		sum := 0
		for i, p := range cx.Passages {
			if p.Text != texts[p.DocID][p.Start:p.End] {
				t.Errorf("budget %d: passage %d text %q is not %q[%d:%d]", budget, i, p.Text, p.DocID, p.Start, p.End)
			}
			sum += p.Tokens
			for _, q := range cx.Passages[i+1:] {
				if q.DocID == p.DocID && adjacent(texts[p.DocID], p.Start, p.End, q.Start, q.End) {
					t.Errorf("budget %d: passages %+v and %+v overlap or touch: not merged", budget, p, q)
				}
			}
		}
		if sum != cx.Tokens || cx.Tokens > budget {
			t.Errorf("budget %d: %d tokens (passages sum to %d)", budget, cx.Tokens, sum)
		}
		if budget == 1000 {
			// Everything fits: each document comes back whole, merged
			// from its overlapping passages.
			if len(cx.Passages) != 2 {
				t.Fatalf("budget %d: %d passages, want the 2 documents merged: %+v", budget, len(cx.Passages), cx.Passages)
			}
			for _, p := range cx.Passages {
				if p.Start != 0 || p.End != len(texts[p.DocID]) {
					t.Errorf("budget %d: %q bytes %d..%d, want the whole document", budget, p.DocID, p.Start, p.End)
				}
			}
			s := cx.String()
			if !strings.Contains(s, "[1] ") || !strings.Contains(s, "[2] ") || !strings.Contains(s, fmt.Sprintf("(bytes 0-%d)", len(docs[0].Text))) {
				t.Errorf("prompt form:\n%s", s)
			}
		}
	}
	if _, err := c.Context(bg, "x", ContextBudget(0)); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("budget 0: %v", err)
	}

	// What a chunked collection refuses.
	if _, err := c.Insert(bg, Document{ID: "v", Vector: make([]float32, 64)}); !errors.Is(err, ErrInvalidDocument) {
		t.Errorf("document with a vector: %v", err)
	}
	if _, err := d.CreateCollection(bg, "vec", WithDimension(4), WithChunking(10, 2)); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("WithDimension and WithChunking: %v", err)
	}
	for _, bad := range [][2]int{{-1, 0}, {10, 10}, {10, -1}} {
		if _, err := d.CreateCollection(bg, "bad", WithChunking(bad[0], bad[1])); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("WithChunking(%d, %d): %v", bad[0], bad[1], err)
		}
	}
	if err := d.Reembed(bg, "guide", nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("Reembed of a chunked collection: %v", err)
	}
	if n, err := c.Count(bg, nil); err != nil || n != 2 {
		t.Errorf("Count after refusals = %d, %v", n, err)
	}
}
