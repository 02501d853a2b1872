//go:build !amd64

package main

// fmaPeakGFLOPS is not measured off amd64.
func fmaPeakGFLOPS() float64 { return 0 }
