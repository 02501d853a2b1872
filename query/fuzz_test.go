package query

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"
)

// FuzzParse checks that Parse never panics, that every error is a
// *SyntaxError with an in-range position, and that every accepted filter
// validates, prints canonically and re-parses to a filter that behaves
// identically (same result, same error) on documents built from its own
// fields and literals.
func FuzzParse(f *testing.F) {
	seeds := []string{
		`lang = "en" AND year >= 2020 AND tags CONTAINS "go"`,
		`a = 1 OR b = 2 AND NOT (c IN [1, 2.5] OR d NOT IN ["x"])`,
		"`odd name` != 'it\\'s' AND EXISTS x AND y NOT EXISTS",
		`tags = ["a","b"] OR tags NOT CONTAINS "\u00e9\ud83d\ude00"`,
		`x > -1.5e-3 and x <= 9223372036854775807 or x <> false`,
		`((NOT NOT a == true))`,
		`x IN []`,
		`x = 1e999`,
		`x = "\ud800"`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := Parse(expr)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("Parse(%q) error %T %v is not a *SyntaxError", expr, err, err)
			}
			if se.Pos < 0 || se.Pos > len(expr) {
				t.Fatalf("Parse(%q): position %d outside [0, %d]", expr, se.Pos, len(expr))
			}
			if flt != nil {
				t.Fatalf("Parse(%q) returned a filter with an error", expr)
			}
			return
		}
		checkRoundTrip(t, flt)
	})
}

// checkRoundTrip asserts the String/Parse contract for a valid filter.
func checkRoundTrip(t *testing.T, flt Filter) {
	t.Helper()
	if err := Validate(flt); err != nil {
		t.Fatalf("Validate(%s) = %v", flt, err)
	}
	s := flt.String()
	if len(s) > MaxExprLen {
		return // the canonical form can be longer than a dense input
	}
	again, err := Parse(s)
	if err != nil {
		t.Fatalf("re-parse of %s: %v", s, err)
	}
	if again.String() != s {
		t.Fatalf("String not canonical:\n first %s\nsecond %s", s, again.String())
	}
	for _, md := range sampleDocs(flt, 24) {
		ok1, err1 := flt.Match(md)
		ok2, err2 := again.Match(md)
		if ok1 != ok2 || errString(err1) != errString(err2) {
			t.Fatalf("%s on %v: %v, %v; re-parsed: %v, %v", s, md, ok1, err1, ok2, err2)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// literals collects the values a filter compares with, so sample documents
// can hit equality and ordering boundaries, not just mismatches.
func literals(f Filter, out []Value) []Value {
	switch t := f.(type) {
	case *cmpFilter:
		out = append(out, t.val)
	case *inFilter:
		out = append(out, t.vals...)
	case *containsFilter:
		out = append(out, Strings(t.val), Strings("other", t.val))
	case *andFilter:
		for _, c := range t.fs {
			out = literals(c, out)
		}
	case *orFilter:
		for _, c := range t.fs {
			out = literals(c, out)
		}
	case *notFilter:
		out = literals(t.f, out)
	}
	return out
}

// sampleDocs builds n deterministic documents over f's fields, each field
// missing or holding a base value of every kind or one of f's literals.
func sampleDocs(f Filter, n int) []Metadata {
	pool := []Value{
		{}, // marks "field missing"
		String("en"), String(""), Int(2020), Int(-1), Float(1.5), Float(2020),
		Bool(true), Bool(false), Strings("go", "db"), Strings(),
	}
	pool = literals(f, pool)
	fields := Fields(f)
	rng := rand.New(rand.NewPCG(uint64(len(pool)), uint64(len(fields))))
	docs := make([]Metadata, n)
	for i := range docs {
		md := Metadata{}
		for _, name := range fields {
			if v := pool[rng.IntN(len(pool))]; v.IsValid() {
				md[name] = v
			}
		}
		docs[i] = md
	}
	return docs
}

// FuzzMetadataJSON checks the JSON decoder: no panics, errors wrap a
// sentinel, and whatever decodes re-encodes and decodes to equal values of
// the same kinds.
func FuzzMetadataJSON(f *testing.F) {
	for _, s := range []string{
		`{"lang":"en","year":2020,"score":0.5,"f":2.0,"ok":true,"tags":["a","b"],"none":[]}`,
		`{"a":null}`, `{"a":{"b":1}}`, `{"a":[1]}`, `{"a":1e999}`, `{"a":99999999999999999999}`,
		`{"":1}`, `null`, `[]`, `{"a":"\ud800"}`, `{"a":-0.0,"b":-9223372036854775808}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var md Metadata
		if err := json.Unmarshal(data, &md); err != nil {
			if !errors.Is(err, ErrInvalidValue) && !errors.Is(err, ErrUnsupportedType) {
				var se *json.SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("Unmarshal(%q): unexpected error %T %v", data, err, err)
				}
			}
			return
		}
		if err := md.Validate(); err != nil {
			t.Fatalf("decoded metadata invalid: %v", err)
		}
		out, err := json.Marshal(md)
		if err != nil {
			t.Fatalf("Marshal(%v): %v", md, err)
		}
		var back Metadata
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("Unmarshal(Marshal) %s: %v", out, err)
		}
		if len(back) != len(md) {
			t.Fatalf("round trip %s lost keys", out)
		}
		for k, v := range md {
			if !back[k].Equal(v) {
				t.Fatalf("round trip of %q: %v (%s) became %v (%s)", k, v, v.Kind(), back[k], back[k].Kind())
			}
		}
	})
}
