package db

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/vecbolt/vecbolt/internal/jsonl"
	"github.com/vecbolt/vecbolt/storage"
)

// MaxLineBytes bounds one line of Import: the largest document a
// collection stores, written with every non-ASCII character escaped and
// long float spellings in its vector, fits (about 25.8 MiB). A longer line
// is rejected as it is read, without being held in memory.
const MaxLineBytes = 3*(MaxTextBytes+MaxMetadataBytes+MaxIDBytes) + 26*MaxDimension + 64

// jsonlLimits are db's limits, as the JSON Lines decoder applies them.
var jsonlLimits = jsonl.Limits{ID: maxIDBytes, Text: maxTextBytes, Metadata: maxMetadataBytes, Dimension: maxDimension}

// importBatchBytes is the byte budget of one import transaction: a batch
// is written when it reaches ImportBatch documents or this many bytes of
// documents (see docBytes), whichever comes first. It keeps an import's
// memory bounded whatever the batch size says (a batch of 256 texts of
// 8 MiB would otherwise hold 2 GiB in one transaction), while staying well
// under MaxBatchBytes, which counts the same bytes slightly encoded.
const importBatchBytes = 32 << 20

// maxReportedRejections bounds ImportResult.Rejected, so that a stream of
// bad lines cannot fill memory; ImportOnReject sees every one.
const maxReportedRejections = 1000

// ImportOption configures Import.
type ImportOption func(*importOptions)

type importOptions struct {
	batch    int
	budget   int
	upsert   bool
	skip     bool
	progress func(ImportStatus)
	onReject func(LineError)
}

// ImportBatch sets how many documents each transaction holds (default 256,
// at most 1,000,000). A batch is also written early when it reaches 32 MiB
// of documents, which bounds an import's memory whatever n is.
func ImportBatch(n int) ImportOption { return func(o *importOptions) { o.batch = n } }

// ImportUpsert replaces documents whose IDs exist; without it such a line
// is rejected with ErrDuplicateID.
func ImportUpsert() ImportOption { return func(o *importOptions) { o.upsert = true } }

// ImportSkipInvalid makes Import go on past a rejected line, storing every
// valid one; without it Import stops at the first rejected line, after
// committing the lines before it.
func ImportSkipInvalid() ImportOption { return func(o *importOptions) { o.skip = true } }

// ImportProgress has fn called as the import advances (after each line and
// each commit), on Import's goroutine.
func ImportProgress(fn func(ImportStatus)) ImportOption {
	return func(o *importOptions) { o.progress = fn }
}

// ImportOnReject has fn called with every rejected line as it is rejected,
// on Import's goroutine, including those beyond the first 1000 that
// ImportResult.Rejected keeps.
func ImportOnReject(fn func(LineError)) ImportOption {
	return func(o *importOptions) { o.onReject = fn }
}

// ImportStatus is how far an import has got.
type ImportStatus struct {
	// BytesRead is the input consumed so far.
	BytesRead int64
	// Stored counts the documents committed so far.
	Stored int
	// Rejected counts the lines rejected so far.
	Rejected int
}

// ImportResult is what an import stored and what it rejected.
type ImportResult struct {
	// Stored counts the documents committed.
	Stored int
	// Rejected lists the rejected lines in order, the first 1000 of them.
	Rejected []LineError
	// RejectedCount counts every rejected line.
	RejectedCount int
}

// LineError is a line Import rejected: its number (from 1), the document's
// ID when the line gave one, and why. The reason wraps ErrInvalidDocument,
// ErrDuplicateID or the embedder's error for a document that cannot be
// stored, and is a syntax error otherwise.
type LineError struct {
	Line int
	ID   string
	Err  error
}

func (e *LineError) Error() string {
	if e.ID != "" {
		return fmt.Sprintf("line %d (id %q): %v", e.Line, short(e.ID), e.Err)
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// Import reads documents from r, one JSON object per line in the format
// of package internal/jsonl (what Export writes):
//
//	{"id": "a1", "text": "...", "metadata": {"year": 2024}, "vector": [0.1, ...]}
//
// "id" (default: generated), "metadata" and "vector" are optional; a line
// needs "text" or "vector"; other keys, nulls, duplicate keys and escapes
// that encode no character are errors. A number written as an integer is an
// int64, any other a float64. Blank lines are skipped, and so is a UTF-8
// byte order mark. A line longer than MaxLineBytes is rejected without
// being held in memory.
//
// Documents are written in batches (ImportBatch), each one transaction.
// Each batch's IDs are checked against the collection first, so that a
// line whose ID exists (without ImportUpsert) is rejected alone, at the
// cost of a lookup. A rejected line stops the import, with every line
// before it committed, unless ImportSkipInvalid is given; either way the
// result lists it and the error (without ImportSkipInvalid) is its
// *LineError. When ctx is done the import stops at once: the batches
// committed stay, the batch in progress is not written, and the error is
// ctx's. A Read that blocks is r's to interrupt.
func (c *Collection) Import(ctx context.Context, r io.Reader, opts ...ImportOption) (ImportResult, error) {
	o := importOptions{batch: 256, budget: importBatchBytes}
	for _, opt := range opts {
		opt(&o)
	}
	if o.batch < 1 || o.batch > 1_000_000 {
		return ImportResult{}, fmt.Errorf("%w: ImportBatch %d out of range 1..1000000", ErrInvalidArgument, o.batch)
	}
	imp := &importer{c: c, o: o, dim: c.Info().Dimension}
	err := imp.run(ctx, r)
	return imp.res, err
}

// importer streams JSON Lines into a collection in batches.
type importer struct {
	c   *Collection
	o   importOptions
	dim int // the collection's: embedded vectors count in the byte budget
	res ImportResult

	docs    []Document
	lines   []int
	bytes   int // docBytes of docs
	read    int64
	commits int // transactions written
}

func (imp *importer) run(ctx context.Context, in io.Reader) error {
	lr := jsonl.NewReader(in, MaxLineBytes)
	for {
		line, num, tooLong, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return cerr // stopped: the batch in progress is dropped
			}
			if ferr := imp.flush(ctx); ferr != nil {
				return ferr
			}
			return fmt.Errorf("vecbolt: import: reading line %d: %w", num, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		imp.read = lr.Offset()
		imp.report()
		if num == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
		}
		if tooLong {
			if err := imp.reject(ctx, LineError{Line: num, Err: fmt.Errorf("line longer than %d bytes, the limit (the largest document vecbolt stores, with every non-ASCII character escaped)", MaxLineBytes)}, true); err != nil {
				return err
			}
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		jd, err := jsonl.ParseLine(line, jsonlLimits)
		if err != nil {
			if err := imp.reject(ctx, LineError{Line: num, Err: err}, true); err != nil {
				return err
			}
			continue
		}
		doc := Document{ID: jd.ID, Text: jd.Text, Metadata: jd.Metadata, Vector: jd.Vector}
		n := docBytes(doc, imp.dim)
		if len(imp.docs) > 0 && imp.bytes+n > imp.o.budget {
			if err := imp.flush(ctx); err != nil {
				return err
			}
		}
		imp.docs = append(imp.docs, doc)
		imp.lines = append(imp.lines, num)
		imp.bytes += n
		if len(imp.docs) >= imp.o.batch {
			if err := imp.flush(ctx); err != nil {
				return err
			}
		}
	}
	return imp.flush(ctx)
}

func (imp *importer) report() {
	if imp.o.progress != nil {
		imp.o.progress(ImportStatus{BytesRead: imp.read, Stored: imp.res.Stored, Rejected: imp.res.RejectedCount})
	}
}

// reject records a rejected line. Without ImportSkipInvalid it returns the
// error that stops the import, after committing the batch before the line
// when flushFirst says the batch holds only lines before it.
func (imp *importer) reject(ctx context.Context, le LineError, flushFirst bool) error {
	if flushFirst && !imp.o.skip {
		// The batch may stop the import at an earlier line of its own;
		// then this line was never reached.
		if err := imp.flush(ctx); err != nil {
			return err
		}
	}
	imp.res.RejectedCount++
	if len(imp.res.Rejected) < maxReportedRejections {
		imp.res.Rejected = append(imp.res.Rejected, le)
	}
	if imp.o.onReject != nil {
		imp.o.onReject(le)
	}
	if imp.o.skip {
		return nil
	}
	return &le
}

// flush writes the pending documents.
func (imp *importer) flush(ctx context.Context) error {
	docs, lines := imp.docs, imp.lines
	imp.docs, imp.lines, imp.bytes = nil, nil, 0
	return imp.write(ctx, docs, lines)
}

// write stores a batch. Lines whose IDs exist are rejected up front, in one
// read transaction, so that re-importing a file over its own documents
// costs one lookup per line rather than a failed write per duplicate.
// Then the batch is written; a document db rejects (invalid, a duplicate
// written meanwhile, an embedding failure) is rejected and the batch
// written without it. Without ImportSkipInvalid the first rejection
// commits the documents before it and stops.
func (imp *importer) write(ctx context.Context, docs []Document, lines []int) error {
	if len(docs) == 0 {
		return nil
	}
	if !imp.o.upsert {
		exists, err := imp.c.existing(docs)
		if err != nil {
			return fmt.Errorf("vecbolt: import lines %d..%d: %w", lines[0], lines[len(lines)-1], err)
		}
		if len(exists) > 0 {
			keep := 0
			for i := range docs {
				if !exists[i] {
					docs[keep], lines[keep] = docs[i], lines[i]
					keep++
					continue
				}
				le := LineError{Line: lines[i], ID: docs[i].ID, Err: fmt.Errorf("%w: %q exists in collection %q (import with upsert to replace it)", ErrDuplicateID, short(docs[i].ID), imp.c.name)}
				if !imp.o.skip {
					if err := imp.commit(ctx, docs[:keep], lines[:keep]); err != nil {
						return err
					}
				}
				if err := imp.reject(ctx, le, false); err != nil {
					return err
				}
			}
			docs, lines = docs[:keep], lines[:keep]
		}
	}
	return imp.commit(ctx, docs, lines)
}

// commit writes docs, rejecting those db refuses one by one (see write).
func (imp *importer) commit(ctx context.Context, docs []Document, lines []int) error {
	for len(docs) > 0 {
		write := imp.c.Insert
		if imp.o.upsert {
			write = imp.c.Upsert
		}
		_, err := write(ctx, docs...)
		if err == nil {
			imp.res.Stored += len(docs)
			imp.commits++
			imp.report()
			return nil
		}
		var de *DocumentError
		if !errors.As(err, &de) || de.Index < 0 || de.Index >= len(docs) || ctx.Err() != nil {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			return fmt.Errorf("vecbolt: import lines %d..%d: %w", lines[0], lines[len(lines)-1], err)
		}
		i := de.Index
		le := LineError{Line: lines[i], ID: docs[i].ID, Err: de.Err}
		if !imp.o.skip {
			if err := imp.commit(ctx, docs[:i], lines[:i]); err != nil {
				return err
			}
			return imp.reject(ctx, le, false)
		}
		if err := imp.reject(ctx, le, false); err != nil {
			return err
		}
		// The others again, in their order, without the rejected one.
		docs = append(docs[:i:i], docs[i+1:]...)
		lines = append(lines[:i:i], lines[i+1:]...)
	}
	return nil
}

// existing reports which of docs have IDs stored in the collection, in one
// read transaction; nil when none.
func (c *Collection) existing(docs []Document) ([]bool, error) {
	leave, st, err := c.enter(false)
	if err != nil {
		return nil, err
	}
	defer leave()
	var out []bool
	err = c.db.store.View(func(tx *storage.Tx) error {
		ctx, err := tx.Collection(c.name)
		if err != nil {
			return err
		}
		for i, d := range docs {
			if d.ID == "" {
				continue
			}
			ok, err := documentExists(ctx, st, d.ID)
			if err != nil {
				return err
			}
			if ok {
				if out == nil {
					out = make([]bool, len(docs))
				}
				out[i] = true
			}
		}
		return nil
	})
	return out, err
}

// docBytes is what a document counts against importBatchBytes: its ID,
// text, metadata keys and values (8 bytes per number or boolean), and its
// vector or the dim-component vector it will be given, 4 bytes per
// component, plus 64 bytes of bookkeeping.
func docBytes(d Document, dim int) int {
	n := 64 + len(d.ID) + len(d.Text) + 4*max(len(d.Vector), dim)
	for k, v := range d.Metadata {
		n += len(k) + 8
		switch x := v.(type) {
		case string:
			n += len(x)
		case []string:
			for _, s := range x {
				n += len(s) + 8
			}
		}
	}
	return n
}
