// Command hugotdriver times hugot's pure-Go backend
// (github.com/knights-analytics/hugot, NewGoSession) on a model directory,
// for the bench's encoder suite (bench/suite_encoder.go). It is a module
// of its own so that hugot's dependencies (GoMLX and its ONNX converter)
// stay out of vecbolt's go.mod; the suite builds and runs it, and leaves
// hugot out of the report if it cannot.
//
//	hugotdriver -model DIR -texts FILE -threads N -seconds S
//
// reads one text per line from FILE, embeds batches of 32 on N goroutines
// (GOMAXPROCS N) for about S seconds after a warm-up pass over all of them,
// and prints
// {"texts_per_s": ..., "texts_per_cpu_s": ...} on stdout.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/knights-analytics/hugot"
	"github.com/knights-analytics/hugot/pipelines"
)

const batch = 32

func main() {
	model := flag.String("model", "", "model directory (model.onnx, tokenizer.json)")
	textsPath := flag.String("texts", "", "file of texts, one per line")
	threads := flag.Int("threads", 1, "goroutines and GOMAXPROCS")
	seconds := flag.Float64("seconds", 2, "how long to run")
	flag.Parse()
	if err := run(*model, *textsPath, *threads, time.Duration(*seconds*float64(time.Second))); err != nil {
		fmt.Fprintln(os.Stderr, "hugotdriver:", err)
		os.Exit(1)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func run(model, textsPath string, threads int, d time.Duration) error {
	runtime.GOMAXPROCS(threads)
	f, err := os.Open(textsPath)
	if err != nil {
		return err
	}
	var texts []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		texts = append(texts, sc.Text())
	}
	f.Close()
	if len(texts) < batch {
		return fmt.Errorf("%d texts, need at least %d", len(texts), batch)
	}
	session, err := hugot.NewGoSession()
	if err != nil {
		return err
	}
	defer session.Destroy()
	pipe, err := hugot.NewPipeline(session, hugot.FeatureExtractionConfig{
		ModelPath: model, Name: "bench", OnnxFilename: "model.onnx",
		Options: []hugot.FeatureExtractionOption{pipelines.WithNormalization()},
	})
	if err != nil {
		return err
	}
	nb := len(texts) / batch
	// Warm-up: one pass over every batch. The Go backend compiles the
	// graph once per input shape (batch × sequence length bucket), so the
	// first pass measures compilation; a long-running program pays it
	// once.
	w0 := time.Now()
	for i := range nb {
		if _, err := pipe.RunPipeline(texts[i*batch : (i+1)*batch]); err != nil {
			return err
		}
	}
	warm := time.Since(w0).Seconds()
	var next, done atomic.Int64
	var firstErr error
	var once sync.Once
	deadline := time.Now().Add(d)
	c0, t0 := cpuTime(), time.Now()
	var wg sync.WaitGroup
	for range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) || done.Load() == 0 {
				i := int(next.Add(1)-1) % nb
				if _, err := pipe.RunPipeline(texts[i*batch : (i+1)*batch]); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				done.Add(batch)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	wall, cpu := time.Since(t0).Seconds(), (cpuTime() - c0).Seconds()
	n := float64(done.Load())
	return json.NewEncoder(os.Stdout).Encode(map[string]float64{"texts_per_s": n / wall, "texts_per_cpu_s": n / cpu, "warmup_s": warm})
}
