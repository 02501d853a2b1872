package evalsets

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWordNetHeldOutPinned(t *testing.T) {
	// Values computed independently (Python hashlib); these decide what
	// the shipped model never saw, so they must not move.
	for key, want := range map[string]bool{
		"n00000001": true, "n00000004": true, "n00000017": true,
		"n00001740": false, "n00002137": false, "v00001740": false,
	} {
		if got := WordNetHeldOut(key); got != want {
			t.Errorf("WordNetHeldOut(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestParseSynset(t *testing.T) {
	tests := []struct {
		name, line, pos string
		want            Synset
		err             string
	}{
		{
			name: "noun with hypernym and example",
			line: `00002137 03 n 02 abstraction 0 abstract_Entity 0 002 @ 00001740 n 0000 + 00692347 v 0101 | a general concept; "an example"  `,
			pos:  "n",
			want: Synset{Key: "n00002137", Lemmas: []string{"abstraction", "abstract entity"},
				Def: "a general concept", Gloss: `a general concept; "an example"`, Related: []string{"n00001740"}},
		},
		{
			name: "satellite adjective with marker and similar-to",
			line: `00020103 00 s 02 outback(a) 0 remote 0 001 & 00019874 a 0000 | inaccessible and sparsely populated;  `,
			pos:  "a",
			want: Synset{Key: "a00020103", Lemmas: []string{"outback", "remote"},
				Def: "inaccessible and sparsely populated", Gloss: "inaccessible and sparsely populated;", Related: []string{"a00019874"}},
		},
		{name: "short", line: "00001740 03 n", pos: "n", err: "short synset line"},
		{name: "bad word count", line: "00001740 03 n zz entity 0 000 | x", pos: "n", err: "word count"},
		{name: "truncated words", line: "00001740 03 n 05 entity 0 000 | x", pos: "n", err: "truncated word list"},
		{name: "no pointer count", line: "00001740 03 n 01 entity 0", pos: "n", err: "missing pointer count"},
		{name: "bad pointer count", line: "00001740 03 n 01 entity 0 x | y", pos: "n", err: "pointer count"},
		{name: "truncated pointers", line: "00001740 03 n 01 entity 0 002 @ 00000001 n 0000 | y", pos: "n", err: "truncated pointer list"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSynset(tc.line, tc.pos)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Key != tc.want.Key || !slices.Equal(s.Lemmas, tc.want.Lemmas) || s.Def != tc.want.Def ||
				s.Gloss != tc.want.Gloss || !slices.Equal(s.Related, tc.want.Related) || s.HeldOut != WordNetHeldOut(tc.want.Key) {
				t.Fatalf("got %+v\nwant %+v", *s, tc.want)
			}
		})
	}
}

// writeWordNet writes a tiny WordNet database: two held-out synsets
// (n00000001, n00000004) and one that is not (n00001740).
func writeWordNet(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	noun := "  1 This software and database is provided as is\n" +
		"00000001 03 n 03 canine 0 dog 0 hot_dog 0 000 | a domesticated carnivorous mammal; \"the dog barked\"\n" +
		"00000004 03 n 02 cat 0 feline 0 001 @ 00000001 n 0000 | a small cat kept as a pet\n" +
		"00001740 03 n 01 entity 0 000 | that which exists\n"
	files := map[string]string{"data.noun": noun, "data.verb": "", "data.adj": "", "data.adv": ""}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestSynonymQueries(t *testing.T) {
	wn, err := ReadWordNet(writeWordNet(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(wn.Synsets) != 3 || wn.ByKey["n00000004"] != wn.Synsets[1] {
		t.Fatalf("synsets %+v", wn.Synsets)
	}
	if got := wn.Definitions(); !slices.Equal(got, []string{"a domesticated carnivorous mammal", "a small cat kept as a pet", "that which exists"}) {
		t.Fatalf("definitions %q", got)
	}
	// canine and dog qualify; "hot dog" has a space; cat is in its own
	// definition; entity is not held out.
	qs := wn.SynonymQueries()
	var got []string
	for _, q := range qs {
		got = append(got, q.Lemma)
		if q.Doc < 0 || q.Doc >= len(wn.Synsets) || wn.Synsets[q.Doc].Key != q.Key {
			t.Fatalf("query %+v points at the wrong synset", q)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"canine", "dog", "feline"}) {
		t.Fatalf("queries %q", got)
	}
	// The order is fixed by the hash, not by reading order.
	wn.Synsets[0], wn.Synsets[1] = wn.Synsets[1], wn.Synsets[0]
	again := wn.SynonymQueries()
	for i := range qs {
		if qs[i].Lemma != again[i].Lemma || qs[i].Key != again[i].Key {
			t.Fatalf("order depends on reading order: %+v vs %+v", qs, again)
		}
	}
}

func TestReadWordNetErrors(t *testing.T) {
	if _, err := ReadWordNet(t.TempDir()); err == nil || !strings.Contains(err.Error(), "data.noun") {
		t.Fatalf("missing files: %v", err)
	}
	dir := writeWordNet(t)
	if err := os.WriteFile(filepath.Join(dir, "data.verb"), []byte("00000001 29 v zz\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadWordNet(dir); err == nil || !strings.Contains(err.Error(), "data.verb line 1") {
		t.Fatalf("bad line: %v", err)
	}
}

func TestTerms(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"A dog's life, (informal)", []string{"a", "dog", "s", "life", "informal"}},
		{"naïve café 42", []string{"naïve", "café", "42"}},
		{"", nil},
		{"--", nil},
	}
	for _, tc := range tests {
		if got := Terms(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Terms(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzParseSynset(f *testing.F) {
	f.Add(`00002137 03 n 02 abstraction 0 abstract_entity 0 001 @ 00001740 n 0000 | a general concept; "x"`, "n")
	f.Add(`00020103 00 s 02 outback(a) 0 remote 0 001 & 00019874 s 0000 | inaccessible;`, "a")
	f.Add("00001740 03 n 7fffffff x", "n")
	f.Fuzz(func(t *testing.T, line, pos string) {
		s, err := ParseSynset(line, pos)
		if err != nil {
			return
		}
		if !strings.HasPrefix(s.Key, pos) || strings.Contains(s.Def, `"`) {
			t.Fatalf("synset %+v from %q", *s, line)
		}
	})
}

func FuzzTerms(f *testing.F) {
	f.Add("A dog's life, (informal)")
	f.Add("naïve \xff\xfe café")
	f.Fuzz(func(t *testing.T, s string) {
		for _, w := range Terms(s) {
			if w == "" || !strings.Contains(strings.ToLower(s), w) {
				t.Fatalf("term %q not in %q", w, s)
			}
		}
	})
}

func TestWordNetDevPinned(t *testing.T) {
	// Values computed independently (Python hashlib): sha1("wn:"+key) % 10
	// == 1. They decide what the model never trains on, so they must not
	// move, and no synset may be both dev and held out.
	for key, want := range map[string]bool{
		"n00000021": true, "n00000034": true, "n00000055": true,
		"n00000001": false, "n00001740": false, "n00000008": false,
	} {
		if got := WordNetDev(key); got != want {
			t.Errorf("WordNetDev(%q) = %v, want %v", key, got, want)
		}
		if WordNetDev(key) && WordNetHeldOut(key) {
			t.Errorf("%q is both dev and held out", key)
		}
	}
}

func TestDevSynonymQueries(t *testing.T) {
	dir := t.TempDir()
	noun := "00000021 03 n 02 hound 0 mutt 0 000 | a dog of no breed\n" +
		"00000001 03 n 01 canine 0 000 | a domesticated carnivorous mammal\n" +
		"00001740 03 n 01 entity 0 000 | that which exists\n"
	for name, text := range map[string]string{"data.noun": noun, "data.verb": "", "data.adj": "", "data.adv": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wn, err := ReadWordNet(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name             string
		qs               []SynonymQuery
		want             []string
		dev, held, other bool
	}{
		{"dev", wn.DevSynonymQueries(), []string{"hound", "mutt"}, true, false, false},
		{"eval", wn.SynonymQueries(), []string{"canine"}, false, true, false},
	} {
		var got []string
		for _, q := range tc.qs {
			got = append(got, q.Lemma)
			s := wn.Synsets[q.Doc]
			if s.Dev != tc.dev || s.HeldOut != tc.held || !s.Reserved() {
				t.Errorf("%s query %+v comes from synset %+v", tc.name, q, *s)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s queries %q, want %q", tc.name, got, tc.want)
		}
	}
	if wn.ByKey["n00001740"].Reserved() {
		t.Error("a training synset is reserved")
	}
}
