package index

import (
	"errors"
	"math"
	"testing"
)

// CheckVector must accept exactly what Add accepts, with the same error:
// callers rely on it to refuse, before committing anything, a vector the
// index would refuse afterwards. The cases are those a float64 check gets
// wrong (float32 norms that underflow or overflow) and their neighbours.
func TestCheckVectorMatchesAdd(t *testing.T) {
	tiny := float32(math.SmallestNonzeroFloat32)
	cases := []struct {
		name string
		v    []float32
	}{
		{"unit", []float32{1, 0, 0, 0}},
		{"zero", []float32{0, 0, 0, 0}},
		{"subnormal component", []float32{tiny, 0, 0, 0}},
		{"1e-45 everywhere", []float32{1e-45, 1e-45, 1e-45, 1e-45}},
		{"1e-23: square underflows", []float32{1e-23, 0, 0, 0}},
		{"3e-23: square rounds to the smallest subnormal", []float32{3e-23, 0, 0, 0}},
		{"1e-19", []float32{1e-19, 0, 0, 0}},
		{"1e19", []float32{1e19, 0, 0, 0}},
		{"1e20: square overflows", []float32{1e20, 1e20, 1e20, 1e20}},
		{"max float32", []float32{math.MaxFloat32, 0, 0, 0}},
		{"mixed huge and tiny", []float32{1e20, -1e20, tiny, 0}},
		{"NaN", []float32{float32(math.NaN()), 0, 0, 0}},
		{"+Inf", []float32{float32(math.Inf(1)), 0, 0, 0}},
		{"short", []float32{1, 0, 0}},
	}
	for _, m := range []Metric{Cosine, Dot, L2} {
		for _, tc := range cases {
			t.Run(m.String()+"/"+tc.name, func(t *testing.T) {
				check := CheckVector(tc.v, 4, m)
				h8, err := NewHNSW(4, m, WithInt8())
				if err != nil {
					t.Fatal(err)
				}
				h, err := NewHNSW(4, m)
				if err != nil {
					t.Fatal(err)
				}
				for name, idx := range map[string]Index{"flat": NewFlat(4, m), "hnsw": h, "hnsw-int8": h8} {
					add := idx.Add(1, tc.v)
					if (check == nil) != (add == nil) {
						t.Fatalf("%s: CheckVector says %v, Add says %v", name, check, add)
					}
					if check != nil && !errors.Is(add, unwrapSentinel(check)) {
						t.Fatalf("%s: CheckVector says %v, Add says %v", name, check, add)
					}
					if add != nil {
						continue
					}
					// Accepted: a search for it finds it at a finite distance.
					res, err := idx.Search(tc.v, 1, nil)
					if err != nil || len(res) != 1 || res[0].ID != 1 {
						t.Fatalf("%s: search for the accepted vector: %v %v", name, res, err)
					}
				}
			})
		}
	}
}

// unwrapSentinel returns which of the index's sentinels err wraps.
func unwrapSentinel(err error) error {
	for _, s := range []error{ErrDimension, ErrNotFinite, ErrZeroNorm} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}

// Every distance between two vectors of norm at most MaxNorm is finite,
// under every metric, on float32 and int8 storage, at the largest
// dimension a collection may have. The vectors are the worst cases for
// each kernel: all the norm in one component, spread evenly (the most
// rounding, and the most int8 code rounding), and opposed (the largest
// L2 distance).
func TestMaxNormDistancesFinite(t *testing.T) {
	const dim = 1 << 16
	b := float32(MaxNorm)
	spike := make([]float32, dim)
	spike[0] = b
	even := make([]float32, dim)
	// float32(MaxNorm/256) is exact, and 65,536 of its squares sum to
	// exactly MaxNorm².
	for i := range even {
		even[i] = b / 256
	}
	// One large component and the rest just big enough to round up to
	// int8 code 1: the code norm overestimates the vector's the most.
	lumpy := make([]float32, dim)
	lumpy[0] = b / 2
	for i := 1; i < dim; i++ {
		lumpy[i] = b / 2 / 127 * 0.5001 / 256
	}
	neg := func(v []float32) []float32 {
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = -x
		}
		return out
	}
	vecs := map[string][]float32{
		"spike": spike, "-spike": neg(spike),
		"even": even, "-even": neg(even),
		"lumpy": lumpy, "-lumpy": neg(lumpy),
	}
	for name, v := range vecs {
		var n2 float64
		for _, x := range v {
			n2 += float64(x) * float64(x)
		}
		if n2 > MaxNorm*MaxNorm {
			t.Fatalf("test vector %s has norm² %g above MaxNorm² %g", name, n2, float64(MaxNorm)*MaxNorm)
		}
	}
	for _, m := range []Metric{Cosine, Dot, L2} {
		for _, int8 := range []bool{false, true} {
			var opts []HNSWOption
			if int8 {
				opts = append(opts, WithInt8())
			}
			h, err := NewHNSW(dim, m, append(opts, WithM(4), WithEfConstruction(8))...)
			if err != nil {
				t.Fatal(err)
			}
			ids := map[uint64]string{}
			var id uint64
			for name, v := range vecs {
				if err := CheckVector(v, dim, m); err != nil {
					t.Fatalf("%v: CheckVector(%s): %v", m, name, err)
				}
				id++
				ids[id] = name
				if err := h.Add(id, v); err != nil {
					t.Fatalf("%v: Add(%s): %v", m, name, err)
				}
			}
			for qname, q := range vecs {
				res, err := h.searchEf(q, len(vecs), len(vecs), nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(res) != len(vecs) {
					t.Fatalf("%v int8=%v: query %s found %d of %d", m, int8, qname, len(res), len(vecs))
				}
				for _, r := range res {
					d := float64(r.Distance)
					if math.IsNaN(d) || math.IsInf(d, 0) {
						t.Errorf("%v int8=%v: distance from %s to %s is %v", m, int8, qname, ids[r.ID], r.Distance)
					}
				}
				for sid, sname := range ids {
					d := float64(distance(m, prepOrFail(t, vecs[sname], m), prepOrFail(t, q, m)))
					if math.IsNaN(d) || math.IsInf(d, 0) {
						t.Errorf("%v: float32 distance from %s to %s (id %d) is %v", m, qname, sname, sid, d)
					}
				}
			}
		}
	}
}

func prepOrFail(t *testing.T, v []float32, m Metric) []float32 {
	t.Helper()
	p, err := prepare(v, len(v), m)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
