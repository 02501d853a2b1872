package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"

	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/query"
)

// parseWhere parses a --where flag before the file is opened, so that a
// typo is a usage error that touches nothing. "" is no filter.
func parseWhere(where string) (query.Filter, error) {
	if where == "" {
		return nil, nil
	}
	f, err := query.Parse(where)
	if err == nil {
		err = query.Validate(f)
	}
	if err != nil {
		return nil, usagef("--where: %v", err)
	}
	return f, nil
}

func exportCommand() *command {
	return &command{
		name:    "export",
		args:    "--db FILE --collection NAME [--where EXPR] [--vectors] [OUT|-]",
		summary: "write a collection's documents as JSON Lines",
		help: `Writes the collection's documents, in ID order, one JSON object per line:

  {"id":"a1","text":"...","metadata":{"year":2024,"score":2.0}}

in exactly the format import reads, to OUT or to stdout (- or no OUT).
Importing the output into an empty collection and exporting that gives the
same bytes: metadata keeps its types (a float of integral value is written
2.0, an integer 2), keys are sorted, and characters a terminal would act on
are \u escapes. --vectors adds each document's "vector"; without it an
import embeds the texts again (a collection of your own vectors needs it).

OUT is written to a temporary file beside it and renamed into place once
complete, so an interrupted export leaves no partial OUT. The database is
opened read-only and no model is loaded. The export reads in pages of 256
documents, each a consistent snapshot (another goroutine of an app could
write in between; no other process can, see README).
`,
		flags: exportFlags,
	}
}

func exportFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var f dbFlags
	var coll, where string
	var vectors bool
	f.register(fs, false)
	fs.StringVar(&coll, "collection", "", "collection `NAME`")
	fs.StringVar(&where, "where", "", "export only the documents matching this filter `EXPR`")
	fs.BoolVar(&vectors, "vectors", false, "include the vectors")
	return func(e *env, pos []string) (err error) {
		if coll == "" {
			return usagef("--collection NAME is required")
		}
		if len(pos) > 1 {
			return usagef("export takes at most one OUT argument (- for stdout), got %d", len(pos))
		}
		filter, err := parseWhere(where)
		if err != nil {
			return err
		}
		opts := []db.ExportOption{}
		if filter != nil {
			opts = append(opts, db.ExportWhere(filter))
		}
		if vectors {
			opts = append(opts, db.ExportVectors())
		}
		c, done, err := e.openCollection(&f, coll, readDocs)
		if err != nil {
			return err
		}
		defer done(&err)
		if len(pos) == 0 || pos[0] == "-" {
			_, err = c.Export(e.ctx, ctxWriter{e.ctx, e.stdout}, opts...)
			return err
		}
		out := pos[0]
		tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.tmp")
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer func() {
			if err != nil {
				tmp.Close()
				os.Remove(tmp.Name())
			}
		}()
		n, err := c.Export(e.ctx, ctxWriter{e.ctx, tmp}, opts...)
		if err != nil {
			return err
		}
		if err := tmp.Sync(); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if err := tmp.Close(); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if err := os.Rename(tmp.Name(), out); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		fmt.Fprintf(e.stderr, "vecbolt: exported %s to %s\n", plural(n, "document"), oneLine(out))
		return nil
	}
}

func countCommand() *command {
	return &command{
		name:    "count",
		args:    "--db FILE --collection NAME [--where EXPR]",
		summary: "print how many documents a collection holds (or match a filter)",
		help: `Prints the number of documents in the collection, or of those matching
--where, alone on stdout. Read-only; no model is loaded.
`,
		flags: countFlags,
	}
}

func countFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var f dbFlags
	var coll, where string
	f.register(fs, false)
	fs.StringVar(&coll, "collection", "", "collection `NAME`")
	fs.StringVar(&where, "where", "", "count only the documents matching this filter `EXPR`")
	return func(e *env, pos []string) (err error) {
		if coll == "" {
			return usagef("--collection NAME is required")
		}
		if len(pos) != 0 {
			return usagef("count takes no arguments, got %d", len(pos))
		}
		filter, err := parseWhere(where)
		if err != nil {
			return err
		}
		c, done, err := e.openCollection(&f, coll, readDocs)
		if err != nil {
			return err
		}
		defer done(&err)
		n, err := c.Count(e.ctx, filter)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, n)
		return nil
	}
}

func listCommand() *command {
	return &command{
		name:    "list",
		args:    "--db FILE --collection NAME [--where EXPR] [--after ID] [--limit N] [--json]",
		summary: "list document IDs (or documents) in ID order",
		help: `Prints the IDs of the collection's documents in ID order (byte order), one
per line, or with --json one JSON array of {"id","text","metadata"}. --after
starts after that ID (it need not exist), so a script pages with
--after LAST --limit N. Read-only; no model is loaded.
`,
		flags: listFlags,
	}
}

func listFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var f dbFlags
	var coll, where, after string
	var limit int
	var asJSON bool
	f.register(fs, false)
	fs.StringVar(&coll, "collection", "", "collection `NAME`")
	fs.StringVar(&where, "where", "", "list only the documents matching this filter `EXPR`")
	fs.StringVar(&after, "after", "", "start after this `ID`")
	fs.IntVar(&limit, "limit", 0, "list at most `N` documents (default 0: all)")
	fs.BoolVar(&asJSON, "json", false, "print the documents as one JSON array")
	return func(e *env, pos []string) (err error) {
		if coll == "" {
			return usagef("--collection NAME is required")
		}
		if len(pos) != 0 {
			return usagef("list takes no arguments, got %d", len(pos))
		}
		if limit < 0 {
			return usagef("--limit %d must not be negative", limit)
		}
		filter, err := parseWhere(where)
		if err != nil {
			return err
		}
		opts := []db.ScanOption{db.ScanAfter(after), db.ScanLimit(limit), db.ScanFields()}
		if asJSON {
			opts = append(opts, db.ScanFields(db.FieldText, db.FieldMetadata))
		}
		if filter != nil {
			opts = append(opts, db.ScanWhere(filter))
		}
		c, done, err := e.openCollection(&f, coll, readDocs)
		if err != nil {
			return err
		}
		defer done(&err)
		if asJSON {
			return listJSON(e.stdout, c.Scan(e.ctx, opts...))
		}
		for doc, err := range c.Scan(e.ctx, opts...) {
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintln(e.stdout, safeName(doc.ID)); err != nil {
				return err
			}
		}
		return nil
	}
}

// listJSON streams documents as one JSON array, an element per line, so
// that a long list is never held whole.
func listJSON(w io.Writer, docs iter.Seq2[db.Document, error]) error {
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	n := 0
	for d, err := range docs {
		if err != nil {
			return err
		}
		b, err := json.Marshal(jsonDoc{ID: d.ID, Text: d.Text, Metadata: nonNil(d.Metadata)})
		if err != nil {
			return err
		}
		sep := ",\n  "
		if n == 0 {
			sep = "\n  "
		}
		n++
		if _, err := w.Write(append([]byte(sep), jsonSafe(b)...)); err != nil {
			return err
		}
	}
	end := "\n]\n"
	if n == 0 {
		end = "]\n"
	}
	_, err := io.WriteString(w, end)
	return err
}

// ctxWriter fails its writes once ctx is done, so that a long export stops
// at the next write after SIGINT even when the library is between checks.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
