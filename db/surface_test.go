package db

import (
	"reflect"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/storage"
)

// leaks reports the packages of storage and bbolt that t mentions, looking
// through pointers, slices, maps, channels and function signatures.
func leaks(t reflect.Type, seen map[reflect.Type]bool) []string {
	if seen[t] {
		return nil
	}
	seen[t] = true
	if p := t.PkgPath(); strings.HasPrefix(p, "go.etcd.io/bbolt") || strings.HasPrefix(p, "github.com/vecbolt/vecbolt/storage") {
		return []string{t.String()}
	}
	var out []string
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Chan:
		out = leaks(t.Elem(), seen)
	case reflect.Map:
		out = append(leaks(t.Key(), seen), leaks(t.Elem(), seen)...)
	case reflect.Func:
		for i := range t.NumIn() {
			out = append(out, leaks(t.In(i), seen)...)
		}
		for i := range t.NumOut() {
			out = append(out, leaks(t.Out(i), seen)...)
		}
	}
	return out
}

// The file's handles stay inside: no exported method of db's handles takes
// or returns a storage or bbolt type (DB.Storage and Store.Bolt did), and
// no exported method of storage.Store hands out bbolt's handle.
func TestNoStorageHandlesInPublicAPI(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[*DB](), reflect.TypeFor[*Collection]()} {
		for i := range typ.NumMethod() {
			m := typ.Method(i)
			if l := leaks(m.Type, map[reflect.Type]bool{}); len(l) > 0 {
				t.Errorf("%s.%s exposes %v", typ, m.Name, l)
			}
		}
	}
	st := reflect.TypeFor[*storage.Store]()
	for i := range st.NumMethod() {
		m := st.Method(i)
		for j := range m.Type.NumOut() {
			if strings.HasPrefix(m.Type.Out(j).String(), "*bbolt.") {
				t.Errorf("storage.Store.%s returns %s", m.Name, m.Type.Out(j))
			}
		}
	}
}
