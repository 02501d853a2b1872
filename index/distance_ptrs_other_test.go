//go:build !amd64 || purego

package index

func archPtrKernels() []ptrKernel { return nil }
