package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/bench/internal/synth"
	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/builtin"
)

// sentences returns n distinct English sentences made of common words (so
// the built-in model knows their tokens), starting at combination from.
func sentences(from, n int) []string {
	adj := []string{"red", "small", "quiet", "old", "bright", "heavy", "wooden", "cold", "strange", "gentle", "broken", "famous", "green", "tall", "empty"}
	noun := []string{"house", "river", "engine", "garden", "letter", "machine", "window", "forest", "library", "bridge", "kitchen", "island", "program", "song", "market"}
	verb := []string{"stands", "moves", "waits", "shines", "falls", "grows", "sleeps", "breaks"}
	place := []string{"the city", "the hill", "the sea", "a road", "the school", "a field"}
	var out []string
	for i := from; len(out) < n; i++ {
		a, r := i%len(adj), i/len(adj)
		b, r := r%len(noun), r/len(noun)
		c, r := r%len(verb), r/len(verb)
		d := r % len(place)
		out = append(out, fmt.Sprintf("a %s %s %s near %s", adj[a], noun[b], verb[c], place[d]))
	}
	return out
}

func testModel(t testing.TB) *builtin.Model {
	t.Helper()
	m, err := builtin.New()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func testCorpora() []textCorpus {
	a := sentences(0, 500)
	b := sentences(500, 300)
	// Duplicates the recipe drops: the same text with other whitespace
	// (across sources), an upper-cased twin (same tokens for an uncased
	// model, so the same vector), and empty texts.
	b = append(b, "  "+strings.ReplaceAll(a[3], " ", "\t ")+"\n", strings.ToUpper(a[7]), "", " \n ")
	return []textCorpus{
		{Name: "a", Files: []fileDigest{{Name: "a.txt", Bytes: 1, SHA256: "aa"}}, Texts: a},
		{Name: "b", Files: []fileDigest{{Name: "b.txt", Bytes: 2, SHA256: "bb"}}, Texts: b},
	}
}

// TestBuildTextSet checks the recipe on a small input with the real
// built-in model: determinism (also under shuffled input and another
// worker count), disjoint queries, dedup, the prefix property, and ground
// truth against a float64 brute-force scan.
func TestBuildTextSet(t *testing.T) {
	ctx := context.Background()
	m := testModel(t)
	const n, nq, gtk = 600, 40, 20
	ts, err := buildTextSet(ctx, testCorpora(), m.Embed, m.Dim(), n, nq, gtk)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts.Base) != n || len(ts.Queries) != nq || len(ts.GT) != nq || len(ts.BaseText) != n || len(ts.QueryText) != nq {
		t.Fatalf("shape: base %d queries %d gt %d texts %d/%d", len(ts.Base), len(ts.Queries), len(ts.GT), len(ts.BaseText), len(ts.QueryText))
	}
	sp := ts.Spec
	if sp.Sources[0].Distinct != 500 || sp.Sources[1].Distinct != 301 || sp.Pool != 801 {
		t.Fatalf("distinct texts: %+v pool %d (want 500, 301 = 300 + the upper-cased twin, 801)", sp.Sources, sp.Pool)
	}
	if sp.BaseBySource["a"]+sp.BaseBySource["b"] != n || sp.QueriesBySource["a"]+sp.QueriesBySource["b"] != nq {
		t.Fatalf("per-source counts %v %v", sp.BaseBySource, sp.QueriesBySource)
	}

	// Same input in another order, on one worker: identical output.
	shuffled := testCorpora()
	for i := range shuffled {
		slices.Reverse(shuffled[i].Texts)
	}
	prev := runtime.GOMAXPROCS(1)
	ts2, err := buildTextSet(ctx, shuffled, m.Embed, m.Dim(), n, nq, gtk)
	runtime.GOMAXPROCS(prev)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ts.QueryText, ts2.QueryText) || !slices.Equal(ts.BaseText, ts2.BaseText) ||
		!equalRows(ts.Base, ts2.Base) || !equalRows(ts.Queries, ts2.Queries) || !equalRows(ts.GT, ts2.GT) {
		t.Fatal("not deterministic under input order or worker count")
	}

	// Disjoint in text and in vector.
	inBase := map[string]bool{}
	vecs := map[string]bool{}
	for i, s := range ts.BaseText {
		if inBase[s] {
			t.Fatalf("base text %q twice", s)
		}
		inBase[s] = true
		vecs[fmt.Sprint(ts.Base[i])] = true
	}
	for i, q := range ts.QueryText {
		if inBase[q] {
			t.Fatalf("query %q is also a base text", q)
		}
		if vecs[fmt.Sprint(ts.Queries[i])] {
			t.Fatalf("query %q has a twin vector in the base", q)
		}
	}
	if len(vecs) != n {
		t.Fatalf("%d distinct base vectors, want %d", len(vecs), n)
	}
	// Every examined text was kept or counted as dropped; the upper-cased
	// twin, the only duplicate vector, is dropped if it was examined.
	if sp.Examined != n+nq+sp.DroppedDuplicate+sp.DroppedNoVector || sp.DroppedNoVector != 0 || sp.DroppedDuplicate > 1 {
		t.Fatalf("examined %d, dropped %d duplicate, %d without vector", sp.Examined, sp.DroppedDuplicate, sp.DroppedNoVector)
	}

	// Vectors are the model's, normalized.
	for i, q := range ts.QueryText {
		v := make([]float32, m.Dim())
		if err := m.Embed(q, v); err != nil {
			t.Fatal(err)
		}
		normalize(v)
		if !slices.Equal(v, ts.Queries[i]) {
			t.Fatalf("query %d's vector is not the model's", i)
		}
	}

	// Ground truth against a float64 scan (scores compared, not ids, so a
	// float32 near-tie cannot fail the test).
	for qi, q := range ts.Queries {
		scores := make([]float64, n)
		for i, v := range ts.Base {
			scores[i] = dot64(q, v)
		}
		sorted := slices.Clone(scores)
		sort.Sort(sort.Reverse(sort.Float64Slice(sorted)))
		if len(ts.GT[qi]) != gtk {
			t.Fatalf("query %d: %d neighbours, want %d", qi, len(ts.GT[qi]), gtk)
		}
		for j, id := range ts.GT[qi] {
			if d := math.Abs(scores[id] - sorted[j]); d > 1e-5 {
				t.Fatalf("query %d rank %d: id %d scores %v, brute force %v", qi, j, id, scores[id], sorted[j])
			}
		}
	}

	// A smaller base is a prefix of the larger one, with the same queries.
	small, err := buildTextSet(ctx, testCorpora(), m.Embed, m.Dim(), 100, nq, gtk)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(small.QueryText, ts.QueryText) || !slices.Equal(small.BaseText, ts.BaseText[:100]) {
		t.Fatal("the 100-text base is not a prefix of the 600-text base")
	}
}

func dot64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func equalRows[T comparable](a, b [][]T) bool {
	return slices.EqualFunc(a, b, func(x, y []T) bool { return slices.Equal(x, y) })
}

// fakeEmbed maps texts to vectors by a table (a mock of the model, to test
// the drop rules exactly).
func fakeEmbed(table map[string][]float32) embedFunc {
	return func(text string, dst []float32) error {
		if strings.TrimSpace(text) == "" {
			return embedder.ErrEmptyText
		}
		v, ok := table[text]
		if !ok {
			return fmt.Errorf("fake model: no vector for %q", text)
		}
		copy(dst, v)
		return nil
	}
}

func TestBuildTextSetRules(t *testing.T) {
	ctx := context.Background()
	table := map[string][]float32{
		"one": {1, 0}, "two": {0, 2}, "three": {3, 3}, "zero": {0, 0},
		"twin of two": {0, 5}, // normalizes to the same vector as "two"
	}
	corpus := []textCorpus{{Name: "c", Texts: []string{"one", "two", "three", "zero", "twin of two", "one "}}}
	tests := []struct {
		name    string
		n, nq   int
		embed   embedFunc
		wantErr error
		errText string
		check   func(t *testing.T, ts *textSet)
	}{
		{name: "drops", n: 2, nq: 1, embed: fakeEmbed(table), check: func(t *testing.T, ts *textSet) {
			// Expected outcome from the split order: "zero" has no
			// vector, and of "two" and its twin the later one is a
			// duplicate; stop at the third kept text.
			pool, _ := textPool(corpus)
			var kept []string
			examined, noVec, dup := 0, 0, 0
			twoSeen := false
			for _, e := range pool {
				if len(kept) == 3 {
					break
				}
				examined++
				switch {
				case e.text == "zero":
					noVec++
				case e.text == "two" || e.text == "twin of two":
					if twoSeen {
						dup++
						continue
					}
					twoSeen = true
					kept = append(kept, e.text)
				default:
					kept = append(kept, e.text)
				}
			}
			if ts.Spec.Pool != 5 || ts.Spec.Examined != examined || ts.Spec.DroppedNoVector != noVec || ts.Spec.DroppedDuplicate != dup {
				t.Fatalf("spec %+v, want pool 5, examined %d, %d without vector, %d duplicate", ts.Spec, examined, noVec, dup)
			}
			if got := append(slices.Clone(ts.QueryText), ts.BaseText...); !slices.Equal(got, kept) {
				t.Fatalf("kept %v, want %v", got, kept)
			}
			if len(ts.GT[0]) != 2 {
				t.Fatalf("ground truth depth %d, want min(gtk, n) = 2", len(ts.GT[0]))
			}
		}},
		{name: "too few", n: 3, nq: 1, embed: fakeEmbed(table), wantErr: errTooFewTexts},
		{name: "too few before embedding", n: 10, nq: 1, embed: fakeEmbed(table), wantErr: errTooFewTexts},
		{name: "model error", n: 2, nq: 1, embed: func(string, []float32) error { return io.ErrUnexpectedEOF }, wantErr: io.ErrUnexpectedEOF},
		{name: "no queries", n: 2, nq: 0, embed: fakeEmbed(table), errText: "at least one"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, err := buildTextSet(ctx, corpus, tc.embed, 2, tc.n, tc.nq, 100)
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
			case tc.errText != "":
				if err == nil || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("err %v, want one containing %q", err, tc.errText)
				}
			case err != nil:
				t.Fatal(err)
			default:
				tc.check(t, ts)
			}
		})
	}
}

// TestTextSetCache writes a set and reads it back, and checks that a
// change of source, model or size invalidates the cached copy.
func TestTextSetCache(t *testing.T) {
	m := testModel(t)
	ts, err := buildTextSet(context.Background(), testCorpora(), m.Embed, m.Dim(), 200, 20, 10)
	if err != nil {
		t.Fatal(err)
	}
	ts.Spec.Model = textModel{Name: "m", Hash: "h1", Dim: m.Dim(), Pooling: "mean"}
	fs := synth.FilesFor(t.TempDir(), synth.Spec{Source: "text-test", N: 200, Queries: 20, Dim: m.Dim(), GTK: 10})
	if err := writeTextSet(fs, ts); err != nil {
		t.Fatal(err)
	}
	want := ts.Spec
	got, err := readTextSet(fs, &want)
	if err != nil {
		t.Fatal(err)
	}
	if !equalRows(got.Base, ts.Base) || !equalRows(got.Queries, ts.Queries) || !equalRows(got.GT, ts.GT) {
		t.Fatal("cache round trip changed the data")
	}
	baseText, _ := textFiles(fs)
	if b, err := os.ReadFile(baseText); err != nil || string(b) != strings.Join(ts.BaseText, "\n")+"\n" {
		t.Fatalf("base.txt does not hold the base texts in row order (err %v)", err)
	}
	for name, mut := range map[string]func(*textSpec){
		"model": func(s *textSpec) { s.Model.Hash = "h2" },
		"source": func(s *textSpec) {
			s.Sources = slices.Clone(s.Sources)
			s.Sources[1].Files = []fileDigest{{Name: "b.txt", Bytes: 2, SHA256: "cc"}}
		},
		"n":      func(s *textSpec) { s.N = 100 },
		"recipe": func(s *textSpec) { s.Recipe++ },
	} {
		w := ts.Spec
		mut(&w)
		if _, err := readTextSet(fs, &w); err == nil {
			t.Errorf("%s changed, cached copy still accepted", name)
		}
	}
	// A truncated vector file is not accepted either.
	if err := os.Truncate(fs.Base, 100); err != nil {
		t.Fatal(err)
	}
	if _, err := readTextSet(fs, &want); err == nil {
		t.Fatal("truncated base.fvecs accepted")
	}
}

// writeFakeSources writes a tiny WordNet (four data files) and a
// Translation-en into cache and lists, in the layouts the fetchers leave.
func writeFakeSources(t *testing.T, cache, lists string) {
	t.Helper()
	wnDir := filepath.Join(cache, "wordnet", "wordnet-base", "usr", "share", "wordnet")
	if err := os.MkdirAll(wnDir, 0o755); err != nil {
		t.Fatal(err)
	}
	glosses := sentences(0, 240)
	for fi, f := range []string{"data.noun", "data.verb", "data.adj", "data.adv"} {
		var sb strings.Builder
		sb.WriteString("  1 This software and database is being provided\n")
		for i, g := range glosses[fi*60 : (fi+1)*60] {
			fmt.Fprintf(&sb, "%08d 03 n 01 word%d 0 000 | %s; \"an example\"\n", 100+i, i, g)
		}
		if err := os.WriteFile(filepath.Join(wnDir, f), []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var sb strings.Builder
	for i, d := range sentences(240, 150) {
		fmt.Fprintf(&sb, "Package: pkg%d\nDescription-md5: 0\nDescription-en: short %d\n %s.\n .\n It is package %d.\n\n", i, i, d, i)
	}
	if err := os.MkdirAll(lists, 0o755); err != nil {
		t.Fatal(err)
	}
	tr := filepath.Join(lists, "deb.debian.org_debian_dists_bookworm_main_i18n_Translation-en")
	if err := os.WriteFile(tr, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRunANNText runs the ann suite on a text set built from fake sources
// twice (build, then cache) and checks the labels and shapes.
func TestRunANNText(t *testing.T) {
	cache, lists := t.TempDir(), t.TempDir()
	writeFakeSources(t, cache, lists)
	args := []string{"--json", "--cache", cache, "--debian-lists", lists, "--dataset", "text", "--n", "300", "--queries", "20",
		"--ef", "16,300", "--systems", "vecbolt-flat,vecbolt-hnsw", "ann"}
	for run_ := range 2 {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 0 {
			t.Fatalf("run %d: exit %d\nstderr:\n%s", run_, code, errOut.String())
		}
		wantLog := "built from 390 distinct texts"
		if run_ == 1 {
			wantLog = "read from cache"
		}
		if !strings.Contains(errOut.String(), wantLog) {
			t.Fatalf("run %d: log lacks %q:\n%s", run_, wantLog, errOut.String())
		}
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var m Measurement
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatal(err)
			}
			if m.Dataset != "text-300" || m.Dim != builtin.Dim || m.N != 300 {
				t.Fatalf("line %s: want dataset text-300, dim %d, n 300", l, builtin.Dim)
			}
			if m.System == "vecbolt-flat" && m.RecallAt10 != nil && *m.RecallAt10 < 0.999 {
				t.Fatalf("exact index recall %v on the text set", *m.RecallAt10)
			}
		}
	}
	found, _ := filepath.Glob(filepath.Join(cache, "text-r*-n300-q20", "spec.json"))
	if len(found) != 1 {
		t.Fatalf("spec.json files %v", found)
	}
}

func TestParseArgsDataset(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    string
		wantErr string
	}{
		{"default", []string{"ann"}, "clustered", ""},
		{"text", []string{"--dataset", "text", "ann", "db"}, "text", ""},
		{"unknown", []string{"--dataset", "sift", "ann"}, "", "--dataset"},
		{"text with open", []string{"--dataset", "text", "ann", "open"}, "", "open suite"},
		{"text with all suites", []string{"--dataset", "text"}, "", "open suite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseArgs(append([]string{"--cache", t.TempDir()}, tc.args...), io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || c.dataset != tc.want {
				t.Fatalf("dataset %q err %v, want %q", c.dataset, err, tc.want)
			}
		})
	}
}
