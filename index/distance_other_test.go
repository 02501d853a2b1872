//go:build !amd64 || purego

package index

func archKernels() []kernelSet { return nil }

func archInt8Kernels() []int8KernelSet { return nil }
