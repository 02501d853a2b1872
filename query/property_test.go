package query

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// gen builds random valid filters and documents over a small field set, so
// that fields collide often and every rule gets exercised.
type gen struct{ r *rand.Rand }

func genFields() []string { return []string{"a", "b", "tags", "odd name", "and", "x.y-z"} }

func (g gen) field() string {
	fs := genFields()
	return fs[g.r.IntN(len(fs))]
}

func (g gen) scalar(kind Kind) Value {
	switch kind {
	case KindString:
		return String([]string{"", "en", "de", "é", "a\"b", "\n\x00"}[g.r.IntN(6)])
	case KindInt:
		return Int([]int64{0, 1, -1, 2020, math.MaxInt64, math.MinInt64, 1<<53 + 1}[g.r.IntN(7)])
	case KindFloat:
		return Float([]float64{0, 0.5, -1.5, 2020, 1e300, 1 << 53, math.Copysign(0, -1)}[g.r.IntN(7)])
	case KindBool:
		return Bool(g.r.IntN(2) == 0)
	}
	return Strings([]string{"go", "db"}[:g.r.IntN(3)]...)
}

func (g gen) kind() Kind { return Kind(1 + g.r.IntN(5)) }

func (g gen) value() Value { return g.scalar(g.kind()) }

func (g gen) filter(depth int) Filter {
	n := 6
	if depth > 0 {
		n = 9
	}
	switch g.r.IntN(n) {
	case 0, 1:
		ctor := []func(string, any) Filter{Eq, Ne, Gt, Gte, Lt, Lte}[g.r.IntN(6)]
		v := g.value()
		for ctor(g.field(), v).(*cmpFilter).err != nil { // ordering needs string or number
			v = g.value()
		}
		return ctor(g.field(), v)
	case 2:
		k := g.kind()
		if k == KindStrings {
			k = KindString
		}
		vs := make([]any, g.r.IntN(4))
		for i := range vs {
			kk := k
			if k.numeric() {
				kk = []Kind{KindInt, KindFloat}[g.r.IntN(2)]
			}
			vs[i] = g.scalar(kk)
		}
		if g.r.IntN(2) == 0 {
			return In(g.field(), vs...)
		}
		return NotIn(g.field(), vs...)
	case 3:
		return Exists(g.field())
	case 4, 5:
		return Contains(g.field(), []string{"go", "db", "x"}[g.r.IntN(3)])
	case 6:
		return Not(g.filter(depth - 1))
	}
	fs := make([]Filter, 1+g.r.IntN(3))
	for i := range fs {
		fs[i] = g.filter(depth - 1)
	}
	if g.r.IntN(2) == 0 {
		return And(fs...)
	}
	return Or(fs...)
}

func (g gen) doc() Metadata {
	md := Metadata{}
	for _, f := range genFields() {
		if g.r.IntN(3) > 0 {
			md[f] = g.value()
		}
	}
	return md
}

type outcome struct {
	ok  bool
	err string
}

func run(f Filter, md Metadata) outcome {
	ok, err := f.Match(md)
	return outcome{ok, errString(err)}
}

func TestPropertyRoundTrip(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(1, 2))}
	iters := 3000
	if testing.Short() {
		iters = 500
	}
	for range iters {
		f := g.filter(4)
		checkRoundTrip(t, f)
		again, _ := Parse(f.String())
		for range 8 {
			md := g.doc()
			if a, b := run(f, md), run(again, md); a != b {
				t.Fatalf("%s on %v: %v vs re-parsed %v", f, md, a, b)
			}
		}
	}
}

// TestPropertyLaws checks the documented identities on random filters and
// documents: Ne = Not(Eq), NotIn = Not(In), strict And/Or are commutative
// in result and in whether they fail, and De Morgan holds.
func TestPropertyLaws(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(3, 4))}
	iters := 5000
	if testing.Short() {
		iters = 1000
	}
	for range iters {
		md := g.doc()
		field, v := g.field(), g.value()
		// Error texts differ only in the operator they name.
		if a, b := run(Ne(field, v), md), run(Not(Eq(field, v)), md); a.ok != b.ok || (a.err == "") != (b.err == "") {
			t.Fatalf("Ne(%s, %s) = %v, Not(Eq) = %v on %v", field, v, a, b, md)
		}
		v2 := g.scalar(v.Kind())
		if v.Kind() != KindStrings {
			if a, b := run(NotIn(field, v, v2), md), run(Not(In(field, v, v2)), md); a.ok != b.ok || (a.err == "") != (b.err == "") {
				t.Fatalf("NotIn(%s, %s, %s) = %v, Not(In) = %v on %v", field, v, v2, a, b, md)
			}
			// In with one element is Eq.
			if a, b := run(In(field, v), md), run(Eq(field, v), md); a.ok != b.ok || (a.err == "") != (b.err == "") {
				t.Fatalf("In(%s, %s) = %v, Eq = %v on %v", field, v, a, b, md)
			}
		}
		x, y := g.filter(2), g.filter(2)
		for _, pair := range [][2]Filter{{And(x, y), And(y, x)}, {Or(x, y), Or(y, x)}} {
			a, b := run(pair[0], md), run(pair[1], md)
			if (a.err == "") != (b.err == "") || (a.err == "" && a.ok != b.ok) {
				t.Fatalf("not commutative on %v:\n%s = %v\n%s = %v", md, pair[0], a, pair[1], b)
			}
		}
		a, b := run(Not(And(x, y)), md), run(Or(Not(x), Not(y)), md)
		if a != b {
			t.Fatalf("De Morgan fails on %v: %s = %v, %s = %v", md, Not(And(x, y)), a, Or(Not(x), Not(y)), b)
		}
		// Errors are never a data-dependent silent false: a filter errs on a
		// document exactly when one of its leaves errs there.
		if res := run(And(x, y), md); res.err != "" {
			_, ex := x.Match(md)
			_, ey := y.Match(md)
			if ex == nil && ey == nil {
				t.Fatalf("And errs (%s) though neither operand does", res.err)
			}
		}
	}
}

// TestCmpIntFloat checks the exact int/float comparison against math/big.
func TestCmpIntFloat(t *testing.T) {
	ints := []int64{0, 1, -1, 1 << 53, 1<<53 + 1, -(1<<53 + 1), math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, 2020}
	floats := []float64{0, math.Copysign(0, -1), 0.5, -0.5, 1 << 53, 1<<53 + 2, 0x1p63, -0x1p63, math.Nextafter(0x1p63, 0),
		math.Nextafter(-0x1p63, 0), 1e300, -1e300, 2020, 2020.0000000001, math.SmallestNonzeroFloat64, math.MaxFloat64}
	r := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		ints = append(ints, int64(r.Uint64()), r.Int64N(1<<54)-1<<53)
		floats = append(floats, math.Float64frombits(r.Uint64()), float64(r.Int64N(1<<54)-1<<53)+r.Float64())
	}
	for _, i := range ints {
		for _, f := range floats {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				continue
			}
			want := new(big.Float).SetInt64(i).Cmp(new(big.Float).SetFloat64(f))
			if got := cmpIntFloat(i, f); got != want {
				t.Fatalf("cmpIntFloat(%d, %g) = %d, want %d", i, f, got, want)
			}
			// Both argument orders through the public comparison.
			if got, _ := compareOrdered(Float(f), Int(i)); got != -want {
				t.Fatalf("compareOrdered(%g, %d) = %d, want %d", f, i, got, -want)
			}
		}
	}
}

func TestConcurrentMatch(t *testing.T) {
	f, err := Parse(`lang = "en" AND (year >= 2020 OR tags CONTAINS "go") AND NOT draft = true`)
	if err != nil {
		t.Fatal(err)
	}
	md := testDocValid()
	done := make(chan error)
	for range 8 {
		go func() {
			for range 1000 {
				if ok, err := f.Match(md); err != nil || !ok {
					done <- errors.New("unexpected result")
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
