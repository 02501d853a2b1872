//go:build !linux

package main

import "time"

// Without Linux's per-thread rusage the CPU-time figures are left out
// (zero means unknown).
func processCPU() time.Duration    { return 0 }
func threadCPUTime() time.Duration { return 0 }
