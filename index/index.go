// Package index holds vecbolt's vector indexes: an exact (flat) index and an
// HNSW graph, together with the distance kernels they share.
//
// Every index stores vectors under caller-chosen uint64 IDs and answers k
// nearest-neighbour queries. Distances are "lower is closer" for every
// metric, so one ordering rule serves them all:
//
//   - Cosine: 1 - cos(a, b). Vectors are L2-normalized when added, so the
//     kernel is a dot product.
//   - Dot:    -dot(a, b).
//   - L2:     squared Euclidean distance.
//
// Invariants shared by all implementations:
//   - Add with an ID that is already present replaces its vector.
//   - Search returns at most k results sorted by ascending distance (ties
//     broken by ascending ID), never a deleted ID, and never an ID rejected by
//     the filter. When fewer than k IDs pass the filter, all of them are
//     returned: a filter never makes results go missing.
//   - Implementations are safe for concurrent use: any number of searches may
//     run while one goroutine adds or deletes.
//
// The HNSW graph can store int8 codes instead of float32 vectors
// (WithInt8): about 4× less memory, approximate distances, and exact ones
// again when the caller supplies the float32 vectors for a re-rank
// (SearchOptions.Rerank).
//
// Why this package writes its own code instead of using a library:
//   - HNSW: github.com/coder/hnsw v0.6.1 (the only version the module proxy
//     serves) returns recall@10 of about 0.17 on 10k × 384 clustered vectors
//     whatever ef is (its heap reads the wrong end, search stops early,
//     results are capped at k), panics when a key is added again and has no
//     locking. The graph here follows Malkov & Yashunin with hnswlib's flat
//     layout; hnsw.go explains the design. bench/ keeps coder/hnsw as a peer.
//   - Memory outside the Go heap: a large HNSW graph maps its vector
//     segments anonymously (Linux), because on the heap they let the
//     collector keep as much garbage again, and a library may not set its
//     host's GOGC or memory limit. Go then no longer guarantees their
//     lifetime; arena.go states the rules that do (HNSW.Close waits for
//     every user and empties the graph before unmapping, a cleanup unmaps
//     only unreachable graphs, vectors leave the graph as copies).
//   - Kernels: the Go compiler does not emit FMA or wide SIMD for these
//     loops, and github.com/viterin/vek has neither AVX-512 nor int8
//     kernels, so the distance kernels are hand-written assembly
//     (distance_amd64.s, quant_amd64.s) chosen once at start from the CPU's
//     features, with pure-Go fallbacks on other architectures.
package index

import (
	"errors"
	"fmt"
	"math"
)

// Metric selects how two vectors are compared.
type Metric uint8

// The supported metrics. The zero value is invalid so that a forgotten
// setting is caught rather than silently meaning cosine.
const (
	Cosine Metric = iota + 1
	Dot
	L2
)

// String returns the metric's lower-case name as used in configuration.
func (m Metric) String() string {
	switch m {
	case Cosine:
		return "cosine"
	case Dot:
		return "dot"
	case L2:
		return "l2"
	}
	return fmt.Sprintf("metric(%d)", uint8(m))
}

// ParseMetric is the inverse of Metric.String.
func ParseMetric(s string) (Metric, error) {
	switch s {
	case "cosine":
		return Cosine, nil
	case "dot":
		return Dot, nil
	case "l2":
		return L2, nil
	}
	return 0, fmt.Errorf("index: unknown metric %q (want cosine, dot or l2)", s)
}

// Valid reports whether m is one of the defined metrics.
func (m Metric) Valid() bool { return m >= Cosine && m <= L2 }

// Result is one neighbour found by a search.
type Result struct {
	ID       uint64
	Distance float32
}

// Filter reports whether the vector with the given ID may appear in results.
// It is called from inside searches and must be safe for concurrent use.
// A nil Filter accepts everything.
type Filter func(id uint64) bool

// Errors returned by indexes. Callers branch on them with errors.Is.
var (
	ErrDimension = errors.New("index: wrong vector dimension")
	ErrNotFinite = errors.New("index: vector contains NaN or Inf")
	ErrZeroNorm  = errors.New("index: zero vector cannot be normalized for cosine")
)

// Index is the contract the database programs against. Both the exact index
// and the HNSW graph implement it.
type Index interface {
	// Dim is the vector dimension fixed at construction.
	Dim() int
	// Metric is the comparison fixed at construction.
	Metric() Metric
	// Len is the number of live (not deleted) vectors.
	Len() int
	// Add inserts vec under id, replacing any vector already stored there.
	// The index keeps its own copy of vec.
	Add(id uint64, vec []float32) error
	// Delete removes id and reports whether it was present.
	Delete(id uint64) bool
	// Search returns up to k nearest neighbours of q that pass filter.
	Search(q []float32, k int, filter Filter) ([]Result, error)
}

// checkVector validates a vector against a dimension.
func checkVector(vec []float32, dim int) error {
	if len(vec) != dim {
		return fmt.Errorf("%w: got %d, want %d", ErrDimension, len(vec), dim)
	}
	for i, x := range vec {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%w (component %d)", ErrNotFinite, i)
		}
	}
	return nil
}

// CheckVector reports whether Add accepts vec in an index of dimension dim
// and metric m, with the error Add would return: the length must be dim,
// every component finite, and under Cosine the squared norm, summed in
// float32 exactly as a Cosine index sums it to normalize, must be neither
// zero (it underflows for components below about 1e-23) nor infinite (it
// overflows above about 1.8e19). A float64 norm says nothing about either, so a caller
// that must not store what an index would then refuse checks with this.
//
// It does not bound the magnitude under Dot and L2: see MaxNorm.
func CheckVector(vec []float32, dim int, m Metric) error {
	if err := checkVector(vec, dim); err != nil {
		return err
	}
	if m == Cosine {
		if _, ok := unitScale(vec); !ok {
			return ErrZeroNorm
		}
	}
	return nil
}

// MaxNorm bounds the Euclidean norm of vectors whose distances to each
// other are finite under every metric and storage: for two vectors of norm
// at most 2^60 (about 1.15e18) the dot product is at most 2^120 and the
// squared distance at most 2^122, far below float32's 2^128 even with the
// rounding of 65,536-term sums, and the int8 codes' estimates (whose code
// rounding adds at most a factor 2.01 per vector at 65,536 dimensions) stay
// below 2^125. Beyond it a Dot or L2 distance can overflow to +Inf (or
// NaN), which breaks the ordering of results and cannot be reported as a
// score.
//
// Add does not enforce it, so that vectors stored before a caller adopted
// the bound still load; callers that want finite scores reject larger
// vectors (and queries) before storing them.
const MaxNorm = 1 << 60

// prepare validates vec and returns the copy the index stores: normalized
// for Cosine, verbatim otherwise.
func prepare(vec []float32, dim int, m Metric) ([]float32, error) {
	if err := checkVector(vec, dim); err != nil {
		return nil, err
	}
	out := make([]float32, dim)
	copy(out, vec)
	if m == Cosine {
		if !normalize(out) {
			return nil, ErrZeroNorm
		}
	}
	return out, nil
}

// unitScale returns the factor that scales v to unit L2 norm, and false
// when v's norm is zero or not finite. normalize and CheckVector share it
// so that a vector CheckVector accepts is one normalize can scale.
func unitScale(v []float32) (float32, bool) {
	n := math.Sqrt(float64(dot32(v, v)))
	if n == 0 || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, false
	}
	return float32(1 / n), true
}

// normalize scales v to unit L2 norm in place. It reports false, leaving v
// unchanged, when v has zero (or non-finite) norm.
func normalize(v []float32) bool {
	inv, ok := unitScale(v)
	if !ok {
		return false
	}
	for i := range v {
		v[i] *= inv
	}
	return true
}

// distance computes the metric's distance between a stored vector and a
// prepared query.
func distance(m Metric, a, b []float32) float32 {
	switch m {
	case Cosine:
		return 1 - dot32(a, b)
	case Dot:
		return -dot32(a, b)
	default:
		return l2sq32(a, b)
	}
}
