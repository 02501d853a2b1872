//go:build amd64 && !purego

package bert

import "unsafe"

//go:noescape
func expSumAVX2(p *float32, n int, mx, scale float32) float32

//go:noescape
func geluAVX2(p *float32, n int)

// expSum sets s[i] = exp((s[i]-mx)·scale) and returns the sum.
func expSum(s []float32, mx, scale float32) float32 {
	n8 := len(s) &^ 7
	if !hasFMA || n8 == 0 {
		return expSumGo(s, mx, scale)
	}
	sum := expSumAVX2(unsafe.SliceData(s), n8, mx, scale)
	return sum + expSumGo(s[n8:], mx, scale)
}

// gelu applies BERT's activation in place.
func gelu(v []float32) {
	n8 := len(v) &^ 7
	if !hasFMA || n8 == 0 {
		geluGo(v)
		return
	}
	geluAVX2(unsafe.SliceData(v), n8)
	geluGo(v[n8:])
}
