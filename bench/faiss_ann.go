package main

// FAISS in the ann suite (issue 19): FAISS 1.7.3 from Debian's
// libfaiss-dev, the library users know as the reference, through a small
// C++ driver (faissann/driver.cpp) on the same fvecs/ivecs files, k,
// thread counts and best-of-five rule as vecbolt-hnsw and hnswlib:
//
//   - faiss-hnsw: IndexHNSWFlat, inner product (as hnswlib), M = hnswM,
//     efConstruction = hnswEfC, efSearch swept over --ef. Build on one
//     thread (the searches use that graph) and on two (time only).
//     bytes_per_vector is the build's resident-memory growth, as for
//     hnswlib; params.index_bytes_per_vector counts FAISS's own arrays.
//   - faiss-ivfpq: IndexIVFPQ, the memory-lean point: nlist = 4·√n coarse
//     lists, PQ with pqSubquantizers(dim) sub-quantizers of 8 bits (48 for
//     384 dimensions: 48 bytes a vector), trained on a sample of
//     ivfTrainPerList·nlist vectors; nprobe swept over the --ef values
//     (those above nlist left out). bytes_per_vector counts every array
//     the index holds (codes, 8-byte ids, list headers, coarse centroids,
//     PQ codebooks, FAISS's precomputed tables), divided by n; params
//     break it down. No re-ranking: the recall ceiling is the codes'.
//
// Queries go one at a time (index.search with one row), as an application
// serves them; Debian's libfaiss is built for a generic x86-64, so its
// distance kernels do not use AVX2 or AVX-512 (hnswlib's header-only code
// is compiled here with -march=native): this is FAISS as a Debian user gets
// it.

import (
	"context"
	_ "embed"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/vecbolt/vecbolt/bench/internal/synth"
)

//go:embed faissann/driver.cpp
var faissANNDriver []byte

const (
	// ivfTrainPerList is the IVF training sample per coarse list: FAISS
	// warns below 39 and subsamples above 256.
	ivfTrainPerList = 50
	// pqBits is bits per PQ sub-quantizer code (256 centroids each).
	pqBits = 8
)

// faissANNLine is one line of the driver's output (build or search).
type faissANNLine struct {
	Phase    string   `json:"phase"`
	Threads  int      `json:"threads"`
	BuildS   float64  `json:"build_s"`
	TrainS   float64  `json:"train_s"`
	RSSMB    float64  `json:"rss_mb"`
	Metric   string   `json:"metric"`
	IndexB   int64    `json:"index_bytes"`
	CodeSize int      `json:"code_size"`
	CodesB   int64    `json:"codes_bytes"`
	IDsB     int64    `json:"ids_bytes"`
	HeadersB int64    `json:"list_header_bytes"`
	CoarseB  int64    `json:"coarse_bytes"`
	PQB      int64    `json:"pq_bytes"`
	TableB   int64    `json:"table_bytes"`
	NTrain   int      `json:"ntrain"`
	Param    int      `json:"param"`
	Recall   *float64 `json:"recall"`
	QPS1T    float64  `json:"qps_1t"`
	QPS1TCPU float64  `json:"qps_1t_cpu"`
	QPS2T    float64  `json:"qps_2t"`
	P50Ms    float64  `json:"p50_ms"`
	P99Ms    float64  `json:"p99_ms"`
}

// ivfNList is the number of coarse lists for n vectors: 4·√n (the usual
// rule), at least 1 and small enough that every list gets
// ivfTrainPerList training vectors when n allows it.
func ivfNList(n int) int {
	nl := int(math.Round(4 * math.Sqrt(float64(n))))
	return max(1, min(nl, n/ivfTrainPerList))
}

// pqSubquantizers is the PQ sub-quantizer count for dim dimensions: the
// largest divisor of dim not above dim/8 (8 dimensions per one-byte code:
// 48 for 384, 12 for 96): a code is a 32nd of the float32 vector.
func pqSubquantizers(dim int) int {
	for m := max(1, dim/8); m > 1; m-- {
		if dim%m == 0 {
			return m
		}
	}
	return 1
}

// faissSweep is the swept values for a system: --ef as efSearch, or as
// nprobe capped to nlist (values above it would repeat nprobe = nlist).
func faissSweep(efs []int, nlist int) []int {
	if nlist == 0 {
		return efs
	}
	var out []int
	for _, e := range efs {
		if e <= nlist {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		out = []int{nlist}
	}
	return out
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// runFAISS runs the driver in mode on threads build threads.
func (b *bench) runFAISS(ctx context.Context, bin string, d *synth.Data, mode string, threads int, sweep []int) ([]faissANNLine, error) {
	fs := synth.FilesFor(b.cfg.cache, d.Spec)
	args := []string{mode, fs.Base, fs.Queries, fs.GT, strconv.Itoa(b.cfg.k), strconv.Itoa(threads)}
	if mode == "hnsw" {
		args = append(args, strconv.Itoa(hnswM), strconv.Itoa(hnswEfC))
	} else {
		nl := ivfNList(d.Spec.N)
		args = append(args, strconv.Itoa(nl), strconv.Itoa(pqSubquantizers(d.Spec.Dim)), strconv.Itoa(pqBits),
			strconv.Itoa(min(d.Spec.N, ivfTrainPerList*nl)))
	}
	args = append(args, joinInts(sweep))
	cmd := exec.CommandContext(ctx, bin, args...)
	// FAISS parallelises the build with OpenMP, held to the build's
	// threads (the driver sets one thread per searching thread itself).
	// OpenBLAS stays on one thread: called inside FAISS's OpenMP regions
	// its own threads oversubscribe the two cores (IVFPQ training on 10k
	// vectors, two threads, loaded machine: 43 s with two BLAS threads,
	// 16 s with one, 21 s on one thread altogether). Passive waiting,
	// because libgomp's spinning threads lose their core to other load
	// (89 s for the same training).
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS="+strconv.Itoa(threads), "OPENBLAS_NUM_THREADS=1", "OMP_WAIT_POLICY=PASSIVE")
	lines, err := runDriverLines[faissANNLine](cmd, "FAISS "+mode+" driver")
	if err != nil {
		return nil, err
	}
	if len(lines) != 1+len(sweep) || lines[0].Phase != "build" {
		return nil, fmt.Errorf("FAISS %s driver: %d output lines, want %d", mode, len(lines), 1+len(sweep))
	}
	for _, l := range lines[1:] {
		if l.Recall == nil {
			return nil, fmt.Errorf("FAISS %s driver: search line without recall", mode)
		}
	}
	return lines, nil
}

func (b *bench) annFAISSHNSW(ctx context.Context, d *synth.Data) error {
	return b.annFAISS(ctx, d, "faiss-hnsw", "hnsw")
}

func (b *bench) annFAISSIVFPQ(ctx context.Context, d *synth.Data) error {
	return b.annFAISS(ctx, d, "faiss-ivfpq", "ivfpq")
}

// annFAISS measures one FAISS index: build and sweep on one thread, then
// a build on two threads (time only), like hnswlib.
func (b *bench) annFAISS(ctx context.Context, d *synth.Data, system, mode string) error {
	bin, err := b.driverBinary(ctx, faissANNCpp)
	if err != nil {
		b.logf("ann: %s left out: %v", system, err)
		return nil
	}
	nlist := 0
	sweepKey := "ef"
	params := map[string]any{"M": hnswM, "efC": hnswEfC}
	if mode == "ivfpq" {
		nlist = ivfNList(d.Spec.N)
		sweepKey = "nprobe"
		params = map[string]any{"nlist": nlist, "pq_m": pqSubquantizers(d.Spec.Dim), "pq_bits": pqBits}
	}
	sweep := faissSweep(b.cfg.efs, nlist)
	with := func(extra map[string]any) map[string]any {
		p := map[string]any{}
		for k, v := range params {
			p[k] = v
		}
		for k, v := range extra {
			p[k] = v
		}
		return p
	}
	targets := targetTracker{key: sweepKey}
	// Each run's measurements are reported as it ends, so an interrupted
	// two-thread build keeps the one-thread figures.
	report := func(lines []faissANNLine) {
		for _, l := range lines {
			b.reportFAISS(d, system, mode, sweepKey, with, &targets, l)
		}
	}
	lines, err := b.runFAISS(ctx, bin, d, mode, b.sweepBuildThreads(), sweep)
	if err != nil {
		return err
	}
	report(lines)
	if b.secondBuild() {
		more, err := b.runFAISS(ctx, bin, d, mode, 2, sweep[:1])
		if err != nil {
			return err
		}
		report(more[:1])
	}
	return nil
}

// reportFAISS adds the measurement of one driver line.
func (b *bench) reportFAISS(d *synth.Data, system, mode, sweepKey string, with func(map[string]any) map[string]any, targets *targetTracker, l faissANNLine) {
	n := float64(d.Spec.N)
	note := "FAISS 1.7.3 (Debian libfaiss-dev), one query per search call"
	if l.Phase == "build" {
		m := Measurement{Suite: "ann", System: system, Dataset: dataLabel(d), N: d.Spec.N, Dim: d.Spec.Dim,
			Params: with(map[string]any{"phase": "build", "threads": l.Threads, "metric": l.Metric}),
			BuildS: fp(l.BuildS), BuildVPS: fp(n / l.BuildS), Note: note}
		if mode == "ivfpq" {
			m.Params["train_s"] = round4(l.TrainS)
			m.Params["train_vectors"] = l.NTrain
		}
		if l.Threads == b.sweepBuildThreads() {
			if l.RSSMB > 0 {
				m.RSSMB = fp(l.RSSMB)
			}
			if mode == "hnsw" {
				if l.RSSMB > 0 {
					m.BytesPerVector = fp(l.RSSMB * (1 << 20) / n)
				}
				m.Params["index_bytes_per_vector"] = int(float64(l.IndexB)/n + 0.5)
			} else {
				m.BytesPerVector = fp(float64(l.IndexB) / n)
				m.Params["code_size"] = l.CodeSize
				m.Params["codes_ids_bytes_per_vector"] = round4(float64(l.CodesB+l.IDsB) / n)
				m.Params["list_header_bytes_per_vector"] = round4(float64(l.HeadersB) / n)
				m.Params["centroid_bytes_per_vector"] = round4(float64(l.CoarseB+l.PQB) / n)
				m.Params["table_bytes_per_vector"] = round4(float64(l.TableB) / n)
				m.Note = note + "; bytes_per_vector = all index arrays / n (params break it down)"
			}
		}
		b.rep.add(m)
		b.logf("ann: %s built on %d thread(s) in %.1fs", system, l.Threads, l.BuildS)
		return
	}
	m := Measurement{Suite: "ann", System: system, Dataset: dataLabel(d), N: d.Spec.N, Dim: d.Spec.Dim, K: b.cfg.k,
		Params:     with(map[string]any{sweepKey: l.Param}),
		RecallAt10: fp(*l.Recall), QPS1T: fp(l.QPS1T), QPS2T: fp(l.QPS2T), P50Ms: fp(l.P50Ms), P99Ms: fp(l.P99Ms), Note: note}
	if l.QPS1TCPU > 0 {
		m.QPS1TCPU = fp(l.QPS1TCPU)
	}
	if b.cfg.k != 10 {
		m.RecallAt10 = nil
		m.Params["recall_at_k"] = *l.Recall
	}
	b.rep.add(m)
	targets.offer(b, m, *l.Recall, l.Param)
	b.logf("ann: %s %s=%d recall %.4f qps_1t %.0f (cpu %.0f) qps_2t %.0f", system, sweepKey, l.Param, *l.Recall, l.QPS1T, l.QPS1TCPU, l.QPS2T)
}
