package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vecbolt/vecbolt/db"
)

// existing checks that a database file exists before a command that would
// otherwise create an empty one (a typo in --db should not).
func existing(path string) (os.FileInfo, error) {
	if path == "" {
		return nil, usagef("--db FILE is required")
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", path, errors.Unwrap(err))
	}
	return st, nil
}

func checkCommand() *command {
	return &command{
		name:    "check",
		args:    "--db FILE [--sample N]",
		summary: "verify a database file",
		help: `Verifies a database file, read-only:
  1. the file's page structure, walked by check's own bounds-checked reader
     (every page pointer in range, every page of the right kind, reached
     once), then bbolt's consistency check; parts of the file whose pages
     are damaged are not read any further;
  2. every stored record decodes and passes its checksum: collection
     configurations, documents, the ID → label map, index snapshots;
  3. each ID maps to a document with that ID and vice versa; vectors have
     the collection's dimension and finite components;
  4. the index agrees with the documents: each collection loads, its count
     matches the stored documents, and each document is found by a search
     for its own vector (all documents up to --sample, an even sample above);
     and each metadata field holds values of one type (a field of mixed
     types, written before vecbolt recorded field types, is a problem).
Prints each problem, then a verdict per damaged collection: "damaged data"
(documents, IDs, configuration, or the file's structure: restore from a
backup) or "damaged cache" (the index snapshot, which the intact documents
rebuild: automatically on open, or stored with 'vecbolt reindex'; or the
keyword index, which 'vecbolt reindex' rebuilds). The exit
status is 1 if any problem was found.
`,
		flags: checkFlags,
	}
}

// maxProblemsShown bounds the output on a badly damaged file.
const maxProblemsShown = 50

func checkFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var f dbFlags
	var sample int
	f.register(fs, false)
	fs.IntVar(&sample, "sample", 20000, "self-search at most `N` documents per collection (default 20000; 0 = all)")
	return func(e *env, pos []string) (err error) {
		if len(pos) != 0 {
			return usagef("check takes no arguments")
		}
		if sample < 0 {
			return usagef("--sample %d must not be negative", sample)
		}
		d, done, err := e.open(&f, readDocs)
		if err != nil {
			return err
		}
		defer done(&err)
		rep, err := d.Check(e.ctx, db.WithCheckSample(sample))
		if err != nil {
			return err
		}
		for i, p := range rep.Problems {
			if i == maxProblemsShown {
				fmt.Fprintf(e.stdout, "... and %d more problems\n", len(rep.Problems)-i)
				break
			}
			fmt.Fprintf(e.stdout, "problem: %s\n", oneLine(p.Message))
		}
		printVerdict(e.stdout, rep, f.path)
		fmt.Fprintf(e.stdout, "%s: %d collections, %d documents, %d self-searches, %s\n",
			filepath.Base(f.path), len(rep.Collections), rep.Documents, rep.Searched, humanBytes(rep.Size))
		if !rep.OK() {
			return fmt.Errorf("check failed: %d problems in %s", len(rep.Problems), f.path)
		}
		fmt.Fprintln(e.stdout, "ok")
		return nil
	}
}

// printVerdict tells damaged data, which only a backup restores, from a
// damaged index cache, which the documents rebuild.
func printVerdict(w io.Writer, rep *db.CheckReport, path string) {
	if rep.FileDamaged {
		fmt.Fprintln(w, "damaged data: the file's structure outside any collection is damaged; restore the file from a backup")
	}
	for _, c := range rep.Collections {
		if c.Verdict == db.DamagedData {
			fmt.Fprintf(w, "damaged data: collection %q (documents, IDs or configuration); restore it from a backup\n", c.Name)
		}
	}
	for _, c := range rep.Collections {
		if c.Verdict != db.DamagedCache {
			continue
		}
		if c.CachePagesDamaged {
			fmt.Fprintf(w, "damaged cache: collection %q: the pages of its index snapshot are damaged; its documents are intact and it opens by rebuilding its index from them, but a writer that meets those pages refuses to write; restore the file from a backup to write to it again\n", c.Name)
			continue
		}
		if keywordOnly(rep, c.Name) {
			fmt.Fprintf(w, "damaged cache: collection %q: its keyword index, built from its documents, which are intact; keyword and hybrid search may miss or misrank documents until 'vecbolt reindex --db %s --collection %s' rebuilds it\n", c.Name, path, c.Name)
			continue
		}
		fmt.Fprintf(w, "damaged cache: collection %q: its index snapshot, a copy of what its documents hold, which are intact; it is rebuilt automatically on open, and 'vecbolt reindex --db %s --collection %s' stores a good one\n", c.Name, path, c.Name)
	}
}

// keywordOnly reports whether every cache problem of a collection is about
// its keyword index, which, unlike the index snapshot, is not rebuilt on
// open.
func keywordOnly(rep *db.CheckReport, name string) bool {
	found := false
	for _, p := range rep.Problems {
		if p.Collection != name {
			continue
		}
		switch p.Kind {
		case db.ProblemFullText:
			found = true
		case db.ProblemSnapshot, db.ProblemSelfSearch:
			return false
		}
	}
	return found
}
