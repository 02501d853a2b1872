package evalsets

import (
	"strings"
	"testing"
)

func TestReadSections(t *testing.T) {
	list := "Package: a\nVersion: 1\nSection: libs\n\nPackage: b\nSource: bsrc\nSection: contrib/games\n\nPackage: c\nVersion: 2\n\nPackage: a\nSection: other\n"
	got, err := ReadSections(strings.NewReader(list))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "libs", "b": "contrib/games"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}
