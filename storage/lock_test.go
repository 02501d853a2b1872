package storage

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestLockErrorNamesRemedy: a file another handle holds (a second handle in
// this process meets bbolt's flock exactly as another process does) fails
// to open with ErrLocked, and the message says who holds it and what to do,
// because from the CLI "locked" alone leaves a user retrying backup or check
// against a running app's file, which can never succeed.
func TestLockErrorNamesRemedy(t *testing.T) {
	cases := []struct {
		name             string
		holderRO, openRO bool
		want             []string // substrings of the error; nil: the open succeeds
	}{
		{"writer holds, reader opens", false, true,
			[]string{"locked", "a writer holds it", "Backup, Check, Export or Scan", "from its own process"}},
		{"writer holds, writer opens", false, false,
			[]string{"locked", "a writer or a reader holds it", "needs the file to itself"}},
		{"reader holds, writer opens", true, false,
			[]string{"locked", "a writer or a reader holds it", "needs the file to itself"}},
		{"reader holds, reader opens", true, true, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.vecbolt")
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if c.holderRO {
				s.Close()
				if s, err = Open(path, Options{ReadOnly: true}); err != nil {
					t.Fatal(err)
				}
			}
			defer s.Close()
			// -1: one attempt, no waiting.
			s2, err := Open(path, Options{ReadOnly: c.openRO, LockTimeout: -1})
			if c.want == nil {
				if err != nil {
					t.Fatalf("second reader refused: %v", err)
				}
				s2.Close()
				return
			}
			if err == nil {
				s2.Close()
				t.Fatal("second handle opened a locked file")
			}
			if !errors.Is(err, ErrLocked) {
				t.Fatalf("err %v, want ErrLocked", err)
			}
			msg := err.Error()
			for _, w := range append(c.want, path) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}
