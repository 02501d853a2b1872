package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/index"
	"github.com/vecbolt/vecbolt/storage"
)

// existing checks that a database file exists before a command that would
// otherwise create an empty one (a typo in --db should not).
func existing(path string) (os.FileInfo, error) {
	if path == "" {
		return nil, usagef("--db FILE is required")
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", path, errors.Unwrap(err))
	}
	return st, nil
}

func checkCommand() *command {
	return &command{
		name:    "check",
		args:    "--db FILE [--sample N]",
		summary: "verify a database file",
		help: `Verifies a database file, read-only:
  1. the file's page structure, walked by check's own bounds-checked reader
     (every page pointer in range, every page of the right kind, reached
     once), then bbolt's consistency check; parts of the file whose pages
     are damaged are not read any further;
  2. every stored record decodes and passes its checksum: collection
     configurations, documents, the ID → label map, index snapshots;
  3. each ID maps to a document with that ID and vice versa; vectors have
     the collection's dimension and finite components;
  4. the index agrees with the documents: each collection loads, its count
     matches the stored documents, and each document is found by a search
     for its own vector (all documents up to --sample, an even sample above);
     and each metadata field holds values of one type (a field of mixed
     types, written before vecbolt recorded field types, is a problem).
Prints each problem, then a verdict per damaged collection: "damaged data"
(documents, IDs, configuration, or the file's structure: restore from a
backup) or "damaged cache" (the index snapshot, which the intact documents
rebuild: automatically on open, or stored with 'vecbolt reindex'). The exit
status is 1 if any problem was found.

Flags:
  --db FILE            database file
  --sample N           self-search at most N documents per collection (default 20000; 0 = all)
  --lock-timeout D     wait this long for another process to release the file (default 2s)
`,
		run: runCheck,
	}
}

// checkReport collects what check finds.
type checkReport struct {
	problems    []string
	collections int
	documents   int
	searched    int
	// file is set when the file's structure outside any collection is
	// damaged; cache and data name the collections whose index cache
	// (snapshot, pending list, the loaded index) or whose data (config,
	// documents, heads, IDs) is damaged.
	file  bool
	cache map[string]bool
	data  map[string]bool
	// cachePages names the collections whose snapshot's pages (not just
	// its bytes) are damaged: rebuilt on open, but not replaceable in
	// place.
	cachePages map[string]bool
}

func (r *checkReport) addf(format string, args ...any) {
	r.problems = append(r.problems, oneLine(fmt.Sprintf(format, args...)))
}

// cachef reports damage to a collection's index cache.
func (r *checkReport) cachef(coll, format string, args ...any) {
	r.cache[coll] = true
	r.addf(format, args...)
}

// dataf reports damage to a collection's data.
func (r *checkReport) dataf(coll, format string, args ...any) {
	r.data[coll] = true
	r.addf(format, args...)
}

// maxProblemsShown bounds the output on a badly damaged file.
const maxProblemsShown = 50

func runCheck(e *env, args []string) (err error) {
	fs := newFlagSet("check")
	var f dbFlags
	var sample int
	f.register(fs, false)
	fs.IntVar(&sample, "sample", 20000, "documents to self-search per collection")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("check takes no arguments")
	}
	if sample < 0 {
		return usagef("--sample %d must not be negative", sample)
	}
	d, done, err := e.open(&f, readDocs)
	if err != nil {
		return err
	}
	defer done(&err)
	rep := checkDB(e.ctx, d, sample)
	if err := e.ctx.Err(); err != nil {
		return err
	}
	size, _ := d.FileSize()
	for i, p := range rep.problems {
		if i == maxProblemsShown {
			fmt.Fprintf(e.stdout, "... and %d more problems\n", len(rep.problems)-i)
			break
		}
		fmt.Fprintf(e.stdout, "problem: %s\n", p)
	}
	rep.verdict(e.stdout, f.path)
	fmt.Fprintf(e.stdout, "%s: %d collections, %d documents, %d self-searches, %s\n",
		filepath.Base(f.path), rep.collections, rep.documents, rep.searched, humanBytes(size))
	if len(rep.problems) > 0 {
		return fmt.Errorf("check failed: %d problems in %s", len(rep.problems), f.path)
	}
	fmt.Fprintln(e.stdout, "ok")
	return nil
}

// verdict tells damaged data, which only a backup restores, from a damaged
// index cache, which the documents rebuild.
func (r *checkReport) verdict(w io.Writer, path string) {
	if r.file {
		fmt.Fprintln(w, "damaged data: the file's structure outside any collection is damaged; restore the file from a backup")
	}
	for _, name := range slices.Sorted(maps.Keys(r.data)) {
		fmt.Fprintf(w, "damaged data: collection %q (documents, IDs or configuration); restore it from a backup\n", name)
	}
	for _, name := range slices.Sorted(maps.Keys(r.cache)) {
		if r.data[name] {
			continue
		}
		if r.cachePages[name] {
			fmt.Fprintf(w, "damaged cache: collection %q: the pages of its index snapshot are damaged; its documents are intact and it opens by rebuilding its index from them, but a writer that meets those pages refuses to write; restore the file from a backup to write to it again\n", name)
			continue
		}
		fmt.Fprintf(w, "damaged cache: collection %q: its index snapshot, a copy of what its documents hold, which are intact; it is rebuilt automatically on open, and 'vecbolt reindex --db %s --collection %s' stores a good one\n", name, path, name)
	}
}

// checkDB runs every check on an open database and returns what it found.
func checkDB(ctx context.Context, d *db.DB, sample int) *checkReport {
	rep := &checkReport{cache: map[string]bool{}, data: map[string]bool{}, cachePages: map[string]bool{}}
	// 1. The page structure, walked by our own bounds-checked reader: bbolt
	// follows damaged pointers blindly (see storage/pages.go). skip holds the
	// collections whose pages are not all sound: nothing reads them
	// through bbolt.
	skip := map[string]bool{}
	probs, err := d.Storage().CheckPages()
	if err != nil {
		rep.file = true
		rep.addf("cannot read the file: %v", err)
		return rep
	}
	for _, p := range probs {
		rep.addf("%s", p)
		if len(p.Path) < 2 || p.Path[0] != "collections" {
			rep.file = true
			continue
		}
		name := p.Path[1]
		skip[name] = true
		if len(p.Path) >= 3 && (p.Path[2] == "snapshot" || p.Path[2] == "pending") {
			rep.cache[name] = true
			rep.cachePages[name] = true
		} else {
			rep.data[name] = true
		}
	}
	if rep.file {
		// The collections cannot be listed safely.
		return rep
	}
	if len(probs) == 0 {
		// bbolt's own check: the freelist and unreachable pages, key order.
		// It walks pages on a goroutine of its own that nothing could guard,
		// which is safe only because the walk found every pointer sound.
		err := d.Storage().Bolt().View(func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				rep.file = true
				rep.addf("bbolt: %v", err)
			}
			return nil
		})
		if err != nil {
			rep.file = true
			rep.addf("bbolt: %v", err)
		}
	}
	// 2–3. records and the ID ↔ document maps.
	type coll struct {
		name  string
		count int
		// probes are the (ID, vector) pairs to self-search.
		probes []probe
	}
	var colls []coll
	err = d.Storage().View(func(tx *storage.Tx) error {
		names, err := tx.CollectionNames()
		if err != nil {
			return err
		}
		for _, name := range names {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if rep.data[name] {
				rep.addf("collection %q: records not checked, its pages are damaged", name)
				continue
			}
			// With only the snapshot's pages damaged, the data's records
			// are checked, but the collection is not loaded: loading reads
			// the snapshot through bbolt.
			c, probes, err := checkCollectionRecords(tx, name, sample, !skip[name], rep)
			if err != nil {
				rep.dataf(name, "collection %q: %v", name, err)
				continue
			}
			if skip[name] {
				rep.documents += c
				continue
			}
			colls = append(colls, coll{name: name, count: c, probes: probes})
		}
		return nil
	})
	if err != nil {
		rep.file = true
		rep.addf("%v", err)
	}
	rep.collections = len(colls) + len(skip)
	// 4. the index against the documents.
	for _, c := range colls {
		rep.documents += c.count
		if ctx.Err() != nil {
			return rep
		}
		col, err := d.Collection(ctx, c.name)
		if err != nil {
			rep.dataf(c.name, "collection %q does not load: %v", c.name, err)
			continue
		}
		if s := col.Info().IndexRebuilt; s != "" && !rep.cache[c.name] {
			// The snapshot read back whole but disagrees with the
			// documents (reported above otherwise).
			rep.cachef(c.name, "collection %q: %s", c.name, s)
		}
		n, err := col.Count(ctx, nil)
		if err != nil {
			rep.dataf(c.name, "collection %q: %v", c.name, err)
			continue
		}
		if n != c.count {
			rep.dataf(c.name, "collection %q: %d documents loaded, %d stored", c.name, n, c.count)
		}
		// Not damage, and no verdict: documents written before field types
		// were recorded, which filters cannot compare (see db.TypeMixed).
		fields := col.Info().Fields
		for _, name := range slices.Sorted(maps.Keys(fields)) {
			if fields[name] == db.TypeMixed {
				rep.addf("collection %q: metadata field %q holds values of several types; filters can only test EXISTS on it until its odd documents are replaced or deleted (or the collection is exported and imported into a new one)", c.name, name)
			}
		}
		metric := col.Info().Metric
		for _, p := range c.probes {
			if ctx.Err() != nil {
				return rep
			}
			rep.searched++
			if msg := selfSearch(ctx, col, metric, p); msg != "" {
				// The index is built from the documents, which passed.
				rep.cachef(c.name, "collection %q: document %q %s", c.name, p.id, msg)
			}
		}
	}
	return rep
}

type probe struct {
	id  string
	vec []float32
}

// selfSearch checks that a document is found by its own vector; it returns
// a description of the problem, or "". Documents with identical vectors
// tie, and any of them may come first, so the search widens while every
// result ties with the document's own score.
func selfSearch(ctx context.Context, c *db.Collection, m db.Metric, p probe) string {
	var self float64
	switch m {
	case db.Dot:
		for _, x := range p.vec {
			self += float64(x) * float64(x)
		}
	case db.L2:
		self = 0
	default:
		self = 1
	}
	eps := 1e-3 * math.Max(1, math.Abs(self))
	for k := 10; ; k *= 10 {
		res, err := c.SearchVector(ctx, p.vec, db.TopK(k), db.WithFields(), db.WithEf(max(k, 256)))
		if err != nil {
			return fmt.Sprintf("cannot be searched: %v", err)
		}
		if len(res) == 0 {
			return "is not found by its own vector: the search returned nothing"
		}
		if float64(res[0].Score) < self-eps {
			return fmt.Sprintf("is not found by its own vector: best score %.5f, its own %.5f", res[0].Score, self)
		}
		if m == db.Dot {
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

// checkCollectionRecords decodes every record of one collection, checks
// the ID ↔ label maps and the vectors, and picks the documents to
// self-search. It returns the number of documents.
func checkCollectionRecords(tx *storage.Tx, name string, sample int, readCache bool, rep *checkReport) (int, []probe, error) {
	c, err := tx.Collection(name)
	if err != nil {
		return 0, nil, err
	}
	cfg, err := c.Config()
	if err != nil {
		return 0, nil, err
	}
	dim := int(cfg.Dimension)
	if cfg.Name != name {
		rep.dataf(name, "collection %q: configuration names %q", name, cfg.Name)
	}
	if _, err := index.ParseMetric(cfg.Metric); err != nil {
		rep.dataf(name, "collection %q: %v", name, err)
	}
	if readCache {
		if _, r, ok, err := c.Snapshot(); err != nil {
			rep.cachef(name, "collection %q: index snapshot: %v", name, err)
		} else if ok {
			// Reading it through verifies the chunks are all there.
			if _, err := io.Copy(io.Discard, r); err != nil {
				rep.cachef(name, "collection %q: index snapshot: %v", name, err)
			}
		}
		if _, err := c.Pending(); err != nil {
			rep.cachef(name, "collection %q: %v", name, err)
		}
	}
	// Everything below is data.
	before := len(rep.problems)
	defer func() {
		if len(rep.problems) > before {
			rep.data[name] = true
		}
	}()
	ids := 0
	err = c.ForEachID(func(idb []byte, label uint64) error {
		id := string(idb)
		ids++
		doc, ok, err := c.Document(label)
		switch {
		case err != nil:
			rep.addf("collection %q: ID %q: %v", name, id, err)
		case !ok:
			rep.addf("collection %q: ID %q maps to label %d, which holds no document", name, id, label)
		case doc.Id != id:
			rep.addf("collection %q: ID %q maps to label %d, which holds document %q", name, id, label, doc.Id)
		}
		return nil
	})
	if err != nil {
		rep.addf("collection %q: ID map: %v", name, err)
	}
	total := c.Count()
	stride := 1
	if sample > 0 && total > sample {
		stride = (total + sample - 1) / sample
	}
	// Heads (ID and metadata kept apart for a fast open) must mirror the
	// documents exactly.
	heads := make(map[uint64]*storage.DocumentRecord)
	err = c.ForEachHead(func(label uint64, payload []byte) error {
		h, err := storage.DecodeHead(payload)
		if err != nil {
			return fmt.Errorf("label %d: %w", label, err)
		}
		heads[label] = h
		return nil
	})
	if err != nil {
		rep.addf("collection %q: heads: %v", name, err)
	}
	docs := 0
	var probes []probe
	err = c.ForEachDocument(func(label uint64, doc *storage.DocumentRecord) error {
		docs++
		if h, ok := heads[label]; !ok {
			rep.addf("collection %q: document %q (label %d) has no head", name, doc.Id, label)
		} else if h.Id != doc.Id || !proto.Equal(&storage.DocumentRecord{Metadata: h.Metadata}, &storage.DocumentRecord{Metadata: doc.Metadata}) {
			rep.addf("collection %q: document %q (label %d) has a head that differs (ID %q or metadata)", name, doc.Id, label, h.Id)
		}
		delete(heads, label)
		l, ok, err := c.Label(doc.Id)
		switch {
		case err != nil:
			rep.addf("collection %q: document %q: %v", name, doc.Id, err)
		case !ok:
			rep.addf("collection %q: document %q (label %d) is missing from the ID map", name, doc.Id, label)
		case l != label:
			rep.addf("collection %q: document %q is stored under label %d but its ID maps to %d", name, doc.Id, label, l)
		}
		if len(doc.Vector) != dim {
			rep.addf("collection %q: document %q has a vector of dimension %d, the collection %d", name, doc.Id, len(doc.Vector), dim)
			return nil
		}
		for i, x := range doc.Vector {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				rep.addf("collection %q: document %q: vector component %d is %v", name, doc.Id, i, x)
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
		rep.addf("collection %q: documents: %v", name, err)
	}
	if docs != ids {
		rep.addf("collection %q: %d documents but %d IDs", name, docs, ids)
	}
	for _, label := range slices.Sorted(maps.Keys(heads)) {
		rep.addf("collection %q: head of %q (label %d) has no document", name, heads[label].Id, label)
	}
	return docs, probes, nil
}
