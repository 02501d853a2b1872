package index

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

type int8KernelSet struct {
	name string
	dot  func(a, b []int8) int32
	l2sq func(a, b []int8) int32
}

func allInt8Kernels() []int8KernelSet {
	ks := []int8KernelSet{
		{name: "dispatch", dot: DotInt8, l2sq: L2SqInt8},
		{name: "generic", dot: dotInt8Generic, l2sq: l2sqInt8Generic},
	}
	return append(ks, archInt8Kernels()...)
}

func refInt8(a, b []int8) (dot, l2 int64) {
	for i := range a {
		x, y := int64(a[i]), int64(b[i])
		dot += x * y
		l2 += (x - y) * (x - y)
	}
	return dot, l2
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
					dot, l2 := refInt8(a, b)
					if got := k.dot(a, b); int64(got) != dot {
						t.Fatalf("dot n=%d off=%d: got %d want %d", n, o, got, dot)
					}
					if got := k.l2sq(a, b); int64(got) != l2 {
						t.Fatalf("l2sq n=%d off=%d: got %d want %d", n, o, got, l2)
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
			dot, l2 := refInt8(c.a, c.b)
			if got := k.dot(c.a, c.b); int64(got) != dot {
				t.Errorf("%s %s: dot %d, want %d", k.name, c.name, got, dot)
			}
			if got := k.l2sq(c.a, c.b); int64(got) != l2 {
				t.Errorf("%s %s: l2sq %d, want %d", k.name, c.name, got, l2)
			}
		}
	}
}

func TestDotInt8Rows(t *testing.T) {
	r := rand.New(rand.NewPCG(45, 46))
	impls := map[string]func(q, data []int8, dim int, rows []uint32, out []int32){
		"dispatch": DotInt8Rows, "generic": dotInt8RowsGeneric,
	}
	for name, impl := range impls {
		for _, dim := range []int{1, 7, 31, 32, 33, 100, 127, 128, 129, 384, 385, 768} {
			const nrows = 40
			off := r.IntN(16)
			data := randCodes(r, off+nrows*dim)[off:]
			q := randCodes(r, dim)
			for _, n := range []int{0, 1, 3, 32} {
				rows := make([]uint32, n+1)
				for i := range rows {
					rows[i] = uint32(r.IntN(nrows))
				}
				if n > 0 {
					rows[0] = nrows - 1
				}
				out := make([]int32, n+1)
				out[n] = 42
				impl(q, data, dim, rows, out[:n])
				for i := range n {
					want, _ := refInt8(q, data[int(rows[i])*dim:int(rows[i]+1)*dim])
					if int64(out[i]) != want {
						t.Fatalf("%s dim=%d i=%d: got %d want %d", name, dim, i, out[i], want)
					}
				}
				if out[n] != 42 {
					t.Fatalf("%s dim=%d n=%d: wrote past out", name, dim, n)
				}
			}
		}
	}
	for _, c := range []struct {
		name string
		rows []uint32
		outN int
	}{{"row outside", []uint32{5}, 1}, {"too few rows", []uint32{0}, 2}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", c.name)
				}
			}()
			DotInt8Rows(make([]int8, 4), make([]int8, 20), 4, c.rows, make([]int32, c.outN))
		}()
	}
}

func TestQuantizerEncodeDecode(t *testing.T) {
	q, err := NewQuantizer(0.01)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in   float32
		want int8
	}{
		{0, 0}, {0.004, 0}, {0.006, 1}, {-0.006, -1}, {0.015, 2}, {-0.015, -2},
		{1.27, 127}, {1.2649, 126}, {5, 127}, {-5, -127}, {-1.27, -127},
		{float32(math.MaxFloat32), 127}, {-float32(math.MaxFloat32), -127},
	}
	for _, c := range cases {
		var code [1]int8
		q.Encode(code[:], []float32{c.in})
		if code[0] != c.want {
			t.Errorf("Encode(%v) = %d, want %d", c.in, code[0], c.want)
		}
	}
	r := rand.New(rand.NewPCG(33, 34))
	v := make([]float32, 500)
	for i := range v {
		v[i] = (r.Float32()*2 - 1) * 1.27
	}
	codes := make([]int8, len(v))
	back := make([]float32, len(v))
	q.Encode(codes, v)
	q.Decode(back, codes)
	for i := range v {
		if math.Abs(float64(back[i]-v[i])) > 0.005+1e-6 {
			t.Fatalf("component %d: %v decoded as %v, error above half a step", i, v[i], back[i])
		}
	}
	// Distances of codes approximate distances of vectors.
	w := make([]float32, len(v))
	for i := range w {
		w[i] = (r.Float32()*2 - 1) * 1.27
	}
	cw := make([]int8, len(w))
	q.Encode(cw, w)
	if got, want := q.Dot(codes, cw), Dot32(v, w); math.Abs(float64(got-want)) > 0.02*math.Sqrt(float64(len(v))) {
		t.Errorf("Dot estimate %v, want about %v", got, want)
	}
	if got, want := q.L2Sq(codes, cw), L2Sq32(v, w); math.Abs(float64(got-want)) > 0.01*float64(want) {
		t.Errorf("L2Sq estimate %v, want about %v", got, want)
	}
}

func TestQuantizerErrors(t *testing.T) {
	nan := float32(math.NaN())
	for _, s := range []float32{0, -1, nan, float32(math.Inf(1)), 1e-45} {
		if _, err := NewQuantizer(s); !errors.Is(err, ErrQuantizer) {
			t.Errorf("NewQuantizer(%v): err %v, want ErrQuantizer", s, err)
		}
	}
	cases := map[string][]float32{
		"empty": nil, "zeros": make([]float32, 10), "nan": {1, nan}, "inf": {float32(math.Inf(-1))},
	}
	for name, sample := range cases {
		if _, err := TrainQuantizer(sample); !errors.Is(err, ErrQuantizer) {
			t.Errorf("TrainQuantizer(%s): err %v, want ErrQuantizer", name, err)
		}
	}
	q, err := TrainQuantizer([]float32{0, 0, 0, 0.5})
	if err != nil || q.Scale() != 0.5/127 {
		t.Errorf("mostly-zero sample: scale %v, err %v", q.Scale(), err)
	}
}

// clusteredUnit draws the anchor data set's distribution: Gaussian centres,
// per-coordinate noise 0.35, L2-normalized.
func clusteredUnit(r *rand.Rand, centers [][]float32) []float32 {
	c := centers[r.IntN(len(centers))]
	v := make([]float32, len(c))
	for i := range v {
		v[i] = c[i] + 0.35*float32(r.NormFloat64())
	}
	Normalize(v)
	return v
}

// TestQuantizerRecall measures recall@10 of ranking by int8 codes against
// exact float32 ranking, with and without float re-ranking of a short list.
func TestQuantizerRecall(t *testing.T) {
	n, nq := 5000, 50
	if testing.Short() {
		n, nq = 2000, 20
	}
	const dim, k = 384, 10
	r := rand.New(rand.NewPCG(35, 36))
	centers := make([][]float32, 64)
	for i := range centers {
		centers[i] = randVec(r, dim)
	}
	data := make([]float32, 0, n*dim)
	for range n {
		data = append(data, clusteredUnit(r, centers)...)
	}
	trained, err := TrainQuantizer(data)
	if err != nil {
		t.Fatal(err)
	}
	var maxAbs float32
	for _, x := range data {
		maxAbs = max(maxAbs, float32(math.Abs(float64(x))))
	}
	byMax, err := NewQuantizer(maxAbs / 127)
	if err != nil {
		t.Fatal(err)
	}
	queries := make([][]float32, nq)
	for i := range queries {
		queries[i] = clusteredUnit(r, centers)
	}
	recall := func(q Quantizer, rerank int) float64 {
		codes := make([]int8, len(data))
		q.Encode(codes, data)
		hits := 0
		qc := make([]int8, dim)
		for _, qv := range queries {
			exact := make([]Result, n)
			approx := make([]Result, n)
			q.Encode(qc, qv)
			for i := range n {
				exact[i] = Result{ID: uint64(i), Distance: -Dot32(qv, data[i*dim:(i+1)*dim])}
				approx[i] = Result{ID: uint64(i), Distance: -q.Dot(qc, codes[i*dim:(i+1)*dim])}
			}
			slices.SortFunc(exact, flatCmp)
			slices.SortFunc(approx, flatCmp)
			short := approx[:max(k, rerank)]
			if rerank > 0 {
				for j := range short {
					i := short[j].ID
					short[j].Distance = -Dot32(qv, data[i*dim:(i+1)*dim])
				}
				slices.SortFunc(short, flatCmp)
			}
			for _, e := range exact[:k] {
				for _, a := range short[:k] {
					if a.ID == e.ID {
						hits++
						break
					}
				}
			}
		}
		return float64(hits) / float64(nq*k)
	}
	rTrained, rMax, rRerank := recall(trained, 0), recall(byMax, 0), recall(trained, 4*k)
	t.Logf("recall@10 int8 only: trained scale %.4f, max-abs scale %.4f; trained + float re-rank of top %d: %.4f",
		rTrained, rMax, 4*k, rRerank)
	if rTrained < 0.9 || rRerank < 0.99 {
		t.Fatalf("int8 recall too low: %.4f (re-ranked %.4f)", rTrained, rRerank)
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
