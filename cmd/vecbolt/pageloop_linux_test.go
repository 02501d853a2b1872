package main

import "syscall"

// limitChildMemory caps the address space of a child process of
// TestDamagedTreesNeverKill: on a file with a cycle, bbolt's cursor (before
// the walk at open) appends to its page stack forever, and without a cap
// that grows until the kernel's OOM killer ends it minutes later, starving
// everything else on the machine. With one it dies at once.
func limitChildMemory() {
	lim := syscall.Rlimit{Cur: 2 << 30, Max: 2 << 30}
	_ = syscall.Setrlimit(syscall.RLIMIT_AS, &lim)
}
