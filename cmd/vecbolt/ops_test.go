package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vecbolt/vecbolt/embedder/safetensors"
	"github.com/vecbolt/vecbolt/embedder/static"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"

	bolt "go.etcd.io/bbolt"

	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/storage"
	"github.com/vecbolt/vecbolt/testdata/demo"
)

// buildDB fills a database with n documents in collection "c" through the
// CLI and returns its path.
func buildDB(t *testing.T, n int) string {
	t.Helper()
	dbp := tempDB(t)
	var lines []string
	for i := range n {
		lines = append(lines, fmt.Sprintf(`{"id":"doc-%04d","text":"unique%d text about subject %d and item %d","metadata":{"i":%d}}`, i, i, i%7, i%13, i))
	}
	if o := vb(t, jsonl(lines...), "import", "--db", dbp, "--collection", "c", "-"); o.code != 0 {
		t.Fatalf("import: %s", o.stderr)
	}
	return dbp
}

func TestCheckHealthy(t *testing.T) {
	dbp := buildDB(t, 200)
	if o := vb(t, "", "add", "--db", dbp, "--collection", "v", "--dim", "4", "--metric", "dot", "--vector", "[1,2,3,4]", "x"); o.code != 0 {
		t.Fatal(o.stderr)
	}
	if o := vb(t, "", "add", "--db", dbp, "--collection", "v", "--vector", "[0.1,0.2,0.3,0.4]", "y"); o.code != 0 {
		t.Fatal(o.stderr)
	}
	o := vb(t, "", "check", "--db", dbp)
	if o.code != 0 || !strings.Contains(o.stdout, "2 collections, 202 documents, 202 self-searches") || !strings.HasSuffix(o.stdout, "ok\n") {
		t.Fatalf("exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	o = vb(t, "", "check", "--db", dbp, "--sample", "50")
	if o.code != 0 || !strings.Contains(o.stdout, "52 self-searches") {
		t.Fatalf("sampled check: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
}

// TestCheckDetectsDamage flips bytes inside stored records, where bbolt's
// page structure is intact but the project's checksums are not.
func TestCheckDetectsDamage(t *testing.T) {
	cases := []struct {
		name   string
		target string // bytes to find in the file and damage
	}{
		{"document text", "unique17 text about"},
		{"document ID in the ID map", "doc-0042"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dbp := buildDB(t, 100)
			raw, err := os.ReadFile(dbp)
			if err != nil {
				t.Fatal(err)
			}
			n := bytes.Count(raw, []byte(tc.target))
			if n == 0 {
				t.Fatalf("%q not found in the file", tc.target)
			}
			// Damage every copy (the ID appears in the document and as
			// a key of the ID map).
			i := 0
			for {
				j := bytes.Index(raw[i:], []byte(tc.target))
				if j < 0 {
					break
				}
				raw[i+j+len(tc.target)-1] ^= 0x01
				i += j + len(tc.target)
			}
			if err := os.WriteFile(dbp, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			o := vb(t, "", "check", "--db", dbp)
			if o.code != 1 || !strings.Contains(o.stdout, "problem: ") || !strings.Contains(o.stderr, "check failed") {
				t.Fatalf("damage not reported: exit %d\n%s%s", o.code, o.stdout, o.stderr)
			}
		})
	}
}

// TestCheckHeads edits the heads (the per-document ID and metadata that open
// reads) behind the documents' back with valid, checksummed records.
func TestCheckHeads(t *testing.T) {
	cases := []struct {
		name string
		edit func(heads *bolt.Bucket) error
		want string
	}{
		{"metadata differs", func(heads *bolt.Bucket) error {
			v, err := storage.EncodeDocument(&storage.DocumentRecord{Id: "doc-0003",
				Metadata: map[string]*storage.Value{"i": {Kind: &storage.IntValue{IntValue: 999}}}})
			if err != nil {
				return err
			}
			return heads.Put(storage.LabelKey(4), v)
		}, `document "doc-0003" (label 4) has a head that differs`},
		{"head missing", func(heads *bolt.Bucket) error {
			return heads.Delete(storage.LabelKey(5))
		}, `document "doc-0004" (label 5) has no head`},
		{"head without document", func(heads *bolt.Bucket) error {
			v, err := storage.EncodeDocument(&storage.DocumentRecord{Id: "ghost"})
			if err != nil {
				return err
			}
			return heads.Put(storage.LabelKey(1000), v)
		}, `head of "ghost" (label 1000) has no document`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dbp := buildDB(t, 20)
			bdb, err := bolt.Open(dbp, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = bdb.Update(func(tx *bolt.Tx) error {
				return tc.edit(tx.Bucket([]byte("collections")).Bucket([]byte("c")).Bucket([]byte("heads")))
			})
			if cerr := bdb.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
			o := vb(t, "", "check", "--db", dbp)
			if o.code != 1 || !strings.Contains(o.stdout, tc.want) {
				t.Fatalf("want a report containing %q: exit %d\n%s%s", tc.want, o.code, o.stdout, o.stderr)
			}
		})
	}
}

func TestCheckDamagedPages(t *testing.T) {
	dbp := buildDB(t, 300)
	raw, err := os.ReadFile(dbp)
	if err != nil {
		t.Fatal(err)
	}
	// Overwrite the page that holds a document with garbage: bbolt's own
	// check or the decoding must notice, and nothing may panic. (A fixed
	// page number could be a free page, whose damage is rightly harmless.)
	page := 4096
	at := bytes.Index(raw, []byte("unique150 text"))
	if at < 0 {
		t.Fatal("document text not found in the file")
	}
	start := at / page * page
	for i := start; i < start+page && i < len(raw); i++ {
		raw[i] = byte(i * 7)
	}
	if err := os.WriteFile(dbp, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	o := vb(t, "", "check", "--db", dbp)
	if o.code != 1 {
		t.Fatalf("damaged page not reported: exit %d\n%s%s", o.code, o.stdout, o.stderr)
	}
}

func TestBackup(t *testing.T) {
	dbp := buildDB(t, 50)
	dir := t.TempDir()
	bk := filepath.Join(dir, "copy.vecbolt")
	o := vb(t, "", "backup", "--db", dbp, bk)
	if o.code != 0 || !strings.Contains(o.stdout, "wrote "+bk) {
		t.Fatalf("backup: %d %s %s", o.code, o.stdout, o.stderr)
	}
	if o := vb(t, "", "backup", "--db", dbp, bk); o.code != 1 || !strings.Contains(o.stderr, "--force") {
		t.Errorf("overwrite without --force: %d %s", o.code, o.stderr)
	}
	if o := vb(t, "", "backup", "--db", dbp, "--force", bk); o.code != 0 {
		t.Errorf("--force: %d %s", o.code, o.stderr)
	}
	if o := vb(t, "", "backup", "--db", dbp, "--force", dbp); o.code != 2 {
		t.Errorf("backup onto itself: %d %s", o.code, o.stderr)
	}
	if o := vb(t, "", "backup", "--db", dbp, filepath.Join(dir, "no", "such", "dir", "x")); o.code != 1 {
		t.Errorf("backup into a missing directory: %d", o.code)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if o := vb(t, "", "check", "--db", bk); o.code != 0 {
		t.Fatalf("check of the backup: %s %s", o.stdout, o.stderr)
	}
	if n := collectionCount(t, bk, "c"); n != 50 {
		t.Errorf("backup holds %d documents, want 50", n)
	}
}

// TestBackupWhileWriting takes backups while other goroutines insert and
// delete; every copy must pass check and hold a state between the counts
// before and after it was taken.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	dbp := tempDB(t)
	d, err := db.Open(dbp, db.WithEmbedder(testModel()))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c, err := d.CreateCollection(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	// Writer 0 only inserts, so every document it had acknowledged before
	// a backup started must be in the copy; writer 1 also deletes.
	var stop atomic.Bool
	var acked0 atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				batch := make([]db.Document, 5)
				for j := range batch {
					batch[j] = db.Document{ID: fmt.Sprintf("w%d-%d-%d", w, i, j), Text: fmt.Sprintf("writer %d batch %d doc %d", w, i, j)}
				}
				if _, err := c.Insert(ctx, batch...); err != nil {
					errs <- err
					return
				}
				if w == 0 {
					acked0.Add(int64(len(batch)))
				} else if _, err := c.Delete(ctx, batch[0].ID, batch[2].ID); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	dir := t.TempDir()
	rounds := 5
	if testing.Short() {
		rounds = 3
	}
	for r := range rounds {
		time.Sleep(20 * time.Millisecond)
		before := acked0.Load()
		out := filepath.Join(dir, fmt.Sprintf("b%d.vecbolt", r))
		if _, err := d.BackupFile(context.Background(), out); err != nil {
			t.Fatal(err)
		}
		o := vb(t, "", "check", "--db", out)
		if o.code != 0 {
			t.Fatalf("backup %d fails check:\n%s%s", r, o.stdout, o.stderr)
		}
		var want []string
		for i := range before / 5 {
			for j := range 5 {
				want = append(want, fmt.Sprintf("w0-%d-%d", i, j))
			}
		}
		if len(want) == 0 {
			continue
		}
		o = vb(t, "", append([]string{"get", "--db", out, "--collection", "c", "--json"}, want...)...)
		if o.code != 0 {
			t.Errorf("backup %d lacks documents acknowledged before it: %s", r, o.stderr)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if acked0.Load() == 0 {
		t.Error("writer 0 inserted nothing during the backups")
	}
}

func TestLockedInProcess(t *testing.T) {
	dbp := tempDB(t)
	d, err := db.Open(dbp, db.WithEmbedder(testModel()))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	start := time.Now()
	o := vb(t, "", "add", "--db", dbp, "--collection", "c", "--lock-timeout", "200ms", "text")
	if o.code != 1 || !strings.Contains(o.stderr, "locked") {
		t.Fatalf("exit %d: %s", o.code, o.stderr)
	}
	if el := time.Since(start); el > 30*time.Second {
		t.Errorf("locked open took %v", el)
	}
}

func TestDemo(t *testing.T) {
	if n := strings.Count(demo.Corpus, "\n"); n < 300 || len(demo.Corpus) > 300<<10 {
		t.Fatalf("demo corpus has %d lines, %d bytes", n, len(demo.Corpus))
	}
	// Every corpus line is a valid import line.
	for i, line := range strings.Split(strings.TrimSuffix(demo.Corpus, "\n"), "\n") {
		d, err := parseImportLine([]byte(line))
		if err != nil {
			t.Fatalf("corpus line %d: %v", i+1, err)
		}
		if _, ok := d.Metadata["section"].(string); !ok || d.ID == "" {
			t.Fatalf("corpus line %d lacks an id or a section: %v", i+1, d.Metadata)
		}
	}
	o := vb(t, "", "demo")
	if o.code != 0 {
		t.Fatalf("demo: %s", o.stderr)
	}
	if !strings.Contains(o.stdout, "Stored 364 Debian package descriptions") || strings.Count(o.stdout, "$ vecbolt search") != len(demoQueries()) {
		t.Fatalf("demo output:\n%s", o.stdout)
	}
	// The filtered queries return only their section.
	for _, sec := range []string{"games", "video"} {
		i := strings.Index(o.stdout, fmt.Sprintf("--where 'section = %q", sec))
		if i < 0 {
			t.Fatalf("no query filtered on %s:\n%s", sec, o.stdout)
		}
		block := o.stdout[i:]
		if j := strings.Index(block, "\n$ "); j >= 0 {
			block = block[:j]
		}
		hits := len(regexp.MustCompile(`\n +\d+\. `).FindAllString(block, -1))
		if hits == 0 || strings.Count(block, "section="+sec+" ") != hits {
			t.Errorf("query filtered on %s returned other sections:\n%s", sec, block)
		}
	}
	// With --db the database is kept, and a second run reuses it.
	dbp := tempDB(t)
	for range 2 {
		if o := vb(t, "", "demo", "--db", dbp); o.code != 0 {
			t.Fatalf("demo --db: %s", o.stderr)
		}
	}
	if n := collectionCount(t, dbp, "demo"); n != 364 {
		t.Errorf("kept demo database holds %d documents", n)
	}
}

// writeStaticModel writes a tiny static model directory in the Model2Vec
// layout the embedder package reads, and returns the directory.
func writeStaticModel(t *testing.T) string {
	t.Helper()
	vocab := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "cat", "dog", "car", "truck", "##s", "the"}
	tok, err := tokenizer.NewWordPiece(vocab)
	if err != nil {
		t.Fatal(err)
	}
	dim := 4
	emb := make([]float32, len(vocab)*dim)
	rows := map[string][]float32{"cat": {1, 0.1, 0, 0}, "dog": {0.9, 0.2, 0, 0}, "car": {0, 0, 1, 0}, "truck": {0, 0, 0, 1}, "##s": {0.1, 0.1, 0.1, 0.1}, "the": {0.05, 0.05, 0.05, 0.05}}
	for i, w := range vocab {
		copy(emb[i*dim:], rows[w])
	}
	dir := t.TempDir()
	tj, err := tok.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var st bytes.Buffer
	if err := safetensors.Write(&st, []safetensors.Tensor{safetensors.F32Tensor("embeddings", []int{len(vocab), dim}, emb)}, nil); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"tokenizer.json": tj, "model.safetensors": st.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestModelFlag(t *testing.T) {
	model := writeStaticModel(t)
	dbp := tempDB(t)
	noDefault := []option{withTerminal(false)}
	for _, text := range []string{"the cat", "the dogs", "the car", "the trucks"} {
		if o := vbOpts(t, "", noDefault, "add", "--db", dbp, "--collection", "c", "--model", model, "--id", text, text); o.code != 0 {
			t.Fatalf("add with --model: %s", o.stderr)
		}
	}
	o := vbOpts(t, "", noDefault, "search", "--db", dbp, "--collection", "c", "--model", model, "--json", "--k", "2", "truck")
	var res []jsonResult
	if err := json.Unmarshal([]byte(o.stdout), &res); err != nil || len(res) != 2 || res[0].ID != "the trucks" {
		t.Fatalf("search with --model: %v %s %s", err, o.stdout, o.stderr)
	}
	if o := vbOpts(t, "", noDefault, "search", "--db", dbp, "--collection", "c", "--model", t.TempDir(), "truck"); o.code != 1 || !strings.Contains(o.stderr, "neither model.onnx") {
		t.Errorf("empty model directory: %d %s", o.code, o.stderr)
	}
	if o := vbOpts(t, "", noDefault, "search", "--db", dbp, "--collection", "c", "--model", "no-such-model-anywhere", "truck"); o.code != 1 || !strings.Contains(o.stderr, "unknown model") {
		t.Errorf("unknown model: %d %s", o.code, o.stderr)
	}
}

func TestTokenize(t *testing.T) {
	model := writeStaticModel(t)
	o := vb(t, "", "tokenize", "--model", model, "--json", "The cats")
	if o.code != 0 || strings.Join(strings.Fields(o.stdout), "") != "[2,9,4,8,3]" {
		t.Fatalf("tokenize --json: %d %q %s", o.code, o.stdout, o.stderr)
	}
	o = vb(t, "", "tokenize", "--model", filepath.Join(model, "tokenizer.json"), "--no-special", "--json", "The cats")
	if o.code != 0 || strings.Join(strings.Fields(o.stdout), "") != "[9,4,8]" {
		t.Fatalf("tokenize tokenizer.json --no-special: %q %s", o.stdout, o.stderr)
	}
	o = vb(t, "", "tokenize", "--model", model, "cats zebra")
	if o.code != 0 || !strings.Contains(o.stdout, `"##s"`) || !strings.Contains(o.stdout, `"[UNK]"`) || !strings.Contains(o.stdout, "5..10") {
		t.Fatalf("tokenize table: %s %s", o.stdout, o.stderr)
	}
	// Without --model: the built-in model's tokenizer.
	st, err := static.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	o = vbOpts(t, "", []option{withBuiltin(func() (embedder.Embedder, error) { return st, nil })}, "tokenize", "--json", "dog")
	if o.code != 0 || strings.Join(strings.Fields(o.stdout), "") != "[2,5,3]" {
		t.Fatalf("tokenize with the built-in model: %q %s", o.stdout, o.stderr)
	}
	o = vbOpts(t, "", []option{withBuiltin(func() (embedder.Embedder, error) { return nil, errNoBuiltin })}, "tokenize", "dog")
	if o.code != 1 || !strings.Contains(o.stderr, "--model") {
		t.Fatalf("no built-in model: %d %s", o.code, o.stderr)
	}
}

// TestEndToEnd builds the binary and runs it as a user would, including a
// write to a file another process holds open.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "vecbolt")
	build := exec.Command("go", "build", "-o", bin, ".")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	dbp := tempDB(t)
	cli := func(stdin string, args ...string) (int, string, string) {
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader(stdin)
		var so, se bytes.Buffer
		cmd.Stdout, cmd.Stderr = &so, &se
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0, so.String(), se.String()
		case errors.As(err, &ee):
			return ee.ExitCode(), so.String(), se.String()
		}
		t.Fatal(err)
		return 0, "", ""
	}
	in := jsonl(`{"id":"a","text":"first","vector":[1,0,0]}`, `{"id":"b","text":"second","vector":[0,1,0]}`)
	if code, so, se := cli(in, "import", "--db", dbp, "--collection", "v", "--dim", "3", "-"); code != 0 || !strings.Contains(so, "imported 2") {
		t.Fatalf("import: %d %s %s", code, so, se)
	}
	code, so, se := cli("", "search", "--db", dbp, "--collection", "v", "--vector", "[0.1,1,0]", "--json")
	var res []jsonResult
	if code != 0 || json.Unmarshal([]byte(so), &res) != nil || len(res) != 2 || res[0].ID != "b" {
		t.Fatalf("search: %d %s %s", code, so, se)
	}
	if code, so, se := cli("", "check", "--db", dbp); code != 0 {
		t.Fatalf("check: %d %s %s", code, so, se)
	}
	if code, _, se := cli("", "search", "--db", dbp); code != 2 || !strings.HasPrefix(se, "vecbolt: ") || !strings.Contains(se, "usage:") {
		t.Fatalf("usage error: %d %s", code, se)
	}

	d, err := db.Open(dbp, db.WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code, _, se = cli("", "add", "--db", dbp, "--collection", "v", "--vector", "[0,0,1]", "--lock-timeout", "300ms", "third")
	elapsed := time.Since(start)
	d.Close()
	if code != 1 || !strings.Contains(se, "locked") || strings.Count(se, "\n") != 1 {
		t.Fatalf("add on a locked file: exit %d, stderr %q", code, se)
	}
	if elapsed > 30*time.Second {
		t.Errorf("locked add took %v", elapsed)
	}
	if code, _, se := cli("", "add", "--db", dbp, "--collection", "v", "--vector", "[0,0,1]", "third"); code != 0 {
		t.Fatalf("add after release: %d %s", code, se)
	}
	// The README's command.
	if code, so, se := cli("", "demo"); code != 0 || !strings.Contains(so, "Stored 364") {
		t.Fatalf("demo: %d %s %s", code, so, se)
	}
}

// TestDemoBuiltin runs the README's command as shipped: the demo with the
// built-in model. The model's quality is tested in its own package; here
// the top hits of the queries by meaning must come from the sections
// they describe, for at least three of the four.
func TestDemoBuiltin(t *testing.T) {
	dbp := tempDB(t)
	o := vbOpts(t, "", []option{withTerminal(false)}, "demo", "--db", dbp)
	if o.code != 0 {
		t.Fatalf("demo: %s", o.stderr)
	}
	// The demo database must pass check with the real model's vectors and
	// the default index: every document found by its own vector.
	if c := vb(t, "", "check", "--db", dbp); c.code != 0 {
		t.Errorf("check of the demo database:\n%s%s", c.stdout, c.stderr)
	}
	if !strings.Contains(o.stdout, "Stored 364") {
		t.Fatalf("demo output:\n%s", o.stdout)
	}
	want := map[string][]string{
		"listen to songs and podcasts": {"sound", "video"},
		"chat with friends":            {"net", "mail"},
		"typeset documents":            {"text", "editors"},
		"convert video files":          {"video", "sound", "graphics"},
	}
	good := 0
	for q, secs := range want {
		i := strings.Index(o.stdout, fmt.Sprintf("--k 5 %q", q))
		if i < 0 {
			t.Fatalf("query %q not run", q)
		}
		m := regexp.MustCompile(`\n +1\. .*section=(\S+)`).FindStringSubmatch(o.stdout[i:])
		if m == nil {
			t.Fatalf("query %q has no result", q)
		}
		for _, s := range secs {
			if m[1] == s {
				good++
			}
		}
		t.Logf("%q → top hit in section %s", q, m[1])
	}
	if good < 3 {
		t.Errorf("only %d of 4 demo queries found their section first", good)
	}
	o = vbOpts(t, "", nil, "tokenize", "--json", "Hello, world")
	var idsOut []int32
	if o.code != 0 || json.Unmarshal([]byte(o.stdout), &idsOut) != nil || len(idsOut) < 3 {
		t.Fatalf("tokenize with the built-in model: %d %q %s", o.code, o.stdout, o.stderr)
	}
}
