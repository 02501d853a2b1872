package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vecbolt/vecbolt/db"
)

// TestMain lets the signal tests run this test binary as the vecbolt
// command (much faster than building it).
func TestMain(m *testing.M) {
	if os.Getenv("VECBOLT_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// stopWait bounds how long a stopped command may take to exit; it is a
// hang detector, not a performance figure.
const stopWait = 10 * time.Second

// The real command, importing from a pipe or a FIFO that stays open,
// stops on SIGINT or SIGTERM: promptly, with 128+signal as its status and
// a message saying how much it committed, the lock released, and the file
// holding exactly the batches committed before the signal.
func TestSignalStopsImport(t *testing.T) {
	cases := []struct {
		name  string
		sig   syscall.Signal
		code  int
		fifo  bool
		batch int
	}{
		{"SIGINT, stdin", syscall.SIGINT, 130, false, 3},
		{"SIGTERM, stdin", syscall.SIGTERM, 143, false, 3},
		{"SIGINT, FIFO file", syscall.SIGINT, 130, true, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			dbp := filepath.Join(dir, "sig.vecbolt")
			args := []string{"import", "--db", dbp, "--collection", "v", "--dim", "2", "--batch", fmt.Sprint(tc.batch)}
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = append(os.Environ(), "VECBOLT_TEST_RUN_MAIN=1")
			var so, se bytes.Buffer
			cmd.Stdout, cmd.Stderr = &so, &se
			var in io.WriteCloser
			if tc.fifo {
				fifo := filepath.Join(dir, "in.fifo")
				if err := syscall.Mkfifo(fifo, 0o600); err != nil {
					t.Fatal(err)
				}
				cmd.Args = append(cmd.Args, fifo)
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				// Opening for writing waits for the reader: the child.
				f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				in = f
			} else {
				cmd.Args = append(cmd.Args, "-")
				w, err := cmd.StdinPipe()
				if err != nil {
					t.Fatal(err)
				}
				in = w
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
			}
			defer in.Close()
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			defer func() { _ = cmd.Process.Kill() }()

			// Two full batches, then part of a third; the input stays open.
			committed := 2 * tc.batch
			for i := range committed + 1 {
				fmt.Fprintf(in, `{"id":"doc-%d","text":"marker-%d","vector":[1,%d]}`+"\n", i, i, i)
			}
			// The batches are committed once their last document is in the
			// file (bbolt writes nothing before a commit).
			last := []byte(fmt.Sprintf("marker-%d", committed-1))
			waitFor(t, exited, &se, func() bool {
				b, _ := os.ReadFile(dbp)
				return bytes.Contains(b, last)
			})
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			var err error
			select {
			case err = <-exited:
			case <-time.After(stopWait):
				t.Fatalf("still running %v after %v; stderr %q", tc.sig, stopWait, se.String())
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
				t.Fatalf("exit %v, want status %d; stderr %q", err, tc.code, se.String())
			}
			want := fmt.Sprintf("vecbolt: stopped by %s: import: %d documents committed in complete batches; the batch in progress was not\n", signalName(tc.sig), committed)
			if se.String() != want {
				t.Errorf("stderr %q, want %q", se.String(), want)
			}
			assertDocs(t, dbp, committed)
		})
	}
}

// waitFor polls cond until it holds, failing if the command exits first
// or it takes longer than stopWait.
func waitFor(t *testing.T, exited chan error, stderr *bytes.Buffer, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(stopWait)
	for !cond() {
		select {
		case err := <-exited:
			t.Fatalf("exited early: %v; stderr %q", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first batches were not committed within %v; stderr %q", stopWait, stderr.String())
		}
	}
}

// assertDocs opens the file for writing (so its lock was released) and
// checks it holds exactly documents doc-0 .. doc-(n-1) of collection v.
func assertDocs(t *testing.T, dbp string, n int) {
	t.Helper()
	d, err := db.Open(dbp, db.WithEmbedder(nil), db.WithLockTimeout(time.Second))
	if err != nil {
		t.Fatalf("the file is not openable for writing after the signal: %v", err)
	}
	defer d.Close()
	c, err := d.Collection(context.Background(), "v")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Count(context.Background(), nil); err != nil || got != n {
		t.Errorf("%d documents (%v), want the %d committed", got, err, n)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("doc-%d", i)
	}
	if _, err := c.Get(context.Background(), ids...); err != nil {
		t.Error(err)
	}
}

// Every blocking point gives way to a signal, in-process: a read of stdin,
// the open of a FIFO without a writer, the wait for another holder's lock.
func TestSignalStopsBlockedCommands(t *testing.T) {
	dir := t.TempDir()
	dbp := filepath.Join(dir, "held.vecbolt")
	fifo := filepath.Join(dir, "idle.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Unblock the abandoned open of the FIFO, which then closes it.
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	pr, pw := io.Pipe()
	defer pw.Close()
	holder := filepath.Join(dir, "locked.vecbolt")
	d, err := db.Open(holder, db.WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	cases := []struct {
		name  string
		stdin io.Reader
		args  []string
		want  string
	}{
		{"import from stdin", pr, []string{"import", "--db", dbp, "--collection", "v", "--dim", "2", "-"},
			"vecbolt: stopped by SIGINT: import: 0 documents committed in complete batches; the batch in progress was not\n"},
		{"import from a FIFO without writer", strings.NewReader(""), []string{"import", "--db", dbp, "--collection", "v", "--dim", "2", fifo},
			"vecbolt: stopped by SIGINT: opening " + fifo + "\n"},
		{"add waiting for the lock", strings.NewReader(""), []string{"add", "--db", holder, "--collection", "v", "--dim", "2", "--vector", "[1,0]", "--lock-timeout", "1h", "x"},
			"vecbolt: stopped by SIGINT: opening " + holder + "\n"},
		{"delete waiting for the lock", strings.NewReader(""), []string{"delete", "--db", holder, "--collection", "v", "--lock-timeout", "1h", "x"},
			"vecbolt: stopped by SIGINT: opening " + holder + "\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			var so, se bytes.Buffer
			done := make(chan int, 1)
			go func() {
				done <- run(ctx, tc.args, tc.stdin, &so, &se, withEmbedder(testModel()), withTerminal(false))
			}()
			time.Sleep(100 * time.Millisecond) // let it block (it is stopped wherever it is)
			cancel(&interrupted{sig: syscall.SIGINT})
			select {
			case code := <-done:
				if code != 130 || se.String() != tc.want {
					t.Errorf("exit %d, stderr %q; want 130, %q", code, se.String(), tc.want)
				}
			case <-time.After(stopWait):
				t.Fatalf("still blocked %v after the signal", stopWait)
			}
		})
	}
}

// A backup stops when its context is cancelled, leaving neither the copy
// nor its temporary file.
func TestBackupStops(t *testing.T) {
	dbp := buildDB(t, 50)
	d, err := db.Open(dbp, db.ReadOnly(), db.WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	outDir := t.TempDir()
	out := filepath.Join(outDir, "copy.vecbolt")
	if _, err := d.BackupFile(ctx, out); !errors.Is(err, context.Canceled) {
		t.Fatalf("backup with a cancelled context: %v", err)
	}
	if left, _ := os.ReadDir(outDir); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}
