//go:build !linux

package main

// processCPU is unavailable off Linux; see toolbox_cpu_linux.go.
func processCPU() (float64, bool) { return 0, false }
