// Command openphases times the phases of opening a database: db.Open,
// loading a collection, and its first search, as the median of 30 opens.
// Given a path that does not exist it first writes 10,000 random
// 384-dimensional vector documents there. BENCHMARKS.md quotes it to
// compare two checkouts (build it in each, run each on its own file).
//
//	go run ./tools/openphases /tmp/phases.vecbolt
package main

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"sort"
	"time"

	"github.com/vecbolt/vecbolt/db"
)

func main() {
	ctx := context.Background()
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: openphases FILE")
		os.Exit(2)
	}
	path := os.Args[1]
	if _, err := os.Stat(path); err != nil {
		d, err := db.Open(path, db.WithEmbedder(nil))
		if err != nil {
			log.Fatal(err)
		}
		c, err := d.CreateCollection(ctx, "c", db.WithDimension(384))
		if err != nil {
			log.Fatal(err)
		}
		r := rand.New(rand.NewPCG(1, 2))
		for b := 0; b < 10; b++ {
			docs := make([]db.Document, 1000)
			for i := range docs {
				v := make([]float32, 384)
				for j := range v {
					v[j] = float32(r.NormFloat64())
				}
				docs[i] = db.Document{ID: fmt.Sprintf("d%05d", b*1000+i), Vector: v}
			}
			if _, err := c.Insert(ctx, docs...); err != nil {
				log.Fatal(err)
			}
		}
		if err := d.Close(); err != nil {
			log.Fatal(err)
		}
	}
	q := make([]float32, 384)
	q[0] = 1
	var to, tc, ts []float64
	for range 30 {
		t0 := time.Now()
		d, err := db.Open(path, db.WithEmbedder(nil))
		if err != nil {
			log.Fatal(err)
		}
		t1 := time.Now()
		c, err := d.Collection(ctx, "c")
		if err != nil {
			log.Fatal(err)
		}
		t2 := time.Now()
		if _, err := c.SearchVector(ctx, q); err != nil {
			log.Fatal(err)
		}
		t3 := time.Now()
		d.Close()
		to = append(to, t1.Sub(t0).Seconds()*1000)
		tc = append(tc, t2.Sub(t1).Seconds()*1000)
		ts = append(ts, t3.Sub(t2).Seconds()*1000)
	}
	med := func(x []float64) float64 { sort.Float64s(x); return x[len(x)/2] }
	fmt.Printf("open %.2f ms  collection %.2f ms  first search %.2f ms\n", med(to), med(tc), med(ts))
}
