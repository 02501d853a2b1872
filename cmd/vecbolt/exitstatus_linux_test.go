package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vecbolt/vecbolt/db"
)

// On a full disk, add and delete store their change and then fail to write
// the index snapshot when closing the file. The exit status must say the
// write happened (0, with a warning), or a script that retries on failure
// would add the document twice. It runs on a real tmpfs, so it needs root
// (as db's TestDiskFull).
func TestExitStatusDiskFull(t *testing.T) {
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=8m"); err != nil {
		t.Skipf("cannot mount a small tmpfs here (%v); the test needs root", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(mnt, syscall.MNT_DETACH) })
	dbp := filepath.Join(mnt, "full.vecbolt")

	// A collection whose graph snapshot (about 1.5 MiB) cannot fit in the
	// space left below, written in one batch with one snapshot, so the
	// file's free pages hold no old snapshot to reuse.
	const n, dim = 4000, 64
	rng := rand.New(rand.NewPCG(1, 2))
	vec := func() []float32 {
		v := make([]float32, dim)
		for i := range v {
			v[i] = rng.Float32()*2 - 1
		}
		return v
	}
	d, err := db.Open(dbp, db.WithEmbedder(nil), db.WithSnapshotPolicy(1<<30, 0))
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.CreateCollection(context.Background(), "c", db.WithDimension(dim))
	if err != nil {
		t.Fatal(err)
	}
	docs := make([]db.Document, n)
	for i := range docs {
		docs[i] = db.Document{ID: fmt.Sprintf("doc-%d", i), Vector: vec()}
	}
	if _, err := c.Insert(context.Background(), docs...); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	// Fill the file system, then leave 256 KiB: room for a small write,
	// not for a snapshot.
	filler := filepath.Join(mnt, "filler")
	fill(t, filler)
	st, err := os.Stat(filler)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filler, max(st.Size()-256<<10, 0)); err != nil {
		t.Fatal(err)
	}

	vecArg := func() string {
		parts := make([]string, dim)
		for i, x := range vec() {
			parts[i] = fmt.Sprint(x)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	cases := []struct {
		name string
		args []string
	}{
		{"add without --id", []string{"add", "--db", dbp, "--collection", "c", "--vector", vecArg(), "new document"}},
		{"delete", []string{"delete", "--db", dbp, "--collection", "c", "doc-7"}},
	}
	var added string
	for _, tc := range cases {
		o := vb(t, "", tc.args...)
		t.Logf("%s: exit %d, stdout %q, stderr %q", tc.name, o.code, o.stdout, o.stderr)
		if o.code != exitOK {
			t.Errorf("%s stored its change but exited %d: %s", tc.name, o.code, o.stderr)
		}
		// The snapshot must really have failed, or this test proves nothing.
		if !strings.Contains(o.stderr, "vecbolt: warning: closing") || !strings.Contains(o.stderr, "no space left on device") ||
			!strings.Contains(o.stderr, "the changes are stored") {
			t.Errorf("%s: no warning about the failed snapshot on stderr: %q", tc.name, o.stderr)
		}
		if tc.args[0] == "add" {
			added = strings.TrimSpace(o.stdout)
		}
	}

	// The library reports the failed snapshot as ErrSnapshot, wrapping the
	// cause; and both changes are in the file.
	d, err = db.Open(dbp, db.WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	c, err = d.Collection(context.Background(), "c")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Count(context.Background(), nil); err != nil || got != n {
		t.Errorf("count %d (%v), want %d (one added, one deleted)", got, err, n)
	}
	if got, err := c.Get(context.Background(), added); err != nil || got[0].Text != "new document" {
		t.Errorf("the added document %q: %v", added, err)
	}
	if _, err := c.Get(context.Background(), "doc-7"); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("the deleted document: %v", err)
	}
	// A write makes the snapshot due again; on the full disk it fails.
	if _, err := c.Delete(context.Background(), "doc-8"); err != nil {
		t.Fatal(err)
	}
	err = d.Close()
	if !errors.Is(err, db.ErrSnapshot) || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Close on a full disk: %v, want ErrSnapshot wrapping ENOSPC", err)
	}
}

// fill writes path until the file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}
