package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memSample is one reading of what the process's resident memory is made
// of: the kernel's split of it (anonymous pages against pages of mapped
// files, here bbolt's mapping of the database) and the Go runtime's view of
// its heap.
type memSample struct {
	At                 time.Duration
	RSS, Anon, File    int64 // VmRSS, RssAnon, RssFile
	HeapLive           int64 // marked live by the last GC
	HeapObjects        int64 // live and not yet swept garbage
	HeapFree, Released int64 // free heap pages kept, and returned to the OS
	HeapGoal           int64
	GoTotal            int64 // everything the runtime has mapped
	GCs                int64
}

// goMemMetrics are the runtime/metrics names read into a memSample, in the
// order of its fields after File.
var goMemMetrics = []string{
	"/gc/heap/live:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/released:bytes",
	"/gc/heap/goal:bytes",
	"/memory/classes/total:bytes",
	"/gc/cycles/total:gc-cycles",
}

// memTrace samples the process's memory every interval until stopped, so a
// run can report what its peak was made of, not only its size.
type memTrace struct {
	t0      time.Time
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	samples []memSample
}

func startMemTrace(interval time.Duration) *memTrace {
	t := &memTrace{t0: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(t.done)
		ms := make([]metrics.Sample, len(goMemMetrics))
		for i, name := range goMemMetrics {
			ms[i].Name = name
		}
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			if s, ok := t.read(ms); ok {
				t.mu.Lock()
				t.samples = append(t.samples, s)
				t.mu.Unlock()
			}
			select {
			case <-t.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return t
}

func (t *memTrace) read(ms []metrics.Sample) (memSample, bool) {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return memSample{}, false
	}
	s := memSample{At: time.Since(t.t0)}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch name {
		case "VmRSS":
			dst = &s.RSS
		case "RssAnon":
			dst = &s.Anon
		case "RssFile":
			dst = &s.File
		default:
			continue
		}
		if fs := strings.Fields(rest); len(fs) == 2 && fs[1] == "kB" {
			if kb, err := strconv.ParseInt(fs[0], 10, 64); err == nil {
				*dst = kb << 10
			}
		}
	}
	metrics.Read(ms)
	dsts := []*int64{&s.HeapLive, &s.HeapObjects, &s.HeapFree, &s.Released, &s.HeapGoal, &s.GoTotal, &s.GCs}
	for i, m := range ms {
		if m.Value.Kind() == metrics.KindUint64 {
			*dsts[i] = int64(m.Value.Uint64())
		}
	}
	return s, s.RSS > 0
}

// end stops the sampling and returns the samples.
func (t *memTrace) end() []memSample {
	close(t.stop)
	<-t.done
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.samples
}

// peakSample returns the sample of largest RSS.
func peakSample(ss []memSample) (memSample, bool) {
	var p memSample
	for _, s := range ss {
		if s.RSS > p.RSS {
			p = s
		}
	}
	return p, p.RSS > 0
}

// peakParams describes the composition of the peak sample, in MB, for a
// measurement's params: resident anonymous and file pages, and of the Go
// heap what was live at the last GC, what the objects (live and unswept
// garbage) took, and the free pages the runtime kept resident-able.
func peakParams(p memSample, prefix string) map[string]any {
	mb := func(b int64) float64 { return round4(float64(b) / (1 << 20)) }
	return map[string]any{
		prefix + "rss_mb":          mb(p.RSS),
		prefix + "anon_mb":         mb(p.Anon),
		prefix + "file_mb":         mb(p.File),
		prefix + "heap_live_mb":    mb(p.HeapLive),
		prefix + "heap_objects_mb": mb(p.HeapObjects),
		prefix + "heap_free_mb":    mb(p.HeapFree),
		prefix + "heap_goal_mb":    mb(p.HeapGoal),
		prefix + "go_mapped_mb":    mb(p.GoTotal - p.Released),
	}
}

// writeMemTrace writes the samples as tab-separated MB figures.
func writeMemTrace(path string, ss []memSample) error {
	var b strings.Builder
	b.WriteString("t_s\trss\tanon\tfile\theap_live\theap_objects\theap_free\treleased\theap_goal\tgo_total\tgcs\n")
	mb := func(v int64) string { return strconv.FormatFloat(float64(v)/(1<<20), 'f', 1, 64) }
	for _, s := range ss {
		fmt.Fprintf(&b, "%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", s.At.Seconds(),
			mb(s.RSS), mb(s.Anon), mb(s.File), mb(s.HeapLive), mb(s.HeapObjects), mb(s.HeapFree),
			mb(s.Released), mb(s.HeapGoal), mb(s.GoTotal), s.GCs)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
