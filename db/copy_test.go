package db_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vecbolt/vecbolt/db"
)

var bg = context.Background()

// vec returns a deterministic vector of dimension dim for seed i.
func vec(i, dim int) []float32 {
	r := rand.New(rand.NewPCG(uint64(i), 7))
	v := make([]float32, dim)
	for j := range v {
		v[j] = r.Float32()*2 - 1
	}
	return v
}

func docID(i int) string { return fmt.Sprintf("doc-%05d", i) }

// buildFile makes a database of n documents (dimension 16) in collection
// "c" and deletes every document whose index is not a multiple of keepEvery
// (keepEvery 0 or 1: none), then closes it, which writes the index
// snapshot. It returns the path and the IDs kept.
func buildFile(t *testing.T, n, keepEvery int) (string, []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "src.vecbolt")
	d, err := db.Open(path, db.WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.CreateCollection(bg, "c", db.WithDimension(16))
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{"a", "b", "c"}
	for lo := 0; lo < n; lo += 500 {
		var docs []db.Document
		for i := lo; i < min(lo+500, n); i++ {
			docs = append(docs, db.Document{ID: docID(i), Text: fmt.Sprintf("text %d %s", i, bytes.Repeat([]byte("x"), 200)),
				Vector: vec(i, 16), Metadata: map[string]any{"i": i, "kind": kinds[i%3]}})
		}
		if _, err := c.Insert(bg, docs...); err != nil {
			t.Fatal(err)
		}
	}
	var kept, gone []string
	for i := range n {
		if keepEvery <= 1 || i%keepEvery == 0 {
			kept = append(kept, docID(i))
		} else {
			gone = append(gone, docID(i))
		}
	}
	for lo := 0; lo < len(gone); lo += 500 {
		if _, err := c.Delete(bg, gone[lo:min(lo+500, len(gone))]...); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	return path, kept
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// sameContent checks that the database at got holds exactly what the one
// at want holds: the same collections, the same documents by Get, the same
// results for the same searches, and that it opens from its snapshot and
// passes Check.
func sameContent(t *testing.T, want, got string, ids []string) {
	t.Helper()
	dw, err := db.Open(want, db.WithEmbedder(nil), db.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer dw.Close()
	dg, err := db.Open(got, db.WithEmbedder(nil), db.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer dg.Close()
	iw, err := dw.Collections(bg)
	if err != nil {
		t.Fatal(err)
	}
	ig, err := dg.Collections(bg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(iw, ig) {
		t.Fatalf("collections differ:\n got %+v\nwant %+v", ig, iw)
	}
	cw, err := dw.Collection(bg, "c")
	if err != nil {
		t.Fatal(err)
	}
	cg, err := dg.Collection(bg, "c")
	if err != nil {
		t.Fatal(err)
	}
	if s := cg.Info().IndexRebuilt; s != "" {
		t.Errorf("the copy's index snapshot was not used: %s", s)
	}
	if n, _ := cg.Count(bg, nil); n != len(ids) {
		t.Errorf("copy holds %d documents, want %d", n, len(ids))
	}
	gw, err := cw.Get(bg, ids...)
	if err != nil {
		t.Fatal(err)
	}
	gg, err := cg.Get(bg, ids...)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gw, gg) {
		t.Errorf("Get differs between the file and the copy")
	}
	for q := range 20 {
		rw, err := cw.SearchVector(bg, vec(100000+q, 16), db.TopK(10))
		if err != nil {
			t.Fatal(err)
		}
		rg, err := cg.SearchVector(bg, vec(100000+q, 16), db.TopK(10))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(rw, rg) {
			t.Errorf("query %d: results differ:\n got %v\nwant %v", q, rg, rw)
		}
	}
	rep, err := dg.Check(bg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("the copy fails Check: %v", rep.Problems)
	}
}

// A collection with many deletes shrinks, and the copy holds exactly the
// documents: the same Get and Search answers, its index snapshot, and the
// label sequence (a write to the copy must not reuse a label).
func TestCompactTo(t *testing.T) {
	src, kept := buildFile(t, 3000, 3)
	d, err := db.Open(src, db.WithEmbedder(nil), db.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "compact.vecbolt")
	var calls, last atomic.Int64
	st, err := d.CompactTo(bg, out, db.WithCopyProgress(func(done, total int64) {
		calls.Add(1)
		if done > total {
			t.Errorf("progress %d of %d", done, total)
		}
		last.Store(done - total)
	}))
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("3000 documents, 2000 deleted: %d bytes before, %d after", st.Before, st.After)
	if fi, _ := os.Stat(out); fi == nil || fi.Size() != st.After {
		t.Errorf("After %d, the copy's size %v", st.After, fi)
	}
	if fi, _ := os.Stat(src); fi.Size() != st.Before {
		t.Errorf("Before %d, the file's size %d", st.Before, fi.Size())
	}
	if st.After >= st.Before*3/4 {
		t.Errorf("the copy (%d bytes) is not much smaller than the file (%d)", st.After, st.Before)
	}
	if calls.Load() < 2 || last.Load() != 0 {
		t.Errorf("progress: %d calls, last done-total %d", calls.Load(), last.Load())
	}
	if left, _ := os.ReadDir(filepath.Dir(out)); len(left) != 1 {
		t.Errorf("output directory holds %v", left)
	}
	sameContent(t, src, out, kept)

	// Writes to the copy use new labels: the docs bucket's sequence was
	// copied.
	dc, err := db.Open(out, db.WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	c, err := dc.Collection(bg, "c")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Insert(bg, db.Document{ID: "new", Vector: vec(-1, 16)}, db.Document{ID: "new2", Vector: vec(-2, 16)}); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Count(bg, nil); n != len(kept)+2 {
		t.Errorf("after 2 inserts into the copy: %d documents, want %d", n, len(kept)+2)
	}
	rep, err := dc.Check(bg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("after writes to the copy, Check: %v", rep.Problems)
	}
}

// What CompactTo and BackupFile refuse, and what a cancelled copy leaves:
// nothing at the output, no temporary file.
func TestCopyToPathRefusals(t *testing.T) {
	src, _ := buildFile(t, 200, 1)
	d, err := db.Open(src, db.WithEmbedder(nil), db.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ops := map[string]func(ctx context.Context, path string, opts ...db.CopyOption) error{
		"BackupFile": func(ctx context.Context, path string, opts ...db.CopyOption) error {
			_, err := d.BackupFile(ctx, path, opts...)
			return err
		},
		"CompactTo": func(ctx context.Context, path string, opts ...db.CopyOption) error {
			_, err := d.CompactTo(ctx, path, opts...)
			return err
		},
	}
	cancelled, cancel := context.WithCancel(bg)
	cancel()
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range ops {
			if !yield(k) {
				return
			}
		}
	}) {
		op := ops[name]
		cases := []struct {
			name     string
			existing bool
			self     bool
			ctx      context.Context
			opts     []db.CopyOption
			want     error
		}{
			{name: "new path", ctx: bg},
			{name: "existing", existing: true, ctx: bg, want: fs.ErrExist},
			{name: "existing, Overwrite", existing: true, ctx: bg, opts: []db.CopyOption{db.Overwrite()}},
			{name: "the database itself", self: true, ctx: bg, opts: []db.CopyOption{db.Overwrite()}, want: db.ErrInvalidArgument},
			{name: "cancelled", ctx: cancelled, want: context.Canceled},
			{name: "cancelled, existing, Overwrite", existing: true, ctx: cancelled, opts: []db.CopyOption{db.Overwrite()}, want: context.Canceled},
		}
		for _, tc := range cases {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				dir := t.TempDir()
				out := filepath.Join(dir, "out.vecbolt")
				if tc.existing {
					if err := os.WriteFile(out, []byte("old"), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				if tc.self {
					out = src
				}
				before := fileHash(t, src)
				err := op(tc.ctx, out, tc.opts...)
				if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
					t.Fatalf("error %v, want %v", err, tc.want)
				}
				if fileHash(t, src) != before {
					t.Error("the database file changed")
				}
				var want []string
				if tc.existing || tc.want == nil {
					want = []string{"out.vecbolt"}
				}
				if tc.self {
					want = nil
				}
				if names := dirNames(t, dir); !slices.Equal(names, want) {
					t.Errorf("the directory holds %v, want %v", names, want)
				}
				if tc.existing && tc.want != nil {
					if b, _ := os.ReadFile(out); string(b) != "old" {
						t.Errorf("the existing output was changed")
					}
				}
				if tc.want == nil {
					if n := count(t, out); n != 200 {
						t.Errorf("the copy holds %d documents", n)
					}
				}
			})
		}
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func count(t *testing.T, path string) int {
	t.Helper()
	d, err := db.Open(path, db.WithEmbedder(nil), db.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err := d.Collection(bg, "c")
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.Count(bg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Backups and compactions taken while other goroutines write are
// consistent: each holds whole batches only, and passes Check.
func TestCopiesWhileWriting(t *testing.T) {
	ops := []struct {
		name string
		copy func(d *db.DB, out string) error
	}{
		{"Backup", func(d *db.DB, out string) error {
			var buf bytes.Buffer
			var last int64 = -1
			n, err := d.Backup(bg, &buf, db.WithCopyProgress(func(done, total int64) {
				if done == total {
					last = done
				}
			}))
			if err != nil {
				return err
			}
			if n != int64(buf.Len()) || last != n {
				return fmt.Errorf("Backup returned %d, wrote %d, last progress %d", n, buf.Len(), last)
			}
			return os.WriteFile(out, buf.Bytes(), 0o600)
		}},
		{"BackupFile", func(d *db.DB, out string) error {
			_, err := d.BackupFile(bg, out)
			return err
		}},
		{"CompactTo", func(d *db.DB, out string) error {
			_, err := d.CompactTo(bg, out)
			return err
		}},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			dir := t.TempDir()
			d, err := db.Open(filepath.Join(dir, "live.vecbolt"), db.WithEmbedder(nil))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			c, err := d.CreateCollection(bg, "c", db.WithDimension(8))
			if err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var writeErr atomic.Pointer[error]
			for w := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						var batch []db.Document
						for j := range 5 {
							batch = append(batch, db.Document{ID: fmt.Sprintf("w%d-%d-%d", w, i, j), Vector: vec(w*1e6+i*5+j, 8)})
						}
						if _, err := c.Insert(bg, batch...); err != nil {
							writeErr.Store(&err)
							return
						}
					}
				}()
			}
			for r := range 3 {
				out := filepath.Join(dir, fmt.Sprintf("copy%d.vecbolt", r))
				if err := op.copy(d, out); err != nil {
					t.Fatal(err)
				}
				dc, err := db.Open(out, db.WithEmbedder(nil), db.ReadOnly())
				if err != nil {
					t.Fatal(err)
				}
				rep, err := dc.Check(bg)
				if err != nil {
					t.Fatal(err)
				}
				if !rep.OK() {
					t.Errorf("copy %d: %v", r, rep.Problems)
				}
				if rep.Documents%5 != 0 {
					t.Errorf("copy %d holds %d documents, not whole batches of 5", r, rep.Documents)
				}
				dc.Close()
			}
			close(stop)
			wg.Wait()
			if err := writeErr.Load(); err != nil {
				t.Fatal(*err)
			}
		})
	}
}

// CompactFile replaces the file only with a checked copy, holds the file's
// write lock throughout, and leaves the file as it was (and no temporary
// file) when cancelled at any point of the copy.
func TestCompactFile(t *testing.T) {
	src, kept := buildFile(t, 3000, 3)
	orig := filepath.Join(t.TempDir(), "orig.vecbolt")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(orig, b, 0o600); err != nil {
		t.Fatal(err)
	}
	before := fileHash(t, src)
	// Cancelled at the first, second and last (fourth) progress call (the last
	// comes when every key is copied, before the copy is checked).
	for _, at := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("cancel at progress call %d", at), func(t *testing.T) {
			ctx, cancel := context.WithCancel(bg)
			defer cancel()
			calls := 0
			_, err := db.CompactFile(ctx, src, db.WithCopyProgress(func(done, total int64) {
				calls++
				if calls == at {
					cancel()
				}
			}))
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("calls %d: error %v, want context.Canceled", calls, err)
			}
			if fileHash(t, src) != before {
				t.Error("the file changed")
			}
			if names := dirNames(t, filepath.Dir(src)); !slices.Equal(names, []string{"src.vecbolt"}) {
				t.Errorf("the directory holds %v", names)
			}
		})
	}
	lockHeld := false
	st, err := db.CompactFile(bg, src, db.WithCopyProgress(func(done, total int64) {
		if done == 0 {
			_, err := db.Open(src, db.WithEmbedder(nil), db.ReadOnly(), db.WithLockTimeout(-1))
			lockHeld = errors.Is(err, db.ErrLocked)
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !lockHeld {
		t.Error("another handle could open the file during the compaction")
	}
	t.Logf("in place: %d bytes before, %d after", st.Before, st.After)
	if fi, _ := os.Stat(src); fi.Size() != st.After || st.After >= st.Before {
		t.Errorf("the file has %d bytes; compaction reported %+v", fi.Size(), st)
	}
	if names := dirNames(t, filepath.Dir(src)); !slices.Equal(names, []string{"src.vecbolt"}) {
		t.Errorf("the directory holds %v", names)
	}
	sameContent(t, orig, src, kept)
}

// CompactFile through a symlink replaces the file it names and leaves the
// link.
func TestCompactFileSymlink(t *testing.T) {
	src, kept := buildFile(t, 600, 3)
	link := filepath.Join(t.TempDir(), "link.vecbolt")
	if err := os.Symlink(src, link); err != nil {
		t.Skip(err)
	}
	st, err := db.CompactFile(bg, link)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", fi, err)
	}
	if fi, _ := os.Stat(src); fi.Size() != st.After || st.After >= st.Before {
		t.Errorf("the file has %d bytes; %+v", fi.Size(), st)
	}
	if n := count(t, link); n != len(kept) {
		t.Errorf("%d documents, want %d", n, len(kept))
	}
}
