package index

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

type kernelSet struct {
	name      string
	dot       func(a, b []float32) float32
	l2sq      func(a, b []float32) float32
	dotBatch  func(q, rows []float32, dim int, out []float32)
	l2sqBatch func(q, rows []float32, dim int, out []float32)
	dotRows   func(q, data []float32, dim int, rows []uint32, out []float32)
	l2sqRows  func(q, data []float32, dim int, rows []uint32, out []float32)
}

// allKernels is every implementation under test: the dispatching
// functions, the portable reference, each assembly variant the CPU runs,
// and the pointer-list kernels. The row forms (a query against rows picked
// by index) are the pointer-list kernels' own; the other families have
// none, so theirs is the single kernel in a loop (rowsVia).
func allKernels() []kernelSet {
	ks := []kernelSet{
		{name: "dispatch(" + simdName() + ")", dot: dot32, l2sq: l2sq32, dotBatch: dotBatch, l2sqBatch: l2sqBatch,
			dotRows: rowsVia(dot32), l2sqRows: rowsVia(l2sq32)},
		{name: "generic", dot: dotGeneric, l2sq: l2sqGeneric, dotBatch: dotBatchGeneric, l2sqBatch: l2sqBatchGeneric,
			dotRows: rowsVia(dotGeneric), l2sqRows: rowsVia(l2sqGeneric)},
	}
	ks = append(ks, archKernels()...)
	return append(ks, ptrKernelSets()...)
}

// rowsVia is the row form of a single kernel: out[i] = f(q, row rows[i]).
func rowsVia(f func(a, b []float32) float32) func(q, data []float32, dim int, rows []uint32, out []float32) {
	return func(q, data []float32, dim int, rows []uint32, out []float32) {
		for i, r := range rows[:len(out)] {
			out[i] = f(q, data[int(r)*dim:int(r+1)*dim])
		}
	}
}

// refDot and refL2 compute in float64 and also return the sum of absolute
// terms, which bounds the rounding error any float32 summation order makes.
func refDot(a, b []float32) (sum, mag float64) {
	for i := range a {
		p := float64(a[i]) * float64(b[i])
		sum += p
		mag += math.Abs(p)
	}
	return sum, mag
}

func refL2(a, b []float32) (sum, mag float64) {
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		sum += d * d
	}
	return sum, sum
}

// close32 accepts got when it is within float32 summation error of want:
// a few ulps per term relative to the magnitude of the terms.
func close32(got float32, want, mag float64, n int) bool {
	tol := 4*float64(n+2)*0x1p-24*mag + 1e-30
	return math.Abs(float64(got)-want) <= tol
}

func randVec(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func TestKernelsAllLengthsAndOffsets(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const maxLen, maxOff = 1024, 15
	bufA := randVec(r, maxLen+maxOff+1)
	bufB := randVec(r, maxLen+maxOff+1)
	for _, k := range allKernels() {
		t.Run(k.name, func(t *testing.T) {
			for n := 0; n <= maxLen; n++ {
				offs := []int{0}
				if n < 200 || n%37 == 0 || n == maxLen {
					offs = offs[:0]
					for o := 0; o <= maxOff; o++ {
						offs = append(offs, o)
					}
				}
				for _, o := range offs {
					a := bufA[o : o+n]
					b := bufB[(o*7)%16 : (o*7)%16+n] // a and b misaligned differently
					if got, want, mag := k.dot(a, b), 0.0, 0.0; true {
						want, mag = refDot(a, b)
						if !close32(got, want, mag, n) {
							t.Fatalf("dot n=%d off=%d: got %v want %v", n, o, got, want)
						}
					}
					if got, want, mag := k.l2sq(a, b), 0.0, 0.0; true {
						want, mag = refL2(a, b)
						if !close32(got, want, mag, n) {
							t.Fatalf("l2sq n=%d off=%d: got %v want %v", n, o, got, want)
						}
					}
				}
			}
		})
	}
}

func TestKernelsSpecialValues(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	cases := []struct {
		name     string
		a, b     []float32
		dot, l2  float32
		dotIsNaN bool
		l2IsNaN  bool
	}{
		{name: "empty", a: nil, b: nil, dot: 0, l2: 0},
		{name: "zeros", a: make([]float32, 37), b: make([]float32, 37), dot: 0, l2: 0},
		{name: "ones-33", a: fill(33, 1), b: fill(33, 1), dot: 33, l2: 0},
		{name: "opposite-17", a: fill(17, 2), b: fill(17, -2), dot: -68, l2: 272},
		{name: "inf-in-tail", a: withAt(fill(19, 1), 18, inf), b: fill(19, 1), dot: inf, l2: inf},
		{name: "nan-in-body", a: withAt(fill(100, 1), 3, nan), b: fill(100, 1), dotIsNaN: true, l2IsNaN: true},
		{name: "nan-in-tail", a: fill(70, 1), b: withAt(fill(70, 1), 69, nan), dotIsNaN: true, l2IsNaN: true},
		{name: "inf-minus-inf", a: []float32{inf, 1}, b: []float32{1, 1}, dot: inf, l2: inf},
		{name: "overflow", a: fill(64, 3e38), b: fill(64, 3e38), dot: inf, l2: 0},
		{name: "subnormal", a: fill(24, 1e-40), b: fill(24, 1e5), dot: 24 * 1e-40 * 1e5, l2: 24 * 1e10},
	}
	for _, k := range allKernels() {
		for _, c := range cases {
			t.Run(k.name+"/"+c.name, func(t *testing.T) {
				d := k.dot(c.a, c.b)
				if c.dotIsNaN != math.IsNaN(float64(d)) || (!c.dotIsNaN && !near(d, c.dot)) {
					t.Errorf("dot = %v, want %v (NaN=%v)", d, c.dot, c.dotIsNaN)
				}
				l := k.l2sq(c.a, c.b)
				if c.l2IsNaN != math.IsNaN(float64(l)) || (!c.l2IsNaN && !near(l, c.l2)) {
					t.Errorf("l2sq = %v, want %v (NaN=%v)", l, c.l2, c.l2IsNaN)
				}
			})
		}
	}
}

func near(got, want float32) bool {
	if math.IsInf(float64(want), 0) {
		return got == want
	}
	return math.Abs(float64(got-want)) <= 1e-5*math.Abs(float64(want))+1e-40
}

func fill(n int, x float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = x
	}
	return v
}

func withAt(v []float32, i int, x float32) []float32 { v[i] = x; return v }

func TestBatchKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	dims := []int{1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 100, 127, 128, 129, 383, 384, 385, 768, 1000}
	for _, k := range allKernels() {
		t.Run(k.name, func(t *testing.T) {
			for _, dim := range dims {
				for _, n := range []int{0, 1, 2, 3, 5, 17} {
					off := r.IntN(16)
					rows := randVec(r, off+n*dim)[off:]
					q := randVec(r, dim+off%5)[off%5:]
					out := make([]float32, n+1)
					out[n] = 42 // sentinel: must survive
					k.dotBatch(q, rows, dim, out[:n])
					for i := range n {
						want, mag := refDot(q, rows[i*dim:(i+1)*dim])
						if !close32(out[i], want, mag, dim) {
							t.Fatalf("dotBatch dim=%d row %d/%d: got %v want %v", dim, i, n, out[i], want)
						}
					}
					k.l2sqBatch(q, rows, dim, out[:n])
					for i := range n {
						want, mag := refL2(q, rows[i*dim:(i+1)*dim])
						if !close32(out[i], want, mag, dim) {
							t.Fatalf("l2sqBatch dim=%d row %d/%d: got %v want %v", dim, i, n, out[i], want)
						}
					}
					if out[n] != 42 {
						t.Fatalf("dim=%d n=%d: batch wrote past out", dim, n)
					}
				}
			}
		})
	}
}

func TestRowKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	dims := []int{1, 5, 15, 16, 17, 63, 64, 65, 127, 384, 385, 768}
	for _, k := range allKernels() {
		t.Run(k.name, func(t *testing.T) {
			for _, dim := range dims {
				const nrows = 50
				off := r.IntN(16)
				data := randVec(r, off+nrows*dim)[off:]
				q := randVec(r, dim)
				for _, n := range []int{0, 1, 2, 7, 33} {
					rows := make([]uint32, n+2) // longer than out: the extra are ignored
					for i := range rows {
						rows[i] = uint32(r.IntN(nrows))
					}
					if n > 1 {
						rows[0], rows[1] = nrows-1, rows[0] // last row and a repeat
					}
					out := make([]float32, n+1)
					out[n] = 42
					k.dotRows(q, data, dim, rows, out[:n])
					for i := range n {
						row := data[int(rows[i])*dim : int(rows[i]+1)*dim]
						if want, mag := refDot(q, row); !close32(out[i], want, mag, dim) {
							t.Fatalf("dotRows dim=%d i=%d: got %v want %v", dim, i, out[i], want)
						}
					}
					k.l2sqRows(q, data, dim, rows, out[:n])
					for i := range n {
						row := data[int(rows[i])*dim : int(rows[i]+1)*dim]
						if want, mag := refL2(q, row); !close32(out[i], want, mag, dim) {
							t.Fatalf("l2sqRows dim=%d i=%d: got %v want %v", dim, i, out[i], want)
						}
					}
					if out[n] != 42 {
						t.Fatalf("dim=%d n=%d: wrote past out", dim, n)
					}
				}
			}
		})
	}
}

func TestBatch4(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	impls := map[string]func(l2 bool, qs, rows []float32, dim int, out []float32){
		"dispatch": batch4, "single": batch4Single,
	}
	for name, impl := range impls {
		for _, dim := range []int{1, 3, 15, 16, 17, 31, 32, 33, 47, 48, 49, 100, 384, 385, 768} {
			for _, n := range []int{0, 1, 2, 5, 13} {
				off := r.IntN(16)
				qs := randVec(r, off+4*dim)[off:]
				rows := randVec(r, n*dim+off)[off:]
				out := make([]float32, 4*n+1)
				out[4*n] = 42
				for _, l2 := range []bool{false, true} {
					impl(l2, qs, rows, dim, out[:4*n])
					for i := range n {
						for j := range 4 {
							q, row := qs[j*dim:(j+1)*dim], rows[i*dim:(i+1)*dim]
							want, mag := refDot(q, row)
							if l2 {
								want, mag = refL2(q, row)
							}
							if got := out[4*i+j]; !close32(got, want, mag, dim) {
								t.Fatalf("%s l2=%v dim=%d row %d query %d: got %v want %v", name, l2, dim, i, j, got, want)
							}
						}
					}
					if out[4*n] != 42 {
						t.Fatalf("%s dim=%d n=%d: wrote past out", name, dim, n)
					}
				}
			}
		}
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("batch4 with short rows did not panic")
			}
		}()
		batch4(false, make([]float32, 8), make([]float32, 3), 2, make([]float32, 8))
	}()
}

// TestFormsBitIdentical checks the promise in distance.go: batch and
// four-query forms return exactly what the single kernels return.
func TestFormsBitIdentical(t *testing.T) {
	r := rand.New(rand.NewPCG(47, 48))
	for dim := 1; dim <= 800; dim += 1 + dim/8 {
		data := randVec(r, 6*dim)
		qs := randVec(r, 4*dim)
		q := qs[:dim]
		var b [6]float32
		var f [24]float32
		for _, l2 := range []bool{false, true} {
			single, batch := dot32, dotBatch
			if l2 {
				single, batch = l2sq32, l2sqBatch
			}
			batch(q, data, dim, b[:])
			batch4(l2, qs, data, dim, f[:])
			for i := range 6 {
				row := data[i*dim : (i+1)*dim]
				if want := single(q, row); b[i] != want {
					t.Fatalf("l2=%v dim=%d row %d: batch %v, single %v", l2, dim, i, b[i], want)
				}
				for j := range 4 {
					if want := single(qs[j*dim:(j+1)*dim], row); f[4*i+j] != want {
						t.Fatalf("l2=%v dim=%d row %d query %d: four-query %v, single %v", l2, dim, i, j, f[4*i+j], want)
					}
				}
			}
		}
	}
}

// TestKernelSetsBitIdentical checks the same promise within each kernel
// family, including the ones this CPU does not dispatch to.
func TestKernelSetsBitIdentical(t *testing.T) {
	r := rand.New(rand.NewPCG(49, 50))
	for _, k := range allKernels() {
		for dim := 1; dim <= 800; dim += 1 + dim/8 {
			data := randVec(r, 3*dim)
			q := randVec(r, dim)
			var b, g [3]float32
			rows := []uint32{2, 0, 1}
			k.dotBatch(q, data, dim, b[:])
			k.dotRows(q, data, dim, rows, g[:])
			for i := range 3 {
				if want := k.dot(q, data[i*dim:(i+1)*dim]); b[i] != want || g[(i+1)%3] != want {
					t.Fatalf("%s dim=%d row %d: batch %v rows %v single %v", k.name, dim, i, b[i], g[(i+1)%3], want)
				}
			}
			k.l2sqBatch(q, data, dim, b[:])
			k.l2sqRows(q, data, dim, rows, g[:])
			for i := range 3 {
				if want := k.l2sq(q, data[i*dim:(i+1)*dim]); b[i] != want || g[(i+1)%3] != want {
					t.Fatalf("%s l2 dim=%d row %d: batch %v rows %v single %v", k.name, dim, i, b[i], g[(i+1)%3], want)
				}
			}
		}
	}
}

func TestBatchContract(t *testing.T) {
	cases := []struct {
		name      string
		q, rows   []float32
		dim, outN int
		panics    bool
	}{
		{"ok", make([]float32, 4), make([]float32, 8), 4, 2, false},
		{"extra rows ignored", make([]float32, 4), make([]float32, 13), 4, 2, false},
		{"zero dim", nil, nil, 0, 3, false},
		{"short rows", make([]float32, 4), make([]float32, 7), 4, 2, true},
		{"query length", make([]float32, 3), make([]float32, 8), 4, 2, true},
		{"negative dim", nil, nil, -1, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if p := recover(); (p != nil) != c.panics {
					t.Fatalf("panic = %v, want panic %v", p, c.panics)
				}
			}()
			out := fill(c.outN, 9)
			dotBatch(c.q, c.rows, c.dim, out)
			for _, x := range out {
				if x != 0 {
					t.Fatalf("out = %v, want zeros", out)
				}
			}
		})
	}
}

func TestDot32PanicsOnShortB(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("dot32 with short b did not panic")
		}
	}()
	dot32(make([]float32, 5), make([]float32, 4))
}

var sink float32

func BenchmarkKernels(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, dim := range []int{128, 384, 768} {
		x, y := randVec(r, dim), randVec(r, dim)
		for _, k := range allKernels() {
			b.Run(fmt.Sprintf("dot32/%s/%d", k.name, dim), func(b *testing.B) {
				for b.Loop() {
					sink += k.dot(x, y)
				}
			})
			b.Run(fmt.Sprintf("l2sq32/%s/%d", k.name, dim), func(b *testing.B) {
				for b.Loop() {
					sink += k.l2sq(x, y)
				}
			})
		}
	}
}

// BenchmarkDot32 measures the public entry point exactly as callers use it.
func BenchmarkDot32(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, dim := range []int{384, 768} {
		x, y := randVec(r, dim), randVec(r, dim)
		b.Run(fmt.Sprint(dim), func(b *testing.B) {
			for b.Loop() {
				sink += dot32(x, y)
			}
		})
	}
}

// BenchmarkL2Sq32 is BenchmarkDot32 for squared L2.
func BenchmarkL2Sq32(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, dim := range []int{384, 768} {
		x, y := randVec(r, dim), randVec(r, dim)
		b.Run(fmt.Sprint(dim), func(b *testing.B) {
			for b.Loop() {
				sink += l2sq32(x, y)
			}
		})
	}
}

// BenchmarkDotBatch reports time per row for 64 rows that fit in cache, to
// compare with BenchmarkDot32's per-call figure.
func BenchmarkDotBatch(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	const n = 64
	for _, dim := range []int{384, 768} {
		q, rows := randVec(r, dim), randVec(r, n*dim)
		out := make([]float32, n)
		for _, k := range allKernels() {
			b.Run(fmt.Sprintf("%s/%d", k.name, dim), func(b *testing.B) {
				for b.Loop() {
					k.dotBatch(q, rows, dim, out)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
			})
		}
	}
}
