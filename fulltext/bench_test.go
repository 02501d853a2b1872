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
