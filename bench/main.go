// Command bench measures vecbolt's speed, recall, memory and retrieval
// quality side by side with peer libraries, on data it generates or fetches
// itself into a cache directory.
//
//	go run ./bench [flags] SUITE...
//
// Suites:
//   - ann:     the index alone (exact index, vecbolt HNSW, github.com/coder/hnsw,
//     github.com/philippgille/chromem-go, and hnswlib when g++ and Debian's
//     libhnswlib-dev are present: see hnswlib.go; FAISS's IndexHNSWFlat and
//     IndexIVFPQ when Debian's libfaiss-dev is: see faiss_ann.go) on synthetic clustered
//     vectors, or with --dataset text on real sentence embeddings (WordNet
//     glosses and Debian package descriptions embedded with the built-in
//     model: see textdata.go), with exact ground truth: recall@10, QPS on
//     1 and 2 threads, latency, build throughput, memory, snapshot size and
//     load time.
//   - db:      end to end through the public API (db.Open, Insert,
//     SearchVector): documents/s including storage, QPS, file size, open time;
//     chromem-go's persistent mode as the peer.
//   - embed:   embedder throughput (static and ONNX models, whatever is
//     available in this build and on this machine).
//   - encoder: the pure-Go BERT encoder against ONNX Runtime on the same
//     random weights, MiniLM- and bge-small-shaped (suite_encoder.go).
//   - quality: retrieval quality of the built-in model against BM25 and their
//     fusion (nDCG@10, Recall@10) on Debian descriptions and on WordNet
//     synonym → definition (both fetched with apt-get into the cache; the
//     committed demo corpus with --quick), and HNSW recall on the Debian
//     embeddings.
//   - open:    open time after a clean close and after kill -9 of a writer.
//   - classify: accuracy of Collection.Classify's kNN vote on held-out
//     Debian descriptions labelled by section, against the majority class
//     and kNN over TF-IDF (suite_toolbox_classify.go).
//   - toolbox-outliers (only when named): Outliers and Duplicates on held-out
//     Debian descriptions (outlier AUC, duplicate precision/recall) and
//     Outliers' speed on --n clustered vectors; see suite_toolbox_outliers.go.
//   - cluster: k-means quality (NMI with Debian sections) and speed next to
//     FAISS's k-means (suite_toolbox_cluster.go).
//   - keyword: BM25 top-10 of package fulltext against bleve on the Debian
//     descriptions and on --n synthetic documents (suite_keyword.go).
//
// "1 thread" and "2 threads" mean runtime.GOMAXPROCS(1) and (2) during the
// timed loop, with that many goroutines issuing queries, so a peer that
// parallelizes one query internally (chromem-go) is held to the same number
// of cores as everyone else.
//
// Every timed figure is a measurement of this run; nothing is interpolated.
// --quick runs small sizes and then checks recall and quality against floors
// (never timings), exiting 1 if one is missed, so CI can run it.
//
// Data are never committed: the synthetic and text sets (and their
// fvecs/ivecs files, readable by other ANN libraries) live in --cache, by default
// $VECBOLT_CACHE/bench or the OS user cache dir's vecbolt/bench.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vecbolt/vecbolt/bench/internal/synth"
	"github.com/vecbolt/vecbolt/bench/internal/vecio"
)

// config is the parsed command line.
type config struct {
	json       bool
	plotDir    string
	plotFormat string
	markdown   bool
	quick      bool
	n          int
	dataset    string // "clustered" or "text": what b.dataset serves
	queries    int
	k          int
	cache      string
	efs        []int
	// efGiven: --ef was given, so the db suite sweeps those values too
	// (otherwise only the default and ef 128).
	efGiven     bool
	systems     map[string]bool // nil = all
	peerQ       int             // queries for slow exhaustive peers
	modelDir    string
	staticDir   string
	workDir     string
	reuseDB     bool
	debianLists string
	save        string
	from        string
	cpuProfile  string
	suites      []string
	// recall suite (suite_recall.go)
	recallTarget float64
	deleteFrac   float64
	// recallVectors: --dataset was given, so the recall suite inserts
	// that data set's vectors instead of its random-word texts.
	recallVectors bool
	// growth suite (suite_growth.go)
	profileDir   string
	growthEfC    int
	growthRepeat int
	// ann suite: the threads of the only HNSW/FAISS build (0: one build
	// on one thread for the sweep, then one on two for time).
	buildThreads int
	// dim: the clustered data set's dimension (0: the recipe's 384).
	dim int
}

// allSuites lists the suites in the order a default run executes them.
func allSuites() []string {
	return []string{"ann", "db", "embed", "encoder", "quality", "longdoc", "rag", "open", "classify", "cluster", "keyword", "hybrid"}
}

// extraSuites run only when named: hybrid-sweep tunes the fusion on the
// dev splits (suite_hybrid.go); toolbox-outliers measures Outliers and
// Duplicates (suite_toolbox_outliers.go); recall measures the recall
// target on hard text (suite_recall.go); growth measures the insert rate
// of text documents as the collection grows (suite_growth.go).
func extraSuites() []string {
	return []string{"hybrid-sweep", toolboxOutliersSuite, "recall", "growth"}
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	return out, nil
}

func parseArgs(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.BoolVar(&c.json, "json", false, "print one JSON object per measurement per line instead of tables")
	fs.StringVar(&c.plotDir, "plot", "", "write recall-vs-QPS and throughput plots (SVG) into `DIR`")
	fs.BoolVar(&c.markdown, "markdown", false, "print the tables as Markdown (for BENCHMARKS.md)")
	fs.StringVar(&c.plotFormat, "plot-format", "svg", "plot file format: svg or png")
	fs.BoolVar(&c.quick, "quick", false, "small sizes (< 2 min); exit 1 if recall or quality falls below the floors")
	fs.IntVar(&c.n, "n", 0, "base vectors in the data set (default 100000; 10000 with --quick); 1000000 for the 1M run (clustered only)")
	fs.StringVar(&c.dataset, "dataset", "clustered", "data set of the ann and db suites (and of the recall suite when given): clustered (synthetic) or text (WordNet glosses and Debian descriptions embedded with the built-in model; not with the open suite)")
	fs.IntVar(&c.queries, "queries", 0, "queries (default 1000; 200 with --quick)")
	fs.IntVar(&c.k, "k", 10, "neighbours per query")
	fs.Float64Var(&c.recallTarget, "recall-target", -1, "recall suite: db.WithRecallTarget value (0 = AutoEf as before; default: the library's)")
	fs.Float64Var(&c.deleteFrac, "delete-frac", 0.5, "recall suite: fraction of the documents deleted")
	fs.StringVar(&c.profileDir, "profile-dir", "", "growth suite: write a CPU and a heap profile of each insert step into `DIR`; db suite: the memory samples of each insert (TSV) and a heap profile after it")
	fs.IntVar(&c.growthRepeat, "growth-repeat", 0, "growth suite: after the run, replay the step ending at 100k and the last step `R` times each, alternated, from copies of the file made before them, and report each pair's rate ratio and the median (for a machine whose speed drifts)")
	fs.IntVar(&c.growthEfC, "efc", 0, "growth suite: the collection's efConstruction (0: the default); a small one leaves the rest of the write path to measure")
	fs.IntVar(&c.dim, "dim", 0, "dimension of the clustered data set (default 384, the anchors.md recipe; e.g. 96 for the 10M rows)")
	fs.IntVar(&c.buildThreads, "build-threads", 0, "ann suite: build vecbolt-hnsw(-2m, -m), hnswlib and FAISS once, on this many threads (1 or 2), and sweep ef on that index; 0: build on one thread for the sweep and again on two for time (at 1M, 2 halves the suite's time)")
	fs.StringVar(&c.cache, "cache", "", "cache `DIR` for generated data (default $VECBOLT_CACHE/bench or the user cache dir)")
	efs := fs.String("ef", "10,16,24,32,40,48,64,96,128,192,256", "HNSW ef values to sweep (comma-separated; also the nprobe values of faiss-ivfpq; when given, the db suite sweeps them after the default ef, instead of ef 128 alone)")
	systems := fs.String("systems", "", "comma-separated systems to run (default all): "+strings.Join(knownSystems(), ",")+" (vecbolt-hnsw-2m and vecbolt-hnsw-m, vecbolt-hnsw with 2M or M layer-0 links per new node, run only when named; the encoder suite's reference vecbolt-bert-go always runs)")
	fs.IntVar(&c.peerQ, "peer-queries", 0, "queries for chromem-go, whose exhaustive search is slow (default min(queries, 50))")
	fs.StringVar(&c.modelDir, "model-dir", "", "also measure the ONNX model in `DIR` (model.onnx + tokenizer.json) in the embed suite")
	fs.StringVar(&c.staticDir, "static-dir", "", "also measure the static model in `DIR` (model.safetensors + tokenizer.json)")
	fs.StringVar(&c.debianLists, "debian-lists", "", "apt lists `DIR` with bookworm's main Packages and Translation-en for the quality suite (default: fetched into --cache with apt-get)")
	fs.StringVar(&c.from, "from", "", "run nothing: print the tables and draw the plots of the JSON lines in `FILE` (a --save or --json output)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to `FILE` (go tool pprof)")
	fs.StringVar(&c.save, "save", "", "also write the JSON lines to `FILE`")
	fs.BoolVar(&c.reuseDB, "reuse-db", false, "db suite: keep the vector databases under --cache and, when one already holds the whole data set, skip its insert phase (re-measure search and open without rebuilding); ann suite: keep hnswlib's index there too, load it instead of building it, and report the build of the run that made it")
	fs.StringVar(&c.workDir, "workdir", "", "where database files are written (default: a temporary dir under --cache, removed at exit)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./bench [flags] SUITE...\nsuites: %s (default: all)\nflags:\n", strings.Join(allSuites(), ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	fs.Visit(func(f *flag.Flag) {
		c.recallVectors = c.recallVectors || f.Name == "dataset"
		c.efGiven = c.efGiven || f.Name == "ef"
	})
	if c.json && c.markdown {
		return c, errors.New("--json and --markdown exclude each other")
	}
	if c.plotFormat != "svg" && c.plotFormat != "png" {
		return c, fmt.Errorf("--plot-format %q: want svg or png", c.plotFormat)
	}
	var err error
	if c.efs, err = parseInts(*efs); err != nil {
		return c, fmt.Errorf("--ef: %w", err)
	}
	slices.Sort(c.efs)
	if c.dim != 0 && (c.dim < 2 || c.dim > vecio.MaxDim) {
		return c, fmt.Errorf("--dim %d: want 2 to %d", c.dim, vecio.MaxDim)
	}
	if c.dim != 0 && c.dataset != "clustered" {
		return c, fmt.Errorf("--dim applies to the clustered data set, not %q (its dimension is the model's)", c.dataset)
	}
	if c.buildThreads < 0 || c.buildThreads > 2 {
		return c, fmt.Errorf("--build-threads %d: want 0, 1 or 2", c.buildThreads)
	}
	if *systems != "" {
		c.systems = map[string]bool{}
		known := knownSystems()
		for _, s := range strings.Split(*systems, ",") {
			s = strings.TrimSpace(s)
			if !slices.Contains(known, s) {
				return c, fmt.Errorf("--systems: unknown system %q; known: %s", s, strings.Join(known, ","))
			}
			c.systems[s] = true
		}
	}
	if c.n == 0 {
		c.n = 100_000
		if c.quick {
			c.n = 10_000
		}
	}
	if c.queries == 0 {
		c.queries = 1000
		if c.quick {
			c.queries = 200
		}
	}
	if c.peerQ == 0 {
		c.peerQ = min(c.queries, 50)
	}
	switch {
	case c.n < 100:
		return c, fmt.Errorf("--n %d: need at least 100 vectors", c.n)
	case c.queries < 10:
		return c, fmt.Errorf("--queries %d: need at least 10", c.queries)
	case c.k < 1 || c.k > 100:
		return c, fmt.Errorf("--k %d: want 1..100 (ground truth holds 100)", c.k)
	case c.peerQ < 1 || c.peerQ > c.queries:
		return c, fmt.Errorf("--peer-queries %d: want 1..%d", c.peerQ, c.queries)
	}
	if c.cache == "" {
		if c.cache, err = synth.CacheDir(); err != nil {
			return c, err
		}
	}
	c.suites = fs.Args()
	if len(c.suites) == 0 {
		c.suites = allSuites()
	}
	for _, s := range c.suites {
		if !slices.Contains(allSuites(), s) && !slices.Contains(extraSuites(), s) {
			return c, fmt.Errorf("unknown suite %q (want %s)", s, strings.Join(append(allSuites(), extraSuites()...), ", "))
		}
	}
	switch c.dataset {
	case "clustered":
	case "text":
		// The open suite's writer process regenerates the clustered set
		// itself, so it cannot run on the text set.
		if slices.Contains(c.suites, "open") {
			return c, errors.New("--dataset text: the open suite runs on the clustered set only; name the suites to run (e.g. ann db)")
		}
	default:
		return c, fmt.Errorf("--dataset %q: want clustered or text", c.dataset)
	}
	return c, nil
}

func main() {
	// The open suite re-executes this binary as a writer it can kill.
	if len(os.Args) > 1 && os.Args[1] == writerCommand {
		os.Exit(writerMain(os.Args[2:]))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseArgs(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	b, err := newBench(cfg, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	if cfg.save != "" {
		f, err := os.Create(cfg.save)
		if err != nil {
			fmt.Fprintf(stderr, "bench: --save: %v\n", err)
			return 1
		}
		defer func() {
			if err := f.Close(); err != nil {
				fmt.Fprintf(stderr, "bench: --save: %v\n", err)
			}
		}()
		b.rep.save = f
	}
	defer b.cleanup()
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "bench: --cpuprofile: %v\n", err)
			return 1
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "bench: --cpuprofile: %v\n", err)
			return 1
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	start := time.Now()
	failed := false
	if cfg.from != "" {
		if err := b.load(cfg.from); err != nil {
			fmt.Fprintf(stderr, "bench: --from: %v\n", err)
			return 1
		}
		cfg.suites = nil
	}
	for _, s := range cfg.suites {
		t0 := time.Now()
		b.logf("== suite %s", s)
		if err := b.runSuite(ctx, s); err != nil {
			fmt.Fprintf(stderr, "bench: suite %s: %v\n", s, err)
			failed = true
			if ctx.Err() != nil {
				break
			}
		}
		b.logf("== suite %s done in %s", s, time.Since(t0).Round(time.Second))
	}
	b.rep.flush(stdout)
	if cfg.plotDir != "" {
		if err := b.plot(cfg.plotDir); err != nil {
			fmt.Fprintf(stderr, "bench: plots: %v\n", err)
			failed = true
		}
	}
	if bad := b.checkFloors(stderr); bad > 0 {
		fmt.Fprintf(stderr, "bench: %d floor(s) missed\n", bad)
		failed = true
	}
	b.logf("total %s", time.Since(start).Round(time.Second))
	if failed {
		return 1
	}
	return 0
}

func (b *bench) runSuite(ctx context.Context, s string) error {
	switch s {
	case "ann":
		return b.annSuite(ctx)
	case "db":
		return b.dbSuite(ctx)
	case "embed":
		return b.embedSuite(ctx)
	case "encoder":
		return b.encoderSuite(ctx)
	case "quality":
		return b.qualitySuite(ctx)
	case "longdoc":
		return b.longdocSuite(ctx)
	case "rag":
		return b.ragSuite(ctx)
	case "open":
		return b.openSuite(ctx)
	case "classify":
		return b.classifySuite(ctx)
	case toolboxOutliersSuite:
		return b.toolboxOutliers(ctx)
	case "cluster":
		return b.clusterSuite(ctx)
	case "keyword":
		return b.keywordSuite(ctx)
	case "hybrid":
		return b.hybridSpeedSuite(ctx)
	case "hybrid-sweep":
		return b.hybridSweepSuite(ctx)
	case "recall":
		return b.recallSuite(ctx)
	case "growth":
		return b.growthSuite(ctx)
	}
	return fmt.Errorf("unknown suite %q", s)
}

// knownSystems lists every name --systems accepts, so that a misspelt one
// is refused instead of silently selecting nothing (a run that measured no
// system used to look like a run that measured nothing worth printing).
// The suites test membership by these names (bench.on).
func knownSystems() []string {
	return []string{
		// ann suite
		"vecbolt-flat", "vecbolt-hnsw", "vecbolt-hnsw-2m", "vecbolt-hnsw-m", "vecbolt-hnsw-int8", "hnswlib", "faiss-hnsw", "faiss-ivfpq", "coder-hnsw", "chromem-go",
		// db suite ("vecbolt-hnsw" and "vecbolt-flat" select their db rows too)
		"vecbolt-hnsw-f16", "vecbolt-db-hnsw", "vecbolt-db-hnsw-int8", "vecbolt-db-hnsw-f16", "vecbolt-db-flat", "vecbolt-static",
		// encoder suite (its reference vecbolt-bert-go always runs; naming
		// it is allowed, as BENCHMARKS.md's commands do)
		"vecbolt-bert-go", "onnxruntime", "hugot-go",
		// keyword suite
		"vecbolt-fulltext", "bleve",
	}
}
