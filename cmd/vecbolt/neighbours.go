package main

import (
	"flag"
	"fmt"
	"math"

	"github.com/vecbolt/vecbolt/db"
)

func outliersCommand() *command {
	return &command{
		name:    "outliers",
		args:    "--db FILE --collection NAME [--n N] [--k K] [--method kth|lof] [--where EXPR] [--json]",
		summary: "print the most isolated documents of a collection",
		help: `Prints the N most isolated documents, most isolated first, with their score:
higher is more isolated. Every document considered is searched for through
the collection's index for its K nearest neighbours (one search per
document, on all cores), not compared with every other.

--method kth (the default) scores the distance to the K-th nearest neighbour:
1 - cosine similarity for cosine collections, the Euclidean distance for l2,
minus the dot product for dot. --method lof scores the local outlier factor,
about 1 for ordinary documents, which compares a document's neighbourhood with
its neighbours' own (not for dot collections). --where restricts both the
documents scored and their neighbours. Read-only; no model is loaded.
`,
		flags: outliersFlags,
	}
}

// outlierJSON is one outlier in --json output.
type outlierJSON struct {
	ID    string  `json:"id"`
	Score float32 `json:"score"`
}

// neighbourFlags are the flags outliers and duplicates share.
type neighbourFlags struct {
	db    dbFlags
	coll  string
	where string
	k     int
	ef    int
	json  bool
}

func (n *neighbourFlags) register(fs *flag.FlagSet, kUsage, jsonUsage string, kDefault int) {
	n.db.register(fs, false)
	fs.StringVar(&n.coll, "collection", "", "collection `NAME`")
	fs.StringVar(&n.where, "where", "", "consider only the documents matching this filter `EXPR`")
	fs.IntVar(&n.k, "k", kDefault, kUsage)
	fs.IntVar(&n.ef, "ef", 0, "HNSW search breadth `N` of each document's search (default: the collection's)")
	fs.BoolVar(&n.json, "json", false, jsonUsage)
}

// options checks the shared flags and returns them as db options, with a
// progress line on a terminal (what the returned func ends).
func (n *neighbourFlags) options(e *env, name string, pos []string) ([]db.NeighbourOption, func(), error) {
	if n.coll == "" {
		return nil, nil, usagef("--collection NAME is required")
	}
	if len(pos) != 0 {
		return nil, nil, usagef("%s takes no arguments, got %d", name, len(pos))
	}
	if n.k < 1 {
		return nil, nil, usagef("--k %d must be at least 1", n.k)
	}
	if n.ef < 0 {
		return nil, nil, usagef("--ef %d must not be negative", n.ef)
	}
	filter, err := parseWhere(n.where)
	if err != nil {
		return nil, nil, err
	}
	opts := []db.NeighbourOption{db.Neighbours(n.k), db.NeighbourEf(n.ef)}
	if filter != nil {
		opts = append(opts, db.NeighbourWhere(filter))
	}
	var prog *progress
	if e.terminal {
		opts = append(opts, db.NeighbourProgress(func(done, total int) {
			if prog == nil {
				prog = newDocProgress(e.stderr, name, total)
			}
			prog.update(-1, done)
		}))
	}
	return opts, func() {
		if prog != nil {
			prog.finish()
		}
	}, nil
}

func outliersFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var nf neighbourFlags
	var n int
	var method string
	nf.register(fs, "score by the `K` nearest neighbours", `print one JSON array of {"id","score"}, most isolated first`, db.DefaultOutlierNeighbours)
	fs.IntVar(&n, "n", db.DefaultOutlierCount, "print the `N` most isolated documents (0: every document, ranked)")
	fs.StringVar(&method, "method", "kth", "outlier score `M`: kth (distance to the K-th neighbour) or lof (local outlier factor)")
	return func(e *env, pos []string) (err error) {
		opts, finish, err := nf.options(e, "outliers", pos)
		if err != nil {
			return err
		}
		if n < 0 {
			return usagef("--n %d must not be negative", n)
		}
		m, err := db.ParseOutlierMethod(method)
		if err != nil {
			return usagef("--method %q: want kth or lof", method)
		}
		c, done, err := e.openCollection(&nf.db, nf.coll, readDocs)
		if err != nil {
			return err
		}
		defer done(&err)
		res, err := c.Outliers(e.ctx, append(opts, db.OutlierCount(n), db.WithOutlierMethod(m))...)
		finish()
		if err != nil {
			return err
		}
		if nf.json {
			out := make([]outlierJSON, len(res))
			for i, r := range res {
				out[i] = outlierJSON{ID: r.ID, Score: r.Score}
			}
			return jsonOut(e.stdout, out)
		}
		if len(res) == 0 {
			fmt.Fprintln(e.stdout, "no outliers (fewer than two documents considered)")
		}
		for i, r := range res {
			fmt.Fprintf(e.stdout, "%2d. %.4f  %s\n", i+1, r.Score, safeName(r.ID))
		}
		return nil
	}
}

func duplicatesCommand() *command {
	return &command{
		name:    "duplicates",
		args:    "--db FILE --collection NAME [--threshold T] [--k K] [--where EXPR] [--json]",
		summary: "print the pairs of documents that are (near) duplicates",
		help: `Prints every pair of documents whose similarity is at least T, most similar
first, each pair once (A before B in ID order). Every document considered is
searched for through the collection's index for its K nearest neighbours;
while all K pass, the search widens, so a document with many copies has all
its pairs printed.

The score is the one search prints: the cosine similarity for cosine
collections (T in -1..1, default 0.92, tuned on Debian package descriptions
with a few words changed); the dot product for dot collections; minus the
Euclidean distance for l2 collections (T <= 0: -0.1 keeps pairs within
distance 0.1). Dot and l2 collections need --threshold. --where restricts both
ends of a pair. Read-only; no model is loaded.
`,
		flags: duplicatesFlags,
	}
}

// duplicateJSON is one pair in --json output.
type duplicateJSON struct {
	A     string  `json:"a"`
	B     string  `json:"b"`
	Score float32 `json:"score"`
}

func duplicatesFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var nf neighbourFlags
	var threshold float64
	var maxPairs int
	nf.register(fs, "search the `K` nearest neighbours of each document first", `print one JSON array of {"a","b","score"}, most similar first`, db.DefaultDuplicateNeighbours)
	fs.Float64Var(&threshold, "threshold", math.NaN(), fmt.Sprintf("report pairs scoring at least `T` (default %v for cosine collections; required for dot and l2)", db.DefaultDuplicateThreshold))
	fs.IntVar(&maxPairs, "max-pairs", db.DefaultDuplicateMaxPairs, "fail rather than report more than `N` pairs")
	return func(e *env, pos []string) (err error) {
		opts, finish, err := nf.options(e, "duplicates", pos)
		if err != nil {
			return err
		}
		if maxPairs < 1 {
			return usagef("--max-pairs %d must be at least 1", maxPairs)
		}
		opts = append(opts, db.DuplicateMaxPairs(maxPairs))
		given := false
		fs.Visit(func(f *flag.Flag) { given = given || f.Name == "threshold" })
		if given {
			if math.IsNaN(threshold) || math.IsInf(threshold, 0) || math.Abs(threshold) > math.MaxFloat32 {
				return usagef("--threshold %v is not a finite number", threshold)
			}
			opts = append(opts, db.DuplicateThreshold(float32(threshold)))
		}
		c, done, err := e.openCollection(&nf.db, nf.coll, readDocs)
		if err != nil {
			return err
		}
		defer done(&err)
		res, err := c.Duplicates(e.ctx, opts...)
		finish()
		if err != nil {
			return err
		}
		if nf.json {
			out := make([]duplicateJSON, len(res))
			for i, r := range res {
				out[i] = duplicateJSON{A: r.A, B: r.B, Score: r.Score}
			}
			return jsonOut(e.stdout, out)
		}
		if len(res) == 0 {
			fmt.Fprintln(e.stdout, "no duplicates")
		}
		for _, r := range res {
			fmt.Fprintf(e.stdout, "%.4f  %s  %s\n", r.Score, safeName(r.A), safeName(r.B))
		}
		return nil
	}
}
