//go:build !amd64 || purego

package index

func dotInt8Arch(a, b []int8) int32  { return dotInt8Generic(a, b) }
func l2sqInt8Arch(a, b []int8) int32 { return l2sqInt8Generic(a, b) }

func dotInt8RowsArch(q, data []int8, dim int, rows []uint32, out []int32) {
	dotInt8RowsGeneric(q, data, dim, rows, out)
}
