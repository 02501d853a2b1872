package fulltext

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"go.etcd.io/bbolt"
)

// BenchmarkSearch profiles searches on a skewed synthetic corpus; the
// keyword suite in bench/suite_keyword.go is where figures come from.
func BenchmarkSearch(b *testing.B) {
	const n = 50_000
	r := rand.New(rand.NewPCG(3, 3))
	vocab := make([]string, 30_000)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("w%dx", i)
	}
	gen := func() []string {
		ws := make([]string, 10+r.IntN(80))
		for j := range ws {
			// Zipf-like ranks.
			ws[j] = vocab[int(float64(len(vocab))*r.Float64()*r.Float64()*r.Float64())]
		}
		return ws
	}
	a, _ := NewAnalyzer(Config{Language: LanguageNone})
	db, err := bbolt.Open(b.TempDir()+"/b.db", 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var queries []string
	for from := 0; from < n; from += 10_000 {
		err := db.Update(func(tx *bbolt.Tx) error {
			bk, _ := tx.CreateBucketIfNotExists(bucketName)
			w, err := NewWriter(bk, a)
			if err != nil {
				return err
			}
			for i := from; i < from+10_000; i++ {
				ws := gen()
				if i%50 == 0 {
					queries = append(queries, strings.Join(ws[:3], " "))
				}
				if err := w.Add(uint64(i), strings.Join(ws, " ")); err != nil {
					return err
				}
			}
			return w.Flush()
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	tx, err := db.Begin(false)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	rd, err := NewReader(tx.Bucket(bucketName), a)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := rd.Search(ctx, queries[i%len(queries)], 10, nil); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkWriterBatches profiles indexing as db does it: a Writer per
// transaction of 256 documents, each transaction committed (and synced),
// on English text drawn from a skewed vocabulary of real-looking words.
// The hybrid suite in bench/suite_hybrid.go is where figures come from.
func BenchmarkWriterBatches(b *testing.B) {
	const n, batch = 4_000, 256
	r := rand.New(rand.NewPCG(5, 5))
	stems := []string{"connect", "run", "configur", "librar", "develop", "network", "pack", "interfac", "display", "manag", "test", "compil", "stor", "read", "writ"}
	suffixes := []string{"", "s", "ed", "ing", "ion", "ions", "er", "ers", "ation", "able"}
	vocab := make([]string, 20_000)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("%s%s%d", stems[i%len(stems)], suffixes[(i/len(stems))%len(suffixes)], i/150)
	}
	docs := make([]string, n)
	for i := range docs {
		ws := make([]string, 10+r.IntN(100))
		for j := range ws {
			ws[j] = vocab[int(float64(len(vocab))*r.Float64()*r.Float64()*r.Float64())]
			if j%7 == 0 {
				ws[j] = "the"
			}
		}
		docs[i] = strings.Join(ws, " ")
	}
	a, err := NewAnalyzer(Config{})
	if err != nil {
		b.Fatal(err)
	}
	// CPU time as well as wall-clock: the disk's syncs and other load on
	// a shared machine inflate the latter.
	cpu0, hasCPU := processCPU()
	for b.Loop() {
		db, err := bbolt.Open(b.TempDir()+"/b.db", 0o600, nil)
		if err != nil {
			b.Fatal(err)
		}
		for from := 0; from < n; from += batch {
			err := db.Update(func(tx *bbolt.Tx) error {
				bk, err := tx.CreateBucketIfNotExists(bucketName)
				if err != nil {
					return err
				}
				w, err := NewWriter(bk, a)
				if err != nil {
					return err
				}
				for i := from; i < min(from+batch, n); i++ {
					if err := w.Add(uint64(i), docs[i]); err != nil {
						return err
					}
				}
				return w.Flush()
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
	}
	if cpu1, _ := processCPU(); hasCPU {
		b.ReportMetric((cpu1-cpu0)*1e6/float64(b.N*n), "cpu-µs/doc")
	}
}
