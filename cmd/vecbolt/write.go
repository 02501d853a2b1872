package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/index"
)

// createFlags configure a collection that add or import creates.
type createFlags struct {
	metric string
	index  string
	dim    int
	int8   bool
	f16    bool
	noFT   bool
}

func (c *createFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.metric, "metric", "cosine", "`METRIC` of a new collection: cosine, dot or l2")
	fs.StringVar(&c.index, "index", "", "`INDEX` of a new collection: hnsw or flat (default: the library's default)")
	fs.IntVar(&c.dim, "dim", 0, "make a new collection of your own vectors of dimension `N` (no model)")
	fs.BoolVar(&c.int8, "int8", false, "keep a new HNSW collection's vectors in memory as int8 codes (about 4x less vector memory; exact scores by re-ranking)")
	fs.BoolVar(&c.f16, "float16", false, "store a new collection's vectors in the file as float16 (half the bytes; components beyond ±65504 are refused)")
	fs.BoolVar(&c.noFT, "no-keyword-index", false, "make a new collection without the keyword index (faster inserts; no keyword or hybrid search)")
}

func (c *createFlags) options() ([]db.CollectionOption, error) {
	m, err := index.ParseMetric(c.metric)
	if err != nil {
		return nil, usagef("--metric %q: use cosine, dot or l2", c.metric)
	}
	opts := []db.CollectionOption{db.IfNotExists(), db.WithMetric(m)}
	switch c.index {
	case "":
	case db.IndexFlat:
		opts = append(opts, db.WithFlatIndex())
	case db.IndexHNSW:
		opts = append(opts, db.WithHNSW(0, 0, 0))
	default:
		return nil, usagef("--index %q: use hnsw or flat", c.index)
	}
	if c.int8 {
		if c.index == db.IndexFlat {
			return nil, usagef("--int8 needs the hnsw index, not --index flat")
		}
		opts = append(opts, db.WithInt8())
	}
	if c.f16 {
		opts = append(opts, db.WithFloat16())
	}
	if c.dim < 0 {
		return nil, usagef("--dim %d must be positive", c.dim)
	}
	if c.dim > 0 {
		opts = append(opts, db.WithDimension(c.dim))
	}
	if c.noFT {
		opts = append(opts, db.WithoutFullText())
	}
	return opts, nil
}

// collection returns the named collection, creating it when create is
// non-nil and it does not exist.
func (e *env) collection(d *db.DB, name string, create *createFlags) (*db.Collection, error) {
	if name == "" {
		return nil, usagef("--collection NAME is required")
	}
	if create == nil {
		return d.Collection(e.ctx, name)
	}
	opts, err := create.options()
	if err != nil {
		return nil, err
	}
	return d.CreateCollection(e.ctx, name, opts...)
}

// openCollection opens the file as open does and the existing collection
// name in it, for the commands that act on one collection. The returned
// func closes the file (see open).
func (e *env) openCollection(f *dbFlags, name string, mode openMode) (*db.Collection, func(*error), error) {
	d, done, err := e.open(f, mode)
	if err != nil {
		return nil, nil, err
	}
	c, err := e.collection(d, name, nil)
	if err != nil {
		done(&err)
		return nil, nil, err
	}
	return c, done, nil
}

func addCommand() *command {
	return &command{
		name:    "add",
		args:    "--db FILE --collection NAME [--id ID] [--meta KEY=VALUE]... [--vector JSON] TEXT",
		summary: "add one document (creating the collection if needed)",
		help: `Adds one document and prints its ID. The collection is created if it does
not exist, with the model given by --model (default: the built-in model),
or for your own vectors with --dim N.

Metadata: --meta key=value stores the string "value"; --meta key:=JSON
stores a typed value: an integer (int64), another number (float64), true or
false, a "string", or a list of strings, e.g. --meta year:=2024
--meta tags:='["go","db"]'. Repeat --meta for several keys.
`,
		flags: addFlags,
	}
}

func addFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var f dbFlags
	var cf createFlags
	var coll, id, vec string
	var upsert bool
	var meta metaFlag
	f.register(fs, true)
	setUsage(fs, "db", "database `FILE` (created if missing)")
	cf.register(fs)
	fs.StringVar(&coll, "collection", "", "collection `NAME`")
	fs.StringVar(&id, "id", "", "document `ID` (default: a generated UUID)")
	fs.StringVar(&vec, "vector", "", "the document's vector as `JSON`, e.g. '[0.1,0.2,0.3]' (no embedding)")
	fs.BoolVar(&upsert, "upsert", false, "replace a document with the same ID instead of failing")
	fs.Var(&meta, "meta", "metadata `KEY=VALUE`, repeatable (see above)")
	return func(e *env, pos []string) (err error) {
		if len(pos) != 1 {
			return usagef("add takes exactly one TEXT argument, got %d (quote the text)", len(pos))
		}
		if coll == "" {
			return usagef("--collection NAME is required")
		}
		doc := db.Document{ID: id, Text: pos[0], Metadata: meta.m}
		if vec != "" {
			if doc.Vector, err = parseVector([]byte(vec)); err != nil {
				return usagef("--vector: %v", err)
			}
		}
		if _, err := cf.options(); err != nil {
			return err
		}
		// A failed add changes nothing: a file or collection made for it
		// goes again (the document is refused only after the collection
		// exists, since its vector is checked against the collection's
		// dimension).
		_, statErr := os.Stat(f.path)
		newFile := errors.Is(statErr, os.ErrNotExist)
		defer func() {
			if err != nil && newFile {
				os.Remove(f.path)
			}
		}()
		d, done, err := e.open(&f, writeText)
		if err != nil {
			return err
		}
		defer done(&err)
		_, lookErr := d.Collection(e.ctx, coll)
		newColl := errors.Is(lookErr, db.ErrCollectionNotFound)
		c, err := e.collection(d, coll, &cf)
		if err != nil {
			return err
		}
		write := c.Insert
		if upsert {
			write = c.Upsert
		}
		ids, err := write(e.ctx, doc)
		if err != nil {
			if newColl && !newFile {
				err = errors.Join(err, d.DeleteCollection(context.WithoutCancel(e.ctx), coll))
			}
			return err
		}
		fmt.Fprintln(e.stdout, safeName(ids[0]))
		return nil
	}
}

func importCommand() *command {
	return &command{
		name:    "import",
		args:    "--db FILE --collection NAME [--batch 256] [--upsert] [--skip-bad] FILE.jsonl|-",
		summary: "import documents from a JSON Lines file or stdin",
		help: `Reads one JSON object per line:

  {"id": "a1", "text": "...", "metadata": {"year": 2024, "tags": ["x"]}, "vector": [0.1, ...]}

"id" (default: generated), "metadata" and "vector" are optional; a line
needs "text" or "vector". Other keys are errors. Metadata values follow the
JSON: strings, booleans, lists of strings, integers (int64) and other
numbers (float64). Blank lines are skipped. A line may hold up to 25.8 MiB
(the largest document vecbolt stores, 8 MiB of text, written with every
non-ASCII character escaped); a longer line is a bad line, found without
reading it into memory. An unpaired UTF-16 escape such as \ud800 encodes
no character and makes a line bad.

Documents are written in batches of --batch, each one transaction; a batch
is also written early when it reaches 32 MiB of documents (text, IDs,
metadata and vectors), which bounds the import's memory: about 0.5 GB at
the peak for a file of 8 MiB texts, 0.12 GB of it the built-in model. A bad
line is reported with its line number: with --skip-bad it is skipped (and
counted), otherwise the import stops there, with every line before it
committed. Either way the exit status is 1 when any line was rejected, and
the last line says how many were rejected and how many documents stored.
Without --upsert an ID that exists already is a bad line; each batch's IDs
are looked up before anything is embedded, so re-importing a file over its
own documents with --skip-bad costs about a lookup per line. The format is
what export writes (see vecbolt help export).
SIGINT (Ctrl-C) or SIGTERM stops the import at once, even while it waits
for input: the batches committed so far stay, the batch in progress is not
written, and the message says how many documents were committed.
`,
		flags: importFlags,
	}
}

func importFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var f dbFlags
	var cf createFlags
	var coll string
	var batch int
	var upsert, skipBad bool
	f.register(fs, true)
	setUsage(fs, "db", "database `FILE` (created if missing)")
	cf.register(fs)
	fs.StringVar(&coll, "collection", "", "collection `NAME` (created if missing)")
	fs.IntVar(&batch, "batch", 256, "`N` documents per transaction")
	fs.BoolVar(&upsert, "upsert", false, "replace documents whose IDs exist")
	fs.BoolVar(&skipBad, "skip-bad", false, "skip bad lines instead of stopping")
	return func(e *env, pos []string) (err error) {
		if len(pos) != 1 {
			return usagef("import takes exactly one FILE argument (- for stdin), got %d", len(pos))
		}
		if coll == "" {
			return usagef("--collection NAME is required")
		}
		if batch < 1 || batch > 1_000_000 {
			return usagef("--batch %d out of range 1..1000000", batch)
		}
		if _, err := cf.options(); err != nil {
			return err
		}
		in, size := e.stdin, int64(-1)
		if pos[0] != "-" {
			fh, err := openInput(e.ctx, pos[0])
			if err != nil {
				return err
			}
			defer fh.Close()
			if st, err := fh.Stat(); err == nil && st.Mode().IsRegular() {
				size = st.Size()
			}
			in = fh
		}
		d, done, err := e.open(&f, writeText)
		if err != nil {
			return err
		}
		defer done(&err)
		c, err := e.collection(d, coll, &cf)
		if err != nil {
			return err
		}
		stored, rejected, err := e.importInto(c, newCtxReader(e.ctx, in), "importing", size, -1, skipBad, importOpts(batch, upsert, skipBad)...)
		if err != nil && e.ctx.Err() != nil {
			return fmt.Errorf("import: %s committed in complete batches; the batch in progress was not: %w", plural(stored, "document"), err)
		}
		if err != nil {
			return fmt.Errorf("%w (%s before it committed)", err, plural(stored, "document"))
		}
		fmt.Fprintf(e.stdout, "imported %d documents into %q", stored, coll)
		if rejected > 0 {
			fmt.Fprintf(e.stdout, ", skipped %d bad lines\n", rejected)
			return fmt.Errorf("import: %s rejected (listed above), %s stored", plural(rejected, "line"), plural(stored, "document"))
		}
		fmt.Fprintln(e.stdout)
		return nil
	}
}

func importOpts(batch int, upsert, skipBad bool) []db.ImportOption {
	opts := []db.ImportOption{db.ImportBatch(batch)}
	if upsert {
		opts = append(opts, db.ImportUpsert())
	}
	if skipBad {
		opts = append(opts, db.ImportSkipInvalid())
	}
	return opts
}

// importInto runs db's Import with the CLI's progress line, named label (by
// bytes of size, or by documents of docs when docs >= 0), and, with skipBad, reports
// each skipped line on stderr as it is met (without, the error names it).
// It returns how many documents were stored and how many lines rejected.
func (e *env) importInto(c *db.Collection, in io.Reader, label string, size int64, docs int, skipBad bool, opts ...db.ImportOption) (stored, rejected int, err error) {
	var prog *progress
	if e.terminal {
		if docs >= 0 {
			prog = newDocProgress(e.stderr, label, docs)
		} else {
			prog = newProgress(e.stderr, label, size)
		}
	}
	opts = append(opts,
		db.ImportProgress(func(s db.ImportStatus) { prog.update(s.BytesRead, s.Stored) }),
		db.ImportOnReject(func(le db.LineError) {
			if skipBad {
				prog.clear()
				fmt.Fprintf(e.stderr, "vecbolt: skipped %s\n", oneLine(le.Error()))
			}
		}))
	res, err := c.Import(e.ctx, in, opts...)
	prog.finish()
	return res.Stored, res.RejectedCount, err
}

// jsonOut writes v as indented JSON to w, with no rune a terminal would
// act on left raw (see jsonSafe).
func jsonOut(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(jsonSafe(buf.Bytes()))
	return err
}

// truncate shortens s to n runes on one line.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// plural formats a count with a noun.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
