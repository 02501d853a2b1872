package query

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		in    string
		want  Filter // the filter Parse must build (compared by String)
		canon string // expected String(); "" means want.String()
	}{
		{`lang = "en" AND year >= 2020 AND tags CONTAINS "go"`,
			And(Eq("lang", "en"), Gte("year", 2020), Contains("tags", "go")), ""},
		{`lang == 'en'`, Eq("lang", "en"), `lang = "en"`},
		{`a<>1`, Ne("a", 1), `a != 1`},
		{`a!=1`, Ne("a", 1), ""},
		{`a>1 and a<5 AND a>=2 and a<=4`, And(Gt("a", 1), Lt("a", 5), Gte("a", 2), Lte("a", 4)), ""},
		{`a = 1 OR b = 2 AND c = 3`, Or(Eq("a", 1), And(Eq("b", 2), Eq("c", 3))), ""},
		{`(a = 1 OR b = 2) AND c = 3`, And(Or(Eq("a", 1), Eq("b", 2)), Eq("c", 3)), ""},
		{`a = 1 AND (b = 2 AND c = 3)`, And(Eq("a", 1), Eq("b", 2), Eq("c", 3)), `a = 1 AND b = 2 AND c = 3`},
		{`NOT a = 1 AND b = 2`, And(Not(Eq("a", 1)), Eq("b", 2)), ""},
		{`NOT (a = 1 AND b = 2)`, Not(And(Eq("a", 1), Eq("b", 2))), ""},
		{`not NOT a = 1`, Not(Not(Eq("a", 1))), `NOT NOT a = 1`},
		{`NOT a = 1 OR NOT b = 2`, Or(Not(Eq("a", 1)), Not(Eq("b", 2))), ""},
		{`((a = 1))`, Eq("a", 1), `a = 1`},
		{`a = 1 and b = 2 Or c = 3 oR d = 4`, Or(And(Eq("a", 1), Eq("b", 2)), Eq("c", 3), Eq("d", 4)), ""},
		{`x IN [1, 2.5, -3]`, In("x", 1, 2.5, -3), `x IN [1,2.5,-3]`},
		{`x not in ["a", 'b']`, NotIn("x", "a", "b"), `x NOT IN ["a","b"]`},
		{`x IN []`, In("x"), ""},
		{`x in [true,false]`, In("x", true, false), ""},
		{`EXISTS x`, Exists("x"), ""},
		{`x EXISTS`, Exists("x"), `EXISTS x`},
		{`x NOT EXISTS`, Not(Exists("x")), `NOT EXISTS x`},
		{`NOT EXISTS x`, Not(Exists("x")), ""},
		{`tags NOT CONTAINS "a"`, Not(Contains("tags", "a")), `NOT tags CONTAINS "a"`},
		{"`my field` = 1", Eq("my field", 1), ""},
		{"`and` = 1", Eq("and", 1), ""},
		{"`a\\`b` = 1", Eq("a`b", 1), ""},
		{"`plain` = 1", Eq("plain", 1), `plain = 1`},
		{`a.b-c_d = TRUE`, Eq("a.b-c_d", true), `a.b-c_d = true`},
		{`_x = false`, Eq("_x", false), ""},
		{`x = 1e3`, Eq("x", 1000.0), `x = 1000.0`},
		{`x = -2`, Eq("x", -2), ""},
		{`x = 1.5E-3`, Eq("x", 0.0015), ""},
		{`x = 007`, Eq("x", 7), `x = 7`},
		{`x = -0.0`, Eq("x", Float(math.Copysign(0, -1))), ``},
		{`x = 9223372036854775807`, Eq("x", int64(9223372036854775807)), ""},
		{`x = -9223372036854775808`, Eq("x", int64(-9223372036854775808)), ""},
		{`x = "a\"b\\c\n\t\r\/\b\f"`, Eq("x", "a\"b\\c\n\t\r/\b\f"), `x = "a\"b\\c\n\t\r/\u0008\u000c"`},
		{`x = "\u00e9\ud83d\ude00"`, Eq("x", "é😀"), `x = "é😀"`},
		{`x = 'it\'s'`, Eq("x", "it's"), `x = "it's"`},
		{`x = "it's"`, Eq("x", "it's"), ``},
		{`x = "日本語"`, Eq("x", "日本語"), ``},
		{`tags = ["a", "b"]`, Eq("tags", []string{"a", "b"}), `tags = ["a","b"]`},
		{`tags != []`, Ne("tags", []string{}), ``},
		{"\t lang\n=\r\n\"en\"  ", Eq("lang", "en"), `lang = "en"`},
		{`a="x"OR b="y"`, Or(Eq("a", "x"), Eq("b", "y")), ``},
		{`x = "" AND y = ''`, And(Eq("x", ""), Eq("y", "")), `x = "" AND y = ""`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			f, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			canon := tc.canon
			if canon == "" {
				canon = tc.want.String()
			}
			if got := f.String(); got != canon {
				t.Fatalf("Parse(%q).String() = %s, want %s", tc.in, got, canon)
			}
			if f.String() != tc.want.String() {
				t.Fatalf("Parse(%q) = %s, want filter %s", tc.in, f, tc.want)
			}
			if err := Validate(f); err != nil {
				t.Fatalf("Validate(Parse(%q)) = %v", tc.in, err)
			}
			g, err := Parse(f.String())
			if err != nil || g.String() != f.String() {
				t.Fatalf("round trip of %s: %v, %v", f, g, err)
			}
		})
	}
}

// TestParsePrecedence checks structure through behaviour, independent of
// String: with a=1, b=0, c=0, "a=1 OR b=1 AND c=1" is true only if AND binds
// tighter.
func TestParsePrecedence(t *testing.T) {
	md := Metadata{"a": Int(1), "b": Int(0), "c": Int(0)}
	tests := []struct {
		in   string
		want bool
	}{
		{`a = 1 OR b = 1 AND c = 1`, true},
		{`(a = 1 OR b = 1) AND c = 1`, false},
		{`b = 1 AND c = 1 OR a = 1`, true},
		{`NOT a = 1 OR a = 1`, true},
		{`NOT (a = 1 OR a = 1)`, false},
		{`NOT a = 1 AND b = 0`, false},
		{`NOT b = 1 AND b = 0`, true},
	}
	for _, tc := range tests {
		f, err := Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := f.Match(md); err != nil || got != tc.want {
			t.Errorf("%s = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in  string
		pos int
		msg string // exact Msg
	}{
		{``, 0, `empty filter expression`},
		{`   `, 3, `empty filter expression`},
		{`year >=`, 7, `expected value after ">=", got end of input`},
		{`lang = "en" AND year >= `, 24, `expected value after ">=", got end of input`},
		{`lang = en`, 7, `expected value after "=", got identifier en (string values need quotes: "en")`},
		{`x = NaN`, 4, `expected value after "=", got NaN: NaN and Inf are not allowed`},
		{`x = inf`, 4, `expected value after "=", got inf: NaN and Inf are not allowed`},
		{`x = -Inf`, 5, `expected digit after '-'`},
		{`x = 99999999999999999999`, 4, `integer 99999999999999999999 is out of the int64 range (write it as a float, e.g. 99999999999999999999.0, if that is meant)`},
		{`x = 1e999`, 4, `number 1e999 is out of the float64 range`},
		{`x = 2020abc`, 8, `unexpected 'a' after number 2020`},
		{`x = 1.`, 6, `expected digit after decimal point`},
		{`x = 1.x`, 6, `expected digit after decimal point`},
		{`x = 1e`, 6, `expected digit in exponent`},
		{`x = 1.5.2`, 7, `unexpected '.' after number 1.5`},
		{`x = "abc`, 4, `unterminated string starting here`},
		{`x = "abc\`, 4, `unterminated string starting here`},
		{"`abc = 1", 0, `unterminated quoted field name starting here`},
		{"`` = 1", 0, `empty quoted field name`},
		{`x = "a\qb"`, 6, "invalid escape \\q (valid: \\\" \\' \\` \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"},
		{`x = "\u12"`, 5, `invalid \u escape: want exactly four hex digits`},
		{`x = "\u12g4"`, 5, `invalid \u escape: want exactly four hex digits`},
		{`x = "\ud800"`, 5, `\uD800 is a high surrogate not followed by a \uDC00-\uDFFF low surrogate`},
		{`x = "\ud800\u0041"`, 5, `\uD800 is a high surrogate not followed by a \uDC00-\uDFFF low surrogate`},
		{`x = "\udc00"`, 5, `\uDC00 is a lone low surrogate`},
		{`x > true`, 4, `operator > is not defined for bool values`},
		{`x <= ["a"]`, 5, `operator <= is not defined for strings values`},
		{`x = [1]`, 5, `expected string in list (list values hold only strings), got number 1`},
		{`x IN [1, "a"]`, 9, `list mixes int and string values`},
		{`x IN [1.5, true]`, 11, `list mixes float and bool values`},
		{`x IN [["a"]]`, 6, `IN lists hold scalars (string, int, float, bool), not lists; use CONTAINS for list fields`},
		{`x IN 1`, 5, `expected "[" after IN, got number 1`},
		{`x NOT IN "a"`, 9, `expected "[" after NOT IN, got string "a"`},
		{`x IN [1 2]`, 8, `expected "," or "]" in list, got number 2`},
		{`x IN [1,]`, 8, `expected value in IN list, got "]"`},
		{`x IN [1`, 7, `expected "," or "]" in list, got end of input`},
		{`x IN [nan]`, 6, `expected value in IN list, got nan: NaN and Inf are not allowed`},
		{`x CONTAINS 1`, 11, `expected string after CONTAINS, got number 1`},
		{`x NOT = 1`, 6, `expected IN, CONTAINS or EXISTS after NOT, got "="`},
		{`x`, 1, `expected operator (= != < <= > >= IN, NOT IN, CONTAINS, EXISTS) after field x, got end of input`},
		{"`a b` 1", 6, "expected operator (= != < <= > >= IN, NOT IN, CONTAINS, EXISTS) after field `a b`, got number 1"},
		{`x = 1 y = 2`, 6, `expected AND, OR or end of input, got identifier y`},
		{`x = 1)`, 5, `expected AND, OR or end of input (unbalanced ")"), got ")"`},
		{`(x = 1`, 6, `expected AND, OR or ")" to close "(" at 0, got end of input`},
		{`(x = 1 AND (y = 2) z`, 19, `expected AND, OR or ")" to close "(" at 0, got identifier z`},
		{`()`, 1, `expected field name, EXISTS, NOT or "(", got ")"`},
		{`x = 1 AND`, 9, `expected field name, EXISTS, NOT or "(", got end of input`},
		{`x = 1 AND OR y = 1`, 10, "expected field name, EXISTS, NOT or \"(\", got keyword OR (a field named like a keyword must be quoted: `OR`)"},
		{`AND x = 1`, 0, "expected field name, EXISTS, NOT or \"(\", got keyword AND (a field named like a keyword must be quoted: `AND`)"},
		{`in = 1`, 0, "expected field name, EXISTS, NOT or \"(\", got keyword IN (a field named like a keyword must be quoted: `in`)"},
		{`"x" = 1`, 0, `expected field name, EXISTS, NOT or "(", got string "x"`},
		{`EXISTS`, 6, `expected field name after EXISTS, got end of input`},
		{`EXISTS true`, 7, "expected field name after EXISTS, got keyword TRUE (a field named like a keyword must be quoted: `true`)"},
		{`EXISTS (x)`, 7, `expected field name after EXISTS, got "("`},
		{`x ! 1`, 2, `unexpected character '!' (use "!=" or NOT)`},
		{`x = 1 # c`, 6, `unexpected character '#'`},
		{`x = 1 && y = 2`, 6, `unexpected character '&'`},
		{`x = 1 ∧ y = 2`, 6, `unexpected character '∧'`},
		{"x = \"\xff\"", 5, `invalid UTF-8 byte 0xff`},
		{"x\xc3 = 1", 1, `invalid UTF-8 byte 0xc3`},
		{`x = -`, 5, `expected digit after '-'`},
		{`x = "` + strings.Repeat("a", 60) + `" y`, 67, `expected AND, OR or end of input, got identifier y`},
		{`x = 1 AND "` + strings.Repeat("é", 30) + `" = 1`, 10, `expected field name, EXISTS, NOT or "(", got string "` + strings.Repeat("é", 19) + `…`},
		{strings.Repeat("(", MaxDepth+1) + "x = 1" + strings.Repeat(")", MaxDepth+1), MaxDepth, `expression nests deeper than 100 levels of NOT and parentheses`},
		{strings.Repeat("NOT ", MaxDepth+1) + "x = 1", 4 * MaxDepth, `expression nests deeper than 100 levels of NOT and parentheses`},
		{strings.Repeat("NOT ", MaxDepth) + "x NOT EXISTS", 4*MaxDepth + 2, `expression nests deeper than 100 levels of NOT and parentheses`},
		{strings.Repeat(" ", MaxExprLen+1), MaxExprLen, `expression is 65537 bytes long; the limit is 65536`},
	}
	for _, tc := range tests {
		name := tc.in
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			f, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want error", tc.in, f)
			}
			var se *SyntaxError
			if !errors.As(err, &se) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("error %T %v is not a *SyntaxError wrapping ErrSyntax", err, err)
			}
			if f != nil {
				t.Fatalf("non-nil filter with error")
			}
			if se.Pos != tc.pos || se.Msg != tc.msg {
				t.Fatalf("Parse(%q):\n got at %d: %s\nwant at %d: %s", tc.in, se.Pos, se.Msg, tc.pos, tc.msg)
			}
		})
	}
}

func TestSyntaxErrorFormat(t *testing.T) {
	_, err := Parse(`lang = "en" AND year >= `)
	const want = `query: syntax error at 24: expected value after ">=", got end of input`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
}

func TestParseLimits(t *testing.T) {
	// Exactly at the limits is accepted.
	ok := []string{
		strings.Repeat("(", MaxDepth) + "x = 1" + strings.Repeat(")", MaxDepth),
		strings.Repeat("NOT ", MaxDepth) + "x = 1",
		strings.Repeat("NOT ", MaxDepth-1) + "x NOT EXISTS",
		`x = "` + strings.Repeat("a", MaxExprLen-6) + `"`,
	}
	for _, in := range ok {
		f, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse(%.40q...): %v", in, err)
		}
		if err := Validate(f); err != nil {
			t.Fatalf("Validate: %v", err)
		}
		if _, err := Parse(f.String()); err != nil {
			t.Fatalf("re-parse: %v", err)
		}
	}
	// Long flat chains are iterative, not recursive: no depth limit applies.
	chain := "x = 1" + strings.Repeat(" OR x = 1", 5000)
	if _, err := Parse(chain); err != nil {
		t.Fatalf("long OR chain: %v", err)
	}
}
