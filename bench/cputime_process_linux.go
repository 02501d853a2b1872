package main

import "golang.org/x/sys/unix"

// processCPU is the CPU time the whole process has used, all threads, in
// seconds (0 where the clock is unavailable).
func processCPU() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return float64(ts.Nano()) / 1e9
}
