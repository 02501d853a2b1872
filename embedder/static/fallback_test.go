package static

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vecbolt/vecbolt/embedder"
)

// checkUnit fails unless v is finite, of length staticDim and unit norm.
func checkUnit(t *testing.T, what string, v []float32) {
	t.Helper()
	if len(v) != staticDim {
		t.Fatalf("%s: length %d", what, len(v))
	}
	var n float64
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			t.Fatalf("%s: non-finite %v", what, v)
		}
		n += float64(x) * float64(x)
	}
	if math.Abs(n-1) > 1e-4 {
		t.Fatalf("%s: norm² %v, want 1", what, n)
	}
}

// TestStaticFallback checks that a non-blank text pooling cannot embed
// (no known token) gets a vector: finite, unit length, the same every
// time and on every path, different for different texts, and that texts
// with a known token keep exactly the vector they had.
func TestStaticFallback(t *testing.T) {
	ctx := context.Background()
	tok := staticTestTokenizer(t)
	m, err := New(tok, staticRows(), staticDim)
	if err != nil {
		t.Fatal(err)
	}
	strict, err := New(tok, staticRows(), staticDim, WithFallback(false))
	if err != nil {
		t.Fatal(err)
	}
	if m.Identity() != strict.Identity() {
		t.Errorf("the fallback changes the identity: %v vs %v", m.Identity(), strict.Identity())
	}
	unknown := []struct{ name, text string }{
		{"emoji", "🙂"},
		{"other emoji", "🙃"},
		{"two emoji, one word", "🙂🙃"},
		{"two emoji, two words", "🙂 🙃"},
		{"symbols", "☃ € ± °"},
		{"runic", "ᚠᚢᚦ"},
		{"runic reversed", "ᚦᚢᚠ"},
		{"CJK outside the vocabulary", "猫"},
		{"unknown Latin word", "zebra"},
		{"only characters the tokenizer removes", "\u200b\u00ad"},
		{"invalid UTF-8", "\xff\xfe"},
		{"other invalid UTF-8", "\xfe\xff"},
		{"long unknown word", "supercalifragilisticexpialidocious"},
	}
	var vecs [][]float32
	for _, c := range unknown {
		t.Run(c.name, func(t *testing.T) {
			if _, err := strict.EmbedQuery(ctx, c.text); err == nil {
				t.Fatalf("%q has a known token; the case does not test the fallback", c.text)
			}
			v, err := m.EmbedQuery(ctx, c.text)
			if err != nil {
				t.Fatalf("EmbedQuery(%q): %v", c.text, err)
			}
			checkUnit(t, c.text, v)
			again, err := m.EmbedQuery(ctx, c.text)
			if err != nil || !slices.Equal(v, again) {
				t.Fatalf("second embedding differs: %v vs %v (%v)", v, again, err)
			}
			docs, err := m.EmbedDocuments(ctx, []string{"cat", c.text})
			if err != nil || !slices.Equal(docs[1], v) {
				t.Fatalf("EmbedDocuments gives %v, EmbedQuery %v (%v)", docs, v, err)
			}
			dst := make([]float32, staticDim)
			if err := m.Embed(c.text, dst); err != nil || !slices.Equal(dst, v) {
				t.Fatalf("Embed gives %v, EmbedQuery %v (%v)", dst, v, err)
			}
			spaced, err := m.EmbedQuery(ctx, "  "+c.text+"\n")
			if err != nil || !slices.Equal(spaced, v) {
				t.Fatalf("surrounding space changes the vector: %v vs %v (%v)", spaced, v, err)
			}
			vecs = append(vecs, v)
		})
	}
	if len(vecs) == len(unknown) {
		for i := range vecs {
			for j := range i {
				if slices.Equal(vecs[i], vecs[j]) {
					t.Errorf("%q and %q get the same vector", unknown[i].text, unknown[j].text)
				}
			}
		}
	}

	// Texts with a known token are pooled exactly as before; unknown
	// tokens among known ones are dropped, not hashed.
	for _, text := range []string{"cat", "the cat runs", "cat 🙂", "ᚠᚢᚦ dog ☃", "playing"} {
		got, err := m.EmbedQuery(ctx, text)
		if err != nil {
			t.Fatal(err)
		}
		want, err := strict.EmbedQuery(ctx, text)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%q: %v with the fallback, %v (%v) without", text, got, want, err)
		}
	}
	cat, _ := m.EmbedQuery(ctx, "cat")
	if mixed, _ := m.EmbedQuery(ctx, "cat 🙂"); !slices.Equal(mixed, cat) {
		t.Errorf("\"cat 🙂\" = %v, want the vector of \"cat\" %v", mixed, cat)
	}
	for _, text := range []string{"", " ", "\t\n\u3000"} {
		if _, err := m.EmbedQuery(ctx, text); err != embedder.ErrEmptyText {
			t.Errorf("%q: err = %v, want embedder.ErrEmptyText", text, err)
		}
	}
}

// fallbackRowsByDefinition lists the rows the fallback should average for
// text, from the definition in the Model doc: per whitespace-separated
// word, with begin and end markers, its character bigrams and trigrams,
// each hashed with FNV-1a to one of the model's non-zero rows.
func fallbackRowsByDefinition(s *Model, text string) []int32 {
	const begin, end = 0xFFFFFFFF, 0xFFFFFFFE
	var rows []int32
	fb := s.fallbackRows()
	pick := func(h uint64) { rows = append(rows, fb[h%uint64(len(fb))]) }
	for _, w := range strings.Fields(text) {
		codes := []uint32{begin}
		for _, r := range w {
			codes = append(codes, uint32(r))
		}
		codes = append(codes, end)
		for i := 1; i < len(codes); i++ {
			pick(fnvCodes(codes[i-1 : i+1]))
			if i >= 2 {
				pick(fnvCodes(codes[i-2 : i+1]))
			}
		}
	}
	return rows
}

// fnvCodes is FNV-1a 64 over len(codes), then each code as 4
// little-endian bytes.
func fnvCodes(codes []uint32) uint64 {
	h := uint64(14695981039346656037)
	h = (h ^ uint64(len(codes))) * 1099511628211
	for _, c := range codes {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], c)
		for _, x := range b {
			h = (h ^ uint64(x)) * 1099511628211
		}
	}
	return h
}

// TestStaticFallbackRows checks the fallback against its definition (the
// normalized mean of the hashed rows, or the plain mean for a model that
// does not normalize), that it uses only non-zero rows, that it returns one
// row alone when the hashed rows cancel, and that a model with no non-zero
// row returns ErrNoTokens.
func TestStaticFallbackRows(t *testing.T) {
	ctx := context.Background()
	tok := staticTestTokenizer(t)
	n := len(staticVocab)
	emb := staticRows()
	for _, normalize := range []bool{true, false} {
		m, err := New(tok, emb, staticDim, WithNormalize(normalize))
		if err != nil {
			t.Fatal(err)
		}
		for _, text := range []string{"🙂", "ᚠᚢᚦ ☃", "zebra zebu", "猫"} {
			rows := fallbackRowsByDefinition(m, text)
			want := make([]float64, staticDim)
			for _, r := range rows {
				for j := range staticDim {
					want[j] += float64(emb[int(r)*staticDim+j])
				}
			}
			div := float64(len(rows))
			if normalize {
				var ss float64
				for _, x := range want {
					ss += x * x
				}
				div = math.Sqrt(ss)
			}
			for j := range want {
				want[j] /= div
			}
			got, err := m.EmbedQuery(ctx, text)
			if err != nil {
				t.Fatalf("%q: %v", text, err)
			}
			staticCloseTo(t, got, want, 1e-5)
		}
	}

	// Two non-zero rows, opposite (rows of "cat" and "dog"); every other
	// row is zero and must never be picked.
	u := []float32{0.6, 0, 0.8, 0}
	opposite := make([]float32, n*staticDim)
	copy(opposite[5*staticDim:], u)
	for j, x := range u {
		opposite[6*staticDim+j] = -x
	}
	m, err := New(tok, opposite, staticDim)
	if err != nil {
		t.Fatal(err)
	}
	if fb := m.fallbackRows(); !slices.Equal(fb, []int32{5, 6}) {
		t.Fatalf("fallback rows %v, want the two non-zero rows [5 6]", fb)
	}
	cancelling := ""
	for i := 0; i < 1000 && cancelling == ""; i++ {
		text := fmt.Sprintf("z%d q%d", i, 7*i)
		sum := 0
		for _, r := range fallbackRowsByDefinition(m, text) {
			sum += 11 - 2*int(r) // +1 for row 5, -1 for row 6
		}
		if sum == 0 {
			cancelling = text
		}
	}
	if cancelling == "" {
		t.Fatal("no test text cancels")
	}
	v, err := m.EmbedQuery(ctx, cancelling)
	if err != nil {
		t.Fatalf("%q (hashed rows cancel): %v", cancelling, err)
	}
	checkUnit(t, cancelling, v)
	if first := fallbackRowsByDefinition(m, cancelling)[0]; !slices.Equal(v, opposite[int(first)*staticDim:int(first+1)*staticDim]) {
		t.Errorf("%q: %v, want the first hashed row %d alone", cancelling, v, first)
	}
	// Known tokens whose rows cancel take the fallback too.
	if v, err := m.EmbedQuery(ctx, "cat dog"); err != nil {
		t.Errorf("\"cat dog\" (rows cancel): %v", err)
	} else {
		checkUnit(t, "cat dog", v)
	}

	mz, err := New(tok, make([]float32, n*staticDim), staticDim)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mz.EmbedQuery(ctx, "🙂"); !errors.Is(err, ErrNoTokens) {
		t.Errorf("all-zero model: err = %v, want ErrNoTokens", err)
	}
}

// TestStaticFallbackConcurrent has goroutines take the fallback of a fresh
// model at once (the first use lists the usable rows); run with -race.
func TestStaticFallbackConcurrent(t *testing.T) {
	m, err := New(staticTestTokenizer(t), staticRows(), staticDim)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"🙂", "ᚠᚢᚦ", "☃", "猫 🙃"}
	want := make([][]float32, len(texts))
	var wg sync.WaitGroup
	got := make([][][]float32, 4)
	for g := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, text := range texts {
				v, err := m.EmbedQuery(context.Background(), text)
				if err != nil {
					t.Error(err)
					return
				}
				got[g] = append(got[g], v)
			}
		}()
	}
	wg.Wait()
	for i, text := range texts {
		want[i], _ = m.EmbedQuery(context.Background(), text)
		for g := range got {
			if len(got[g]) == len(texts) && !slices.Equal(got[g][i], want[i]) {
				t.Errorf("%q: goroutine %d got %v, want %v", text, g, got[g][i], want[i])
			}
		}
	}
}
