package db

import (
	"context"
	"errors"
	"fmt"

	"github.com/vecbolt/vecbolt/fulltext"
	"github.com/vecbolt/vecbolt/storage"
)

// FullTextConfig is a collection's keyword-index analysis and scoring; see
// package fulltext.
type FullTextConfig = fulltext.Config

// WithFullText gives the collection a keyword index with the given
// analysis and BM25 parameters (zero fields take fulltext's defaults).
// Collections with a model get one by default; collections WithDimension
// only when asked, since their documents often hold no text.
func WithFullText(cfg FullTextConfig) CollectionOption {
	return func(o *collectionOptions) { o.ft, o.ftSet = &cfg, true }
}

// WithoutFullText makes a collection without a keyword index: writes skip
// the analysis (the fastest inserts), and keyword and hybrid searches fail
// with ErrNoFullText.
func WithoutFullText() CollectionOption {
	return func(o *collectionOptions) { o.ft, o.ftSet = nil, true }
}

// fullTextRecord is the stored form of a keyword-index configuration
// (nil: none), which checkFullText has normalized.
func fullTextRecord(cfg *FullTextConfig) (*storage.FullTextConfig, error) {
	if cfg == nil {
		return &storage.FullTextConfig{Enabled: false}, nil
	}
	b, err := cfg.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	return &storage.FullTextConfig{Enabled: true, Config: b}, nil
}

// fullTextConfig reads a stored configuration: nil when the collection has
// no usable index (made without one, or not yet built: rec nil).
func fullTextConfig(rec *storage.FullTextConfig) (*FullTextConfig, error) {
	if rec == nil || !rec.Enabled {
		return nil, nil
	}
	var cfg FullTextConfig
	if err := cfg.UnmarshalBinary(rec.Config); err != nil {
		return nil, fmt.Errorf("%w: keyword index configuration: %w", ErrCorrupt, err)
	}
	return &cfg, nil
}

// ftWriter returns a writer of the collection's keyword index inside the
// caller's write transaction, or nil if st has none. The caller must Flush
// it before the transaction commits.
func (st *colState) ftWriter(ct *storage.CollectionTx) (*fulltext.Writer, error) {
	if st.ft == nil {
		return nil, nil
	}
	b, err := ct.FullText()
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, fmt.Errorf("%w: collection %q records a keyword index but has no %q bucket", ErrCorrupt, st.cfg.Name, "fulltext")
	}
	w, err := fulltext.NewWriter(b, st.ana)
	if err != nil {
		return nil, fmt.Errorf("keyword index: %w", ftErr(err))
	}
	return w, nil
}

// ftDelete removes a document from the keyword index. A document the
// index lacks is not an error here: the deletion brings the two back in
// step, and Check reports such a gap while it lasts.
func ftDelete(w *fulltext.Writer, label uint64) error {
	if err := w.Delete(label); err != nil && !errors.Is(err, fulltext.ErrNotFound) {
		return fmt.Errorf("keyword index: %w", ftErr(err))
	}
	return nil
}

// keywordHits runs BM25 for the top depth labels that accept takes, inside
// the caller's transaction.
func (st *colState) keywordHits(ctx context.Context, ct *storage.CollectionTx, text string, depth int, accept func(uint64) bool) ([]ranked, error) {
	b, err := ct.FullText()
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, fmt.Errorf("%w: collection %q records a keyword index but has no %q bucket", ErrCorrupt, st.cfg.Name, "fulltext")
	}
	r, err := fulltext.NewReader(b, st.ana)
	if err != nil {
		return nil, fmt.Errorf("keyword index: %w", ftErr(err))
	}
	hits, err := r.Search(ctx, text, depth, accept)
	if err != nil {
		return nil, fmt.Errorf("keyword search: %w", ftErr(err))
	}
	out := make([]ranked, len(hits))
	for i, h := range hits {
		out[i] = ranked{label: h.Label, score: float32(h.Score)}
	}
	return out, nil
}

// buildFullText indexes every document of the collection into a fresh
// keyword-index bucket, in the caller's write transaction, calling
// progress (if not nil) as it goes.
func buildFullText(ctx context.Context, ct *storage.CollectionTx, cfg FullTextConfig, progress func(done, total int)) error {
	a, err := fulltext.NewAnalyzer(cfg)
	if err != nil {
		return err
	}
	b, err := ct.ResetFullText()
	if err != nil {
		return err
	}
	w, err := fulltext.NewWriter(b, a)
	if err != nil {
		return err
	}
	total, done := ct.Count(), 0
	// Texts only: a damaged vector (the document is left out of the
	// vector index) does not keep its text out of the keyword index,
	// whose searches skip such documents (acceptFunc).
	err = ct.EachDocument(func(label uint64, d *storage.DocumentRecord, _ error) error {
		if done%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if progress != nil {
				progress(done, total)
			}
		}
		done++
		// A passage holds no text of its own: it is indexed with its
		// slice of its document's.
		text, err := entryText(ct, d)
		if err != nil {
			return err
		}
		return w.Add(label, text)
	})
	if err != nil {
		return err
	}
	return w.Flush()
}

// checkFullText fills a configuration's defaults and checks it.
func checkFullText(cfg FullTextConfig) (FullTextConfig, error) {
	n, err := cfg.Normalized()
	if err != nil {
		return cfg, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	return n, nil
}

// setFullText sets st's keyword-index configuration and its analyzer.
func (st *colState) setFullText(ft *FullTextConfig) error {
	st.ft, st.ana = ft, nil
	if ft == nil {
		return nil
	}
	a, err := fulltext.NewAnalyzer(*ft)
	if err != nil {
		return fmt.Errorf("%w: keyword index configuration: %w", ErrCorrupt, err)
	}
	st.ana = a
	return nil
}

// FullTextBuildEvent tells a WithFullTextBuildLog function how the keyword
// index of a collection from an older file is being built.
type FullTextBuildEvent struct {
	// Collection is the collection's name.
	Collection string
	// Done of Total documents are indexed so far.
	Done, Total int
	// Finished marks the last event of a build.
	Finished bool
}

// WithFullTextBuildLog sets a function told as the keyword index of a
// collection written by an older vecbolt (file format 2) is built, which
// happens when a writable handle first loads the collection: once when it
// starts (Done 0), as it proceeds, and once when it is Finished. The
// function runs on the goroutine that loads the collection; it must not
// call the DB.
func WithFullTextBuildLog(fn func(FullTextBuildEvent)) Option {
	return func(o *options) { o.ftBuild = fn }
}

// upgradeFullText builds the keyword index of a collection that lacks one
// because an older vecbolt wrote it (its configuration has no full-text
// record), on a writable handle. Collections with a model get the default
// index; those of caller-supplied vectors are recorded as having none, as
// new ones are. The index and the record are written in one transaction,
// so a crash leaves the collection as it was, and the next writable load
// builds it again. A read-only handle, or one that refuses writes because
// the file's pages are damaged, leaves the collection without the index:
// keyword search then says so (ErrNoFullText).
func (d *DB) upgradeFullText(ctx context.Context, st *colState) error {
	if st.cfg.FullText != nil || d.store.ReadOnly() {
		return nil
	}
	name := st.cfg.Name
	var ft *FullTextConfig
	if st.cfg.Model != nil {
		def, err := checkFullText(FullTextConfig{})
		if err != nil {
			return err
		}
		ft = &def
	}
	rec, err := fullTextRecord(ft)
	if err != nil {
		return err
	}
	report := func(done, total int, finished bool) {
		if d.opts.ftBuild != nil && ft != nil {
			d.opts.ftBuild(FullTextBuildEvent{Collection: name, Done: done, Total: total, Finished: finished})
		}
	}
	var newCfg *storage.CollectionConfig
	total := 0
	err = d.store.Update(func(tx *storage.Tx) error {
		ct, err := tx.Collection(name)
		if err != nil {
			return err
		}
		cfg, err := ct.Config()
		if err != nil {
			return err
		}
		if cfg.FullText != nil {
			newCfg = cfg
			return nil
		}
		cfg.FullText = rec
		if ft != nil {
			total = ct.Count()
			report(0, total, false)
			if err := buildFullText(ctx, ct, *ft, func(done, total int) { report(done, total, false) }); err != nil {
				return err
			}
		}
		newCfg = cfg
		return ct.PutConfig(cfg)
	})
	if err != nil {
		if d.store.Damaged() {
			// The store refuses writes on a file with damaged pages; the
			// collection stays readable and searchable by vector, and
			// keyword search says what is missing.
			return nil
		}
		return fmt.Errorf("vecbolt: collection %q: build the keyword index: %w", name, err)
	}
	report(total, total, true)
	st.cfg = newCfg
	ft, err = fullTextConfig(newCfg.FullText)
	if err != nil {
		return err
	}
	st.info.FullText = ft
	return st.setFullText(ft)
}

// ftChecker compares a collection's keyword index with its documents as
// Check reads them: the index's statistics must count every document and
// the terms its text analyzes to. Package fulltext's own Check verifies
// that the posting lists agree with its per-document records; together
// they catch a document missing from the index, one indexed twice, and
// one indexed with other text than it holds (unless two such errors
// cancel out in the total length). A nil *ftChecker checks nothing.
type ftChecker struct {
	ana    *fulltext.Analyzer
	stats  fulltext.Stats
	length uint64
	terms  []string
}

// fullText checks the keyword index of a collection and returns the
// checker of its agreement with the documents, or nil (no index, or
// damaged: then reported here).
func (c *checker) fullText(ctx context.Context, ct *storage.CollectionTx, name string, cfg *storage.CollectionConfig) *ftChecker {
	ft, err := fullTextConfig(cfg.FullText)
	if err != nil {
		c.cachef(ProblemFullText, name, "", "collection %q: %v", name, err)
		return nil
	}
	if ft == nil {
		return nil
	}
	fail := func(err error) *ftChecker {
		c.cachef(ProblemFullText, name, "", "collection %q: keyword index: %v; run vecbolt reindex to rebuild it", name, err)
		return nil
	}
	b, err := ct.FullText()
	if err != nil {
		return fail(err)
	}
	if b == nil {
		return fail(errors.New("its bucket is missing"))
	}
	a, err := fulltext.NewAnalyzer(*ft)
	if err != nil {
		return fail(err)
	}
	r, err := fulltext.NewReader(b, a)
	if err != nil {
		return fail(err)
	}
	if err := r.Check(ctx); err != nil {
		return fail(err)
	}
	return &ftChecker{ana: a, stats: r.Stats()}
}

// add counts the terms of an entry's text: a passage's is its slice of its
// document's (entryText). A passage that does not fit its document counts
// nothing here; checkPassages reports it.
func (f *ftChecker) add(ct *storage.CollectionTx, d *storage.DocumentRecord) {
	if f == nil {
		return
	}
	text, err := entryText(ct, d)
	if err != nil {
		return
	}
	f.terms = f.ana.Terms(f.terms[:0], text)
	f.length += uint64(len(f.terms))
}

// finish returns what disagrees with the docs documents read, or "".
func (f *ftChecker) finish(docs int) string {
	switch {
	case f == nil:
		return ""
	case f.stats.Documents != uint64(docs):
		return fmt.Sprintf("it indexes %d documents, the collection holds %d", f.stats.Documents, docs)
	case f.stats.Length != f.length:
		return fmt.Sprintf("it counts %d terms, the documents' texts analyze to %d", f.stats.Length, f.length)
	}
	return ""
}

// ftErr makes a damaged keyword index an ErrCorrupt of this package too,
// so that callers branch on one sentinel for damage anywhere in the file.
func ftErr(err error) error {
	if errors.Is(err, fulltext.ErrCorrupt) && !errors.Is(err, ErrCorrupt) {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return err
}
