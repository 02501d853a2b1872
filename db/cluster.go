package db

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"unicode/utf8"

	"github.com/vecbolt/vecbolt/analysis"
	"github.com/vecbolt/vecbolt/query"
)

// ClusterOption configures Collection.Cluster.
type ClusterOption func(*clusterOptions)

type clusterOptions struct {
	k          int
	minK, maxK int
	filter     query.Filter
	where      string
	seed       uint64
	reps       int
	terms      int
	labelField string
	threads    int
	progress   func(analysis.KMeansProgress)
}

// ClusterK sets the number of clusters. Without it (or with 0) Cluster
// chooses k by the mean silhouette (analysis.ChooseK) between the bounds of
// ClusterAutoK.
func ClusterK(k int) ClusterOption { return func(o *clusterOptions) { o.k = k } }

// ClusterAutoK bounds the automatic choice of k (default 2 to
// analysis.DefaultMaxK).
func ClusterAutoK(minK, maxK int) ClusterOption {
	return func(o *clusterOptions) { o.minK, o.maxK = minK, maxK }
}

// ClusterWhere clusters only the documents whose metadata matches f.
func ClusterWhere(f query.Filter) ClusterOption { return func(o *clusterOptions) { o.filter = f } }

// ClusterWhereExpr is ClusterWhere with a filter in the text syntax of
// query.Parse.
func ClusterWhereExpr(expr string) ClusterOption { return func(o *clusterOptions) { o.where = expr } }

// ClusterSeed fixes the random choices (default 1): the same seed over the
// same documents gives the same clusters.
func ClusterSeed(seed uint64) ClusterOption { return func(o *clusterOptions) { o.seed = seed } }

// ClusterRepresentatives sets how many documents nearest each centre are
// listed (default 5).
func ClusterRepresentatives(n int) ClusterOption { return func(o *clusterOptions) { o.reps = n } }

// ClusterTopTerms sets how many characteristic terms each cluster lists
// (default 10; 0 for none).
func ClusterTopTerms(n int) ClusterOption { return func(o *clusterOptions) { o.terms = n } }

// ClusterLabelField makes Cluster write each document's cluster ID into the
// metadata field name, as a number, through the ordinary write path
// (Upsert, in batches; see Cluster).
func ClusterLabelField(name string) ClusterOption {
	return func(o *clusterOptions) { o.labelField = name }
}

// ClusterThreads sets the goroutines k-means uses (default GOMAXPROCS);
// the clusters do not depend on it.
func ClusterThreads(n int) ClusterOption { return func(o *clusterOptions) { o.threads = n } }

// ClusterProgress receives k-means' progress reports (seeding, each
// iteration or mini-batch step).
func ClusterProgress(fn func(analysis.KMeansProgress)) ClusterOption {
	return func(o *clusterOptions) { o.progress = fn }
}

// Cluster is one group of a ClusterResult.
type Cluster struct {
	// ID numbers the clusters 0..K-1 by decreasing size (ties: by smallest
	// member ID).
	ID   int
	Size int
	// Members lists the documents' IDs in ID order.
	Members []string
	// Representatives are the members nearest the cluster's centre,
	// nearest first.
	Representatives []string
	// Terms are the words that set the members' texts apart from the other
	// clusters' (analysis.ClusterTerms: class-based TF-IDF), most
	// characteristic first; empty when the documents have no text.
	Terms []string
	// Centroid is the cluster's centre (unit length under Cosine).
	Centroid []float32
}

// ClusterResult is the outcome of Collection.Cluster.
type ClusterResult struct {
	Clusters []Cluster
	// Spherical reports cosine (spherical) k-means; otherwise Euclidean.
	Spherical bool
	// Objective is the sum of the documents' distances to their centres
	// (1 - cos under Cosine, squared Euclidean otherwise).
	Objective  float64
	Iterations int
	Converged  bool
	MiniBatch  bool
	// KScores lists the mean silhouette of every k tried when k was chosen
	// automatically (nil when ClusterK was given).
	KScores []analysis.KScore
	// Labelled counts the documents whose label field was written.
	Labelled int
}

// labelBatch is how many documents one labelling Upsert writes.
const labelBatch = 256

// Cluster groups the collection's documents (or those matching
// ClusterWhere) by k-means over their stored vectors: spherical k-means for
// Cosine collections; Euclidean k-means for L2 and for Dot collections,
// where the largest inner product with a centre would not define clusters
// that a mean improves (see analysis.KMeans). Seeding is k-means++ with a
// fixed seed; above analysis.DefaultMiniBatchAbove documents it runs
// mini-batches. The result lists, per cluster, its members, the members
// nearest its centre and the terms that characterize its texts.
//
// The vectors are read as Scan reads them (pages of 256 documents, each a
// snapshot), so writes during the call are seen as Scan describes.
//
// A k below 1 or above the number of documents, a collection with no
// documents, or a filter matching none is an error wrapping
// ErrInvalidArgument, and nothing is written.
//
// With ClusterLabelField, each clustered document is then written back
// with its cluster ID (a number) in that field, in batches of 256 Upserts
// of the document as stored (re-read just before each batch, so a
// concurrent edit of the text or other fields is kept, unless it lands
// between that read and the batch's write); a document deleted meanwhile
// is skipped. The field must be absent or numeric in the collection (it is
// checked before anything is written); each batch is durable when its
// Upsert returns, and an error part-way leaves the earlier batches
// labelled.
func (c *Collection) Cluster(ctx context.Context, opts ...ClusterOption) (*ClusterResult, error) {
	o := clusterOptions{seed: 1, reps: 5, terms: 10, minK: 2, maxK: analysis.DefaultMaxK}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case o.k < 0:
		return nil, fmt.Errorf("%w: k %d: want at least 1 (or 0 to choose it)", ErrInvalidArgument, o.k)
	case o.k == 0 && (o.minK < 2 || o.maxK < o.minK):
		return nil, fmt.Errorf("%w: automatic k range [%d, %d]: want 2 <= min <= max", ErrInvalidArgument, o.minK, o.maxK)
	case o.reps < 0:
		return nil, fmt.Errorf("%w: representatives %d is negative", ErrInvalidArgument, o.reps)
	case o.terms < 0:
		return nil, fmt.Errorf("%w: terms %d is negative", ErrInvalidArgument, o.terms)
	case o.threads < 0:
		return nil, fmt.Errorf("%w: threads %d is negative", ErrInvalidArgument, o.threads)
	}
	if o.labelField != "" {
		if err := c.checkLabelField(o.labelField); err != nil {
			return nil, err
		}
	}
	rows, err := c.loadRows(ctx, o.filter, o.where, FieldText)
	if err != nil {
		return nil, err
	}
	n := len(rows.ids)
	if o.k > n {
		return nil, fmt.Errorf("%w: k %d exceeds the %d documents to cluster", ErrInvalidArgument, o.k, n)
	}
	info := c.Info()
	spherical := info.Metric == Cosine
	kopts := []analysis.KMeansOption{analysis.WithSeed(o.seed)}
	if spherical {
		kopts = append(kopts, analysis.Spherical())
	}
	if o.threads > 0 {
		kopts = append(kopts, analysis.WithThreads(o.threads))
	}
	res := &ClusterResult{Spherical: spherical}
	k := o.k
	if k == 0 {
		if n < 3 {
			return nil, fmt.Errorf("%w: %d documents are too few to choose k; give k", ErrInvalidArgument, n)
		}
		if k, res.KScores, err = analysis.ChooseK(ctx, rows.data, rows.dim, o.minK, o.maxK, kopts...); err != nil {
			return nil, clusterError(err)
		}
	}
	if o.progress != nil {
		kopts = append(kopts, analysis.WithProgress(o.progress))
	}
	km, err := analysis.KMeans(ctx, rows.data, rows.dim, k, kopts...)
	if err != nil {
		return nil, clusterError(err)
	}
	res.Objective, res.Iterations, res.Converged, res.MiniBatch = km.Objective, km.Iterations, km.Converged, km.MiniBatch
	res.Clusters = buildClusters(km, rows, o)
	if o.labelField != "" {
		if res.Labelled, err = c.writeLabels(ctx, o.labelField, res.Clusters); err != nil {
			return res, err
		}
	}
	return res, nil
}

func clusterError(err error) error {
	if errors.Is(err, analysis.ErrInvalidInput) {
		return fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	return err
}

// buildClusters renumbers k-means' clusters by size and fills in members,
// representatives and terms.
func buildClusters(km *analysis.KMeansResult, rows *loadedRows, o clusterOptions) []Cluster {
	members := make([][]int, km.K)
	for i, c := range km.Assign {
		members[c] = append(members[c], i)
	}
	order := make([]int, km.K)
	for c := range order {
		order[c] = c
	}
	// Rows come in ID order, so a cluster's first row holds its smallest ID.
	slices.SortStableFunc(order, func(a, b int) int {
		if c := cmp.Compare(len(members[b]), len(members[a])); c != 0 {
			return c
		}
		return cmp.Compare(members[a][0], members[b][0])
	})
	newID := make([]int, km.K)
	for id, c := range order {
		newID[c] = id
	}
	var terms [][]string
	if o.terms > 0 && rows.hasText {
		labels := make([]int, len(km.Assign))
		for i, c := range km.Assign {
			labels[i] = newID[c]
		}
		terms = analysis.ClusterTerms(rows.texts, labels, km.K, o.terms)
	}
	out := make([]Cluster, km.K)
	for id, c := range order {
		m := members[c]
		cl := Cluster{ID: id, Size: len(m), Members: make([]string, len(m)), Terms: []string{},
			Centroid: slices.Clone(km.Centroids[c*km.Dim : (c+1)*km.Dim])}
		for j, r := range m {
			cl.Members[j] = rows.ids[r]
		}
		near := slices.Clone(m)
		slices.SortStableFunc(near, func(a, b int) int { return cmp.Compare(km.Distance[a], km.Distance[b]) })
		cl.Representatives = make([]string, 0, min(o.reps, len(near)))
		for _, r := range near[:min(o.reps, len(near))] {
			cl.Representatives = append(cl.Representatives, rows.ids[r])
		}
		if terms != nil {
			cl.Terms = terms[id]
		}
		out[id] = cl
	}
	return out
}

// checkLabelField refuses a label field that could not hold a number.
func (c *Collection) checkLabelField(name string) error {
	switch {
	case len(name) > maxMetadataKeyLen:
		return fmt.Errorf("%w: label field name of %d bytes exceeds %d", ErrInvalidArgument, len(name), maxMetadataKeyLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: label field name is not valid UTF-8", ErrInvalidArgument)
	}
	if _, _, err := convertMetadata(map[string]any{name: int64(0)}); err != nil {
		return fmt.Errorf("%w: label field %q: %w", ErrInvalidArgument, short(name), err)
	}
	if t, ok := c.Info().Fields[name]; ok && t != TypeNumber {
		return fmt.Errorf("%w: label field %q holds %s values in collection %q; cluster IDs are numbers", ErrInvalidArgument, short(name), t, c.name)
	}
	return nil
}

// writeLabels upserts every member with its cluster ID in field.
func (c *Collection) writeLabels(ctx context.Context, field string, clusters []Cluster) (int, error) {
	label := map[string]int{}
	var ids []string
	for _, cl := range clusters {
		for _, id := range cl.Members {
			label[id] = cl.ID
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	written := 0
	for start := 0; start < len(ids); start += labelBatch {
		part := ids[start:min(len(ids), start+labelBatch)]
		docs, err := c.GetFields(ctx, FieldText|FieldMetadata|FieldVector, part...)
		var nf *NotFoundError
		if err != nil && !errors.As(err, &nf) {
			return written, fmt.Errorf("vecbolt: cluster labels: %w", err)
		}
		for i := range docs {
			md := maps.Clone(docs[i].Metadata)
			if md == nil {
				md = map[string]any{}
			}
			md[field] = int64(label[docs[i].ID])
			docs[i].Metadata = md
		}
		if len(docs) == 0 {
			continue
		}
		if _, err := c.Upsert(ctx, docs...); err != nil {
			return written, fmt.Errorf("vecbolt: cluster labels: %w", err)
		}
		written += len(docs)
	}
	return written, nil
}

// loadedRows are the vectors (and optionally texts and metadata) of the
// documents an analysis runs over, in ID order.
type loadedRows struct {
	ids     []string
	texts   []string
	meta    []map[string]any
	hasText bool
	dim     int
	data    []float32
}

// loadRows reads the vectors of the documents matching the filter (all
// when none), with the extra fields asked for. It fails with
// ErrInvalidArgument when no document matches.
func (c *Collection) loadRows(ctx context.Context, f query.Filter, where string, extra Field) (*loadedRows, error) {
	info := c.Info()
	out := &loadedRows{dim: info.Dimension}
	opts := []ScanOption{ScanFields(FieldVector | extra)}
	if f != nil {
		opts = append(opts, ScanWhere(f))
	}
	if where != "" {
		opts = append(opts, ScanWhereExpr(where))
	}
	for d, err := range c.Scan(ctx, opts...) {
		if err != nil {
			return nil, err
		}
		if len(d.Vector) != out.dim {
			return nil, fmt.Errorf("%w: document %q has a vector of %d values in a collection of dimension %d", ErrCorrupt, short(d.ID), len(d.Vector), out.dim)
		}
		out.ids = append(out.ids, d.ID)
		out.data = append(out.data, d.Vector...)
		if extra&FieldText != 0 {
			out.texts = append(out.texts, d.Text)
			out.hasText = out.hasText || d.Text != ""
		}
		if extra&FieldMetadata != 0 {
			out.meta = append(out.meta, d.Metadata)
		}
	}
	if len(out.ids) == 0 {
		if f != nil || where != "" {
			return nil, fmt.Errorf("%w: the filter matches no documents of collection %q", ErrInvalidArgument, c.name)
		}
		return nil, fmt.Errorf("%w: collection %q has no documents", ErrInvalidArgument, c.name)
	}
	return out, nil
}
