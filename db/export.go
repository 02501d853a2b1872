package db

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/vecbolt/vecbolt/internal/jsonl"
	"github.com/vecbolt/vecbolt/query"
)

// ExportOption configures Export.
type ExportOption func(*exportOptions)

type exportOptions struct {
	filter  query.Filter
	where   string
	vectors bool
}

// ExportWhere exports only the documents whose metadata matches f.
func ExportWhere(f query.Filter) ExportOption { return func(o *exportOptions) { o.filter = f } }

// ExportWhereExpr is ExportWhere with a filter in the text syntax of
// query.Parse.
func ExportWhereExpr(expr string) ExportOption { return func(o *exportOptions) { o.where = expr } }

// ExportVectors writes each document's vector too. Without it the lines
// hold IDs, texts and metadata, and importing them embeds the texts again
// (a collection of caller-supplied vectors needs its vectors exported).
func ExportVectors() ExportOption { return func(o *exportOptions) { o.vectors = true } }

// Export writes the collection's documents to w as JSON Lines, in ID
// order, one {"id","text","metadata"} object per line (with "vector" when
// ExportVectors is given), and returns how many it wrote. It is the format
// Import reads, and the round trip is exact: importing the output into an
// empty collection and exporting that gives the same bytes, with every
// metadata value of the same type and bits (a float64 of integral value is
// written 2.0, never 2, which would come back an int64). Keys are sorted,
// and runes a terminal would act on are \u escapes.
//
// Export reads like Scan, in pages, each a snapshot; a document written
// during the export is exported as it was when its page was read. An
// error from w stops it, with the documents before it written.
func (c *Collection) Export(ctx context.Context, w io.Writer, opts ...ExportOption) (int, error) {
	var o exportOptions
	for _, opt := range opts {
		opt(&o)
	}
	f, err := resolveFilter(o.filter, o.where)
	if err != nil {
		return 0, err
	}
	fields := []Field{FieldText, FieldMetadata}
	if o.vectors {
		fields = append(fields, FieldVector)
	}
	scan := []ScanOption{ScanFields(fields...)}
	if f != nil {
		scan = append(scan, ScanWhere(f))
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var line []byte
	n := 0
	for d, err := range c.Scan(ctx, scan...) {
		if err != nil {
			return n, err
		}
		line, err = jsonl.AppendDocument(line[:0], jsonl.Document{ID: d.ID, Text: d.Text, Metadata: d.Metadata, Vector: d.Vector}, o.vectors)
		if err != nil {
			return n, fmt.Errorf("vecbolt: export collection %q: document %q: %w", c.name, short(d.ID), err)
		}
		if _, err := bw.Write(line); err != nil {
			return n, fmt.Errorf("vecbolt: export collection %q: %w", c.name, err)
		}
		n++
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("vecbolt: export collection %q: %w", c.name, err)
	}
	return n, nil
}
