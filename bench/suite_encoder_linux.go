package main

import (
	"time"

	"golang.org/x/sys/unix"
)

// processCPU is the CPU time of the whole process (ONNX Runtime's threads
// included).
func processCPU() time.Duration { return rusage(unix.RUSAGE_SELF) }

// threadCPUTime is the calling thread's CPU time.
func threadCPUTime() time.Duration { return rusage(unix.RUSAGE_THREAD) }

func rusage(who int) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
