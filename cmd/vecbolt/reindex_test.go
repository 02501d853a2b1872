package main

import (
	"io"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/index"
	"github.com/vecbolt/vecbolt/storage"
)

// damageSnapshot flips a byte inside the graph snapshot of collection c.
func damageSnapshot(t *testing.T, dbp string) {
	t.Helper()
	editCollection(t, dbp, func(b *bolt.Bucket) error {
		sb := b.Bucket([]byte("snapshot"))
		k := []byte{'c', 0, 0, 0, 0}
		v := append([]byte(nil), sb.Get(k)...)
		if len(v) == 0 {
			t.Fatal("no graph snapshot chunk")
		}
		v[len(v)/2] ^= 0x40
		return sb.Put(k, v)
	})
}

// editCollection runs edit on collection c's bucket.
func editCollection(t *testing.T, dbp string, edit func(b *bolt.Bucket) error) {
	t.Helper()
	bdb, err := bolt.Open(dbp, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		return edit(tx.Bucket([]byte("collections")).Bucket([]byte("c")))
	})
	if cerr := bdb.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestDamagedSnapshotCLI: a damaged snapshot is reported by check as a
// damaged cache, read-only commands still answer (saying they rebuilt the
// index), and reindex repairs the file.
func TestDamagedSnapshotCLI(t *testing.T) {
	dbp := buildDB(t, 100)
	damageSnapshot(t, dbp)

	o := vb(t, "", "check", "--db", dbp)
	if o.code != 1 || !strings.Contains(o.stdout, `damaged cache: collection "c"`) || !strings.Contains(o.stdout, "vecbolt reindex --db") || strings.Contains(o.stdout, "damaged data") {
		t.Fatalf("check: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	o = vb(t, "", "search", "--db", dbp, "--collection", "c", "--json", "text about subject")
	if o.code != 0 || !strings.Contains(o.stdout, `"id": "doc-`) {
		t.Fatalf("search on a damaged snapshot: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	if !strings.Contains(o.stderr, "rebuilding the index from the documents") || !strings.Contains(o.stderr, "vecbolt reindex --db") {
		t.Errorf("search did not say it rebuilt the index: %q", o.stderr)
	}
	o = vbOpts(t, "", []option{withEmbedder(testModel()), withTerminal(true)}, "reindex", "--db", dbp, "--collection", "c")
	if o.code != 0 || o.stdout != "reindexed 100 documents of \"c\"\n" {
		t.Fatalf("reindex: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	if !strings.Contains(o.stderr, "reindexing: 100/100 documents") {
		t.Errorf("no progress on a terminal: %q", o.stderr)
	}
	o = vb(t, "", "check", "--db", dbp)
	if o.code != 0 || o.stderr != "" {
		t.Fatalf("check after reindex: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
}

// TestWritableOpenRepairsSnapshot: a command that opens for writing
// rebuilds the damaged snapshot, with progress on a terminal, and stores a
// good one.
func TestWritableOpenRepairsSnapshot(t *testing.T) {
	dbp := buildDB(t, 100)
	damageSnapshot(t, dbp)
	o := vbOpts(t, "", []option{withEmbedder(testModel()), withTerminal(true)}, "delete", "--db", dbp, "--collection", "c", "doc-0001")
	if o.code != 0 {
		t.Fatalf("delete: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	for _, want := range []string{"rebuilding the index from the documents", "rebuilding the index: 100/100 documents", "index rebuilt and a new snapshot written"} {
		if !strings.Contains(o.stderr, want) {
			t.Errorf("stderr lacks %q: %q", want, o.stderr)
		}
	}
	o = vb(t, "", "check", "--db", dbp)
	if o.code != 0 || o.stderr != "" || !strings.Contains(o.stdout, "99 documents") {
		t.Fatalf("check after the repair: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
}

// TestCheckTellsDataFromCache: damage to a document is data, not cache.
func TestCheckTellsDataFromCache(t *testing.T) {
	for _, alsoSnapshot := range []bool{false, true} {
		dbp := buildDB(t, 50)
		editCollection(t, dbp, func(b *bolt.Bucket) error {
			docs := b.Bucket([]byte("docs"))
			k, v := docs.Cursor().First()
			v = append([]byte(nil), v...)
			v[len(v)/2] ^= 0x40
			return docs.Put(k, v)
		})
		if alsoSnapshot {
			damageSnapshot(t, dbp)
		}
		o := vb(t, "", "check", "--db", dbp)
		if o.code != 1 || !strings.Contains(o.stdout, `damaged data: collection "c"`) || strings.Contains(o.stdout, "damaged cache") {
			t.Fatalf("snapshot damaged too: %v: exit %d\n%s%s", alsoSnapshot, o.code, o.stdout, o.stderr)
		}
	}
}

func TestReindexUsage(t *testing.T) {
	dbp := buildDB(t, 5)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"reindex", "--db", dbp}, exitUsage, "--collection NAME is required"},
		{[]string{"reindex", "--collection", "c"}, exitUsage, "--db FILE is required"},
		{[]string{"reindex", "--db", dbp, "--collection", "c", "extra"}, exitUsage, "takes no arguments"},
		{[]string{"reindex", "--db", dbp, "--collection", "nope"}, exitRuntime, "collection not found"},
		{[]string{"reindex", "--db", dbp + ".missing", "--collection", "c"}, exitRuntime, "no such file"},
	}
	for _, tc := range cases {
		o := vb(t, "", tc.args...)
		if o.code != tc.code || !strings.Contains(o.stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, o.code, o.stderr, tc.code, tc.want)
		}
	}
	o := vb(t, "", "help", "reindex")
	if o.code != 0 || !strings.Contains(o.stdout, "usage: vecbolt reindex --db FILE --collection NAME") {
		t.Errorf("help: %d %s", o.code, o.stdout)
	}
	o = vb(t, "", "reindex", "--db", dbp, "--collection", "c")
	if o.code != 0 || o.stdout != "reindexed 5 documents of \"c\"\n" || o.stderr != "" {
		t.Errorf("reindex of a sound collection: %d %q %q", o.code, o.stdout, o.stderr)
	}
}

// TestCheckStaleSnapshot: a snapshot that reads back whole but lacks a
// document (the state issue #12's extreme vectors left behind) is a
// damaged cache too.
func TestCheckStaleSnapshot(t *testing.T) {
	dbp := buildDB(t, 40)
	st, err := storage.Open(dbp, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(func(tx *storage.Tx) error {
		c, err := tx.Collection("c")
		if err != nil {
			return err
		}
		h, err := index.NewHNSW(64, index.Cosine)
		if err != nil {
			return err
		}
		err = c.ForEachDocument(func(label uint64, d *storage.DocumentRecord) error {
			if d.Id == "doc-0007" {
				return nil
			}
			return h.Add(label, d.Vector)
		})
		if err != nil {
			return err
		}
		return c.PutSnapshot(db.IndexHNSW, func(w io.Writer) error { _, err := h.WriteTo(w); return err })
	})
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	o := vb(t, "", "check", "--db", dbp)
	if o.code != 1 || !strings.Contains(o.stdout, "39 vectors for 40 documents") || !strings.Contains(o.stdout, `damaged cache: collection "c"`) || strings.Contains(o.stdout, "damaged data") {
		t.Fatalf("check: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	if o := vb(t, "", "reindex", "--db", dbp, "--collection", "c"); o.code != 0 {
		t.Fatalf("reindex: %s", o.stderr)
	}
	if o := vb(t, "", "check", "--db", dbp); o.code != 0 {
		t.Fatalf("check after reindex: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
}
