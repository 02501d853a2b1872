package main

import (
	"fmt"

	"github.com/vecbolt/vecbolt/db"
)

func reindexCommand() *command {
	return &command{
		name:    "reindex",
		args:    "--db FILE --collection NAME",
		summary: "rebuild a collection's index from its documents",
		help: `Rebuilds the collection's vector index from its stored documents and
writes a fresh index snapshot. The snapshot is only a cache of the
documents, kept so that opening is fast: run reindex when check reports it
damaged (a damaged snapshot is also rebuilt automatically whenever the
collection is opened, but only a writable open stores the result).

Documents and IDs are read and checked first: damage to them stops reindex
with an error, because they are the data and cannot be rebuilt. Needs no
model. Nothing changes unless it completes.

Flags:
  --db FILE            database file
  --collection NAME    collection
  --lock-timeout D     wait this long for another process to release the file (default 2s)
`,
		run: runReindex,
	}
}

func runReindex(e *env, args []string) error {
	return rebuildCollection(e, "reindex", "reindexing", args, false, writeDocs,
		func(d *db.DB, coll string, progress func(int, int)) error { return d.Reindex(e.ctx, coll, progress) },
		func(d *db.DB, coll string, total int) error {
			fmt.Fprintf(e.stdout, "reindexed %d documents of %q\n", total, coll)
			return nil
		})
}

// rebuildCollection is what reembed and reindex share: their flags, the
// existing file opened for writing, and op run with progress drawn on a
// terminal; report then prints the outcome while the file is still open.
func rebuildCollection(e *env, name, label string, args []string, withModel bool, mode openMode,
	op func(d *db.DB, coll string, progress func(done, total int)) error,
	report func(d *db.DB, coll string, total int) error) (err error) {
	fs := newFlagSet(name)
	var f dbFlags
	var coll string
	f.register(fs, withModel)
	fs.StringVar(&coll, "collection", "", "collection `NAME`")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("%s takes no arguments", name)
	}
	if coll == "" {
		return usagef("--collection NAME is required")
	}
	if _, err := existing(f.path); err != nil {
		return err
	}
	d, done, err := e.open(&f, mode)
	if err != nil {
		return err
	}
	defer done(&err)
	var prog *progress
	total := 0
	err = op(d, coll, func(n, t int) {
		total = t
		if e.terminal && prog == nil {
			prog = newDocProgress(e.stderr, label, t)
		}
		prog.update(-1, n)
	})
	prog.finish()
	if err != nil {
		return err
	}
	return report(d, coll, total)
}

// recoveryLog returns the db option that tells the user when a collection's
// index snapshot is damaged and its index is rebuilt from the documents
// while it loads, with progress on a terminal.
func (e *env) recoveryLog(path string, readOnly bool) db.Option {
	var prog *progress
	started := false
	return db.WithRecoveryLog(func(ev db.RecoveryEvent) {
		if !started {
			started = true
			fmt.Fprintf(e.stderr, "vecbolt: collection %q: the index snapshot cannot be used (%s); rebuilding the index from the documents\n", ev.Collection, errorLine(ev.Reason))
		}
		if !ev.Finished {
			if e.terminal && prog == nil && ev.Total > 0 {
				prog = newDocProgress(e.stderr, "rebuilding the index", ev.Total)
			}
			prog.update(-1, ev.Done)
			return
		}
		prog.finish()
		prog, started = nil, false
		switch {
		case readOnly:
			fmt.Fprintf(e.stderr, "vecbolt: collection %q: index rebuilt in memory only; run 'vecbolt reindex --db %s --collection %s' to store it\n", ev.Collection, path, ev.Collection)
		case ev.SaveErr != nil:
			fmt.Fprintf(e.stderr, "vecbolt: collection %q: index rebuilt, but the new snapshot could not be written: %s\n", ev.Collection, errorLine(ev.SaveErr))
		default:
			fmt.Fprintf(e.stderr, "vecbolt: collection %q: index rebuilt and a new snapshot written\n", ev.Collection)
		}
	})
}
