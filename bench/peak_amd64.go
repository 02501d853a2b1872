//go:build amd64

package main

import (
	"runtime"

	"golang.org/x/sys/cpu"
)

//go:noescape
func fmaLoopAVX2(n int)

//go:noescape
func fmaLoopAVX512(n int)

// fmaPeakGFLOPS measures one core's float32 FMA peak, in GFLOP per second
// of the thread's CPU time (so other load on the machine does not lower
// it): the best of a few runs of a register-only FMA loop, with AVX-512
// when the CPU has it, else AVX2. 0 when neither is available.
func fmaPeakGFLOPS() float64 {
	loop, lanes := fmaLoopAVX2, 8.0
	switch {
	case cpu.X86.HasAVX512F:
		loop, lanes = fmaLoopAVX512, 16
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
	default:
		return 0
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const n = 20_000_000
	best := 0.0
	for range 5 {
		c0 := threadCPUTime()
		loop(n)
		cpu := (threadCPUTime() - c0).Seconds()
		if cpu <= 0 {
			continue
		}
		best = max(best, n*10*lanes*2/cpu/1e9)
	}
	return best
}
