package index

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzKernels feeds arbitrary bit patterns (finite ones, bounded so the
// float64 reference cannot overflow float32) to every float and int8
// kernel, at arbitrary lengths and alignments.
func FuzzKernels(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64}, uint8(0))
	f.Add(make([]byte, 4*70), uint8(3))
	seed := make([]byte, 4*130)
	for i := range seed {
		seed[i] = byte(i * 37)
	}
	f.Add(seed, uint8(17))
	f.Fuzz(func(t *testing.T, raw []byte, split uint8) {
		vals := make([]float32, 0, len(raw)/4)
		for i := 0; i+4 <= len(raw); i += 4 {
			x := math.Float32frombits(binary.LittleEndian.Uint32(raw[i:]))
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) || math.Abs(float64(x)) > 1e15 {
				x = float32(int8(raw[i])) // keep the position, drop the extreme
			}
			vals = append(vals, x)
		}
		off := int(split) % 16
		if off > len(vals) {
			off = len(vals)
		}
		n := (len(vals) - off) / 2
		a, b := vals[off:off+n], vals[off+n:off+2*n]
		for _, k := range allKernels() {
			want, mag := refDot(a, b)
			if got := k.dot(a, b); !close32(got, want, mag, n) {
				t.Fatalf("%s dot n=%d: got %v want %v", k.name, n, got, want)
			}
			want, mag = refL2(a, b)
			if got := k.l2sq(a, b); !close32(got, want, mag, n) {
				t.Fatalf("%s l2sq n=%d: got %v want %v", k.name, n, got, want)
			}
			if n > 0 {
				// The row forms: b as row 1 of a and b back to back.
				var out [2]float32
				k.dotRows(a, vals[off:off+2*n], n, []uint32{1, 0}, out[:])
				if want, mag := refDot(a, b); !close32(out[0], want, mag, n) {
					t.Fatalf("%s dotRows n=%d: got %v want %v", k.name, n, out[0], want)
				}
				k.l2sqRows(a, vals[off:off+2*n], n, []uint32{1, 0}, out[:])
				if want, mag := refL2(a, b); !close32(out[0], want, mag, n) {
					t.Fatalf("%s l2sqRows n=%d: got %v want %v", k.name, n, out[0], want)
				}
			}
		}
		c := make([]int8, len(raw))
		for i, x := range raw {
			c[i] = int8(x)
		}
		off = min(int(split)%32, len(c))
		m := (len(c) - off) / 2
		ca, cb := c[off:off+m], c[off+m:off+2*m]
		d := refInt8(ca, cb)
		for _, k := range allInt8Kernels() {
			if got := k.dot(ca, cb); int64(got) != d {
				t.Fatalf("%s int8 dot m=%d: got %d want %d", k.name, m, got, d)
			}
		}
	})
}
