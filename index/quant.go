package index

// int8 kernels, for HNSW graphs built WithInt8 (see hnsw_int8.go for the
// encoding). They are exact integer arithmetic; on amd64 they run
// AVX-512BW or AVX2 assembly.

// dotInt8 returns the exact dot product of two int8 vectors. It panics if b
// is shorter than a. The int32 result cannot overflow below 131,072
// dimensions.
func dotInt8(a, b []int8) int32 {
	b = b[:len(a)]
	return dotInt8Arch(a, b)
}

func dotInt8Generic(a, b []int8) int32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += int32(a[i]) * int32(b[i])
		s1 += int32(a[i+1]) * int32(b[i+1])
		s2 += int32(a[i+2]) * int32(b[i+2])
		s3 += int32(a[i+3]) * int32(b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += int32(a[i]) * int32(b[i])
	}
	return s0 + s1 + s2 + s3
}
