package bert

// Matrix products of the encoder. Every product has the form
//
//	C[m×n] += A[m×k] · B[k×n]
//
// with A and C row-major at strides lda and ldc, and B given as a sequence of
// 16-column panels: panel p starts at b[p*panelStride] and its row r at
// +r*ldb. A weight matrix is packed at load time into contiguous panels
// (panelStride = 16k, ldb = 16) so the kernel streams it sequentially; an
// activation matrix (the attention's keys and values) is used in place
// (panelStride = 16, ldb = its row stride).
//
// The work is cut into blocks of kBlock rows of B by mBlock rows of A, so a
// panel's block (kBlock×16 floats, 16 KB) stays in L1 while the A block (at
// most 64 KB) stays in L2 across all panels. Within a block a 4×16 kernel
// keeps its 4×16 results in eight registers for the whole k range (the
// loads of B are shared by four rows, the broadcasts of A by sixteen
// columns); kernels are chosen once at start-up (kernels_amd64.go).

const (
	panelWidth = 16
	kBlock     = 256
	mBlock     = 64
)

// bMatrix describes B for gemm.
type bMatrix struct {
	data        []float32
	panelStride int // offset between consecutive 16-column panels
	ldb         int // offset between consecutive rows within a panel
}

// at returns B[r][c].
func (b bMatrix) at(r, c int) float32 {
	return b.data[(c/panelWidth)*b.panelStride+r*b.ldb+c%panelWidth]
}

// gemm computes C += A·B (see the file comment for the layouts). Bounds are
// checked here once, so the kernels can take raw pointers.
func gemm(m, n, k int, a []float32, lda int, b bMatrix, c []float32, ldc int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	if len(a) < (m-1)*lda+k || len(c) < (m-1)*ldc+n {
		panic("bert: gemm operand too short")
	}
	full := n / panelWidth
	if full > 0 {
		last := (full-1)*b.panelStride + (k-1)*b.ldb + panelWidth
		if len(b.data) < last {
			panic("bert: gemm B operand too short")
		}
	}
	use8 := has8x16()
	for k0 := 0; k0 < k; k0 += kBlock {
		kc := min(kBlock, k-k0)
		for m0 := 0; m0 < m; m0 += mBlock {
			mc := min(mBlock, m-m0)
			for p := 0; p < full; p++ {
				bp := b.data[p*b.panelStride+k0*b.ldb:]
				cp := c[m0*ldc+p*panelWidth:]
				ap := a[m0*lda+k0:]
				i := 0
				if use8 {
					for ; i+8 <= mc; i += 8 {
						kernel8x16(ap[i*lda:], lda, bp, b.ldb, cp[i*ldc:], ldc, kc)
					}
				}
				for ; i+4 <= mc; i += 4 {
					kernel4x16(ap[i*lda:], lda, bp, b.ldb, cp[i*ldc:], ldc, kc)
				}
				for ; i < mc; i++ {
					kernel1x16(ap[i*lda:], bp, b.ldb, cp[i*ldc:], kc)
				}
			}
		}
	}
	// Columns past the last full panel (none for BERT's hidden sizes and
	// head widths, all multiples of 16).
	for j := full * panelWidth; j < n; j++ {
		for i := 0; i < m; i++ {
			var s float32
			for kk := 0; kk < k; kk++ {
				s += a[i*lda+kk] * b.at(kk, j)
			}
			c[i*ldc+j] += s
		}
	}
}

// kernel4x16Go is the portable 4×16 kernel: C[0:4][0:16] += A[0:4][0:k] ·
// B[0:k][0:16]. It is the reference the assembly kernels are tested
// against, and the kernel of purego builds and other architectures.
func kernel4x16Go(a []float32, lda int, b []float32, ldb int, c []float32, ldc int, k int) {
	var acc [4][panelWidth]float32
	for r := range 4 {
		copy(acc[r][:], c[r*ldc:r*ldc+panelWidth])
	}
	for kk := 0; kk < k; kk++ {
		brow := (*[panelWidth]float32)(b[kk*ldb : kk*ldb+panelWidth])
		for r := range 4 {
			x := a[r*lda+kk]
			for j, bv := range brow {
				acc[r][j] += x * bv
			}
		}
	}
	for r := range 4 {
		copy(c[r*ldc:r*ldc+panelWidth], acc[r][:])
	}
}

// kernel1x16Go is the one-row form of kernel4x16Go, for the rows left over.
func kernel1x16Go(a []float32, b []float32, ldb int, c []float32, k int) {
	var acc [panelWidth]float32
	copy(acc[:], c[:panelWidth])
	for kk := 0; kk < k; kk++ {
		brow := (*[panelWidth]float32)(b[kk*ldb : kk*ldb+panelWidth])
		x := a[kk]
		for j, bv := range brow {
			acc[j] += x * bv
		}
	}
	copy(c[:panelWidth], acc[:])
}

// packPanels lays out W (out×in, as a PyTorch Linear stores it) as the
// panels of B = Wᵀ (in×out): panel p holds columns 16p..16p+15 of B, row by
// row, zero-padded past out.
func packPanels(w []float32, out, in int) []float32 {
	np := (out + panelWidth - 1) / panelWidth
	dst := make([]float32, np*in*panelWidth)
	for o := 0; o < out; o++ {
		p, j := o/panelWidth, o%panelWidth
		base := p * in * panelWidth
		row := w[o*in : (o+1)*in]
		for kk, v := range row {
			dst[base+kk*panelWidth+j] = v
		}
	}
	return dst
}
