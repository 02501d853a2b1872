package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/storage"
)

// TestFieldTypesCLI: add refuses a value of another type than the field's,
// naming the field and both types; stats shows the recorded types; check
// reports a field of mixed types (written here at the storage level, as
// vecbolt did before it recorded types) and exits 1, and stats shows it as
// mixed.
func TestFieldTypesCLI(t *testing.T) {
	dbp := filepath.Join(t.TempDir(), "f.vecbolt")
	add := func(id string, meta ...string) out {
		args := []string{"add", "--db", dbp, "--collection", "c", "--id", id}
		for _, m := range meta {
			args = append(args, "--meta", m)
		}
		return vb(t, "", append(args, "text of "+id)...)
	}
	if o := add("a", "kb:=120", "lang=en", `tags:=["x"]`); o.code != 0 {
		t.Fatalf("add: %d %s", o.code, o.stderr)
	}
	o := add("b", "kb=big")
	if o.code != 1 || !strings.Contains(o.stderr, `"kb"`) || !strings.Contains(o.stderr, "a string") || !strings.Contains(o.stderr, "a number") || !strings.Contains(o.stderr, `"b"`) {
		t.Fatalf("add of a string to a number field: exit %d, %s", o.code, o.stderr)
	}
	o = vb(t, "", "search", "--db", dbp, "--collection", "c", "--where", `lang > 3`, "text")
	if o.code != 1 || !strings.Contains(o.stderr, `"lang"`) || !strings.Contains(o.stderr, "a string") || !strings.Contains(o.stderr, "a number") {
		t.Fatalf("mistyped filter: exit %d, %s", o.code, o.stderr)
	}
	o = vb(t, "", "stats", "--db", dbp)
	if o.code != 0 || !strings.Contains(o.stdout, "fields:     kb number, lang string, tags strings\n") {
		t.Fatalf("stats: exit %d\n%s", o.code, o.stdout)
	}
	if o := vb(t, "", "check", "--db", dbp); o.code != 0 {
		t.Fatalf("check of a sound file: exit %d\n%s", o.code, o.stdout)
	}

	// An odd document, as vecbolt stored it before field types, in a file
	// without their record.
	st, err := storage.Open(dbp, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(func(tx *storage.Tx) error {
		c, err := tx.Collection("c")
		if err != nil {
			return err
		}
		// This write bypasses db, which keeps the keyword index in step;
		// the collection drops its index so that check reports only the
		// field types.
		cfg, err := c.Config()
		if err != nil {
			return err
		}
		cfg.FullText = &storage.FullTextConfig{}
		if err := c.PutConfig(cfg); err != nil {
			return err
		}
		if err := c.DropFullText(); err != nil {
			return err
		}
		l, err := c.NextLabel()
		if err != nil {
			return err
		}
		vec := make([]float32, 64)
		vec[0] = 1
		return c.PutDocument(l, &storage.DocumentRecord{Id: "odd", Text: "odd", Vector: vec,
			Metadata: map[string]*storage.Value{"kb": {Kind: &storage.StringValue{StringValue: "big"}}}})
	})
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := bolt.Open(dbp, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte("collections")).Bucket([]byte("c"))
		for _, k := range []string{"fields", "field:kb", "field:lang", "field:tags"} {
			if c.Get([]byte(k)) == nil {
				return fmt.Errorf("no record %q", k)
			}
			if err := c.Delete([]byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	o = vb(t, "", "check", "--db", dbp)
	if o.code != 1 || !strings.Contains(o.stdout, `problem: collection "c": metadata field "kb" holds values of several types`) || strings.Contains(o.stdout, "damaged") {
		t.Fatalf("check of a mixed field: exit %d\n%s", o.code, o.stdout)
	}
	o = vb(t, "", "stats", "--db", dbp, "--json")
	var sj statsJSON
	if err := json.Unmarshal([]byte(o.stdout), &sj); err != nil || sj.Collections[0].Fields["kb"] != db.TypeMixed {
		t.Fatalf("stats --json: %v\n%s", err, o.stdout)
	}
}
