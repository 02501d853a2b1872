package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFailedAddChangesNothing: an add that exits 1 leaves no file or
// collection behind that it made itself (before, a refused vector left a
// new file with an empty collection).
func TestFailedAddChangesNothing(t *testing.T) {
	for _, tc := range []struct {
		name     string
		existing bool // the file exists, with collection "a"
		args     []string
	}{
		{"new file, vector of another dimension", false, []string{"--vector", "[1,0]", "hello"}},
		{"new file, blank text", false, []string{" "}},
		{"existing file, new collection, vector of another dimension", true, []string{"--vector", "[1,0]", "hello"}},
		{"existing file, new collection, empty text", true, []string{"--meta", "k=v", " "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dbp := filepath.Join(t.TempDir(), "t.vecbolt")
			if tc.existing {
				if o := vb(t, "", "add", "--db", dbp, "--collection", "a", "first"); o.code != exitOK {
					t.Fatalf("setup: %+v", o)
				}
			}
			o := vb(t, "", append([]string{"add", "--db", dbp, "--collection", "c"}, tc.args...)...)
			if o.code == exitOK {
				t.Fatalf("add succeeded: %+v", o)
			}
			if !tc.existing {
				if _, err := os.Stat(dbp); !os.IsNotExist(err) {
					t.Fatalf("a failed add left the file it created: %v", err)
				}
				return
			}
			cols := vb(t, "", "collections", "--db", dbp)
			if cols.code != exitOK || strings.Contains(cols.stdout, "c\t") || !strings.Contains(cols.stdout, "a\t") {
				t.Fatalf("collections after a failed add: %+v", cols)
			}
		})
	}
}
