package db

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"

	"github.com/vecbolt/vecbolt/index"
	"github.com/vecbolt/vecbolt/storage"
)

// ProblemKind classifies a problem found by Check.
type ProblemKind int

// The kinds of problem Check reports.
const (
	// ProblemPages is damage to the file's page structure: a page pointer
	// out of range, a page of the wrong kind or reached twice, a finding
	// of bbolt's own check. The parts of the file behind damaged pages
	// are not read any further.
	ProblemPages ProblemKind = iota + 1
	// ProblemConfig is a collection configuration that does not decode or
	// does not describe its collection.
	ProblemConfig
	// ProblemRecord is a stored document that does not decode or fails
	// its checksum.
	ProblemRecord
	// ProblemHead is a document head (the ID and metadata kept apart for a
	// fast open) that does not decode or does not mirror its document.
	ProblemHead
	// ProblemIDMap is a disagreement between the ID → label map and the
	// documents.
	ProblemIDMap
	// ProblemVector is a vector that fails its checksum or is missing, or
	// has the wrong dimension or a component that is not finite. Its
	// document is left out of the index when the collection loads (see
	// CollectionInfo.DamagedVectors); Upsert or Delete repairs it.
	ProblemVector
	// ProblemSnapshot is a damaged index snapshot (or its list of writes
	// since), or one that disagrees with the documents: a damaged cache,
	// which the documents rebuild.
	ProblemSnapshot
	// ProblemLoad is a collection that does not load, or whose loaded
	// count differs from its stored documents.
	ProblemLoad
	// ProblemSelfSearch is a document that a search for its own vector
	// does not find: the index disagrees with the documents.
	ProblemSelfSearch
	// ProblemFieldTypes is a metadata field whose documents hold values
	// of several types (TypeMixed), written before vecbolt recorded field
	// types. Not damage: such a collection has no verdict.
	ProblemFieldTypes
	// ProblemFullText is a damaged keyword index, or one that disagrees
	// with the documents' texts: a damaged cache, which DB.Reindex
	// rebuilds from the documents.
	ProblemFullText
)

var problemKindNames = map[ProblemKind]string{
	ProblemPages:      "page structure",
	ProblemConfig:     "configuration",
	ProblemRecord:     "record",
	ProblemHead:       "head",
	ProblemIDMap:      "ID map",
	ProblemVector:     "vector",
	ProblemSnapshot:   "index snapshot",
	ProblemLoad:       "load",
	ProblemSelfSearch: "self-search",
	ProblemFieldTypes: "field types",
	ProblemFullText:   "keyword index",
}

// String names the kind.
func (k ProblemKind) String() string {
	if s, ok := problemKindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("ProblemKind(%d)", int(k))
}

// Problem is one thing Check found wrong.
type Problem struct {
	Kind ProblemKind
	// Collection names the collection, "" for the file outside any.
	Collection string
	// Document is the document's ID when the problem is about one document
	// whose ID is known, "" otherwise.
	Document string
	// Message describes the problem in full, naming the collection and
	// document. It is not escaped: IDs and stored text appear as they are.
	Message string
}

// String returns the message.
func (p Problem) String() string { return p.Message }

// Verdict says what a collection's damage means for its repair.
type Verdict int

const (
	// Intact: nothing found wrong (or only ProblemFieldTypes).
	Intact Verdict = iota
	// DamagedCache: the index snapshot is damaged or disagrees with the
	// documents, which are intact. Opening the collection rebuilds its
	// index from them; DB.Reindex stores a good snapshot.
	DamagedCache
	// DamagedData: documents, heads, IDs, configuration or the pages
	// holding them are damaged; only a backup restores them.
	DamagedData
)

// String names the verdict.
func (v Verdict) String() string {
	switch v {
	case Intact:
		return "intact"
	case DamagedCache:
		return "damaged cache"
	case DamagedData:
		return "damaged data"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// CollectionCheck is what Check found about one collection.
type CollectionCheck struct {
	Name    string
	Verdict Verdict
	// CachePagesDamaged is set with DamagedCache when the pages of the
	// index snapshot (not just its bytes) are damaged: the collection
	// opens by rebuilding its index, but a writer that meets those pages
	// refuses to write, so only a backup makes it writable again.
	CachePagesDamaged bool
	// Documents is the number of stored documents checked.
	Documents int
	// Searched is the number of self-searches run.
	Searched int
}

// CheckReport is the result of Check.
type CheckReport struct {
	// Problems lists everything found, in the order found.
	Problems []Problem
	// FileDamaged is set when the file's structure outside any collection
	// is damaged: the collections could not all be listed or read, and
	// the file must be restored from a backup.
	FileDamaged bool
	// Collections lists each collection found, in name order.
	Collections []CollectionCheck
	// Documents and Searched total those of Collections.
	Documents int
	Searched  int
	// Size is the file's size in bytes.
	Size int64
}

// OK reports whether Check found no problem at all.
func (r *CheckReport) OK() bool { return len(r.Problems) == 0 && !r.FileDamaged }

// CheckOption configures Check.
type CheckOption func(*checkOptions)

type checkOptions struct {
	sample   int
	progress func(CheckProgress)
}

// WithCheckSample bounds the self-searches per collection (default
// 20,000): all documents up to n, an even sample of n above. 0 means all.
func WithCheckSample(n int) CheckOption { return func(o *checkOptions) { o.sample = n } }

// CheckProgress describes how far Check has got.
type CheckProgress struct {
	// Step is "pages", "records", "load" or "self-search".
	Step string
	// Collection is the collection being checked ("" for "pages").
	Collection string
	// Done and Total count the step's work: self-searches for
	// "self-search", 0 and 1 for the others.
	Done, Total int
}

// WithCheckProgress has fn called, from the calling goroutine, as Check
// moves through its steps and self-searches.
func WithCheckProgress(fn func(CheckProgress)) CheckOption {
	return func(o *checkOptions) { o.progress = fn }
}

// Check verifies the database file, read-only, and reports what it found:
//  1. the file's page structure, walked by a bounds-checked reader of
//     storage's own (every page pointer in range, every page of the right
//     kind, reached once), then bbolt's consistency check; parts of the
//     file whose pages are damaged are not read any further;
//  2. every stored record decodes and passes its checksum: collection
//     configurations, documents, heads, the ID → label map, index
//     snapshots;
//  3. each ID maps to a document with that ID and vice versa; vectors
//     have the collection's dimension and finite components;
//  4. the index agrees with the documents: each collection loads, its
//     count matches the stored documents, and each document is found by a
//     search for its own vector (see WithCheckSample); and each metadata
//     field holds values of one type.
//
// Check never crashes on a damaged file and writes nothing itself (but a
// writable handle that loads a collection whose snapshot is damaged
// stores the rebuilt one, as DB.Collection does). The error is
// only for failing to run at all (a closed DB, a bad option, a cancelled
// ctx); what is wrong with the file is in the report. Check is meant for a
// handle nobody writes through meanwhile: a concurrent write can show as a
// count that differs between steps. Loading collections to search them
// leaves them loaded in the DB, as DB.Collection does.
func (d *DB) Check(ctx context.Context, opts ...CheckOption) (*CheckReport, error) {
	o := checkOptions{sample: 20000}
	for _, opt := range opts {
		opt(&o)
	}
	if o.sample < 0 {
		return nil, fmt.Errorf("%w: check sample %d must not be negative", ErrInvalidArgument, o.sample)
	}
	leave, err := d.enter()
	if err != nil {
		return nil, err
	}
	c := &checker{
		d: d, o: o,
		rep:        &CheckReport{},
		cache:      map[string]bool{},
		data:       map[string]bool{},
		cachePages: map[string]bool{},
		counts:     map[string]*CollectionCheck{},
	}
	c.run(ctx)
	leave()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("vecbolt: check: %w", err)
	}
	rep := c.rep
	for _, name := range slices.Sorted(maps.Keys(c.counts)) {
		cc := c.counts[name]
		switch {
		case c.data[name]:
			cc.Verdict = DamagedData
		case c.cache[name]:
			cc.Verdict = DamagedCache
			cc.CachePagesDamaged = c.cachePages[name]
		}
		rep.Collections = append(rep.Collections, *cc)
		rep.Documents += cc.Documents
		rep.Searched += cc.Searched
	}
	rep.Size, _ = d.FileSize()
	return rep, nil
}

// checker is one run of Check.
type checker struct {
	d   *DB
	o   checkOptions
	rep *CheckReport
	// cache and data name the collections whose index cache (snapshot,
	// pending list, the loaded index) or whose data (config, documents,
	// heads, IDs) is damaged; cachePages those whose snapshot's pages are.
	cache, data, cachePages map[string]bool
	counts                  map[string]*CollectionCheck
}

func (c *checker) add(kind ProblemKind, coll, doc, format string, args ...any) {
	c.rep.Problems = append(c.rep.Problems, Problem{Kind: kind, Collection: coll, Document: doc, Message: fmt.Sprintf(format, args...)})
}

// cachef reports damage to a collection's index cache.
func (c *checker) cachef(kind ProblemKind, coll, doc, format string, args ...any) {
	c.cache[coll] = true
	c.add(kind, coll, doc, format, args...)
}

// dataf reports damage to a collection's data.
func (c *checker) dataf(kind ProblemKind, coll, doc, format string, args ...any) {
	c.data[coll] = true
	c.add(kind, coll, doc, format, args...)
}

func (c *checker) progress(step, coll string, done, total int) {
	if c.o.progress != nil {
		c.o.progress(CheckProgress{Step: step, Collection: coll, Done: done, Total: total})
	}
}

func (c *checker) coll(name string) *CollectionCheck {
	cc := c.counts[name]
	if cc == nil {
		cc = &CollectionCheck{Name: name}
		c.counts[name] = cc
	}
	return cc
}

// probe is a document to self-search.
type probe struct {
	id  string
	vec []float32
}

func (c *checker) run(ctx context.Context) {
	rep := c.rep
	store := c.d.store
	// 1. The page structure, walked by storage's bounds-checked reader:
	// bbolt follows damaged pointers blindly (see storage/pages.go). skip
	// holds the collections whose pages are not all sound: nothing reads
	// them through bbolt.
	c.progress("pages", "", 0, 1)
	skip := map[string]bool{}
	// Both page checks read the file as one consistent state, so no commit
	// may land while they run (storage.WithoutWriters).
	var probs []storage.PageProblem
	var bboltFound []error
	var bboltErr error
	err := store.WithoutWriters(func() error {
		var err error
		if probs, err = store.CheckPages(); err != nil || len(probs) > 0 {
			return err
		}
		// bbolt's own check: the freelist and unreachable pages, key
		// order; safe only because the walk found every pointer sound.
		bboltFound, bboltErr = store.CheckBbolt()
		return nil
	})
	if err != nil {
		rep.FileDamaged = true
		c.add(ProblemPages, "", "", "cannot read the file: %v", err)
		return
	}
	for _, p := range probs {
		if len(p.Path) < 2 || p.Path[0] != "collections" {
			rep.FileDamaged = true
			c.add(ProblemPages, "", "", "%s", p)
			continue
		}
		name := p.Path[1]
		c.coll(name)
		skip[name] = true
		if len(p.Path) >= 3 && (p.Path[2] == "snapshot" || p.Path[2] == "pending" || p.Path[2] == "fulltext") {
			c.cachePages[name] = true
			c.cachef(ProblemPages, name, "", "%s", p)
		} else {
			c.dataf(ProblemPages, name, "", "%s", p)
		}
	}
	if rep.FileDamaged {
		// The collections cannot be listed safely.
		return
	}
	for _, e := range bboltFound {
		rep.FileDamaged = true
		c.add(ProblemPages, "", "", "bbolt: %v", e)
	}
	if bboltErr != nil {
		rep.FileDamaged = true
		c.add(ProblemPages, "", "", "bbolt: %v", bboltErr)
	}
	// 2–3. records and the ID ↔ document maps.
	type loaded struct {
		name   string
		count  int
		probes []probe
	}
	var colls []loaded
	err = store.View(func(tx *storage.Tx) error {
		names, err := tx.CollectionNames()
		if err != nil {
			return err
		}
		for _, name := range names {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			cc := c.coll(name)
			c.progress("records", name, 0, 1)
			if c.data[name] {
				c.add(ProblemPages, name, "", "collection %q: records not checked, its pages are damaged", name)
				continue
			}
			// With only the snapshot's pages damaged, the data's records
			// are checked, but the collection is not loaded: loading reads
			// the snapshot through bbolt.
			n, probes, err := c.records(ctx, tx, name, !skip[name])
			if err != nil {
				c.dataf(ProblemConfig, name, "", "collection %q: %v", name, err)
				continue
			}
			cc.Documents = n
			if !skip[name] {
				colls = append(colls, loaded{name: name, count: n, probes: probes})
			}
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		rep.FileDamaged = true
		c.add(ProblemPages, "", "", "%v", err)
	}
	// 4. the index against the documents.
	for _, lc := range colls {
		if ctx.Err() != nil {
			return
		}
		c.progress("load", lc.name, 0, 1)
		col, err := c.d.Collection(ctx, lc.name)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			c.dataf(ProblemLoad, lc.name, "", "collection %q does not load: %v", lc.name, err)
			continue
		}
		if s := col.Info().IndexRebuilt; s != "" && !c.cache[lc.name] {
			// The snapshot read back whole but disagrees with the
			// documents (reported above otherwise).
			c.cachef(ProblemSnapshot, lc.name, "", "collection %q: %s", lc.name, s)
		}
		n, err := col.Count(ctx, nil)
		if err != nil {
			c.dataf(ProblemLoad, lc.name, "", "collection %q: %v", lc.name, err)
			continue
		}
		if _, chunked := col.Chunking(); chunked {
			n = col.Info().Passages // the entries stored, as lc.count
		}
		if n != lc.count {
			c.dataf(ProblemLoad, lc.name, "", "collection %q: %d documents loaded, %d stored", lc.name, n, lc.count)
		}
		// Not damage, and no verdict: documents written before field types
		// were recorded, which filters cannot compare (see TypeMixed).
		fields := col.Info().Fields
		for _, f := range slices.Sorted(maps.Keys(fields)) {
			if fields[f] == TypeMixed {
				c.add(ProblemFieldTypes, lc.name, "", "collection %q: metadata field %q holds values of several types; filters can only test EXISTS on it until its odd documents are replaced or deleted (or the collection is exported and imported into a new one)", lc.name, f)
			}
		}
		metric := col.Info().Metric
		cc := c.coll(lc.name)
		for i, p := range lc.probes {
			if ctx.Err() != nil {
				return
			}
			if i%256 == 0 {
				c.progress("self-search", lc.name, i, len(lc.probes))
			}
			cc.Searched++
			if msg := selfSearch(ctx, col, metric, p); msg != "" {
				if ctx.Err() != nil {
					return
				}
				// The index is built from the documents, which passed.
				c.cachef(ProblemSelfSearch, lc.name, p.id, "collection %q: document %q %s", lc.name, p.id, msg)
			}
		}
		c.progress("self-search", lc.name, len(lc.probes), len(lc.probes))
	}
}

// selfSearch checks that a document is found by its own vector; it returns
// a description of the problem, or "". Documents with identical vectors
// tie, and any of them may come first, so the search widens while every
// result ties with the document's own score.
func selfSearch(ctx context.Context, c *Collection, m Metric, p probe) string {
	var self float64
	switch m {
	case Dot:
		for _, x := range p.vec {
			self += float64(x) * float64(x)
		}
	case L2:
		self = 0
	default:
		self = 1
	}
	eps := 1e-3 * math.Max(1, math.Abs(self))
	for k := 10; ; k *= 10 {
		res, err := c.SearchVector(ctx, p.vec, TopK(k), WithFields(), WithEf(max(k, 256)))
		if err != nil {
			return fmt.Sprintf("cannot be searched: %v", err)
		}
		if len(res) == 0 {
			return "is not found by its own vector: the search returned nothing"
		}
		if float64(res[0].Score) < self-eps {
			return fmt.Sprintf("is not found by its own vector: best score %.5f, its own %.5f", res[0].Score, self)
		}
		if m == Dot {
			// A vector need not be its own nearest neighbour under the
			// dot product; what must hold is that nothing better was
			// missed, checked above.
			return ""
		}
		for _, r := range res {
			if r.ID == p.id {
				return ""
			}
		}
		if float64(res[len(res)-1].Score) < self-eps || len(res) < k {
			return fmt.Sprintf("is not among the %d results that score like its own vector (best: %q)", len(res), res[0].ID)
		}
		if k >= 10000 {
			// More than 10,000 identical vectors: not worth telling apart.
			return ""
		}
	}
}

// records decodes every record of one collection, checks the ID ↔ label
// maps and the vectors, and picks the documents to self-search. It returns
// the number of documents; an error means the collection's configuration
// could not be read.
func (c *checker) records(ctx context.Context, tx *storage.Tx, name string, readCache bool) (int, []probe, error) {
	ct, err := tx.Collection(name)
	if err != nil {
		return 0, nil, err
	}
	cfg, err := ct.Config()
	if err != nil {
		return 0, nil, err
	}
	dim := int(cfg.Dimension)
	if cfg.Name != name {
		c.dataf(ProblemConfig, name, "", "collection %q: configuration names %q", name, cfg.Name)
	}
	if _, err := index.ParseMetric(cfg.Metric); err != nil {
		c.dataf(ProblemConfig, name, "", "collection %q: %v", name, err)
	}
	if readCache {
		if _, r, ok, err := ct.Snapshot(); err != nil {
			c.cachef(ProblemSnapshot, name, "", "collection %q: index snapshot: %v", name, err)
		} else if ok {
			// Reading it through verifies the chunks are all there.
			if _, err := io.Copy(io.Discard, r); err != nil {
				c.cachef(ProblemSnapshot, name, "", "collection %q: index snapshot: %v", name, err)
			}
		}
		if _, err := ct.Pending(); err != nil {
			c.cachef(ProblemSnapshot, name, "", "collection %q: %v", name, err)
		}
	}
	// The keyword index: its own consistency here, its agreement with the
	// documents' texts as they are read below.
	var ftCheck *ftChecker
	if readCache {
		ftCheck = c.fullText(ctx, ct, name, cfg)
	}
	// Everything below is data.
	data := func(kind ProblemKind, doc, format string, args ...any) {
		c.dataf(kind, name, doc, format, args...)
	}
	ids := 0
	err = ct.ForEachID(func(idb []byte, label uint64) error {
		id := string(idb)
		ids++
		doc, ok, err := ct.Record(label)
		switch {
		case err != nil:
			data(ProblemRecord, id, "collection %q: ID %q: %v", name, id, err)
		case !ok:
			data(ProblemIDMap, id, "collection %q: ID %q maps to label %d, which holds no document", name, id, label)
		case doc.Id != id:
			data(ProblemIDMap, id, "collection %q: ID %q maps to label %d, which holds document %q", name, id, label, doc.Id)
		}
		return nil
	})
	if err != nil {
		data(ProblemIDMap, "", "collection %q: ID map: %v", name, err)
	}
	if cfg.Chunking != nil {
		checkPassages(ct, name, data)
	}
	total := ct.Count()
	stride := 1
	if c.o.sample > 0 && total > c.o.sample {
		stride = (total + c.o.sample - 1) / c.o.sample
	}
	// Heads (ID and metadata kept apart for a fast open) must mirror the
	// documents exactly.
	heads := make(map[uint64]*storage.DocumentRecord)
	err = ct.ForEachHead(func(label uint64, payload []byte) error {
		h, err := storage.DecodeHead(payload)
		if err != nil {
			return fmt.Errorf("label %d: %w", label, err)
		}
		heads[label] = h
		return nil
	})
	if err != nil {
		data(ProblemHead, "", "collection %q: heads: %v", name, err)
	}
	docs := 0
	var probes []probe
	labels := make(map[uint64]struct{})
	err = ct.EachDocument(func(label uint64, doc *storage.DocumentRecord, vecErr error) error {
		docs++
		labels[label] = struct{}{}
		ftCheck.add(ct, doc)
		if h, ok := heads[label]; !ok {
			data(ProblemHead, doc.Id, "collection %q: document %q (label %d) has no head", name, doc.Id, label)
		} else if !storage.HeadMatches(h, doc) {
			data(ProblemHead, doc.Id, "collection %q: document %q (label %d) has a head that differs (ID %q or metadata)", name, doc.Id, label, h.Id)
		}
		delete(heads, label)
		l, ok, err := ct.Label(doc.Id)
		switch {
		case err != nil:
			data(ProblemIDMap, doc.Id, "collection %q: document %q: %v", name, doc.Id, err)
		case !ok:
			data(ProblemIDMap, doc.Id, "collection %q: document %q (label %d) is missing from the ID map", name, doc.Id, label)
		case l != label:
			data(ProblemIDMap, doc.Id, "collection %q: document %q is stored under label %d but its ID maps to %d", name, doc.Id, label, l)
		}
		if vecErr != nil {
			data(ProblemVector, doc.Id, "collection %q: document %q (label %d): vector: %v", name, doc.Id, label, vecErr)
			return nil
		}
		if len(doc.Vector) != dim {
			data(ProblemVector, doc.Id, "collection %q: document %q has a vector of dimension %d, the collection %d", name, doc.Id, len(doc.Vector), dim)
			return nil
		}
		for i, x := range doc.Vector {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				data(ProblemVector, doc.Id, "collection %q: document %q: vector component %d is %v", name, doc.Id, i, x)
				return nil
			}
		}
		if (docs-1)%stride == 0 {
			probes = append(probes, probe{id: doc.Id, vec: append([]float32(nil), doc.Vector...)})
		}
		return nil
	})
	if err != nil {
		// ForEachDocument stops at the first record that does not decode.
		data(ProblemRecord, "", "collection %q: documents: %v", name, err)
	}
	if docs != ids {
		data(ProblemIDMap, "", "collection %q: %d documents but %d IDs", name, docs, ids)
	}
	if err == nil {
		c.vectorStore(ct, name, labels, data)
	}
	if err == nil {
		if msg := ftCheck.finish(docs); msg != "" {
			c.cachef(ProblemFullText, name, "", "collection %q: keyword index: %s; run vecbolt reindex to rebuild it", name, msg)
		}
	}
	for _, label := range slices.Sorted(maps.Keys(heads)) {
		data(ProblemHead, heads[label].Id, "collection %q: head of %q (label %d) has no document", name, heads[label].Id, label)
	}
	return docs, probes, nil
}

// vectorStore checks the collection's vector store as a whole: slabs whose
// header is damaged (each document among their labels is also reported,
// as its vector cannot be read), and vectors that belong to no document.
func (c *checker) vectorStore(ct *storage.CollectionTx, name string, docs map[uint64]struct{}, data func(kind ProblemKind, doc, format string, args ...any)) {
	err := ct.CheckVectors(func(label uint64, p *storage.VectorProblem) error {
		switch {
		case p != nil && p.Slab:
			data(ProblemVector, "", "collection %q: vector store: the slab from label %d: %v", name, label, p.Err)
		case p != nil:
			if _, ok := docs[label]; !ok {
				data(ProblemVector, "", "collection %q: vector store: label %d, which has no document: %v", name, label, p.Err)
			}
		default:
			if _, ok := docs[label]; !ok {
				data(ProblemVector, "", "collection %q: vector store holds a vector for label %d, which has no document", name, label)
			}
		}
		return nil
	})
	if err != nil {
		data(ProblemVector, "", "collection %q: vector store: %v", name, err)
	}
}
