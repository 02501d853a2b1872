//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vecbolt/vecbolt/db"
)

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// A backup that was killed leaves its temporary file; the next backup to
// the same output replaces it, so that no file the size of the database
// stays behind.
func TestBackupReplacesALeftoverTemporaryFile(t *testing.T) {
	dbp := buildDB(t, 50)
	for _, force := range []bool{false, true} {
		dir := t.TempDir()
		out := filepath.Join(dir, "copy.vecbolt")
		args := []string{"backup", "--db", dbp, out}
		if force {
			// --force also replaces an older copy.
			if err := os.WriteFile(out, []byte("old copy"), 0o600); err != nil {
				t.Fatal(err)
			}
			args = append(args, "--force")
		}
		if err := os.WriteFile(out+db.BackupTempSuffix, bytes.Repeat([]byte("leftover"), 1<<17), 0o600); err != nil {
			t.Fatal(err)
		}
		if o := vb(t, "", args...); o.code != 0 {
			t.Fatalf("force %v: %d %s", force, o.code, o.stderr)
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{"copy.vecbolt"}) {
			t.Errorf("force %v: the directory holds %v, want only the copy", force, names)
		}
		if n := collectionCount(t, out, "c"); n != 50 {
			t.Errorf("force %v: the copy holds %d documents, want 50", force, n)
		}
	}
}

// While one backup writes its temporary file, another to the same output
// is refused and leaves the file alone.
func TestBackupRefusesAConcurrentBackupToTheSameOutput(t *testing.T) {
	dbp := buildDB(t, 10)
	dir := t.TempDir()
	out := filepath.Join(dir, "copy.vecbolt")
	busy, err := os.OpenFile(out+db.BackupTempSuffix, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if _, err := busy.WriteString("in progress"); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(busy.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	o := vb(t, "", "backup", "--db", dbp, out)
	if o.code != 1 || !strings.Contains(o.stderr, "another backup to the same output is in progress") {
		t.Errorf("exit %d, stderr %q; want a refusal", o.code, o.stderr)
	}
	if got, _ := os.ReadFile(out + db.BackupTempSuffix); string(got) != "in progress" {
		t.Errorf("the running backup's file was changed to %q", got)
	}
	// A symlink at the temporary path is not followed.
	busy.Close()
	os.Remove(out + db.BackupTempSuffix)
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, out+db.BackupTempSuffix); err != nil {
		t.Fatal(err)
	}
	if o := vb(t, "", "backup", "--db", dbp, out); o.code != 1 {
		t.Errorf("symlink at the temporary path: exit %d", o.code)
	}
	if got, _ := os.ReadFile(victim); string(got) != "keep me" {
		t.Errorf("the symlink's target was changed to %q", got)
	}
}

// TestBackupChildProcess is the backup that TestKilledBackupLeavesNothing
// kills; it does nothing in a normal test run.
func TestBackupChildProcess(t *testing.T) {
	args := os.Getenv("VECBOLT_BACKUP_CHILD")
	if args == "" {
		t.Skip("child process of TestKilledBackupLeavesNothing")
	}
	os.Exit(run(context.Background(), strings.Split(args, "\n"), strings.NewReader(""), io.Discard, os.Stderr))
}

// The case: kill -9 a `vecbolt backup` while it writes, then back
// up again to the same output; nothing but the copy may remain.
func TestKilledBackupLeavesNothing(t *testing.T) {
	dbp := buildDB(t, 20)
	// 32 MiB of padding makes the copy take long enough to be caught.
	b, err := bolt.Open(dbp, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		pad, err := tx.CreateBucket([]byte("test-padding"))
		if err != nil {
			return err
		}
		for i := range 32 {
			if err := pad.Put(fmt.Appendf(nil, "%d", i), bytes.Repeat([]byte{byte(i)}, 1<<20)); err != nil {
				return err
			}
		}
		return nil
	})
	b.Close()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "copy.vecbolt")
	killed := false
	for attempt := 0; attempt < 5 && !killed; attempt++ {
		os.Remove(out)
		cmd := exec.Command(os.Args[0], "-test.run=^TestBackupChildProcess$")
		cmd.Env = append(os.Environ(), "VECBOLT_BACKUP_CHILD="+strings.Join([]string{"backup", "--db", dbp, out}, "\n"))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
	poll:
		for {
			select {
			case <-exited:
				break poll
			default:
			}
			// The temporary file has appeared and the copy is not done.
			if names := dirNames(t, dir); len(names) > 0 && !slices.Contains(names, "copy.vecbolt") {
				killed = cmd.Process.Signal(syscall.SIGKILL) == nil
				<-exited
				break
			}
			time.Sleep(200 * time.Microsecond)
		}
	}
	if !killed {
		t.Skip("the backup finished each time before it could be killed")
	}
	left := dirNames(t, dir)
	t.Logf("the killed backup left %v", left)
	if len(left) == 0 || slices.Contains(left, "copy.vecbolt") {
		t.Fatalf("after the kill the directory holds %v, want a temporary file", left)
	}
	if o := vb(t, "", "backup", "--db", dbp, out); o.code != 0 {
		t.Fatalf("backup after the kill: %d %s", o.code, o.stderr)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"copy.vecbolt"}) {
		t.Errorf("after a killed backup (which left %v) and a complete one, the directory holds %v, want only the copy", left, names)
	}
	if n := collectionCount(t, out, "c"); n != 20 {
		t.Errorf("the copy holds %d documents, want 20", n)
	}
}
