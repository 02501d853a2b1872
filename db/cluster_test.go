package db

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/query"
)

// blobWords names each blob's topic; its documents' texts use its words.
var blobWords = [][]string{
	{"python", "library", "module"},
	{"font", "glyph", "typeface"},
	{"kernel", "driver", "firmware"},
	{"game", "puzzle", "arcade"},
}

// blobCollection fills a collection of 8-dimensional vectors with k
// well-separated blobs of size each: document "b<blob>-<i>" lies near
// 10·e_blob (plus 1 in the last dimension, so no vector is zero), has text
// made of its blob's words and metadata "blob" and "n".
func blobCollection(t *testing.T, d *DB, name string, m Metric, k, size int) *Collection {
	t.Helper()
	c := mustCollection(t, d, name, WithDimension(8), WithMetric(m), WithFlatIndex())
	rng := rand.New(rand.NewPCG(3, 4))
	var docs []Document
	for b := range k {
		for i := range size {
			v := make([]float32, 8)
			for j := range v {
				v[j] = float32(0.05 * rng.NormFloat64())
			}
			v[b] += 10
			v[7] += 1
			w := blobWords[b]
			docs = append(docs, Document{ID: fmt.Sprintf("b%d-%02d", b, i), Vector: v,
				Text:     fmt.Sprintf("a %s %s for the %s", w[0], w[1+i%2], w[0]),
				Metadata: map[string]any{"blob": fmt.Sprint(b), "n": i}})
		}
	}
	if _, err := c.Insert(bg, docs...); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClusterFindsBlobs(t *testing.T) {
	d, _ := openTest(t, WithEmbedder(nil))
	for _, m := range []Metric{Cosine, L2, Dot} {
		c := blobCollection(t, d, "c"+m.String(), m, 4, 20)
		res, err := c.Cluster(bg, ClusterK(4), ClusterRepresentatives(3), ClusterTopTerms(2))
		if err != nil {
			t.Fatal(err)
		}
		if res.Spherical != (m == Cosine) {
			t.Errorf("%v: spherical %v", m, res.Spherical)
		}
		if len(res.Clusters) != 4 {
			t.Fatalf("%v: %d clusters", m, len(res.Clusters))
		}
		seen := map[string]bool{}
		for i, cl := range res.Clusters {
			if cl.ID != i || cl.Size != 20 || len(cl.Members) != 20 {
				t.Fatalf("%v: cluster %d: id %d size %d", m, i, cl.ID, cl.Size)
			}
			blob, _, _ := strings.Cut(cl.Members[0], "-")
			for _, id := range cl.Members {
				if !strings.HasPrefix(id, blob+"-") {
					t.Fatalf("%v: cluster %d mixes %s and %s", m, i, cl.Members[0], id)
				}
			}
			if !slices.IsSorted(cl.Members) {
				t.Errorf("%v: members not in ID order", m)
			}
			if seen[blob] {
				t.Fatalf("%v: blob %s split", m, blob)
			}
			seen[blob] = true
			if len(cl.Representatives) != 3 {
				t.Errorf("%v: %d representatives", m, len(cl.Representatives))
			}
			for _, r := range cl.Representatives {
				if !slices.Contains(cl.Members, r) {
					t.Errorf("%v: representative %s is not a member", m, r)
				}
			}
			b := int(blob[1] - '0')
			if len(cl.Terms) != 2 || cl.Terms[0] != blobWords[b][0] {
				t.Errorf("%v: blob %d terms %q, want %q first", m, b, cl.Terms, blobWords[b][0])
			}
		}
		again, err := c.Cluster(bg, ClusterK(4), ClusterRepresentatives(3), ClusterTopTerms(2), ClusterThreads(1))
		if err != nil {
			t.Fatal(err)
		}
		for i := range res.Clusters {
			if !slices.Equal(res.Clusters[i].Members, again.Clusters[i].Members) || !slices.Equal(res.Clusters[i].Centroid, again.Clusters[i].Centroid) {
				t.Fatalf("%v: a second run gave other clusters", m)
			}
		}
	}
}

func TestClusterWhereAndAutoK(t *testing.T) {
	d, _ := openTest(t, WithEmbedder(nil))
	c := blobCollection(t, d, "c", Cosine, 4, 20)
	res, err := c.Cluster(bg, ClusterWhereExpr(`blob IN ["1", "2", "3"]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Clusters) != 3 || res.KScores == nil {
		t.Fatalf("automatic k chose %d clusters (scores %v), want 3", len(res.Clusters), res.KScores)
	}
	for _, cl := range res.Clusters {
		if strings.HasPrefix(cl.Members[0], "b0-") {
			t.Fatal("the filter let blob 0 in")
		}
	}
}

func TestClusterLabelField(t *testing.T) {
	d, path := openTest(t, WithEmbedder(nil))
	c := blobCollection(t, d, "c", L2, 3, 10)
	res, err := c.Cluster(bg, ClusterK(3), ClusterLabelField("topic"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Labelled != 30 {
		t.Fatalf("labelled %d documents, want 30", res.Labelled)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2, err := Open(path, WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	c2, err := d2.Collection(bg, "c")
	if err != nil {
		t.Fatal(err)
	}
	if got := c2.Info().Fields["topic"]; got != TypeNumber {
		t.Fatalf("field type %q, want number", got)
	}
	for _, cl := range res.Clusters {
		n, err := c2.Count(bg, mustParse(t, fmt.Sprintf("topic = %d", cl.ID)))
		if err != nil || n != cl.Size {
			t.Fatalf("cluster %d: %d documents carry its label (%v), want %d", cl.ID, n, err, cl.Size)
		}
		docs, err := c2.GetFields(bg, FieldText|FieldMetadata|FieldVector, cl.Members[0])
		if err != nil {
			t.Fatal(err)
		}
		if docs[0].Text == "" || docs[0].Metadata["blob"] == nil || len(docs[0].Vector) != 8 {
			t.Fatalf("labelling lost the document's other fields: %+v", docs[0])
		}
	}
	// A field of another type is refused before anything is written.
	if _, err := c2.Cluster(bg, ClusterK(3), ClusterLabelField("blob")); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("string label field: %v", err)
	}
	n, _ := c2.Count(bg, mustParse(t, `blob = "0"`))
	if n != 10 {
		t.Fatalf("refused labelling changed documents: %d left with blob 0", n)
	}
}

func TestClusterBadInput(t *testing.T) {
	d, _ := openTest(t, WithEmbedder(nil))
	c := blobCollection(t, d, "c", Cosine, 2, 5)
	empty := mustCollection(t, d, "empty", WithDimension(8))
	cases := []struct {
		name string
		c    *Collection
		opts []ClusterOption
		want string
	}{
		{"k negative", c, []ClusterOption{ClusterK(-1)}, "k -1"},
		{"k over n", c, []ClusterOption{ClusterK(11)}, "exceeds the 10 documents"},
		{"empty collection", empty, []ClusterOption{ClusterK(2)}, "has no documents"},
		{"filter matches nothing", c, []ClusterOption{ClusterK(2), ClusterWhereExpr(`blob = "9"`)}, "matches no documents"},
		{"bad filter", c, []ClusterOption{ClusterWhereExpr(`blob =`)}, "filter"},
		{"bad auto range", c, []ClusterOption{ClusterAutoK(1, 4)}, "automatic k range"},
		{"label field too long", c, []ClusterOption{ClusterK(2), ClusterLabelField(strings.Repeat("x", 300))}, "label field"},
	}
	for _, tc := range cases {
		_, err := tc.c.Cluster(bg, tc.opts...)
		if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want ErrInvalidArgument mentioning %q", tc.name, err, tc.want)
		}
	}
}

func TestMap(t *testing.T) {
	d, _ := openTest(t, WithEmbedder(nil))
	c := blobCollection(t, d, "c", Cosine, 3, 10)
	m, err := c.Map(bg, MapColorBy("blob"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Points) != 30 || !slices.Equal(m.Groups, []string{"0", "1", "2"}) {
		t.Fatalf("%d points, groups %v", len(m.Points), m.Groups)
	}
	// The blobs lie apart in the plane: each point is nearer its own
	// blob's mean than any other's.
	mean := map[string][2]float64{}
	for _, p := range m.Points {
		if want, _, _ := strings.Cut(strings.TrimPrefix(p.ID, "b"), "-"); p.Group != want {
			t.Fatalf("point %s in group %q", p.ID, p.Group)
		}
		v := mean[p.Group]
		mean[p.Group] = [2]float64{v[0] + p.X/10, v[1] + p.Y/10}
	}
	for _, p := range m.Points {
		best, bd := "", 1e300
		for g, c := range mean {
			if dd := (p.X-c[0])*(p.X-c[0]) + (p.Y-c[1])*(p.Y-c[1]); dd < bd {
				best, bd = g, dd
			}
		}
		if best != p.Group {
			t.Fatalf("point %s lies nearer blob %s", p.ID, best)
		}
	}
	if !(m.Variance[0] >= m.Variance[1] && m.Variance[0]+m.Variance[1] <= m.Total*1.0001) {
		t.Fatalf("variances %v of total %v", m.Variance, m.Total)
	}
	// Blobs larger than the 15 neighbours each point keeps.
	c40 := blobCollection(t, d, "c40", Cosine, 3, 40)
	nb, err := c40.Map(bg, MapColorBy("blob"), MapNeighbors())
	if err != nil {
		t.Fatal(err)
	}
	if nb.Projection != "neighbors" || m.Projection != "pca" || nb.Total != 0 {
		t.Fatalf("projections %q and %q, total %v", m.Projection, nb.Projection, nb.Total)
	}
	for _, p := range nb.Points {
		best, bd := "", 1e300
		for _, q := range nb.Points {
			if q.ID == p.ID {
				continue
			}
			if dd := (p.X-q.X)*(p.X-q.X) + (p.Y-q.Y)*(p.Y-q.Y); dd < bd {
				best, bd = q.Group, dd
			}
		}
		if best != p.Group {
			t.Fatalf("neighbour layout: %s's nearest point is in blob %s", p.ID, best)
		}
	}
	byCluster, err := c.Map(bg, MapColorByCluster(3))
	if err != nil {
		t.Fatal(err)
	}
	if len(byCluster.Groups) != 3 || !strings.HasPrefix(byCluster.Groups[0], "0: ") {
		t.Fatalf("cluster groups %q", byCluster.Groups)
	}
	if _, err := c.Map(bg, MapWhereExpr(`blob = "7"`)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("empty filter: %v", err)
	}
	if _, err := c.Map(bg, MapWhereExpr(`n = 0 AND blob = "1"`)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("one document: %v", err)
	}
}

func mustParse(t *testing.T, expr string) query.Filter {
	t.Helper()
	f, err := query.Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
