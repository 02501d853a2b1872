package db

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUpgradeFromFormat2 opens a file written by the release before the
// keyword index (testdata/format2, made by commit b3e2947's db package):
// read-only it works but keyword search says to open it writable once;
// the first writable load builds the index, reporting progress, and from
// then on keyword search works, read-only too.
func TestUpgradeFromFormat2(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "format2", "release-b3e2947.vecbolt"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "old.vecbolt")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	// No model needed: keyword search and the build read only texts.
	keyword := func(d *DB) ([]Result, error) {
		c, err := d.Collection(bg, "pkgs")
		if err != nil {
			t.Fatal(err)
		}
		return c.Search(bg, "dungeons", WithMode(ModeKeyword))
	}

	ro, err := Open(path, ReadOnly(), WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keyword(ro); !errors.Is(err, ErrNoFullText) || !strings.Contains(err.Error(), "writable") {
		t.Errorf("read-only keyword search on a format-2 file: err = %v, want ErrNoFullText saying to open it writable", err)
	}
	if got, err := ro.Collection(bg, "pkgs"); err != nil || got.Info().Count != 5 {
		t.Fatalf("read-only open of a format-2 file: %v", err)
	}
	ro.Close()

	var events []FullTextBuildEvent
	rw, err := Open(path, WithEmbedder(nil), WithFullTextBuildLog(func(e FullTextBuildEvent) { events = append(events, e) }))
	if err != nil {
		t.Fatal(err)
	}
	res, err := keyword(rw)
	if err != nil || len(res) != 1 || res[0].ID != "nethack" {
		t.Fatalf("keyword search after the upgrade: %v %v", res, err)
	}
	if len(events) < 2 || events[0].Done != 0 || !events[len(events)-1].Finished || events[len(events)-1].Total != 5 || events[0].Collection != "pkgs" {
		t.Errorf("build events %+v", events)
	}
	vecs, err := rw.Collection(bg, "vecs")
	if err != nil {
		t.Fatal(err)
	}
	if vecs.Info().FullText != nil || len(events) > 3 {
		t.Errorf("a collection of caller-supplied vectors got a keyword index on upgrade: %+v, events %+v", vecs.Info().FullText, events)
	}
	if _, err := vecs.Search(bg, "vector", WithMode(ModeKeyword)); !errors.Is(err, ErrNoFullText) {
		t.Errorf("keyword search of the vector collection: err = %v", err)
	}
	rep, err := rw.Check(bg)
	if err != nil || !rep.OK() {
		t.Fatalf("check after the upgrade: %v %+v", err, rep.Problems)
	}
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}

	// Built once: a read-only handle now searches by keyword, and a
	// writable one builds nothing again.
	ro, err = Open(path, ReadOnly(), WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := keyword(ro); err != nil || len(res) != 1 {
		t.Errorf("read-only keyword search after the upgrade: %v %v", res, err)
	}
	ro.Close()
	events = nil
	rw, err = Open(path, WithEmbedder(nil), WithFullTextBuildLog(func(e FullTextBuildEvent) { events = append(events, e) }))
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	if _, err := keyword(rw); err != nil || len(events) != 0 {
		t.Errorf("second writable open: %v, events %+v", err, events)
	}
}
