package jsonl

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
)

// testLimits are db's limits (db's tests check that it passes these).
var testLimits = Limits{ID: 512, Text: 8 << 20, Metadata: 64 << 10, Dimension: 65536}

// sameDocument compares documents bit for bit: -0 is not 0, and an int64
// is not a float64 of the same value.
func sameDocument(a, b Document) bool {
	if a.ID != b.ID || a.Text != b.Text || len(a.Vector) != len(b.Vector) || len(a.Metadata) != len(b.Metadata) {
		return false
	}
	for i := range a.Vector {
		if math.Float32bits(a.Vector[i]) != math.Float32bits(b.Vector[i]) {
			return false
		}
	}
	for k, v := range a.Metadata {
		w, ok := b.Metadata[k]
		if !ok || reflect.TypeOf(v) != reflect.TypeOf(w) {
			return false
		}
		if f, ok := v.(float64); ok {
			if math.Float64bits(f) != math.Float64bits(w.(float64)) {
				return false
			}
		} else if !reflect.DeepEqual(v, w) {
			return false
		}
	}
	return true
}

// TestAppendDocument: what AppendDocument writes, and that ParseLine reads
// it back with the same types and bits.
func TestAppendDocument(t *testing.T) {
	cases := []struct {
		name   string
		doc    Document
		vector bool
		want   string // "" to check only the round trip
		err    string
	}{
		{"plain", Document{ID: "a", Text: "hi"}, false, `{"id":"a","text":"hi"}`, ""},
		{"integral float stays float", Document{ID: "a", Text: "t", Metadata: map[string]any{"f": 2.0, "i": int64(2)}}, false, `{"id":"a","text":"t","metadata":{"f":2.0,"i":2}}`, ""},
		{"negative zero", Document{ID: "a", Text: "t", Metadata: map[string]any{"z": math.Copysign(0, -1)}}, false, `{"id":"a","text":"t","metadata":{"z":-0.0}}`, ""},
		{"huge and tiny", Document{ID: "a", Text: "t", Metadata: map[string]any{"h": math.MaxFloat64, "t": 5e-324, "n": -1e21, "m": 1e20}}, false, `{"id":"a","text":"t","metadata":{"h":1.7976931348623157e+308,"m":100000000000000000000.0,"n":-1e+21,"t":5e-324}}`, ""},
		{"int64 extremes", Document{ID: "a", Text: "t", Metadata: map[string]any{"a": int64(math.MinInt64), "b": int64(math.MaxInt64)}}, false, `{"id":"a","text":"t","metadata":{"a":-9223372036854775808,"b":9223372036854775807}}`, ""},
		{"lists and bools", Document{ID: "a", Text: "t", Metadata: map[string]any{"e": []string{}, "l": []string{"x", ""}, "b": false}}, false, `{"id":"a","text":"t","metadata":{"b":false,"e":[],"l":["x",""]}}`, ""},
		{"escapes", Document{ID: "\u202e\x00\"\\", Text: "a\nb\tc\u2028\u00a0é😀\U000e0001\x7f"}, false, `{"id":"\u202e\u0000\"\\","text":"a\nb\tc\u2028\u00a0é😀\udb40\udc01\u007f"}`, ""},
		{"vector", Document{ID: "v", Vector: []float32{0.1, -0, float32(math.Copysign(0, -1)), 1e38, 1.4e-45}}, true, `{"id":"v","text":"","vector":[0.1,0,-0,1e+38,1e-45]}`, ""},
		{"vector not asked", Document{ID: "v", Text: "t", Vector: []float32{1}}, false, `{"id":"v","text":"t"}`, ""},
		{"NaN metadata", Document{ID: "a", Text: "t", Metadata: map[string]any{"f": math.NaN()}}, false, "", `metadata "f": float NaN is not finite`},
		{"bad type", Document{ID: "a", Text: "t", Metadata: map[string]any{"f": 3}}, false, "", `value of type int`},
		{"bad UTF-8", Document{ID: "a\xff", Text: "t"}, false, "", `id: invalid UTF-8 at byte 1`},
		{"infinite component", Document{ID: "a", Vector: []float32{float32(math.Inf(1))}}, true, "", `vector component 0 is +Inf`},
	}
	for _, tc := range cases {
		out, err := AppendDocument([]byte("prefix"), tc.doc, tc.vector)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || string(out) != "prefix" {
				t.Errorf("%s: %q, %v; want the prefix alone and an error containing %q", tc.name, out, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		line := bytes.TrimPrefix(out, []byte("prefix"))
		if got := string(line); got != tc.want+"\n" {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
		back, err := ParseLine(bytes.TrimSuffix(line, []byte("\n")), testLimits)
		want := tc.doc
		if !tc.vector {
			want.Vector = nil
		}
		if err != nil || !sameDocument(back, want) {
			t.Errorf("%s: parsed back to %#v (%v), want %#v", tc.name, back, err, want)
		}
	}
}
