//go:build unix

package main

import (
	"syscall"
	"time"
)

type rusage struct {
	ok             bool
	user, sys      time.Duration
	minflt, majflt int64
}

// usage returns the process's CPU time and page faults so far.
func usage() rusage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return rusage{}
	}
	return rusage{ok: true, user: time.Duration(ru.Utime.Nano()), sys: time.Duration(ru.Stime.Nano()),
		minflt: int64(ru.Minflt), majflt: int64(ru.Majflt)}
}
