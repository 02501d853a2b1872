package fulltext

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/vecbolt/vecbolt/internal/evalsets"
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

// benchTexts returns the Debian set's documents when the bench has
// fetched the lists (see TestASCIIFastPathCorpus), else the demo corpus's.
func benchTexts(b *testing.B) []string {
	dir := os.Getenv("VECBOLT_DEBIAN_LISTS")
	if dir == "" {
		if home, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(home, ".cache", "vecbolt", "bench", "debian-lists")
		}
	}
	pairs, err := evalsets.Load(dir)
	if err != nil {
		b.Logf("Debian lists not read (%v): the demo corpus", err)
		return demoTexts(b)
	}
	texts := make([]string, len(pairs))
	for i, p := range pairs {
		texts[i] = p.Doc
	}
	return texts
}

// BenchmarkAnalyze measures analysis per document of the Debian set: the
// analyzer as it runs (path=auto, the ASCII fast path where it applies)
// and the general UAX #29 path alone, both with a warm stem cache, and
// the whole of Analyze (terms, counts, the forward record).
func BenchmarkAnalyze(b *testing.B) {
	texts := benchTexts(b)
	a, err := NewAnalyzer(Config{})
	if err != nil {
		b.Fatal(err)
	}
	var terms []string
	for _, t := range texts {
		terms = a.Terms(terms[:0], t) // warms the cache
	}
	for _, bc := range []struct {
		name string
		f    func(string)
	}{
		{"path=auto", func(t string) { terms = a.terms(terms[:0], t, a.cache) }},
		{"path=uax29", func(t string) { terms = a.termsUnicode(terms[:0], t, a.cache) }},
		{"Analyze", func(t string) {
			if _, err := a.Analyze(t); err != nil {
				b.Fatal(err)
			}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cpu0, hasCPU := processCPU()
			n := 0
			for b.Loop() {
				bc.f(texts[n%len(texts)])
				n++
			}
			if cpu1, _ := processCPU(); hasCPU {
				b.ReportMetric((cpu1-cpu0)*1e6/float64(n), "cpu-µs/doc")
			}
		})
	}
}

// BenchmarkWriterDebian is BenchmarkWriterBatches on the Debian set's
// first 10,000 documents, analyzed beforehand as db does (Analyze, then
// NewBatch for AddBatch, outside the transaction; or AddDoc of each
// document in it): it reports the CPU time of each stage per document
// (analysis and grouping; adding and Flush; bbolt's commit and sync).
func BenchmarkWriterDebian(b *testing.B) {
	const batch = 256
	texts := benchTexts(b)
	texts = texts[:min(len(texts), 10_000)]
	n := len(texts)
	for _, byBatch := range []bool{false, true} {
		name := "add=AddDoc"
		if byBatch {
			name = "add=AddBatch"
		}
		b.Run(name, func(b *testing.B) {
			var anaS, addS, commitS float64
			for b.Loop() {
				a, err := NewAnalyzer(Config{}) // a new collection's: cold cache
				if err != nil {
					b.Fatal(err)
				}
				db, err := bbolt.Open(b.TempDir()+"/b.db", 0o600, nil)
				if err != nil {
					b.Fatal(err)
				}
				labels := make([]uint64, batch)
				for from := 0; from < n; from += batch {
					to := min(from+batch, n)
					c0, _ := processCPU()
					docs := make([]*Doc, to-from)
					for i := from; i < to; i++ {
						if docs[i-from], err = a.Analyze(texts[i]); err != nil {
							b.Fatal(err)
						}
						labels[i-from] = uint64(i)
					}
					var bt *Batch
					if byBatch {
						if bt, err = NewBatch(docs); err != nil {
							b.Fatal(err)
						}
					}
					c1, _ := processCPU()
					var c2 float64
					err := db.Update(func(tx *bbolt.Tx) error {
						bk, err := tx.CreateBucketIfNotExists(bucketName)
						if err != nil {
							return err
						}
						w, err := NewWriter(bk, a)
						if err != nil {
							return err
						}
						if byBatch {
							err = w.AddBatch(bt, labels[:len(docs)], nil)
						} else {
							for i, d := range docs {
								if err = w.AddDoc(labels[i], d); err != nil {
									break
								}
							}
						}
						if err != nil {
							return err
						}
						err = w.Flush()
						c2, _ = processCPU()
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
					c3, _ := processCPU()
					anaS += c1 - c0
					addS += c2 - c1
					commitS += c3 - c2
				}
				if err := db.Close(); err != nil {
					b.Fatal(err)
				}
			}
			per := func(s float64) float64 { return s * 1e6 / float64(b.N*n) }
			b.ReportMetric(per(anaS), "analyze-µs/doc")
			b.ReportMetric(per(addS), "add+flush-µs/doc")
			b.ReportMetric(per(commitS), "commit-µs/doc")
		})
	}
}
