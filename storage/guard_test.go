package storage

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// storeWithDocs returns a store holding collection "c" with n documents.
func storeWithDocs(t *testing.T, n int) (*Store, string) {
	t.Helper()
	s, path := openTemp(t)
	err := s.Update(func(tx *Tx) error {
		c, err := tx.CreateCollection(&CollectionConfig{Name: "c", Dimension: 2, Metric: "l2"})
		if err != nil {
			return err
		}
		for i := range n {
			l, err := c.NextLabel()
			if err != nil {
				return err
			}
			d := &DocumentRecord{Id: fmt.Sprintf("doc-%d", i), Text: strings.Repeat("x", 100), Vector: []float32{float32(i), 1}}
			if err := c.PutDocument(l, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

// catch runs fn and returns what it panicked with (nil if it returned) and
// the error it returned.
func catch(fn func() error) (p any, err error) {
	defer func() { p = recover() }()
	return nil, fn()
}

type bugRecord struct{ m map[string]int }

// A panic raised by the caller's own code inside a transaction is a bug:
// View and Update must raise it again with its value, never report it as a
// damaged file, and must release the transaction so that the store stays
// usable (an Update must also write nothing).
func TestGuardReraisesBugs(t *testing.T) {
	s, _ := storeWithDocs(t, 3)
	explicit := errors.New("explicit panic value")
	var nilRecord *bugRecord
	cases := []struct {
		name string
		bug  func(c *CollectionTx)
		want func(p any) bool
	}{
		{"nil-map write", func(*CollectionTx) {
			var r bugRecord
			r.m["x"] = 1
		}, func(p any) bool { e, ok := p.(runtime.Error); return ok && strings.Contains(e.Error(), "nil map") }},
		{"explicit panic", func(*CollectionTx) { panic(explicit) }, func(p any) bool { return p == explicit }},
		{"nil dereference", func(*CollectionTx) { _ = len(nilRecord.m) }, func(p any) bool {
			e, ok := p.(runtime.Error)
			return ok && strings.Contains(e.Error(), "nil pointer")
		}},
		{"index out of range", func(c *CollectionTx) {
			ids := make([]string, c.Count())
			_ = ids[len(ids)+c.Count()]
		}, func(p any) bool {
			e, ok := p.(runtime.Error)
			return ok && strings.Contains(e.Error(), "index out of range")
		}},
		// The callback of ForEachDocument runs inside storage's iteration
		// over bbolt's pages.
		{"panic in a ForEachDocument callback", func(c *CollectionTx) {
			_ = c.ForEachDocument(func(uint64, *DocumentRecord) error {
				var r bugRecord
				r.m["x"] = 1
				return nil
			})
		}, func(p any) bool { _, ok := p.(runtime.Error); return ok }},
	}
	for _, tc := range cases {
		for _, write := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/write=%v", tc.name, write), func(t *testing.T) {
				run := s.View
				if write {
					run = s.Update
				}
				p, err := catch(func() error {
					return run(func(tx *Tx) error {
						c, err := tx.Collection("c")
						if err != nil {
							return err
						}
						if write {
							if err := c.PutDocument(99, &DocumentRecord{Id: "half-done", Vector: []float32{1, 2}}); err != nil {
								return err
							}
						}
						tc.bug(c)
						return nil
					})
				})
				if p == nil {
					t.Fatalf("the bug did not surface as a panic; the call returned %v", err)
				}
				if !tc.want(p) {
					t.Fatalf("re-raised %T %v, not the original panic", p, p)
				}
				// The transaction was released and rolled back.
				err = s.Update(func(tx *Tx) error {
					c, err := tx.Collection("c")
					if err != nil {
						return err
					}
					if _, ok, _ := c.Label("half-done"); ok {
						return errors.New("the panicking Update was committed")
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// The classification itself, on panics made where the rule must look.
func TestPanicFrameAndPkgPath(t *testing.T) {
	for _, tc := range []struct{ fn, pkg string }{
		{"go.etcd.io/bbolt.(*Cursor).search", "go.etcd.io/bbolt"},
		{"go.etcd.io/bbolt/internal/common.Assert", "go.etcd.io/bbolt/internal/common"},
		{"github.com/vecbolt/vecbolt/storage.(*Store).View.func1", "github.com/vecbolt/vecbolt/storage"},
		{"runtime.gopanic", "runtime"},
		{"internal/runtime/maps.(*Map).assign", "internal/runtime/maps"},
		{"main.main", "main"},
		{"example.com/m.F[go.shape.*example.com/x/y.T]", "example.com/m"},
	} {
		if got := pkgPath(tc.fn); got != tc.pkg {
			t.Errorf("pkgPath(%q) = %q, want %q", tc.fn, got, tc.pkg)
		}
	}
	for fn, std := range map[string]bool{
		"runtime.sigpanic": true, "internal/bytealg.Compare": true, "bytes.(*Reader).Read": true,
		"hash/crc32.Checksum": true, "main.main": false, "go.etcd.io/bbolt.(*DB).View": false,
		"github.com/vecbolt/vecbolt/storage.openEnvelope": false,
	} {
		if got := isStd(fn); got != std {
			t.Errorf("isStd(%q) = %v", fn, got)
		}
	}
	// The frame found is the one that panicked, not the deferred function
	// nor the runtime's helpers.
	var where string
	func() {
		defer func() {
			recover()
			where = panicFrame()
		}()
		var r bugRecord
		r.m["x"] = 1
	}()
	if !strings.HasPrefix(where, "github.com/vecbolt/vecbolt/storage.TestPanicFrameAndPkgPath.func") {
		t.Errorf("panicFrame = %q, want this test's closure", where)
	}
}
