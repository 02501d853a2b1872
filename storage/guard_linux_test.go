package storage

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"unsafe"
)

// Faults that come from the file become ErrCorrupt. The file is cut to
// nothing under an open store, so that every page bbolt mapped is past the
// end of the file and reading it raises SIGBUS: once in bbolt's own code
// (looking up a bucket), once in storage's decoder reading a value slice
// that bbolt handed out before the cut.
func TestGuardReportsFileFaults(t *testing.T) {
	cases := []struct {
		name string
		read func(t *testing.T, tx *Tx, cut func()) error
	}{
		{"in bbolt", func(t *testing.T, tx *Tx, cut func()) error {
			cut()
			_, err := tx.Collection("c")
			return err
		}},
		{"in a decoder reading a value", func(t *testing.T, tx *Tx, cut func()) error {
			c, err := tx.Collection("c")
			if err != nil {
				t.Fatal(err)
			}
			v := c.b.Bucket(bucketDocs).Get(LabelKey(1))
			if v == nil {
				t.Fatal("no document 1")
			}
			cut()
			_, err = DecodeDocument(v)
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, path := storeWithDocs(t, 50)
			cut := func() {
				if err := os.Truncate(path, 0); err != nil {
					t.Fatal(err)
				}
			}
			p, err := catch(func() error {
				return s.View(func(tx *Tx) error { return tc.read(t, tx, cut) })
			})
			if p != nil {
				t.Fatalf("a fault in the file's mapping panicked: %v", p)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
			t.Log(err)
		})
	}
}

// faultReader decodes snapshots on other goroutines: a fault in the
// mapping it was made for is ErrCorrupt, and a fault anywhere else is not
// the file's and is raised again.
func TestFaultReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mapped")
	if err := os.WriteFile(path, bytes.Repeat([]byte{7}, 1<<16), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := syscall.Mmap(int(f.Fd()), 0, 1<<16, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(m)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	base := uintptr(unsafe.Pointer(&m[0]))
	for _, tc := range []struct {
		name    string
		base    uintptr
		corrupt bool
	}{
		{"fault in the mapping", base, true},
		{"mapping unknown", 0, true},
		// A heap copy of an inline bucket lies outside the mapping; its
		// damaged offsets fault there.
		{"fault outside the mapping", base + 1<<20, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := faultReader{r: bytes.NewReader(m), base: tc.base}
			p, err := catch(func() error {
				_, err := io.ReadAll(r)
				return err
			})
			if tc.corrupt {
				if p != nil || !errors.Is(err, ErrCorrupt) {
					t.Fatalf("panic %v, error %v; want ErrCorrupt", p, err)
				}
				return
			}
			if e, ok := p.(runtime.Error); !ok {
				t.Fatalf("panic %v, error %v; want the fault raised again", p, err)
			} else {
				t.Log(e)
			}
		})
	}
}
