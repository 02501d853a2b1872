package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vecbolt/vecbolt/analysis"
	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/viz"
)

func clusterCommand() *command {
	return &command{
		name:    "cluster",
		args:    "--db FILE --collection NAME [--k N] [--where EXPR] [--label-field NAME] [--json]",
		summary: "group a collection's documents by k-means over their vectors",
		help: `Clusters the collection's documents (or those matching --where) by k-means
over their stored vectors: spherical k-means (cosine) for cosine collections,
Euclidean k-means for l2 and dot ones, k-means++ seeding with a fixed seed
(the same documents give the same clusters), mini-batches above 250,000
documents. Without --k, k is chosen between 2 and 20 by the mean silhouette
of a sample. Clusters are numbered by decreasing size.

Prints, per cluster, its size, its most characteristic terms (class-based
TF-IDF of the members' texts against the other clusters'; none for
collections without texts) and the documents nearest its centre. With
--json, prints {"clusters": [{"id", "size", "members": [IDs],
"representatives": [IDs], "terms": [...]}]}, every member listed.

--label-field NAME writes each document's cluster number into that metadata
field (a number), through ordinary upserts of 256 documents at a time; the
field must be absent or numeric. Read-only without it; no model is loaded.
`,
		flags: clusterFlags,
	}
}

// clusterJSON is cluster --json's stable output.
type clusterJSON struct {
	Clusters []clusterEntry `json:"clusters"`
}

type clusterEntry struct {
	ID              int      `json:"id"`
	Size            int      `json:"size"`
	Members         []string `json:"members"`
	Representatives []string `json:"representatives"`
	Terms           []string `json:"terms"`
}

func clusterFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var f dbFlags
	var coll, where, label string
	var k int
	var asJSON bool
	f.register(fs, false)
	fs.StringVar(&coll, "collection", "", "collection `NAME`")
	fs.IntVar(&k, "k", 0, "number of clusters `N` (default 0: chosen by silhouette between 2 and 20)")
	fs.StringVar(&where, "where", "", "cluster only the documents matching this filter `EXPR`")
	fs.StringVar(&label, "label-field", "", "write each document's cluster number into metadata field `NAME`")
	fs.BoolVar(&asJSON, "json", false, "print the clusters as one JSON object, with every member")
	return func(e *env, pos []string) (err error) {
		if coll == "" {
			return usagef("--collection NAME is required")
		}
		if len(pos) != 0 {
			return usagef("cluster takes no arguments, got %d", len(pos))
		}
		if k < 0 {
			return usagef("--k %d must not be negative", k)
		}
		filter, err := parseWhere(where)
		if err != nil {
			return err
		}
		mode := readDocs
		if label != "" {
			mode = writeDocs
		}
		c, done, err := e.openCollection(&f, coll, mode)
		if err != nil {
			return err
		}
		defer done(&err)
		opts := []db.ClusterOption{db.ClusterK(k), db.ClusterLabelField(label), db.ClusterProgress(e.kmeansProgress())}
		if filter != nil {
			opts = append(opts, db.ClusterWhere(filter))
		}
		res, err := c.Cluster(e.ctx, opts...)
		e.clearProgress()
		if err != nil {
			if res != nil && res.Labelled > 0 {
				err = fmt.Errorf("%w (%d documents were labelled before the failure)", err, res.Labelled)
			}
			return err
		}
		if asJSON {
			out := clusterJSON{Clusters: make([]clusterEntry, len(res.Clusters))}
			for i, cl := range res.Clusters {
				out.Clusters[i] = clusterEntry{ID: cl.ID, Size: cl.Size, Members: cl.Members, Representatives: cl.Representatives, Terms: cl.Terms}
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(out); err != nil {
				return err
			}
			_, err = e.stdout.Write(buf.Bytes())
			return err
		}
		var b strings.Builder
		how := "cosine (spherical) k-means"
		if !res.Spherical {
			how = "Euclidean k-means"
		}
		fmt.Fprintf(&b, "%d clusters of %d documents (%s, %d iterations", len(res.Clusters), countMembers(res), how, res.Iterations)
		if res.KScores != nil {
			fmt.Fprintf(&b, ", k chosen by silhouette")
		}
		b.WriteString(")\n")
		for _, cl := range res.Clusters {
			fmt.Fprintf(&b, "\ncluster %d: %d documents\n", cl.ID, cl.Size)
			if len(cl.Terms) > 0 {
				fmt.Fprintf(&b, "  terms: %s\n", safeName(strings.Join(cl.Terms, ", ")))
			}
			reps := make([]string, len(cl.Representatives))
			for i, id := range cl.Representatives {
				reps[i] = safeName(id)
			}
			fmt.Fprintf(&b, "  nearest the centre: %s\n", strings.Join(reps, ", "))
		}
		if label != "" {
			fmt.Fprintf(&b, "\nwrote the cluster numbers of %d documents into field %q\n", res.Labelled, label)
		}
		_, err = fmt.Fprint(e.stdout, b.String())
		return err
	}
}

func countMembers(r *db.ClusterResult) int {
	n := 0
	for _, c := range r.Clusters {
		n += c.Size
	}
	return n
}

// kmeansProgress draws k-means' progress on a terminal stderr (nil
// otherwise, which db treats as no callback).
func (e *env) kmeansProgress() func(analysis.KMeansProgress) {
	if !e.terminal {
		return nil
	}
	return func(p analysis.KMeansProgress) {
		switch p.Phase {
		case "iteration", "batch":
			fmt.Fprintf(e.stderr, "\rk-means: %s %d of at most %d", p.Phase, p.Iteration, p.Of)
		}
	}
}

// clearProgress erases the progress line, if one was drawn.
func (e *env) clearProgress() {
	if e.terminal {
		fmt.Fprint(e.stderr, "\r\033[K")
	}
}

func mapCommand() *command {
	return &command{
		name:    "map",
		args:    "--db FILE --collection NAME [--color-by FIELD|cluster] [--k N] [--where EXPR] [--projection pca|neighbors] OUT.svg|OUT.png",
		summary: "draw a collection's documents as a 2-D map (SVG or PNG)",
		help: `Projects the documents' vectors (or those matching --where) onto their first
two principal components (or, with --projection neighbors, lays them out so
that each document's 15 nearest neighbours stay near it; at most 20,000
documents) and draws them as a scatter plot into OUT, an SVG or PNG file by
its extension (replaced if it exists). --color-by FIELD colours
the points by a metadata field's value; --color-by cluster colours them by
k-means clusters (--k of them, or k chosen by silhouette), named by their
characteristic terms. The ten largest groups get a colour, a legend entry and
a label at their median point; the rest are grey. Read-only; no model is
loaded.
`,
		flags: mapFlags,
	}
}

func mapFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var f dbFlags
	var coll, where, colorBy, projection string
	var k int
	f.register(fs, false)
	fs.StringVar(&coll, "collection", "", "collection `NAME`")
	fs.StringVar(&projection, "projection", "pca", "`pca` (principal components) or neighbors (nearest neighbours kept together)")
	fs.StringVar(&colorBy, "color-by", "", "colour the points by metadata field `FIELD`, or by k-means clusters with \"cluster\"")
	fs.IntVar(&k, "k", 0, "clusters `N` for --color-by cluster (default 0: chosen by silhouette)")
	fs.StringVar(&where, "where", "", "map only the documents matching this filter `EXPR`")
	return func(e *env, pos []string) (err error) {
		if coll == "" {
			return usagef("--collection NAME is required")
		}
		if len(pos) != 1 {
			return usagef("map takes one output file OUT.svg or OUT.png, got %d arguments", len(pos))
		}
		out := pos[0]
		format := strings.TrimPrefix(strings.ToLower(filepath.Ext(out)), ".")
		if format != "svg" && format != "png" {
			return usagef("output %q: the name must end in .svg or .png", out)
		}
		if k < 0 {
			return usagef("--k %d must not be negative", k)
		}
		if k > 0 && colorBy != "cluster" {
			return usagef("--k applies to --color-by cluster only")
		}
		if projection != "pca" && projection != "neighbors" {
			return usagef("--projection %q: want pca or neighbors", projection)
		}
		filter, err := parseWhere(where)
		if err != nil {
			return err
		}
		c, done, err := e.openCollection(&f, coll, readDocs)
		if err != nil {
			return err
		}
		defer done(&err)
		var opts []db.MapOption
		switch colorBy {
		case "":
		case "cluster":
			opts = append(opts, db.MapColorByCluster(k))
		default:
			opts = append(opts, db.MapColorBy(colorBy))
		}
		if filter != nil {
			opts = append(opts, db.MapWhere(filter))
		}
		if projection == "neighbors" {
			opts = append(opts, db.MapNeighbors())
		}
		m, err := c.Map(e.ctx, opts...)
		if err != nil {
			return err
		}
		pts := make([]viz.Point, len(m.Points))
		for i, p := range m.Points {
			pts[i] = viz.Point{X: p.X, Y: p.Y, Group: p.Group}
		}
		share := func(v float64) string {
			if m.Total > 0 {
				return fmt.Sprintf(" (%.0f%% of the variance)", 100*v/m.Total)
			}
			return ""
		}
		title := fmt.Sprintf("%s: %d documents", coll, len(pts))
		if colorBy != "" {
			title += ", coloured by " + colorBy
		}
		xl, yl := "first principal component"+share(m.Variance[0]), "second principal component"+share(m.Variance[1])
		if m.Projection == "neighbors" {
			xl, yl = "neighbour layout (axes have no units)", ""
		}
		var buf bytes.Buffer
		if err := viz.WriteMap(&buf, pts, viz.MapOptions{Format: format, Title: title, XLabel: xl, YLabel: yl}); err != nil {
			return err
		}
		if err := writeFileAtomic(out, buf.Bytes()); err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "wrote %s: %d documents in %d groups\n", safeName(out), len(pts), len(m.Groups))
		return err
	}
}

// writeFileAtomic replaces path with data through a temporary file in the
// same directory, so a failure never leaves a half-written picture.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(name)
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return err
	}
	if err := os.Chmod(name, 0o644); err != nil {
		os.Remove(name)
		return err
	}
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return err
	}
	return nil
}
