package fulltext

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.etcd.io/bbolt"
)

func openDB(t *testing.T) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "ft.db"), 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var bucketName = []byte("ft")

// update runs f with a writer and flushes it.
func update(t *testing.T, db *bbolt.DB, a *Analyzer, f func(w *Writer) error) {
	t.Helper()
	err := db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketName)
		if err != nil {
			return err
		}
		w, err := NewWriter(b, a)
		if err != nil {
			return err
		}
		if err := f(w); err != nil {
			return err
		}
		return w.Flush()
	})
	if err != nil {
		t.Fatal(err)
	}
}

func view(t *testing.T, db *bbolt.DB, a *Analyzer, f func(r *Reader) error) {
	t.Helper()
	err := db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketName)
		if b == nil {
			return errors.New("no bucket")
		}
		r, err := NewReader(b, a)
		if err != nil {
			return err
		}
		return f(r)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// bruteBM25 scores every document of docs (label → text) exhaustively.
func bruteBM25(a *Analyzer, docs map[uint64]string, query string, k int, accept func(uint64) bool) []Hit {
	k1, b := a.cfg.K1, a.cfg.B
	terms := map[uint64][]string{}
	var total float64
	for l, d := range docs {
		terms[l] = a.Terms(nil, d)
		total += float64(len(terms[l]))
	}
	n := float64(len(docs))
	avg := total / n
	q := a.Terms(nil, query)
	slices.Sort(q)
	q = slices.Compact(q)
	df := map[string]float64{}
	for _, ts := range terms {
		seen := map[string]bool{}
		for _, t := range ts {
			if !seen[t] {
				seen[t] = true
				df[t]++
			}
		}
	}
	var hits []Hit
	for l, ts := range terms {
		tf := map[string]float64{}
		for _, t := range ts {
			tf[t]++
		}
		var s float64
		match := false
		for _, t := range q {
			if tf[t] == 0 {
				continue
			}
			match = true
			idf := math.Log(1 + (n-df[t]+0.5)/(df[t]+0.5))
			norm := k1 * (1 - b + b*float64(len(ts))/avg)
			s += idf * tf[t] * (k1 + 1) / (tf[t] + norm)
		}
		if match && (accept == nil || accept(l)) {
			hits = append(hits, Hit{l, s})
		}
	}
	slices.SortFunc(hits, func(x, y Hit) int {
		return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(x.Label, y.Label))
	})
	return hits[:min(k, len(hits))]
}

// zipfText draws words from a skewed vocabulary, so that some terms have
// long posting lists (many blocks) and pruning has work to do.
func zipfText(r *rand.Rand, vocab []string, n int) string {
	var sb strings.Builder
	for range n {
		i := int(math.Floor(math.Pow(float64(len(vocab)), r.Float64()))) - 1
		sb.WriteString(vocab[i])
		sb.WriteByte(' ')
	}
	return sb.String()
}

func TestSearchMatchesBruteForce(t *testing.T) {
	vocab := strings.Fields(`alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike
		november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu running runs
		runner connection connected connecting Café cafe naïve NAIVE the and of über straße 東京 42 3.14 don't`)
	for _, tc := range []struct {
		name string
		cfg  Config
		docs int
	}{
		{"english", Config{}, 600},
		{"none", Config{Language: LanguageNone, K1: 0.9, B: 0.4}, 400},
		{"no-length-norm", Config{NoLengthNorm: true, K1: 2}, 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(len(tc.name))))
			a, err := NewAnalyzer(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			db := openDB(t)
			model := map[uint64]string{}
			for round := range 4 {
				update(t, db, a, func(w *Writer) error {
					for range tc.docs / 4 {
						var l uint64
						switch r.IntN(4) {
						case 0: // reuse (upsert)
							l = uint64(r.IntN(tc.docs))
						case 1:
							l = r.Uint64() >> 1
						default:
							l = uint64(round*tc.docs + r.IntN(tc.docs))
						}
						text := zipfText(r, vocab, r.IntN(30))
						model[l] = text
						if err := w.Add(l, text); err != nil {
							return err
						}
						if r.IntN(5) == 0 && len(model) > 0 {
							// Delete something, sometimes what was just added.
							for dl := range model {
								if err := w.Delete(dl); err != nil {
									return err
								}
								delete(model, dl)
								break
							}
						}
					}
					return nil
				})
				view(t, db, a, func(rd *Reader) error {
					if err := rd.Check(context.Background()); err != nil {
						return err
					}
					if got := rd.Stats().Documents; got != uint64(len(model)) {
						return fmt.Errorf("stats: %d documents, want %d", got, len(model))
					}
					for qi := range 60 {
						q := zipfText(r, vocab, 1+r.IntN(5))
						k := 1 + r.IntN(20)
						var filter func(uint64) bool
						switch qi % 3 {
						case 1:
							filter = func(l uint64) bool { return l%3 != 0 }
						case 2: // selective: fewer matches than k, often
							filter = func(l uint64) bool { return l%17 == 0 }
						}
						want := bruteBM25(a, model, q, k, filter)
						for _, prune := range []bool{true, false} {
							rd.noPrune = !prune
							var accept func(uint64) bool
							calls := map[uint64]int{}
							if filter != nil {
								accept = func(l uint64) bool {
									calls[l]++
									return filter(l)
								}
							}
							got, err := rd.Search(context.Background(), q, k, accept)
							if err != nil {
								return err
							}
							for l, c := range calls {
								if c > 1 {
									return fmt.Errorf("accept called %d times for %d", c, l)
								}
							}
							if !slices.Equal(got, want) {
								return fmt.Errorf("round %d query %q k %d prune %v:\n got %v\nwant %v", round, q, k, prune, got, want)
							}
						}
					}
					return nil
				})
			}
		})
	}
}

func TestDeleteErrorsAndReAdd(t *testing.T) {
	a, _ := NewAnalyzer(Config{})
	db := openDB(t)
	update(t, db, a, func(w *Writer) error {
		if err := w.Delete(7); !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("delete of a missing label: %v, want ErrNotFound", err)
		}
		if err := w.Add(math.MaxUint64, "x"); err == nil {
			return errors.New("label MaxUint64 accepted")
		}
		for l := range uint64(300) {
			if err := w.Add(l, "common words here "+fmt.Sprint(l)); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, db, a, func(w *Writer) error {
		for l := uint64(0); l < 300; l += 2 {
			if err := w.Delete(l); err != nil {
				return err
			}
		}
		return w.Add(5, "replaced text entirely")
	})
	view(t, db, a, func(r *Reader) error {
		if err := r.Check(context.Background()); err != nil {
			return err
		}
		if r.Stats().Documents != 150 {
			return fmt.Errorf("%d documents, want 150", r.Stats().Documents)
		}
		hits, err := r.Search(context.Background(), "common", 1000, nil)
		if err != nil {
			return err
		}
		if len(hits) != 149 {
			return fmt.Errorf("%d hits for common, want 149", len(hits))
		}
		hits, err = r.Search(context.Background(), "replacing", 10, nil)
		if err != nil || len(hits) != 1 || hits[0].Label != 5 {
			return fmt.Errorf("replaced document: %v %v", hits, err)
		}
		if _, err := r.Search(context.Background(), "x", 0, nil); err == nil {
			return errors.New("k 0 accepted")
		}
		return nil
	})
}

func TestCheckDetectsCorruption(t *testing.T) {
	a, _ := NewAnalyzer(Config{})
	// "appl" is in documents 1 (length 2) and 3 (tf 2, length 3): in
	// format 2 its postings are the tail of its record.
	appl := termMeta{df: 2, maxTF: 2, minDL: 2}
	for _, tc := range []struct {
		name   string
		v1     bool // damage an index written by the format-1 writer
		damage func(b *bbolt.Bucket) error
	}{
		{"stats", false, func(b *bbolt.Bucket) error { return b.Put(keyMeta, appendStats(nil, stats{docs: 9, length: 9})) }},
		{"forward record dropped", false, func(b *bbolt.Bucket) error {
			return b.Bucket(bucketDocs).Delete(labelKey(nil, 3))
		}},
		{"tail tf", false, func(b *bbolt.Bucket) error {
			return b.Bucket(bucketPost).Put([]byte("appl"), appendTermRecord(nil, appl, []posting{{1, 1, 3}, {3, 2, 3}}))
		}},
		{"tail bytes", false, func(b *bbolt.Bucket) error {
			return b.Bucket(bucketPost).Put([]byte("appl"), append(appendTermRecord(nil, appl, nil), 2, 1, 2, 1, 3, 1, 2))
		}},
		{"tail header", false, func(b *bbolt.Bucket) error {
			return b.Bucket(bucketPost).Put([]byte("appl"), append(appendTermRecord(nil, appl, nil), 0x80))
		}},
		{"term df", false, func(b *bbolt.Bucket) error {
			return b.Bucket(bucketPost).Put([]byte("appl"), appendTermRecord(nil, termMeta{df: 3, maxTF: 2, minDL: 2}, []posting{{1, 1, 2}, {3, 2, 3}}))
		}},
		{"tail bounds", false, func(b *bbolt.Bucket) error {
			return b.Bucket(bucketPost).Put([]byte("appl"), appendTermRecord(nil, termMeta{df: 2, maxTF: 1, minDL: 2}, []posting{{1, 1, 2}, {3, 2, 3}}))
		}},
		{"block without record", false, func(b *bbolt.Bucket) error {
			return b.Bucket(bucketBlocks).Put(blockKey(nil, "zzz", 1), appendBlock(nil, []posting{{1, 1, 2}}))
		}},
		{"block overlaps tail", false, func(b *bbolt.Bucket) error {
			if err := b.Bucket(bucketBlocks).Put(blockKey(nil, "appl", 3), appendBlock(nil, []posting{{3, 2, 3}})); err != nil {
				return err
			}
			return b.Bucket(bucketPost).Put([]byte("appl"), appendTermRecord(nil, appl, []posting{{1, 1, 2}}))
		}},
		{"format-1 record with blocks in the blocks bucket", false, func(b *bbolt.Bucket) error {
			if err := b.Bucket(bucketBlocks).Put(blockKey(nil, "appl", 1), appendBlock(nil, []posting{{1, 1, 2}, {3, 2, 3}})); err != nil {
				return err
			}
			return b.Bucket(bucketPost).Put([]byte("appl"), appendTermMeta(nil, appl))
		}},
		{"format-1 block beside a tail", false, func(b *bbolt.Bucket) error {
			return b.Bucket(bucketPost).Put(blockKey(nil, "appl", 0), appendBlock(nil, []posting{{0, 1, 1}}))
		}},
		{"format 1: stats", true, func(b *bbolt.Bucket) error { return b.Put(keyMeta, appendV1Stats(stats{docs: 9, length: 9})) }},
		{"format 1: posting tf", true, func(b *bbolt.Bucket) error {
			return b.Bucket(bucketPost).Put(blockKey(nil, "appl", 1), appendBlock(nil, []posting{{1, 1, 3}, {3, 2, 3}}))
		}},
		{"format 1: block bytes", true, func(b *bbolt.Bucket) error {
			return b.Bucket(bucketPost).Put(blockKey(nil, "appl", 1), []byte{2, 1, 2, 1, 3, 1, 2})
		}},
		{"format 1: block header", true, func(b *bbolt.Bucket) error {
			return b.Bucket(bucketPost).Put(blockKey(nil, "appl", 1), []byte{0x80})
		}},
		{"format 1: block key", true, func(b *bbolt.Bucket) error {
			p := b.Bucket(bucketPost)
			v := append([]byte(nil), p.Get(blockKey(nil, "appl", 1))...)
			if err := p.Delete(blockKey(nil, "appl", 1)); err != nil {
				return err
			}
			return p.Put(blockKey(nil, "appl", 0), v)
		}},
		{"format 1: term df", true, func(b *bbolt.Bucket) error {
			return b.Bucket(bucketPost).Put([]byte("appl"), appendTermMeta(nil, termMeta{df: 3, maxTF: 2, minDL: 1}))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t)
			err := db.Update(func(tx *bbolt.Tx) error {
				b, err := tx.CreateBucketIfNotExists(bucketName)
				if err != nil {
					return err
				}
				var w interface {
					Add(uint64, string) error
					Flush() error
				}
				if tc.v1 {
					w, err = newV1Writer(b, a)
				} else {
					w, err = NewWriter(b, a)
				}
				if err != nil {
					return err
				}
				for l, s := range []string{"zero", "apples pear", "plum", "apple pie apple"} {
					if err := w.Add(uint64(l), s); err != nil {
						return err
					}
				}
				return w.Flush()
			})
			if err != nil {
				t.Fatal(err)
			}
			view(t, db, a, func(r *Reader) error { return r.Check(context.Background()) })
			if err := db.Update(func(tx *bbolt.Tx) error { return tc.damage(tx.Bucket(bucketName)) }); err != nil {
				t.Fatal(err)
			}
			err = db.View(func(tx *bbolt.Tx) error {
				r, err := NewReader(tx.Bucket(bucketName), a)
				if err != nil {
					return err
				}
				return r.Check(context.Background())
			})
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Check after damage: %v, want ErrCorrupt", err)
			}
			// Searches over the damage report it (or do not meet it);
			// they never panic.
			err = db.View(func(tx *bbolt.Tx) error {
				r, err := NewReader(tx.Bucket(bucketName), a)
				if err != nil {
					return err
				}
				_, err = r.Search(context.Background(), "apple pie pear plum zero", 10, nil)
				return err
			})
			if err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Search after damage: %v, want nil or ErrCorrupt", err)
			}
		})
	}
}

// TestBlockMaxSkipping uses a corpus whose blocks differ a lot (term
// frequencies and lengths change with the label's region), so that
// block-max pruning skips blocks; results must not change.
func TestBlockMaxSkipping(t *testing.T) {
	a, _ := NewAnalyzer(Config{Language: LanguageNone})
	db := openDB(t)
	r := rand.New(rand.NewPCG(7, 7))
	model := map[uint64]string{}
	update(t, db, a, func(w *Writer) error {
		for l := range uint64(6000) {
			region := (l / 300) % 7
			var sb strings.Builder
			sb.WriteString("common ")
			// Lengths (hence block bounds) differ by region.
			for range (region % 3) * uint64(r.IntN(2)) {
				sb.WriteString("hot ")
			}
			if r.IntN(40) == 0 {
				sb.WriteString("rare ")
			}
			for range 3 + 10*int(region+1)/2 + r.IntN(3) {
				fmt.Fprintf(&sb, "w%d ", r.IntN(50))
			}
			model[l] = sb.String()
			if err := w.Add(l, model[l]); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, db, a, func(rd *Reader) error {
		var pruned, full int
		for _, q := range []string{"common hot", "hot rare", "common hot rare w3", "common"} {
			for _, k := range []int{1, 10, 50} {
				want := bruteBM25(a, model, q, k, nil)
				for _, prune := range []bool{true, false} {
					rd.noPrune, rd.decoded = !prune, 0
					got, err := rd.Search(context.Background(), q, k, nil)
					if err != nil {
						return err
					}
					if !slices.Equal(got, want) {
						return fmt.Errorf("query %q k %d prune %v:\n got %v\nwant %v", q, k, prune, got, want)
					}
					if prune {
						pruned += rd.decoded
					} else {
						full += rd.decoded
					}
				}
			}
		}
		t.Logf("blocks decoded: %d with pruning, %d without", pruned, full)
		if pruned*2 > full {
			return fmt.Errorf("pruning decoded %d blocks of %d", pruned, full)
		}
		return nil
	})
}

// TestAutoFlush: a writer that flushes by itself in the middle of a
// transaction (bounded memory) leaves the same index.
func TestAutoFlush(t *testing.T) {
	a, _ := NewAnalyzer(Config{})
	r := rand.New(rand.NewPCG(5, 5))
	vocab := strings.Fields("red green blue cyan magenta yellow black white grey orange purple pink")
	model := map[uint64]string{}
	db := openDB(t)
	update(t, db, a, func(w *Writer) error {
		w.maxPending = 25
		for i := range 400 {
			l := uint64(r.IntN(300))
			model[l] = zipfText(r, vocab, 1+r.IntN(12))
			if err := w.Add(l, model[l]); err != nil {
				return err
			}
			if w.nPending >= 25 {
				return fmt.Errorf("add %d left %d postings pending", i, w.nPending)
			}
		}
		return nil
	})
	view(t, db, a, func(rd *Reader) error {
		if err := rd.Check(context.Background()); err != nil {
			return err
		}
		for _, q := range []string{"red", "green blue", "pink purple white"} {
			got, err := rd.Search(context.Background(), q, 7, nil)
			if err != nil {
				return err
			}
			if want := bruteBM25(a, model, q, 7, nil); !slices.Equal(got, want) {
				return fmt.Errorf("%q: got %v, want %v", q, got, want)
			}
		}
		return nil
	})
}

// TestAnalyzerConcurrentCache: one Analyzer serves concurrent writers and
// searches (db keeps one per collection), and its shared stem cache must
// give each of them the terms an uncached analysis gives, whichever
// goroutine filled it. Run with -race.
func TestAnalyzerConcurrentCache(t *testing.T) {
	a, err := NewAnalyzer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{
		"Running runners ran quickly through the generously sized meadows",
		"Connections connected connecting: the connective tissue of networking",
		"Universities' universal university rules; universally applied",
		"Généralement, les caractères accentués sont repliés",
	}
	want := make([][]string, len(texts))
	for i, s := range texts {
		want[i] = a.terms(nil, s, nil)
	}
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			var got []string
			for i := range 200 {
				j := (g + i) % len(texts)
				got = a.Terms(got[:0], texts[j])
				if !slices.Equal(got, want[j]) {
					errs <- fmt.Errorf("goroutine %d: %q gave %q, want %q", g, texts[j], got, want[j])
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
