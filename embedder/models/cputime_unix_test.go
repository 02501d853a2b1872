//go:build unix

package models

import (
	"syscall"
	"time"
)

// processCPUTime is the user+system CPU time of this process. Benchmarks
// report sentences per CPU-second next to wall-clock sentences/s because this machine is
// shared: wall time includes waiting for a core, CPU time does not.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
