// Package synth generates the bench's synthetic clustered vector data sets
// and their exact ground truth, and caches them as fvecs/ivecs files.
//
// The recipe (shared/notes/anchors.md, where the hnswlib reference figures
// were measured on the same data): C Gaussian centers with N(0,1)
// coordinates; each point is a uniformly chosen center plus independent
// N(0, sigma²) noise per coordinate, then L2-normalized; queries are drawn
// the same way from the same centers. Ground truth is the exact top-100 by
// inner product (cosine, as the vectors are unit length), computed with
// vecbolt's exact index.
//
// Determinism: every row has its own PCG stream derived from (seed, role,
// row), so the data do not depend on how many goroutines generate them, and
// a data set is fully named by its Spec. A cached copy is trusted only if
// its recorded Spec matches and the files have the expected shape.
package synth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/vecbolt/vecbolt/bench/internal/vecio"
	"github.com/vecbolt/vecbolt/index"
)

// Spec names a synthetic data set.
type Spec struct {
	N       int     `json:"n"`
	Queries int     `json:"queries"`
	Dim     int     `json:"dim"`
	Centers int     `json:"centers"`
	Sigma   float64 `json:"sigma"`
	Seed    uint64  `json:"seed"`
	// GTK is the depth of the stored ground truth.
	GTK int `json:"gt_k"`
}

// Default returns the anchors.md recipe at n points.
func Default(n int) Spec {
	return Spec{N: n, Queries: 1000, Dim: 384, Centers: 256, Sigma: 0.35, Seed: 42, GTK: 100}
}

// Name is a file-system-safe name for the data set.
func (s Spec) Name() string {
	return fmt.Sprintf("clustered-d%d-c%d-s%g-n%d-q%d-seed%d", s.Dim, s.Centers, s.Sigma, s.N, s.Queries, s.Seed)
}

// Validate reports a spec that cannot be generated.
func (s Spec) Validate() error {
	switch {
	case s.N < 1 || s.N > 1<<31-1:
		return fmt.Errorf("synth: n %d out of range", s.N)
	case s.Queries < 1:
		return fmt.Errorf("synth: queries %d must be positive", s.Queries)
	case s.Dim < 1 || s.Dim > vecio.MaxDim:
		return fmt.Errorf("synth: dim %d out of range", s.Dim)
	case s.Centers < 1:
		return fmt.Errorf("synth: centers %d must be positive", s.Centers)
	case !(s.Sigma >= 0) || math.IsInf(s.Sigma, 0):
		return fmt.Errorf("synth: sigma %v must be finite and non-negative", s.Sigma)
	case s.GTK < 1:
		return fmt.Errorf("synth: ground-truth depth %d must be positive", s.GTK)
	}
	return nil
}

// Data is a generated data set.
type Data struct {
	Spec    Spec
	Base    [][]float32
	Queries [][]float32
	// GT[i] lists the ids (row numbers in Base) of query i's exact nearest
	// neighbours, nearest first, min(GTK, N) of them.
	GT [][]int32
}

// Stream roles keep the centers, base rows and query rows on disjoint
// random streams.
const (
	roleCenter = 1
	roleBase   = 2
	roleQuery  = 3
)

func rng(seed uint64, role, row int) *rand.Rand {
	return rand.New(rand.NewPCG(seed^uint64(role)<<56, uint64(row)*0x9e3779b97f4a7c15+uint64(role)))
}

// Generate returns the base and query vectors of s (without ground truth).
func Generate(ctx context.Context, s Spec) (base, queries [][]float32, err error) {
	if err := s.Validate(); err != nil {
		return nil, nil, err
	}
	centers := make([][]float64, s.Centers)
	for c := range centers {
		r := rng(s.Seed, roleCenter, c)
		centers[c] = make([]float64, s.Dim)
		for j := range centers[c] {
			centers[c][j] = r.NormFloat64()
		}
	}
	base, err = rows(ctx, s, centers, roleBase, s.N)
	if err != nil {
		return nil, nil, err
	}
	queries, err = rows(ctx, s, centers, roleQuery, s.Queries)
	if err != nil {
		return nil, nil, err
	}
	return base, queries, nil
}

func rows(ctx context.Context, s Spec, centers [][]float64, role, n int) ([][]float32, error) {
	backing := make([]float32, n*s.Dim)
	out := make([][]float32, n)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if i%4096 == w && ctx.Err() != nil {
					errs[w] = ctx.Err()
					return
				}
				r := rng(s.Seed, role, i)
				c := centers[r.IntN(len(centers))]
				v := backing[i*s.Dim : (i+1)*s.Dim : (i+1)*s.Dim]
				var norm float64
				for j := range v {
					x := c[j] + s.Sigma*r.NormFloat64()
					v[j] = float32(x)
					norm += x * x
				}
				if norm > 0 {
					inv := 1 / math.Sqrt(norm)
					for j := range v {
						v[j] = float32(float64(v[j]) * inv)
					}
				}
				out[i] = v
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// GroundTruth returns, for each query, the ids of its k exact nearest
// neighbours in base by inner product, using the exact index's batch
// search on all cores.
func GroundTruth(ctx context.Context, base, queries [][]float32, k int) ([][]int32, error) {
	if len(base) == 0 {
		return nil, errors.New("synth: ground truth over an empty base")
	}
	f := index.NewFlat(len(base[0]), index.Dot)
	for i, v := range base {
		if err := f.Add(uint64(i), v); err != nil {
			return nil, fmt.Errorf("synth: ground truth: %w", err)
		}
	}
	const batch = 16
	gt := make([][]int32, len(queries))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := w * batch; start < len(queries); start += workers * batch {
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				end := min(start+batch, len(queries))
				res, err := f.SearchBatch(queries[start:end], k, nil)
				if err != nil {
					errs[w] = err
					return
				}
				for i, rs := range res {
					ids := make([]int32, len(rs))
					for j, r := range rs {
						ids[j] = int32(r.ID)
					}
					gt[start+i] = ids
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("synth: ground truth: %w", err)
	}
	return gt, nil
}

// Files are the paths of a cached data set.
type Files struct {
	Dir, Base, Queries, GT, Meta string
}

// FilesFor returns where s is cached under dir.
func FilesFor(dir string, s Spec) Files {
	d := filepath.Join(dir, s.Name())
	return Files{Dir: d, Base: filepath.Join(d, "base.fvecs"), Queries: filepath.Join(d, "query.fvecs"),
		GT: filepath.Join(d, "groundtruth.ivecs"), Meta: filepath.Join(d, "spec.json")}
}

// Load returns s from the cache in dir, generating and caching it first if
// it is missing or does not match. generated reports which happened.
func Load(ctx context.Context, dir string, s Spec) (d *Data, generated bool, err error) {
	if err := s.Validate(); err != nil {
		return nil, false, err
	}
	fs := FilesFor(dir, s)
	if d, err := readCached(fs, s); err == nil {
		return d, false, nil
	}
	base, queries, err := Generate(ctx, s)
	if err != nil {
		return nil, false, err
	}
	gt, err := GroundTruth(ctx, base, queries, min(s.GTK, s.N))
	if err != nil {
		return nil, false, err
	}
	d = &Data{Spec: s, Base: base, Queries: queries, GT: gt}
	if err := os.MkdirAll(fs.Dir, 0o755); err != nil {
		return nil, false, fmt.Errorf("synth: cache: %w", err)
	}
	// The spec is written last: its presence marks a complete data set.
	os.Remove(fs.Meta)
	steps := []struct {
		path  string
		write func(io.Writer) error
	}{
		{fs.Base, func(w io.Writer) error { return vecio.WriteFvecs(w, base) }},
		{fs.Queries, func(w io.Writer) error { return vecio.WriteFvecs(w, queries) }},
		{fs.GT, func(w io.Writer) error { return vecio.WriteIvecs(w, gt) }},
		{fs.Meta, func(w io.Writer) error { return json.NewEncoder(w).Encode(s) }},
	}
	for _, st := range steps {
		if err := vecio.WriteFileAtomic(st.path, st.write); err != nil {
			return nil, false, fmt.Errorf("synth: cache %s: %w", st.path, err)
		}
	}
	return d, true, nil
}

func readCached(fs Files, s Spec) (*Data, error) {
	b, err := os.ReadFile(fs.Meta)
	if err != nil {
		return nil, err
	}
	var got Spec
	if err := json.Unmarshal(b, &got); err != nil {
		return nil, err
	}
	if got != s {
		return nil, fmt.Errorf("synth: cached spec %+v differs from %+v", got, s)
	}
	base, dim, err := vecio.ReadFvecsFile(fs.Base, vecio.Options{WantDim: s.Dim})
	if err != nil {
		return nil, err
	}
	queries, _, err := vecio.ReadFvecsFile(fs.Queries, vecio.Options{WantDim: s.Dim})
	if err != nil {
		return nil, err
	}
	gtk := min(s.GTK, s.N)
	gt, _, err := vecio.ReadIvecsFile(fs.GT, vecio.Options{WantDim: gtk})
	if err != nil {
		return nil, err
	}
	if dim != s.Dim || len(base) != s.N || len(queries) != s.Queries || len(gt) != s.Queries {
		return nil, fmt.Errorf("synth: cached files have the wrong shape")
	}
	for i, row := range gt {
		for _, id := range row {
			if int(id) >= s.N {
				return nil, fmt.Errorf("synth: cached ground truth row %d names id %d beyond n", i, id)
			}
		}
	}
	return &Data{Spec: s, Base: base, Queries: queries, GT: gt}, nil
}

// CacheDir returns the bench's default cache directory: $VECBOLT_CACHE/bench
// if set, else the OS user cache dir's vecbolt/bench.
func CacheDir() (string, error) {
	if d := os.Getenv("VECBOLT_CACHE"); d != "" {
		return filepath.Join(d, "bench"), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("synth: no cache directory (set VECBOLT_CACHE or --cache): %w", err)
	}
	return filepath.Join(d, "vecbolt", "bench"), nil
}
