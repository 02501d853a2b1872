package main

import (
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"os"

	"github.com/vecbolt/vecbolt/db"
)

func backupCommand() *command {
	return &command{
		name:    "backup",
		args:    "--db FILE [--force] OUT",
		summary: "write a consistent copy of a database file",
		help: `Copies the database to OUT as of one moment (bbolt's hot backup inside a
read transaction), so the copy is consistent even if writes happen in the
meantime. The copy is written to OUT.vecbolt-backup-tmp next to OUT, synced,
and renamed into place; an existing OUT is refused unless --force is given.
A backup that was killed leaves that temporary file behind; the next backup
to the same OUT replaces it (or delete it by hand). Two backups to the same
OUT at once are refused.
`,
		flags: backupFlags,
	}
}

func backupFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var f dbFlags
	var force bool
	f.register(fs, false)
	fs.BoolVar(&force, "force", false, "replace an existing OUT")
	return func(e *env, pos []string) (err error) {
		if len(pos) != 1 {
			return usagef("backup takes exactly one OUT argument, got %d", len(pos))
		}
		out := pos[0]
		if f.path != "" && sameFile(f.path, out) {
			return usagef("OUT %s is the database itself", out)
		}
		if !force {
			if _, err := os.Lstat(out); err == nil {
				return fmt.Errorf("%s exists; use --force to replace it", out)
			}
		}
		d, done, err := e.open(&f, readDocs)
		if err != nil {
			return err
		}
		defer done(&err)
		var opts []db.CopyOption
		if force {
			opts = append(opts, db.Overwrite())
		}
		n, err := d.BackupFile(e.ctx, out, opts...)
		if errors.Is(err, iofs.ErrExist) {
			return fmt.Errorf("%s exists; use --force to replace it", out)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s (%s)\n", out, humanBytes(n))
		return nil
	}
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}
