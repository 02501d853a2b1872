package index

// Exported forms of the distance kernels (distance.go), for code outside
// the indexes that scores many vectors at once, such as k-means in package
// analysis: one set of SIMD kernels serves the whole module. Like copy,
// they panic on inconsistent lengths instead of returning an error; callers
// validate dimensions first.

// DotProduct returns the dot product of a and b, summed exactly as the
// indexes sum it. It panics if b is shorter than a.
func DotProduct(a, b []float32) float32 { return dot32(a, b) }

// SquaredL2 returns the squared Euclidean distance between a and b. It
// panics if b is shorter than a.
func SquaredL2(a, b []float32) float32 { return l2sq32(a, b) }

// DotProductBatch sets out[i] to the dot product of q with row i of rows
// (rows of dim floats, back to back). It panics unless len(q) == dim and
// rows holds at least len(out) rows.
func DotProductBatch(q, rows []float32, dim int, out []float32) { dotBatch(q, rows, dim, out) }

// DotProductBatch4 scores four queries (qs: 4*dim floats, back to back)
// against len(out)/4 rows: out[4*i+j] is the dot product of query j with
// row i. Where the CPU has a four-query kernel (AVX-512) each row is read
// once for the four queries, which is what makes it worth calling; on other
// machines it runs the single-query kernel four times per row. It panics
// unless dim > 0, len(qs) == 4*dim, len(out) is a multiple of 4 and rows
// holds at least len(out)/4 rows.
func DotProductBatch4(qs, rows []float32, dim int, out []float32) {
	if dim <= 0 || len(qs) != 4*dim || len(out)%4 != 0 || len(rows)/dim < len(out)/4 {
		panic("index: four-query kernel called with inconsistent lengths")
	}
	if hasBatch4() {
		batch4Arch(false, qs, rows, dim, out)
		return
	}
	q0, q1, q2, q3 := qs[:dim], qs[dim:2*dim], qs[2*dim:3*dim], qs[3*dim:]
	for i := range len(out) / 4 {
		row := rows[i*dim : (i+1)*dim]
		out[4*i] = dotArch(q0, row)
		out[4*i+1] = dotArch(q1, row)
		out[4*i+2] = dotArch(q2, row)
		out[4*i+3] = dotArch(q3, row)
	}
}
