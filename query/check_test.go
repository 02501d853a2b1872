package query

import (
	"errors"
	"math/rand/v2"
	"testing"
)

func TestCheck(t *testing.T) {
	kinds := map[string]Kind{"n": KindInt, "f": KindFloat, "s": KindString, "b": KindBool, "l": KindStrings}
	errMixed := errors.New("mixed")
	kindOf := func(field string) (Kind, error) {
		if field == "m" {
			return 0, errMixed
		}
		return kinds[field], nil
	}
	// lits holds one valid literal per kind.
	lits := map[Kind]any{KindInt: int64(1), KindFloat: 1.5, KindString: "x", KindBool: true, KindStrings: []string{"x"}}
	ops := []struct {
		name     string
		make     func(string, any) Filter
		ordering bool
	}{
		{"=", Eq, false}, {"!=", Ne, false}, {">", Gt, true}, {">=", Gte, true}, {"<", Lt, true}, {"<=", Lte, true},
		{"IN", func(f string, v any) Filter { return In(f, v) }, false},
		{"NOT IN", func(f string, v any) Filter { return NotIn(f, v) }, false},
	}
	for field, stored := range kinds {
		for _, op := range ops {
			for litKind, lit := range lits {
				f := op.make(field, lit)
				if Validate(f) != nil {
					continue // ordering on bool or lists, lists in IN: invalid whatever the field
				}
				err := Check(f, kindOf)
				want := compatible(stored, litKind)
				var te *TypeError
				switch {
				case want && err != nil:
					t.Errorf("%s with %s stored: unexpected %v", f, stored, err)
				case !want && (!errors.As(err, &te) || te.Field != field || te.Stored != stored || te.Literal.Kind() != litKind || te.Op != op.name):
					t.Errorf("%s with %s stored: got %v, want a TypeError naming %q, %s and %s", f, stored, err, field, stored, litKind)
				}
			}
		}
		err := Check(Contains(field, "x"), kindOf)
		if (err == nil) != (stored == KindStrings) || (err != nil && !errors.Is(err, ErrTypeMismatch)) {
			t.Errorf("CONTAINS on %s: %v", stored, err)
		}
		if err := Check(Exists(field), kindOf); err != nil {
			t.Errorf("EXISTS on %s: %v", stored, err)
		}
	}
	for _, tc := range []struct {
		f    Filter
		want error // nil, errMixed, ErrTypeMismatch or ErrInvalidFilter
	}{
		{Gt("unknown", "x"), nil},
		{Contains("unknown", "x"), nil},
		{Eq("m", 1), errMixed},
		{Exists("m"), nil},
		{Not(Exists("m")), nil},
		{In("s"), nil}, // an empty list compares with nothing
		{In("s", 1, 2), ErrTypeMismatch},
		{And(Eq("s", "x"), Or(Eq("b", true), Not(Gt("n", "x")))), ErrTypeMismatch},
		{Or(Eq("s", "x"), Eq("m", 1)), errMixed},
		{Or(Eq("s", 1), Eq("m", 1)), ErrTypeMismatch}, // the first in operand order
		{Eq("", 1), ErrInvalidFilter},
		{Gt("b", true), ErrInvalidFilter},
		{foreignCheck{}, ErrTypeMismatch},
		{Not(foreignCheck{}), ErrTypeMismatch},
		{foreign{}, nil},
	} {
		err := Check(tc.f, kindOf)
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("Check(%s) = %v, want %v", tc.f, err, tc.want)
		}
	}
}

type foreign struct{}

func (foreign) Match(Metadata) (bool, error) { return true, nil }
func (foreign) String() string               { return "foreign" }

// foreignCheck compares "s" with a number, and says so through Check.
type foreignCheck struct{ foreign }

func (foreignCheck) Check(kindOf func(string) (Kind, error)) error {
	return checkKind("s", "=", Int(1), kindOf)
}

// TestPropertyCheck checks Check's guarantee on random filters and field
// kinds: on a document whose fields have the checked kinds, Match fails
// exactly when Check does, and with a document of only some of the fields
// (or none) a filter that passed never fails. So whether a type-valid filter
// errors cannot depend on which documents exist.
func TestPropertyCheck(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(5, 6))}
	iters := 3000
	if testing.Short() {
		iters = 500
	}
	for range iters {
		f := g.filter(4)
		kinds := map[string]Kind{}
		full := Metadata{}
		for _, field := range genFields() {
			if g.r.IntN(4) > 0 { // else no document has it yet
				full[field] = g.value()
				kinds[field] = full[field].Kind()
			}
		}
		checkErr := Check(f, func(field string) (Kind, error) { return kinds[field], nil })
		if checkErr != nil && !errors.Is(checkErr, ErrTypeMismatch) {
			t.Fatalf("Check(%s): %v", f, checkErr)
		}
		if _, err := f.Match(full); (err != nil) != (checkErr != nil) {
			t.Fatalf("%s on %v: Match error %v, Check error %v", f, full, err, checkErr)
		}
		if checkErr != nil {
			continue
		}
		for range 8 {
			// Any document agreeing with the kinds: some fields, other values.
			md := Metadata{}
			for field, k := range kinds {
				if g.r.IntN(2) == 0 {
					if k.numeric() {
						k = []Kind{KindInt, KindFloat}[g.r.IntN(2)]
					}
					md[field] = g.scalar(k)
				}
			}
			if _, err := f.Match(md); err != nil {
				t.Fatalf("%s passed Check with %v but fails on %v: %v", f, kinds, md, err)
			}
		}
	}
}
