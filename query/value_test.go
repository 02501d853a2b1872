package query

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

type myString string
type myInts []int

func TestValueOf(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want Value
		err  error
		msg  string // substring the error must contain
	}{
		{"string", "en", String("en"), nil, ""},
		{"empty string", "", String(""), nil, ""},
		{"int", 7, Int(7), nil, ""},
		{"int8", int8(-8), Int(-8), nil, ""},
		{"int16", int16(16), Int(16), nil, ""},
		{"int32", int32(-32), Int(-32), nil, ""},
		{"int64", int64(math.MinInt64), Int(math.MinInt64), nil, ""},
		{"uint8", uint8(255), Int(255), nil, ""},
		{"uint16", uint16(65535), Int(65535), nil, ""},
		{"uint32", uint32(math.MaxUint32), Int(math.MaxUint32), nil, ""},
		{"uint64 fits", uint64(math.MaxInt64), Int(math.MaxInt64), nil, ""},
		{"uint fits", uint(3), Int(3), nil, ""},
		{"uint64 too big", uint64(math.MaxInt64) + 1, Value{}, ErrInvalidValue, "9223372036854775808"},
		{"float32", float32(1.5), Float(1.5), nil, ""},
		{"float64", 2.25, Float(2.25), nil, ""},
		{"nan", math.NaN(), Value{}, ErrInvalidValue, "not finite"},
		{"inf", math.Inf(-1), Value{}, ErrInvalidValue, "not finite"},
		{"float32 inf", float32(math.Inf(1)), Value{}, ErrInvalidValue, "not finite"},
		{"bool", true, Bool(true), nil, ""},
		{"strings", []string{"a", "b"}, Strings("a", "b"), nil, ""},
		{"empty strings", []string{}, Strings(), nil, ""},
		{"any strings", []any{"a", "b"}, Strings("a", "b"), nil, ""},
		{"any mixed", []any{"a", 1}, Value{}, ErrUnsupportedType, "list element 1 is int"},
		{"value", Int(3), Int(3), nil, ""},
		{"zero value", Value{}, Value{}, ErrInvalidValue, "zero Value"},
		{"nan value", Float(math.NaN()), Value{}, ErrInvalidValue, "not finite"},
		{"json int", json.Number("42"), Int(42), nil, ""},
		{"json float", json.Number("4.5e1"), Float(45), nil, ""},
		{"json int float text", json.Number("2020.0"), Float(2020), nil, ""},
		{"json huge float", json.Number("1e400"), Value{}, ErrInvalidValue, "not a finite float64"},
		{"json huge int", json.Number("99999999999999999999"), Value{}, ErrInvalidValue, "not an int64"},
		{"json garbage", json.Number("x"), Value{}, ErrInvalidValue, `"x"`},
		{"named string", myString("go"), String("go"), nil, ""},
		{"invalid utf8", "a\xffb", Value{}, ErrInvalidValue, "not valid UTF-8"},
		{"invalid utf8 in list", []string{"ok", "\xff"}, Value{}, ErrInvalidValue, "element 1"},
		{"nil", nil, Value{}, ErrUnsupportedType, "nil"},
		{"map", map[string]int{}, Value{}, ErrUnsupportedType, "map[string]int"},
		{"int slice", []int{1}, Value{}, ErrUnsupportedType, "[]int"},
		{"named int slice", myInts{1}, Value{}, ErrUnsupportedType, "query.myInts"},
		{"complex", complex(1, 2), Value{}, ErrUnsupportedType, "complex128"},
		{"pointer", new(int), Value{}, ErrUnsupportedType, "*int"},
		{"bytes", []byte("x"), Value{}, ErrUnsupportedType, "[]uint8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ValueOf(tc.in)
			if tc.err != nil {
				if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("ValueOf(%#v) error = %v; want %v containing %q", tc.in, err, tc.err, tc.msg)
				}
				return
			}
			if err != nil || !got.Equal(tc.want) {
				t.Fatalf("ValueOf(%#v) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestValueAccessors(t *testing.T) {
	vals := []Value{String("s"), Int(-3), Float(2.5), Bool(true), Strings("a", "b"), {}}
	for _, v := range vals {
		k := v.Kind()
		check := func(name string, got, zero, want any) {
			t.Helper()
			exp := zero
			if want != nil {
				exp = want
			}
			if !reflect.DeepEqual(got, exp) {
				t.Errorf("%v (%s).%s = %#v, want %#v", v, k, name, got, exp)
			}
		}
		pick := func(kind Kind, x any) any {
			if k == kind {
				return x
			}
			return nil
		}
		check("Str", v.Str(), "", pick(KindString, "s"))
		check("Int", v.Int(), int64(0), pick(KindInt, int64(-3)))
		check("Float", v.Float(), 0.0, pick(KindFloat, 2.5))
		check("Bool", v.Bool(), false, pick(KindBool, true))
		check("StringList", v.StringList(), []string(nil), pick(KindStrings, []string{"a", "b"}))
	}
	if got := Strings().StringList(); got == nil || len(got) != 0 {
		t.Errorf("empty list StringList = %#v, want empty non-nil", got)
	}
}

func TestValueImmutable(t *testing.T) {
	in := []string{"a", "b"}
	v := Strings(in...)
	in[0] = "changed"
	out := v.StringList()
	out[1] = "changed"
	iface := v.Interface().([]string)
	iface[0] = "changed"
	if got := v.StringList(); got[0] != "a" || got[1] != "b" {
		t.Fatalf("Value was mutated through a slice: %q", got)
	}
}

func TestValueInterface(t *testing.T) {
	tests := []struct {
		v    Value
		want any
	}{
		{String("x"), "x"}, {Int(1), int64(1)}, {Float(1), 1.0}, {Bool(false), false},
		{Strings("a"), []string{"a"}}, {Value{}, nil},
	}
	for _, tc := range tests {
		if got := tc.v.Interface(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v.Interface() = %#v, want %#v", tc.v, got, tc.want)
		}
	}
}

func TestValueString(t *testing.T) {
	tests := []struct {
		v    Value
		want string
	}{
		{String("en"), `"en"`},
		{String(`a"b\c`), `"a\"b\\c"`},
		{String("tab\tnl\ncr\r"), `"tab\tnl\ncr\r"`},
		{String("\x00\x1f\x7f"), `"\u0000\u001f\u007f"`},
		{String("é世😀"), `"é世😀"`},
		{String("\u200b"), `"\u200b"`},           // not printable: escaped
		{String("\U000E0001"), `"\udb40\udc01"`}, // not printable, astral: surrogate pair
		{String("a\xffb"), `"a\ufffdb"`},         // invalid UTF-8 is lossy (and invalid anyway)
		{String("it's"), `"it's"`},
		{Int(2020), "2020"},
		{Int(-9223372036854775808), "-9223372036854775808"},
		{Float(1.5), "1.5"},
		{Float(2), "2.0"},
		{Float(0), "0.0"},
		{Float(math.Copysign(0, -1)), "-0.0"},
		{Float(1e21), "1e+21"},
		{Float(1e-7), "1e-07"},
		{Float(123456789012345680), "1.2345678901234568e+17"},
		{Bool(true), "true"},
		{Bool(false), "false"},
		{Strings("a", "b"), `["a","b"]`},
		{Strings(), "[]"},
		{Value{}, "<invalid>"},
	}
	for _, tc := range tests {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("String() = %s, want %s", got, tc.want)
		}
	}
}

func TestValueEqual(t *testing.T) {
	tests := []struct {
		a, b Value
		want bool
	}{
		{String("a"), String("a"), true},
		{String("a"), String("b"), false},
		{Int(2), Float(2), false}, // Equal is kind-exact; filters compare numerically
		{Int(2), Int(2), true},
		{Float(0), Float(math.Copysign(0, -1)), true},
		{Bool(true), Bool(true), true},
		{Bool(true), Int(1), false},
		{Strings("a", "b"), Strings("a", "b"), true},
		{Strings("a", "b"), Strings("b", "a"), false},
		{Strings(), Strings([]string{}...), true},
		{Value{}, Value{}, true},
		{Value{}, String(""), false},
	}
	for _, tc := range tests {
		if got := tc.a.Equal(tc.b); got != tc.want {
			t.Errorf("%v.Equal(%v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestKindString(t *testing.T) {
	want := map[Kind]string{0: "invalid", KindString: "string", KindInt: "int", KindFloat: "float",
		KindBool: "bool", KindStrings: "strings", 99: "kind(99)"}
	for k, s := range want {
		if k.String() != s {
			t.Errorf("Kind(%d).String() = %q, want %q", k, k.String(), s)
		}
	}
}

func TestFromMap(t *testing.T) {
	md, err := FromMap(map[string]any{"lang": "en", "year": 2020, "score": 0.5, "ok": true, "tags": []any{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	want := Metadata{"lang": String("en"), "year": Int(2020), "score": Float(0.5), "ok": Bool(true), "tags": Strings("x")}
	if len(md) != len(want) {
		t.Fatalf("FromMap = %v", md)
	}
	for k, v := range want {
		if !md[k].Equal(v) {
			t.Errorf("md[%q] = %v, want %v", k, md[k], v)
		}
	}
	back := md.ToMap()
	wantMap := map[string]any{"lang": "en", "year": int64(2020), "score": 0.5, "ok": true, "tags": []string{"x"}}
	if !reflect.DeepEqual(back, wantMap) {
		t.Errorf("ToMap = %#v, want %#v", back, wantMap)
	}
	if md, err := FromMap(nil); md != nil || err != nil {
		t.Errorf("FromMap(nil) = %v, %v", md, err)
	}
	if Metadata(nil).ToMap() != nil {
		t.Error("nil ToMap not nil")
	}

	bad := []struct {
		in  map[string]any
		err error
		msg string
	}{
		// Keys are checked in sorted order, so "b" is reported, not "c".
		{map[string]any{"a": 1, "b": struct{}{}, "c": func() {}}, ErrUnsupportedType, `metadata key "b": query: unsupported metadata type: struct {}`},
		{map[string]any{"x": math.Inf(1)}, ErrInvalidValue, `metadata key "x"`},
		{map[string]any{"": 1}, ErrInvalidValue, "empty metadata key"},
		{map[string]any{"\xff": 1}, ErrInvalidValue, "not valid UTF-8"},
	}
	for _, tc := range bad {
		_, err := FromMap(tc.in)
		if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("FromMap(%v) = %v; want %v containing %q", tc.in, err, tc.err, tc.msg)
		}
	}
}

func TestMetadataValidateClone(t *testing.T) {
	md := Metadata{"a": Int(1), "b": Float(math.NaN())}
	if err := md.Validate(); !errors.Is(err, ErrInvalidValue) || !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("Validate = %v", err)
	}
	if err := (Metadata{"a": {}}).Validate(); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("Validate zero value = %v", err)
	}
	if err := (Metadata{"": Int(1)}).Validate(); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("Validate empty key = %v", err)
	}
	if err := testDocValid().Validate(); err != nil {
		t.Errorf("Validate valid = %v", err)
	}
	c := md.Clone()
	c["a"] = Int(2)
	if md["a"].Int() != 1 {
		t.Error("Clone shares the map")
	}
}

func testDocValid() Metadata {
	md := testDoc()
	delete(md, "nan")
	return md
}

func TestValueJSON(t *testing.T) {
	md := Metadata{
		"lang": String("en \"q\" é"), "year": Int(2020), "big": Int(math.MaxInt64), "f": Float(2),
		"g": Float(1.5e-300), "ok": Bool(true), "tags": Strings("a", "b"), "none": Strings(),
	}
	data, err := json.Marshal(md)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"big":9223372036854775807,"f":2.0,"g":1.5e-300,"lang":"en \"q\" é","none":[],"ok":true,"tags":["a","b"],"year":2020}`
	if string(data) != want {
		t.Fatalf("Marshal = %s\nwant %s", data, want)
	}
	var back Metadata
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	var null Metadata
	if err := json.Unmarshal([]byte("null"), &null); err != nil || null != nil {
		t.Errorf("Unmarshal(null) = %v, %v", null, err)
	}
	if len(back) != len(md) {
		t.Fatalf("Unmarshal = %v", back)
	}
	for k, v := range md {
		if !back[k].Equal(v) {
			t.Errorf("round trip %q: %v (%s), want %v (%s)", k, back[k], back[k].Kind(), v, v.Kind())
		}
	}

	bad := []struct {
		in  string
		err error
		msg string
	}{
		{`{"a":null}`, ErrUnsupportedType, `metadata key "a": query: unsupported metadata type: JSON null`},
		{`{"a":{"b":1}}`, ErrUnsupportedType, `metadata key "a"`},
		{`{"a":[1,2]}`, ErrUnsupportedType, `metadata key "a": query: unsupported metadata type: list element 0 is json.Number`},
		{`{"a":99999999999999999999}`, ErrInvalidValue, `metadata key "a"`},
		{`{"a":1e999}`, ErrInvalidValue, `metadata key "a"`},
		{`{"a":"\ud800"}`, nil, ""}, // encoding/json replaces lone surrogates with U+FFFD
		{`{"":1}`, ErrInvalidValue, "empty metadata key"},
		{`[1]`, ErrInvalidValue, "metadata must be a JSON object"},
	}
	for _, tc := range bad {
		var md Metadata
		err := json.Unmarshal([]byte(tc.in), &md)
		if tc.err == nil {
			if err != nil {
				t.Errorf("Unmarshal(%s) = %v", tc.in, err)
			}
			continue
		}
		if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Unmarshal(%s) = %v, want %v naming the key", tc.in, err, tc.err)
		}
	}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(Metadata{"h": String("<a&b>"), "l": Strings("<")}); err != nil || buf.String() != `{"h":"<a&b>","l":["<"]}`+"\n" {
		t.Errorf("Encode without HTML escaping = %q, %v", buf.String(), err)
	}
	if b, err := json.Marshal(String("<")); err != nil || string(b) != `"\u003c"` {
		t.Errorf("Marshal escapes HTML by default: got %s, %v", b, err)
	}
	if _, err := json.Marshal(Metadata{"x": Float(math.NaN())}); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("Marshal NaN = %v", err)
	}
	if _, err := json.Marshal(Metadata{"x": {}}); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("Marshal zero Value = %v", err)
	}
}
