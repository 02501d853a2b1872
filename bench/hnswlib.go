package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vecbolt/vecbolt/bench/internal/synth"
)

// hnswlibDriver is a small C++ program that runs hnswlib on the bench's
// fvecs/ivecs files. hnswlib is the reference the [index] issue measures
// vecbolt against; running it in the same run, on the same vectors and
// queries, turns the comparison into a ratio that the shared machine's
// noise affects far less than figures from separate runs.
//
//go:embed hnswlib/driver.cpp
var hnswlibDriver []byte

// hnswlibLine is one line of the driver's output.
type hnswlibLine struct {
	Phase    string   `json:"phase"`
	Threads  int      `json:"threads"`
	BuildS   float64  `json:"build_s"`
	LoadS    float64  `json:"load_s"`
	RSSMB    float64  `json:"rss_mb"`
	Ef       int      `json:"ef"`
	Recall   *float64 `json:"recall"`
	QPS1T    float64  `json:"qps_1t"`
	QPS1TCPU float64  `json:"qps_1t_cpu"`
	QPS2T    float64  `json:"qps_2t"`
	P50Ms    float64  `json:"p50_ms"`
	P99Ms    float64  `json:"p99_ms"`
	// Built is when the run that built a reused index did (RFC 3339);
	// empty for a build of this run.
	Built string `json:"built,omitempty"`
}

// hnswlibSavedBuild keeps the build line of a saved index in saved+".json"
// when this run built it; when this run loaded the index, it inserts the
// stored build line (with its time) after the load line.
func hnswlibSavedBuild(saved string, lines []hnswlibLine) ([]hnswlibLine, error) {
	meta := saved + ".json"
	switch lines[0].Phase {
	case "build":
		l := lines[0]
		l.Built = time.Now().UTC().Format(time.RFC3339)
		buf, err := json.Marshal(l)
		if err != nil {
			return nil, err
		}
		return lines, os.WriteFile(meta, buf, 0o644)
	case "load":
		buf, err := os.ReadFile(meta)
		if err != nil {
			return nil, fmt.Errorf("hnswlib: saved index %s without its build record: %w", saved, err)
		}
		var l hnswlibLine
		if err := json.Unmarshal(buf, &l); err != nil || l.Phase != "build" {
			return nil, fmt.Errorf("hnswlib: build record %s: not a build line (%v)", meta, err)
		}
		// The load line first (it is logged), then the stored build.
		return append([]hnswlibLine{lines[0], l}, lines[1:]...), nil
	}
	return nil, fmt.Errorf("hnswlib driver: first line has phase %q", lines[0].Phase)
}

// runHNSWLib runs the driver; with a non-empty saved path it loads the
// index saved there by an earlier run, or builds it and saves it there.
func (b *bench) runHNSWLib(ctx context.Context, bin string, d *synth.Data, threads int, efs []int, saved string) ([]hnswlibLine, error) {
	fs := synth.FilesFor(b.cfg.cache, d.Spec)
	ef := make([]string, len(efs))
	for i, e := range efs {
		ef[i] = strconv.Itoa(e)
	}
	args := []string{fs.Base, fs.Queries, fs.GT, strconv.Itoa(hnswM), strconv.Itoa(hnswEfC),
		strconv.Itoa(b.cfg.k), strconv.Itoa(threads), strings.Join(ef, ",")}
	if saved != "" {
		args = append(args, saved)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	lines, err := runDriverLines[hnswlibLine](cmd, "hnswlib driver")
	if err != nil {
		return nil, err
	}
	if len(lines) != 1+len(efs) {
		return nil, errors.New("hnswlib driver: incomplete output")
	}
	return lines, nil
}

// annHNSWLib measures hnswlib with the same M, efConstruction, k, ef sweep,
// thread counts and best-of-three rule as vecbolt-hnsw.
func (b *bench) annHNSWLib(ctx context.Context, d *synth.Data) error {
	bin, err := b.driverBinary(ctx, hnswlibCpp)
	if err != nil {
		b.logf("ann: hnswlib left out: %v", err)
		return nil
	}
	// With --reuse-db the index is kept under --cache beside the
	// databases, with its build's line in a file next to it: a later run
	// searches it again without the build (at 10M, over an hour here) and
	// reports the build as measured by the run that made it.
	var saved string
	if b.cfg.reuseDB {
		dir := filepath.Join(b.cfg.cache, "db")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		saved = filepath.Join(dir, fmt.Sprintf("%s-d%d-hnswlib-M%d-efc%d-t%d.bin", dataLabel(d), d.Spec.Dim, hnswM, hnswEfC, b.sweepBuildThreads()))
	}
	lines, err := b.runHNSWLib(ctx, bin, d, b.sweepBuildThreads(), b.cfg.efs, saved)
	if err != nil {
		return err
	}
	if saved != "" {
		if lines, err = hnswlibSavedBuild(saved, lines); err != nil {
			return err
		}
	}
	if b.secondBuild() {
		more, err := b.runHNSWLib(ctx, bin, d, 2, b.cfg.efs[:1], "")
		if err != nil {
			return err
		}
		lines = append(lines, more[0])
	}
	var targets targetTracker
	for _, l := range lines {
		if l.Phase == "load" {
			b.logf("ann: hnswlib loaded %s in %.1fs", saved, l.LoadS)
			continue
		}
		if l.Phase == "build" {
			m := Measurement{Suite: "ann", System: "hnswlib", Dataset: dataLabel(d), N: d.Spec.N, Dim: d.Spec.Dim,
				Params: map[string]any{"phase": "build", "threads": l.Threads, "M": hnswM, "efC": hnswEfC},
				BuildS: fp(l.BuildS), BuildVPS: fp(float64(d.Spec.N) / l.BuildS), Note: "C++, g++ -O3 -march=native"}
			if l.Built != "" {
				m.Note += "; built by an earlier run at " + l.Built + " (--reuse-db)"
			}
			if l.Threads == b.sweepBuildThreads() && l.RSSMB > 0 {
				m.RSSMB = fp(l.RSSMB)
				m.BytesPerVector = fp(l.RSSMB * (1 << 20) / float64(d.Spec.N))
			}
			b.rep.add(m)
			b.logf("ann: hnswlib built on %d thread(s) in %.1fs", l.Threads, l.BuildS)
			continue
		}
		if l.Recall == nil {
			return errors.New("hnswlib driver: search line without recall")
		}
		m := Measurement{Suite: "ann", System: "hnswlib", Dataset: dataLabel(d), N: d.Spec.N, Dim: d.Spec.Dim, K: b.cfg.k,
			Params:     map[string]any{"ef": l.Ef, "M": hnswM, "efC": hnswEfC},
			RecallAt10: fp(*l.Recall), QPS1T: fp(l.QPS1T), QPS2T: fp(l.QPS2T), P50Ms: fp(l.P50Ms), P99Ms: fp(l.P99Ms)}
		if l.QPS1TCPU > 0 {
			m.QPS1TCPU = fp(l.QPS1TCPU)
		}
		if b.cfg.k != 10 {
			m.RecallAt10 = nil
			m.Params["recall_at_k"] = *l.Recall
		}
		b.rep.add(m)
		targets.offer(b, m, *l.Recall, l.Ef)
		b.logf("ann: hnswlib ef=%d recall %.4f qps_1t %.0f (cpu %.0f) qps_2t %.0f", l.Ef, *l.Recall, l.QPS1T, l.QPS1TCPU, l.QPS2T)
	}
	return nil
}

// targetTracker emits, once per recall target, a copy of the first swept
// measurement that reaches it.
type targetTracker struct {
	reached [3]bool
	// key names the swept parameter in the note ("ef" when empty).
	key string
}

func (t *targetTracker) offer(b *bench, m Measurement, recall float64, ef int) {
	for i, target := range []float64{0.90, 0.95, 0.99} {
		if t.reached[i] || recall < target {
			continue
		}
		t.reached[i] = true
		tm := m
		tm.Params = map[string]any{"target_recall": target}
		for k, v := range m.Params {
			tm.Params[k] = v
		}
		key := t.key
		if key == "" {
			key = "ef"
		}
		tm.Note = fmt.Sprintf("first swept %s reaching recall %.2f (%s %d)", key, target, key, ef)
		b.rep.add(tm)
	}
}
