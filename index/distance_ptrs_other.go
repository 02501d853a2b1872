//go:build !amd64 || purego

package index

func dotPtrsArch(q []float32, rows []*float32, out []float32)  { dotPtrsGeneric(q, rows, out) }
func l2sqPtrsArch(q []float32, rows []*float32, out []float32) { l2sqPtrsGeneric(q, rows, out) }

// prefetchLines has no portable form; the hint is simply not given.
func prefetchLines(p *uint32, n int) {}
