//go:build amd64 && !purego

package bert

import (
	"testing"
)

// BenchmarkGemmKernels compares the AVX2 and AVX-512 kernels on this CPU
// (on Zen 4, which runs AVX-512 as two 256-bit halves, they should tie).
func BenchmarkGemmKernels(b *testing.B) {
	if !hasAVX512 {
		b.Skip("no AVX-512")
	}
	defer func(v bool) { hasAVX512 = v }(hasAVX512)
	for _, on := range []bool{false, true} {
		name := "avx2"
		if on {
			name = "avx512"
		}
		b.Run(name, func(b *testing.B) {
			hasAVX512 = on
			BenchmarkGemm(b)
		})
	}
}
