package main

import (
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"time"

	"github.com/vecbolt/vecbolt/db"
)

func compactCommand() *command {
	return &command{
		name:    "compact",
		args:    "--db FILE [--force] (--in-place | OUT)",
		summary: "write a compacted copy of a database file",
		help: `A database file never shrinks: bbolt reuses the space that deletes free,
but does not give it back, and a file keeps the largest size it ever had.
compact writes a copy that holds only what the data needs (every
collection, document, ID, field type and index snapshot) and prints the
sizes before and after.

With OUT, the copy is written to OUT.vecbolt-backup-tmp next to OUT,
synced, and renamed to OUT; an existing OUT is refused unless --force is
given. Other processes cannot write to FILE meanwhile (it is opened
read-only, which the write lock excludes).

With --in-place, FILE is opened for writing, which holds its lock for the
whole compaction so that nobody writes in between; the copy is written to
FILE.vecbolt-backup-tmp, checked (as 'vecbolt check' does, and it must
hold the same collections with the same counts), and only then renamed
over FILE. If compact is interrupted (Ctrl-C, a crash, a full disk, a
failed check), FILE is untouched: it is replaced only by the final
rename. A killed compact leaves the temporary file; the next one replaces
it (or delete it by hand). A file that check reports damaged is refused:
restore it from a backup.
`,
		flags: compactFlags,
	}
}

func compactFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var f dbFlags
	var inPlace, force bool
	f.register(fs, false)
	fs.BoolVar(&inPlace, "in-place", false, "replace FILE with its compacted copy")
	fs.BoolVar(&force, "force", false, "replace an existing OUT")
	return func(e *env, pos []string) (err error) {
		switch {
		case inPlace && len(pos) != 0:
			return usagef("compact takes --in-place or OUT, not both")
		case inPlace && force:
			return usagef("--force applies to OUT, not to --in-place")
		case !inPlace && len(pos) != 1:
			return usagef("compact takes exactly one OUT argument (or --in-place), got %d", len(pos))
		}
		if _, err := existing(f.path); err != nil {
			return err
		}
		// Progress counts keys, not documents, so it is drawn as a percentage.
		var last time.Time
		drawn := false
		opts := []db.CopyOption{db.WithCopyProgress(func(done, total int64) {
			if !e.terminal || total <= 0 || time.Since(last) < 100*time.Millisecond && done < total {
				return
			}
			last, drawn = time.Now(), true
			fmt.Fprintf(e.stderr, "\r\x1b[Kcompacting: %d%% of %d keys", done*100/total, total)
		})}
		endProgress := func() {
			if drawn {
				fmt.Fprint(e.stderr, "\r\x1b[K")
			}
		}
		var st db.CompactStats
		out := f.path
		if inPlace {
			if f.lockTimeout < 0 {
				return usagef("--lock-timeout %v must not be negative", f.lockTimeout)
			}
			timeout := f.lockTimeout
			if timeout == 0 {
				timeout = -1 // the user asked not to wait; db treats 0 as its default
			}
			opts = append(opts, db.WithCopyLockTimeout(timeout))
			st, err = db.CompactFile(e.ctx, f.path, opts...)
		} else {
			out = pos[0]
			if sameFile(f.path, out) {
				return usagef("OUT %s is the database itself; use --in-place", out)
			}
			if force {
				opts = append(opts, db.Overwrite())
			}
			var d *db.DB
			var done func(*error)
			if d, done, err = e.open(&f, readDocs); err != nil {
				return err
			}
			defer done(&err)
			st, err = d.CompactTo(e.ctx, out, opts...)
			if errors.Is(err, iofs.ErrExist) {
				endProgress()
				return fmt.Errorf("%s exists; use --force to replace it", out)
			}
		}
		endProgress()
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "compacted %s: %s before, %s after (%s)\n", f.path, humanBytes(st.Before), humanBytes(st.After), out)
		return nil
	}
}
