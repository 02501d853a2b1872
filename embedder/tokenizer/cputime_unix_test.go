//go:build unix

package tokenizer

import (
	"syscall"
	"time"
)

// processCPUTime is the user+system CPU time of this process. Benchmarks
// report MB per CPU-second next to wall-clock MB/s because this machine is
// shared: wall time includes waiting for a core, CPU time does not.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
