package metrics

import (
	"context"
	"testing"
	"time"
)

// spin does a fixed amount of work (a dependent chain of multiply-adds, about
// 5 ms of CPU on the bench machine) and returns its result so the compiler
// keeps it.
func spin() uint64 {
	x := uint64(1)
	for i := range 5_000_000 {
		x = x*6364136223846793005 + uint64(i)
	}
	return x
}

// TestTimedCPU checks the CPU clock: a fixed amount of work costs CPU time
// whatever else the machine does (wall time may be longer), a single thread
// cannot use more CPU than wall time, and sleeping takes wall time but no
// CPU.
func TestTimedCPU(t *testing.T) {
	var sink uint64
	r, err := Timed(context.Background(), 20, 1, func(_, _ int) error { sink += spin(); return nil })
	if err != nil {
		t.Fatal(err)
	}
	// About 100 ms of work: even a machine ten times faster spends 10 ms.
	if r.CPU < 10*time.Millisecond || r.CPUQPS <= 0 {
		t.Errorf("busy run: CPU %v, CPUQPS %.0f (sink %d); want at least 10ms", r.CPU, r.CPUQPS, sink)
	}
	if r.CPU > r.Elapsed+5*time.Millisecond {
		t.Errorf("busy run on one thread: CPU %v exceeds elapsed %v", r.CPU, r.Elapsed)
	}
	r, err = Timed(context.Background(), 20, 1, func(_, _ int) error { time.Sleep(2 * time.Millisecond); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if r.CPU > r.Elapsed/2 {
		t.Errorf("sleeping run: CPU %v of %v elapsed; sleeping should not count", r.CPU, r.Elapsed)
	}
}
