package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// shrinkableDB is buildDB(n) with all documents but every fifth deleted.
func shrinkableDB(t *testing.T, n int) string {
	t.Helper()
	dbp := buildDB(t, n)
	args := []string{"delete", "--db", dbp, "--collection", "c"}
	for i := range n {
		if i%5 != 0 {
			args = append(args, fmt.Sprintf("doc-%04d", i))
		}
	}
	if o := vb(t, "", args...); o.code != 0 {
		t.Fatalf("delete: %s", o.stderr)
	}
	return dbp
}

var compactLine = regexp.MustCompile(`^compacted .*: (.+) before, (.+) after \((.*)\)\n$`)

func TestCompactCommand(t *testing.T) {
	const n = 600
	type setup struct{ dbp, out string }
	cases := []struct {
		name string
		// args gets the paths of the database and of OUT.
		args     func(s setup) []string
		existing bool // OUT exists beforehand
		code     int
		stderr   string // substring
		// compacted names the file that must hold the compacted copy.
		compacted func(s setup) string
	}{
		{name: "to OUT", args: func(s setup) []string { return []string{"--db", s.dbp, s.out} },
			compacted: func(s setup) string { return s.out }},
		{name: "in place", args: func(s setup) []string { return []string{"--db", s.dbp, "--in-place"} },
			compacted: func(s setup) string { return s.dbp }},
		{name: "existing OUT", existing: true, args: func(s setup) []string { return []string{"--db", s.dbp, s.out} },
			code: 1, stderr: "exists; use --force to replace it"},
		{name: "existing OUT, --force", existing: true, args: func(s setup) []string { return []string{"--db", s.dbp, "--force", s.out} },
			compacted: func(s setup) string { return s.out }},
		{name: "OUT and --in-place", args: func(s setup) []string { return []string{"--db", s.dbp, "--in-place", s.out} },
			code: 2, stderr: "not both"},
		{name: "neither", args: func(s setup) []string { return []string{"--db", s.dbp} },
			code: 2, stderr: "exactly one OUT"},
		{name: "OUT is FILE", args: func(s setup) []string { return []string{"--db", s.dbp, s.dbp} },
			code: 2, stderr: "is the database itself"},
		{name: "no --db", args: func(s setup) []string { return []string{s.out} },
			code: 2, stderr: "--db FILE is required"},
		{name: "missing FILE", args: func(s setup) []string { return []string{"--db", s.dbp + ".nope", "--in-place"} },
			code: 1, stderr: "no such file"},
	}
	src := shrinkableDB(t, n)
	orig, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := setup{dbp: filepath.Join(dir, "db.vecbolt"), out: filepath.Join(dir, "out.vecbolt")}
			if err := os.WriteFile(s.dbp, orig, 0o600); err != nil {
				t.Fatal(err)
			}
			if tc.existing {
				if err := os.WriteFile(s.out, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			o := vb(t, "", append([]string{"compact"}, tc.args(s)...)...)
			if o.code != tc.code || !strings.Contains(o.stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", o.code, o.stderr, tc.code, tc.stderr)
			}
			if tc.compacted == nil {
				if got, _ := os.ReadFile(s.dbp); !bytes.Equal(got, orig) {
					t.Error("FILE changed")
				}
				if tc.existing {
					if got, _ := os.ReadFile(s.out); string(got) != "old" {
						t.Error("OUT changed")
					}
				}
				return
			}
			m := compactLine.FindStringSubmatch(o.stdout)
			if m == nil || m[3] != tc.compacted(s) {
				t.Fatalf("stdout %q", o.stdout)
			}
			t.Logf("%d documents, %d deleted: %s before, %s after", n, n-n/5, m[1], m[2])
			before := int64(len(orig))
			fi, err := os.Stat(tc.compacted(s))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Size() >= before || m[1] != humanBytes(before) || m[2] != humanBytes(fi.Size()) {
				t.Errorf("sizes: printed %s → %s, the files have %d → %d bytes", m[1], m[2], before, fi.Size())
			}
			if c := vb(t, "", "check", "--db", tc.compacted(s)); c.code != 0 {
				t.Errorf("the compacted file fails check:\n%s", c.stdout)
			}
			if got := collectionCount(t, tc.compacted(s), "c"); got != n/5 {
				t.Errorf("the compacted file holds %d documents, want %d", got, n/5)
			}
			want := []string{"db.vecbolt", "out.vecbolt"}
			if tc.compacted(s) == s.dbp {
				want = want[:1]
			}
			if names := dirNames(t, dir); !slices.Equal(names, want) {
				t.Errorf("the directory holds %v, want %v", names, want)
			}
			if g := vb(t, "", "get", "--db", tc.compacted(s), "--collection", "c", "doc-0005"); g.code != 0 || !strings.Contains(g.stdout, "unique5 text") {
				t.Errorf("get from the compacted file: %d %s %s", g.code, g.stdout, g.stderr)
			}
		})
	}
}

// An interrupted compact --in-place leaves FILE as it was, and no
// temporary file.
func TestCompactInPlaceInterrupted(t *testing.T) {
	dbp := shrinkableDB(t, 300)
	orig, err := os.ReadFile(dbp)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var so, se bytes.Buffer
	code := run(ctx, []string{"compact", "--db", dbp, "--in-place"}, strings.NewReader(""), &so, &se, withEmbedder(testModel()), withTerminal(false))
	if code == 0 {
		t.Fatalf("exit 0 with a cancelled context: %s", so.String())
	}
	if got, _ := os.ReadFile(dbp); !bytes.Equal(got, orig) {
		t.Error("FILE changed")
	}
	if names := dirNames(t, filepath.Dir(dbp)); !slices.Equal(names, []string{filepath.Base(dbp)}) {
		t.Errorf("the directory holds %v", names)
	}
}
