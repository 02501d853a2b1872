//go:build !amd64 || purego

package index

func dotInt8Arch(a, b []int8) int32 { return dotInt8Generic(a, b) }
