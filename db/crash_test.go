package db

import (
	"bufio"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
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
)

// The crash test runs a writer in a child process (this test binary, with
// crashWriterEnv set), kills it with SIGKILL at a random moment, reopens
// the file and checks that every acknowledged write is there, complete, and
// searchable, and that the batch in flight is either wholly there or wholly
// absent. VECBOLT_CRASH_ITERATIONS sets the number of kills (default 8, 3
// with -short); the long mode is VECBOLT_CRASH_ITERATIONS=200.
const crashWriterEnv = "VECBOLT_CRASH_WRITER_DB"

const crashDim = 8

func crashVector(id string) []float32 {
	h := fnv.New64a()
	h.Write([]byte(id))
	r := rand.New(rand.NewPCG(uint64(len(id)), h.Sum64()))
	v := make([]float32, crashDim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func crashDoc(id string, gen int) Document {
	return Document{
		ID:   id,
		Text: fmt.Sprintf("text of %s generation %d", id, gen),
		// A field per generation modulo 64: batches keep introducing fields
		// whose types must be recorded with them.
		Metadata: map[string]any{"gen": gen, "tags": []string{id, "x"}, fmt.Sprintf("f%d", gen%64): gen%2 == 0},
		Vector:   crashVector(fmt.Sprint(id, "/", gen)),
	}
}

// TestCrashWriterProcess is the child: it writes forever and prints one
// line per acknowledged write. It does nothing in a normal test run.
func TestCrashWriterProcess(t *testing.T) {
	path := os.Getenv(crashWriterEnv)
	if path == "" {
		t.Skip("child process of TestKill9Durability")
	}
	start, _ := strconv.Atoi(os.Getenv("VECBOLT_CRASH_START"))
	d, err := Open(path, WithEmbedder(nil), WithSnapshotPolicy(50, 0))
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(3)
	}
	c, err := d.CreateCollection(bg, "crash", WithDimension(crashDim), WithMetric(L2), WithFullText(FullTextConfig{}), IfNotExists())
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(3)
	}
	out := bufio.NewWriter(os.Stdout)
	r := rand.New(rand.NewPCG(uint64(start), 7))
	for b := start; ; b++ {
		var docs []Document
		var ids []string
		for i := range 1 + r.IntN(20) {
			id := fmt.Sprintf("d%d-%d", b, i)
			if r.IntN(4) == 0 && b > 0 {
				id = fmt.Sprintf("d%d-%d", r.IntN(b), r.IntN(5)) // upsert an older one
			}
			if slices.Contains(ids, id) {
				continue
			}
			ids = append(ids, id)
			docs = append(docs, crashDoc(id, b))
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
			victim := fmt.Sprintf("d%d-%d", r.IntN(b+1), r.IntN(5))
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

// docState is what the parent expects of one ID.
type docState struct {
	gen     int   // generation of the acknowledged version; -1 if deleted
	maybe   []int // generations possibly written (in flight at the kill)
	deleted bool
}

func TestKill9Durability(t *testing.T) {
	iters := 8
	if testing.Short() {
		iters = 3
	}
	if s := os.Getenv("VECBOLT_CRASH_ITERATIONS"); s != "" {
		iters, _ = strconv.Atoi(s)
	}
	path := filepath.Join(t.TempDir(), "crash.vecbolt")
	want := map[string]*docState{}
	next := 0
	rng := rand.New(rand.NewPCG(42, uint64(time.Now().UnixNano())))
	totalAcks, ackedDocs, ackedDeletes := 0, 0, 0
	for it := range iters {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashWriterProcess$", "-test.v")
		cmd.Env = append(os.Environ(), crashWriterEnv+"="+path, fmt.Sprint("VECBOLT_CRASH_START=", next))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAfter := time.Duration(20+rng.IntN(300)) * time.Millisecond
		timer := time.AfterFunc(killAfter, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
		sc := bufio.NewScanner(stdout)
		var inflight []string
		inflightGen := -1
		var delInflight string
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 0 {
				continue
			}
			switch f[0] {
			case "BEGIN":
				inflightGen, _ = strconv.Atoi(f[1])
				inflight = strings.Split(f[2], ",")
			case "ACK":
				for _, id := range inflight {
					want[id] = &docState{gen: inflightGen}
				}
				next = inflightGen + 1
				ackedDocs += len(inflight)
				inflight = nil
				totalAcks++
			case "DELBEGIN":
				delInflight = f[1]
			case "DELACK":
				want[f[1]] = &docState{gen: -1, deleted: true}
				delInflight = ""
				ackedDeletes++
			case "ERR":
				t.Fatalf("writer failed: %s", sc.Text())
			}
		}
		timer.Stop()
		_ = cmd.Wait()
		// In-flight writes may or may not have landed.
		for _, id := range inflight {
			st := want[id]
			if st == nil {
				st = &docState{gen: -2}
				want[id] = st
			}
			st.maybe = append(st.maybe, inflightGen)
		}
		if inflight != nil {
			next = inflightGen + 1
		}
		if delInflight != "" {
			if st := want[delInflight]; st != nil {
				st.maybe = append(st.maybe, -1)
			}
		}
		verifyCrash(t, path, want, inflight, inflightGen)
		// Resolve what landed so the next round starts from facts.
		resolveCrash(t, path, want)
		t.Logf("iteration %d: killed after %v, %d batches acknowledged so far", it, killAfter, totalAcks)
	}
	t.Logf("%d kills: %d acknowledged batches, %d document writes, %d deletes; all verified", iters, totalAcks, ackedDocs, ackedDeletes)
	if totalAcks == 0 {
		t.Fatal("the writer never acknowledged a write; the test proved nothing")
	}
}

// openCrash reopens the file after a kill. c is nil when the writer was
// killed before it created its collection, which is only allowed while
// nothing has been acknowledged.
func openCrash(t *testing.T, path string, want map[string]*docState) (*DB, *Collection) {
	t.Helper()
	d, err := Open(path, WithEmbedder(nil))
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	c, err := d.Collection(bg, "crash")
	if errors.Is(err, ErrCollectionNotFound) {
		for id, st := range want {
			if st.gen >= 0 {
				t.Fatalf("collection missing, but %s was acknowledged", id)
			}
		}
		return d, nil
	}
	if err != nil {
		d.Close()
		t.Fatalf("collection after kill: %v", err)
	}
	return d, c
}

func verifyCrash(t *testing.T, path string, want map[string]*docState, inflight []string, inflightGen int) {
	t.Helper()
	d, c := openCrash(t, path, want)
	defer d.Close()
	if c == nil {
		return
	}
	// The file's record of field types (what Collections reads; the
	// collection was created with one) holds every type the documents do:
	// no crash leaves a document whose field type is unrecorded.
	infos, err := d.Collections(bg)
	if err != nil {
		t.Fatal(err)
	}
	for f, ft := range c.Info().Fields {
		if infos[0].Fields[f] != ft {
			t.Fatalf("field %q: the documents hold %s, the file records %q", f, ft, infos[0].Fields[f])
		}
	}
	// A kill leaves the snapshot whole: the index loads from it and the
	// pending writes, whose stored vectors are no longer the snapshot's
	// (format 4 keeps them once, in the vector store), without a rebuild.
	if msg := c.Info().IndexRebuilt; msg != "" {
		t.Fatalf("index rebuilt after a kill: %s", msg)
	}
	landed := 0
	total, _ := c.Count(bg, nil)
	// Every document is read back; a random sample of them is also searched
	// by its own vector (an exhaustive search each, so checking all of them
	// every round would grow quadratically with the file).
	searchEvery := max(1, len(want)/300)
	seen := 0
	for id, st := range want {
		seen++
		got, err := c.GetFields(bg, FieldText|FieldMetadata|FieldVector, id)
		present := err == nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatalf("get %s: %v", id, err)
		}
		ok := false
		candidates := append([]int{st.gen}, st.maybe...)
		for _, g := range candidates {
			switch {
			case g == -1 || g == -2:
				ok = ok || !present
			case present && got[0].Text == crashDoc(id, g).Text:
				want := crashDoc(id, g)
				if got[0].Metadata["gen"] != int64(g) || !vecEqual(got[0].Vector, want.Vector) {
					t.Fatalf("%s: torn document: %+v", id, got[0])
				}
				ok = true
			}
		}
		if !ok {
			t.Fatalf("%s: state %+v, present=%v %+v: acknowledged write lost or unacknowledged write half-applied", id, *st, present, got)
		}
		if present && seen%searchEvery == 0 {
			// ef ≥ N makes the graph search exhaustive, so this checks that
			// the index holds the document, not the graph's recall.
			res, err := c.SearchVector(bg, got[0].Vector, TopK(1), WithEf(max(total, 64)))
			if err != nil || len(res) != 1 || res[0].Score != 0 {
				t.Fatalf("%s not found by its own vector: %+v %v", id, res, err)
			}
			if res[0].ID != id {
				// Two documents may share a vector only if they are the
				// same generation of the same ID; anything else is a bug.
				t.Fatalf("%s: own vector finds %s", id, res[0].ID)
			}
		}
	}
	// The in-flight batch is all or nothing.
	for _, id := range inflight {
		if got, err := c.Get(bg, id); err == nil && got[0].Text == crashDoc(id, inflightGen).Text {
			landed++
		}
	}
	if landed != 0 && landed != len(inflight) {
		// An ID in flight could also have been acknowledged earlier with
		// the same text only if gens matched, which they cannot.
		t.Fatalf("in-flight batch half applied: %d of %d documents", landed, len(inflight))
	}
	n, _ := c.Count(bg, nil)
	if c.st.Load().idx.Len() != n {
		t.Fatalf("index holds %d vectors for %d documents", c.st.Load().idx.Len(), n)
	}
	// The keyword index, written in the documents' transactions, agrees
	// with them: every document's text holds "generation", so a keyword
	// search for it finds exactly the documents, and Check finds the
	// index consistent and its statistics equal to the texts'.
	if n > 0 {
		res, err := c.Search(bg, "generation", WithMode(ModeKeyword), TopK(n+10), WithFields())
		if err != nil {
			t.Fatalf("keyword search after kill: %v", err)
		}
		found := map[string]bool{}
		for _, r := range res {
			found[r.ID] = true
		}
		for id, st := range want {
			if present := st.gen >= 0 || len(st.maybe) > 0; !present && found[id] {
				// Only a possibly-written document may be found.
				t.Fatalf("keyword index holds deleted %s", id)
			}
		}
		if len(res) != n || len(found) != n {
			t.Fatalf("keyword search finds %d documents (%d distinct), the collection holds %d", len(res), len(found), n)
		}
	}
	rep, err := d.Check(bg, WithCheckSample(16))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Problems {
		t.Fatalf("check after kill: %s", p)
	}
}

// resolveCrash turns "maybe" states into facts by reading the file.
func resolveCrash(t *testing.T, path string, want map[string]*docState) {
	d, c := openCrash(t, path, want)
	defer d.Close()
	if c == nil {
		for id := range want {
			want[id] = &docState{gen: -1, deleted: true}
		}
		return
	}
	for id, st := range want {
		if len(st.maybe) == 0 {
			continue
		}
		got, err := c.Get(bg, id)
		if err != nil {
			want[id] = &docState{gen: -1, deleted: true}
			continue
		}
		gen := int(got[0].Metadata["gen"].(int64))
		want[id] = &docState{gen: gen}
	}
}

func vecEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
