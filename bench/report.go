package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vecbolt/vecbolt/bench/internal/metrics"
	"github.com/vecbolt/vecbolt/bench/internal/synth"
)

// Measurement is one line of --json output. Pointer fields are omitted
// when they do not apply to the measurement.
type Measurement struct {
	Suite      string         `json:"suite"`
	System     string         `json:"system"`
	Dataset    string         `json:"dataset,omitempty"`
	N          int            `json:"n,omitempty"`
	Dim        int            `json:"dim,omitempty"`
	K          int            `json:"k,omitempty"`
	Params     map[string]any `json:"params,omitempty"`
	RecallAt10 *float64       `json:"recall_at_10,omitempty"`
	QPS1T      *float64       `json:"qps_1t,omitempty"`
	// QPS1TCPU is queries per second of the searching thread's CPU time
	// (one thread, best run): other load on the machine does not lower it,
	// so it is the figure to compare between systems measured apart.
	QPS1TCPU       *float64 `json:"qps_1t_cpu,omitempty"`
	QPS2T          *float64 `json:"qps_2t,omitempty"`
	P50Ms          *float64 `json:"p50_ms,omitempty"`
	P99Ms          *float64 `json:"p99_ms,omitempty"`
	BuildS         *float64 `json:"build_s,omitempty"`
	BuildVPS       *float64 `json:"build_vps,omitempty"`
	BytesPerVector *float64 `json:"bytes_per_vector,omitempty"`
	RSSMB          *float64 `json:"rss_mb,omitempty"`
	FileMB         *float64 `json:"file_mb,omitempty"`
	OpenS          *float64 `json:"open_s,omitempty"`
	DocsPerS       *float64 `json:"docs_per_s,omitempty"`
	EmbedsPerS     *float64 `json:"embeds_per_s,omitempty"`
	NDCGAt10       *float64 `json:"ndcg_at_10,omitempty"`
	RecallAt10Docs *float64 `json:"recall_at_10_docs,omitempty"`
	// IterS and IterCPUS are seconds per k-means iteration, by wall clock
	// and by the process's CPU time (all threads); NMI is a clustering's
	// normalized mutual information with reference labels.
	IterS    *float64 `json:"iter_s,omitempty"`
	IterCPUS *float64 `json:"iter_cpu_s,omitempty"`
	NMI      *float64 `json:"nmi,omitempty"`
	Note     string   `json:"note,omitempty"`
}

func fp(v float64) *float64 { return &v }

// reporter prints measurements as JSON lines as they arrive, or collects
// them for tables printed at the end.
type reporter struct {
	json     bool
	markdown bool
	out      io.Writer
	save     io.Writer // optional copy of the JSON lines
	all      []Measurement
}

func (r *reporter) add(m Measurement) {
	r.all = append(r.all, m)
	if !r.json && r.save == nil {
		return
	}
	line, err := json.Marshal(m)
	if err != nil {
		// Only NaN/Inf can fail here; report the line rather than lose it.
		line = fmt.Appendf(nil, "{\"suite\":%q,\"system\":%q,\"error\":%q}", m.Suite, m.System, err.Error())
	}
	line = append(line, '\n')
	if r.json {
		r.out.Write(line)
	}
	if r.save != nil {
		r.save.Write(line)
	}
}

type column struct {
	name string
	get  func(*Measurement) *float64
	prec int
}

// precFor is the column's precision, widened to two decimals for a
// fractional rate below 10 that would otherwise print as a bare digit
// (hugot's texts/s).
func (c column) precFor(v float64) int {
	if c.prec == 0 && v != math.Trunc(v) && v > -10 && v < 10 {
		return 2
	}
	return c.prec
}

func columns() []column {
	return []column{
		{"recall@10", func(m *Measurement) *float64 { return m.RecallAt10 }, 4},
		{"qps_1t", func(m *Measurement) *float64 { return m.QPS1T }, 0},
		{"qps_1t_cpu", func(m *Measurement) *float64 { return m.QPS1TCPU }, 0},
		{"qps_2t", func(m *Measurement) *float64 { return m.QPS2T }, 0},
		{"p50_ms", func(m *Measurement) *float64 { return m.P50Ms }, 3},
		{"p99_ms", func(m *Measurement) *float64 { return m.P99Ms }, 3},
		{"build_s", func(m *Measurement) *float64 { return m.BuildS }, 2},
		{"build_vps", func(m *Measurement) *float64 { return m.BuildVPS }, 0},
		{"B/vector", func(m *Measurement) *float64 { return m.BytesPerVector }, 0},
		{"rss_mb", func(m *Measurement) *float64 { return m.RSSMB }, 1},
		{"file_mb", func(m *Measurement) *float64 { return m.FileMB }, 1},
		{"open_s", func(m *Measurement) *float64 { return m.OpenS }, 3},
		{"docs/s", func(m *Measurement) *float64 { return m.DocsPerS }, 0},
		{"embeds/s", func(m *Measurement) *float64 { return m.EmbedsPerS }, 0},
		{"ndcg@10", func(m *Measurement) *float64 { return m.NDCGAt10 }, 4},
		{"recall@10_docs", func(m *Measurement) *float64 { return m.RecallAt10Docs }, 4},
		{"iter_s", func(m *Measurement) *float64 { return m.IterS }, 3},
		{"iter_cpu_s", func(m *Measurement) *float64 { return m.IterCPUS }, 3},
		{"nmi", func(m *Measurement) *float64 { return m.NMI }, 4},
	}
}

func formatParams(p map[string]any) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for i, k := range keys {
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%s=%v", k, p[k])
	}
	return sb.String()
}

// flush prints the tables (one per suite, only the columns that suite
// filled) unless output is JSON.
func (r *reporter) flush(w io.Writer) {
	if r.json {
		return
	}
	var suites []string
	for _, m := range r.all {
		if !slices.Contains(suites, m.Suite) {
			suites = append(suites, m.Suite)
		}
	}
	for _, s := range suites {
		var rows []*Measurement
		for i := range r.all {
			if r.all[i].Suite == s {
				rows = append(rows, &r.all[i])
			}
		}
		var cols []column
		for _, c := range columns() {
			for _, m := range rows {
				if c.get(m) != nil {
					cols = append(cols, c)
					break
				}
			}
		}
		fmt.Fprintf(w, "\n## %s\n\n", s)
		var tw *tabwriter.Writer
		sep, end := "\t", "\t\n"
		out := w
		if r.markdown {
			sep, end = " | ", " |\n"
			fmt.Fprint(w, "| ")
		} else {
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
			out = tw
		}
		fmt.Fprint(out, "system"+sep+"dataset"+sep+"n"+sep+"params"+sep)
		for _, c := range cols {
			fmt.Fprint(out, c.name+sep)
		}
		fmt.Fprint(out, "note"+end)
		if r.markdown {
			fmt.Fprint(w, "|"+strings.Repeat("---|", 5+len(cols))+"\n")
		}
		for _, m := range rows {
			if r.markdown {
				fmt.Fprint(w, "| ")
			}
			fmt.Fprintf(out, "%s%s%s%s%d%s%s%s", m.System, sep, m.Dataset, sep, m.N, sep, formatParams(m.Params), sep)
			for _, c := range cols {
				if v := c.get(m); v != nil {
					fmt.Fprintf(out, "%.*f%s", c.precFor(*v), *v, sep)
				} else {
					fmt.Fprint(out, "-"+sep)
				}
			}
			fmt.Fprint(out, m.Note+end)
		}
		if tw != nil {
			tw.Flush()
		}
	}
}

// floor is a quality or recall check of --quick (and of every run: a full
// run that misses a floor is as wrong as a quick one).
type floor struct {
	what      string
	got, want float64
}

// bench is the state of one run.
type bench struct {
	cfg     config
	rep     *reporter
	stderr  io.Writer
	data    map[int]*synth.Data
	floors  []floor
	workDir string
	rmWork  bool
	start   time.Time
}

func newBench(cfg config, stdout, stderr io.Writer) (*bench, error) {
	b := &bench{cfg: cfg, rep: &reporter{json: cfg.json, markdown: cfg.markdown, out: stdout}, stderr: stderr,
		data: map[int]*synth.Data{}, start: time.Now()}
	if err := os.MkdirAll(cfg.cache, 0o755); err != nil {
		return nil, fmt.Errorf("cache dir: %w", err)
	}
	if cfg.workDir != "" {
		if err := os.MkdirAll(cfg.workDir, 0o755); err != nil {
			return nil, fmt.Errorf("work dir: %w", err)
		}
		b.workDir = cfg.workDir
	} else {
		d, err := os.MkdirTemp(cfg.cache, "work-")
		if err != nil {
			return nil, fmt.Errorf("work dir: %w", err)
		}
		b.workDir, b.rmWork = d, true
	}
	b.logf("machine: %s, %d CPUs, GOMAXPROCS %d, %s", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	return b, nil
}

func (b *bench) cleanup() {
	if b.rmWork {
		os.RemoveAll(b.workDir)
	}
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.stderr, "[%6.1fs] %s\n", time.Since(b.start).Seconds(), fmt.Sprintf(format, args...))
}

// want records a floor: got must be at least min.
func (b *bench) want(what string, got, min float64) {
	b.floors = append(b.floors, floor{what, got, min})
}

func (b *bench) checkFloors(w io.Writer) int {
	bad := 0
	for _, f := range b.floors {
		status := "ok  "
		if !(f.got >= f.want) {
			status = "FAIL"
			bad++
		}
		fmt.Fprintf(w, "floor %s %s: %.4f (floor %.4f)\n", status, f.what, f.got, f.want)
	}
	return bad
}

// on reports whether a system was selected with --systems.
func (b *bench) on(system string) bool {
	return b.cfg.systems == nil || b.cfg.systems[system]
}

// dataset loads (or generates into the cache) the data set of --dataset
// with n base vectors: the synthetic clustered set, or the text set (see
// textdata.go).
func (b *bench) dataset(ctx context.Context, n int) (*synth.Data, error) {
	if d, ok := b.data[n]; ok {
		return d, nil
	}
	if b.cfg.dataset == "text" {
		t0 := time.Now()
		d, err := b.textDataset(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("text data set: %w", err)
		}
		b.logf("dataset %s ready in %s", dataLabel(d), time.Since(t0).Round(time.Millisecond))
		b.data[n] = d
		return d, nil
	}
	spec := synth.Default(n)
	spec.Queries = b.cfg.queries
	if b.cfg.dim != 0 {
		spec.Dim = b.cfg.dim
	}
	t0 := time.Now()
	d, gen, err := synth.Load(ctx, b.cfg.cache, spec)
	if err != nil {
		return nil, err
	}
	how := "read from cache"
	if gen {
		how = "generated with exact ground truth"
		// Generation leaves garbage several times the data set's size
		// (the exact index's copy for the ground truth, the growing
		// slices), and with nothing allocating while a C++ driver runs,
		// no GC would return it: at 10M × 96 the bench still held 24 GB
		// when the hnswlib driver started, and the kernel killed it.
		debug.FreeOSMemory()
	}
	b.logf("dataset %s: %s in %s (%s)", spec.Name(), how, time.Since(t0).Round(time.Millisecond), synth.FilesFor(b.cfg.cache, spec).Dir)
	b.data[n] = d
	return d, nil
}

// dataLabel is d's name in the report: "clustered-100k", "text-100k".
func dataLabel(d *synth.Data) string {
	kind := "clustered"
	if d.Spec.Source != "" {
		kind, _, _ = strings.Cut(d.Spec.Source, "-")
	}
	return datasetLabel(kind, d.Spec.N)
}

// datasetLabel is a data set's name in the report: kind and size, e.g.
// "text-100k".
func datasetLabel(kind string, n int) string {
	switch {
	case n%1_000_000 == 0:
		return fmt.Sprintf("%s-%dM", kind, n/1_000_000)
	case n%1000 == 0:
		return fmt.Sprintf("%s-%dk", kind, n/1000)
	}
	return fmt.Sprintf("%s-%d", kind, n)
}

// withProcs runs fn with GOMAXPROCS set to procs.
func withProcs[T any](procs int, fn func() (T, error)) (T, error) {
	prev := runtime.GOMAXPROCS(procs)
	defer runtime.GOMAXPROCS(prev)
	return fn()
}

// memDelta measures the RSS growth caused by fn, after settling the heap
// on both sides. It returns 0 when /proc is unavailable.
func memDelta(fn func() error) (int64, error) {
	metrics.Settle()
	m0, err0 := metrics.ReadMem()
	if err := fn(); err != nil {
		return 0, err
	}
	metrics.Settle()
	m1, err1 := metrics.ReadMem()
	if err0 != nil || err1 != nil {
		return 0, nil
	}
	return m1.RSS - m0.RSS, nil
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "model name") {
			if _, v, ok := strings.Cut(line, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}

// dirSize sums the sizes of the regular files under path.
func dirSize(path string) (int64, error) {
	var total int64
	err := filepath.WalkDir(path, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	return total, err
}

// load reads measurements saved by --save or --json into the report, for
// --from.
func (b *bench) load(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for i, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var m Measurement
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			return fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		if m.Suite == "" || m.System == "" {
			return fmt.Errorf("%s:%d: not a bench measurement (no suite or system)", path, i+1)
		}
		b.rep.all = append(b.rep.all, m)
	}
	if len(b.rep.all) == 0 {
		return fmt.Errorf("%s holds no measurements", path)
	}
	return nil
}
