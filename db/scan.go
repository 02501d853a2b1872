package db

import (
	"context"
	"fmt"
	"iter"

	"github.com/vecbolt/vecbolt/query"
	"github.com/vecbolt/vecbolt/storage"
)

// ScanOption configures Scan.
type ScanOption func(*scanOptions)

type scanOptions struct {
	filter query.Filter
	where  string
	after  string
	limit  int
	fields Field
}

// ScanWhere restricts a scan to documents whose metadata matches f.
func ScanWhere(f query.Filter) ScanOption { return func(o *scanOptions) { o.filter = f } }

// ScanWhereExpr is ScanWhere with a filter in the text syntax of
// query.Parse.
func ScanWhereExpr(expr string) ScanOption { return func(o *scanOptions) { o.where = expr } }

// ScanAfter starts a scan after the document with this ID (exclusive), in
// ID order; the ID need not exist. It is how a caller pages: pass the last
// ID of one page to get the next.
func ScanAfter(id string) ScanOption { return func(o *scanOptions) { o.after = id } }

// ScanLimit stops a scan after n documents (0, the default, is no limit).
func ScanLimit(n int) ScanOption { return func(o *scanOptions) { o.limit = n } }

// ScanFields chooses the fields the documents carry besides their ID, as
// WithFields does for searches (default FieldText|FieldMetadata); with
// none, and no filter, a scan reads only the ID map.
func ScanFields(f ...Field) ScanOption {
	return func(o *scanOptions) {
		o.fields = 0
		for _, x := range f {
			o.fields |= x
		}
	}
}

// Scan pages: each read transaction collects at most scanPageDocs
// documents, scanPageBytes of them, or scanPageVisits examined IDs (for a
// filter that matches few), so that a slow loop body never holds a
// transaction (which keeps bbolt from reusing the pages that writers free)
// and a page's memory stays bounded.
const (
	scanPageDocs   = 256
	scanPageBytes  = 32 << 20
	scanPageVisits = 4096
)

func parseScanOptions(opts []ScanOption) (scanOptions, error) {
	o := scanOptions{fields: FieldText | FieldMetadata}
	for _, opt := range opts {
		opt(&o)
	}
	if o.limit < 0 {
		return o, fmt.Errorf("%w: ScanLimit %d is negative", ErrInvalidArgument, o.limit)
	}
	f, err := resolveFilter(o.filter, o.where)
	o.filter = f
	return o, err
}

// resolveFilter returns the filter given as a value or as an expression
// (not both), validated; nil when neither is given.
func resolveFilter(f query.Filter, expr string) (query.Filter, error) {
	if expr != "" {
		if f != nil {
			return nil, fmt.Errorf("%w: both a filter and a filter expression given", ErrInvalidArgument)
		}
		var err error
		if f, err = query.Parse(expr); err != nil {
			return nil, fmt.Errorf("%w: filter: %w", ErrInvalidArgument, err)
		}
	}
	if f != nil {
		if err := query.Validate(f); err != nil {
			return nil, fmt.Errorf("%w: filter: %w", ErrInvalidArgument, err)
		}
	}
	return f, nil
}

// Scan iterates over the collection's documents in ID order (byte order
// of the IDs), with the fields ScanFields asks for, those matching
// ScanWhere only, starting after ScanAfter and stopping after ScanLimit.
// An error (a bad option, a closed DB, damage, ctx done) is yielded once,
// with a zero Document, and ends the iteration.
//
// Consistency: Scan reads in pages, each one read transaction of up to
// 256 documents, and does not hold a transaction while the loop body runs.
// Each page is a snapshot; across pages the scan sees each document at
// most once and in ID order, but a document written or deleted while the
// scan runs is seen as it was when its page was read (or not at all, if
// it was deleted by then or is inserted behind the scan's position).
// Writes are not blocked by a scan.
func (c *Collection) Scan(ctx context.Context, opts ...ScanOption) iter.Seq2[Document, error] {
	return func(yield func(Document, error) bool) {
		o, err := parseScanOptions(opts)
		if err != nil {
			yield(Document{}, err)
			return
		}
		after, left := o.after, o.limit
		for {
			page, last, more, err := c.scanPage(ctx, o, after, left)
			if err != nil {
				yield(Document{}, err)
				return
			}
			for _, d := range page {
				if err := ctx.Err(); err != nil {
					yield(Document{}, err)
					return
				}
				if !yield(d, nil) {
					return
				}
			}
			if left > 0 {
				if left -= len(page); left == 0 {
					return
				}
			}
			if !more {
				return
			}
			after = last
		}
	}
}

// scanPage reads one page of a scan in one read transaction: the matching
// documents after the ID after, at most limit of them (0: no limit), the
// last ID it examined, and whether IDs remain beyond it.
func (c *Collection) scanPage(ctx context.Context, o scanOptions, after string, limit int) (page []Document, last string, more bool, err error) {
	leave, st, err := c.enter(false)
	if err != nil {
		return nil, "", false, err
	}
	defer leave()
	if err := ctx.Err(); err != nil {
		return nil, "", false, err
	}
	if o.filter != nil {
		// Type-checked against the recorded field types, as searches are,
		// so that the outcome never depends on the documents a page meets.
		st.liveMu.RLock()
		err := st.checkFilter(o.filter)
		st.liveMu.RUnlock()
		if err != nil {
			return nil, "", false, err
		}
	}
	want := scanPageDocs
	if limit > 0 {
		want = min(want, limit)
	}
	if st.chunked() {
		return c.scanDocuments(ctx, o, after, want)
	}
	// Without fields and filter a page needs the ID map alone.
	idsOnly := o.fields == 0 && o.filter == nil
	err = c.db.store.View(func(tx *storage.Tx) error {
		ctx, err := tx.Collection(c.name)
		if err != nil {
			return err
		}
		visits, bytes := 0, 0
		return ctx.ForEachIDAfter(after, func(id []byte, label uint64) (bool, error) {
			if len(page) == want || visits == scanPageVisits || bytes >= scanPageBytes {
				more = true
				return false, nil
			}
			visits++
			last = string(id)
			if idsOnly {
				page = append(page, Document{ID: last})
				return true, nil
			}
			rec, ok, err := readRecord(ctx, label, o.fields)
			if err != nil {
				return false, err
			}
			if !ok || rec.Id != last {
				return false, fmt.Errorf("%w: ID %q maps to label %d, which does not hold it", ErrCorrupt, short(last), label)
			}
			if o.filter != nil {
				md, err := metadataFromRecord(rec.Metadata)
				if err != nil {
					return false, fmt.Errorf("%w: document %q: %v", ErrCorrupt, short(last), err)
				}
				ok, err := o.filter.Match(md)
				if err != nil {
					return false, fmt.Errorf("%w: filter on document %q: %w", ErrInvalidArgument, short(last), err)
				}
				if !ok {
					return true, nil
				}
			}
			d, err := documentFromRecord(rec, o.fields)
			if err != nil {
				return false, err
			}
			bytes += len(d.ID) + len(d.Text) + 4*len(d.Vector) + len(rec.Metadata)*16
			page = append(page, d)
			return true, nil
		})
	})
	if err != nil {
		return nil, "", false, fmt.Errorf("vecbolt: scan collection %q: %w", c.name, err)
	}
	return page, last, more, nil
}

// DeleteWhere deletes every document whose metadata matches f, in one
// transaction, and returns how many it deleted. f must not be nil: to
// empty a collection, delete it (DB.DeleteCollection) and create it again,
// or pass a filter that says so. The deletion is durable when DeleteWhere
// returns nil, and searches running meanwhile see each matching document
// either whole or not at all, as with Delete.
func (c *Collection) DeleteWhere(ctx context.Context, f query.Filter) (int, error) {
	if f == nil {
		return 0, fmt.Errorf("%w: DeleteWhere needs a filter (a nil filter would delete every document; use DB.DeleteCollection for that)", ErrInvalidArgument)
	}
	if err := query.Validate(f); err != nil {
		return 0, fmt.Errorf("%w: filter: %w", ErrInvalidArgument, err)
	}
	leave, _, err := c.enter(true)
	if err != nil {
		return 0, err
	}
	defer leave()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.dropped.Load() {
		return 0, fmt.Errorf("%w: %q was deleted", ErrCollectionNotFound, c.name)
	}
	st := c.st.Load()
	if st.chunked() {
		return c.deleteWhereChunked(st, f)
	}
	// Under writeMu the live set is the file's documents: writers update
	// it before they release writeMu.
	labels, ids, err := st.matching(f)
	if err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return c.deleteLabels(st, labels, ids)
}

// matching returns the labels and IDs of the live documents that f
// matches. A filter error names the document it met.
func (st *colState) matching(f query.Filter) (labels []uint64, ids []string, err error) {
	st.liveMu.RLock()
	defer st.liveMu.RUnlock()
	if err := st.checkFilter(f); err != nil {
		return nil, nil, err
	}
	for l, d := range st.live {
		ok, err := f.Match(d.md)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: filter on document %q: %w", ErrInvalidArgument, short(d.id), err)
		}
		if ok {
			labels = append(labels, l)
			ids = append(ids, d.id)
		}
	}
	return labels, ids, nil
}
