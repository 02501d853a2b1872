package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/vecbolt/vecbolt/storage/internal/pb"
)

func TestFloat16RoundTripsEveryHalf(t *testing.T) {
	for h := range 1 << 16 {
		x := uint16(h)
		if x&0x7c00 == 0x7c00 && x&0x3ff != 0 {
			continue // NaN payloads need not survive
		}
		if got := float32To16(float16To32(x)); got != x {
			t.Fatalf("half %#04x -> %v -> %#04x", x, float16To32(x), got)
		}
	}
}

// TestFloat16RoundsToNearest compares float32To16 with the nearest half
// found by search, ties to the even one, for values of every magnitude.
func TestFloat16RoundsToNearest(t *testing.T) {
	var halves []float64 // every finite non-negative half, ascending
	for h := uint16(0); h < 0x7c00; h++ {
		halves = append(halves, float64(float16To32(h)))
	}
	nearest := func(x float32) uint16 {
		a := math.Abs(float64(x))
		sign := uint16(0)
		if math.Signbit(float64(x)) {
			sign = 0x8000
		}
		// The largest half plus half an ulp (2^-11 of 2^15·2) rounds to
		// infinity.
		if a >= 65520 {
			return sign | 0x7c00
		}
		i, _ := slices.BinarySearch(halves, a)
		if i == len(halves) {
			i--
		}
		best := i
		if i > 0 && a-halves[i-1] <= halves[i]-a {
			best = i - 1
			if a-halves[i-1] == halves[i]-a && (i-1)&1 == 1 {
				best = i
			}
		}
		return sign | uint16(best)
	}
	r := rand.New(rand.NewPCG(1, 2))
	cases := []float32{0, 1, -1, 65504, 65519.99, 65520, 1e-8, 2.98e-8, 5.96e-8, 6.1e-5, 6.09e-5, 1.0009765625, 1.00048828125, 1.00146484375}
	for range 200000 {
		cases = append(cases, math.Float32frombits(r.Uint32()&^0x7f800000|uint32(r.IntN(143))<<23))
	}
	for _, x := range cases {
		if got, want := float32To16(x), nearest(x); got != want {
			t.Fatalf("float32To16(%v) = %#04x (%v), want %#04x (%v)", x, got, float16To32(got), want, float16To32(want))
		}
	}
	if h := float32To16(float32(math.Inf(-1))); h != 0xfc00 {
		t.Errorf("-Inf -> %#04x", h)
	}
	if h := float32To16(float32(math.NaN())); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("NaN -> %#04x", h)
	}
}

func TestSlabRows(t *testing.T) {
	for _, c := range []struct {
		dim  int
		f16  bool
		rows int
	}{
		{384, false, 5}, // two slabs in 4 pages: 1,638 bytes per vector
		{384, true, 5},  // two in 2 pages: 819
		{96, false, 5},  // two in 1 page: 410
		{768, false, 3}, // two in 5 pages: 3,413
		{4, false, 64},  // the bitmap's limit
		{65536, false, 1},
	} {
		l := vecLayout{dim: c.dim, f16: c.f16}
		l.setRow()
		if got := slabRows(l.row); got != c.rows {
			t.Errorf("dim %d f16 %v: %d rows per slab, want %d", c.dim, c.f16, got, c.rows)
		}
		vs := NewVectorStore(c.dim, map[bool]uint32{false: PrecisionFloat32, true: PrecisionFloat16}[c.f16])
		if int(vs.SlabRows) != c.rows {
			t.Errorf("NewVectorStore(%d): %d rows", c.dim, vs.SlabRows)
		}
	}
}

// vecCollection makes collection "c" of dimension dim at precision p.
func vecCollection(t *testing.T, s *Store, dim int, p uint32) {
	t.Helper()
	err := s.Update(func(tx *Tx) error {
		_, err := tx.CreateCollection(&CollectionConfig{Name: "c", Dimension: uint32(dim), Metric: "l2", Vectors: &VectorStore{Precision: p}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestVectorStoreModel writes, replaces and deletes random labels over
// many transactions and checks every reader against a map, at both
// precisions: Document, Vector, ForEachDocument, LoadVectors and
// CheckVectors see exactly the live documents' vectors, and the document
// records themselves carry none.
func TestVectorStoreModel(t *testing.T) {
	for _, p := range []uint32{PrecisionFloat32, PrecisionFloat16} {
		t.Run(fmt.Sprint("precision ", p), func(t *testing.T) {
			const dim = 7
			s, _ := openTemp(t)
			vecCollection(t, s, dim, p)
			r := rand.New(rand.NewPCG(3, uint64(p)))
			model := map[uint64][]float32{}
			for round := range 30 {
				err := s.Update(func(tx *Tx) error {
					c, err := tx.Collection("c")
					if err != nil {
						return err
					}
					for range 40 {
						label := uint64(r.IntN(300))
						if _, ok := model[label]; ok && r.IntN(3) == 0 {
							if err := c.DeleteDocument(label, fmt.Sprint(label)); err != nil {
								return err
							}
							delete(model, label)
							continue
						}
						v := make([]float32, dim)
						for i := range v {
							v[i] = float32(r.NormFloat64() * 100)
						}
						if p == PrecisionFloat16 {
							RoundFloat16(v)
						}
						if err := c.PutDocument(label, &DocumentRecord{Id: fmt.Sprint(label), Vector: v}); err != nil {
							return err
						}
						model[label] = v
					}
					return nil
				})
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			err := s.View(func(tx *Tx) error {
				c, err := tx.Collection("c")
				if err != nil {
					return err
				}
				for label := range uint64(300) {
					want, live := model[label]
					d, ok, err := c.Document(label)
					if err != nil || ok != live || (live && !slices.Equal(d.Vector, want)) {
						t.Errorf("Document(%d) = %v %v %v, want %v %v", label, d, ok, err, want, live)
					}
					v, ok, err := c.Vector(label, []float32{42})
					if err != nil || ok != live || (live && !slices.Equal(v[1:], want)) || v[0] != 42 {
						t.Errorf("Vector(%d) = %v %v %v, want %v", label, v, ok, err, want)
					}
					if live {
						raw, err := DecodeDocument(c.b.Bucket(bucketDocs).Get(LabelKey(label)))
						if err != nil || len(raw.Vector) != 0 {
							t.Errorf("record of %d carries a vector (%v)", label, err)
						}
					}
				}
				seen := 0
				err = c.ForEachDocument(func(label uint64, d *DocumentRecord) error {
					seen++
					if !slices.Equal(d.Vector, model[label]) {
						t.Errorf("ForEachDocument %d: %v, want %v", label, d.Vector, model[label])
					}
					return nil
				})
				if err != nil || seen != len(model) {
					t.Errorf("ForEachDocument: %d of %d, %v", seen, len(model), err)
				}
				loaded := map[uint64][]float32{}
				for label := range model {
					if label%2 == 0 { // odd ones are not wanted
						loaded[label] = make([]float32, dim)
					}
				}
				got := map[uint64]bool{}
				var mu sync.Mutex
				// Three goroutines over ranges of two slabs or more.
				err = c.loadVectors(func() func(uint64) []float32 {
					return func(label uint64) []float32 {
						mu.Lock()
						defer mu.Unlock()
						if got[label] {
							t.Errorf("LoadVectors: label %d twice", label)
						}
						got[label] = true
						return loaded[label]
					}
				}, 3, 2, nil)
				if err != nil {
					return err
				}
				for label, want := range model {
					if v, ok := loaded[label]; (label%2 == 0) != ok || ok && !slices.Equal(v, want) || !got[label] {
						t.Errorf("LoadVectors %d: %v (asked %v), want %v", label, v, got[label], want)
					}
				}
				good := 0
				err = c.CheckVectors(func(label uint64, p *VectorProblem) error {
					if p != nil {
						t.Errorf("CheckVectors: %+v", p)
					}
					if _, ok := model[label]; !ok {
						t.Errorf("CheckVectors: label %d has no document", label)
					}
					good++
					return nil
				})
				if err != nil || good != len(model) {
					t.Errorf("CheckVectors: %d rows of %d, %v", good, len(model), err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestVectorStoreRefuses(t *testing.T) {
	s, _ := openTemp(t)
	vecCollection(t, s, 3, PrecisionFloat16)
	for _, c := range []struct {
		name string
		vec  []float32
		want error
	}{
		{"no vector", nil, nil},
		{"wrong dimension", []float32{1, 2}, nil},
		{"beyond float16", []float32{1, 70000, 2}, ErrVectorRange},
		{"NaN", []float32{1, float32(math.NaN()), 2}, ErrVectorRange},
	} {
		err := s.Update(func(tx *Tx) error {
			ct, err := tx.Collection("c")
			if err != nil {
				return err
			}
			return ct.PutDocument(1, &DocumentRecord{Id: "a", Vector: c.vec})
		})
		if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

// damageRaw runs edit on collection c's vector bucket in a bbolt write
// transaction, as damage to the file would leave it.
func damageRaw(t *testing.T, s *Store, edit func(b *bolt.Bucket)) {
	t.Helper()
	err := s.db.Update(func(tx *bolt.Tx) error {
		edit(tx.Bucket(bucketCollections).Bucket([]byte("c")).Bucket(bucketVectors))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestVectorDamageIsFound flips every bit of a stored slab in turn: each
// reader of the damaged vector reports ErrCorrupt, and no reader returns
// a wrong vector for any label of the slab.
func TestVectorDamageIsFound(t *testing.T) {
	const dim = 3
	s, _ := openTemp(t)
	vecCollection(t, s, dim, PrecisionFloat32)
	vec := func(l uint64) []float32 { return []float32{float32(l), 1, -2} }
	err := s.Update(func(tx *Tx) error {
		c, err := tx.Collection("c")
		if err != nil {
			return err
		}
		for _, l := range []uint64{1, 2, 5} {
			if err := c.PutDocument(l, &DocumentRecord{Id: fmt.Sprint(l), Vector: vec(l)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var orig []byte
	damageRaw(t, s, func(b *bolt.Bucket) { orig = bytes.Clone(b.Get(make([]byte, 8))) })
	if len(orig) != slabHeader+3*(dim*4+4) {
		t.Fatalf("slab of %d bytes", len(orig))
	}
	for i := range orig {
		for bit := range 8 {
			bad := bytes.Clone(orig)
			bad[i] ^= 1 << bit
			damageRaw(t, s, func(b *bolt.Bucket) { _ = b.Put(make([]byte, 8), bad) })
			var found int
			err := s.View(func(tx *Tx) error {
				c, err := tx.Collection("c")
				if err != nil {
					return err
				}
				for _, l := range []uint64{1, 2, 5} {
					v, ok, err := c.Vector(l, nil)
					switch {
					case errors.Is(err, ErrCorrupt):
						found++
					case err != nil || !ok || !slices.Equal(v, vec(l)):
						t.Fatalf("byte %d bit %d: Vector(%d) = %v %v %v", i, bit, l, v, ok, err)
					}
				}
				if err := c.ForEachDocument(func(uint64, *DocumentRecord) error { return nil }); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("byte %d bit %d: ForEachDocument: %v", i, bit, err)
				}
				if err := c.LoadVectors(func() func(uint64) []float32 {
					return func(uint64) []float32 { return make([]float32, dim) }
				}, 1, nil); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("byte %d bit %d: LoadVectors: %v", i, bit, err)
				}
				// With a damaged callback the load goes on: every label
				// it fills gets its own vector, and the others are
				// reported (a row, or the slab's range).
				filled := map[uint64][]float32{}
				var reported []VectorProblem
				err = c.LoadVectors(func() func(uint64) []float32 {
					return func(l uint64) []float32 {
						filled[l] = make([]float32, dim)
						return filled[l]
					}
				}, 1, func(p VectorProblem) { reported = append(reported, p) })
				if err != nil || len(reported) == 0 {
					t.Fatalf("byte %d bit %d: LoadVectors with a callback: %v, %d reported", i, bit, err, len(reported))
				}
				for _, l := range []uint64{1, 2, 5} {
					in := false
					for _, p := range reported {
						in = in || l >= p.Label && l <= p.Last
						if !errors.Is(p.Err, ErrCorrupt) {
							t.Fatalf("byte %d bit %d: problem %+v", i, bit, p)
						}
					}
					if v, ok := filled[l]; ok == in || ok && !slices.Equal(v, vec(l)) {
						t.Fatalf("byte %d bit %d: label %d filled %v (%v), reported %v", i, bit, l, v, ok, in)
					}
				}
				problems := 0
				_ = c.CheckVectors(func(_ uint64, p *VectorProblem) error {
					if p != nil {
						problems++
					}
					return nil
				})
				if problems == 0 {
					t.Fatalf("byte %d bit %d: CheckVectors found nothing", i, bit)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if found == 0 {
				t.Fatalf("byte %d bit %d: no Vector call reported the damage", i, bit)
			}
		}
	}
	// Writing to a slab whose header is damaged starts it afresh: the
	// written vector reads back, the others stay reported.
	bad := bytes.Clone(orig)
	bad[3] ^= 1
	damageRaw(t, s, func(b *bolt.Bucket) { _ = b.Put(make([]byte, 8), bad) })
	err = s.Update(func(tx *Tx) error {
		c, err := tx.Collection("c")
		if err != nil {
			return err
		}
		return c.PutDocument(2, &DocumentRecord{Id: "2", Vector: vec(2)})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(func(tx *Tx) error {
		c, _ := tx.Collection("c")
		if v, ok, err := c.Vector(2, nil); err != nil || !ok || !slices.Equal(v, vec(2)) {
			t.Errorf("rewritten vector: %v %v %v", v, ok, err)
		}
		if _, _, err := c.Vector(1, nil); !errors.Is(err, ErrCorrupt) {
			t.Errorf("vector lost with the damaged slab: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// downgrade turns a format-4 file into the format-3 layout: every vector
// back in its document record, no store, header 3.
func downgrade(t *testing.T, s *Store) {
	t.Helper()
	err := s.Update(func(tx *Tx) error {
		names, err := tx.CollectionNames()
		if err != nil {
			return err
		}
		for _, name := range names {
			c, err := tx.Collection(name)
			if err != nil {
				return err
			}
			type rec struct {
				k []byte
				d *DocumentRecord
			}
			var recs []rec
			if err := c.ForEachDocument(func(label uint64, d *DocumentRecord) error {
				recs = append(recs, rec{LabelKey(label), proto.Clone(d).(*DocumentRecord)})
				return nil
			}); err != nil {
				return err
			}
			for _, r := range recs {
				v, err := seal(r.d)
				if err != nil {
					return err
				}
				if err := c.b.Bucket(bucketDocs).Put(r.k, v); err != nil {
					return err
				}
			}
			cfg, err := c.Config()
			if err != nil {
				return err
			}
			cfg.Vectors = nil
			v, err := seal(cfg)
			if err != nil {
				return err
			}
			if err := c.b.Put(keyConfig, v); err != nil {
				return err
			}
			if err := c.b.DeleteBucket(bucketVectors); err != nil {
				return err
			}
		}
		v, err := seal(&pb.FileHeader{FormatVersion: 3, CreatedUnix: 1})
		if err != nil {
			return err
		}
		return tx.tx.Bucket(bucketMeta).Put(keyHeader, v)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUpgradeMovesVectorsInBatches upgrades a format-3 layout of more
// documents than one batch moves, then a file whose move a crash stopped
// halfway (Moving, with vectors on both sides of MoveFrom): a read-only
// open reads every vector as it is, and the writable one finishes the
// move.
func TestUpgradeMovesVectorsInBatches(t *testing.T) {
	const n, dim = moveBatch*2 + 100, 2
	s, path := openTemp(t)
	vecCollection(t, s, dim, PrecisionFloat32)
	vec := func(l uint64) []float32 { return []float32{float32(l), 1} }
	err := s.Update(func(tx *Tx) error {
		c, err := tx.Collection("c")
		if err != nil {
			return err
		}
		for l := uint64(1); l <= n; l++ {
			if err := c.PutDocument(l, &DocumentRecord{Id: fmt.Sprint(l), Vector: vec(l)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	downgrade(t, s)
	s.Close()
	verify := func(readOnly bool, wantMoving bool) {
		t.Helper()
		s, err := Open(path, Options{ReadOnly: readOnly})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		err = s.View(func(tx *Tx) error {
			c, err := tx.Collection("c")
			if err != nil {
				return err
			}
			seen := 0
			if err := c.ForEachDocument(func(label uint64, d *DocumentRecord) error {
				seen++
				if !slices.Equal(d.Vector, vec(label)) {
					t.Errorf("label %d: %v", label, d.Vector)
				}
				return nil
			}); err != nil || seen != n {
				t.Errorf("%d documents, %v", seen, err)
			}
			for _, l := range []uint64{1, moveBatch, moveBatch + 1, n} {
				if v, ok, err := c.Vector(l, nil); err != nil || !ok || !slices.Equal(v, vec(l)) {
					t.Errorf("Vector(%d) = %v %v %v", l, v, ok, err)
				}
			}
			vs, err := c.VectorStoreInfo()
			if err != nil {
				return err
			}
			if (vs != nil && vs.Moving) != wantMoving {
				t.Errorf("store %v, want moving %v", vs, wantMoving)
			}
			inline := 0
			_ = c.b.Bucket(bucketDocs).ForEach(func(_, v []byte) error {
				if d, err := DecodeDocument(v); err == nil && len(d.Vector) > 0 {
					inline++
				}
				return nil
			})
			if !wantMoving && !readOnly && inline != 0 {
				t.Errorf("%d records still carry their vector", inline)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	verify(true, false) // format 3, read as it is
	verify(false, false)

	// A move stopped by a crash after its first batch.
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	downgrade(t, s)
	err = s.update(func(btx *bolt.Tx) error {
		tx := &Tx{tx: btx}
		meta := btx.Bucket(bucketMeta)
		v, _ := seal(&pb.FileHeader{FormatVersion: FormatVersion, CreatedUnix: 1})
		if err := meta.Put(keyHeader, v); err != nil {
			return err
		}
		c, err := tx.Collection("c")
		if err != nil {
			return err
		}
		if err := startMove(c); err != nil {
			return err
		}
		_, err = moveSome(c)
		return err
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	verify(true, true)
	verify(false, false)
}

// FuzzVectorSlab feeds arbitrary bytes to the slab decoder: it never
// panics, a slab it accepts has rows of the layout's length for exactly
// its bitmap's bits, and adding or removing a row keeps it a slab that
// decodes to the same rows otherwise.
func FuzzVectorSlab(f *testing.F) {
	l := &vecLayout{dim: 2, rows: 5}
	l.setRow()
	var s slab
	v := l.withRow(s, 3, mustRow(l, 3, []float32{1, 2}))
	f.Add(v, uint8(1), false)
	s, _ = l.openSlab(v)
	f.Add(l.withRow(s, 0, mustRow(l, 0, []float32{-1, 0.5})), uint8(3), true)
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, uint8(0), false)
	f.Fuzz(func(t *testing.T, v []byte, i uint8, f16 bool) {
		l := &vecLayout{dim: 2, rows: 5, f16: f16}
		l.setRow()
		s, err := l.openSlab(v)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		bit := uint64(i) % l.rows
		dst := make([]float32, l.dim)
		for b := range l.rows {
			r := l.rowAt(s, b)
			if (r != nil) != (s.bits&(1<<b) != 0) || r != nil && len(r) != l.row {
				t.Fatalf("row %d: %d bytes, bitmap %b", b, len(r), s.bits)
			}
			if r != nil {
				if p, err := l.checkRow(b, r); err == nil {
					_ = l.decodeInto(p, dst)
				}
			}
		}
		row := make([]byte, l.row)
		binary.LittleEndian.PutUint32(row, 7)
		for _, nv := range [][]byte{l.withRow(s, bit, row), l.withoutRow(s, bit)} {
			if nv == nil {
				if s.bits&^(1<<bit) != 0 {
					t.Fatal("withoutRow dropped a slab that had other rows")
				}
				continue
			}
			ns, err := l.openSlab(nv)
			if err != nil {
				t.Fatalf("edited slab does not open: %v", err)
			}
			for b := range l.rows {
				if b != bit && !bytes.Equal(l.rowAt(ns, b), l.rowAt(s, b)) {
					t.Fatalf("row %d changed by an edit of row %d", b, bit)
				}
			}
		}
	})
}

func mustRow(l *vecLayout, label uint64, v []float32) []byte {
	r, err := l.encodeRow(nil, label, v)
	if err != nil {
		panic(err)
	}
	return r
}
