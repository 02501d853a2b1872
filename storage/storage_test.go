package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"github.com/vecbolt/vecbolt/storage/internal/pb"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.vecbolt")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestEnvelopeRoundTripAndDamage(t *testing.T) {
	doc := &DocumentRecord{Id: "a", Text: "hello", Vector: []float32{1, 2, 3},
		Metadata: map[string]*pb.Value{"k": {Kind: &pb.Value_IntValue{IntValue: 7}}}}
	b, err := EncodeDocument(doc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeDocument(b)
	if err != nil || got.Id != "a" || got.Metadata["k"].GetIntValue() != 7 {
		t.Fatalf("%v %v", got, err)
	}
	// Every single-bit flip anywhere is detected.
	for i := range b {
		for bit := range 8 {
			c := bytes.Clone(b)
			c[i] ^= 1 << bit
			if _, err := DecodeDocument(c); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("flip byte %d bit %d: %v", i, bit, err)
			}
		}
	}
	// Every truncation is detected.
	for n := range len(b) {
		if _, err := DecodeDocument(b[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	if _, err := DecodeDocument(nil); !errors.Is(err, ErrCorrupt) {
		t.Fatal(err)
	}
}

func FuzzDecodeDocument(f *testing.F) {
	good, _ := EncodeDocument(&DocumentRecord{Id: "x", Text: "t", Vector: []float32{0.5}})
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0, 0, 0})
	f.Add([]byte{1, 0, 0, 0, 0, 0x0a, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := DecodeDocument(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		// What decodes must re-encode and decode to the same record.
		again, err := EncodeDocument(d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeDocument(again); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCollectionsAndDocuments(t *testing.T) {
	s, _ := openTemp(t)
	err := s.Update(func(tx *Tx) error {
		c, err := tx.CreateCollection(&CollectionConfig{Name: "c", Dimension: 2, Metric: "l2"})
		if err != nil {
			return err
		}
		for i, id := range []string{"x", "y", "z"} {
			l, err := c.NextLabel()
			if err != nil {
				return err
			}
			if err := c.PutDocument(l, &DocumentRecord{Id: id, Vector: []float32{float32(i), 0}}); err != nil {
				return err
			}
		}
		_, err = tx.CreateCollection(&CollectionConfig{Name: "c"})
		if !errors.Is(err, ErrCollectionExists) {
			t.Errorf("create twice: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(func(tx *Tx) error {
		names, _ := tx.CollectionNames()
		if len(names) != 1 || names[0] != "c" {
			t.Errorf("names %v", names)
		}
		c, err := tx.Collection("c")
		if err != nil {
			return err
		}
		if c.Count() != 3 || pendingCount(t, c) != 3 {
			t.Errorf("count %d pending %d", c.Count(), pendingCount(t, c))
		}
		l, ok, err := c.Label("y")
		if err != nil || !ok || l != 2 {
			t.Errorf("label %d %v %v", l, ok, err)
		}
		d, ok, err := c.Document(l)
		if err != nil || !ok || d.Id != "y" {
			t.Errorf("doc %v %v %v", d, ok, err)
		}
		if _, err := tx.Collection("nope"); !errors.Is(err, ErrCollectionNotFound) {
			t.Errorf("missing: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSnapshotChunksAndChecksum(t *testing.T) {
	s, _ := openTemp(t)
	payload := bytes.Repeat([]byte("0123456789abcdef"), (snapshotChunk*2+1000)/16)
	err := s.Update(func(tx *Tx) error {
		c, err := tx.CreateCollection(&CollectionConfig{Name: "c", Dimension: 1})
		if err != nil {
			return err
		}
		if err := c.PutDocument(1, &DocumentRecord{Id: "a", Vector: []float32{1}}); err != nil {
			return err
		}
		return c.PutSnapshot("hnsw", func(w io.Writer) error {
			_, err := w.Write(payload)
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(func(tx *Tx) error {
		c, _ := tx.Collection("c")
		if pendingCount(t, c) != 0 {
			t.Errorf("pending not cleared")
		}
		kind, r, ok, err := c.Snapshot()
		if err != nil || !ok || kind != "hnsw" {
			t.Fatalf("%v %v %v", kind, ok, err)
		}
		got, _ := io.ReadAll(r)
		if !bytes.Equal(got, payload) {
			t.Errorf("snapshot differs: %d vs %d bytes", len(got), len(payload))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Damage one chunk behind the store's back: reading must fail.
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCollections).Bucket([]byte("c")).Bucket(bucketSnapshot)
		v := bytes.Clone(b.Get(chunkKey(1)))
		v[100] ^= 1
		return b.Put(chunkKey(1), v)
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.View(func(tx *Tx) error {
		c, _ := tx.Collection("c")
		if _, _, _, err := c.Snapshot(); !errors.Is(err, ErrCorrupt) {
			t.Errorf("damaged snapshot: %v", err)
		}
		return nil
	})
}

func TestHeaderChecks(t *testing.T) {
	dir := t.TempDir()
	// A newer format is refused.
	newer := filepath.Join(dir, "newer")
	s, err := Open(newer, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.db.Update(func(tx *bolt.Tx) error {
		v, _ := seal(&pb.FileHeader{FormatVersion: FormatVersion + 1})
		return tx.Bucket(bucketMeta).Put(keyHeader, v)
	})
	s.Close()
	if _, err := Open(newer, Options{}); !errors.Is(err, ErrNewerFormat) {
		t.Fatalf("newer: %v", err)
	}
	// Somebody else's bbolt file is refused, and left alone.
	other := filepath.Join(dir, "other")
	b, _ := bolt.Open(other, 0o600, nil)
	_ = b.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("theirs")); return err })
	b.Close()
	if _, err := Open(other, Options{}); !errors.Is(err, ErrNotVecbolt) {
		t.Fatalf("other: %v", err)
	}
	// Not a bbolt file at all.
	junk := filepath.Join(dir, "junk")
	os.WriteFile(junk, []byte(strings.Repeat("not a database ", 1000)), 0o600)
	if _, err := Open(junk, Options{}); err == nil {
		t.Fatal("junk file opened")
	}
	// A root page that does not carry its own page ID: the meta pages are
	// intact, so bbolt opens the file and then asserts (panics) when the
	// header check reads the tree. Both copies of the root are damaged, so
	// that whichever meta page is current leads to one.
	for _, readOnly := range []bool{false, true} {
		wrecked := filepath.Join(dir, fmt.Sprintf("root-%v", readOnly))
		s, err := Open(wrecked, Options{})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		data, err := os.ReadFile(wrecked)
		if err != nil {
			t.Fatal(err)
		}
		// bbolt's meta page: a 16-byte page header, then magic, version,
		// page size and flags (4 bytes each), then the root bucket's page.
		pageSize := int(binary.LittleEndian.Uint32(data[16+8:]))
		for _, meta := range []int{0, pageSize} {
			root := int(binary.LittleEndian.Uint64(data[meta+32:]))
			if (root+1)*pageSize > len(data) || root < 2 {
				t.Fatalf("meta page at %d names root page %d of a %d-byte file", meta, root, len(data))
			}
			binary.LittleEndian.PutUint64(data[root*pageSize:], 0xdeadbeef)
		}
		if err := os.WriteFile(wrecked, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if s, err := Open(wrecked, Options{ReadOnly: readOnly}); !errors.Is(err, ErrCorrupt) {
			if err == nil {
				s.Close()
			}
			t.Errorf("root page damaged, read-only %v: %v, want ErrCorrupt", readOnly, err)
		}
	}
	// A truncated file.
	trunc := filepath.Join(dir, "trunc")
	s, _ = Open(trunc, Options{})
	s.Close()
	data, _ := os.ReadFile(trunc)
	// Three pages: the meta pages and one more; the file's tree needs more.
	os.WriteFile(trunc, data[:min(len(data)/3, 3*os.Getpagesize())], 0o600)
	if s, err := Open(trunc, Options{}); err == nil {
		s.Close()
		t.Fatal("truncated file opened")
	}
}

func TestLockTimeout(t *testing.T) {
	_, path := openTemp(t)
	start := time.Now()
	_, err := Open(path, Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("%v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("lock wait took %v", d)
	}
	if _, err := Open(path, Options{LockTimeout: -1}); !errors.Is(err, ErrLocked) {
		t.Fatalf("no-wait: %v", err)
	}
}

func TestReadOnly(t *testing.T) {
	s, path := openTemp(t)
	s.Close()
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.Update(func(*Tx) error { return nil }); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("%v", err)
	}
	ro2, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("second reader: %v", err)
	}
	ro2.Close()
}

// heads lists a collection's heads as "label:id:key=value".
func headsOf(t *testing.T, s *Store, name string) []string {
	t.Helper()
	var out []string
	err := s.View(func(tx *Tx) error {
		c, err := tx.Collection(name)
		if err != nil {
			return err
		}
		return c.ForEachHead(func(label uint64, payload []byte) error {
			d, err := DecodeHead(payload)
			if err != nil {
				return err
			}
			if c.heads() != nil {
				var full DocumentRecord
				if err := proto.Unmarshal(payload, &full); err != nil {
					return err
				}
				if full.Text != "" || len(full.Vector) != 0 {
					t.Errorf("head of %q carries text or vector", d.Id)
				}
			}
			out = append(out, fmt.Sprintf("%d:%s:n=%d", label, d.Id, d.Metadata["n"].GetIntValue()))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestHeadsFollowDocuments(t *testing.T) {
	s, _ := openTemp(t)
	err := s.Update(func(tx *Tx) error {
		c, err := tx.CreateCollection(&CollectionConfig{Name: "c", Dimension: 2})
		if err != nil {
			return err
		}
		for i, id := range []string{"a", "b", "c"} {
			d := &DocumentRecord{Id: id, Text: "text " + id, Vector: []float32{1, float32(i)},
				Metadata: map[string]*pb.Value{"n": {Kind: &pb.Value_IntValue{IntValue: int64(i)}}}}
			if err := c.PutDocument(uint64(i+1), d); err != nil {
				return err
			}
		}
		// Replace b's metadata and delete c.
		d := &DocumentRecord{Id: "b", Text: "new", Vector: []float32{0, 1},
			Metadata: map[string]*pb.Value{"n": {Kind: &pb.Value_IntValue{IntValue: 9}}}}
		if err := c.PutDocument(2, d); err != nil {
			return err
		}
		return c.DeleteDocument(3, "c")
	})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(headsOf(t, s, "c"), " ")
	if want := "1:a:n=0 2:b:n=9"; got != want {
		t.Fatalf("heads %q, want %q", got, want)
	}
}

// TestUpgradeFromFormat1 turns a file into what format 1 wrote (no heads
// bucket, header version 1) and checks both ways of opening it.
func TestUpgradeFromFormat1(t *testing.T) {
	s, path := openTemp(t)
	err := s.Update(func(tx *Tx) error {
		c, err := tx.CreateCollection(&CollectionConfig{Name: "c", Dimension: 2})
		if err != nil {
			return err
		}
		for i := range 300 {
			d := &DocumentRecord{Id: fmt.Sprintf("d%03d", i), Text: "t", Vector: []float32{1, 2},
				Metadata: map[string]*pb.Value{"n": {Kind: &pb.Value_IntValue{IntValue: int64(i)}}}}
			if err := c.PutDocument(uint64(i+1), d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := headsOf(t, s, "c")
	if len(want) != 300 {
		t.Fatalf("%d heads", len(want))
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketCollections).Bucket([]byte("c")).DeleteBucket(bucketHeads); err != nil {
			return err
		}
		v, err := seal(&pb.FileHeader{FormatVersion: 1, CreatedUnix: 42})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keyHeader, v)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	version := func(s *Store) (v uint32, created int64) {
		err := s.db.View(func(tx *bolt.Tx) error {
			var h pb.FileHeader
			err := unseal(tx.Bucket(bucketMeta).Get(keyHeader), &h)
			v, created = h.FormatVersion, h.CreatedUnix
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return v, created
	}

	// Read-only: nothing is written; heads come from the documents.
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := headsOf(t, ro, "c"); !slices.Equal(got, want) {
		t.Fatalf("read-only format-1 heads differ:\n%v\n%v", got, want)
	}
	if v, _ := version(ro); v != 1 {
		t.Fatalf("read-only open changed the format to %d", v)
	}
	ro.Close()

	// Writable: upgraded in place, creation time kept.
	rw, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	if v, created := version(rw); v != FormatVersion || created != 42 {
		t.Fatalf("after upgrade: format %d created %d", v, created)
	}
	err = rw.View(func(tx *Tx) error {
		c, err := tx.Collection("c")
		if err != nil {
			return err
		}
		if c.heads() == nil {
			t.Error("upgrade did not create the heads bucket")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := headsOf(t, rw, "c"); !slices.Equal(got, want) {
		t.Fatalf("upgraded heads differ:\n%v\n%v", got, want)
	}
}

func TestVector(t *testing.T) {
	s, _ := openTemp(t)
	err := s.Update(func(tx *Tx) error {
		c, err := tx.CreateCollection(&CollectionConfig{Name: "c", Dimension: 3})
		if err != nil {
			return err
		}
		return c.PutDocument(1, &DocumentRecord{Id: "a", Text: "t", Vector: []float32{1, -2.5, 3},
			Metadata: map[string]*pb.Value{"k": {Kind: &pb.Value_StringValue{StringValue: "v"}}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(func(tx *Tx) error {
		c, err := tx.Collection("c")
		if err != nil {
			return err
		}
		dst := []float32{9}
		v, ok, err := c.Vector(1, dst)
		if err != nil || !ok || !slices.Equal(v, []float32{9, 1, -2.5, 3}) {
			t.Errorf("Vector(1) = %v %v %v", v, ok, err)
		}
		if v, ok, err := c.Vector(2, nil); err != nil || ok || len(v) != 0 {
			t.Errorf("Vector(2) = %v %v %v", v, ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzDecodeVector checks the in-place vector reader against
// proto.Unmarshal: whenever the general decoder accepts the bytes, both
// give the same vector.
func FuzzDecodeVector(f *testing.F) {
	for _, d := range []*DocumentRecord{
		{},
		{Id: "a", Text: "text", Vector: []float32{1, 2, 3}},
		{Id: "b", Vector: []float32{-0.5}, Metadata: map[string]*pb.Value{"k": {Kind: &pb.Value_IntValue{IntValue: 3}}}},
		{Id: "c", Text: "a long text", Vector: []float32{0.25, 1}, Passages: 300},
	} {
		b, err := marshal(d)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeVector(b, nil)
		var d DocumentRecord
		refErr := proto.Unmarshal(b, &d)
		if refErr != nil {
			if err == nil {
				if _, ok := fastVector(b, nil); !ok {
					t.Fatalf("fallback accepted what proto.Unmarshal refuses")
				}
			}
			return
		}
		if err != nil {
			t.Fatalf("refused (%v) what proto.Unmarshal accepts", err)
		}
		if n, err := decodePassages(b); err != nil || n != d.Passages {
			t.Fatalf("decodePassages = %d, %v; want %d", n, err, d.Passages)
		}
		if len(got) != len(d.Vector) {
			t.Fatalf("got %d components, want %d", len(got), len(d.Vector))
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(d.Vector[i]) {
				t.Fatalf("component %d: %v, want %v", i, got[i], d.Vector[i])
			}
		}
	})
}
