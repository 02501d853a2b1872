package db

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestShortFormat(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	runes := strings.Repeat("é", 100) // 200 bytes, 2-byte runes
	cases := []struct {
		name, format string
		arg          string
		want         string
	}{
		{"short %q", "%q", "doc-1", `"doc-1"`},
		{"short %s", "%s", "doc-1", `doc-1`},
		{"short %v", "%v", "doc-1", `doc-1`},
		{"exactly the limit", "%q", strings.Repeat("a", maxQuotedBytes), `"` + strings.Repeat("a", maxQuotedBytes) + `"`},
		{"one over", "%q", strings.Repeat("a", maxQuotedBytes+1), `"` + strings.Repeat("a", maxQuotedBytes) + `"… (1 more bytes)`},
		{"1 MB %q", "%q", long, `"` + strings.Repeat("x", maxQuotedBytes) + fmt.Sprintf(`"… (%d more bytes)`, 1<<20-maxQuotedBytes)},
		{"1 MB %s", "%s", long, strings.Repeat("x", maxQuotedBytes) + fmt.Sprintf(`… (%d more bytes)`, 1<<20-maxQuotedBytes)},
		{"rune boundary", "%q", runes, `"` + strings.Repeat("é", maxQuotedBytes/2) + `"… (72 more bytes)`},
		{"odd cut lands mid-rune", "%q", "a" + runes, `"a` + strings.Repeat("é", (maxQuotedBytes-1)/2) + `"… (74 more bytes)`},
		{"control characters quoted", "%q", "a\x1b\n", `"a\x1b\n"`},
		{"invalid UTF-8 without rune starts", "%q", "\x80" + strings.Repeat("\x80", 200), `"` + strings.Repeat(`\x80`, maxQuotedBytes) + `"… (73 more bytes)`},
	}
	for _, c := range cases {
		if got := fmt.Sprintf(c.format, short(c.arg)); got != c.want {
			t.Errorf("%s: got %.200s, want %.200s", c.name, got, c.want)
		}
	}
}

func TestQuoteList(t *testing.T) {
	many := make([]string, 200000)
	for i := range many {
		many[i] = fmt.Sprintf("id-%d", i)
	}
	cases := []struct {
		name string
		in   []string
		want string
	}{
		{"one", []string{"a"}, `"a"`},
		{"three", []string{"a", "b", "c"}, `"a", "b", "c"`},
		{"at the limit", many[:maxListedIDs], `"id-0", "id-1", "id-2", "id-3", "id-4", "id-5", "id-6", "id-7", "id-8", "id-9"`},
		{"200k", many, `"id-0", "id-1", "id-2", "id-3", "id-4", "id-5", "id-6", "id-7", "id-8", "id-9", and 199990 more`},
		{"long entries cut", []string{strings.Repeat("z", 1000)}, `"` + strings.Repeat("z", maxQuotedBytes) + `"… (872 more bytes)`},
	}
	for _, c := range cases {
		if got := quoteList(c.in); got != c.want {
			t.Errorf("%s: got %.300s, want %.300s", c.name, got, c.want)
		}
	}
}

// Errors that quote caller input stay short; the error values keep it all.
func TestErrorLengthCap(t *testing.T) {
	d, _ := openTest(t, WithEmbedder(nil))
	c := mustCollection(t, d, "c", WithDimension(2), WithMetric(L2))
	if _, err := c.Insert(bg, Document{ID: "dup", Vector: []float32{1, 0}}); err != nil {
		t.Fatal(err)
	}
	huge := strings.Repeat("ü", 1<<19) // 1 MiB
	missing := make([]string, 200000)
	for i := range missing {
		missing[i] = fmt.Sprintf("missing-%06d", i)
	}
	cases := []struct {
		name string
		call func() error
		is   error
		// want is a substring saying what was left out.
		want string
	}{
		{"1 MiB ID", func() error {
			_, err := c.Insert(bg, Document{ID: huge, Vector: []float32{1, 0}})
			var de *DocumentError
			if errors.As(err, &de) && de.ID != huge {
				t.Error("DocumentError.ID does not keep the whole ID")
			}
			return err
		}, ErrInvalidDocument, "(1048448 more bytes)"},
		{"1 MiB ID twice in a batch", func() error {
			long := strings.Repeat("k", 400)
			_, err := c.Insert(bg, Document{ID: long, Vector: []float32{1, 0}}, Document{ID: long, Vector: []float32{0, 1}})
			return err
		}, ErrDuplicateID, "(272 more bytes)"},
		{"existing long ID", func() error {
			long := strings.Repeat("e", 500)
			if _, err := c.Insert(bg, Document{ID: long, Vector: []float32{1, 1}}); err != nil {
				return err
			}
			_, err := c.Insert(bg, Document{ID: long, Vector: []float32{1, 1}})
			return err
		}, ErrDuplicateID, "(372 more bytes)"},
		{"1 MiB metadata key", func() error {
			_, err := c.Insert(bg, Document{Vector: []float32{1, 0}, Metadata: map[string]any{huge: struct{}{}}})
			return err
		}, ErrInvalidDocument, "(1048448 more bytes)"},
		{"200k missing IDs", func() error {
			_, err := c.Get(bg, append([]string{"dup"}, missing...)...)
			var nf *NotFoundError
			if !errors.As(err, &nf) || len(nf.IDs) != len(missing) {
				t.Error("NotFoundError.IDs does not keep every missing ID")
			}
			return err
		}, ErrNotFound, "and 199990 more"},
		{"1 MiB missing ID", func() error {
			_, err := c.Get(bg, huge)
			return err
		}, ErrNotFound, "(1048448 more bytes)"},
		{"1 MiB collection name", func() error {
			_, err := d.Collection(bg, huge)
			return err
		}, ErrCollectionNotFound, "(1048448 more bytes)"},
	}
	for _, tc := range cases {
		err := tc.call()
		if !errors.Is(err, tc.is) {
			t.Errorf("%s: %.300v, want %v", tc.name, err, tc.is)
			continue
		}
		msg := err.Error()
		if len(msg) > 1000 || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: message of %d bytes: %.1200s", tc.name, len(msg), msg)
		}
	}
}
