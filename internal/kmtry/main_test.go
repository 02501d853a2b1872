package kmtry

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
	"runtime"

	"github.com/vecbolt/vecbolt/analysis"
)

func TestSpeed(t *testing.T) {
	const n, dim, k = 100000, 384, 256
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]float32, n*dim)
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	for _, th := range []int{1} {
		runtime.GOMAXPROCS(th)
		var seeded time.Time
		t0 := time.Now()
		res, err := analysis.KMeans(context.Background(), data, dim, k, analysis.Spherical(), analysis.WithThreads(th), analysis.WithMaxIterations(5), analysis.WithTolerance(0),
			analysis.WithProgress(func(p analysis.KMeansProgress) { if p.Phase == "seeded" { seeded = time.Now() } }))
		if err != nil { t.Fatal(err) }
		t.Logf("threads %d: seed %v, per iter %v (%d iters)", th, seeded.Sub(t0), time.Since(seeded)/time.Duration(res.Iterations), res.Iterations)
	}
}
