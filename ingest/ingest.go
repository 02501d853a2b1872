// Package ingest imports files into a vecbolt collection: it walks files
// and directories, reads plain text (.txt), Markdown (.md, .markdown) and
// HTML (.html, .htm, tags stripped), and upserts one document per file.
// It is what `vecbolt add-files` runs; the CLI only prints.
//
// A document's ID is the file's path relative to the root it was found
// under, with forward slashes (a file given directly is named by its base
// name), so that importing the same tree again addresses the same
// documents. HTML in another encoding than UTF-8 is decoded by its
// declaration (see readFile); other text must be UTF-8. Its metadata
// holds the path as found, a title (the first heading, else the first
// non-empty line), the size in bytes, the
// modification time (Unix seconds) and the SHA-256 of the content: a file
// whose stored hash equals its current one is skipped without embedding,
// and a changed one replaced (its passages with it, in a chunked
// collection; see db.WithChunking).
//
// Invariants: a file is either stored whole or reported in Result.Failed,
// never stored in part; files of other types are counted in
// Result.Unsupported and left alone; the walk follows no symbolic link to
// a directory (filepath.WalkDir's rule), so it cannot loop.
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"

	"github.com/vecbolt/vecbolt/chunk"
	"github.com/vecbolt/vecbolt/db"
)

// Metadata keys a document gets from its file.
const (
	KeyPath  = "path"
	KeyTitle = "title"
	KeySize  = "size"
	KeyMtime = "mtime"
	KeyHash  = "sha256"
)

// Result counts what Files did.
type Result struct {
	// Added and Replaced count documents written (new and changed files);
	// Unchanged counts files skipped because their hash is the stored one.
	Added, Replaced, Unchanged int
	// Unsupported counts files skipped for their type (by extension).
	Unsupported int
	// Failed lists the files that could not be read or were refused
	// (not UTF-8, empty, over db.MaxTextBytes, rejected by the database).
	Failed []FileError
	// Bytes is the size of the files read (supported ones).
	Bytes int64
}

// FileError is one file that was not imported.
type FileError struct {
	Path string
	Err  error
}

// Error names the file and why it was not imported.
func (e FileError) Error() string { return fmt.Sprintf("%s: %v", e.Path, e.Err) }

// Unwrap returns the cause.
func (e FileError) Unwrap() error { return e.Err }

// Progress is reported after every batch written.
type Progress struct {
	Files int   // files read so far (supported ones)
	Total int   // supported files found by the walk
	Bytes int64 // bytes read so far
}

// Option configures Files.
type Option func(*options)

type options struct {
	progress   func(Progress)
	batchBytes int
}

// WithProgress calls fn after each batch.
func WithProgress(fn func(Progress)) Option { return func(o *options) { o.progress = fn } }

// WithBatchBytes sets how many bytes of text go into one write (default 4
// MiB): each batch is one transaction.
func WithBatchBytes(n int) Option { return func(o *options) { o.batchBytes = n } }

// file is one supported file found by the walk.
type file struct {
	path, id string
	format   chunk.Format
	kind     string // "text", "markdown", "html"
}

// kindOf returns how a file is read, by extension; ok is false for files
// of other types.
func kindOf(path string) (kind string, ok bool) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".txt", ".text":
		return "text", true
	case ".md", ".markdown":
		return "markdown", true
	case ".html", ".htm":
		return "html", true
	}
	return "", false
}

// Files imports the files under paths into c (see the package doc). An
// error that is not one file's (a cancelled context, a path that does not
// exist, a failed write of the database) stops it; the batches written
// before stay written, and Result says what they held.
func Files(ctx context.Context, c *db.Collection, paths []string, opts ...Option) (Result, error) {
	o := options{batchBytes: 4 << 20}
	for _, opt := range opts {
		opt(&o)
	}
	if o.batchBytes < 1 {
		return Result{}, fmt.Errorf("ingest: batch of %d bytes", o.batchBytes)
	}
	var res Result
	var found []file
	seen := make(map[string]string) // ID -> path, to refuse two files of one ID
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			return res, fmt.Errorf("ingest: %w", err)
		}
		if !info.IsDir() {
			kind, ok := kindOf(root)
			if !ok {
				res.Unsupported++
				continue
			}
			found = append(found, file{path: root, id: filepath.Base(root), kind: kind})
			continue
		}
		err = filepath.WalkDir(root, func(path string, de fs.DirEntry, err error) error {
			if err != nil {
				res.Failed = append(res.Failed, FileError{path, err})
				if de != nil && de.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if !de.Type().IsRegular() {
				return nil
			}
			kind, ok := kindOf(path)
			if !ok {
				res.Unsupported++
				return nil
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			found = append(found, file{path: path, id: filepath.ToSlash(rel), kind: kind})
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("ingest: walk %s: %w", root, err)
		}
	}
	var keep []file
	for _, f := range found {
		if prev, dup := seen[f.id]; dup {
			res.Failed = append(res.Failed, FileError{f.path, fmt.Errorf("ID %q is also the ID of %s", f.id, prev)})
			continue
		}
		seen[f.id] = f.path
		if f.kind == "markdown" {
			f.format = chunk.Markdown
		}
		keep = append(keep, f)
	}

	imp := importer{c: c, o: o, res: &res, total: len(keep)}
	// One batch per format: the format is a property of a write.
	for _, format := range []chunk.Format{chunk.Plain, chunk.Markdown} {
		for _, f := range keep {
			if f.format != format {
				continue
			}
			if err := imp.add(ctx, f); err != nil {
				return res, err
			}
		}
		if err := imp.flush(ctx, format); err != nil {
			return res, err
		}
	}
	return res, nil
}

type importer struct {
	c     *db.Collection
	o     options
	res   *Result
	total int
	read  int

	docs  []db.Document
	paths []string
	bytes int
}

// add reads f and queues it, writing the queue when it is full.
func (imp *importer) add(ctx context.Context, f file) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	doc, size, err := readFile(f)
	imp.read++
	imp.res.Bytes += size
	if err != nil {
		imp.res.Failed = append(imp.res.Failed, FileError{f.path, err})
		return nil
	}
	imp.docs = append(imp.docs, doc)
	imp.paths = append(imp.paths, f.path)
	imp.bytes += len(doc.Text)
	if imp.bytes >= imp.o.batchBytes {
		return imp.flush(ctx, f.format)
	}
	return nil
}

// flush writes the queued documents whose content changed.
func (imp *importer) flush(ctx context.Context, format chunk.Format) error {
	defer func() {
		imp.docs, imp.paths, imp.bytes = imp.docs[:0], imp.paths[:0], 0
		if imp.o.progress != nil {
			imp.o.progress(Progress{Files: imp.read, Total: imp.total, Bytes: imp.res.Bytes})
		}
	}()
	if len(imp.docs) == 0 {
		return nil
	}
	ids := make([]string, len(imp.docs))
	for i, d := range imp.docs {
		ids[i] = d.ID
	}
	stored, err := imp.c.GetFields(ctx, db.FieldMetadata, ids...)
	var nf *db.NotFoundError
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("ingest: %w", err)
	}
	hashes := make(map[string]any, len(stored))
	for _, d := range stored {
		hashes[d.ID] = d.Metadata[KeyHash]
	}
	var write []db.Document
	var paths []string
	var replaced []bool
	for i, d := range imp.docs {
		h, exists := hashes[d.ID]
		if exists && h == d.Metadata[KeyHash] {
			imp.res.Unchanged++
			continue
		}
		write = append(write, d)
		paths = append(paths, imp.paths[i])
		replaced = append(replaced, exists)
	}
	if len(write) == 0 {
		return nil
	}
	wr, err := imp.c.UpsertWith(ctx, write, db.SkipInvalid(), db.PassageFormat(format))
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	for i, id := range wr.IDs {
		switch {
		case id == "":
		case replaced[i]:
			imp.res.Replaced++
		default:
			imp.res.Added++
		}
	}
	for _, de := range wr.Rejected {
		imp.res.Failed = append(imp.res.Failed, FileError{paths[de.Index], de.Err})
	}
	return nil
}

// readFile reads one file into a document.
func readFile(f file) (db.Document, int64, error) {
	info, err := os.Stat(f.path)
	if err != nil {
		return db.Document{}, 0, err
	}
	if info.Size() > db.MaxTextBytes*4 {
		return db.Document{}, info.Size(), fmt.Errorf("%d bytes, too large to read", info.Size())
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		return db.Document{}, 0, err
	}
	size := int64(len(data))
	sum := sha256.Sum256(data)
	if !utf8.Valid(data) {
		if f.kind != "html" {
			return db.Document{}, size, errors.New("not valid UTF-8 text")
		}
		// An HTML page may declare its encoding (a <meta charset>, or a
		// byte-order mark); the HTML5 rules of golang.org/x/net/html/charset
		// find it, and windows-1252 where none is declared.
		enc, name, _ := charset.DetermineEncoding(data, "text/html")
		if data, err = enc.NewDecoder().Bytes(data); err != nil || !utf8.Valid(data) {
			return db.Document{}, size, fmt.Errorf("not valid UTF-8, nor %s", name)
		}
	}
	text := string(data)
	var title string
	if f.kind == "html" {
		text, title = HTMLText(text)
	}
	text = strings.TrimPrefix(text, "\uFEFF")
	if strings.TrimSpace(text) == "" {
		return db.Document{}, size, errors.New("no text")
	}
	if len(text) > db.MaxTextBytes {
		return db.Document{}, size, fmt.Errorf("%d bytes of text, over the limit of %d per document", len(text), db.MaxTextBytes)
	}
	if title == "" {
		title = Title(text, f.kind == "markdown")
	}
	return db.Document{
		ID:   f.id,
		Text: text,
		Metadata: map[string]any{
			KeyPath:  f.path,
			KeyTitle: title,
			KeySize:  size,
			KeyMtime: info.ModTime().Unix(),
			KeyHash:  hex.EncodeToString(sum[:]),
		},
	}, size, nil
}

// maxTitle bounds a title, in bytes.
const maxTitle = 200

// Title returns a text's title: in Markdown its first heading (a line
// starting with "#"), else its first non-empty line, trimmed and cut to
// 200 bytes at a character boundary.
func Title(text string, markdown bool) string {
	first := ""
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if markdown && strings.HasPrefix(line, "#") {
			if h := strings.TrimSpace(strings.TrimLeft(line, "#")); h != "" {
				return cut(h)
			}
		}
		if first == "" {
			first = line
		}
	}
	return cut(first)
}

func cut(s string) string {
	if len(s) <= maxTitle {
		return s
	}
	i := maxTitle
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
