//go:build !linux

package main

// limitChildMemory is a no-op where RLIMIT_AS is not available; the child's
// timeout still ends a runaway child.
func limitChildMemory() {}
