// Command hugotdriver times hugot's pure-Go backend
// (github.com/knights-analytics/hugot, NewGoSession) on a model directory,
// for the bench's encoder suite (bench/suite_encoder.go). It is a module
// of its own so that hugot's dependencies (GoMLX and its ONNX converter)
// stay out of vecbolt's go.mod; the suite builds and runs it, and leaves
// hugot out of the report if it cannot.
//
//	hugotdriver -model DIR -texts FILE -batch B -threads 1,2 -pooling mean|cls
//
// reads a JSON array of texts from FILE, cuts it into batches of B, and for
// each thread count runs one pass over every batch on that many goroutines
// with GOMAXPROCS set to it, timing the pass by wall clock and by process
// CPU time. It prints one JSON object on stdout: the figures of each pass,
// and the embeddings of the first pass so the suite can check that hugot
// computes what vecbolt's encoder computes.
//
// Threads: hugot gives its Go backend no thread option (its backend config
// is the fixed string "go"; GoMLX's simplego sizes its worker pool from
// runtime.NumCPU, not GOMAXPROCS), so GOMAXPROCS is what bounds it: it caps
// the goroutines that run at once, simplego's workers included. Each pass
// reports its CPU/wall ratio (the cores it got) and its busy Ps: the Go
// runtime's time with a P running Go code (runtime/metrics
// /cpu/classes/user, which counts a P as busy while its thread waits for
// a core) over wall time. On a busy machine the first falls with the
// load; the second does not, so it shows how many threads the pass ran
// even when other processes held the cores.
//
// Compilation: simplego compiles the graph once per input shape (batch ×
// sequence length), in the first pass. It is not worth a warm-up pass:
// measured at the noise level, under 0.1 CPU-s against 1.4 CPU-s for a
// batch of four sentences on the MiniLM shape.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/knights-analytics/hugot"
	"github.com/knights-analytics/hugot/backends"
	"github.com/knights-analytics/hugot/pipelines"
)

func main() {
	model := flag.String("model", "", "model directory (model.onnx, tokenizer.json)")
	textsPath := flag.String("texts", "", "JSON array of texts")
	batch := flag.Int("batch", 8, "texts per RunPipeline call")
	threads := flag.String("threads", "1", "comma-separated thread counts, one pass each")
	pooling := flag.String("pooling", "mean", "mean (hugot's own) or cls (first token of the last hidden state)")
	flag.Parse()
	var counts []int
	for _, s := range strings.Split(*threads, ",") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "hugotdriver: bad -threads %q\n", *threads)
			os.Exit(2)
		}
		counts = append(counts, n)
	}
	if *pooling != "mean" && *pooling != "cls" {
		fmt.Fprintf(os.Stderr, "hugotdriver: bad -pooling %q (mean or cls)\n", *pooling)
		os.Exit(2)
	}
	if err := run(*model, *textsPath, *batch, counts, *pooling); err != nil {
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

// pass is one timed pass over every batch.
type pass struct {
	Threads     int     `json:"threads"`
	Texts       int     `json:"texts"`
	WallS       float64 `json:"wall_s"`
	CPUS        float64 `json:"cpu_s"`
	TextsPerS   float64 `json:"texts_per_s"`
	TextsPerCPU float64 `json:"texts_per_cpu_s"`
	// MinCosine is the lowest cosine between this pass's embeddings and
	// the first pass's (1 for the first pass).
	MinCosine float64 `json:"min_cosine_vs_first"`
	// BusyPs is the runtime's user time of Ps (running Go code, whether
	// or not the OS gave their threads a core) over wall time.
	BusyPs float64 `json:"busy_ps"`
}

type result struct {
	LoadS      float64     `json:"load_s"`
	Batch      int         `json:"batch"`
	Passes     []pass      `json:"passes"`
	Embeddings [][]float32 `json:"embeddings"`
}

func run(model, textsPath string, batch int, counts []int, pooling string) error {
	raw, err := os.ReadFile(textsPath)
	if err != nil {
		return err
	}
	var texts []string
	if err := json.Unmarshal(raw, &texts); err != nil {
		return fmt.Errorf("%s: %w", textsPath, err)
	}
	if len(texts) == 0 || batch < 1 {
		return fmt.Errorf("%d texts in batches of %d", len(texts), batch)
	}
	t0 := time.Now()
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
	res := result{LoadS: time.Since(t0).Seconds(), Batch: batch}
	embed := func(in []string) ([][]float32, error) {
		if pooling == "mean" {
			out, err := pipe.RunPipeline(in)
			if err != nil {
				return nil, err
			}
			return out.Embeddings, nil
		}
		return clsEmbed(pipe, in)
	}
	type span struct{ lo, hi int }
	var spans []span
	for lo := 0; lo < len(texts); lo += batch {
		spans = append(spans, span{lo, min(lo+batch, len(texts))})
	}
	// Longest batches first, so that with two goroutines the last one
	// left running is a short one: both cores stay busy to the end.
	longest := func(s span) int {
		m := 0
		for _, t := range texts[s.lo:s.hi] {
			m = max(m, len(t))
		}
		return m
	}
	slices.SortStableFunc(spans, func(a, b span) int { return longest(b) - longest(a) })
	for _, threads := range counts {
		runtime.GOMAXPROCS(threads)
		out := make([][]float32, len(texts))
		var next atomic.Int64
		var firstErr error
		var once sync.Once
		var wg sync.WaitGroup
		u0 := userPTime()
		c0, w0 := cpuTime(), time.Now()
		for range threads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1) - 1)
					if i >= len(spans) {
						return
					}
					s := spans[i]
					v, err := embed(texts[s.lo:s.hi])
					if err == nil && len(v) != s.hi-s.lo {
						err = fmt.Errorf("%d embeddings for %d texts", len(v), s.hi-s.lo)
					}
					if err != nil {
						once.Do(func() { firstErr = err })
						return
					}
					copy(out[s.lo:s.hi], v)
				}
			}()
		}
		wg.Wait()
		wall, cpu := time.Since(w0).Seconds(), (cpuTime() - c0).Seconds()
		busy := userPTime() - u0
		if firstErr != nil {
			return firstErr
		}
		p := pass{Threads: threads, Texts: len(texts), WallS: wall, CPUS: cpu,
			TextsPerS: float64(len(texts)) / wall, TextsPerCPU: float64(len(texts)) / cpu, MinCosine: 1, BusyPs: busy / wall}
		if res.Embeddings == nil {
			res.Embeddings = out
		} else {
			for i := range out {
				p.MinCosine = min(p.MinCosine, cosine(out[i], res.Embeddings[i]))
			}
		}
		res.Passes = append(res.Passes, p)
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// clsEmbed runs hugot's tokenization and forward pass and pools the first
// token of the last hidden state: hugot's feature-extraction pipeline only
// mean-pools, and bge-small pools CLS. The pooling is a copy of one row;
// the time is the forward pass's, as with hugot's own pooling.
func clsEmbed(pipe *pipelines.FeatureExtractionPipeline, in []string) ([][]float32, error) {
	b := backends.NewBatch(len(in))
	defer b.Destroy()
	if err := pipe.Preprocess(b, in); err != nil {
		return nil, err
	}
	if err := pipe.Forward(b); err != nil {
		return nil, err
	}
	hidden, ok := b.OutputValues[pipe.OutputIndex].([][][]float32)
	if !ok {
		return nil, fmt.Errorf("output %T, want [batch][seq][hidden]float32", b.OutputValues[pipe.OutputIndex])
	}
	out := make([][]float32, len(hidden))
	for i, tokens := range hidden {
		if len(tokens) == 0 {
			return nil, errors.New("empty hidden state")
		}
		v := slices.Clone(tokens[0])
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		n = math.Sqrt(n)
		for j := range v {
			v[j] = float32(float64(v[j]) / n)
		}
		out[i] = v
	}
	return out, nil
}

// userPTime is the runtime's estimate of the time Ps spent running Go
// code, in seconds. The runtime updates it at the end of a GC cycle, so it
// runs one first (cheap: the weights hold no pointers).
func userPTime() float64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/cpu/classes/user:cpu-seconds"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return sample[0].Value.Float64()
}

func cosine(a, b []float32) float64 {
	if len(a) != len(b) {
		return 0
	}
	var d, na, nb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return d / math.Sqrt(na*nb)
}
