// Package metrics holds the measurements the bench shares between suites:
// recall against ground truth, latency percentiles, throughput of a query
// loop over several goroutines, and process memory from /proc.
//
// Percentiles are read off the measured latencies (nearest rank), never
// interpolated, so every reported figure is one a query actually took.
package metrics

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// RecallAtK is the mean over queries of |got[i][:k] ∩ truth[i][:k]| / k',
// where k' = min(k, len(truth[i])). got holds ids in the ground truth's id
// space. Queries without truth are an error rather than silently skipped.
func RecallAtK(got, truth [][]int32, k int) (float64, error) {
	if k <= 0 {
		return 0, fmt.Errorf("metrics: k %d must be positive", k)
	}
	if len(got) != len(truth) {
		return 0, fmt.Errorf("metrics: %d answers for %d queries", len(got), len(truth))
	}
	if len(truth) == 0 {
		return 0, errors.New("metrics: recall over zero queries")
	}
	var sum float64
	for i := range truth {
		want := truth[i][:min(k, len(truth[i]))]
		if len(want) == 0 {
			return 0, fmt.Errorf("metrics: query %d has no ground truth", i)
		}
		g := got[i][:min(k, len(got[i]))]
		hit := 0
		for _, id := range g {
			if slices.Contains(want, id) {
				hit++
			}
		}
		sum += float64(hit) / float64(len(want))
	}
	return sum / float64(len(truth)), nil
}

// Percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of
// sorted durations.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	r := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[max(0, min(r, len(sorted)-1))]
}

// Run is the outcome of a timed query loop.
type Run struct {
	Threads  int
	Queries  int
	Elapsed  time.Duration
	QPS      float64
	P50, P99 time.Duration
	// CPU is the CPU time the worker threads spent in the run (0 where the
	// platform cannot tell), and CPUQPS is Queries per CPU second. On a
	// shared machine other processes stretch Elapsed but not CPU, so two
	// systems measured minutes apart compare fairly by CPUQPS.
	CPU    time.Duration
	CPUQPS float64
}

// Ms converts a duration to milliseconds.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Timed runs fn(i) for i in 0..n-1 (each query once) over the given number
// of goroutines, which pull indexes from a shared counter, and measures
// throughput and per-call latency. The first error stops the run.
func Timed(ctx context.Context, n, threads int, fn func(worker, i int) error) (Run, error) {
	if n <= 0 || threads <= 0 {
		return Run{}, fmt.Errorf("metrics: timed run of %d calls on %d threads", n, threads)
	}
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var cpu atomic.Int64
	var noCPU atomic.Bool
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for w := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Locked so that the thread's CPU clock is this worker's.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			c0, cpuOK := threadCPU()
			defer func() {
				if c1, ok := threadCPU(); ok && cpuOK {
					cpu.Add(c1 - c0)
				} else {
					noCPU.Store(true)
				}
			}()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				if err := fn(w, i); err != nil {
					once.Do(func() { firstErr = err })
					next.Store(int64(n))
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	if firstErr != nil {
		return Run{}, firstErr
	}
	if err := ctx.Err(); err != nil {
		return Run{}, err
	}
	slices.Sort(lat)
	r := Run{Threads: threads, Queries: n, Elapsed: el, QPS: float64(n) / el.Seconds(),
		P50: Percentile(lat, 50), P99: Percentile(lat, 99)}
	if c := cpu.Load(); !noCPU.Load() && c > 0 {
		r.CPU = time.Duration(c)
		r.CPUQPS = float64(n) / r.CPU.Seconds()
	}
	return r, nil
}

// Mem is a reading of the process's memory from /proc/self/status.
type Mem struct {
	RSS, HWM int64 // bytes
}

// ReadMem returns VmRSS and VmHWM. On systems without /proc it returns an
// error; callers then report no memory figures.
func ReadMem() (Mem, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return Mem{}, fmt.Errorf("metrics: %w", err)
	}
	defer f.Close()
	var m Mem
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		var dst *int64
		switch {
		case strings.HasPrefix(line, "VmRSS:"):
			dst = &m.RSS
		case strings.HasPrefix(line, "VmHWM:"):
			dst = &m.HWM
		default:
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 3 || fs[2] != "kB" {
			return Mem{}, fmt.Errorf("metrics: unexpected status line %q", line)
		}
		kb, err := strconv.ParseInt(fs[1], 10, 64)
		if err != nil {
			return Mem{}, fmt.Errorf("metrics: status line %q: %w", line, err)
		}
		*dst = kb << 10
	}
	if err := sc.Err(); err != nil {
		return Mem{}, fmt.Errorf("metrics: %w", err)
	}
	if m.RSS == 0 {
		return Mem{}, errors.New("metrics: no VmRSS in /proc/self/status")
	}
	return m, nil
}

// Settle runs the garbage collector and returns freed memory to the OS, so
// that an RSS reading afterwards counts live data rather than garbage.
func Settle() {
	runtime.GC()
	debug.FreeOSMemory()
}

// MB converts bytes to mebibytes.
func MB(b int64) float64 { return float64(b) / (1 << 20) }
