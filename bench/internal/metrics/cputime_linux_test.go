package metrics

import (
	"context"
	"testing"
	"time"
)

// TestTimedCPU checks the CPU clock against work whose CPU cost is known to
// be at least its wall time on one thread (a busy loop), and that sleeping,
// which takes wall time but no CPU, does not count.
func TestTimedCPU(t *testing.T) {
	busy := func(_, _ int) error {
		for t0 := time.Now(); time.Since(t0) < 2*time.Millisecond; {
		}
		return nil
	}
	r, err := Timed(context.Background(), 20, 1, busy)
	if err != nil {
		t.Fatal(err)
	}
	// 40 ms of spinning; the thread may be descheduled for part of it on a
	// loaded machine, so only a floor of half is certain.
	if r.CPU < 20*time.Millisecond || r.CPUQPS <= 0 {
		t.Errorf("busy run: CPU %v, CPUQPS %.0f; want at least 20ms", r.CPU, r.CPUQPS)
	}
	r, err = Timed(context.Background(), 20, 1, func(_, _ int) error { time.Sleep(2 * time.Millisecond); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if r.CPU > r.Elapsed/2 {
		t.Errorf("sleeping run: CPU %v of %v elapsed; sleeping should not count", r.CPU, r.Elapsed)
	}
}
