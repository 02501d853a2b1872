//go:build linux

package index

import (
	"syscall"
	"testing"
	"unsafe"
)

// TestKernelsStayInBounds places vectors so they end exactly at a page whose
// access faults. A kernel whose tail handling reads even one element past
// the slice crashes the test binary instead of passing by luck.
func TestKernelsStayInBounds(t *testing.T) {
	page := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	defer func() { _ = syscall.Munmap(mem) }()
	if err := syscall.Mprotect(mem[page:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	floats := unsafe.Slice((*float32)(unsafe.Pointer(&mem[0])), page/4)
	for i := range floats {
		floats[i] = float32(i%13) - 6
	}
	end := len(floats)
	// The four-query kernel with both the rows and the last query ending
	// at the guard page.
	for dim := 1; dim <= 100; dim++ {
		qs := floats[end-4*dim : end]
		rows := floats[end-3*dim : end]
		out := make([]float32, 12)
		for _, l2 := range []bool{false, true} {
			batch4(l2, qs, rows, dim, out)
			want, mag := refDot(qs[3*dim:], rows[2*dim:])
			if l2 {
				want, mag = refL2(qs[3*dim:], rows[2*dim:])
			}
			if !close32(out[11], want, mag, dim) {
				t.Fatalf("batch4 l2=%v dim=%d: got %v want %v", l2, dim, out[11], want)
			}
		}
	}
	for _, k := range allKernels() {
		for n := 0; n <= 300; n++ {
			a := floats[end-n : end]
			b := floats[end-2*n-3 : end-n-3]
			want, mag := refDot(a, b)
			if got := k.dot(a, b); !close32(got, want, mag, n) {
				t.Fatalf("%s dot n=%d: got %v want %v", k.name, n, got, want)
			}
			want, mag = refL2(b, a)
			if got := k.l2sq(b, a); !close32(got, want, mag, n) {
				t.Fatalf("%s l2sq n=%d: got %v want %v", k.name, n, got, want)
			}
			if n > 0 && n <= 100 {
				bytes := mem[:page]
				a8 := unsafe.Slice((*int8)(unsafe.Pointer(&bytes[page-n])), n)
				b8 := unsafe.Slice((*int8)(unsafe.Pointer(&bytes[page-3*n])), n)
				for _, k8 := range allInt8Kernels() {
					d := refInt8(a8, b8)
					if got := k8.dot(a8, b8); int64(got) != d {
						t.Fatalf("%s int8 dot n=%d: got %d want %d", k8.name, n, got, d)
					}
					if got := k8.dot(b8, a8); int64(got) != d {
						t.Fatalf("%s int8 dot (swapped) n=%d: got %d want %d", k8.name, n, got, d)
					}
				}
				rows := floats[end-3*n : end]
				out := make([]float32, 3)
				k.dotBatch(a, rows, n, out)
				k.l2sqBatch(a, rows, n, out)
				k.dotRows(a, rows, n, []uint32{2, 0, 2}, out)
				k.l2sqRows(a, rows, n, []uint32{1, 2, 2}, out)
				if want, mag := refL2(a, rows[2*n:]); !close32(out[2], want, mag, n) {
					t.Fatalf("%s l2sqRows n=%d: got %v want %v", k.name, n, out[2], want)
				}
			}
		}
	}
}
