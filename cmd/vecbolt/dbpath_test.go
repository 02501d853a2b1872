//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// --db must name a vecbolt database or a path where nothing exists. An
// empty file used to give "write: bad file descriptor" (read-only commands)
// or be silently turned into a database (add); a FIFO made every command
// hang until SIGKILL. Now every command says what is wrong with the path and
// leaves it alone.
func TestDBPathThatIsNotADatabase(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.vecbolt")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(junk, []byte("shopping list\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	paths := []struct{ path, says string }{
		{empty, "is an empty file"},
		{junk, "does not start with a bbolt meta page"},
		{fifo, "is a named pipe (FIFO)"},
		{dir, "is a directory"},
	}
	commands := [][]string{
		{"stats"},
		{"collections"},
		{"get", "--collection", "c", "x"},
		{"search", "--collection", "c", "hello"},
		{"add", "--collection", "c", "hello"},
		{"import", "--collection", "c", "-"},
		{"check"},
		{"backup", filepath.Join(dir, "out")},
	}
	for _, p := range paths {
		for _, cmd := range commands {
			args := append([]string{cmd[0], "--db", p.path}, cmd[1:]...)
			done := make(chan out, 1)
			go func() { done <- vb(t, `{"text":"x"}`+"\n", args...) }()
			var o out
			select {
			case o = <-done:
			case <-time.After(20 * time.Second):
				t.Fatalf("%q still running after 20s", args)
			}
			if o.code != exitRuntime || !strings.Contains(o.stderr, p.path) || !strings.Contains(o.stderr, p.says) {
				t.Errorf("%q: exit %d, stderr %q; want exit 1 naming the path and saying %q", args, o.code, o.stderr, p.says)
			}
		}
	}
	if st, err := os.Stat(empty); err != nil || st.Size() != 0 {
		t.Errorf("the empty file was changed: %v %v", st.Size(), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("backup wrote an output")
	}
}
