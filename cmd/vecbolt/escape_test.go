package main

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// rawUnsafe returns the first rune of s a terminal could act on, if any.
func rawUnsafe(s string) (rune, bool) {
	for i, r := range s {
		if r == '\n' {
			continue // the output's own line ends
		}
		if r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			return r, true
		}
		if unsafeRune(r) {
			return r, true
		}
	}
	return 0, false
}

func TestEscapeText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"Grüße, 日本語, emoji 👨‍👩‍👧 and a\u00a0nbsp", "Grüße, 日本語, emoji 👨‍👩‍👧 and a\u00a0nbsp"},
		{`back\slash "quotes"`, `back\slash "quotes"`},
		{"red \x1b[31mRED\x1b[0m", `red \x1b[31mRED\x1b[0m`},
		{"title \x1b]0;pwned\x07", `title \x1b]0;pwned\x07`},
		{"a\nb\r\nc\td", `a\nb\r\nc\td`},
		{"nul\x00del\x7f", `nul\x00del\x7f`},
		{"c1 csi \u009b31m nel \u0085", `c1 csi \u009b31m nel \u0085`},
		{"file\u202etxt.exe", `file\u202etxt.exe`},
		{"iso\u2066late\u2069 lrm\u200e alm\u061c", `iso\u2066late\u2069 lrm\u200e alm\u061c`},
		{"line\u2028para\u2029", `line\u2028para\u2029`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"real \uFFFD replacement", "real \uFFFD replacement"},
	}
	for _, c := range cases {
		got := escapeText(c.in)
		if got != c.want {
			t.Errorf("escapeText(%q) = %q, want %q", c.in, got, c.want)
		}
		if r, bad := rawUnsafe(strings.ReplaceAll(got, "\n", "")); bad {
			t.Errorf("escapeText(%q) left %U raw", c.in, r)
		}
	}
}

func TestSafeName(t *testing.T) {
	cases := []struct{ in, want string }{
		{"doc-1", "doc-1"},
		{"naïve/日本", "naïve/日本"},
		{`with\backslash`, `with\backslash`},
		{"", `""`},
		{`"looks quoted"`, `"\"looks quoted\""`},
		{"a\nb", `"a\nb"`},
		{"esc\x1b[2J", `"esc\x1b[2J"`},
		{"rlo\u202eexe.txt", `"rlo\u202eexe.txt"`},
		{"bad\xff", `"bad\xff"`},
	}
	for _, c := range cases {
		if got := safeName(c.in); got != c.want {
			t.Errorf("safeName(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestOneLine(t *testing.T) {
	long := strings.Repeat("é", 3000) // 6000 bytes
	cases := []struct{ in, want string }{
		{"simple error", "simple error"},
		{"first\nsecond\r\nthird\rfourth", "first; second; third fourth"},
		{"open /tmp/\x1b[31mx: no such file", `open /tmp/\x1b[31mx: no such file`},
		{"bidi \u202e", `bidi \u202e`},
		{long, strings.Repeat("é", 2048) + "… (1904 more bytes)"},
	}
	for _, c := range cases {
		if got := oneLine(c.in); got != c.want {
			t.Errorf("oneLine(%.40q) = %.80q, want %.80q", c.in, got, c.want)
		}
	}
}

func TestJSONSafe(t *testing.T) {
	cases := []string{
		"plain", "ctl \x1b[31m\n\t\x00", "del \x7f", "c1 \u009b\u0085", "bidi \u202e\u2066\u200f", "sep \u2028\u2029", "ok é 日本 👍",
	}
	for _, s := range cases {
		var buf strings.Builder
		if err := jsonOut(&buf, map[string]any{s: []string{s}}); err != nil {
			t.Fatal(err)
		}
		if r, bad := rawUnsafe(buf.String()); bad {
			t.Errorf("JSON of %q holds %U raw: %s", s, r, buf.String())
		}
		var back map[string][]string
		if err := json.Unmarshal([]byte(buf.String()), &back); err != nil || !reflect.DeepEqual(back, map[string][]string{s: {s}}) {
			t.Errorf("JSON of %q does not decode back: %v %q", s, err, back)
		}
	}
}

// A document full of terminal escapes, newlines and bidi overrides prints
// escaped in search and get, stays exact in --json, and does not leak into
// error messages.
func TestHostileOutput(t *testing.T) {
	dbp := tempDB(t)
	const (
		id   = "evil\x1b[31m\n 2. 0.9999  forged\u202e"
		text = "a\x1b]0;pwned\x07 b\u009b2J c\u202etxt.exe\nid: forged\tx"
	)
	line := `{"id":"evil\u001b[31m\n 2. 0.9999  forged\u202e","text":"a\u001b]0;pwned\u0007 b\u009b2J c\u202etxt.exe\nid: forged\tx",` +
		`"metadata":{"k\u001b[2Jey":"v\u001bal\nue","tags":["x\u001b[0m","y\u2066z"]},"vector":[1,0,0]}`
	if o := vb(t, jsonl(line), "import", "--db", dbp, "--collection", "v", "--dim", "3", "-"); o.code != 0 {
		t.Fatalf("import: %d %s", o.code, o.stderr)
	}
	human := []struct {
		name string
		args []string
		want []string // escaped forms that must appear
	}{
		{"search", []string{"search", "--db", dbp, "--collection", "v", "--vector", "[1,0,0]"},
			[]string{`"evil\x1b[31m\n 2. 0.9999  forged\u202e"`, `"k\x1b[2Jey"="v\x1bal\nue"`, `tags=["x\x1b[0m","y\u2066z"]`, `a\x1b]0;pwned\x07 b\u009b2J c\u202etxt.exe id: forged x`}},
		{"get", []string{"get", "--db", dbp, "--collection", "v", id},
			[]string{`id: "evil\x1b[31m\n 2. 0.9999  forged\u202e"`, `text: a\x1b]0;pwned\x07 b\u009b2J c\u202etxt.exe\nid: forged\tx`}},
	}
	for _, h := range human {
		o := vb(t, "", h.args...)
		if o.code != 0 {
			t.Fatalf("%s: %d %s", h.name, o.code, o.stderr)
		}
		if r, bad := rawUnsafe(o.stdout); bad {
			t.Errorf("%s prints %U raw:\n%s", h.name, r, o.stdout)
		}
		if n := strings.Count(o.stdout, "\n"); (h.name == "search" && n != 2) || (h.name == "get" && n != 4) {
			t.Errorf("%s: %d output lines, the document forged some:\n%s", h.name, n, o.stdout)
		}
		for _, w := range h.want {
			if !strings.Contains(o.stdout, w) {
				t.Errorf("%s output lacks %s:\n%s", h.name, w, o.stdout)
			}
		}
	}
	// JSON keeps the exact values.
	res := searchJSON(t, dbp, "v", "--vector", "[1,0,0]")
	if len(res) != 1 || res[0].ID != id || res[0].Text != text || res[0].Metadata["k\x1b[2Jey"] != "v\x1bal\nue" {
		t.Errorf("search --json: %+v", res)
	}
	o := vb(t, "", "get", "--db", dbp, "--collection", "v", "--json", id)
	var docs []jsonDoc
	if err := json.Unmarshal([]byte(o.stdout), &docs); err != nil || len(docs) != 1 || docs[0].ID != id || docs[0].Text != text {
		t.Errorf("get --json: %v %+v", err, docs)
	}
	if r, bad := rawUnsafe(o.stdout); bad {
		t.Errorf("get --json prints %U raw", r)
	}
	// Errors quoting hostile input.
	for _, args := range [][]string{
		{"get", "--db", dbp, "--collection", "v", "missing\x1b[2J\u202e"},
		{"get", "--db", dbp, "--collection", "v\x1b[2J", "x"},
		{"search", "--db", dbp + "\x1b[2J", "--collection", "v", "q"},
		{"frobnicate\x1b[2J"},
	} {
		o := vb(t, "", args...)
		if o.code == 0 {
			t.Errorf("%q succeeded", args)
		}
		if r, bad := rawUnsafe(o.stderr); bad {
			t.Errorf("%q: stderr holds %U raw: %q", args, r, o.stderr)
		}
	}
}

// Errors quoting huge input stay short and keep their reason.
func TestErrorLineCapped(t *testing.T) {
	dbp := tempDB(t)
	if o := vb(t, "", "add", "--db", dbp, "--collection", "v", "--dim", "2", "--vector", "[1,0]", "x"); o.code != 0 {
		t.Fatal(o.stderr)
	}
	huge := strings.Repeat("x", 1<<20)
	many := []string{"get", "--db", dbp, "--collection", "v"}
	for i := range 20000 {
		many = append(many, "missing-"+strings.Repeat("m", i%5))
	}
	cases := []struct {
		name  string
		stdin string
		args  []string
		want  []string
	}{
		{"get a 1 MiB ID", "", []string{"get", "--db", dbp, "--collection", "v", huge}, []string{"has no document", "more bytes"}},
		{"get 20000 missing IDs", "", many, []string{"and 19990 more"}},
		{"import a 1 MiB ID", `{"id":"` + huge + `","vector":[1,0]}` + "\n", []string{"import", "--db", dbp, "--collection", "v", "-"},
			[]string{"line 1 (id ", "more bytes", "exceeds 512"}},
	}
	for _, c := range cases {
		o := vb(t, c.stdin, c.args...)
		if o.code != exitRuntime || len(o.stderr) > 1500 {
			t.Errorf("%s: exit %d, %d bytes on stderr: %.300s", c.name, o.code, len(o.stderr), o.stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(o.stderr, w) {
				t.Errorf("%s: stderr lacks %q: %.1500s", c.name, w, o.stderr)
			}
		}
	}
}

// Whatever a document holds, escaped output has no rune a terminal acts
// on, a quoted name reads back exactly, and JSON output decodes back.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"plain", "a\x1b[31mb\n", "\u202e\u2066", "\xff\xfe", `"q"`, "é\u0085\u009b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if r, bad := rawUnsafe(escapeText(s)); bad || strings.Contains(escapeText(s), "\n") {
			t.Fatalf("escapeText(%q) leaves %U", s, r)
		}
		n := safeName(s)
		if r, bad := rawUnsafe(n); bad || strings.Contains(n, "\n") {
			t.Fatalf("safeName(%q) leaves %U", s, r)
		}
		if n != s {
			if back, err := strconv.Unquote(n); err != nil || back != s {
				t.Fatalf("safeName(%q) = %s does not read back: %v", s, n, err)
			}
		}
		if r, bad := rawUnsafe(oneLine(s)); bad || strings.Contains(oneLine(s), "\n") {
			t.Fatalf("oneLine(%q) leaves %U", s, r)
		}
		var buf strings.Builder
		if err := jsonOut(&buf, []string{s}); err != nil {
			t.Fatal(err)
		}
		if r, bad := rawUnsafe(buf.String()); bad {
			t.Fatalf("JSON of %q holds %U", s, r)
		}
		var back []string
		if err := json.Unmarshal([]byte(buf.String()), &back); err != nil || len(back) != 1 || (utf8.ValidString(s) && back[0] != s) {
			t.Fatalf("JSON of %q reads back as %q (%v)", s, back, err)
		}
	})
}
