//go:build !linux

package index

import "time"

// threadCPU falls back to wall time where per-thread CPU time is not
// available.
func threadCPU(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

// processCPU is unavailable here; callers print wall time only.
func processCPU() time.Duration { return 0 }
