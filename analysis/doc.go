// Package analysis holds the algorithms that work on a collection's vectors
// as a whole rather than answering one query: clustering (k-means,
// kmeans.go; choosing k, kmeans_auto.go), the characteristic terms of
// groups of texts (cterms.go), agreement between two labellings (nmi.go) and
// projection to two dimensions for drawing (pca.go; layout.go, which keeps
// nearest neighbours together). Package db applies
// them to a collection (db/cluster.go, db/map.go); they take plain float32
// rows so that a Go program can also run them on vectors of its own.
//
// Conventions and invariants:
//   - Data are n rows of dim float32 values stored back to back in one
//     slice (row i is data[i*dim:(i+1)*dim]), the layout the distance
//     kernels of package index read fastest. Functions never modify the
//     caller's rows.
//   - Every result is a function of the input and the options alone: the
//     random choices come from the seed option (default 1), and work split
//     across goroutines is combined in a fixed order, so the same call on
//     the same data returns the same result whatever the thread count.
//   - Bad input (k < 1, k > n, a zero row under a spherical metric, rows
//     that are not dim long, NaN or infinite values) is an error wrapping
//     ErrInvalidInput that names what was wrong; nothing panics on it.
//   - Long computations take a context and stop with its error when it is
//     done.
//
// Why the code is written here instead of taken from a library: the Go
// libraries with k-means (for example github.com/muesli/kmeans) run scalar
// loops over [][]float64, one goroutine, with random seeding not tied to a
// seed the caller controls; at 100k × 384 that is tens of times slower than
// the SIMD kernels of package index, which this package reuses
// (index.DotProductBatch4) rather than duplicating. gonum has an
// eigen-solver but the two leading components of a covariance matrix are
// found faster by power iteration over the rows, without forming the
// dim × dim matrix.
package analysis
