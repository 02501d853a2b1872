//go:build unix

package storage

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A FIFO, a socket or a device given as the database is refused at once:
// opening a FIFO for reading used to block until a writer came, which for
// `vecbolt --db fifo` was forever.
func TestOpenRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	fifoLink := filepath.Join(dir, "fifo-link")
	if err := os.Symlink(fifo, fifoLink); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cases := []struct{ name, path, what string }{
		{"FIFO", fifo, "named pipe"},
		{"symlink to a FIFO", fifoLink, "named pipe"},
		{"socket", sock, "socket"},
		{"character device", os.DevNull, "character device"},
	}
	for _, tc := range cases {
		for _, readOnly := range []bool{false, true} {
			done := make(chan error, 1)
			go func() {
				s, err := Open(tc.path, Options{ReadOnly: readOnly, LockTimeout: -1})
				if err == nil {
					s.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, ErrNotVecbolt) || !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.what) {
					t.Errorf("%s, read-only %v: got %v, want ErrNotVecbolt naming %s as a %s", tc.name, readOnly, err, tc.path, tc.what)
				}
			case <-time.After(10 * time.Second):
				// The goroutine stays blocked in open; the test binary
				// exits anyway.
				t.Fatalf("%s, read-only %v: Open still blocked after 10s", tc.name, readOnly)
			}
		}
	}
}

// openRegular guards bbolt's own open of the path, in case it changed
// since precheck looked at it.
func TestOpenRegularRefusesAFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []int{os.O_RDONLY, os.O_RDWR | os.O_CREATE} {
		f, err := openRegular(fifo, flag, 0o600)
		if err == nil {
			f.Close()
		}
		if !errors.Is(err, ErrNotVecbolt) {
			t.Errorf("flag %#x: %v", flag, err)
		}
	}
}
