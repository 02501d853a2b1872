package index

// Distance kernels.
//
// dot32 and l2sq32 are the hot loop of every search, so on amd64 they run
// hand-written AVX-512 or AVX2+FMA assembly (distance_amd64.s); elsewhere,
// or with the purego build tag, the portable Go versions below. The choice
// is made once, while the package initializes, from the CPU's features (see
// simdLevel); nothing changes it afterwards.
//
// The batch forms score one query against many rows stored back to back
// (dotBatch, for scans) or listed by pointer (dotPtrs in distance_ptrs.go,
// for neighbour lists). At 384 dimensions a single kernel call is ~9 ns, so
// the Go call overhead per row is worth amortizing, and dotPtrs also
// overlaps cache misses.
//
// On a given machine every form sums in the same order as dot32 and
// l2sq32, so they return bit-identical results: the exact index and the
// graph rank equal distances the same way, and ties stay ties.

// dot32 returns the dot product of a and b. It panics if b is shorter than
// a; callers validate dimensions before reaching the kernels.
func dot32(a, b []float32) float32 {
	b = b[:len(a)]
	return dotArch(a, b)
}

// l2sq32 returns the squared Euclidean distance between a and b. It panics
// if b is shorter than a.
func l2sq32(a, b []float32) float32 {
	b = b[:len(a)]
	return l2sqArch(a, b)
}

// dotBatch sets out[i] = dot32(q, rows[i*dim:(i+1)*dim]) for every i in
// out. It panics unless len(q) == dim and rows holds at least len(out) rows.
func dotBatch(q, rows []float32, dim int, out []float32) {
	checkBatch(q, rows, dim, out)
	if dim == 0 {
		clear(out)
		return
	}
	dotBatchArch(q, rows, dim, out)
}

// l2sqBatch sets out[i] = l2sq32(q, rows[i*dim:(i+1)*dim]) for every i in
// out, under the same conditions as dotBatch.
func l2sqBatch(q, rows []float32, dim int, out []float32) {
	checkBatch(q, rows, dim, out)
	if dim == 0 {
		clear(out)
		return
	}
	l2sqBatchArch(q, rows, dim, out)
}

// batch4 scores the four queries in qs (4*dim floats, back to back)
// against len(out)/4 rows: out[4*i+j] is query j against row i, by dot
// product or, with l2, squared L2. Flat.SearchBatch uses it to read each
// row once per four queries.
func batch4(l2 bool, qs, rows []float32, dim int, out []float32) {
	if dim <= 0 || len(qs) != 4*dim || len(out)%4 != 0 || len(rows)/dim < len(out)/4 {
		panic("index: four-query kernel called with inconsistent lengths")
	}
	batch4Arch(l2, qs, rows, dim, out)
}

// batch4Single is batch4 where the CPU has no four-query kernel: the
// single-query kernels, four times per row. It must call dot32 and l2sq32
// (the dispatched kernels), not the pure-Go ones: on an AVX2 machine those
// sum in another order, and the four-query form then differed from the
// single one in the last bit (TestFormsBitIdentical, dim 3), breaking the
// promise above.
func batch4Single(l2 bool, qs, rows []float32, dim int, out []float32) {
	for i := range len(out) / 4 {
		row := rows[i*dim : (i+1)*dim]
		for j := range 4 {
			q := qs[j*dim : (j+1)*dim]
			if l2 {
				out[4*i+j] = l2sq32(q, row)
			} else {
				out[4*i+j] = dot32(q, row)
			}
		}
	}
}

func checkBatch(q, rows []float32, dim int, out []float32) {
	if dim < 0 || len(q) != dim || (dim > 0 && len(rows)/dim < len(out)) {
		panic("index: batch kernel called with inconsistent lengths")
	}
}

// dotGeneric is the portable reference every SIMD kernel is tested against.
func dotGeneric(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// l2sqGeneric is the portable reference for squared L2.
func l2sqGeneric(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0 := a[i] - b[i]
		d1 := a[i+1] - b[i+1]
		d2 := a[i+2] - b[i+2]
		d3 := a[i+3] - b[i+3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

func dotBatchGeneric(q, rows []float32, dim int, out []float32) {
	for i := range out {
		out[i] = dotGeneric(q, rows[i*dim:(i+1)*dim])
	}
}

func l2sqBatchGeneric(q, rows []float32, dim int, out []float32) {
	for i := range out {
		out[i] = l2sqGeneric(q, rows[i*dim:(i+1)*dim])
	}
}
