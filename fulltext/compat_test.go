package fulltext

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.etcd.io/bbolt"
)

// TestFormat1Index: an index written by the format-1 writer (blocks of
// every term in the posting bucket, no tails) reads as it is, and writers
// of this build convert the terms they touch, leaving a mixed index that
// Check accepts and searches read exactly, until a rebuild is never
// needed.
func TestFormat1Index(t *testing.T) {
	a, _ := NewAnalyzer(Config{Language: LanguageNone})
	r := rand.New(rand.NewPCG(11, 11))
	vocab := make([]string, 300)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("w%d", i)
	}
	model := map[uint64]string{}
	db := openDB(t)
	// Format 1: three transactions, long lists (several blocks), a few
	// deletes and re-adds.
	for round := range 3 {
		err := db.Update(func(tx *bbolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(bucketName)
			if err != nil {
				return err
			}
			w, err := newV1Writer(b, a)
			if err != nil {
				return err
			}
			for i := range 700 {
				l := uint64(round*700 + i)
				if r.IntN(10) == 0 {
					l = uint64(r.IntN(round*700 + i + 1))
				}
				model[l] = zipfText(r, vocab, 1+r.IntN(40))
				if err := w.Add(l, model[l]); err != nil {
					return err
				}
			}
			return w.Flush()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	kinds := func() (v1, v2 int) {
		t.Helper()
		err := db.View(func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketName).Bucket(bucketPost).ForEach(func(k, v []byte) error {
				if bytes.IndexByte(k, 0) >= 0 {
					return nil
				}
				rec, err := decodeTermRecord(v)
				if rec.v2 {
					v2++
				} else {
					v1++
				}
				return err
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		return v1, v2
	}
	checkAll := func(stage string) {
		t.Helper()
		view(t, db, a, func(rd *Reader) error {
			if err := rd.Check(context.Background()); err != nil {
				return fmt.Errorf("%s: %w", stage, err)
			}
			for range 12 {
				q := zipfText(r, vocab, 1+r.IntN(4))
				k := 1 + r.IntN(15)
				want := bruteBM25(a, model, q, k, nil)
				for _, prune := range []bool{true, false} {
					rd.noPrune = !prune
					got, err := rd.Search(context.Background(), q, k, nil)
					if err != nil {
						return fmt.Errorf("%s: %w", stage, err)
					}
					if !slices.Equal(got, want) {
						return fmt.Errorf("%s: %q k %d prune %v:\n got %v\nwant %v", stage, q, k, prune, got, want)
					}
				}
			}
			return nil
		})
	}
	if v1, v2 := kinds(); v1 == 0 || v2 != 0 {
		t.Fatalf("format-1 writer left %d format-1 and %d format-2 records", v1, v2)
	}
	checkAll("format 1")
	// This build's writer: adds touching a few terms (upgrading them),
	// deletes of documents whose terms are still in format 1, and re-adds
	// of old labels (into converted blocks).
	for round := range 3 {
		update(t, db, a, func(w *Writer) error {
			for i := range 60 {
				l := uint64(5000 + round*100 + i)
				if i%3 == 0 {
					l = uint64(r.IntN(2100))
				}
				// Few, mostly rare words: most terms stay in format 1.
				model[l] = strings.Join([]string{vocab[100+r.IntN(200)], vocab[r.IntN(300)]}, " ")
				if err := w.Add(l, model[l]); err != nil {
					return err
				}
			}
			for range 30 {
				for l := range model {
					if err := w.Delete(l); err != nil {
						return err
					}
					delete(model, l)
					break
				}
			}
			return nil
		})
		checkAll(fmt.Sprintf("mixed, round %d", round))
	}
	v1, v2 := kinds()
	if v1 == 0 || v2 == 0 {
		t.Fatalf("want a mixed index, have %d format-1 and %d format-2 records", v1, v2)
	}
	t.Logf("mixed index: %d format-1, %d format-2 term records", v1, v2)
	err := db.View(func(tx *bbolt.Tx) error {
		st, err := decodeStats(tx.Bucket(bucketName).Get(keyMeta))
		if err != nil || st.version != formatVersion {
			return fmt.Errorf("statistics after a write: version %d, %v", st.version, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAnalyzeThenAddDoc: documents analyzed beforehand, concurrently (as
// db does beside the embedder), and added with AddDoc leave the same bytes
// as Add of their texts. Run with -race.
func TestAnalyzeThenAddDoc(t *testing.T) {
	a, _ := NewAnalyzer(Config{})
	r := rand.New(rand.NewPCG(12, 12))
	vocab := strings.Fields("Running runners ran quickly through the generously sized meadows; connections connected ÜBER café 3.14 x86_64 don't")
	texts := make([]string, 400)
	for i := range texts {
		texts[i] = zipfText(r, vocab, r.IntN(30))
	}
	docs := make([]*Doc, len(texts))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(texts); i += 4 {
				d, err := a.Analyze(texts[i])
				if err != nil {
					t.Error(err)
					return
				}
				docs[i] = d
			}
		}()
	}
	wg.Wait()
	dump := func(db *bbolt.DB) string {
		var sb strings.Builder
		err := db.View(func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketName).ForEachBucket(func(name []byte) error {
				return tx.Bucket(bucketName).Bucket(name).ForEach(func(k, v []byte) error {
					fmt.Fprintf(&sb, "%s %x %x\n", name, k, v)
					return nil
				})
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		return sb.String()
	}
	byText, byDoc := openDB(t), openDB(t)
	for from := 0; from < len(texts); from += 100 {
		update(t, byText, a, func(w *Writer) error {
			for i := from; i < from+100; i++ {
				if err := w.Add(uint64(i%250), texts[i]); err != nil {
					return err
				}
			}
			return nil
		})
		update(t, byDoc, a, func(w *Writer) error {
			for i := from; i < from+100; i++ {
				if err := w.AddDoc(uint64(i%250), docs[i]); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if x, y := dump(byText), dump(byDoc); x != y || x == "" {
		t.Fatalf("Add and AddDoc leave different indexes:\n%s\n%s", x, y)
	}
	view(t, byDoc, a, func(rd *Reader) error { return rd.Check(context.Background()) })
}
