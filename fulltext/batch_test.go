package fulltext

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"go.etcd.io/bbolt"
)

// dumpIndex returns every key and value of the index in db.
func dumpIndex(t *testing.T, db *bbolt.DB) string {
	t.Helper()
	var sb strings.Builder
	err := db.View(func(tx *bbolt.Tx) error {
		root := tx.Bucket(bucketName)
		if root == nil {
			return nil
		}
		return root.ForEach(func(k, v []byte) error {
			if v != nil {
				fmt.Fprintf(&sb, "%x %x\n", k, v)
				return nil
			}
			return root.Bucket(k).ForEach(func(k2, v2 []byte) error {
				fmt.Fprintf(&sb, "%s %x %x\n", k, k2, v2)
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// TestAddBatch: AddBatch leaves the index AddDoc of each document leaves,
// byte for byte, on the fast path (new, growing labels) and off it
// (upserts, labels out of order, postings pending), with documents left
// out by nil or by skip.
func TestAddBatch(t *testing.T) {
	a, _ := NewAnalyzer(Config{})
	r := rand.New(rand.NewPCG(7, 7))
	vocab := strings.Fields("Running runners ran quickly through the generously sized meadows; connections connected ÜBER café 3.14 x86_64 don't apt-get libc6 kernel")
	analyze := func(n int) []*Doc {
		docs := make([]*Doc, n)
		for i := range docs {
			d, err := a.Analyze(zipfText(r, vocab, r.IntN(40)))
			if err != nil {
				t.Fatal(err)
			}
			docs[i] = d
		}
		return docs
	}
	seq := func(from, n int) []uint64 {
		ls := make([]uint64, n)
		for i := range ls {
			ls[i] = uint64(from + i)
		}
		return ls
	}
	// A step is one transaction: optionally a document added before the
	// batch (postings pending), then the batch.
	type step struct {
		labels []uint64
		skip   []bool
		nilAt  []int
		before bool
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"new labels", []step{{labels: seq(0, 300)}, {labels: seq(300, 300)}, {labels: seq(1000, 3)}}},
		{"left out", []step{{labels: seq(0, 200), nilAt: []int{0, 5, 199}}, {labels: seq(200, 200), skip: skipEvery(200, 3)}}},
		{"all left out", []step{{labels: seq(0, 50)}, {labels: seq(50, 10), skip: skipEvery(10, 1)}}},
		{"upserts", []step{{labels: seq(0, 200)}, {labels: seq(150, 200)}}},
		{"out of order", []step{{labels: []uint64{5, 3, 9, 4, 100, 7}}, {labels: seq(10, 50)}}},
		{"pending before", []step{{labels: seq(0, 100)}, {labels: seq(200, 100), before: true}}},
		{"empty batch", []step{{labels: seq(0, 0)}, {labels: seq(0, 20)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			byDoc, byBatch := openDB(t), openDB(t)
			for si, s := range tc.steps {
				docs := analyze(len(s.labels))
				for _, i := range s.nilAt {
					docs[i] = nil
				}
				extra := analyze(1)[0]
				const extraLabel = 150_000
				update(t, byDoc, a, func(w *Writer) error {
					if s.before {
						if err := w.AddDoc(extraLabel, extra); err != nil {
							return err
						}
					}
					for i, d := range docs {
						if d != nil && (s.skip == nil || !s.skip[i]) {
							if err := w.AddDoc(s.labels[i], d); err != nil {
								return err
							}
						}
					}
					return nil
				})
				b, err := NewBatch(docs)
				if err != nil {
					t.Fatal(err)
				}
				update(t, byBatch, a, func(w *Writer) error {
					if s.before {
						if err := w.AddDoc(extraLabel, extra); err != nil {
							return err
						}
					}
					return w.AddBatch(b, s.labels, s.skip)
				})
				if x, y := dumpIndex(t, byDoc), dumpIndex(t, byBatch); x != y {
					t.Fatalf("step %d: AddDoc and AddBatch leave different indexes:\n%s\n%s", si, x, y)
				}
			}
			err := byBatch.View(func(tx *bbolt.Tx) error {
				rd, err := NewReader(tx.Bucket(bucketName), a)
				if err != nil {
					return err
				}
				return rd.Check(context.Background())
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func skipEvery(n, k int) []bool {
	s := make([]bool, n)
	for i := 0; i < n; i += k {
		s[i] = true
	}
	return s
}

// TestAddBatchErrors: a bad call is refused with an error naming what was
// wrong, before anything is written.
func TestAddBatchErrors(t *testing.T) {
	a, _ := NewAnalyzer(Config{})
	d, _ := a.Analyze("one two")
	b, _ := NewBatch([]*Doc{d, d})
	for _, tc := range []struct {
		name   string
		b      *Batch
		labels []uint64
		skip   []bool
		want   string
	}{
		{"nil batch", nil, nil, nil, "nil Batch"},
		{"labels", b, []uint64{1}, nil, "2 documents with 1 labels"},
		{"skip", b, []uint64{1, 2}, []bool{false}, "1 skip flags"},
		{"reserved", b, []uint64{1, math.MaxUint64}, nil, "reserved"},
	} {
		db := openDB(t)
		err := db.Update(func(tx *bbolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists(bucketName)
			if err != nil {
				return err
			}
			w, err := NewWriter(bk, a)
			if err != nil {
				return err
			}
			return w.AddBatch(tc.b, tc.labels, tc.skip)
		})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}
