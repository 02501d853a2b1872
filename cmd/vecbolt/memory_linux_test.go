//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/embedder/builtin"
)

// memScenario is one input whose peak memory TestPeakMemory reports.
type memScenario struct {
	name  string
	input func(w io.Writer) // the JSONL file, for import scenarios
	args  []string          // import flags after --db and --collection
	// insert, when set, replaces the import: a library call in the child.
	insert func(ctx context.Context, dir string) error
}

func memScenarios() []memScenario {
	words := func(n int) string {
		ws := []string{"alpha ", "beta ", "gamma ", "delta ", "epsilon ", "kappa "}
		var b strings.Builder
		for i := 0; b.Len() < n; i++ {
			b.WriteString(ws[(i*7+i/5)%len(ws)])
		}
		return b.String()[:n-1]
	}
	maxText := words(db.MaxTextBytes)
	lines := func(n int) func(io.Writer) {
		return func(w io.Writer) {
			for i := range n {
				fmt.Fprintf(w, "{\"id\":\"d%d\",\"text\":%q}\n", i, maxText)
			}
		}
	}
	return []memScenario{
		{name: "baseline: one short line (the model loaded)", input: func(w io.Writer) { fmt.Fprintln(w, `{"text":"hello world"}`) }},
		{name: "16 MiB vector line, refused", args: []string{"--skip-bad"}, input: func(w io.Writer) {
			io.WriteString(w, `{"vector":[0`+strings.Repeat(",0", 8<<20)+"]}\n")
		}},
		{name: "line over the limit, refused", args: []string{"--skip-bad"}, input: func(w io.Writer) {
			io.WriteString(w, `{"text":"`+strings.Repeat("a", maxLineBytes)+"\"}\n")
		}},
		{name: "largest accepted line (8 MiB text, non-ASCII escaped)", input: func(w io.Writer) {
			// "éé " is 5 bytes of UTF-8 and 13 escaped.
			bw := bufio.NewWriter(w)
			bw.WriteString(`{"id":"big","text":"`)
			for n := 0; n+5 <= db.MaxTextBytes; n += 5 {
				bw.WriteString(`\u00e9\u00e9 `)
			}
			bw.WriteString(`","metadata":{"k":"` + strings.Repeat(`\u00e9`, 30000) + "\"}}\n")
			bw.Flush()
		}},
		{name: "16 texts of 8 MiB, --batch 256", input: lines(16)},
		{name: "library: Insert of 8 texts of 8 MiB (embedded)", insert: func(ctx context.Context, dir string) error {
			m, err := builtin.New()
			if err != nil {
				return err
			}
			d, err := db.Open(filepath.Join(dir, "lib.vecbolt"), db.WithEmbedder(m))
			if err != nil {
				return err
			}
			defer d.Close()
			c, err := d.CreateCollection(ctx, "c")
			if err != nil {
				return err
			}
			docs := make([]db.Document, 8)
			for i := range docs {
				docs[i] = db.Document{ID: fmt.Sprint(i), Text: maxText}
			}
			_, err = c.Insert(ctx, docs...)
			return err
		}},
		{name: "library: Insert of MaxBatchBytes (31 texts of 8 MiB, vectors given)", insert: func(ctx context.Context, dir string) error {
			d, err := db.Open(filepath.Join(dir, "lib2.vecbolt"))
			if err != nil {
				return err
			}
			defer d.Close()
			c, err := d.CreateCollection(ctx, "c", db.WithDimension(4))
			if err != nil {
				return err
			}
			docs := make([]db.Document, db.MaxBatchBytes/db.MaxTextBytes-1)
			for i := range docs {
				docs[i] = db.Document{ID: fmt.Sprint(i), Text: maxText, Vector: []float32{1, 2, 3, float32(i)}}
			}
			_, err = c.Insert(ctx, docs...)
			return err
		}},
	}
}

// TestPeakMemory reports the peak resident memory (getrusage maxrss) of a
// child process importing or inserting the worst inputs vecbolt accepts,
// and some it refuses. It asserts nothing about the figures (they depend
// on the machine and the Go runtime); the bounds it illustrates are
// asserted per byte by TestImportLineMemory, TestImportBatchByteBudget and
// embedder/builtin's TestEmbedMemoryPerTextByte. Set VECBOLT_MEMORY=1 to
// run it (about a minute).
func TestPeakMemory(t *testing.T) {
	if os.Getenv("VECBOLT_MEMORY") == "" {
		t.Skip("set VECBOLT_MEMORY=1 to measure peak memory")
	}
	for _, sc := range memScenarios() {
		dir := t.TempDir()
		var size int64
		if sc.input != nil {
			f, err := os.Create(filepath.Join(dir, "in.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			bw := bufio.NewWriterSize(f, 1<<20)
			sc.input(bw)
			if err := bw.Flush(); err != nil {
				t.Fatal(err)
			}
			size, _ = f.Seek(0, io.SeekCurrent)
			f.Close()
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestPeakMemoryChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "VECBOLT_MEMORY_CHILD="+sc.name, "VECBOLT_MEMORY_DIR="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", sc.name, err, out)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		t.Logf("%-70s input %7.1f MiB  peak RSS %6.0f MB  %s", sc.name, float64(size)/(1<<20), float64(ru.Maxrss)*1024/1e6, lastLine(out))
	}
}

func lastLine(b []byte) string {
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if strings.HasPrefix(l, "child: ") {
			return strings.TrimPrefix(l, "child: ")
		}
	}
	return ""
}

// TestPeakMemoryChild is TestPeakMemory's child process.
func TestPeakMemoryChild(t *testing.T) {
	name, dir := os.Getenv("VECBOLT_MEMORY_CHILD"), os.Getenv("VECBOLT_MEMORY_DIR")
	if name == "" {
		t.Skip("run by TestPeakMemory")
	}
	ctx := context.Background()
	for _, sc := range memScenarios() {
		if sc.name != name {
			continue
		}
		if sc.insert != nil {
			if err := sc.insert(ctx, dir); err != nil {
				t.Fatal(err)
			}
			fmt.Println("child: inserted")
			return
		}
		var so, se strings.Builder
		args := append([]string{"import", "--db", filepath.Join(dir, "x.vecbolt"), "--collection", "c"}, sc.args...)
		code := run(ctx, append(args, filepath.Join(dir, "in.jsonl")), strings.NewReader(""), &so, &se, withTerminal(false))
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, se.String())
		}
		fmt.Println("child: " + strings.TrimSpace(so.String()))
		return
	}
	t.Fatalf("no scenario %q", name)
}
