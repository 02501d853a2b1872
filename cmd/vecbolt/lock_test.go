package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/db"
)

// TestLockedFileNamesRemedy: a command on a file an app holds for writing
// fails with one line that says why no other process can read it and what
// to do instead, not only that it is locked.
func TestLockedFileNamesRemedy(t *testing.T) {
	dbp := tempDB(t)
	app, err := db.Open(dbp, db.WithEmbedder(testModel()))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	out := filepath.Join(t.TempDir(), "copy.vecbolt")
	readRemedy := []string{"a writer holds it", "Backup, Check, Export or Scan", "--lock-timeout"}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"check", []string{"check", "--db", dbp}, readRemedy},
		{"backup", []string{"backup", "--db", dbp, out}, readRemedy},
		{"add", []string{"add", "--db", dbp, "--collection", "c", "text"},
			[]string{"needs the file to itself", "--lock-timeout"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := vb(t, "", append(c.args, "--lock-timeout", "50ms")...)
			if o.code != exitRuntime || strings.Count(o.stderr, "\n") != 1 {
				t.Fatalf("exit %d, stderr %q", o.code, o.stderr)
			}
			for _, w := range append(c.want, "locked", dbp) {
				if !strings.Contains(o.stderr, w) {
					t.Errorf("stderr %q lacks %q", o.stderr, w)
				}
			}
		})
	}
}
