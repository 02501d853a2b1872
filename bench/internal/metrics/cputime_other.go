//go:build !linux

package metrics

// threadCPU is not available here: runs report no CPU time.
func threadCPU() (int64, bool) { return 0, false }
