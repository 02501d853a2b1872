package bert

import (
	"math"
	"testing"
)

// TestActivations: exp and GELU (the selected kernels and the portable
// code) against math.Exp and math.Erf over the ranges the network sees,
// including lengths that leave a tail after the eight-lane loop.
func TestActivations(t *testing.T) {
	var xs []float32
	for x := -30.0; x <= 30; x += 0.0137 {
		xs = append(xs, float32(x))
	}
	xs = append(xs, 0, -0, 1e-30, -1e-30, 5e-8)
	for _, n := range []int{len(xs), len(xs) - 3, 7, 1} {
		g := append([]float32(nil), xs[:n]...)
		gelu(g)
		gp := append([]float32(nil), xs[:n]...)
		geluGo(gp)
		for i, x := range xs[:n] {
			want := 0.5 * float64(x) * (1 + math.Erf(float64(x)/math.Sqrt2))
			for _, got := range []float32{g[i], gp[i]} {
				if d := math.Abs(float64(got) - want); d > 3e-7*(1+math.Abs(float64(x))) {
					t.Fatalf("gelu(%v) = %v, want %v (diff %.3g)", x, got, want, d)
				}
			}
		}
		// Softmax inputs: (s - max)·scale ≤ 0.
		e := append([]float32(nil), xs[:n]...)
		mx, scale := float32(30), float32(0.75)
		sum := expSum(e, mx, scale)
		ep := append([]float32(nil), xs[:n]...)
		sump := expSumGo(ep, mx, scale)
		var wantSum float64
		for i, x := range xs[:n] {
			arg := float64((x - mx) * scale)
			want := math.Exp(arg)
			wantSum += want
			for _, got := range []float32{e[i], ep[i]} {
				if arg < -87 {
					if got > 2e-38 {
						t.Fatalf("exp(%v) = %v, want about 0", arg, got)
					}
					continue
				}
				if d := math.Abs(float64(got)-want) / want; d > 3e-7 {
					t.Fatalf("exp(%v) = %v, want %v (relative error %.3g)", arg, got, want, d)
				}
			}
		}
		for _, s := range []float32{sum, sump} {
			if math.Abs(float64(s)-wantSum) > 1e-5*wantSum {
				t.Fatalf("sum of exps %v, want %v", s, wantSum)
			}
		}
	}
}
