package analysis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/vecbolt/vecbolt/index"
)

// ErrInvalidInput is wrapped by every error about the caller's data or
// options (as opposed to a cancelled context).
var ErrInvalidInput = errors.New("analysis: invalid input")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidInput}, args...)...)
}

// Defaults of KMeans.
const (
	// DefaultMaxIterations bounds Lloyd's iterations; well-separated data
	// converge in a handful, and later iterations move few points.
	DefaultMaxIterations = 50
	// DefaultTolerance stops the iterations once the objective improves by
	// less than this fraction of itself.
	DefaultTolerance = 1e-4
	// DefaultMiniBatchAbove is the row count above which KMeans switches
	// from full passes to mini-batches. Below it a full pass over the rows
	// (n·k dot products) takes well under a second per iteration at 384
	// dimensions and k up to a few hundred on one core, and full passes
	// converge to a better objective; above it the cost per iteration grows
	// with n while a mini-batch's does not.
	DefaultMiniBatchAbove = 250_000
	// seedSamplePerCluster caps k-means++ seeding at this many sampled rows
	// per cluster: the seeding makes k passes over its rows, so over all of
	// n rows it would cost k full passes of memory traffic, and a sample of
	// 64 rows per cluster already represents every cluster of meaningful
	// size.
	seedSamplePerCluster = 64
	// chunkRows is the unit of parallel work and of summation order; fixed
	// so that results do not depend on the number of goroutines.
	chunkRows = 1024
)

// KMeansOption configures KMeans and ChooseK.
type KMeansOption func(*kmeansConfig)

type kmeansConfig struct {
	spherical      bool
	seed           uint64
	maxIter        int
	tol            float64
	threads        int
	miniBatchAbove int
	batch          int
	progress       func(KMeansProgress)
}

// Spherical makes KMeans cluster directions: rows are compared by cosine
// similarity, each centroid is the normalized mean of its members, and a
// row's distance to a centroid is 1 - cos. It is the k-means for
// collections compared by cosine. Zero rows have no direction and are an
// error.
func Spherical() KMeansOption { return func(c *kmeansConfig) { c.spherical = true } }

// WithSeed fixes the random choices (seeding, mini-batch samples); the same
// seed on the same data gives the same clusters. The default seed is 1.
func WithSeed(seed uint64) KMeansOption { return func(c *kmeansConfig) { c.seed = seed } }

// WithMaxIterations bounds the Lloyd iterations (default
// DefaultMaxIterations), or for mini-batch runs the minimum number of
// batches.
func WithMaxIterations(n int) KMeansOption { return func(c *kmeansConfig) { c.maxIter = n } }

// WithTolerance sets the relative objective improvement below which the
// iterations stop (default DefaultTolerance); 0 iterates until no row
// changes cluster or the iteration bound is reached.
func WithTolerance(t float64) KMeansOption { return func(c *kmeansConfig) { c.tol = t } }

// WithThreads sets how many goroutines share the work (default
// runtime.GOMAXPROCS(0)). The result does not depend on it.
func WithThreads(n int) KMeansOption { return func(c *kmeansConfig) { c.threads = n } }

// WithMiniBatch switches KMeans to mini-batch k-means (Sculley, "Web-scale
// k-means clustering", 2010) when there are more than above rows (default
// DefaultMiniBatchAbove; a negative value never switches), drawing batch
// rows per step (0: max(4096, 16·k)).
func WithMiniBatch(above, batch int) KMeansOption {
	return func(c *kmeansConfig) { c.miniBatchAbove, c.batch = above, batch }
}

// WithProgress calls fn after seeding and after every iteration (or
// mini-batch step), from the calling goroutine.
func WithProgress(fn func(KMeansProgress)) KMeansOption {
	return func(c *kmeansConfig) { c.progress = fn }
}

// KMeansProgress reports how far KMeans has come.
type KMeansProgress struct {
	// Phase is "seeded", "iteration", "batch" (a mini-batch step) or
	// "assigned" (the final pass of a mini-batch run).
	Phase string
	// Iteration counts iterations or batches done; Of is their bound.
	Iteration, Of int
	// Objective is the sum of the rows' distances to their centroids
	// after an iteration (0 for other phases).
	Objective float64
	// Moved is how many rows changed cluster in the iteration.
	Moved int
}

// KMeansResult is a clustering of n rows into K clusters.
type KMeansResult struct {
	K, Dim int
	// Centroids holds K rows of Dim values; under Spherical they are unit
	// length.
	Centroids []float32
	// Assign[i] is row i's cluster, in [0, K).
	Assign []int
	// Distance[i] is row i's distance to its centroid: squared Euclidean,
	// or 1 - cos under Spherical.
	Distance []float32
	// Sizes[c] is the number of rows in cluster c; no cluster is empty.
	Sizes []int
	// Objective is the sum of Distance.
	Objective float64
	// Iterations is the number of Lloyd iterations, or of mini-batch steps.
	Iterations int
	// Converged reports that the iterations stopped because the objective
	// stopped improving (or no row moved), not at the bound.
	Converged bool
	// MiniBatch reports that the run used mini-batches.
	MiniBatch bool
}

func kmeansOptions(opts []KMeansOption) (kmeansConfig, error) {
	c := kmeansConfig{seed: 1, maxIter: DefaultMaxIterations, tol: DefaultTolerance,
		threads: runtime.GOMAXPROCS(0), miniBatchAbove: DefaultMiniBatchAbove}
	for _, o := range opts {
		o(&c)
	}
	switch {
	case c.maxIter < 1:
		return c, invalidf("max iterations %d: want at least 1", c.maxIter)
	case !(c.tol >= 0) || math.IsInf(c.tol, 0):
		return c, invalidf("tolerance %v: want a finite value >= 0", c.tol)
	case c.threads < 1:
		return c, invalidf("threads %d: want at least 1", c.threads)
	case c.batch < 0:
		return c, invalidf("mini-batch size %d is negative", c.batch)
	}
	return c, nil
}

// checkRows validates the row layout and values.
func checkRows(data []float32, dim int) (int, error) {
	if dim < 1 {
		return 0, invalidf("dimension %d: want at least 1", dim)
	}
	if len(data)%dim != 0 {
		return 0, invalidf("%d values are not a whole number of rows of %d", len(data), dim)
	}
	for i, v := range data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return 0, invalidf("row %d holds a non-finite value (%v)", i/dim, v)
		}
	}
	return len(data) / dim, nil
}

// KMeans clusters the n rows of data (dim values each, back to back) into k
// clusters. Seeding is k-means++ (Arthur & Vassilvitskii) over a uniform
// sample of at most 64·k rows; iterations are Lloyd's (full passes) up to
// DefaultMiniBatchAbove rows and mini-batch steps above it. Without
// Spherical it minimizes squared Euclidean distance, which is also what a
// caller should use for dot-product data: the largest inner product with a
// centroid does not define clusters that a mean can improve (the longest
// centroid attracts everything), while Euclidean k-means does and, on unit
// vectors, ranks like the dot product.
//
// A cluster that loses all its rows is restarted on the row farthest from
// its centroid, so every returned cluster has members.
func KMeans(ctx context.Context, data []float32, dim, k int, opts ...KMeansOption) (*KMeansResult, error) {
	cfg, err := kmeansOptions(opts)
	if err != nil {
		return nil, err
	}
	n, err := checkRows(data, dim)
	if err != nil {
		return nil, err
	}
	switch {
	case n == 0:
		return nil, invalidf("no rows to cluster")
	case k < 1:
		return nil, invalidf("k %d: want at least 1", k)
	case k > n:
		return nil, invalidf("k %d exceeds the %d rows", k, n)
	}
	km := &kmeans{cfg: cfg, n: n, dim: dim, k: k, data: data}
	if cfg.spherical {
		if km.data, err = normalizedRows(data, dim); err != nil {
			return nil, err
		}
	}
	km.rowNorm = make([]float32, n)
	for i := range n {
		r := km.row(i)
		km.rowNorm[i] = index.DotProduct(r, r)
	}
	km.rng = rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15))
	if err := km.seed(ctx); err != nil {
		return nil, err
	}
	km.report(KMeansProgress{Phase: "seeded", Of: cfg.maxIter})
	km.assign = make([]int, n)
	km.dist = make([]float32, n)
	res := &KMeansResult{K: k, Dim: dim}
	batch := cfg.batch
	if batch == 0 {
		batch = max(4096, 16*k)
	}
	if cfg.miniBatchAbove >= 0 && n > cfg.miniBatchAbove && batch < n {
		res.MiniBatch = true
		if res.Iterations, err = km.miniBatch(ctx, batch); err != nil {
			return nil, err
		}
		if _, _, err := km.assignAll(ctx); err != nil {
			return nil, err
		}
		km.fillEmpty()
		km.report(KMeansProgress{Phase: "assigned", Iteration: res.Iterations, Of: res.Iterations, Objective: km.objective})
	} else if res.Iterations, res.Converged, err = km.lloyd(ctx); err != nil {
		return nil, err
	}
	res.Centroids, res.Assign, res.Distance, res.Objective = km.cent, km.assign, km.dist, km.objective
	res.Sizes = make([]int, k)
	for _, c := range km.assign {
		res.Sizes[c]++
	}
	return res, nil
}

func normalizedRows(data []float32, dim int) ([]float32, error) {
	out := make([]float32, len(data))
	for i := 0; i < len(data); i += dim {
		r := data[i : i+dim]
		s := index.DotProduct(r, r)
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return nil, invalidf("row %d has no direction (its squared norm is %v); spherical k-means needs non-zero rows", i/dim, s)
		}
		inv := float32(1 / math.Sqrt(float64(s)))
		for j, v := range r {
			out[i+j] = v * inv
		}
	}
	return out, nil
}

type kmeans struct {
	cfg       kmeansConfig
	n, dim, k int
	data      []float32
	rowNorm   []float32
	cent      []float32
	centNorm  []float32
	assign    []int
	dist      []float32
	objective float64
	rng       *rand.Rand
	// updAcc and updCount are update's per-partition sums and counts.
	updAcc   [][]float64
	updCount [][]int
}

func (km *kmeans) row(i int) []float32 { return km.data[i*km.dim : (i+1)*km.dim] }

func (km *kmeans) report(p KMeansProgress) {
	if km.cfg.progress != nil {
		km.cfg.progress(p)
	}
}

// parallel runs fn over [0, chunks) on the configured goroutines and
// returns the first error (or ctx's).
func (km *kmeans) parallel(ctx context.Context, chunks int, fn func(chunk int, scratch []float32)) error {
	workers := min(km.cfg.threads, chunks)
	var next atomic.Int64
	var wg sync.WaitGroup
	var stop atomic.Bool
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			scratch := make([]float32, 4*km.k)
			for !stop.Load() {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				if ctx.Err() != nil {
					stop.Store(true)
					return
				}
				fn(c, scratch)
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// seed picks k initial centroids by k-means++ over a uniform sample.
func (km *kmeans) seed(ctx context.Context) error {
	m := min(km.n, seedSamplePerCluster*km.k)
	sample := make([]int, m)
	if m == km.n {
		for i := range sample {
			sample[i] = i
		}
	} else {
		// Floyd's algorithm would do, but a partial Fisher-Yates over an
		// index slice is simple and O(n) once.
		perm := make([]int, km.n)
		for i := range perm {
			perm[i] = i
		}
		for i := range m {
			j := i + km.rng.IntN(km.n-i)
			perm[i], perm[j] = perm[j], perm[i]
		}
		copy(sample, perm[:m])
		slices.Sort(sample)
	}
	rows := make([]float32, m*km.dim)
	norms := make([]float32, m)
	for i, r := range sample {
		copy(rows[i*km.dim:], km.row(r))
		norms[i] = km.rowNorm[r]
	}
	km.cent = make([]float32, km.k*km.dim)
	km.centNorm = make([]float32, km.k)
	d2 := make([]float64, m)
	for i := range d2 {
		d2[i] = math.Inf(1)
	}
	dots := make([]float32, m)
	chosen := make([]bool, m)
	chunks := (m + chunkRows - 1) / chunkRows
	sums := make([]float64, chunks)
	pick := km.rng.IntN(m)
	for c := range km.k {
		if err := ctx.Err(); err != nil {
			return err
		}
		chosen[pick] = true
		cr := rows[pick*km.dim : (pick+1)*km.dim]
		copy(km.cent[c*km.dim:], cr)
		km.centNorm[c] = norms[pick]
		if c == km.k-1 {
			break
		}
		// The distances to the new centroid, chunk by chunk on the
		// configured goroutines; chunk sums are added in chunk order, so
		// the draw does not depend on the goroutines.
		pn := float64(norms[pick])
		err := km.parallel(ctx, chunks, func(ch int, _ []float32) {
			lo, hi := ch*chunkRows, min((ch+1)*chunkRows, m)
			index.DotProductBatch(cr, rows[lo*km.dim:hi*km.dim], km.dim, dots[lo:hi])
			var sum float64
			for i := lo; i < hi; i++ {
				d := math.Max(0, float64(norms[i])+pn-2*float64(dots[i]))
				if chosen[i] {
					d = 0
				}
				if d < d2[i] {
					d2[i] = d
				}
				sum += d2[i]
			}
			sums[ch] = sum
		})
		if err != nil {
			return err
		}
		var total float64
		for _, v := range sums {
			total += v
		}
		if !(total > 0) {
			// Every remaining sampled row coincides with a chosen centroid:
			// take the first unchosen one, so centroids are distinct rows.
			pick = slices.Index(chosen, false)
			continue
		}
		r := km.rng.Float64() * total
		pick = -1
		for i := range m {
			if d2[i] <= 0 {
				continue
			}
			r -= d2[i]
			pick = i
			if r < 0 {
				break
			}
		}
	}
	return nil
}

// assignAll assigns every row to its nearest centroid, filling km.assign
// and km.dist, and returns how many rows changed cluster. km.objective is
// their total distance.
func (km *kmeans) assignAll(ctx context.Context) (moved int, objective float64, err error) {
	chunks := (km.n + chunkRows - 1) / chunkRows
	sums := make([]float64, chunks)
	moves := make([]int, chunks)
	err = km.parallel(ctx, chunks, func(c int, scratch []float32) {
		lo, hi := c*chunkRows, min((c+1)*chunkRows, km.n)
		moves[c], sums[c] = km.assignRange(km.data[lo*km.dim:hi*km.dim], km.rowNorm[lo:hi], km.assign[lo:hi], km.dist[lo:hi], scratch)
	})
	if err != nil {
		return 0, 0, err
	}
	for c := range chunks {
		moved += moves[c]
		objective += sums[c]
	}
	km.objective = objective
	return moved, objective, nil
}

// assignRange assigns the rows of data (with squared norms norms) to their
// nearest centroids, four rows per kernel call so each centroid is read
// once per four rows. It returns how many assignments changed and the sum
// of the distances.
func (km *kmeans) assignRange(data []float32, norms []float32, assign []int, dist []float32, scratch []float32) (int, float64) {
	dim, k := km.dim, km.k
	n := len(norms)
	moved := 0
	var sum float64
	out := scratch[:4*k]
	i := 0
	for ; i+4 <= n; i += 4 {
		index.DotProductBatch4(data[i*dim:(i+4)*dim], km.cent, dim, out)
		for j := range 4 {
			best, bd := 0, float32(math.Inf(1))
			for c := range k {
				// ||x-c||² = ||x||² + ||c||² - 2x·c; ||x||² is the same for
				// every c, so it joins only the reported distance.
				if d := km.centNorm[c] - 2*out[4*c+j]; d < bd {
					best, bd = c, d
				}
			}
			m, s := km.settle(i+j, best, bd, norms, assign, dist)
			moved += m
			sum += s
		}
	}
	for ; i < n; i++ {
		index.DotProductBatch(data[i*dim:(i+1)*dim], km.cent, dim, out[:k])
		best, bd := 0, float32(math.Inf(1))
		for c := range k {
			if d := km.centNorm[c] - 2*out[c]; d < bd {
				best, bd = c, d
			}
		}
		m, s := km.settle(i, best, bd, norms, assign, dist)
		moved += m
		sum += s
	}
	return moved, sum
}

func (km *kmeans) settle(i, best int, bd float32, norms []float32, assign []int, dist []float32) (int, float64) {
	d := max(0, norms[i]+bd)
	if km.cfg.spherical {
		// Unit vectors: ||x-c||² = 2 - 2cos, so 1 - cos is half of it.
		d /= 2
	}
	moved := 0
	if assign[i] != best {
		moved = 1
	}
	assign[i], dist[i] = best, d
	return moved, float64(d)
}

// lloyd runs full iterations until convergence or the bound. Every
// iteration ends with each row at its nearest centroid: an assignment pass,
// then the refill of clusters left empty (a refilled centroid is a copy of
// its one row, so that row is nearest to it).
func (km *kmeans) lloyd(ctx context.Context) (iters int, converged bool, err error) {
	for i := range km.assign {
		km.assign[i] = -1
	}
	prev := math.Inf(1)
	for {
		moved, obj, err := km.assignAll(ctx)
		if err != nil {
			return iters, false, err
		}
		iters++
		refilled := km.fillEmpty()
		km.report(KMeansProgress{Phase: "iteration", Iteration: iters, Of: km.cfg.maxIter, Objective: km.objective, Moved: moved})
		if refilled == 0 && (moved == 0 || (iters > 1 && prev-obj <= km.cfg.tol*prev)) {
			return iters, true, nil
		}
		if iters == km.cfg.maxIter {
			return iters, false, nil
		}
		prev = obj
		if err := km.update(ctx); err != nil {
			return iters, false, err
		}
	}
}

// update sets every centroid to the mean of its rows (normalized under
// Spherical). The rows are summed in float64 in a fixed number of
// partitions of consecutive rows, each streaming its rows in order into its
// own k × dim accumulator (the rows are read sequentially, which is what
// makes the update cheap next to the assignment), and the partitions'
// sums are added in partition order: the result does not depend on the
// goroutines.
func (km *kmeans) update(ctx context.Context) error {
	k, dim := km.k, km.dim
	parts := updatePartitions
	if k*dim*parts > maxUpdateAcc {
		parts = max(1, maxUpdateAcc/(k*dim))
	}
	parts = min(parts, km.n)
	if len(km.updAcc) != parts {
		// Kept across iterations: a few MiB that would otherwise be
		// garbage every iteration.
		km.updAcc, km.updCount = make([][]float64, parts), make([][]int, parts)
		for p := range parts {
			km.updAcc[p], km.updCount[p] = make([]float64, k*dim), make([]int, k)
		}
	}
	acc, counts := km.updAcc, km.updCount
	err := km.parallel(ctx, parts, func(p int, _ []float32) {
		a, cnt := acc[p], counts[p]
		clear(a)
		clear(cnt)
		lo, hi := p*km.n/parts, (p+1)*km.n/parts
		for i := lo; i < hi; i++ {
			c := km.assign[i]
			cnt[c]++
			addRow(a[c*dim:(c+1)*dim], km.row(i))
		}
	})
	if err != nil {
		return err
	}
	sum := acc[0]
	for p := 1; p < parts; p++ {
		for j, v := range acc[p] {
			sum[j] += v
		}
	}
	for c := range k {
		total := 0
		for p := range parts {
			total += counts[p][c]
		}
		if total > 0 {
			km.setCentroid(c, sum[c*dim:(c+1)*dim], total)
		}
	}
	return nil
}

const (
	// updatePartitions is the fixed number of row ranges update sums
	// apart (and so the most goroutines it uses).
	updatePartitions = 4
	// maxUpdateAcc caps update's accumulators, in float64 values (128
	// MiB); with more clusters × dimensions it uses fewer partitions.
	maxUpdateAcc = 16 << 20
)

func addRow(acc []float64, r []float32) {
	acc = acc[:len(r)]
	i := 0
	for ; i+4 <= len(r); i += 4 {
		acc[i] += float64(r[i])
		acc[i+1] += float64(r[i+1])
		acc[i+2] += float64(r[i+2])
		acc[i+3] += float64(r[i+3])
	}
	for ; i < len(r); i++ {
		acc[i] += float64(r[i])
	}
}

// setCentroid stores acc/count (normalized under Spherical) as centroid c.
func (km *kmeans) setCentroid(c int, acc []float64, count int) {
	dst := km.cent[c*km.dim : (c+1)*km.dim]
	scale := 1 / float64(count)
	if km.cfg.spherical {
		var s float64
		for _, v := range acc {
			s += v * v
		}
		if s > 0 {
			scale = 1 / math.Sqrt(s)
		}
	}
	for j, v := range acc {
		dst[j] = float32(v * scale)
	}
	km.centNorm[c] = index.DotProduct(dst, dst)
}

// fillEmpty restarts every cluster without rows on the rows farthest from
// their centroids (one each, taken from clusters with more than one row),
// and returns how many it restarted. The caller assigns again afterwards.
func (km *kmeans) fillEmpty() int {
	sizes := make([]int, km.k)
	for _, c := range km.assign {
		if c >= 0 {
			sizes[c]++
		}
	}
	var empty []int
	for c, s := range sizes {
		if s == 0 {
			empty = append(empty, c)
		}
	}
	if len(empty) == 0 {
		return 0
	}
	order := make([]int, km.n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case km.dist[a] > km.dist[b]:
			return -1
		case km.dist[a] < km.dist[b]:
			return 1
		}
		return 0
	})
	next := 0
	for _, c := range empty {
		for next < len(order) && sizes[km.assign[order[next]]] <= 1 {
			next++
		}
		if next == len(order) {
			break // cannot happen while k <= n
		}
		r := order[next]
		next++
		sizes[km.assign[r]]--
		sizes[c]++
		km.assign[r] = c
		km.dist[r] = 0
		copy(km.cent[c*km.dim:], km.row(r))
		km.centNorm[c] = km.rowNorm[r]
	}
	// The moved rows' old centroids are not recomputed: the next
	// assignment (lloyd) or the caller's final pass settles them.
	var obj float64
	for _, d := range km.dist {
		obj += float64(d)
	}
	km.objective = obj
	return len(empty)
}

// miniBatch runs mini-batch steps: each draws batch rows, assigns them to
// their nearest centroids, and moves each centroid toward its new rows
// with a per-centroid learning rate of 1/(rows seen so far). It runs
// enough steps to see every row about twice, and at least the iteration
// bound.
func (km *kmeans) miniBatch(ctx context.Context, batch int) (int, error) {
	steps := max(km.cfg.maxIter, (2*km.n+batch-1)/batch)
	rows := make([]float32, batch*km.dim)
	norms := make([]float32, batch)
	assign := make([]int, batch)
	dist := make([]float32, batch)
	picked := make([]int, batch)
	counts := make([]int, km.k)
	acc := make([]float64, km.dim)
	chunks := (batch + chunkRows - 1) / chunkRows
	for step := 1; step <= steps; step++ {
		for i := range batch {
			r := km.rng.IntN(km.n)
			picked[i] = r
			copy(rows[i*km.dim:], km.row(r))
			norms[i] = km.rowNorm[r]
			assign[i] = -1
		}
		sums := make([]float64, chunks)
		err := km.parallel(ctx, chunks, func(c int, scratch []float32) {
			lo, hi := c*chunkRows, min((c+1)*chunkRows, batch)
			_, sums[c] = km.assignRange(rows[lo*km.dim:hi*km.dim], norms[lo:hi], assign[lo:hi], dist[lo:hi], scratch)
		})
		if err != nil {
			return step - 1, err
		}
		var obj float64
		for _, s := range sums {
			obj += s
		}
		// Sculley's update, applied in batch order (deterministic).
		for i, c := range assign {
			counts[c]++
			eta := 1 / float64(counts[c])
			cr := km.cent[c*km.dim : (c+1)*km.dim]
			x := km.row(picked[i])
			for j := range cr {
				cr[j] += float32(eta * float64(x[j]-cr[j]))
			}
		}
		for c := range km.k {
			cr := km.cent[c*km.dim : (c+1)*km.dim]
			if km.cfg.spherical {
				for j, v := range cr {
					acc[j] = float64(v)
				}
				km.setCentroid(c, acc, 1)
			} else {
				km.centNorm[c] = index.DotProduct(cr, cr)
			}
		}
		km.report(KMeansProgress{Phase: "batch", Iteration: step, Of: steps, Objective: obj})
	}
	return steps, nil
}
