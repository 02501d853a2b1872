package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/db"
)

func TestEmbedCommand(t *testing.T) {
	m := testModel()
	texts := []string{"red apples", "green pears and plums"}
	want, _ := m.EmbedDocuments(context.Background(), texts)

	o := vb(t, "", append([]string{"embed"}, texts...)...)
	if o.code != 0 {
		t.Fatalf("exit %d: %s", o.code, o.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(o.stdout, "\n"), "\n")
	if len(lines) != len(texts) {
		t.Fatalf("%d lines for %d texts:\n%s", len(lines), len(texts), o.stdout)
	}
	for i, line := range lines {
		var got []float32
		for f := range strings.FieldsSeq(line) {
			x, err := strconv.ParseFloat(f, 32)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, float32(x))
		}
		if !slices.Equal(got, want[i]) {
			t.Errorf("line %d = %v, want %v", i, got, want[i])
		}
	}

	o = vb(t, "", "embed", "--json", "--query", "red apples")
	var js jsonEmbedding
	if err := json.Unmarshal([]byte(o.stdout), &js); err != nil || o.code != 0 {
		t.Fatalf("embed --json: %v %s %s", err, o.stdout, o.stderr)
	}
	if js.Model != "test-words" || js.Side != "query" || !slices.Equal(js.Texts, []string{"red apples"}) || !slices.Equal(js.Vectors[0], want[0]) {
		t.Errorf("embed --json = %+v", js)
	}
}

func TestSimilarityCommand(t *testing.T) {
	texts := []string{"red apples", "red apples and pears", "a fast car"}
	o := vb(t, "", append([]string{"similarity", "--json"}, texts...)...)
	var js jsonSimilarity
	if err := json.Unmarshal([]byte(o.stdout), &js); err != nil || o.code != 0 {
		t.Fatalf("similarity --json: %v %s %s", err, o.stdout, o.stderr)
	}
	want, err := db.SimilarityWith(context.Background(), testModel(), texts...)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(js.Texts, texts) || len(js.Matrix) != 3 {
		t.Fatalf("similarity --json = %+v", js)
	}
	for i := range want {
		if !slices.Equal(js.Matrix[i], want[i]) {
			t.Errorf("row %d = %v, want %v", i, js.Matrix[i], want[i])
		}
	}
	o = vb(t, "", append([]string{"similarity"}, texts...)...)
	if wantLine := fmt.Sprintf(" 1 ~ 2   %7.4f\n", want[0][1]); o.code != 0 || !strings.Contains(o.stdout, wantLine) {
		t.Errorf("similarity output lacks %q:\n%s", wantLine, o.stdout)
	}
}

// TestSimilarityBuiltinCLI runs the classic check through the command
// with the real built-in model.
func TestSimilarityBuiltinCLI(t *testing.T) {
	o := vbOpts(t, "", []option{withTerminal(false)}, "similarity", "--json",
		"I love machine learning", "Artificial intelligence is amazing", "Bananas are yellow")
	var js jsonSimilarity
	if err := json.Unmarshal([]byte(o.stdout), &js); err != nil || o.code != 0 {
		t.Fatalf("similarity --json: %v %s %s", err, o.stdout, o.stderr)
	}
	if js.Matrix[0][1] <= js.Matrix[0][2] {
		t.Errorf("ML~AI %.4f not above ML~bananas %.4f", js.Matrix[0][1], js.Matrix[0][2])
	}
}

// toolboxDB builds a small labelled collection "c" through the CLI.
func toolboxDB(t *testing.T) string {
	t.Helper()
	dbp := tempDB(t)
	in := jsonl(
		`{"id":"apple","text":"red apple fruit","metadata":{"kind":"fruit","n":1}}`,
		`{"id":"pear","text":"green pear fruit","metadata":{"kind":"fruit","n":2}}`,
		`{"id":"plum","text":"purple plum fruit","metadata":{"kind":"fruit","n":3}}`,
		`{"id":"car","text":"fast red car engine","metadata":{"kind":"vehicle","n":4}}`,
		`{"id":"bus","text":"slow city bus engine","metadata":{"kind":"vehicle","n":5}}`,
		`{"id":"cherry","text":"red cherry fruit","metadata":{"n":6}}`,
	)
	if o := vb(t, in, "import", "--db", dbp, "--collection", "c", "-"); o.code != 0 {
		t.Fatalf("import: %s", o.stderr)
	}
	return dbp
}

// libraryCollection opens dbp read-only with the test model for comparing
// the commands' output with the library's.
func libraryCollection(t *testing.T, dbp string) *db.Collection {
	t.Helper()
	d, err := db.Open(dbp, db.ReadOnly(), db.WithEmbedder(testModel()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	c, err := d.Collection(context.Background(), "c")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sameHits(t *testing.T, what string, got []jsonResult, want []db.Result) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %v, want %v", what, ids(got), want)
	}
	for i := range got {
		if got[i].ID != want[i].ID || got[i].Score != want[i].Score {
			t.Fatalf("%s: result %d = %s %v, want %s %v", what, i, got[i].ID, got[i].Score, want[i].ID, want[i].Score)
		}
	}
}

func TestSimilarRecommendCommands(t *testing.T) {
	dbp := toolboxDB(t)
	ctx := context.Background()
	tests := []struct {
		name string
		args []string
		lib  func(c *db.Collection) ([]db.Result, error)
	}{
		{"similar", []string{"similar", "apple"}, func(c *db.Collection) ([]db.Result, error) {
			return c.Similar(ctx, "apple")
		}},
		{"similar k where", []string{"similar", "--k", "2", "--where", "n >= 3", "apple"}, func(c *db.Collection) ([]db.Result, error) {
			return c.Similar(ctx, "apple", db.TopK(2), db.WhereExpr("n >= 3"))
		}},
		{"recommend", []string{"recommend", "--positive", "apple,pear", "--negative", "car"}, func(c *db.Collection) ([]db.Result, error) {
			return c.Recommend(ctx, db.Recommendation{Positive: db.ExamplesByID("apple", "pear"), Negative: db.ExamplesByID("car")})
		}},
		{"recommend repeated best", []string{"recommend", "--positive", "apple", "--positive", "bus", "--strategy", "best", "--k", "3"}, func(c *db.Collection) ([]db.Result, error) {
			return c.Recommend(ctx, db.Recommendation{Positive: db.ExamplesByID("apple", "bus"), Strategy: db.BestScore}, db.TopK(3))
		}},
		{"recommend where", []string{"recommend", "--positive", "apple", "--where", `kind = "vehicle"`}, func(c *db.Collection) ([]db.Result, error) {
			return c.Recommend(ctx, db.Recommendation{Positive: db.ExamplesByID("apple")}, db.WhereExpr(`kind = "vehicle"`))
		}},
		{"recommend texts", []string{"recommend", "--positive-text", "red fruit, ripe", "--negative", "cherry", "--negative-text", "engine"}, func(c *db.Collection) ([]db.Result, error) {
			return c.Recommend(ctx, db.Recommendation{Positive: []db.Example{{Text: "red fruit, ripe"}}, Negative: []db.Example{{ID: "cherry"}, {Text: "engine"}}})
		}},
	}
	c := libraryCollection(t, dbp)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string(nil), tc.args...), "--db", dbp, "--collection", "c", "--json")
			o := vb(t, "", args...)
			if o.code != 0 {
				t.Fatalf("exit %d: %s", o.code, o.stderr)
			}
			var got []jsonResult
			if err := json.Unmarshal([]byte(o.stdout), &got); err != nil {
				t.Fatal(err)
			}
			want, err := tc.lib(c)
			if err != nil {
				t.Fatal(err)
			}
			sameHits(t, tc.name, got, want)
			for _, r := range got {
				if slices.Contains(tc.args, r.ID) || strings.Contains(strings.Join(tc.args, " "), r.ID+",") {
					t.Errorf("example %s came back", r.ID)
				}
			}
			// The text form lists the same documents.
			o = vb(t, "", args[:len(args)-1]...)
			if o.code != 0 || (len(got) > 0 && !strings.Contains(o.stdout, " 1. ")) {
				t.Errorf("text output: %s %s", o.stdout, o.stderr)
			}
		})
	}
}

func TestClassifyCommand(t *testing.T) {
	dbp := toolboxDB(t)
	o := vb(t, "", "classify", "--db", dbp, "--collection", "c", "--field", "kind", "--k", "3", "--json", "red fruit salad")
	if o.code != 0 {
		t.Fatalf("exit %d: %s", o.code, o.stderr)
	}
	var got jsonClassification
	if err := json.Unmarshal([]byte(o.stdout), &got); err != nil {
		t.Fatal(err)
	}
	want, err := libraryCollection(t, dbp).Classify(context.Background(), "red fruit salad", "kind", db.TopK(3))
	if err != nil {
		t.Fatal(err)
	}
	if got.Label != "fruit" || got.Label != want.Label || len(got.Scores) != len(want.Scores) {
		t.Fatalf("classify --json = %+v, want %+v", got, want)
	}
	var sum float64
	for l, s := range got.Scores {
		sum += s
		if math.Abs(s-want.Scores[l]) > 1e-12 {
			t.Errorf("score of %s = %v, want %v", l, s, want.Scores[l])
		}
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("scores sum to %v", sum)
	}
	o = vb(t, "", "classify", "--db", dbp, "--collection", "c", "--field", "kind", "city bus")
	if o.code != 0 || !strings.HasPrefix(o.stdout, "vehicle\n") {
		t.Errorf("classify text output: %q %s", o.stdout, o.stderr)
	}
}

func TestToolboxErrors(t *testing.T) {
	dbp := toolboxDB(t)
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"embed nothing", []string{"embed"}, 2, "at least one TEXT"},
		{"embed blank", []string{"embed", "ok", " "}, 1, "text 1: empty text"},
		{"similarity one", []string{"similarity", "a"}, 2, "at least two TEXT"},
		{"similarity bad model", []string{"similarity", "--model", t.TempDir(), "a", "b"}, 1, ""},
		{"similar no collection", []string{"similar", "--db", dbp, "apple"}, 2, "--collection NAME is required"},
		{"similar no id", []string{"similar", "--db", dbp, "--collection", "c"}, 2, "exactly one ID"},
		{"similar unknown", []string{"similar", "--db", dbp, "--collection", "c", "nope"}, 1, `no document with ID "nope"`},
		{"similar bad k", []string{"similar", "--db", dbp, "--collection", "c", "--k", "0", "apple"}, 2, "--k 0"},
		{"similar bad where", []string{"similar", "--db", dbp, "--collection", "c", "--where", "n = ", "apple"}, 1, "filter"},
		{"similar no file", []string{"similar", "--db", dbp + ".missing", "--collection", "c", "apple"}, 1, "no such file"},
		{"recommend no positive", []string{"recommend", "--db", dbp, "--collection", "c", "--negative", "car"}, 2, "--positive ID[,ID...] or --positive-text"},
		{"recommend blank text", []string{"recommend", "--db", dbp, "--collection", "c", "--positive-text", " "}, 1, "empty text"},
		{"recommend empty id", []string{"recommend", "--db", dbp, "--collection", "c", "--positive", "apple,,pear"}, 2, "empty ID"},
		{"recommend bad strategy", []string{"recommend", "--db", dbp, "--collection", "c", "--positive", "apple", "--strategy", "max"}, 2, "--strategy"},
		{"recommend positional", []string{"recommend", "--db", dbp, "--collection", "c", "--positive", "apple", "pear"}, 2, "no positional"},
		{"recommend unknown", []string{"recommend", "--db", dbp, "--collection", "c", "--positive", "apple,yeti"}, 1, `"yeti"`},
		{"recommend both", []string{"recommend", "--db", dbp, "--collection", "c", "--positive", "apple", "--negative", "apple"}, 1, "both a positive and a negative"},
		{"classify no field", []string{"classify", "--db", dbp, "--collection", "c", "x"}, 2, "--field NAME is required"},
		{"classify unknown field", []string{"classify", "--db", dbp, "--collection", "c", "--field", "colour", "x"}, 1, `label field "colour"`},
		{"classify number field", []string{"classify", "--db", dbp, "--collection", "c", "--field", "n", "red"}, 0, ""},
		{"classify two texts", []string{"classify", "--db", dbp, "--collection", "c", "--field", "kind", "a", "b"}, 2, "exactly one TEXT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := vb(t, "", tc.args...)
			if o.code != tc.code || !strings.Contains(o.stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", o.code, o.stderr, tc.code, tc.stderr)
			}
		})
	}
}

// FuzzIDList checks the --positive/--negative parser: it accepts exactly
// the inputs whose comma-separated items are all non-blank, and then
// yields those items trimmed, in order.
func FuzzIDList(f *testing.F) {
	for _, s := range []string{"a", "a,b", " a , b ", "a,,b", ",", "", "é,\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var l idList
		err := l.Set(s)
		var want []string
		ok := true
		for _, item := range strings.Split(s, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				ok = false
			}
			want = append(want, item)
		}
		if ok != (err == nil) {
			t.Fatalf("Set(%q) = %v, want ok=%v", s, err, ok)
		}
		if ok && !slices.Equal(l, want) {
			t.Fatalf("Set(%q) gave %q, want %q", s, l, want)
		}
		if !ok && len(l) != 0 {
			t.Fatalf("Set(%q) failed but kept %q", s, l)
		}
	})
}

// TestEmbedModelFlag: embed and similarity take --model as add does, and
// embed's document side is exactly what add stores.
func TestEmbedModelFlag(t *testing.T) {
	model := writeStaticModel(t)
	noDefault := []option{withTerminal(false)}
	dbp := tempDB(t)
	if o := vbOpts(t, "", noDefault, "add", "--db", dbp, "--collection", "c", "--model", model, "--id", "x", "the cats"); o.code != 0 {
		t.Fatal(o.stderr)
	}
	o := vbOpts(t, "", noDefault, "get", "--db", dbp, "--collection", "c", "--json", "--vector", "x")
	var stored []struct {
		Vector []float32 `json:"vector"`
	}
	if err := json.Unmarshal([]byte(o.stdout), &stored); err != nil || len(stored) != 1 {
		t.Fatalf("get: %v %s %s", err, o.stdout, o.stderr)
	}
	o = vbOpts(t, "", noDefault, "embed", "--model", model, "--json", "the cats")
	var js jsonEmbedding
	if err := json.Unmarshal([]byte(o.stdout), &js); err != nil || o.code != 0 {
		t.Fatalf("embed --model: %v %s %s", err, o.stdout, o.stderr)
	}
	if !slices.Equal(js.Vectors[0], stored[0].Vector) || js.Side != "document" {
		t.Errorf("embed gave %v (%s side), add stored %v", js.Vectors[0], js.Side, stored[0].Vector)
	}

	o = vbOpts(t, "", noDefault, "similarity", "--model", model, "--json", "cat", "dog", "car")
	var sim jsonSimilarity
	if err := json.Unmarshal([]byte(o.stdout), &sim); err != nil || o.code != 0 {
		t.Fatalf("similarity --model: %v %s %s", err, o.stdout, o.stderr)
	}
	if !(sim.Matrix[0][1] > 0.9 && sim.Matrix[0][2] < 0.1) {
		t.Errorf("cat~dog %v, cat~car %v with the tiny model", sim.Matrix[0][1], sim.Matrix[0][2])
	}
	if o := vbOpts(t, "", noDefault, "embed", "--model", "no-such-model-anywhere", "x"); o.code != 1 || !strings.Contains(o.stderr, "unknown model") {
		t.Errorf("unknown model: %d %s", o.code, o.stderr)
	}
}
