package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// add-files, search of passages (--json, --group) and context, through
// the whole tool.
func TestAddFilesSearchContext(t *testing.T) {
	root := writeTree(t, map[string]string{
		"install.md":      "# Install\n\nDownload the archive and unpack it.\n\n## Debian\n\nRun apt install vecbolt as root. Then check the version.\n",
		"faq.txt":         "Questions\n\nWhy is the sky blue? Light scatters in the air.\n\nWhy is the sea salty? Rivers carry salt.\n",
		"web/backup.html": "<html><head><title>Backups</title></head><body><p>Copy the live database file with backup.</p><script>no()</script></body></html>",
		"image.png":       "\x89PNG",
		"bad/latin1.txt":  "caf\xe9",
	})
	dbp := tempDB(t)
	o := vb(t, "", "add-files", "--db", dbp, "--collection", "docs", "--chunk-tokens", "12", "--overlap", "2", "--json", root)
	if o.code != exitRuntime {
		t.Fatalf("add-files with a non-UTF-8 file: exit %d, want 1: %+v", o.code, o)
	}
	var res addFilesJSON
	if err := json.Unmarshal([]byte(o.stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, o.stdout)
	}
	if res.Added != 3 || res.Unsupported != 1 || len(res.Failed) != 1 || !strings.Contains(res.Failed[0].Path, "latin1.txt") {
		t.Fatalf("add-files: %+v", res)
	}
	os.Remove(filepath.Join(root, "bad", "latin1.txt"))
	if o := vb(t, "", "add-files", "--db", dbp, "--collection", "docs", root); o.code != exitOK || !strings.Contains(o.stdout, "added 0, replaced 0, unchanged 3") {
		t.Fatalf("second add-files: %+v", o)
	}
	if err := os.WriteFile(filepath.Join(root, "faq.txt"), []byte("Questions\n\nWhy is grass green? Chlorophyll.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if o := vb(t, "", "add-files", "--db", dbp, "--collection", "docs", root); o.code != exitOK || !strings.Contains(o.stdout, "added 0, replaced 1, unchanged 2") {
		t.Fatalf("add-files after a change: %+v", o)
	}
	if o := vb(t, "", "count", "--db", dbp, "--collection", "docs"); strings.TrimSpace(o.stdout) != "3" {
		t.Fatalf("count: %+v", o)
	}

	texts := map[string]string{}
	for _, id := range []string{"install.md", "faq.txt", "web/backup.html"} {
		o := vb(t, "", "get", "--db", dbp, "--collection", "docs", "--json", id)
		var docs []struct {
			ID, Text string
			Metadata map[string]any
		}
		if err := json.Unmarshal([]byte(o.stdout), &docs); err != nil || len(docs) != 1 {
			t.Fatalf("get %s: %v %+v", id, err, o)
		}
		texts[id] = docs[0].Text
		if docs[0].Metadata["title"] == nil || docs[0].Metadata["sha256"] == nil {
			t.Errorf("get %s: metadata %v", id, docs[0].Metadata)
		}
	}
	if !strings.Contains(texts["web/backup.html"], "Copy the live database") || strings.Contains(texts["web/backup.html"], "no()") || strings.Contains(texts["web/backup.html"], "<p>") {
		t.Errorf("HTML text %q", texts["web/backup.html"])
	}

	for _, r := range searchJSON(t, dbp, "docs", "--k", "50", "apt install") {
		if r.DocID == "" || r.Start == nil || r.End == nil || texts[r.DocID][*r.Start:*r.End] != r.Text {
			t.Errorf("passage %+v does not point into its document", r)
		}
	}
	// Keyword search finds passages by their own text (the changed
	// faq.txt's old words are gone) and names their documents.
	o = vb(t, "", "search", "--db", dbp, "--collection", "docs", "--mode", "keyword", "--explain", "--json", "chlorophyll")
	var kw []struct {
		DocID       string `json:"doc_id"`
		Start, End  *int
		Text        string
		KeywordRank int `json:"keyword_rank"`
	}
	if err := json.Unmarshal([]byte(o.stdout), &kw); err != nil {
		t.Fatalf("%v: %+v", err, o)
	}
	if len(kw) != 1 || kw[0].DocID != "faq.txt" || kw[0].Start == nil || kw[0].End == nil || texts["faq.txt"][*kw[0].Start:*kw[0].End] != kw[0].Text || !strings.Contains(kw[0].Text, "Chlorophyll") || kw[0].KeywordRank != 1 {
		t.Errorf("keyword search of a passage: %+v", kw)
	}
	if kw := searchJSON(t, dbp, "docs", "--mode", "keyword", "salty"); len(kw) != 0 {
		t.Errorf("keyword search finds a replaced file's old text: %+v", kw)
	}
	o = vb(t, "", "search", "--db", dbp, "--collection", "docs", "--group", "--mode", "keyword", "--json", "apt install")
	var kwGroups []jsonGroup
	if err := json.Unmarshal([]byte(o.stdout), &kwGroups); err != nil || len(kwGroups) == 0 || kwGroups[0].ID != "install.md" {
		t.Errorf("--group --mode keyword: %v %+v", err, o)
	}
	o = vb(t, "", "search", "--db", dbp, "--collection", "docs", "--group", "--passages", "1", "--json", "apt install debian")
	var groups []jsonGroup
	if err := json.Unmarshal([]byte(o.stdout), &groups); err != nil {
		t.Fatalf("%v: %+v", err, o)
	}
	if len(groups) != 3 || groups[0].ID != "install.md" {
		t.Errorf("--group: %+v", groups)
	}
	for _, g := range groups {
		if len(g.Passages) != 1 || g.Passages[0].DocID != g.ID {
			t.Errorf("--group entry %+v", g)
		}
	}

	o = vb(t, "", "context", "--db", dbp, "--collection", "docs", "--budget", "200", "--where", `title = "Install"`, "--json", "apt install debian")
	var cx contextJSON
	if err := json.Unmarshal([]byte(o.stdout), &cx); err != nil {
		t.Fatalf("%v: %+v", err, o)
	}
	if len(cx.Passages) != 1 || cx.Passages[0].DocID != "install.md" || cx.Passages[0].Start != 0 || cx.Passages[0].End != len(strings.TrimRight(texts["install.md"], "\n")) || cx.Tokens > 200 {
		t.Errorf("context --json: %+v", cx)
	}
	o = vb(t, "", "context", "--db", dbp, "--collection", "docs", "apt install debian")
	if o.code != exitOK || !strings.HasPrefix(o.stdout, "[1] install.md (bytes ") || !strings.Contains(o.stdout, "Run apt install vecbolt as root.") {
		t.Errorf("context: %+v", o)
	}

	for _, args := range [][]string{
		{"add-files", "--db", dbp, "--collection", "docs"},
		{"add-files", "--db", dbp, "--collection", "docs", "--chunk-tokens", "4", "--overlap", "4", root},
		{"context", "--db", dbp, "--collection", "docs", "--budget", "0", "q"},
		{"context", "--db", dbp, "--collection", "docs"},
		{"search", "--db", dbp, "--collection", "docs", "--group", "--passages", "0", "q"},
	} {
		if o := vb(t, "", args...); o.code != exitUsage {
			t.Errorf("%q: exit %d, want usage error: %+v", args, o.code, o)
		}
	}
	if o := vb(t, "", "add-files", "--db", dbp, "--collection", "docs", filepath.Join(root, "missing")); o.code != exitRuntime {
		t.Errorf("missing path: %+v", o)
	}
}

func TestAddFilesProgress(t *testing.T) {
	files := map[string]string{}
	for i := range 5 {
		files[fmt.Sprintf("d/%d.txt", i)] = fmt.Sprintf("note %d about rivers", i)
	}
	root := writeTree(t, files)
	dbp := tempDB(t)
	o := vbOpts(t, "", []option{withEmbedder(testModel()), withTerminal(true)}, "add-files", "--db", dbp, "--collection", "c", root)
	if o.code != exitOK || !strings.Contains(o.stderr, "adding files: 5/5 documents (100%)") {
		t.Errorf("no progress on a terminal: %+v", o)
	}
	o = vb(t, "", "add-files", "--db", dbp, "--collection", "c", root)
	if o.code != exitOK || o.stderr != "" || !strings.Contains(o.stdout, "unchanged 5") {
		t.Errorf("progress drawn without a terminal, or files not skipped: %+v", o)
	}
}
