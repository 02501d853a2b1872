package static

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/safetensors"
)

// wvEntry is one word and its vector, for the writers below.
type wvEntry struct {
	word string
	vec  []float32
}

// wvTable is a small lower-case table: distinct, non-axis vectors.
var wvTable = []wvEntry{
	{"the", []float32{1, 0, 0}},
	{"cat", []float32{0, 2, 0}},
	{"sat", []float32{0, 0, 3}},
	{"don't", []float32{1, 1, 0}},
	{"state", []float32{0, 1, 1}},
	{"art", []float32{-1, 0, 1}},
	{"café", []float32{0.5, -0.25, 2}},
	{"猫", []float32{2, 2, 2}},
}

func fmtVec(v []float32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, " ")
}

func gloveText(t []wvEntry) string {
	var b strings.Builder
	for _, e := range t {
		fmt.Fprintf(&b, "%s %s\n", e.word, fmtVec(e.vec))
	}
	return b.String()
}

func w2vText(t []wvEntry) string {
	return fmt.Sprintf("%d %d\n", len(t), len(t[0].vec)) + gloveText(t)
}

// fastTextVec writes fastText's .vec layout: a trailing space on every
// line; here also a BOM and CRLF endings, which editors add.
func fastTextVec(t []wvEntry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\ufeff%d %d\r\n", len(t), len(t[0].vec))
	for _, e := range t {
		fmt.Fprintf(&b, "%s %s \r\n", e.word, fmtVec(e.vec))
	}
	return b.String()
}

// w2vBinary writes word2vec's binary layout; newline adds the C tool's
// "\n" after each vector.
func w2vBinary(t []wvEntry, newline bool) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d %d\n", len(t), len(t[0].vec))
	for _, e := range t {
		b.WriteString(e.word + " ")
		for _, v := range e.vec {
			binary.Write(&b, binary.LittleEndian, v)
		}
		if newline {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestReadWordVectorsFormats reads the same table in every format and
// checks the detected format and every stored vector.
func TestReadWordVectorsFormats(t *testing.T) {
	tests := []struct {
		name   string
		data   []byte
		format WordFormat
	}{
		{"glove", []byte(gloveText(wvTable)), FormatGloVe},
		{"word2vec text", []byte(w2vText(wvTable)), FormatWord2VecText},
		{"fastText vec with BOM, CRLF, trailing spaces", []byte(fastTextVec(wvTable)), FormatWord2VecText},
		{"word2vec binary", w2vBinary(wvTable, false), FormatWord2VecBinary},
		{"word2vec binary, newline after each vector", w2vBinary(wvTable, true), FormatWord2VecBinary},
		{"gzip glove", gz(t, []byte(gloveText(wvTable))), FormatGloVe},
		{"gzip binary", gz(t, w2vBinary(wvTable, true)), FormatWord2VecBinary},
		{"glove with blank lines", []byte("\n" + strings.ReplaceAll(gloveText(wvTable), "\n", "\n\n")), FormatGloVe},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ReadWordVectors(bytes.NewReader(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if m.Format() != tc.format || m.Dim() != 3 || m.Len() != len(wvTable) || m.Duplicates() != 0 {
				t.Fatalf("format %s dim %d len %d dups %d", m.Format(), m.Dim(), m.Len(), m.Duplicates())
			}
			for _, e := range wvTable {
				v, ok := m.Vector(e.word)
				if !ok || fmtVec(v) != fmtVec(e.vec) {
					t.Errorf("%q: %v %v, want %v", e.word, v, ok, e.vec)
				}
			}
		})
	}
}

// TestReadWordVectorsBinaryDetection: a binary file whose first vector's
// bytes happen to start with digit characters is still binary (the
// first non-number byte decides), and a text file with a header whose
// numbers use exponents and signs is text.
func TestReadWordVectorsBinaryDetection(t *testing.T) {
	// 0x30303030 = "0000" as bytes, a valid float (≈ 6.4e-10).
	tricky := []wvEntry{{"a", []float32{math.Float32frombits(0x30303030), 0.5}}, {"b", []float32{1, 2}}}
	m, err := ReadWordVectors(bytes.NewReader(w2vBinary(tricky, false)))
	if err != nil || m.Format() != FormatWord2VecBinary {
		t.Fatalf("%v %v", m, err)
	}
	// A first vector whose first byte is a newline (and then a digit and
	// a space: "\n", then "5 " as the next float's low bytes).
	for _, bits := range [][2]uint32{{0x3f80000a, 0x3f802035}, {0x3f80000a, 0x3f800000}, {0x3f80350a, 0x3f802035}} {
		nl := []wvEntry{{"a", []float32{math.Float32frombits(bits[0]), math.Float32frombits(bits[1])}}, {"b", []float32{1, 2}}}
		m, err := ReadWordVectors(bytes.NewReader(w2vBinary(nl, false)))
		if err != nil || m.Format() != FormatWord2VecBinary {
			t.Fatalf("%x: %v %v", bits, m, err)
		}
		if v, _ := m.Vector("a"); math.Float32bits(v[0]) != bits[0] {
			t.Errorf("a = %v", v)
		}
	}
	txt := "2 2\na -1e-3 +2.5E+1\nb 1 2\n"
	m, err = ReadWordVectors(strings.NewReader(txt))
	if err != nil || m.Format() != FormatWord2VecText {
		t.Fatalf("%v %v", m, err)
	}
	if v, _ := m.Vector("a"); v[0] != -1e-3 || v[1] != 25 {
		t.Errorf("a = %v", v)
	}
}

// TestReadWordVectorsGloVeSpaces: GloVe's 840B file holds words with
// spaces; the last dim fields are the numbers.
func TestReadWordVectorsGloVeSpaces(t *testing.T) {
	m, err := ReadWordVectors(strings.NewReader("the 1 2\n. . . 3 4\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := m.Vector(". . ."); !ok || v[0] != 3 || v[1] != 4 {
		t.Errorf("%v %v", v, ok)
	}
}

func TestReadWordVectorsDuplicates(t *testing.T) {
	for _, data := range [][]byte{
		[]byte("a 1 2\nb 3 4\na 5 6\n"),
		w2vBinary([]wvEntry{{"a", []float32{1, 2}}, {"b", []float32{3, 4}}, {"a", []float32{5, 6}}}, true),
	} {
		m, err := ReadWordVectors(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := m.Vector("a"); m.Len() != 2 || m.Duplicates() != 1 || v[0] != 1 || v[1] != 2 {
			t.Errorf("%s: len %d dups %d a=%v, want the first vector kept", m.Format(), m.Len(), m.Duplicates(), v)
		}
		if v, _ := m.Vector("b"); v[0] != 3 {
			t.Errorf("b = %v", v)
		}
	}
}

// TestReadWordVectorsMalformed: each fault gives an ErrWordVectors error
// naming the place and the fault.
func TestReadWordVectorsMalformed(t *testing.T) {
	bin := w2vBinary([]wvEntry{{"ab", []float32{1, 2}}, {"cd", []float32{3, 4}}}, false)
	// Header "2 2\n" is 4 bytes; "ab " ends at 7; the first vector is
	// bytes [7, 15); "cd " [15, 18); the second vector [18, 26).
	nan := append([]byte(nil), bin...)
	binary.LittleEndian.PutUint32(nan[18+4:], math.Float32bits(float32(math.NaN())))
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"empty", nil, []string{"no vectors"}},
		{"blank", []byte("\n \n"), []string{"no vectors"}},
		{"word alone", []byte("word\n"), []string{"line 1", "no numbers"}},
		{"glove too few", []byte("a 1 2\nb 1\n"), []string{"line 2", "1 numbers after the word, want 2", "first line"}},
		{"glove too many", []byte("a 1 2\nb 1 2 3\n"), []string{"line 2", "3 numbers after the word, want 2"}},
		{"not a number", []byte("a 1 2\nb 1 x2\n"), []string{"line 2", `component 2 of "b", "x2", is not a number`}},
		{"NaN", []byte("a 1 2\nb NaN 2\n"), []string{"line 2", `component 1 of "b" is NaN`}},
		{"Inf", []byte("a 1 2\nb 1 -inf\n"), []string{"line 2", `component 2 of "b" is -Inf`}},
		{"implausibly large", []byte("a 1 2\nb 1 -2e20\n"), []string{"line 2", `component 2 of "b", -2e20, is implausibly large`}},
		{"binary implausibly large", w2vBinary([]wvEntry{{"ab", []float32{1, 3e38}}}, false), []string{"byte offset 11", `component 2 of "ab"`, "implausibly large"}},
		{"float32 overflow", []byte("a 1 2\nb 1e39 2\n"), []string{"line 2", "outside float32's range"}},
		{"header dim mismatch", []byte("2 3\na 1 2 3\nb 1 2\n"), []string{"line 3", "2 numbers after the word, want 3", "header's"}},
		{"header promises more", []byte("3 2\na 1 2\nb 1 2\n"), []string{"ends after 2 vectors", "header says 3"}},
		{"header promises fewer", []byte("1 2\na 1 2\nb 1 2\n"), []string{"line 3", "more vectors than the header's 1"}},
		{"header zero dim", []byte("2 0\n"), []string{"line 1", "dimension in [1, 65536]"}},
		{"header huge count", []byte("99999999999999999999 2\na 1 2\n"), []string{"line 1", "want count in [1, 2147483647]"}},
		{"header count overflowing the table size", []byte("4611686018427387904 4\na 1 2 3 4\n"), []string{"line 1", "want count in"}},
		{"header huge dim", []byte("2 99999999999999999999999\n"), []string{"line 1", "dimension in"}},
		{"binary truncated in vector", bin[:20], []string{"byte offset 18", `vector 2 ("cd") needs 8 bytes, the file ends after 2`}},
		{"binary truncated in word", bin[:16], []string{"byte offset 15", "ends inside the word of vector 2"}},
		{"binary missing vector", bin[:15], []string{"byte offset 15", "ends after 1 vectors but the header says 2"}},
		{"binary NaN", nan, []string{"byte offset 22", `component 2 of "cd" is NaN`}},
		{"binary trailing data", append(append([]byte(nil), bin...), "\nxyz"...), []string{"byte offset 27", "data after the 2 vectors"}},
		{"binary empty word", append([]byte("1 2\n "), bin[7:15]...), []string{"byte offset 4", "empty word"}},
		{"binary word too long", append(append([]byte(nil), bin[:15]...), bytes.Repeat([]byte{0xff}, 70000)...), []string{"byte offset 15", "word of vector 2 is longer than 65536 bytes"}},
		{"corrupt gzip", gz(t, []byte(gloveText(wvTable)))[:30], []string{"reading at byte offset"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ReadWordVectors(bytes.NewReader(tc.data))
			if err == nil {
				t.Fatalf("loaded %d words, want an error", m.Len())
			}
			if !errors.Is(err, ErrWordVectors) && tc.name != "corrupt gzip" {
				t.Errorf("%v does not wrap ErrWordVectors", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// wvExpected computes the pooled vector by its definition, in float64.
func wvExpected(vecs [][]float32, weights []float64, normalize bool) []float64 {
	out := make([]float64, len(vecs[0]))
	for i, v := range vecs {
		w := 1.0
		if weights != nil {
			w = weights[i]
		}
		for j, x := range v {
			out[j] += w * float64(x)
		}
	}
	var ss float64
	for j := range out {
		out[j] /= float64(len(vecs))
		ss += out[j] * out[j]
	}
	if normalize {
		for j := range out {
			out[j] /= math.Sqrt(ss)
		}
	}
	return out
}

func closeTo(got []float32, want []float64, tol float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.Abs(float64(got[i])-want[i]) > tol {
			return false
		}
	}
	return true
}

func TestWordVectorsEmbed(t *testing.T) {
	ctx := context.Background()
	lower, err := ReadWordVectors(strings.NewReader(gloveText(wvTable)))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ReadWordVectors(strings.NewReader(gloveText(wvTable)), WithNormalize(false))
	if err != nil {
		t.Fatal(err)
	}
	cased := append([]wvEntry{{"Paris", []float32{9, 0, 1}}, {"paris", []float32{0, 9, 1}}}, wvTable...)
	casedM, err := ReadWordVectors(strings.NewReader(gloveText(cased)))
	if err != nil {
		t.Fatal(err)
	}
	casedLower, err := ReadWordVectors(strings.NewReader(gloveText(cased)), WithLowercase(true))
	if err != nil {
		t.Fatal(err)
	}
	v := func(w string) []float32 {
		for _, e := range cased {
			if e.word == w {
				return e.vec
			}
		}
		t.Fatalf("no %q", w)
		return nil
	}
	tests := []struct {
		name      string
		m         *WordVectors
		text      string
		words     []string
		normalize bool
	}{
		{"lower-cased file folds case", lower, "The CAT sat.", []string{"the", "cat", "sat"}, true},
		{"unknown words skipped", lower, "the zebra sat on", []string{"the", "sat"}, true},
		{"not normalized: the mean", raw, "the cat", []string{"the", "cat"}, false},
		{"compound found whole", lower, "Don't", []string{"don't"}, true},
		{"typographic apostrophe is not folded", lower, "don’t cat", []string{"cat"}, true},
		{"compound split into its parts", lower, "state-of-the-art", []string{"state", "the", "art"}, true},
		{"accented word", lower, "Café!", []string{"café"}, true},
		{"each Han character a word", lower, "猫猫", []string{"猫", "猫"}, true},
		{"repeated word counts twice", lower, "the the cat", []string{"the", "the", "cat"}, true},
		{"cased file: as written first", casedM, "Paris", []string{"Paris"}, true},
		{"cased file: then lower case", casedM, "PARIS The", []string{"paris", "the"}, true},
		{"WithLowercase ignores the file's case", casedLower, "Paris", []string{"paris"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var vecs [][]float32
			for _, w := range tc.words {
				vecs = append(vecs, v(w))
			}
			want := wvExpected(vecs, nil, tc.normalize)
			got, err := tc.m.EmbedQuery(ctx, tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if !closeTo(got, want, 1e-6) {
				t.Errorf("got %v, want %v", got, want)
			}
			docs, err := tc.m.EmbedDocuments(ctx, []string{"cat", tc.text})
			if err != nil || fmtVec(docs[1]) != fmtVec(got) {
				t.Errorf("EmbedDocuments %v %v, EmbedQuery %v", docs, err, got)
			}
		})
	}
}

// TestWordVectorsSIF checks WithSIF against the weights' definition.
func TestWordVectorsSIF(t *testing.T) {
	const a = 0.01
	m, err := ReadWordVectors(strings.NewReader(gloveText(wvTable)), WithSIF(a))
	if err != nil {
		t.Fatal(err)
	}
	var h float64
	for r := 1; r <= len(wvTable); r++ {
		h += 1 / float64(r)
	}
	w := func(rank int) float64 { return a / (a + 1/(float64(rank)*h)) }
	got, err := m.EmbedQuery(context.Background(), "the sat")
	if err != nil {
		t.Fatal(err)
	}
	want := wvExpected([][]float32{wvTable[0].vec, wvTable[2].vec}, []float64{w(1), w(3)}, true)
	if !closeTo(got, want, 1e-6) {
		t.Errorf("got %v, want %v", got, want)
	}
	if id := m.Identity(); id.Pooling != "weighted-mean" {
		t.Errorf("pooling %q", id.Pooling)
	}
	if m2, _ := ReadWordVectors(strings.NewReader(gloveText(wvTable)), WithSIF(0)); m2.Identity().Hash == m.Identity().Hash {
		t.Error("the SIF constant does not enter the identity")
	}
}

func TestWordVectorsUnknownAndEmpty(t *testing.T) {
	ctx := context.Background()
	m, err := ReadWordVectors(strings.NewReader(gloveText(wvTable)))
	if err != nil {
		t.Fatal(err)
	}
	strict, err := ReadWordVectors(strings.NewReader(gloveText(wvTable)), WithFallback(false))
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"", "  \n\t"} {
		if _, err := m.EmbedQuery(ctx, text); !errors.Is(err, embedder.ErrEmptyText) {
			t.Errorf("%q: %v, want ErrEmptyText", text, err)
		}
	}
	if _, err := strict.EmbedQuery(ctx, "zebra 🙂"); !errors.Is(err, ErrNoTokens) {
		t.Errorf("strict: %v, want ErrNoTokens", err)
	}
	a1, err := m.EmbedQuery(ctx, "zebra 🙂")
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := m.EmbedQuery(ctx, "zebra 🙂")
	b, _ := m.EmbedQuery(ctx, "giraffe")
	var ss float64
	for _, x := range a1 {
		ss += float64(x) * float64(x)
	}
	if math.Abs(ss-1) > 1e-5 || fmtVec(a1) != fmtVec(a2) || fmtVec(a1) == fmtVec(b) {
		t.Errorf("fallback: %v (norm² %v), again %v, other text %v", a1, ss, a2, b)
	}
	// The vectors of "the" and "sat" are opposite: they sum to zero.
	opp, err := ReadWordVectors(strings.NewReader("the 1 2\nsat -1 -2\n"), WithFallback(false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := opp.EmbedQuery(ctx, "the sat"); !errors.Is(err, ErrNoTokens) {
		t.Errorf("cancelling vectors: %v", err)
	}
}

func TestWordVectorsMaxTokens(t *testing.T) {
	m, err := ReadWordVectors(strings.NewReader(gloveText(wvTable)), WithMaxTokens(2))
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.EmbedQuery(context.Background(), "zebra the cat sat")
	if err != nil {
		t.Fatal(err)
	}
	if want := wvExpected([][]float32{wvTable[0].vec, wvTable[1].vec}, nil, true); !closeTo(got, want, 1e-6) {
		t.Errorf("got %v, want %v (the first two known words)", got, want)
	}
}

func TestWordVectorsIdentity(t *testing.T) {
	text := []byte(gloveText(wvTable))
	dir := t.TempDir()
	plain := filepath.Join(dir, "glove.6B.3d.txt")
	zipped := filepath.Join(dir, "glove.6B.3d.txt.gz")
	other := filepath.Join(dir, "other.vec")
	os.WriteFile(plain, text, 0o644)
	os.WriteFile(zipped, gz(t, text), 0o644)
	os.WriteFile(other, []byte(gloveText(wvTable[:3])), 0o644)
	load := func(p string, opts ...Option) embedder.Identity {
		m, err := LoadWordVectors(p, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return m.Identity()
	}
	id := load(plain)
	if id.Name != "glove.6B.3d" || id.Dim != 3 || id.Pooling != "mean" || len(id.Hash) != 64 {
		t.Errorf("identity %+v", id)
	}
	if again := load(plain); again != id {
		t.Errorf("not stable: %v vs %v", again, id)
	}
	if z := load(zipped); z != id {
		t.Errorf("gzip of the same content: %v vs %v", z, id)
	}
	if o := load(other); o.Hash == id.Hash || o.Name != "other" {
		t.Errorf("different content: %v vs %v", o, id)
	}
	for _, opt := range []Option{WithLowercase(true), WithNormalize(false), WithSIF(0)} {
		if o := load(plain, opt); o.Hash == id.Hash {
			t.Errorf("an option that changes vectors keeps the hash: %v", o)
		}
	}
	if o := load(plain, WithName("mine")); o.Name != "mine" || o.Hash != id.Hash {
		t.Errorf("WithName: %v", o)
	}
	if _, err := LoadWordVectors(dir); err == nil {
		t.Error("a directory loaded as word vectors")
	}
	if _, err := LoadWordVectors(filepath.Join(dir, "missing.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestWordOptionsRefused: options of one kind of model are refused by the
// other, not ignored.
func TestWordOptionsRefused(t *testing.T) {
	if _, err := ReadWordVectors(strings.NewReader("a 1\n"), WithWeights([]float32{1})); err == nil {
		t.Error("WithWeights accepted by word vectors")
	}
	if _, err := New(staticTestTokenizer(t), staticRows(), staticDim, WithSIF(0)); err == nil {
		t.Error("WithSIF accepted by New")
	}
	if _, err := New(staticTestTokenizer(t), staticRows(), staticDim, WithLowercase(true)); err == nil {
		t.Error("WithLowercase accepted by New")
	}
}

func TestWordVectorsConcurrent(t *testing.T) {
	m, err := ReadWordVectors(strings.NewReader(gloveText(wvTable)))
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"the cat", "sat", "zebra", "state-of-the-art café 猫"}
	want, err := m.EmbedDocuments(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				k := (g + i) % len(texts)
				got, err := m.EmbedQuery(context.Background(), texts[k])
				if err != nil || fmtVec(got) != fmtVec(want[k]) {
					t.Errorf("%q: %v %v, want %v", texts[k], got, err, want[k])
					return
				}
			}
		})
	}
	wg.Wait()
}

// FuzzReadWordVectors: no input panics; an accepted file gives a model
// that embeds its own words to finite vectors of its dimension; a
// rejected one wraps ErrWordVectors (or is a gzip read error).
func FuzzReadWordVectors(f *testing.F) {
	f.Add([]byte(gloveText(wvTable)))
	f.Add([]byte(w2vText(wvTable)))
	f.Add([]byte(fastTextVec(wvTable)))
	f.Add(w2vBinary(wvTable, true))
	f.Add(w2vBinary(wvTable, false))
	f.Add(gz(f, []byte(gloveText(wvTable[:2]))))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadWordVectors(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrWordVectors) && !strings.Contains(err.Error(), "reading at byte offset") {
				t.Fatalf("error not wrapping ErrWordVectors: %v", err)
			}
			return
		}
		if m.Dim() < 1 || m.Len() < 1 || len(m.emb) != m.Len()*m.Dim() || len(m.words) != m.Len() {
			t.Fatalf("dim %d len %d table %d map %d", m.Dim(), m.Len(), len(m.emb), len(m.words))
		}
		n := 0
		for w := range m.words {
			if n++; n > 20 {
				break
			}
			v, err := m.EmbedQuery(context.Background(), w)
			if errors.Is(err, embedder.ErrEmptyText) || errors.Is(err, ErrNoTokens) {
				continue // a word of spaces, or an all-zero table
			}
			if err != nil {
				t.Fatalf("%q: %v", w, err)
			}
			for _, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("%q: %v", w, v)
				}
			}
		}
	})
}

// TestStaticMaxTokensSkipsUnknown: the limit counts the tokens pooled, as
// model2vec's tokenize drops [UNK] before truncating (see the Model2Vec
// section of doc.go); an unknown first word must not use up the budget.
func TestStaticMaxTokensSkipsUnknown(t *testing.T) {
	tok := staticTestTokenizer(t)
	emb := staticRows()
	m, err := New(tok, emb, staticDim, WithMaxTokens(1), WithFallback(false))
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.EmbedQuery(context.Background(), "zebra cat dog")
	if err != nil {
		t.Fatal(err)
	}
	staticCloseTo(t, got, staticExpected([]int{5}, emb, nil, nil, true), 1e-6)
}

// TestLoadNormalizeOverrideIdentity: WithNormalize changes a loaded
// model's vectors whenever it contradicts config.json, so it must change
// the identity too; agreeing with the file changes nothing.
func TestLoadNormalizeOverrideIdentity(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	writeStaticModelDir(t, dir, staticModelFiles{
		tensors: []safetensors.Tensor{safetensors.F32Tensor("embeddings", []int{len(staticVocab), staticDim}, staticRows())},
		config:  `{"normalize":true}`,
	})
	ids := map[string]embedder.Identity{}
	for name, opts := range map[string][]Option{"file": nil, "same": {WithNormalize(true)}, "off": {WithNormalize(false)}} {
		m, err := Load(dir, opts...)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = m.Identity()
	}
	if ids["same"] != ids["file"] || ids["off"].Hash == ids["file"].Hash {
		t.Errorf("identities %v", ids)
	}
}
