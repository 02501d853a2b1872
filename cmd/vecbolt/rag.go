package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/vecbolt/vecbolt/chunk"
	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/ingest"
)

func addFilesCommand() *command {
	return &command{
		name:    "add-files",
		args:    "--db FILE --collection NAME [--chunk-tokens 256] [--overlap 32] PATH...",
		summary: "add text, Markdown and HTML files (chunked into passages)",
		help: `Walks each PATH (a file or a directory) and stores one document per .txt,
.md/.markdown or .html/.htm file (HTML with its tags stripped); other files
are skipped and counted. A document's ID is the file's path relative to the
PATH it was found under (a file given directly: its name); its metadata
holds path, title (first heading, else first line), size, mtime (Unix
seconds) and sha256. Running add-files again skips files whose content is
unchanged and replaces changed ones with all their passages.

A new collection is created chunked: each document is split into passages
of at most --chunk-tokens tokens of the model (Markdown at headings, then
paragraphs, sentences, words), each overlapping the one before by about
--overlap tokens, and searches find passages (see search --group and
context). --chunk-tokens 0 makes a collection of whole documents. An
existing collection keeps its own settings.

Files that cannot be stored (not UTF-8, empty, over 8 MiB of text) are
listed on stderr and the exit status is 1; the others are stored.
`,
		flags: addFilesFlags,
	}
}

// addFilesJSON is add-files' --json output.
type addFilesJSON struct {
	Added       int             `json:"added"`
	Replaced    int             `json:"replaced"`
	Unchanged   int             `json:"unchanged"`
	Unsupported int             `json:"unsupported"`
	Bytes       int64           `json:"bytes"`
	Failed      []addFilesError `json:"failed"`
}

type addFilesError struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

func addFilesFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var f dbFlags
	var coll string
	var tokens, overlap int
	var asJSON bool
	f.register(fs, true)
	setUsage(fs, "db", "database `FILE` (created if missing)")
	fs.StringVar(&coll, "collection", "", "collection `NAME` (created if missing)")
	fs.IntVar(&tokens, "chunk-tokens", chunk.DefaultMaxTokens, "largest passage of a new collection, in `N` tokens (0: whole documents)")
	fs.IntVar(&overlap, "overlap", chunk.DefaultOverlap, "`N` tokens of overlap between passages of a new collection")
	fs.BoolVar(&asJSON, "json", false, `print {"added","replaced","unchanged","unsupported","bytes","failed"}`)
	return func(e *env, pos []string) (err error) {
		if len(pos) == 0 {
			return usagef("add-files takes at least one PATH")
		}
		if coll == "" {
			return usagef("--collection NAME is required")
		}
		if tokens < 0 || overlap < 0 || (tokens > 0 && overlap >= tokens) {
			return usagef("--chunk-tokens %d and --overlap %d: need 0 <= overlap < chunk-tokens", tokens, overlap)
		}
		for _, p := range pos {
			if _, err := os.Stat(p); err != nil {
				return fmt.Errorf("add-files: %w", err)
			}
		}
		d, done, err := e.open(&f, writeText)
		if err != nil {
			return err
		}
		defer done(&err)
		opts := []db.CollectionOption{db.IfNotExists()}
		if tokens > 0 {
			opts = append(opts, db.WithChunking(tokens, overlap))
		}
		c, err := d.CreateCollection(e.ctx, coll, opts...)
		if err != nil {
			return err
		}
		var prog *progress
		res, err := ingest.Files(e.ctx, c, pos, ingest.WithProgress(func(p ingest.Progress) {
			if !e.terminal {
				return
			}
			if prog == nil {
				prog = newDocProgress(e.stderr, "adding files", p.Total)
			}
			prog.update(p.Bytes, p.Files)
		}))
		prog.finish()
		if err != nil {
			return fmt.Errorf("%w (%d files stored before it)", err, res.Added+res.Replaced)
		}
		if asJSON {
			out := addFilesJSON{Added: res.Added, Replaced: res.Replaced, Unchanged: res.Unchanged, Unsupported: res.Unsupported, Bytes: res.Bytes, Failed: []addFilesError{}}
			for _, fe := range res.Failed {
				out.Failed = append(out.Failed, addFilesError{Path: fe.Path, Error: fe.Err.Error()})
			}
			if err := jsonOut(e.stdout, out); err != nil {
				return err
			}
		} else {
			for _, fe := range res.Failed {
				fmt.Fprintf(e.stderr, "vecbolt: skipped %s\n", oneLine(fe.Error()))
			}
			fmt.Fprintf(e.stdout, "added %d, replaced %d, unchanged %d files in %q; %d of other types skipped\n",
				res.Added, res.Replaced, res.Unchanged, coll, res.Unsupported)
		}
		if len(res.Failed) > 0 {
			return fmt.Errorf("add-files: %s could not be stored (listed above)", plural(len(res.Failed), "file"))
		}
		return nil
	}
}

func contextCommand() *command {
	return &command{
		name:    "context",
		args:    "--db FILE --collection NAME [--budget 1024] [--where EXPR] [--json] QUERY",
		summary: "print the passages best for QUERY within a token budget, with citations",
		help: `Searches the collection and prints its best passages for QUERY that fit
together within --budget tokens of the collection's model, for a prompt of
retrieval-augmented generation. Passages of one document that overlap or
touch are merged, so no text is repeated. Each passage is printed under a
citation line:

  [1] docs/install.md (bytes 120-560) Install > Debian
  ...the passage's text...

--json prints {"query","tokens","budget","passages":[{"doc_id","start",
"end","headings","score","tokens","text"}]}. The offsets are bytes of the
document's text (vecbolt get prints it).
`,
		flags: contextFlags,
	}
}

// contextJSON is context's --json output.
type contextJSON struct {
	Query    string               `json:"query"`
	Tokens   int                  `json:"tokens"`
	Budget   int                  `json:"budget"`
	Passages []contextPassageJSON `json:"passages"`
}

type contextPassageJSON struct {
	DocID    string   `json:"doc_id"`
	Start    int      `json:"start"`
	End      int      `json:"end"`
	Headings []string `json:"headings"`
	Score    float32  `json:"score"`
	Tokens   int      `json:"tokens"`
	Text     string   `json:"text"`
}

func contextFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var f dbFlags
	var coll, where string
	var budget int
	var asJSON bool
	f.register(fs, true)
	fs.StringVar(&coll, "collection", "", "collection `NAME`")
	fs.IntVar(&budget, "budget", db.DefaultContextBudget, "most `TOKENS` the passages may hold together")
	fs.StringVar(&where, "where", "", "metadata filter `EXPR` (see vecbolt help search)")
	fs.BoolVar(&asJSON, "json", false, "print the context as one JSON object")
	return func(e *env, pos []string) (err error) {
		if len(pos) != 1 {
			return usagef("context takes exactly one QUERY argument, got %d (quote the query)", len(pos))
		}
		if coll == "" {
			return usagef("--collection NAME is required")
		}
		if budget < 1 {
			return usagef("--budget %d must be at least 1", budget)
		}
		c, done, err := e.openCollection(&f, coll, readText)
		if err != nil {
			return err
		}
		defer done(&err)
		opts := []db.ContextOption{db.ContextBudget(budget)}
		if where != "" {
			opts = append(opts, db.ContextSearch(db.WhereExpr(where)))
		}
		cx, err := c.Context(e.ctx, pos[0], opts...)
		if err != nil {
			return err
		}
		if asJSON {
			out := contextJSON{Query: cx.Query, Tokens: cx.Tokens, Budget: cx.Budget, Passages: []contextPassageJSON{}}
			for _, p := range cx.Passages {
				out.Passages = append(out.Passages, contextPassageJSON{DocID: p.DocID, Start: p.Start, End: p.End, Headings: nonNilStrings(p.Headings), Score: p.Score, Tokens: p.Tokens, Text: p.Text})
			}
			return jsonOut(e.stdout, out)
		}
		if len(cx.Passages) == 0 {
			return errors.New("no passage found")
		}
		// The passages' text is the user's data: printed as is, only with
		// the runes a terminal would act on escaped.
		_, err = fmt.Fprint(e.stdout, escapeContext(cx.String()))
		return err
	}
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// escapeContext escapes what a terminal would act on in each line of s,
// keeping the line breaks.
func escapeContext(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = escapeText(l)
	}
	return strings.Join(lines, "\n")
}
