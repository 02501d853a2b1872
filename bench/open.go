package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vecbolt/vecbolt/bench/internal/synth"
	"github.com/vecbolt/vecbolt/db"
)

// writerCommand is the hidden first argument that turns this binary into
// the writer process the open suite kills.
const writerCommand = "__open-writer"

// writerBatch is the writer's Insert size; after a kill -9 the file may hold
// at most one batch more than was acknowledged.
const writerBatch = 500

// writerMain inserts the synthetic data set into a database, printing
// "acked N" after every Insert that returned (that is, once N documents are
// durable), and "closed" after a clean Close when asked.
func writerMain(args []string) int {
	fs := flag.NewFlagSet(writerCommand, flag.ContinueOnError)
	path := fs.String("path", "", "database file")
	cache := fs.String("cache", "", "data cache dir")
	n := fs.Int("n", 0, "vectors")
	queries := fs.Int("queries", 0, "queries of the data set spec")
	closeAtEnd := fs.Bool("close", false, "close cleanly after the last insert")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := writer(*path, *cache, *n, *queries, *closeAtEnd, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "bench writer: %v\n", err)
		return 1
	}
	return 0
}

func writer(path, cache string, n, queries int, closeAtEnd bool, out io.Writer) error {
	ctx := context.Background()
	spec := synth.Default(n)
	spec.Queries = queries
	d, _, err := synth.Load(ctx, cache, spec)
	if err != nil {
		return err
	}
	vdb, err := db.Open(path, db.WithEmbedder(nil))
	if err != nil {
		return err
	}
	col, err := vdb.CreateCollection(ctx, "vectors", append(collectionOptions(spec.Dim, db.IndexHNSW), db.IfNotExists())...)
	if err != nil {
		return err
	}
	for i := 0; i < n; i += writerBatch {
		if _, err := col.Insert(ctx, vectorDocs(d.Base, i, min(i+writerBatch, n))...); err != nil {
			return err
		}
		if _, err := fmt.Fprintf(out, "acked %d\n", min(i+writerBatch, n)); err != nil {
			return err
		}
	}
	if closeAtEnd {
		if err := vdb.Close(); err != nil {
			return err
		}
		fmt.Fprintln(out, "closed")
	}
	return nil
}

// startWriter runs the writer as a child process and returns it with a
// channel of acknowledged counts (closed when the child's output ends).
func (b *bench) startWriter(ctx context.Context, path string, closeAtEnd bool) (*exec.Cmd, <-chan int, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	args := []string{writerCommand, "--path", path, "--cache", b.cfg.cache,
		"--n", strconv.Itoa(b.cfg.n), "--queries", strconv.Itoa(b.cfg.queries)}
	if closeAtEnd {
		args = append(args, "--close")
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stderr = b.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	acks := make(chan int, 1024)
	go func() {
		defer close(acks)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
				if n, err := strconv.Atoi(v); err == nil {
					acks <- n
				}
			}
		}
	}()
	return cmd, acks, nil
}

// openSuite measures how long a database takes to open and answer its
// first query after a clean close, and after the writer was killed with
// SIGKILL halfway through its inserts; in the second case it also checks
// that every acknowledged document is there.
func (b *bench) openSuite(ctx context.Context) error {
	d, err := b.dataset(ctx, b.cfg.n)
	if err != nil {
		return err
	}
	params := func(phase string) map[string]any {
		return map[string]any{"phase": phase, "index": db.IndexHNSW, "writer_batch": writerBatch}
	}

	// Clean close.
	clean := filepath.Join(b.workDir, "open-clean.vecbolt")
	os.Remove(clean)
	defer os.Remove(clean)
	t0 := time.Now()
	cmd, acks, err := b.startWriter(ctx, clean, true)
	if err != nil {
		return err
	}
	last := 0
	for a := range acks {
		last = a
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("writer: %w", err)
	}
	if last != b.cfg.n {
		return fmt.Errorf("writer acknowledged %d of %d documents", last, b.cfg.n)
	}
	b.logf("open: writer inserted %d docs in %s (subprocess, clean close)", last, time.Since(t0).Round(time.Millisecond))
	el, n, err := timeOpen(ctx, clean, d.Queries[0], b.cfg.k)
	if err != nil {
		return err
	}
	fi, err := os.Stat(clean)
	if err != nil {
		return err
	}
	b.rep.add(Measurement{Suite: "open", System: "vecbolt-db-hnsw", Dataset: dataLabel(d), N: n, Dim: d.Spec.Dim,
		Params: params("after clean close"), OpenS: fp(el.Seconds()), FileMB: fp(float64(fi.Size()) / (1 << 20)),
		Note: "Open + Collection + first SearchVector"})

	// kill -9 halfway.
	killed := filepath.Join(b.workDir, "open-killed.vecbolt")
	os.Remove(killed)
	defer os.Remove(killed)
	cmd, acks, err = b.startWriter(ctx, killed, false)
	if err != nil {
		return err
	}
	last = 0
	target := b.cfg.n / 2
	for a := range acks {
		last = a
		if a >= target {
			if err := cmd.Process.Kill(); err != nil {
				return fmt.Errorf("kill writer: %w", err)
			}
			break
		}
	}
	for range acks {
		// Drain: lines written before the signal landed are not
		// counted, as the kill was decided on `last`.
	}
	werr := cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(werr, &exitErr) {
		return fmt.Errorf("writer was not killed (acked %d): %v", last, werr)
	}
	el, n, err = timeOpen(ctx, killed, d.Queries[0], b.cfg.k)
	if err != nil {
		return fmt.Errorf("open after kill -9: %w", err)
	}
	p := params("after kill -9")
	p["acked"], p["found"] = last, n
	b.rep.add(Measurement{Suite: "open", System: "vecbolt-db-hnsw", Dataset: dataLabel(d), N: n, Dim: d.Spec.Dim,
		Params: p, OpenS: fp(el.Seconds()), Note: "writer killed with SIGKILL after its acked count passed n/2"})
	b.logf("open: after kill -9 at %d acked, found %d, open %s", last, n, el.Round(time.Millisecond))
	// Durability is a correctness floor, not a timing: every acknowledged
	// document must be there, and at most the batch in flight beyond.
	b.want("open: documents found after kill -9 minus acknowledged (>= 0)", float64(n-last), 0)
	b.want("open: at most one unacknowledged batch after kill -9", float64(last+writerBatch-n), 0)
	return nil
}
