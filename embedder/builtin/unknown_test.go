package builtin

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/vecbolt/vecbolt/embedder/static"

	"github.com/vecbolt/vecbolt/embedder"
)

// TestEmbedUnknownText checks that the built-in model embeds texts none of
// whose tokens it knows (they were rejected with ErrNoTokens): a finite
// unit vector on every path, the same for a query as for a document, the
// same on every call, different for different texts; and that texts with a
// known token keep their vectors.
func TestEmbedUnknownText(t *testing.T) {
	ctx := context.Background()
	m := newModel(t)
	strict, err := New(static.WithFallback(false))
	if err != nil {
		t.Fatal(err)
	}
	if !strict.Identity().Equal(m.Identity()) {
		t.Fatalf("the fallback changes the identity: %v vs %v", m.Identity(), strict.Identity())
	}
	cases := []struct{ name, text string }{
		{"emoji", "🙂"},
		{"emoji, several words", "🙂 🎉 🚀"},
		{"symbols", "☃ ± ∞ ⌘"},
		{"runic", "ᚠᚢᚦ"},
		{"runic, other letters", "ᚱᚲᚷ"},
		{"hieroglyph", "𓀀"},
		{"CJK outside the vocabulary", "鑫"},
		{"Thai", "ภาษาไทย"},
	}
	var docs [][]float32
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := strict.EmbedDocuments(ctx, []string{c.text}); !errors.Is(err, static.ErrNoTokens) {
				t.Fatalf("%q without the fallback: err = %v, want ErrNoTokens (the case must be all-unknown)", c.text, err)
			}
			d, err := m.EmbedDocuments(ctx, []string{c.text})
			if err != nil {
				t.Fatalf("EmbedDocuments(%q): %v", c.text, err)
			}
			v := d[0]
			var n float64
			for _, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("%q: non-finite vector", c.text)
				}
				n += float64(x) * float64(x)
			}
			if math.Abs(n-1) > 1e-4 {
				t.Fatalf("%q: norm² %v", c.text, n)
			}
			q, err := m.EmbedQuery(ctx, c.text)
			if err != nil {
				t.Fatalf("EmbedQuery(%q): %v", c.text, err)
			}
			if d := dot(q, v); d < 0.9999 {
				t.Errorf("%q (one word: %v): query·document = %v, want 1", c.text, OneWord(c.text), d)
			}
			into := make([]float32, Dim)
			if err := m.Embed(c.text, into); err != nil || !slices.Equal(into, v) {
				t.Errorf("%q: Embed differs from EmbedDocuments (%v)", c.text, err)
			}
			if err := m.EmbedQueryInto(c.text, into); err != nil || !slices.Equal(into, q) {
				t.Errorf("%q: EmbedQueryInto differs from EmbedQuery (%v)", c.text, err)
			}
			again, err := m.EmbedDocuments(ctx, []string{c.text})
			if err != nil || !slices.Equal(again[0], v) {
				t.Errorf("%q: second embedding differs (%v)", c.text, err)
			}
			docs = append(docs, v)
		})
	}
	if len(docs) == len(cases) {
		for i := range docs {
			for j := range i {
				if slices.Equal(docs[i], docs[j]) {
					t.Errorf("%q and %q get the same vector", cases[i].text, cases[j].text)
				}
			}
		}
	}

	// Known tokens decide alone, as before; unknown ones are dropped.
	for _, pair := range [][2]string{{"rivers and lakes 🙂", "rivers and lakes"}, {"ᚠᚢᚦ mountains", "mountains"}} {
		got, err := m.EmbedDocuments(ctx, pair[:])
		if err != nil {
			t.Fatal(err)
		}
		want, err := strict.EmbedDocuments(ctx, pair[1:])
		if err != nil || !slices.Equal(got[0], got[1]) || !slices.Equal(got[1], want[0]) {
			t.Errorf("%q: vector changed by the fallback or by its unknown tokens (%v)", pair[0], err)
		}
	}
	if _, err := m.EmbedDocuments(ctx, []string{"ok", " \n"}); !errors.Is(err, embedder.ErrEmptyText) {
		t.Errorf("blank text: err = %v, want ErrEmptyText", err)
	}
}
