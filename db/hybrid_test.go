package db

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vecbolt/vecbolt/fulltext"
	"github.com/vecbolt/vecbolt/query"
)

// openBuiltin opens a database with the built-in model (the real
// embedder of an end-to-end search), skipping where it is not linked.
func openBuiltin(t *testing.T, opts ...Option) (*DB, string) {
	t.Helper()
	if !hasBuiltinModel {
		t.Skip("built with vecbolt_nomodel")
	}
	path := filepath.Join(t.TempDir(), "hybrid.vecbolt")
	d, err := Open(path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, path
}

var hybridDocs = []Document{
	{ID: "vim", Text: "Vi IMproved, a highly configurable text editor for programmers", Metadata: map[string]any{"section": "editors"}},
	{ID: "emacs", Text: "GNU Emacs, the extensible self-documenting text editor", Metadata: map[string]any{"section": "editors"}},
	{ID: "nano", Text: "small and friendly text editor inspired by Pico", Metadata: map[string]any{"section": "editors"}},
	{ID: "gimp", Text: "GNU Image Manipulation Program for photo retouching and painting", Metadata: map[string]any{"section": "graphics"}},
	{ID: "inkscape", Text: "vector-based drawing program for illustrations", Metadata: map[string]any{"section": "graphics"}},
	{ID: "nethack", Text: "dungeon exploration game with a text interface", Metadata: map[string]any{"section": "games"}},
	{ID: "postgres", Text: "object-relational SQL database server", Metadata: map[string]any{"section": "database"}},
	{ID: "sqlite", Text: "command line interface for the SQLite 3 database engine", Metadata: map[string]any{"section": "database"}},
}

// TestSearchModes runs each mode end to end on the built-in model and the
// real keyword index, and checks what each result explains.
func TestSearchModes(t *testing.T) {
	d, _ := openBuiltin(t)
	c := mustCollection(t, d, "pkgs")
	if _, err := c.Insert(bg, hybridDocs...); err != nil {
		t.Fatal(err)
	}
	if info := c.Info(); info.FullText == nil || info.FullText.Language != fulltext.LanguageEnglish || info.FullText.K1 != 1.2 || info.FullText.B != 0.75 {
		t.Fatalf("default keyword index: %+v", info.FullText)
	}
	tests := []struct {
		name      string
		query     string
		opts      []SearchOption
		wantFirst string
		// wantIDs, if set, is the whole result set (any order).
		wantIDs []string
		mode    Mode
	}{
		{name: "keyword exact word", query: "dungeon", opts: []SearchOption{WithMode(ModeKeyword)}, wantIDs: []string{"nethack"}, mode: ModeKeyword},
		{name: "keyword stems", query: "editors", opts: []SearchOption{WithMode(ModeKeyword)}, wantIDs: []string{"vim", "emacs", "nano"}, mode: ModeKeyword},
		{name: "keyword filtered", query: "text", opts: []SearchOption{WithMode(ModeKeyword), WhereExpr(`section = "games"`)}, wantIDs: []string{"nethack"}, mode: ModeKeyword},
		{name: "keyword no match", query: "xylophone", opts: []SearchOption{WithMode(ModeKeyword)}, wantIDs: []string{}, mode: ModeKeyword},
		{name: "vector", query: "sql database", opts: []SearchOption{WithMode(ModeVector), TopK(2)}, mode: ModeVector},
		{name: "hybrid", query: "sqlite database", opts: []SearchOption{WithMode(ModeHybrid), TopK(3)}, wantFirst: "sqlite", mode: ModeHybrid},
		{name: "hybrid rrf", query: "sqlite database", opts: []SearchOption{WithMode(ModeHybrid), WithFusion(FusionRRF), TopK(3)}, wantFirst: "sqlite", mode: ModeHybrid},
		{name: "hybrid filtered", query: "text editor", opts: []SearchOption{WithMode(ModeHybrid), WhereExpr(`section = "games"`)}, wantIDs: []string{"nethack"}, mode: ModeHybrid},
		{name: "default is the default text mode", query: "image editor", mode: DefaultTextMode},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.Search(bg, tc.query, append(tc.opts, WithExplain())...)
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]string, len(res))
			for i, r := range res {
				ids[i] = r.ID
				x := r.Explain
				if x == nil || x.Mode != tc.mode {
					t.Fatalf("%s: explanation %+v, want mode %v", r.ID, x, tc.mode)
				}
				switch tc.mode {
				case ModeKeyword:
					if x.KeywordRank != i+1 || x.KeywordScore != r.Score || x.VectorRank != 0 || x.VectorScore != 0 {
						t.Errorf("#%d %s: %+v", i, r.ID, x)
					}
				case ModeVector:
					if x.VectorRank != i+1 || x.VectorScore != r.Score || x.KeywordRank != 0 {
						t.Errorf("#%d %s: %+v", i, r.ID, x)
					}
				case ModeHybrid:
					if x.VectorRank == 0 && x.KeywordRank == 0 {
						t.Errorf("#%d %s: on neither side: %+v", i, r.ID, x)
					}
				}
				if r.Text == "" {
					t.Errorf("%s: no text", r.ID)
				}
			}
			if tc.wantIDs != nil {
				got, want := slices.Sorted(slices.Values(ids)), slices.Sorted(slices.Values(tc.wantIDs))
				if !slices.Equal(got, want) {
					t.Errorf("IDs %v, want %v", ids, tc.wantIDs)
				}
			}
			if tc.wantFirst != "" && (len(ids) == 0 || ids[0] != tc.wantFirst) {
				t.Errorf("IDs %v, want %s first", ids, tc.wantFirst)
			}
		})
	}
	// Without WithExplain, no explanation.
	res, err := c.Search(bg, "editor", WithMode(ModeHybrid))
	if err != nil || len(res) == 0 || res[0].Explain != nil {
		t.Fatalf("without WithExplain: %v %v", res, err)
	}
	// Bad options write nothing and say what was wrong.
	for _, tc := range []struct {
		name string
		opts []SearchOption
	}{
		{"alpha", []SearchOption{WithMode(ModeHybrid), WithAlpha(-0.1)}},
		{"mode", []SearchOption{WithMode(Mode(9))}},
		{"fusion", []SearchOption{WithFusion(Fusion(9))}},
	} {
		if _, err := c.Search(bg, "editor", tc.opts...); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", tc.name, err)
		}
	}
	if _, err := c.SearchVector(bg, make([]float32, c.Info().Dimension), WithMode(ModeKeyword)); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("SearchVector in keyword mode: err = %v", err)
	}
}

// TestKeywordWithoutModel searches a collection of caller-supplied vectors
// by keyword, with no embedder at all.
func TestKeywordWithoutModel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vec.vecbolt")
	d, err := Open(path, WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	plain := mustCollection(t, d, "plain", WithDimension(2))
	kw := mustCollection(t, d, "kw", WithDimension(2), WithFullText(FullTextConfig{Language: fulltext.LanguageNone}))
	docs := []Document{
		{ID: "a", Text: "running shoes", Vector: []float32{1, 0}},
		{ID: "b", Text: "run fast", Vector: []float32{0, 1}},
		{ID: "c", Vector: []float32{1, 1}},
	}
	for _, c := range []*Collection{plain, kw} {
		if _, err := c.Insert(bg, docs...); err != nil {
			t.Fatal(err)
		}
	}
	// No stemming: "running" matches a only.
	for _, opts := range [][]SearchOption{nil, {WithMode(ModeKeyword)}} {
		res, err := kw.Search(bg, "running", opts...)
		if err != nil || len(res) != 1 || res[0].ID != "a" {
			t.Errorf("keyword search %v: %v %v", opts, res, err)
		}
	}
	if _, err := kw.Search(bg, "running", WithMode(ModeHybrid)); !errors.Is(err, ErrNoEmbedder) {
		t.Errorf("hybrid without a model: err = %v, want ErrNoEmbedder", err)
	}
	if _, err := plain.Search(bg, "running", WithMode(ModeKeyword)); !errors.Is(err, ErrNoFullText) || !strings.Contains(err.Error(), "WithoutFullText") {
		t.Errorf("keyword search without an index: err = %v, want ErrNoFullText naming WithoutFullText", err)
	}
	if info := plain.Info(); info.FullText != nil {
		t.Errorf("a WithDimension collection has a keyword index by default: %+v", info.FullText)
	}
	if _, err := d.CreateCollection(bg, "bad", WithDimension(2), WithFullText(FullTextConfig{Language: "klingon"})); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("unknown language: err = %v", err)
	}
	if names, _ := d.Collections(bg); len(names) != 2 {
		t.Errorf("a refused collection was written: %v", names)
	}
}

// TestFilteredMinK checks that filtered keyword and hybrid searches return
// min(K, matching) results, all matching, however rare the filter.
func TestFilteredMinK(t *testing.T) {
	d, _ := openBuiltin(t)
	c := mustCollection(t, d, "many")
	var docs []Document
	for i := range 300 {
		docs = append(docs, Document{ID: fmt.Sprint(i), Text: fmt.Sprintf("package number %d of the archive, word%d", i, i%13),
			Metadata: map[string]any{"g": i % 50}})
	}
	if _, err := c.Insert(bg, docs...); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []Mode{ModeKeyword, ModeHybrid, ModeVector} {
		for _, tc := range []struct {
			where string
			k     int
			want  int
		}{
			{`g = 7`, 10, 6},
			{`g < 10`, 10, 10},
			{`g < 10`, 100, 60},
			{`g = 99`, 10, 0},
		} {
			res, err := c.Search(bg, "package archive", WithMode(mode), WhereExpr(tc.where), TopK(tc.k))
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != tc.want {
				t.Errorf("%v %s k=%d: %d results, want %d", mode, tc.where, tc.k, len(res), tc.want)
			}
			seen := map[string]bool{}
			for _, r := range res {
				var g int
				fmt.Sscan(r.ID, &g)
				g %= 50
				if seen[r.ID] || !matchesWhere(tc.where, g) {
					t.Errorf("%v %s: result %s (g=%d) repeated or not matching", mode, tc.where, r.ID, g)
				}
				seen[r.ID] = true
			}
		}
	}
}

func matchesWhere(where string, g int) bool {
	switch where {
	case `g = 7`:
		return g == 7
	case `g < 10`:
		return g < 10
	}
	return false
}

// bruteBM25 scores every document for query by BM25 from its text, as the
// keyword index should: N and the average length over all documents.
func bruteBM25(a *fulltext.Analyzer, docs map[string]string, query string) map[string]float64 {
	const k1, b = 1.2, 0.75
	terms := map[string][]string{}
	total := 0
	for id, t := range docs {
		terms[id] = a.Terms(nil, t)
		total += len(terms[id])
	}
	n := float64(len(docs))
	avg := float64(total) / n
	q := a.Terms(nil, query)
	slices.Sort(q)
	q = slices.Compact(q)
	out := map[string]float64{}
	for _, qt := range q {
		df := 0
		for _, ts := range terms {
			if slices.Contains(ts, qt) {
				df++
			}
		}
		if df == 0 {
			continue
		}
		idf := math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5))
		for id, ts := range terms {
			tf := 0
			for _, x := range ts {
				if x == qt {
					tf++
				}
			}
			if tf == 0 {
				continue
			}
			t := float64(tf)
			out[id] += idf * t * (k1 + 1) / (t + k1*(1-b+b*float64(len(ts))/avg))
		}
	}
	return out
}

// TestKeywordIndexProperty applies random inserts, upserts and deletes
// (through Insert, Upsert, Delete and DeleteWhere), reopens the file, and
// compares every keyword search with BM25 computed from the documents.
func TestKeywordIndexProperty(t *testing.T) {
	d, path := openTest(t)
	c := mustCollection(t, d, "p")
	rng := rand.New(rand.NewPCG(7, 14))
	words := strings.Fields("apple banana cherry delta echo foxtrot golf hotel india juliet kilo lima mike running runner runs")
	text := func() string {
		n := 1 + rng.IntN(8)
		ws := make([]string, n)
		for i := range ws {
			ws[i] = words[rng.IntN(len(words))]
		}
		return strings.Join(ws, " ")
	}
	want := map[string]string{} // ID -> text
	group := map[string]int{}   // ID -> metadata b
	ops := 120
	if testing.Short() {
		ops = 60
	}
	for range ops {
		switch op := rng.IntN(10); {
		case op < 5:
			// Half of the batches keep IDs that exist: SkipInvalid
			// stores the others, and the transaction leaves the
			// rejected ones out of the keyword index's batch.
			skipping := rng.IntN(2) == 0
			var batch []Document
			for range 1 + rng.IntN(6) {
				id := fmt.Sprint("d", rng.IntN(80))
				if _, ok := want[id]; ok && !skipping || slices.ContainsFunc(batch, func(x Document) bool { return x.ID == id }) {
					continue
				}
				batch = append(batch, Document{ID: id, Text: text(), Metadata: map[string]any{"b": rng.IntN(3)}})
			}
			var stored []Document
			for _, x := range batch {
				if _, ok := want[x.ID]; !ok {
					stored = append(stored, x)
				}
			}
			if _, err := c.InsertWith(bg, batch, SkipInvalid()); err != nil && len(stored) > 0 {
				t.Fatal(err)
			}
			for _, x := range stored {
				want[x.ID], group[x.ID] = x.Text, x.Metadata["b"].(int)
			}
		case op < 8:
			// Batches of upserts, new IDs and existing ones mixed.
			var batch []Document
			for range 1 + rng.IntN(3) {
				id := fmt.Sprint("d", rng.IntN(80))
				if slices.ContainsFunc(batch, func(x Document) bool { return x.ID == id }) {
					continue
				}
				batch = append(batch, Document{ID: id, Text: text(), Metadata: map[string]any{"b": rng.IntN(3)}})
			}
			if _, err := c.Upsert(bg, batch...); err != nil {
				t.Fatal(err)
			}
			for _, x := range batch {
				want[x.ID], group[x.ID] = x.Text, x.Metadata["b"].(int)
			}
		case op < 9:
			id := fmt.Sprint("d", rng.IntN(80))
			if _, err := c.Delete(bg, id); err != nil {
				t.Fatal(err)
			}
			delete(want, id)
		default:
			if _, err := c.DeleteWhere(bg, query.Eq("b", 2)); err != nil {
				t.Fatal(err)
			}
			for id := range want {
				if group[id] == 2 {
					delete(want, id)
				}
			}
		}
	}
	check := func(c *Collection, when string) {
		t.Helper()
		a, err := fulltext.NewAnalyzer(*c.Info().FullText)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"apple", "running", "run", "cherry delta echo", "zulu", "kilo kilo lima"} {
			res, err := c.Search(bg, q, WithMode(ModeKeyword), TopK(1000), WithFields())
			if err != nil {
				t.Fatal(err)
			}
			exp := bruteBM25(a, want, q)
			if len(res) != len(exp) {
				t.Fatalf("%s: %q: %d results, brute force %d", when, q, len(res), len(exp))
			}
			for i, r := range res {
				s, ok := exp[r.ID]
				if !ok || math.Abs(float64(r.Score)-s) > 1e-4 {
					t.Fatalf("%s: %q: #%d %s scores %v, brute force %v (present %v)", when, q, i, r.ID, r.Score, s, ok)
				}
				if i > 0 && r.Score > res[i-1].Score {
					t.Fatalf("%s: %q: not sorted at #%d", when, q, i)
				}
			}
		}
	}
	check(c, "before reopen")
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2, err := Open(path, WithEmbedder(newHashEmbedder("hash-a", 64)))
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	c2, err := d2.Collection(bg, "p")
	if err != nil {
		t.Fatal(err)
	}
	check(c2, "after reopen")
	rep, err := d2.Check(bg)
	if err != nil || !rep.OK() {
		t.Fatalf("check: %v %+v", err, rep)
	}
}

// TestHybridConcurrent searches in every mode while other goroutines
// insert, upsert and delete (run with -race).
func TestHybridConcurrent(t *testing.T) {
	d, _ := openTest(t)
	c := mustCollection(t, d, "c")
	if _, err := c.Insert(bg, animals...); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				id := fmt.Sprintf("w%d-%d", w, i%7)
				if _, err := c.Upsert(bg, Document{ID: id, Text: fmt.Sprintf("the cat number %d flies", i), Metadata: map[string]any{"kind": "pet"}}); err != nil {
					errs <- err
					return
				}
				if i%3 == 0 {
					if _, err := c.Delete(bg, id); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	for _, mode := range []Mode{ModeKeyword, ModeHybrid, ModeVector} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 40 {
				res, err := c.Search(bg, "cat flies", WithMode(mode), WhereExpr(`kind = "pet"`), WithExplain())
				if err != nil {
					errs <- err
					return
				}
				for _, r := range res {
					if r.ID == "" || r.Text == "" {
						errs <- fmt.Errorf("%v: empty result %+v", mode, r)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
