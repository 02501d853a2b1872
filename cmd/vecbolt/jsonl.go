package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vecbolt/vecbolt/db"
	jl "github.com/vecbolt/vecbolt/internal/jsonl"
)

// Metadata typing rule, shared by `add --meta` and `import` (package
// internal/jsonl): a value is what its JSON says. Strings, booleans and
// lists of strings map to the same Go types; a number written as an
// integer (no '.', no exponent) is an int64 and must fit one; any other
// number is a float64. null, objects and lists holding anything but
// strings are errors. `add --meta key=value` is always the string "value";
// `add --meta key:=JSON` gives a typed value.

// metaFlag collects repeated --meta key=value / key:=JSON flags.
type metaFlag struct{ m map[string]any }

func (f *metaFlag) String() string { return "" }

func (f *metaFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("%q is not key=value or key:=JSON", s)
	}
	var val any = v
	if strings.HasSuffix(k, ":") {
		k = strings.TrimSuffix(k, ":")
		var j any
		if err := json.Unmarshal([]byte(v), &j); err != nil {
			return fmt.Errorf("%s: value is not JSON: %v", k, err)
		}
		var err error
		if val, err = jl.ParseValue([]byte(v), db.MaxMetadataBytes); err != nil {
			return fmt.Errorf("%s: %v", k, err)
		}
	}
	if k == "" {
		return fmt.Errorf("%q has an empty key", s)
	}
	if f.m == nil {
		f.m = map[string]any{}
	}
	if _, dup := f.m[k]; dup {
		return fmt.Errorf("key %q given twice", k)
	}
	f.m[k] = val
	return nil
}

// parseVector parses a --vector flag: a JSON list of numbers.
func parseVector(raw []byte) ([]float32, error) {
	return jl.ParseVector(raw, db.MaxDimension)
}
