package index

import (
	"runtime"
	"syscall"
	"time"
)

// threadCPU runs f locked to one OS thread and returns the CPU time that
// thread spent. On this shared 2-core machine other jobs steal the core, so
// wall time overstates single-thread cost; CPU time does not.
func threadCPU(f func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var a, b syscall.Rusage
	_ = syscall.Getrusage(1 /* RUSAGE_THREAD */, &a)
	f()
	_ = syscall.Getrusage(1, &b)
	ns := func(r *syscall.Rusage) int64 { return r.Utime.Nano() + r.Stime.Nano() }
	return time.Duration(ns(&b) - ns(&a))
}

// processCPU returns the CPU time used by the whole process so far.
func processCPU() time.Duration {
	var r syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}
