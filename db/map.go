package db

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/vecbolt/vecbolt/analysis"
	"github.com/vecbolt/vecbolt/query"
)

// MapOption configures Collection.Map.
type MapOption func(*mapOptions)

type mapOptions struct {
	filter    query.Filter
	where     string
	colorBy   string
	byCluster bool
	k         int
	seed      uint64
	neighbors bool
}

// MapWhere maps only the documents whose metadata matches f.
func MapWhere(f query.Filter) MapOption { return func(o *mapOptions) { o.filter = f } }

// MapWhereExpr is MapWhere with a filter in the text syntax of query.Parse.
func MapWhereExpr(expr string) MapOption { return func(o *mapOptions) { o.where = expr } }

// MapColorBy groups the points by the value of a metadata field (lists of
// strings joined with ", "; documents without the field form the group
// "(none)").
func MapColorBy(field string) MapOption {
	return func(o *mapOptions) { o.colorBy, o.byCluster = field, false }
}

// MapColorByCluster groups the points by Collection.Cluster with k clusters
// (0: chosen automatically); each group is named by its cluster ID and its
// three most characteristic terms.
func MapColorByCluster(k int) MapOption {
	return func(o *mapOptions) { o.byCluster, o.k, o.colorBy = true, k, "" }
}

// MapNeighbors projects with analysis.NeighborLayout instead of PCA: each
// document's 15 nearest neighbours are kept near it, so groups that PCA's
// two axes overlay stay apart (distances between far groups mean little).
// It takes at most analysis.MaxLayoutRows documents.
func MapNeighbors() MapOption { return func(o *mapOptions) { o.neighbors = true } }

// MapSeed fixes the projection's sample and the clustering (default 1).
func MapSeed(seed uint64) MapOption { return func(o *mapOptions) { o.seed = seed } }

// MapPoint is one document on the map.
type MapPoint struct {
	ID   string
	X, Y float64
	// Group is the colour group ("" when the map is not coloured).
	Group string
}

// MapResult is a two-dimensional picture of a collection.
type MapResult struct {
	// Projection is "pca" or "neighbors" (MapNeighbors).
	Projection string
	// Points are in document ID order.
	Points []MapPoint
	// Groups lists the distinct groups by decreasing size (ties by name).
	Groups []string
	// Variance is the variance of the vectors along each axis; Total is
	// their total variance (the sum over all dimensions), so
	// Variance[0]/Total is the share the first axis shows. Both are 0 for
	// the neighbour layout, whose axes are not directions of the vectors.
	Variance [2]float64
	Total    float64
}

// Map projects the documents' vectors (or those matching MapWhere) onto
// their first two principal components (analysis.PCA, fitted on up to
// 20,000 of them; Cosine collections' vectors are normalized first, as the
// index compares them), or with MapNeighbors lays them out so that
// neighbours stay together, and groups the points for colouring. Draw the
// result with package viz. Fewer than two documents, or a filter matching
// fewer, is an error wrapping ErrInvalidArgument.
func (c *Collection) Map(ctx context.Context, opts ...MapOption) (*MapResult, error) {
	o := mapOptions{seed: 1}
	for _, opt := range opts {
		opt(&o)
	}
	if o.k < 0 {
		return nil, fmt.Errorf("%w: k %d is negative", ErrInvalidArgument, o.k)
	}
	var extra Field
	if o.colorBy != "" {
		extra = FieldMetadata
	}
	rows, err := c.loadRows(ctx, o.filter, o.where, extra)
	if err != nil {
		return nil, err
	}
	n := len(rows.ids)
	if n < 2 {
		return nil, fmt.Errorf("%w: a map needs at least 2 documents, got %d", ErrInvalidArgument, n)
	}
	data := rows.data
	if c.Info().Metric == Cosine {
		data = slices.Clone(data)
		for i := range n {
			normalizeRow(data[i*rows.dim : (i+1)*rows.dim])
		}
	}
	res := &MapResult{Points: make([]MapPoint, n), Projection: "pca"}
	if o.neighbors {
		res.Projection = "neighbors"
		y, err := analysis.NeighborLayout(ctx, rows.data, rows.dim, c.Info().Metric == Cosine, o.seed)
		if err != nil {
			return nil, clusterError(err)
		}
		for i, id := range rows.ids {
			res.Points[i] = MapPoint{ID: id, X: y[i][0], Y: y[i][1]}
		}
	} else {
		pca, err := analysis.PCA(ctx, data, rows.dim, min(2, rows.dim), o.seed)
		if err != nil {
			return nil, clusterError(err)
		}
		xy, err := pca.Project(data)
		if err != nil {
			return nil, clusterError(err)
		}
		copy(res.Variance[:], pca.Variance)
		res.Total = totalVariance(data, rows.dim)
		for i, id := range rows.ids {
			p := MapPoint{ID: id, X: xy[i][0]}
			if len(xy[i]) > 1 {
				p.Y = xy[i][1]
			}
			res.Points[i] = p
		}
	}
	switch {
	case o.byCluster:
		copts := []ClusterOption{ClusterK(o.k), ClusterSeed(o.seed), ClusterTopTerms(3), ClusterRepresentatives(0)}
		if o.filter != nil {
			copts = append(copts, ClusterWhere(o.filter))
		}
		if o.where != "" {
			copts = append(copts, ClusterWhereExpr(o.where))
		}
		cr, err := c.Cluster(ctx, copts...)
		if err != nil {
			return nil, err
		}
		group := map[string]string{}
		for _, cl := range cr.Clusters {
			name := fmt.Sprintf("%d", cl.ID)
			if len(cl.Terms) > 0 {
				name += ": " + strings.Join(cl.Terms, " ")
			}
			for _, id := range cl.Members {
				group[id] = name
			}
		}
		for i := range res.Points {
			res.Points[i].Group = group[res.Points[i].ID]
		}
	case o.colorBy != "":
		for i := range res.Points {
			res.Points[i].Group = groupName(rows.meta[i][o.colorBy])
		}
	}
	count := map[string]int{}
	for _, p := range res.Points {
		count[p.Group]++
	}
	for g := range count {
		res.Groups = append(res.Groups, g)
	}
	slices.SortFunc(res.Groups, func(a, b string) int {
		if c := cmp.Compare(count[b], count[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return res, nil
}

// groupName is a metadata value's name as a colour group.
func groupName(v any) string {
	switch x := v.(type) {
	case nil:
		return "(none)"
	case []string:
		return strings.Join(x, ", ")
	}
	return fmt.Sprint(v)
}

func normalizeRow(r []float32) {
	var s float64
	for _, v := range r {
		s += float64(v) * float64(v)
	}
	if s > 0 {
		inv := 1 / math.Sqrt(s)
		for j := range r {
			r[j] = float32(float64(r[j]) * inv)
		}
	}
}

// totalVariance is the sum over dimensions of the rows' variance.
func totalVariance(data []float32, dim int) float64 {
	n := len(data) / dim
	mean := make([]float64, dim)
	for i := range n {
		for j, v := range data[i*dim : (i+1)*dim] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	var t float64
	for i := range n {
		for j, v := range data[i*dim : (i+1)*dim] {
			d := float64(v) - mean[j]
			t += d * d
		}
	}
	return t / float64(n)
}
