package main

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadCPUTime is the calling thread's CPU time (processCPU, in
// toolbox_cpu_linux.go, is the whole process's).
func threadCPUTime() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
