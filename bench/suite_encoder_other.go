//go:build !linux

package main

import "time"

// Without Linux's per-thread rusage the thread CPU-time figures are left
// out (zero means unknown).
func threadCPUTime() time.Duration { return 0 }
