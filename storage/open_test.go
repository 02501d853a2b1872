package storage

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Only a path where nothing exists may become a new database. An existing
// file that is not a database is refused with ErrNotVecbolt (or ErrCorrupt
// when it looks like a damaged bbolt file), naming the path, and is left
// exactly as it was.
func TestOpenRefusesFilesThatAreNotDatabases(t *testing.T) {
	magicOnly := make([]byte, 40)
	binary.LittleEndian.PutUint32(magicOnly[boltPageHeader:], boltMagic)
	magicBadSum := make([]byte, 8192)
	binary.LittleEndian.PutUint32(magicBadSum[boltPageHeader:], boltMagic)
	cases := []struct {
		name    string
		content []byte
		want    error
		msg     string
	}{
		{"empty file", []byte{}, ErrNotVecbolt, "empty file"},
		{"a few bytes of junk", []byte("abc\n"), ErrNotVecbolt, "does not start with a bbolt meta page"},
		{"a page of text", []byte(strings.Repeat("not a database ", 1000)), ErrNotVecbolt, "not a bbolt file"},
		{"bbolt magic, then cut short", magicOnly, ErrCorrupt, "too short"},
		{"bbolt magic, bad checksum", magicBadSum, ErrCorrupt, "no valid bbolt meta page"},
	}
	for _, tc := range cases {
		for _, readOnly := range []bool{false, true} {
			path := filepath.Join(t.TempDir(), "f.vecbolt")
			if err := os.WriteFile(path, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(path, Options{ReadOnly: readOnly})
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%s, read-only %v: got %v, want %v naming %s and saying %q", tc.name, readOnly, err, tc.want, path, tc.msg)
			}
			if got, _ := os.ReadFile(path); string(got) != string(tc.content) {
				t.Errorf("%s, read-only %v: the file was changed to %d bytes", tc.name, readOnly, len(got))
			}
		}
	}
	// A directory.
	dir := t.TempDir()
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrNotVecbolt) || !strings.Contains(err.Error(), "a directory") {
		t.Errorf("directory: %v", err)
	}
	// A path where nothing exists is created, and a symlink to a database
	// is fine.
	path := filepath.Join(dir, "new.vecbolt")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("new path: %v", err)
	}
	s.Close()
	link := filepath.Join(dir, "link.vecbolt")
	if err := os.Symlink(path, link); err != nil {
		t.Skip(err)
	}
	s, err = Open(link, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("symlink to a database: %v", err)
	}
	s.Close()
}
