package index

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

type int8KernelSet struct {
	name string
	dot  func(a, b []int8) int32
}

func allInt8Kernels() []int8KernelSet {
	ks := []int8KernelSet{
		{name: "dispatch", dot: dotInt8},
		{name: "generic", dot: dotInt8Generic},
	}
	return append(ks, archInt8Kernels()...)
}

func refInt8(a, b []int8) (dot int64) {
	for i := range a {
		dot += int64(a[i]) * int64(b[i])
	}
	return dot
}

func randCodes(r *rand.Rand, n int) []int8 {
	c := make([]int8, n)
	for i := range c {
		c[i] = int8(r.IntN(256) - 128)
	}
	return c
}

func TestInt8KernelsAllLengthsAndOffsets(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	const maxLen, maxOff = 1024, 15
	bufA := randCodes(r, maxLen+maxOff+1)
	bufB := randCodes(r, maxLen+maxOff+1)
	for _, k := range allInt8Kernels() {
		t.Run(k.name, func(t *testing.T) {
			for n := 0; n <= maxLen; n++ {
				for o := 0; o <= maxOff; o++ {
					a := bufA[o : o+n]
					b := bufB[(o*5)%16 : (o*5)%16+n]
					dot := refInt8(a, b)
					if got := k.dot(a, b); int64(got) != dot {
						t.Fatalf("dot n=%d off=%d: got %d want %d", n, o, got, dot)
					}
				}
			}
		})
	}
}

func TestInt8KernelsExtremes(t *testing.T) {
	fill8 := func(n int, x int8) []int8 {
		v := make([]int8, n)
		for i := range v {
			v[i] = x
		}
		return v
	}
	cases := []struct {
		name string
		a, b []int8
	}{
		{"min*min", fill8(1000, -128), fill8(1000, -128)},
		{"max*min", fill8(1001, 127), fill8(1001, -128)},
		{"max*max", fill8(129, 127), fill8(129, 127)},
		{"zeros", fill8(77, 0), fill8(77, 0)},
		{"empty", nil, nil},
	}
	for _, k := range allInt8Kernels() {
		for _, c := range cases {
			dot := refInt8(c.a, c.b)
			if got := k.dot(c.a, c.b); int64(got) != dot {
				t.Errorf("%s %s: dot %d, want %d", k.name, c.name, got, dot)
			}
		}
	}
}

func BenchmarkDotInt8(b *testing.B) {
	r := rand.New(rand.NewPCG(37, 38))
	var s int32
	for _, dim := range []int{384, 768} {
		x, y := randCodes(r, dim), randCodes(r, dim)
		for _, k := range allInt8Kernels() {
			b.Run(fmt.Sprintf("%s/%d", k.name, dim), func(b *testing.B) {
				for b.Loop() {
					s += k.dot(x, y)
				}
			})
		}
	}
	sink += float32(s)
}
