package main

import (
	"flag"
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
`,
		flags: reindexFlags,
	}
}

func reindexFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	return rebuildCollection(fs, "reindex", "reindexing", false, writeDocs,
		func(e *env, d *db.DB, coll string, progress func(int, int)) error {
			return d.Reindex(e.ctx, coll, progress)
		},
		func(e *env, d *db.DB, coll string, total int) error {
			fmt.Fprintf(e.stdout, "reindexed %d documents of %q\n", total, coll)
			return nil
		})
}

// rebuildCollection is what reembed and reindex share: their flags, the
// existing file opened for writing, and op run with progress drawn on a
// terminal; report then prints the outcome while the file is still open.
func rebuildCollection(fs *flag.FlagSet, name, label string, withModel bool, mode openMode,
	op func(e *env, d *db.DB, coll string, progress func(done, total int)) error,
	report func(e *env, d *db.DB, coll string, total int) error) func(e *env, pos []string) error {
	var f dbFlags
	var coll string
	f.register(fs, withModel)
	fs.StringVar(&coll, "collection", "", "collection `NAME`")
	return func(e *env, pos []string) (err error) {
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
		err = op(e, d, coll, func(n, t int) {
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
		return report(e, d, coll, total)
	}
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

// fullTextBuildLog returns the db option that tells the user when the
// keyword index of a collection from an older file is built (its first
// writable open), with progress on a terminal.
func (e *env) fullTextBuildLog() db.Option {
	var prog *progress
	return db.WithFullTextBuildLog(func(ev db.FullTextBuildEvent) {
		if !ev.Finished {
			if ev.Done == 0 {
				fmt.Fprintf(e.stderr, "vecbolt: collection %q: building its keyword index (once, for a file written by an older vecbolt)\n", ev.Collection)
			}
			if e.terminal && prog == nil && ev.Total > 0 {
				prog = newDocProgress(e.stderr, "building the keyword index", ev.Total)
			}
			prog.update(-1, ev.Done)
			return
		}
		prog.finish()
		prog = nil
		fmt.Fprintf(e.stderr, "vecbolt: collection %q: keyword index built (%d documents)\n", ev.Collection, ev.Total)
	})
}
