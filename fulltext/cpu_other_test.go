//go:build !unix

package fulltext

// processCPU reports that the CPU time is unknown here.
func processCPU() (float64, bool) { return 0, false }
