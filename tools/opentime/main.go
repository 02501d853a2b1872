// Command opentime times one open of an existing database file and the
// first search of one of its collections, in a fresh process, as issue
// 19's open target counts it (open + first query, the file in the page
// cache): wall time of each phase, and the process's user and system CPU
// time and page faults over the whole of it (getrusage, where the
// platform has it). Run it several times, alternating the builds being
// compared; one process per open, so that every open maps and faults its
// memory afresh as a real one does.
//
//	go run ./tools/opentime [-rw] [-collection vectors] [-cpuprofile FILE] FILE
//
// The 1M file of the bench (`go run ./bench --n 1000000 --reuse-db
// --systems vecbolt-db-hnsw db`) is ~/.cache/vecbolt/bench/db/... ; the
// bench's own reopen (row phase=reopen, column open_s) opens writable, as
// -rw does here.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"time"

	"github.com/vecbolt/vecbolt/db"
)

func main() {
	rw := flag.Bool("rw", false, "open writable (the bench's reopen does); default read-only")
	name := flag.String("collection", "vectors", "collection to load and search")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the open and the first search to this file")
	warm := flag.Bool("warm", true, "read the file once first, so that it is in the page cache (the target assumes it)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: opentime [flags] FILE")
		os.Exit(2)
	}
	path := flag.Arg(0)
	if *warm {
		if err := readAll(path); err != nil {
			log.Fatal(err)
		}
	}
	ctx := context.Background()
	opts := []db.Option{db.WithEmbedder(nil)}
	if !*rw {
		opts = append(opts, db.ReadOnly())
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer f.Close()
	}
	u0 := usage()
	t0 := time.Now()
	d, err := db.Open(path, opts...)
	if err != nil {
		log.Fatal(err)
	}
	t1 := time.Now()
	c, err := d.Collection(ctx, *name)
	if err != nil {
		log.Fatal(err)
	}
	t2 := time.Now()
	info := c.Info()
	q := make([]float32, info.Dimension)
	r := rand.New(rand.NewPCG(19, 19))
	for i := range q {
		q[i] = float32(r.NormFloat64())
	}
	rs, err := c.SearchVector(ctx, q, db.TopK(10), db.WithFields())
	if err != nil {
		log.Fatal(err)
	}
	t3 := time.Now()
	u1 := usage()
	if *prof != "" {
		pprof.StopCPUProfile()
	}
	if len(rs) == 0 && info.Count > 0 {
		log.Fatalf("first search returned nothing from %d documents", info.Count)
	}
	fmt.Printf("total %.3f s  open %.3f  collection %.3f  first search %.4f  docs %d",
		t3.Sub(t0).Seconds(), t1.Sub(t0).Seconds(), t2.Sub(t1).Seconds(), t3.Sub(t2).Seconds(), info.Count)
	if u0.ok && u1.ok {
		fmt.Printf("  user %.3f s  sys %.3f s  minflt %d  majflt %d", (u1.user - u0.user).Seconds(), (u1.sys - u0.sys).Seconds(), u1.minflt-u0.minflt, u1.majflt-u0.majflt)
	}
	fmt.Println()
	if err := d.Close(); err != nil {
		log.Fatal(err)
	}
}

// readAll reads the file once so that its pages are in the page cache.
func readAll(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(io.Discard, f)
	return err
}
