package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/embedder/tokenizer"
)

func TestQueryTokens(t *testing.T) {
	groups := [][]ftPair{
		{{q: []int32{7, 8}, oneWord: false}, {q: []int32{9}, oneWord: true}},
		{{q: []int32{6}, oneWord: true}, {q: []int32{9}, oneWord: true}, {q: []int32{1, 6, 10}, oneWord: true}},
	}
	// Counts in one-word queries: 9:2, 6:2, 10:1 (1 is a special token;
	// 7 and 8 come from a longer query only).
	for _, tc := range []struct {
		k    int
		want []int32
	}{
		{0, nil},
		{1, []int32{6}}, // 6 and 9 tie; the lower id wins
		{2, []int32{6, 9}},
		{3, []int32{6, 9, 10}},
		{10, []int32{6, 9, 10}},
	} {
		if got := queryTokens(groups, 12, tc.k); !slices.Equal(got, tc.want) {
			t.Errorf("queryTokens(k=%d) = %v, want %v", tc.k, got, tc.want)
		}
	}
}

func TestStageKey(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "manifest.tsv"), []byte("kind\tpackage\tversion\tfile\tsha256\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := params{Dim: 256, Window: 5, Alpha: 0.75, Seed: 1}
	key := func(p params) string {
		k, err := stageKey(dir, p)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k0 := key(base)
	same := base
	same.Name, same.Workers, same.FineTune = "other", 7, ftParams{Epochs: 3, QueryRows: 5}
	if key(same) != k0 {
		t.Error("fine-tuning parameters, name or workers changed the stage key")
	}
	for _, change := range []func(*params){
		func(p *params) { p.Window = 4 },
		func(p *params) { p.Dim = 128 },
		func(p *params) { p.RetroAlpha = 0.5 },
		func(p *params) { p.Vocab.Words = 10 },
	} {
		p := base
		change(&p)
		if key(p) == k0 {
			t.Errorf("stage parameters %+v give the same key as %+v", p, base)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.tsv"), []byte("other corpus\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if key(base) == k0 {
		t.Error("a different corpus manifest gave the same key")
	}
	if _, err := stageKey(t.TempDir(), base); err == nil {
		t.Error("missing manifest accepted")
	}
}

func TestApplyTransform(t *testing.T) {
	// W = 2·I keeps the direction; W = swap exchanges coordinates.
	u := []float32{0.6, 0.8}
	out := make([]float32, 2)
	if n := applyTransform([]float32{2, 0, 0, 2}, 2, u, out); n < 1.999 || n > 2.001 || out[0] != 0.6 || out[1] != 0.8 {
		t.Errorf("2I: norm %v, out %v", n, out)
	}
	applyTransform([]float32{0, 1, 1, 0}, 2, u, out)
	if out[0] != 0.8 || out[1] != 0.6 {
		t.Errorf("swap: out %v", out)
	}
}

// toyFinetune builds a small deterministic fine-tuning problem: n token
// rows of dim floats and 64 pairs per group. debian adds the multi-word
// group (else it is empty); hard gives WordNet pairs a hard negative;
// oneWord marks the WordNet pairs as one-word queries.
func toyFinetune(n, dim int, debian, hard, oneWord bool) ([]float32, [][]ftPair) {
	emb := make([]float32, n*dim)
	for i := range emb {
		emb[i] = float32((i*7919)%17-8) / 8
	}
	var deb, wn []ftPair
	for i := range 64 {
		a, b := int32(5+i%30), int32(5+(i*3+1)%35)
		if debian {
			deb = append(deb, ftPair{q: []int32{a, b}, d: []int32{b, a, int32(5 + (i+2)%35)}})
		}
		pr := ftPair{q: []int32{a}, d: []int32{int32(5 + (i*5)%35), b}, oneWord: oneWord}
		if hard {
			pr.h = [][]int32{{a, 6}}
		}
		wn = append(wn, pr)
	}
	return emb, [][]ftPair{deb, wn}
}

func TestFinetuneDeterministic(t *testing.T) {
	const n, dim = 40, 8
	mk := func() ([]float32, [][]ftPair) { return toyFinetune(n, dim, true, true, true) }
	p := ftParams{Epochs: 3, Batch: 16, LR: 0.05, Scale: 20, HardNegN: 1, QueryRows: 10, Transform: true, TransformLR: 0.01}
	var losses []string
	logf := func(f string, a ...any) { losses = append(losses, f) }
	e1, g1 := mk()
	q1, r1, w1 := finetune(e1, dim, g1, p, 3, logf)
	e2, g2 := mk()
	q2, r2, w2 := finetune(e2, dim, g2, p, 3, logf)
	if !slices.Equal(e1, e2) || !slices.Equal(q1, q2) || !slices.Equal(r1, r2) || !slices.Equal(w1, w2) {
		t.Fatal("two runs differ")
	}
	if len(q1) != 10 || len(r1) != 10*dim || len(w1) != dim*dim {
		t.Fatalf("query rows %d (%d values), transform %d values", len(q1), len(r1), len(w1))
	}
	e0, _ := mk()
	if slices.Equal(e0, e1) {
		t.Error("fine-tuning changed nothing")
	}
	// A query row starts as its token's shared row and is trained apart.
	diff := false
	for k, id := range q1 {
		if !slices.Equal(r1[k*dim:(k+1)*dim], e1[int(id)*dim:int(id)*dim+dim]) {
			diff = true
		}
	}
	if !diff {
		t.Error("query rows equal the shared rows")
	}
}

func TestSplitWithoutWord(t *testing.T) {
	vocab := append(slices.Clone(specialTokens), "c", "a", "r", "s", "##a", "##r", "##s", "ca", "car", "cars", "##rs")
	tok, err := tokenizer.NewWordPiece(vocab)
	if err != nil {
		t.Fatal(err)
	}
	id := func(s string) int32 {
		i, ok := tok.TokenID(s)
		if !ok {
			t.Fatalf("no token %q", s)
		}
		return i
	}
	for _, tc := range []struct {
		word string
		want []int32
	}{
		{"cars", []int32{id("car"), id("##s")}}, // never "cars" itself
		{"car", []int32{id("ca"), id("##r")}},
		{"ca", []int32{id("c"), id("##a")}},
		{"crs", []int32{id("c"), id("##rs")}},
		{"cx", nil},   // "##x" is not a piece
		{"café", nil}, // non-ASCII: the tokenizer would normalize it first
	} {
		if got := splitWithoutWord(tok, tc.word); !slices.Equal(got, tc.want) {
			t.Errorf("splitWithoutWord(%q) = %v, want %v", tc.word, got, tc.want)
		}
	}
}

// TestOneWordScale checks that the one-word scale changes training only
// through one-word queries: with no one-word pairs it is inert, with some
// it changes the result, and either way runs are deterministic.
func TestOneWordScale(t *testing.T) {
	const n, dim = 40, 8
	mk := func(oneWord bool) ([]float32, [][]ftPair) { return toyFinetune(n, dim, true, false, oneWord) }
	run := func(oneWord bool, scale float64) ([]float32, []float32) {
		emb, g := mk(oneWord)
		p := ftParams{Epochs: 2, Batch: 16, LR: 0.05, Scale: 20, OneWordScale: scale, HardNegN: 1, QueryRows: 10}
		_, r, _ := finetune(emb, dim, g, p, 3, func(string, ...any) {})
		return emb, r
	}
	for _, tc := range []struct {
		name    string
		oneWord bool
		same    bool
	}{
		{"no one-word queries", false, true},
		{"one-word queries", true, false},
	} {
		e20, r20 := run(tc.oneWord, 0)
		e8, r8 := run(tc.oneWord, 8)
		e8b, r8b := run(tc.oneWord, 8)
		if !slices.Equal(e8, e8b) || !slices.Equal(r8, r8b) {
			t.Errorf("%s: two runs differ", tc.name)
		}
		if same := slices.Equal(e20, e8) && slices.Equal(r20, r8); same != tc.same {
			t.Errorf("%s: one-word scale 8 gives the same rows as none: %v, want %v", tc.name, same, tc.same)
		}
	}
}

// TestQueryDecay: a decay of 1 pulls every query row fully back after each
// update, so the rows end where they started (their tokens' initial shared
// rows); a decay of 0.1 leaves them in between.
func TestQueryDecay(t *testing.T) {
	const n, dim = 40, 8
	mk := func() ([]float32, [][]ftPair) { return toyFinetune(n, dim, false, false, true) }
	init, _ := mk()
	for _, tc := range []struct {
		decay     float64
		wantStart bool
	}{{1, true}, {0.1, false}} {
		emb, g := mk()
		p := ftParams{Epochs: 2, Batch: 16, LR: 0.05, Scale: 20, HardNegN: 1, QueryRows: 10, QueryDecay: tc.decay}
		ids, r, _ := finetune(emb, dim, g, p, 3, func(string, ...any) {})
		atStart := true
		for k, id := range ids {
			if !slices.Equal(r[k*dim:(k+1)*dim], init[int(id)*dim:int(id)*dim+dim]) {
				atStart = false
			}
		}
		if atStart != tc.wantStart {
			t.Errorf("decay %v: query rows at their start: %v, want %v", tc.decay, atStart, tc.wantStart)
		}
	}
}

func TestParseExclude(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"foldoc", []string{"foldoc"}, ""},
		{"python-doc, git-doc", []string{"python-doc", "git-doc"}, ""},
		{"foldc", nil, `unknown source "foldc"`},
		{"", nil, `unknown source ""`},
		{"brown,brown", nil, `source "brown" named twice`},
	} {
		got, err := parseExclude(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseExclude(%q) error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parseExclude(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
