package index

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// ptrKernel is one implementation of the pointer-list kernels.
type ptrKernel struct {
	name      string
	dot, l2sq func(a, b []float32) float32 // the single kernels it must match bit for bit
	dotPtrs   func(q []float32, rows []*float32, out []float32)
	l2sqPtrs  func(q []float32, rows []*float32, out []float32)
}

// ptrKernelSets presents every pointer-list kernel as a kernelSet whose row
// forms go through it, so each test of the row kernels (all lengths, tails,
// bit-identity with the single kernels, the guard page) covers them too.
func ptrKernelSets() []kernelSet {
	impls := append([]ptrKernel{
		{name: "dispatch", dot: dot32, l2sq: l2sq32, dotPtrs: dotPtrs, l2sqPtrs: l2sqPtrs},
		{name: "generic", dot: dot32, l2sq: l2sq32, dotPtrs: dotPtrsGeneric, l2sqPtrs: l2sqPtrsGeneric},
	}, archPtrKernels()...)
	var ks []kernelSet
	for _, p := range impls {
		wrap := func(f func(q []float32, rows []*float32, out []float32)) func(q, data []float32, dim int, rows []uint32, out []float32) {
			return func(q, data []float32, dim int, rows []uint32, out []float32) {
				ptrs := make([]*float32, len(out))
				if dim > 0 {
					for i := range out {
						row := data[int(rows[i])*dim : int(rows[i]+1)*dim]
						ptrs[i] = &row[0]
					}
				}
				f(q, ptrs, out)
			}
		}
		// The batch forms are tested with their own families; here they
		// are the single kernel in a loop.
		loop := func(f func(a, b []float32) float32) func(q, rows []float32, dim int, out []float32) {
			return func(q, rows []float32, dim int, out []float32) {
				for i := range out {
					out[i] = f(q, rows[i*dim:(i+1)*dim])
				}
			}
		}
		ks = append(ks, kernelSet{name: "ptrs-" + p.name, dot: p.dot, l2sq: p.l2sq,
			dotBatch: loop(p.dot), l2sqBatch: loop(p.l2sq),
			dotRows: wrap(p.dotPtrs), l2sqRows: wrap(p.l2sqPtrs)})
	}
	return ks
}

func TestPtrKernelsZeroDim(t *testing.T) {
	out := []float32{1, 2}
	dotPtrs(nil, []*float32{nil, nil}, out)
	if out[0] != 0 || out[1] != 0 {
		t.Fatalf("dotPtrs with dim 0: %v, want zeros", out)
	}
	out = []float32{1, 2}
	l2sqPtrs(nil, []*float32{nil, nil}, out)
	if out[0] != 0 || out[1] != 0 {
		t.Fatalf("l2sqPtrs with dim 0: %v, want zeros", out)
	}
	// No rows: nothing is read or written.
	dotPtrs(make([]float32, 3), nil, nil)
	l2sqPtrs(make([]float32, 3), nil, nil)
}

// TestPtrKernelsAllLengthsAndOffsets checks every pointer-list kernel at
// every length up to 1024, against the float64 reference and bit for bit
// against its family's single kernel, with rows at every float offset of
// a cache line (small lengths) and the whole-row prefetch running ahead
// into the next row.
func TestPtrKernelsAllLengthsAndOffsets(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	const maxLen, maxOff = 1024, 15
	impls := append([]ptrKernel{
		{name: "dispatch", dot: dot32, l2sq: l2sq32, dotPtrs: dotPtrs, l2sqPtrs: l2sqPtrs},
		{name: "generic", dot: dot32, l2sq: l2sq32, dotPtrs: dotPtrsGeneric, l2sqPtrs: l2sqPtrsGeneric},
	}, archPtrKernels()...)
	pool := randVec(r, 4*(maxLen+maxOff+1))
	q0 := randVec(r, maxLen+maxOff+1)
	for _, k := range impls {
		t.Run(k.name, func(t *testing.T) {
			out := make([]float32, 5)
			for n := 1; n <= maxLen; n++ {
				offs := []int{0, 7}
				if n < 200 || n%37 == 0 || n == maxLen {
					offs = offs[:0]
					for o := 0; o <= maxOff; o++ {
						offs = append(offs, o)
					}
				}
				for _, o := range offs {
					q := q0[(o*5)%16 : (o*5)%16+n]
					stride := n + maxOff + 1
					row := func(i int) []float32 { return pool[i*stride+o : i*stride+o+n] }
					// Four distinct rows and a repeat, out of order.
					rows := []*float32{&row(2)[0], &row(0)[0], &row(3)[0], &row(2)[0], &row(1)[0]}
					idx := []int{2, 0, 3, 2, 1}
					out[4] = 42
					k.dotPtrs(q, rows[:4], out[:4])
					if out[4] != 42 {
						t.Fatalf("dot n=%d: wrote past out", n)
					}
					k.dotPtrs(q, rows, out)
					for i, ri := range idx {
						want, mag := refDot(q, row(ri))
						if !close32(out[i], want, mag, n) {
							t.Fatalf("dot n=%d off=%d row %d: got %v want %v", n, o, i, out[i], want)
						}
						if s := k.dot(q, row(ri)); out[i] != s {
							t.Fatalf("dot n=%d off=%d row %d: %v, single kernel %v", n, o, i, out[i], s)
						}
					}
					k.l2sqPtrs(q, rows, out)
					for i, ri := range idx {
						want, mag := refL2(q, row(ri))
						if !close32(out[i], want, mag, n) {
							t.Fatalf("l2sq n=%d off=%d row %d: got %v want %v", n, o, i, out[i], want)
						}
						if s := k.l2sq(q, row(ri)); out[i] != s {
							t.Fatalf("l2sq n=%d off=%d row %d: %v, single kernel %v", n, o, i, out[i], s)
						}
					}
				}
			}
		})
	}
}

// BenchmarkDotPtrs scores, with the pointer-list kernel the graph search
// uses, 16 random rows (about the unvisited part of one
// neighbour list) of a 100k x 384 data set, against a loop over dot32.
func BenchmarkDotPtrs(b *testing.B) {
	const n, dim, deg = 100_000, 384, 16
	r := rand.New(rand.NewPCG(7, 7))
	data := make([]float32, n*dim)
	for i := range data {
		data[i] = r.Float32()
	}
	q := data[:dim]
	rows := make([]*float32, 1<<16)
	for i := range rows {
		rows[i] = &data[r.IntN(n)*dim]
	}
	out := make([]float32, deg)
	b.Run("dotPtrs", func(b *testing.B) {
		i := 0
		for b.Loop() {
			dotPtrs(q, rows[i:i+deg], out)
			i = (i + deg) % (len(rows) - deg)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*deg), "ns/row")
	})
	b.Run("dot32-loop", func(b *testing.B) {
		i := 0
		for b.Loop() {
			for j, p := range rows[i : i+deg] {
				out[j] = dot32(q, unsafe.Slice(p, dim))
			}
			i = (i + deg) % (len(rows) - deg)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*deg), "ns/row")
	})
}
