package ingest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vecbolt/vecbolt/db"
)

func TestHTMLText(t *testing.T) {
	tests := []struct{ name, page, text, title string }{
		{"title and paragraphs", "<html><head><title> My  Page </title><style>p{color:red}</style></head><body><h1>Head</h1><p>One <b>bold</b> word.</p><p>Two</p></body></html>", "Head\n\nOne bold word.\n\nTwo", "My Page"},
		{"h1 when no title", "<h1>Guide</h1><div>text<br>more</div>", "Guide\n\ntext\n\nmore", "Guide"},
		{"first line when no heading", "<p>Just text</p>", "Just text", "Just text"},
		{"scripts and comments dropped", "<p>a<script>var x = '<p>';</script>b<!-- c --></p>", "ab", "ab"},
		{"pre keeps its lines", "<pre>line 1\n  line 2</pre><p>after</p>", "line 1\n  line 2\n\nafter", "line 1"},
		{"entities decoded", "<p>fish &amp; chips &lt;3</p>", "fish & chips <3", "fish & chips <3"},
		{"malformed", "<p>unclosed <b>bold", "unclosed bold", "unclosed bold"},
		{"empty", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, title := HTMLText(tt.page)
			if text != tt.text || title != tt.title {
				t.Errorf("HTMLText(%q) = %q, %q; want %q, %q", tt.page, text, title, tt.text, tt.title)
			}
		})
	}
}

func FuzzHTMLText(f *testing.F) {
	for _, s := range []string{
		"<html><head><title>T</title></head><body><p>a</p></body></html>",
		"<pre>x\n y</pre><script>z</script>",
		"<h1>a<h1>b</h1>",
		"&amp;&#xffff;&#0;<br/>",
		"<svg><text>no</text></svg><template>t</template>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, page string) {
		text, title := HTMLText(page)
		if strings.TrimSpace(text) != text {
			t.Errorf("text %q not trimmed", text)
		}
		if len(title) > maxTitle || strings.Contains(title, "\n") {
			t.Errorf("title %q", title)
		}
		if utf8.ValidString(page) && (!utf8.ValidString(text) || !utf8.ValidString(title)) {
			t.Errorf("invalid UTF-8 out of valid page: %q, %q", text, title)
		}
	})
}

func TestTitle(t *testing.T) {
	long := strings.Repeat("é", 150)
	tests := []struct {
		text     string
		markdown bool
		want     string
	}{
		{"\n\n  First line  \nsecond", false, "First line"},
		{"intro\n# Heading\n", true, "Heading"},
		{"intro\n# Heading\n", false, "intro"},
		{"#\n##  Real  \n", true, "Real"},
		{"   \n\t\n", false, ""},
		{long, false, strings.Repeat("é", 100)},
	}
	for _, tt := range tests {
		if got := Title(tt.text, tt.markdown); got != tt.want {
			t.Errorf("Title(%q, %v) = %q, want %q", tt.text, tt.markdown, got, tt.want)
		}
	}
}

// Files on a tree, through the real database with the built-in model (or
// the test's hashing one): IDs, metadata, unchanged files skipped,
// changed ones replaced, others counted.
func TestFiles(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.md", "# Alpha\n\nThe first document is about rivers.\n")
	write("sub/b.txt", "Beta\nThe second is about mountains.\n")
	write("sub/c.htm", "<title>Gamma</title><p>The third is about forests.</p>")
	write("sub/d.go", "package d")
	write("empty.txt", " \n")
	ctx := context.Background()
	d, err := db.Open(filepath.Join(t.TempDir(), "f.vecbolt"))
	if err != nil {
		t.Skip("no built-in model:", err)
	}
	defer d.Close()
	c, err := d.CreateCollection(ctx, "files", db.WithChunking(16, 2))
	if err != nil {
		t.Fatal(err)
	}
	var last Progress
	res, err := Files(ctx, c, []string{root, filepath.Join(root, "a.md")}, WithProgress(func(p Progress) { last = p }))
	if err != nil {
		t.Fatal(err)
	}
	// a.md is found twice (under root and given directly) under the same
	// ID; the second is refused, not written twice.
	if res.Added != 3 || res.Unsupported != 1 || len(res.Failed) != 2 || last.Files != last.Total || last.Total != 4 {
		t.Fatalf("first import: %+v, progress %+v", res, last)
	}
	docs, err := c.Get(ctx, "a.md", "sub/b.txt", "sub/c.htm")
	if err != nil {
		t.Fatal(err)
	}
	wantTitles := []string{"Alpha", "Beta", "Gamma"}
	for i, doc := range docs {
		md := doc.Metadata
		if md[KeyTitle] != wantTitles[i] || md[KeySize] == nil || md[KeyMtime] == nil || len(md[KeyHash].(string)) != 64 || !strings.HasPrefix(md[KeyPath].(string), root) {
			t.Errorf("%s: metadata %v", doc.ID, md)
		}
	}
	res, err = Files(ctx, c, []string{root})
	if err != nil || res.Unchanged != 3 || res.Added+res.Replaced != 0 {
		t.Fatalf("second import: %+v, %v", res, err)
	}
	write("sub/b.txt", "Beta\nNow about valleys.\n")
	res, err = Files(ctx, c, []string{root})
	if err != nil || res.Unchanged != 2 || res.Replaced != 1 {
		t.Fatalf("import after a change: %+v, %v", res, err)
	}
	hits, err := c.Search(ctx, "valleys", db.TopK(1))
	if err != nil || len(hits) != 1 || hits[0].DocID != "sub/b.txt" || !strings.Contains(hits[0].Text, "valleys") {
		t.Fatalf("search after replace: %+v, %v", hits, err)
	}
	if _, err := Files(ctx, c, []string{filepath.Join(root, "missing")}); err == nil {
		t.Error("missing path: no error")
	}
}

// HTML in a declared legacy encoding is decoded; plain text that is not
// UTF-8 is refused.
func TestLegacyEncodings(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "latin1.html"), []byte("<meta charset=\"iso-8859-1\"><title>Caf\xe9</title><p>cr\xe8me br\xfbl\xe9e</p>"), 0o644)
	os.WriteFile(filepath.Join(root, "latin1.txt"), []byte("caf\xe9"), 0o644)
	ctx := context.Background()
	d, err := db.Open(filepath.Join(t.TempDir(), "e.vecbolt"))
	if err != nil {
		t.Skip("no built-in model:", err)
	}
	defer d.Close()
	c, err := d.CreateCollection(ctx, "files", db.WithChunking(16, 2))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Files(ctx, c, []string{root})
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 1 || len(res.Failed) != 1 || !strings.HasSuffix(res.Failed[0].Path, "latin1.txt") {
		t.Fatalf("%+v", res)
	}
	docs, err := c.Get(ctx, "latin1.html")
	if err != nil {
		t.Fatal(err)
	}
	if docs[0].Text != "crème brûlée" || docs[0].Metadata[KeyTitle] != "Café" {
		t.Errorf("decoded page %q, title %q", docs[0].Text, docs[0].Metadata[KeyTitle])
	}
}
