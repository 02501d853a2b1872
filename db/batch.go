package db

import (
	"github.com/vecbolt/vecbolt/chunk"

	"context"
	"fmt"
	"slices"
	"strings"
)

// BatchError lists every document of an Insert or Upsert that was
// rejected; the write stored nothing. It matches ErrInvalidDocument, and
// errors.Is and errors.As see each *DocumentError it holds (errors.As
// yields the first, in batch order), so a caller that handles one bad
// document at a time keeps working, and one that wants them all takes the
// *BatchError apart:
//
//	var be *db.BatchError
//	if errors.As(err, &be) {
//		for _, de := range be.Rejected {
//			log.Printf("document %d (%q): %v", de.Index, de.ID, de.Err)
//		}
//	}
//
// Its message names the first few documents (see quoteList's limits);
// Rejected holds them all.
type BatchError struct {
	// Collection is the collection written to.
	Collection string
	// Total is the number of documents in the batch.
	Total int
	// Rejected holds one error per rejected document, in batch order.
	Rejected []*DocumentError
}

func (e *BatchError) Error() string {
	if len(e.Rejected) == 1 {
		return e.Rejected[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "vecbolt: %d of %d documents rejected by collection %q: ", len(e.Rejected), e.Total, short(e.Collection))
	n := min(len(e.Rejected), maxListedIDs)
	for i, de := range e.Rejected[:n] {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(strings.TrimPrefix(de.Error(), "vecbolt: "))
	}
	if len(e.Rejected) > n {
		fmt.Fprintf(&b, "; and %d more", len(e.Rejected)-n)
	}
	return b.String()
}

// Unwrap returns the DocumentErrors, for errors.Is and errors.As.
func (e *BatchError) Unwrap() []error {
	out := make([]error, len(e.Rejected))
	for i, de := range e.Rejected {
		out[i] = de
	}
	return out
}

// Is makes a BatchError match ErrInvalidDocument even when it is empty.
func (e *BatchError) Is(target error) bool { return target == ErrInvalidDocument }

// newBatchError sorts the rejections of a batch by position.
func newBatchError(collection string, total int, bad []*DocumentError) *BatchError {
	slices.SortFunc(bad, func(a, b *DocumentError) int { return a.Index - b.Index })
	return &BatchError{Collection: collection, Total: total, Rejected: bad}
}

// WriteOption configures InsertWith and UpsertWith.
type WriteOption func(*writeOptions)

type writeOptions struct {
	skipInvalid bool
	format      chunk.Format // see PassageFormat
}

// SkipInvalid makes a write store the valid documents of a batch and
// return the rejected ones in WriteResult.Rejected instead of failing
// whole: the Go twin of `vecbolt import --skip-bad`. A rejected document
// is one that fails validation, that the embedder fails on (alone: a batch
// the model fails on is re-embedded a document at a time to find the
// culprits), or whose ID exists already (Insert) or repeats in the batch.
// A rejected document writes nothing; the valid ones are committed in one
// transaction. Errors that are not about one document (a cancelled
// context, a batch over MaxBatchBytes, an embedder that fails on every
// text of a batch only together, a closed database, a disk error) still
// fail the whole write and store nothing.
func SkipInvalid() WriteOption { return func(o *writeOptions) { o.skipInvalid = true } }

// WriteResult is what InsertWith and UpsertWith stored and rejected.
type WriteResult struct {
	// IDs has one entry per document given, in order: the ID it was
	// stored under (generated when it had none), or "" for a rejected
	// document.
	IDs []string
	// Rejected lists the rejected documents in batch order (only with
	// SkipInvalid; without it a rejection fails the write with a
	// *BatchError).
	Rejected []*DocumentError
}

// InsertWith is Insert with options. Without SkipInvalid it behaves
// exactly like Insert, with the IDs in WriteResult.IDs.
func (c *Collection) InsertWith(ctx context.Context, docs []Document, opts ...WriteOption) (WriteResult, error) {
	return c.write(ctx, docs, false, opts)
}

// UpsertWith is Upsert with options; see InsertWith.
func (c *Collection) UpsertWith(ctx context.Context, docs []Document, opts ...WriteOption) (WriteResult, error) {
	return c.write(ctx, docs, true, opts)
}
