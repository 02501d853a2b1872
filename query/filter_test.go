package query

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// testDoc is the metadata most Match cases run against.
func testDoc() Metadata {
	return Metadata{
		"lang":  String("en"),
		"year":  Int(2020),
		"score": Float(0.75),
		"draft": Bool(false),
		"tags":  Strings("go", "db"),
		"empty": Strings(),
		"big":   Int(1<<53 + 1),
		"nan":   Float(math.NaN()), // not storable via ValueOf, but Match must cope
	}
}

func TestMatch(t *testing.T) {
	eq, ne, gt, gte, lt, lte := Eq, Ne, Gt, Gte, Lt, Lte
	tests := []struct {
		name string
		f    Filter
		want bool
		err  error // sentinel the error must wrap; nil for success
	}{
		// Eq on each kind, and the cross-kind rules.
		{"eq string", eq("lang", "en"), true, nil},
		{"eq string other", eq("lang", "de"), false, nil},
		{"eq string case sensitive", eq("lang", "EN"), false, nil},
		{"eq missing", eq("nope", "en"), false, nil},
		{"eq int", eq("year", 2020), true, nil},
		{"eq int with float literal", eq("year", 2020.0), true, nil},
		{"eq int with fractional float", eq("year", 2020.5), false, nil},
		{"eq float", eq("score", 0.75), true, nil},
		{"eq float with int literal", eq("score", 1), false, nil},
		{"eq bool", eq("draft", false), true, nil},
		{"eq bool other", eq("draft", true), false, nil},
		{"eq list whole", eq("tags", []string{"go", "db"}), true, nil},
		{"eq list order matters", eq("tags", []string{"db", "go"}), false, nil},
		{"eq list prefix", eq("tags", []string{"go"}), false, nil},
		{"eq empty list", eq("empty", []string{}), true, nil},
		{"eq list with string", eq("tags", "go"), false, ErrTypeMismatch},
		{"eq string with list", eq("lang", []string{"en"}), false, ErrTypeMismatch},
		{"eq string with int", eq("lang", 1), false, ErrTypeMismatch},
		{"eq int with string", eq("year", "2020"), false, ErrTypeMismatch},
		{"eq bool with string", eq("draft", "false"), false, ErrTypeMismatch},
		{"eq bool with int", eq("draft", 0), false, ErrTypeMismatch},
		{"eq int with bool", eq("year", true), false, ErrTypeMismatch},
		{"eq big int exact", eq("big", float64(1<<53)), false, nil},
		{"eq big int exact int", eq("big", 1<<53+1), true, nil},
		{"eq nan stored", eq("nan", 1.0), false, nil},

		// Ne is Not(Eq).
		{"ne string", ne("lang", "de"), true, nil},
		{"ne string same", ne("lang", "en"), false, nil},
		{"ne missing", ne("nope", "en"), true, nil},
		{"ne numeric cross", ne("year", 2020.0), false, nil},
		{"ne list", ne("tags", []string{"go"}), true, nil},
		{"ne mismatch", ne("lang", 1), false, ErrTypeMismatch},
		{"ne nan stored", ne("nan", 1.0), true, nil},

		// Ordering.
		{"gt int", gt("year", 2019), true, nil},
		{"gt int equal", gt("year", 2020), false, nil},
		{"gte int equal", gte("year", 2020), true, nil},
		{"lt int", lt("year", 2021), true, nil},
		{"lte int below", lte("year", 2019), false, nil},
		{"lte int equal", lte("year", 2020), true, nil},
		{"gt int vs float", gt("year", 2019.5), true, nil},
		{"lt int vs float", lt("year", 2020.5), true, nil},
		{"gt int vs float equal", gt("year", 2020.0), false, nil},
		{"lt float vs int", lt("score", 1), true, nil},
		{"gte float", gte("score", 0.75), true, nil},
		{"gt big int vs float", gt("big", float64(1<<53)), true, nil},
		{"gt big int vs huge float", gt("big", 1e300), false, nil},
		{"lt big int vs -huge float", lt("big", -1e300), false, nil},
		{"gt string", gt("lang", "de"), true, nil},
		{"gt string byte order", gt("lang", "EN"), true, nil},
		{"lt string", lt("lang", "en"), false, nil},
		{"lte string", lte("lang", "en"), true, nil},
		{"gte string prefix", gte("lang", "e"), true, nil},
		{"gt missing", gt("nope", 1), false, nil},
		{"lte missing", lte("nope", 1), false, nil},
		{"gt string with int", gt("lang", 1), false, ErrTypeMismatch},
		{"gt int with string", gt("year", "2019"), false, ErrTypeMismatch},
		{"gt stored bool", gt("draft", 1), false, ErrTypeMismatch},
		{"gt stored list", gt("tags", "a"), false, ErrTypeMismatch},
		{"gt bool literal", gt("draft", true), false, ErrInvalidFilter},
		{"lt list literal", lt("tags", []string{"a"}), false, ErrInvalidFilter},
		{"gt nan stored", gt("nan", 1.0), false, nil},
		{"lt nan stored", lt("nan", 1), false, nil},

		// In / NotIn.
		{"in hit", In("lang", "de", "en"), true, nil},
		{"in miss", In("lang", "de", "fr"), false, nil},
		{"in numbers mixed", In("year", 2019, 2020.0), true, nil},
		{"in float vs ints", In("score", 1, 2), false, nil},
		{"in empty list", In("lang"), false, nil},
		{"in missing", In("nope", "en"), false, nil},
		{"in mismatch", In("lang", 1, 2), false, ErrTypeMismatch},
		{"in on list field", In("tags", "go"), false, ErrTypeMismatch},
		{"in bools", In("draft", true, false), true, nil},
		{"in mixed literal kinds", In("lang", "en", 1), false, ErrInvalidFilter},
		{"in list literal", In("tags", []string{"go"}), false, ErrInvalidFilter},
		{"in bad literal", In("lang", "en", struct{}{}), false, ErrUnsupportedType},
		{"notin hit", NotIn("lang", "de"), true, nil},
		{"notin miss", NotIn("lang", "en", "de"), false, nil},
		{"notin missing field", NotIn("nope", "en"), true, nil},
		{"notin empty list", NotIn("lang"), true, nil},
		{"notin mismatch", NotIn("lang", 1), false, ErrTypeMismatch},

		// Exists.
		{"exists", Exists("lang"), true, nil},
		{"exists empty list", Exists("empty"), true, nil},
		{"exists false value", Exists("draft"), true, nil},
		{"exists missing", Exists("nope"), false, nil},

		// Contains.
		{"contains hit", Contains("tags", "go"), true, nil},
		{"contains miss", Contains("tags", "rust"), false, nil},
		{"contains not substring", Contains("tags", "g"), false, nil},
		{"contains empty list", Contains("empty", "go"), false, nil},
		{"contains missing", Contains("nope", "go"), false, nil},
		{"contains on string", Contains("lang", "en"), false, ErrTypeMismatch},
		{"contains on int", Contains("year", "2020"), false, ErrTypeMismatch},

		// Combinators.
		{"and true", And(eq("lang", "en"), gt("year", 2019)), true, nil},
		{"and false", And(eq("lang", "en"), gt("year", 2020)), false, nil},
		{"and three", And(eq("lang", "en"), gte("year", 2020), Contains("tags", "go")), true, nil},
		{"and strict error after false", And(eq("lang", "de"), eq("lang", 1)), false, ErrTypeMismatch},
		{"and strict error before false", And(eq("lang", 1), eq("lang", "de")), false, ErrTypeMismatch},
		{"or true", Or(eq("lang", "de"), eq("year", 2020)), true, nil},
		{"or false", Or(eq("lang", "de"), eq("year", 2021)), false, nil},
		{"or strict error after true", Or(eq("lang", "en"), eq("year", "x")), false, ErrTypeMismatch},
		{"or missing fields", Or(eq("a", 1), eq("b", 1)), false, nil},
		{"not", Not(eq("lang", "en")), false, nil},
		{"not missing", Not(eq("nope", "en")), true, nil},
		{"not passes error", Not(eq("lang", 1)), false, ErrTypeMismatch},
		{"not not", Not(Not(eq("lang", "en"))), true, nil},
		{"nested", Or(And(eq("lang", "de"), eq("year", 2020)), Not(Exists("nope"))), true, nil},
		{"and single operand", And(eq("lang", "en")), true, nil},

		// Invalid constructions surface from Match too.
		{"and empty", And(), false, ErrInvalidFilter},
		{"or empty", Or(), false, ErrInvalidFilter},
		{"and nil operand", And(eq("lang", "en"), nil), false, ErrInvalidFilter},
		{"not nil", Not(nil), false, ErrInvalidFilter},
		{"empty field", eq("", 1), false, ErrInvalidFilter},
		{"invalid utf8 field", Exists("\xff"), false, ErrInvalidFilter},
		{"unsupported literal", eq("x", make(chan int)), false, ErrUnsupportedType},
		{"nil literal", eq("x", nil), false, ErrUnsupportedType},
		{"nan literal", eq("x", math.NaN()), false, ErrInvalidValue},
		{"inf literal", gt("x", math.Inf(1)), false, ErrInvalidValue},
		{"invalid utf8 literal", eq("x", "\xff"), false, ErrInvalidValue},
		{"invalid utf8 contains", Contains("tags", "\xff"), false, ErrInvalidFilter},
		{"zero Value literal", eq("x", Value{}), false, ErrInvalidValue},
	}
	md := testDoc()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.f.Match(md)
			if tc.err == nil {
				if err != nil || got != tc.want {
					t.Fatalf("%s: Match = %v, %v; want %v, nil", tc.f, got, err, tc.want)
				}
				if verr := Validate(tc.f); verr != nil {
					t.Fatalf("Validate(%s) = %v, want nil", tc.f, verr)
				}
				return
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("%s: Match = %v, %v; want error wrapping %v", tc.f, got, err, tc.err)
			}
			if got {
				t.Fatalf("%s: Match returned true with an error", tc.f)
			}
			// Construction errors are caught by Validate; data errors are not.
			verr := Validate(tc.f)
			if errors.Is(err, ErrInvalidFilter) != (verr != nil) {
				t.Fatalf("Validate(%s) = %v, inconsistent with Match error %v", tc.f, verr, err)
			}
		})
	}
}

func TestTypeErrorMessage(t *testing.T) {
	md := testDoc()
	tests := []struct {
		f    Filter
		want string
	}{
		{Gte("year", "2020"), `query: type mismatch: field "year" holds int, but the filter compares it (>=) with string "2020"`},
		{Eq("tags", "go"), `query: type mismatch: field "tags" holds strings, but the filter compares it (=) with string "go"; use CONTAINS to test list membership`},
		{Contains("lang", "en"), `query: type mismatch: field "lang" holds string, but the filter compares it (CONTAINS) with string "en"`},
		{NotIn("draft", 1, 2), `query: type mismatch: field "draft" holds bool, but the filter compares it (NOT IN) with int 1`},
	}
	for _, tc := range tests {
		_, err := tc.f.Match(md)
		var te *TypeError
		if !errors.As(err, &te) {
			t.Fatalf("%s: error %v is not a *TypeError", tc.f, err)
		}
		if err.Error() != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.f, err, tc.want)
		}
	}
}

func TestMatchNilMetadata(t *testing.T) {
	for _, f := range []Filter{Eq("a", 1), Ne("a", 1), Exists("a"), Contains("a", "x"), NotIn("a", 1)} {
		want := strings.Contains(f.String(), "!=") || strings.Contains(f.String(), "NOT")
		got, err := f.Match(nil)
		if err != nil || got != want {
			t.Errorf("%s on nil metadata = %v, %v; want %v", f, got, err, want)
		}
	}
}

func TestValidate(t *testing.T) {
	deep := func(n int) Filter {
		f := Eq("a", 1)
		for range n {
			f = Not(f)
		}
		return f
	}
	tests := []struct {
		name string
		f    Filter
		err  error
	}{
		{"nil", nil, ErrInvalidFilter},
		{"ok", And(Eq("a", 1), Or(Exists("b"), Contains("c", "x"))), nil},
		{"bad literal nested", And(Eq("a", 1), Not(Or(Exists("b"), Eq("c", []int{1})))), ErrUnsupportedType},
		{"ordering on bool", Lte("a", false), ErrTypeMismatch},
		{"depth at limit", deep(MaxDepth), nil},
		{"depth over limit", deep(MaxDepth + 1), ErrInvalidFilter},
		{"foreign validator", And(Eq("a", 1), badForeign{}), errForeign},
		{"foreign plain", And(Eq("a", 1), plainForeign{}), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.f)
			if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("Validate = %v, want %v", err, tc.err)
			}
		})
	}
}

var errForeign = errors.New("foreign filter is broken")

type badForeign struct{}

func (badForeign) Match(Metadata) (bool, error) { return false, errForeign }
func (badForeign) String() string               { return "bad" }
func (badForeign) Validate() error              { return errForeign }
func (badForeign) Fields() []string             { return []string{"zzz", "a"} }

type plainForeign struct{}

func (plainForeign) Match(Metadata) (bool, error) { return true, nil }
func (plainForeign) String() string               { return "EXISTS foreign" }

func TestForeignFilter(t *testing.T) {
	f := And(Eq("a", 1), plainForeign{})
	if got := f.String(); got != "a = 1 AND (EXISTS foreign)" {
		t.Errorf("String = %q", got)
	}
	if ok, err := f.Match(Metadata{"a": Int(1)}); !ok || err != nil {
		t.Errorf("Match = %v, %v", ok, err)
	}
	if got := Fields(Or(Eq("b", 1), badForeign{})); !slices.Equal(got, []string{"a", "b", "zzz"}) {
		t.Errorf("Fields = %q", got)
	}
}

func TestFields(t *testing.T) {
	f := Or(And(Eq("lang", "en"), Gt("year", 2000)), Not(Contains("tags", "x")), Exists("lang"), NotIn("`odd`", 1))
	want := []string{"`odd`", "lang", "tags", "year"}
	if got := Fields(f); !slices.Equal(got, want) {
		t.Errorf("Fields = %q, want %q", got, want)
	}
	if got := Fields(nil); len(got) != 0 {
		t.Errorf("Fields(nil) = %q", got)
	}
}

func TestFlattenAndString(t *testing.T) {
	a, b, c, d := Eq("a", 1), Eq("b", 2), Eq("c", 3), Eq("d", 4)
	tests := []struct {
		f    Filter
		want string
	}{
		{And(And(a, b), c), "a = 1 AND b = 2 AND c = 3"},
		{Or(a, Or(b, c)), "a = 1 OR b = 2 OR c = 3"},
		{And(Or(a, b), c), "(a = 1 OR b = 2) AND c = 3"},
		{Or(And(a, b), And(c, d)), "a = 1 AND b = 2 OR c = 3 AND d = 4"},
		{Not(And(a, b)), "NOT (a = 1 AND b = 2)"},
		{Not(Or(a, b)), "NOT (a = 1 OR b = 2)"},
		{Not(Not(a)), "NOT NOT a = 1"},
		{And(Not(a), b), "NOT a = 1 AND b = 2"},
		{Eq("my field", "x"), "`my field` = \"x\""},
		{Eq("and", true), "`and` = true"},
		{Eq("9lives", 1), "`9lives` = 1"},
		{Eq("a.b-c", 1.0), "a.b-c = 1.0"},
		{Eq("back`tick", 1), "`back\\`tick` = 1"},
		{In("x"), "x IN []"},
		{NotIn("x", "a", "b"), `x NOT IN ["a","b"]`},
		{Ne("t", []string{}), "t != []"},
		{Exists("x"), "EXISTS x"},
		{Not(Exists("x")), "NOT EXISTS x"},
		{Contains("tags", "a\"b"), `tags CONTAINS "a\"b"`},
	}
	for _, tc := range tests {
		if got := tc.f.String(); got != tc.want {
			t.Errorf("String = %s, want %s", got, tc.want)
		}
	}
}
