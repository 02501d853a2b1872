package evalsets

import (
	"strings"
	"testing"
)

const packages = `Package: libfoo1
Source: foo (1.2-1)
Version: 1.2-1

Package: foo-tools
Source: foo

Package: bar

`

const translations = `Package: libfoo1
Description-md5: x
Description-en: shared library for foo
 Foo is a library that does many useful things for programs that want to
 frobnicate widgets quickly and correctly in every situation imaginable.
 .
 This package contains the shared library.

Package: foo-tools
Description-en: command line tools for foo
 short

Package: bar
Description-en: the bar program
 Bar reads input and writes output, one line at a time, for a great many
 situations that twenty words would need to describe fully and well.

Package: baz
Description-en: the bar program
 A different long description that is long enough to have twenty words in
 it so that only the duplicate short description excludes it here.
`

func TestPairs(t *testing.T) {
	src, err := ReadSources(strings.NewReader(packages))
	if err != nil {
		t.Fatal(err)
	}
	if src["libfoo1"] != "foo" || src["foo-tools"] != "foo" || src["bar"] != "bar" {
		t.Fatalf("sources %v", src)
	}
	pkgs, err := ReadTranslations(strings.NewReader(translations), src)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 4 || !strings.Contains(pkgs[0].Long, "\n\nThis package") {
		t.Fatalf("packages %+v", pkgs)
	}
	pairs := Pairs(pkgs)
	// foo: libfoo1 has the longest description (no binary is named foo);
	// bar and baz share a one-line description, so neither is kept.
	if len(pairs) != 1 || pairs[0].Package != "libfoo1" || pairs[0].Query != "shared library for foo" {
		t.Fatalf("pairs %+v", pairs)
	}
	if strings.Contains(pairs[0].Doc, "\n") || !strings.HasPrefix(pairs[0].Doc, "Foo is a library") {
		t.Fatalf("doc %q", pairs[0].Doc)
	}
}

func TestEvalSplit(t *testing.T) {
	n := 0
	for i := range 1000 {
		if EvalSplit("pkg" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26%26))) {
			n++
		}
	}
	if n < 50 || n > 150 {
		t.Fatalf("%d of 1000 in the eval split, want about 100", n)
	}
}

func TestEvalSplitPinned(t *testing.T) {
	// Values computed independently (Python hashlib).
	for s, want := range map[string]bool{"foo": false, "bash": false, "pkg12": true} {
		if EvalSplit(s) != want {
			t.Errorf("EvalSplit(%q) = %v, want %v", s, !want, want)
		}
	}
}

func TestReadTranslationsEmpty(t *testing.T) {
	if _, err := ReadTranslations(strings.NewReader("\n\n"), nil); err == nil {
		t.Fatal("empty list accepted")
	}
}

func TestReadTranslationsNoShort(t *testing.T) {
	// A stanza without Description-en still counts as the package's first
	// (the trainer's text always had it) but never becomes a pair.
	text := "Package: foo\n\nPackage: foo\nDescription-en: later\n " + strings.Repeat("word ", 25) + "\n"
	pkgs, err := ReadTranslations(strings.NewReader(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 1 || pkgs[0].Short != "" || pkgs[0].Source != "foo" {
		t.Fatalf("packages %+v", pkgs)
	}
	if pairs := Pairs(pkgs); len(pairs) != 0 {
		t.Fatalf("pairs %+v", pairs)
	}
}

func FuzzReadTranslations(f *testing.F) {
	f.Add(translations)
	f.Add("Package: a\nDescription-en: b\n c\n .\n d\n\n\n")
	f.Fuzz(func(t *testing.T, text string) {
		pkgs, err := ReadTranslations(strings.NewReader(text), map[string]string{"a": "src"})
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, p := range pkgs {
			if p.Name == "" || p.Source == "" || seen[p.Name] {
				t.Fatalf("package %+v (seen %v)", p, seen[p.Name])
			}
			seen[p.Name] = true
		}
		for _, p := range Pairs(pkgs) {
			if p.Query == "" || len(strings.Fields(p.Doc)) < 20 || p.Eval != EvalSplit(p.Source) || p.Dev != DevSplit(p.Source) {
				t.Fatalf("pair %+v", p)
			}
		}
	})
}

func TestDevSplitPinned(t *testing.T) {
	// sha1(source) % 10 computed independently (Python hashlib).
	for s, mod := range map[string]int{"git": 1, "nano": 1, "zsh": 0, "openssl": 0, "bash": 2, "emacs": 9} {
		if DevSplit(s) != (mod == 1) || EvalSplit(s) != (mod == 0) || Reserved(s) != (mod <= 1) {
			t.Errorf("%q (sha1 mod 10 = %d): dev %v, eval %v, reserved %v", s, mod, DevSplit(s), EvalSplit(s), Reserved(s))
		}
	}
}
