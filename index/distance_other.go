//go:build !amd64 || purego

package index

// Without amd64 assembly every kernel is the portable Go reference.

func dotArch(a, b []float32) float32  { return dotGeneric(a, b) }
func l2sqArch(a, b []float32) float32 { return l2sqGeneric(a, b) }

func dotBatchArch(q, rows []float32, dim int, out []float32) {
	dotBatchGeneric(q, rows, dim, out)
}

func l2sqBatchArch(q, rows []float32, dim int, out []float32) {
	l2sqBatchGeneric(q, rows, dim, out)
}

func simdName() string { return "generic" }

func hasBatch4() bool { return false }

func batch4Arch(l2 bool, qs, rows []float32, dim int, out []float32) {
	batch4Single(l2, qs, rows, dim, out)
}
