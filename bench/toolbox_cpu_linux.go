package main

import "golang.org/x/sys/unix"

// processCPU returns the CPU time this process has used (all threads), so
// that a timing taken while other processes load the machine still says
// what the work cost; false where the clock is unavailable.
func processCPU() (float64, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		return 0, false
	}
	return float64(ts.Nano()) / 1e9, true
}
