package db

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vecbolt/vecbolt/storage"
)

// The kill -9 test of a chunked collection: a child process upserts and
// deletes long documents (each written with all its passages in one
// transaction) and is killed at a random moment; the parent reopens the
// file and checks that every acknowledged document is there with exactly
// its passages, no passage is left without its document, the index holds
// every passage, and the batch in flight is wholly there or wholly absent.
const crashChunkedEnv = "VECBOLT_CRASH_CHUNKED_DB"

func crashLongText(id string, gen int) string {
	r := rand.New(rand.NewPCG(uint64(gen), uint64(len(id))))
	return fmt.Sprintf("%s generation %d. %s", id, gen, randomText(r))
}

func crashChunkedOpen(path string) (*DB, error) {
	return Open(path, WithEmbedder(newHashEmbedder("hash-a", 64)), WithSnapshotPolicy(20, 0))
}

// TestCrashChunkedWriterProcess is the child; it does nothing in a normal
// test run.
func TestCrashChunkedWriterProcess(t *testing.T) {
	path := os.Getenv(crashChunkedEnv)
	if path == "" {
		t.Skip("child process of TestKill9Chunked")
	}
	start, _ := strconv.Atoi(os.Getenv("VECBOLT_CRASH_START"))
	d, err := crashChunkedOpen(path)
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(3)
	}
	c, err := d.CreateCollection(bg, "long", WithChunking(12, 3), IfNotExists())
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(3)
	}
	out := bufio.NewWriter(os.Stdout)
	// The parent's kill timer starts here, not at the process start, so
	// that a slow start (a -race binary on a busy machine) still leaves
	// time for writes.
	fmt.Fprintln(out, "READY")
	out.Flush()
	r := rand.New(rand.NewPCG(uint64(start), 9))
	for b := start; ; b++ {
		var docs []Document
		var ids []string
		for range 1 + r.IntN(4) {
			id := fmt.Sprintf("c#%d", r.IntN(30))
			if slices.Contains(ids, id) {
				continue
			}
			ids = append(ids, id)
			docs = append(docs, Document{ID: id, Text: crashLongText(id, b), Metadata: map[string]any{"gen": b}})
		}
		fmt.Fprintf(out, "BEGIN %d %s\n", b, strings.Join(ids, ","))
		out.Flush()
		if _, err := c.Upsert(bg, docs...); err != nil {
			fmt.Fprintln(out, "ERR", err)
			out.Flush()
			os.Exit(3)
		}
		fmt.Fprintf(out, "ACK %d\n", b)
		out.Flush()
		if b%3 == 0 {
			victim := fmt.Sprintf("c#%d", r.IntN(30))
			fmt.Fprintf(out, "DELBEGIN %s\n", victim)
			out.Flush()
			if _, err := c.Delete(bg, victim); err != nil {
				fmt.Fprintln(out, "ERR", err)
				out.Flush()
				os.Exit(3)
			}
			fmt.Fprintf(out, "DELACK %s\n", victim)
			out.Flush()
		}
	}
}

func TestKill9Chunked(t *testing.T) {
	iters := 6
	if testing.Short() {
		iters = 2
	}
	if s := os.Getenv("VECBOLT_CRASH_ITERATIONS"); s != "" {
		iters, _ = strconv.Atoi(s)
	}
	path := filepath.Join(t.TempDir(), "chunked.vecbolt")
	// gens holds, per ID, the generations it may hold (-1: absent).
	gens := map[string][]int{}
	next, acks := 0, 0
	rng := rand.New(rand.NewPCG(18, uint64(time.Now().UnixNano())))
	for it := range iters {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChunkedWriterProcess$", "-test.v")
		cmd.Env = append(os.Environ(), crashChunkedEnv+"="+path, fmt.Sprint("VECBOLT_CRASH_START=", next))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAfter := time.Duration(50+rng.IntN(400)) * time.Millisecond
		timer := time.AfterFunc(time.Minute, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
		sc := bufio.NewScanner(stdout)
		var inflight []string
		inflightGen := -1
		delInflight := ""
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 0 {
				continue
			}
			switch f[0] {
			case "READY":
				timer.Reset(killAfter)
			case "BEGIN":
				inflightGen, _ = strconv.Atoi(f[1])
				inflight = strings.Split(f[2], ",")
			case "ACK":
				for _, id := range inflight {
					gens[id] = []int{inflightGen}
				}
				next, inflight = inflightGen+1, nil
				acks++
			case "DELBEGIN":
				delInflight = f[1]
			case "DELACK":
				gens[f[1]] = []int{-1}
				delInflight = ""
			case "ERR":
				t.Fatalf("writer failed: %s", sc.Text())
			}
		}
		timer.Stop()
		_ = cmd.Wait()
		for _, id := range inflight {
			if gens[id] == nil {
				gens[id] = []int{-1}
			}
			gens[id] = append(gens[id], inflightGen)
		}
		if inflight != nil {
			next = inflightGen + 1
		}
		if delInflight != "" && gens[delInflight] != nil {
			gens[delInflight] = append(gens[delInflight], -1)
		}

		d, err := crashChunkedOpen(path)
		if err != nil {
			t.Fatalf("reopen after kill: %v", err)
		}
		c, err := d.Collection(bg, "long")
		if errors.Is(err, ErrCollectionNotFound) && acks == 0 {
			d.Close()
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		stored := chunkedStructure(t, c)
		landed := 0
		for id, allowed := range gens {
			text, present := stored[id]
			g := -1
			if present {
				g = slices.IndexFunc(allowed, func(g int) bool { return g >= 0 && crashLongText(id, g) == text })
				if g < 0 {
					t.Fatalf("%s holds %q, none of generations %v", id, text, allowed)
				}
				g = allowed[g]
			} else if !slices.Contains(allowed, -1) {
				t.Fatalf("%s missing; acknowledged generations %v", id, allowed)
			}
			if slices.Contains(inflight, id) && g == inflightGen {
				landed++
			}
			gens[id] = []int{g}
		}
		for id := range stored {
			if gens[id] == nil {
				t.Fatalf("%s stored but never written", id)
			}
		}
		if landed != 0 && landed != len(inflight) {
			t.Fatalf("in-flight batch half applied: %d of %d documents", landed, len(inflight))
		}
		d.Close()
		t.Logf("iteration %d: killed after %v, %d batches acknowledged, %d documents", it, killAfter, acks, len(stored))
	}
	if acks == 0 {
		t.Fatal("the writer never acknowledged a write; the test proved nothing")
	}
}

// chunkedStructure checks a chunked collection's invariants without
// knowing its documents, and returns their texts: each document has
// exactly its passages 0..n-1 with valid offsets, every passage entry
// belongs to a document, and the index and live set hold every passage.
func chunkedStructure(t *testing.T, c *Collection) map[string]string {
	t.Helper()
	texts := map[string]string{}
	owned := map[string]bool{}
	err := c.db.store.View(func(tx *storage.Tx) error {
		ctx, err := tx.Collection(c.name)
		if err != nil {
			return err
		}
		err = ctx.ForEachParent("", func(p *storage.DocumentRecord) (bool, error) {
			texts[p.Id] = p.Text
			for k := range int(p.Passages) {
				pid := passageID(p.Id, k)
				label, ok, err := ctx.Label(pid)
				if err != nil || !ok {
					return false, fmt.Errorf("document %q lacks passage %d (%v)", p.Id, k, err)
				}
				rec, ok, err := ctx.Document(label)
				if err != nil || !ok || rec.ParentId != p.Id || rec.End > uint32(len(p.Text)) || rec.Start >= rec.End {
					return false, fmt.Errorf("passage %q: %+v (%v)", pid, rec, err)
				}
				if text, err := entryText(ctx, rec); err != nil || strings.TrimSpace(text) == "" {
					return false, fmt.Errorf("passage %q: text %q (%v)", pid, text, err)
				}
				owned[pid] = true
			}
			return true, nil
		})
		if err != nil {
			return err
		}
		return ctx.ForEachID(func(id []byte, label uint64) error {
			if !owned[string(id)] {
				return fmt.Errorf("orphan passage %q", id)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	st := c.st.Load()
	if st.idx.Len() != len(owned) || len(st.live) != len(owned) {
		t.Fatalf("index %d, live %d, passages %d", st.idx.Len(), len(st.live), len(owned))
	}
	return texts
}
