package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/testdata/demo"
)

func demoCommand() *command {
	return &command{
		name:    "demo",
		args:    "[--db FILE] " + modelArg,
		summary: "build a small database from the shipped corpus and search it",
		help: `Imports the demo corpus shipped inside vecbolt (364 descriptions of Debian
packages, with metadata section, words, installed_kb and tags) into a
collection named "demo" and runs a few searches: some by meaning, some
with a metadata filter. Needs no network and no other input.

The database goes to a temporary directory that is removed afterwards,
unless --db names a file to keep (then try: vecbolt search --db FILE
--collection demo "your query").
`,
		flags: demoFlags,
	}
}

// demoQuery is one search the demo runs.
type demoQuery struct {
	text  string
	where string
	why   string
}

// demoQueries show search by meaning (the queries share few or no words
// with the descriptions they should find) and filters.
func demoQueries() []demoQuery {
	return []demoQuery{
		{text: "listen to songs and podcasts", why: "by meaning: audio players, though few share these words"},
		{text: "chat with friends", why: "by meaning: instant messaging and IRC clients"},
		{text: "typeset documents", why: "by meaning"},
		{text: "convert video files", why: "by meaning, across all sections"},
		{text: "convert video files", where: `section = "video"`, why: "the same query, filtered on metadata"},
		{text: "a fun way to pass the time", where: `section = "games" AND tags CONTAINS "game::puzzle"`, why: "filtered on a section and a tag list"},
	}
}

func demoFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var f dbFlags
	f.register(fs, true)
	setUsage(fs, "db", "keep the database in `FILE`")
	return func(e *env, pos []string) (err error) {
		if len(pos) != 0 {
			return usagef("demo takes no arguments")
		}
		if f.path == "" {
			dir, err := os.MkdirTemp("", "vecbolt-demo-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			f.path = filepath.Join(dir, "demo.vecbolt")
		}
		d, done, err := e.open(&f, writeText)
		if err != nil {
			return err
		}
		defer done(&err)
		c, err := d.CreateCollection(e.ctx, "demo", db.IfNotExists())
		if err != nil {
			return err
		}
		start := time.Now()
		added, _, err := e.importInto(c, strings.NewReader(demo.Corpus), "embedding the demo corpus", -1, strings.Count(demo.Corpus, "\n"), false, db.ImportUpsert(), db.ImportBatch(128))
		if err != nil {
			return fmt.Errorf("demo corpus: %w", err)
		}
		emb, err := d.Embedder()
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Stored %d Debian package descriptions in %s in %v,\nembedded with %s.\n",
			added, f.path, time.Since(start).Round(time.Millisecond), emb.Identity())
		for _, q := range demoQueries() {
			opts := []db.SearchOption{db.TopK(5)}
			if q.where != "" {
				opts = append(opts, db.WhereExpr(q.where))
			}
			t := time.Now()
			res, err := c.Search(e.ctx, q.text, opts...)
			if err != nil {
				return fmt.Errorf("demo search %q: %w", q.text, err)
			}
			fmt.Fprintf(e.stdout, "\n$ vecbolt search --collection demo --k 5")
			if q.where != "" {
				fmt.Fprintf(e.stdout, " --where '%s'", q.where)
			}
			fmt.Fprintf(e.stdout, " %q\n  (%s; %v)\n", q.text, q.why, time.Since(t).Round(time.Microsecond))
			printResults(e.stdout, res)
		}
		return nil
	}
}
