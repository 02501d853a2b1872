//go:build !unix

package main

import "time"

type rusage struct {
	ok             bool
	user, sys      time.Duration
	minflt, majflt int64
}

// usage reports nothing where getrusage is missing: opentime then prints
// wall times only.
func usage() rusage { return rusage{} }
