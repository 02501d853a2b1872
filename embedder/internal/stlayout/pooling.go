package stlayout

import (
	"fmt"
	"github.com/vecbolt/vecbolt/embedder"
	"math"
)

// normEpsilon is the smallest norm L2 normalization divides by, as
// torch.nn.functional.normalize clamps it, so an all-zero vector stays zero
// instead of becoming NaN.
const normEpsilon = 1e-12

// PoolInto combines one sequence's token vectors into dst.
//
// hidden holds seqLen*dim values (the sequence's rows of last_hidden_state),
// mask its attention mask. Mean pooling accumulates in float64 so long
// sequences lose no precision, and divides by max(count, 1e-9) like
// sentence-transformers (a fully masked row yields zeros, not NaN).
func PoolInto(dst []float32, hidden []float32, mask []int64, dim int, p embedder.Pooling) {
	switch p {
	case embedder.PoolingCLS:
		copy(dst, hidden[:dim])
	default:
		// A stack buffer covers every common hidden size (384, 512 ...)
		// without allocating per text.
		var acc [1024]float64
		var sum []float64
		if dim <= len(acc) {
			sum = acc[:dim]
		} else {
			sum = make([]float64, dim)
		}
		var n float64
		for t, m := range mask {
			if m == 0 {
				continue
			}
			n++
			row := hidden[t*dim : (t+1)*dim]
			for j, v := range row {
				sum[j] += float64(v)
			}
		}
		n = math.Max(n, 1e-9)
		for j := range dst {
			dst[j] = float32(sum[j] / n)
		}
	}
}

// NormalizeL2 scales v to unit length in place; a norm below normEpsilon is
// clamped to it.
func NormalizeL2(v []float32) {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	n := math.Max(math.Sqrt(ss), normEpsilon)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
}

// CheckFinite reports the first NaN or Inf in v: a model emitting one is
// broken, and such a vector must never reach the index.
func CheckFinite(v []float32) error {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("component %d is %v", i, x)
		}
	}
	return nil
}
