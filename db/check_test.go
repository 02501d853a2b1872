package db

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vecbolt/vecbolt/storage"
)

// checkFile writes collections "a" (40 documents) and "b" (30), both
// HNSW of dimension 4, with a number field "n", closes the file (which
// writes their snapshots) and returns its path.
func checkFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "check.vecbolt")
	d, err := Open(path, WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		n    int
	}{{"a", 40}, {"b", 30}} {
		col, err := d.CreateCollection(bg, c.name, WithDimension(4))
		if err != nil {
			t.Fatal(err)
		}
		var docs []Document
		for i := range c.n {
			v := checkVec(i)
			if c.name == "b" {
				v[0] = 2 // so that a's stored bytes are a's only
			}
			docs = append(docs, Document{ID: fmt.Sprintf("%s-%d", c.name, i), Vector: v, Metadata: map[string]any{"n": i}})
		}
		if _, err := col.Insert(bg, docs...); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkVec is checkFile's vector of document i of collection "a" ("b"'s
// starts with 2).
func checkVec(i int) []float32 {
	return []float32{1, float32(i%7) + 1, float32(i) / 3, float32(i%5) - 2}
}

// patchVector finds vec's stored bytes (little-endian float32s) in the
// file at path and lets edit change them, wherever they occur (a freed
// page may hold an old copy of the same bytes).
func patchVector(t *testing.T, path string, vec []float32, edit func([]byte)) {
	t.Helper()
	patchBefore(t, path, vec, 0, edit)
}

// patchBefore is patchVector for the back bytes before vec's bytes
// (and vec's): edit gets them from back bytes before on.
func patchBefore(t *testing.T, path string, vec []float32, back int, edit func([]byte)) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pat []byte
	for _, x := range vec {
		pat = binary.LittleEndian.AppendUint32(pat, math.Float32bits(x))
	}
	found := 0
	for off := 0; ; {
		i := bytes.Index(raw[off:], pat)
		if i < 0 {
			break
		}
		at := off + i
		edit(raw[at-back : at+len(pat)])
		found++
		off = at + len(pat)
	}
	if found == 0 {
		t.Fatalf("vector %v not found in %s", vec, path)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// damageDoc rewrites the stored document of ID id in collection "a" with
// what edit makes of it, through storage, as damage would leave it.
func damageDoc(id string, edit func(*storage.DocumentRecord)) func(*storage.Tx) error {
	return func(tx *storage.Tx) error {
		c, err := tx.Collection("a")
		if err != nil {
			return err
		}
		l, ok, err := c.Label(id)
		if err != nil || !ok {
			return fmt.Errorf("label of %s: %v %v", id, ok, err)
		}
		doc, _, err := c.Document(l)
		if err != nil {
			return err
		}
		edit(doc)
		return c.PutDocument(l, doc)
	}
}

func TestCheckReport(t *testing.T) {
	type want struct {
		kind       ProblemKind
		collection string
		document   string
	}
	cases := []struct {
		name string
		// damage runs in a write transaction on the file.
		damage func(*storage.Tx) error
		// file damages the closed file's bytes afterwards.
		file func(t *testing.T, path string)
		// old removes the field type records afterwards.
		old      bool
		verdicts map[string]Verdict
		problem  *want // one problem that must be listed
		ok       bool
	}{
		{name: "sound file", verdicts: map[string]Verdict{"a": Intact, "b": Intact}, ok: true},
		{
			name:     "document stored under another ID",
			damage:   damageDoc("a-3", func(d *storage.DocumentRecord) { d.Id = "zz" }),
			verdicts: map[string]Verdict{"a": DamagedData, "b": Intact},
			problem:  &want{ProblemIDMap, "a", "a-3"},
		},
		{
			name: "vector component NaN in the vector store",
			file: func(t *testing.T, path string) {
				patchVector(t, path, checkVec(5), func(b []byte) { binary.LittleEndian.PutUint32(b[8:], math.Float32bits(float32(math.NaN()))) })
			},
			verdicts: map[string]Verdict{"a": DamagedData, "b": Intact},
			problem:  &want{ProblemVector, "a", "a-5"},
		},
		{
			name: "vector slab header damaged",
			file: func(t *testing.T, path string) {
				// a-0's row is the first of the slab of "a"'s labels; the
				// bitmap is 12 bytes before it.
				patchBefore(t, path, checkVec(0), 12, func(b []byte) { b[0] ^= 0x40 })
			},
			verdicts: map[string]Verdict{"a": DamagedData, "b": Intact},
			problem:  &want{ProblemVector, "a", "a-6"},
		},
		{
			name: "index snapshot of junk",
			damage: func(tx *storage.Tx) error {
				c, err := tx.Collection("b")
				if err != nil {
					return err
				}
				return c.PutSnapshot(IndexHNSW, func(w io.Writer) error {
					_, err := w.Write([]byte("not a graph"))
					return err
				})
			},
			verdicts: map[string]Verdict{"a": Intact, "b": DamagedCache},
			problem:  &want{ProblemSnapshot, "b", ""},
		},
		{
			name:     "mixed field types in an old file",
			damage:   damageDoc("a-7", func(d *storage.DocumentRecord) { _, d.Metadata, _ = convertMetadata(map[string]any{"n": "big"}) }),
			old:      true,
			verdicts: map[string]Verdict{"a": Intact, "b": Intact},
			problem:  &want{ProblemFieldTypes, "a", ""},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := checkFile(t)
			if tc.damage != nil {
				st, err := storage.Open(path, storage.Options{})
				if err != nil {
					t.Fatal(err)
				}
				err = st.Update(tc.damage)
				if cerr := st.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if tc.old {
				removeFieldRecords(t, path)
			}
			if tc.file != nil {
				tc.file(t, path)
			}
			d, err := Open(path, WithEmbedder(nil), ReadOnly())
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			var steps []string
			var lastSearch CheckProgress
			rep, err := d.Check(bg, WithCheckProgress(func(p CheckProgress) {
				steps = append(steps, p.Step+" "+p.Collection)
				if p.Step == "self-search" && p.Collection == "b" {
					lastSearch = p
				}
			}))
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() != tc.ok {
				t.Errorf("OK() = %v, problems %v", rep.OK(), rep.Problems)
			}
			got := map[string]Verdict{}
			for _, c := range rep.Collections {
				got[c.Name] = c.Verdict
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.verdicts) {
				t.Errorf("verdicts %v, want %v; problems %v", got, tc.verdicts, rep.Problems)
			}
			if tc.problem != nil && !slices.ContainsFunc(rep.Problems, func(p Problem) bool {
				return p.Kind == tc.problem.kind && p.Collection == tc.problem.collection && p.Document == tc.problem.document
			}) {
				t.Errorf("no %v problem in %q about %q; problems: %#v", tc.problem.kind, tc.problem.collection, tc.problem.document, rep.Problems)
			}
			for _, p := range rep.Problems {
				if v := tc.verdicts[p.Collection]; v == Intact && p.Kind != ProblemFieldTypes || p.Message == "" {
					t.Errorf("problem %#v in a collection judged intact", p)
				}
			}
			if rep.FileDamaged || rep.Size <= 0 {
				t.Errorf("FileDamaged %v, Size %d", rep.FileDamaged, rep.Size)
			}
			if !tc.ok {
				return
			}
			if rep.Documents != 70 || rep.Searched != 70 || rep.Collections[0].Documents != 40 || rep.Collections[1].Searched != 30 {
				t.Errorf("counts: %+v", rep)
			}
			wantSteps := []string{"pages ", "records a", "records b", "load a", "self-search a", "self-search a", "load b", "self-search b", "self-search b"}
			if !slices.Equal(steps, wantSteps) || lastSearch.Done != 30 || lastSearch.Total != 30 {
				t.Errorf("progress %q, last %+v", steps, lastSearch)
			}
		})
	}
}

// Check fails to run only on bad options, a closed DB or a cancelled
// context; a damaged file is what its report is for.
func TestCheckErrors(t *testing.T) {
	path := checkFile(t)
	d, err := Open(path, WithEmbedder(nil), ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Check(bg, WithCheckSample(-1)); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("negative sample: %v", err)
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := d.Check(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	// Cancelled halfway, during the self-searches.
	ctx, cancel = context.WithCancel(bg)
	defer cancel()
	if _, err := d.Check(ctx, WithCheckProgress(func(p CheckProgress) {
		if p.Step == "self-search" {
			cancel()
		}
	})); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled during the searches: %v", err)
	}
	// At most 7 per collection, evenly spaced: every 6th of 40, every
	// 5th of 30.
	rep, err := d.Check(bg, WithCheckSample(7))
	if err != nil || !rep.OK() || rep.Searched != 7+6 {
		t.Errorf("sample 7: searched %d, %v, %v", rep.Searched, err, rep.Problems)
	}
	d.Close()
	if _, err := d.Check(bg); !errors.Is(err, ErrClosed) {
		t.Errorf("closed: %v", err)
	}
}
