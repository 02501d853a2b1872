//go:build amd64 && !purego

// Hand-written float32 distance kernels for amd64 (see distance_amd64.go for
// why they are hand-written and how one is chosen).
//
// Conventions shared by every kernel below:
//   - arguments are raw pointers plus an element count, so the Go stub does
//     the bounds check once and the call carries 3-5 words;
//   - the main loop consumes 64 floats per iteration into independent
//     accumulators (4 ZMM or 8 YMM), so FMA latency (4 cycles) never limits
//     the two-loads-per-cycle throughput;
//   - tails are handled without scalar code: a 16/8-wide loop, then one
//     masked load (AVX-512 opmask, or VMASKMOVPS on AVX2). Masked-off lanes
//     read as zero and cannot fault, so no byte past the slices is touched.

#include "textflag.h"

// tailmask<> holds eight all-ones int32 lanes followed by eight zero lanes:
// the 8 lanes starting at element 8-r have exactly the first r lanes set.
DATA tailmask<>+0(SB)/4, $0xffffffff
DATA tailmask<>+4(SB)/4, $0xffffffff
DATA tailmask<>+8(SB)/4, $0xffffffff
DATA tailmask<>+12(SB)/4, $0xffffffff
DATA tailmask<>+16(SB)/4, $0xffffffff
DATA tailmask<>+20(SB)/4, $0xffffffff
DATA tailmask<>+24(SB)/4, $0xffffffff
DATA tailmask<>+28(SB)/4, $0xffffffff
DATA tailmask<>+32(SB)/4, $0
DATA tailmask<>+36(SB)/4, $0
DATA tailmask<>+40(SB)/4, $0
DATA tailmask<>+44(SB)/4, $0
DATA tailmask<>+48(SB)/4, $0
DATA tailmask<>+52(SB)/4, $0
DATA tailmask<>+56(SB)/4, $0
DATA tailmask<>+60(SB)/4, $0
GLOBL tailmask<>(SB), RODATA|NOPTR, $64

// REDUCE_Z sums the 16 lanes of Z0 (after folding Z1..Z3 into it) into the
// low lane of X0.
#define REDUCE_Z \
	VADDPS        Z1, Z0, Z0; \
	VADDPS        Z3, Z2, Z2; \
	VADDPS        Z2, Z0, Z0; \
	VEXTRACTF64X4 $1, Z0, Y1; \
	VADDPS        Y1, Y0, Y0; \
	VEXTRACTF128  $1, Y0, X1; \
	VADDPS        X1, X0, X0; \
	VMOVHLPS      X0, X0, X1; \
	VADDPS        X1, X0, X0; \
	VMOVSHDUP     X0, X1; \
	VADDSS        X1, X0, X0

// REDUCE_Y sums Y0..Y7 into the low lane of X0.
#define REDUCE_Y \
	VADDPS       Y1, Y0, Y0; \
	VADDPS       Y3, Y2, Y2; \
	VADDPS       Y5, Y4, Y4; \
	VADDPS       Y7, Y6, Y6; \
	VADDPS       Y2, Y0, Y0; \
	VADDPS       Y6, Y4, Y4; \
	VADDPS       Y4, Y0, Y0; \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS       X1, X0, X0; \
	VMOVHLPS     X0, X0, X1; \
	VADDPS       X1, X0, X0; \
	VMOVSHDUP    X0, X1; \
	VADDSS       X1, X0, X0

#define ZERO_Z \
	VXORPS Z0, Z0, Z0; \
	VXORPS Z1, Z1, Z1; \
	VXORPS Z2, Z2, Z2; \
	VXORPS Z3, Z3, Z3

#define ZERO_Y \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7

// ---------------------------------------------------------------------------
// AVX-512

// func dotAVX512(a, b *float32, n int) float32
TEXT ·dotAVX512(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	ZERO_Z
	CMPQ CX, $64
	JLT  dz_tail16

dz_loop64:
	VMOVUPS     (SI), Z4
	VMOVUPS     64(SI), Z5
	VMOVUPS     128(SI), Z6
	VMOVUPS     192(SI), Z7
	VFMADD231PS (DI), Z4, Z0
	VFMADD231PS 64(DI), Z5, Z1
	VFMADD231PS 128(DI), Z6, Z2
	VFMADD231PS 192(DI), Z7, Z3
	ADDQ        $256, SI
	ADDQ        $256, DI
	SUBQ        $64, CX
	CMPQ        CX, $64
	JGE         dz_loop64

dz_tail16:
	CMPQ        CX, $16
	JLT         dz_tailmask
	VMOVUPS     (SI), Z4
	VFMADD231PS (DI), Z4, Z0
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         dz_tail16

dz_tailmask:
	TESTQ       CX, CX
	JZ          dz_reduce
	MOVL        $1, AX
	SHLL        CX, AX
	DECL        AX
	KMOVW       AX, K1
	VMOVUPS.Z   (SI), K1, Z4
	VMOVUPS.Z   (DI), K1, Z5
	VFMADD231PS Z5, Z4, Z1

dz_reduce:
	REDUCE_Z
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func l2sqAVX512(a, b *float32, n int) float32
TEXT ·l2sqAVX512(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	ZERO_Z
	CMPQ CX, $64
	JLT  lz_tail16

lz_loop64:
	VMOVUPS     (SI), Z4
	VMOVUPS     64(SI), Z5
	VMOVUPS     128(SI), Z6
	VMOVUPS     192(SI), Z7
	VSUBPS      (DI), Z4, Z4
	VSUBPS      64(DI), Z5, Z5
	VSUBPS      128(DI), Z6, Z6
	VSUBPS      192(DI), Z7, Z7
	VFMADD231PS Z4, Z4, Z0
	VFMADD231PS Z5, Z5, Z1
	VFMADD231PS Z6, Z6, Z2
	VFMADD231PS Z7, Z7, Z3
	ADDQ        $256, SI
	ADDQ        $256, DI
	SUBQ        $64, CX
	CMPQ        CX, $64
	JGE         lz_loop64

lz_tail16:
	CMPQ        CX, $16
	JLT         lz_tailmask
	VMOVUPS     (SI), Z4
	VSUBPS      (DI), Z4, Z4
	VFMADD231PS Z4, Z4, Z0
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         lz_tail16

lz_tailmask:
	TESTQ       CX, CX
	JZ          lz_reduce
	MOVL        $1, AX
	SHLL        CX, AX
	DECL        AX
	KMOVW       AX, K1
	VMOVUPS.Z   (SI), K1, Z4
	VMOVUPS.Z   (DI), K1, Z5
	VSUBPS      Z5, Z4, Z4
	VFMADD231PS Z4, Z4, Z1

lz_reduce:
	REDUCE_Z
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotBatchAVX512(q, rows, out *float32, dim, n int)
// out[i] = dot(q, rows[i*dim:(i+1)*dim]) for i < n; requires dim > 0.
TEXT ·dotBatchAVX512(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), R8
	MOVQ rows+8(FP), DI
	MOVQ out+16(FP), DX
	MOVQ dim+24(FP), BX
	MOVQ n+32(FP), R9

	// The tail mask depends only on dim, so build it once.
	MOVQ  BX, CX
	ANDQ  $15, CX
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K1
	TESTQ R9, R9
	JZ    dbz_done

dbz_row:
	MOVQ R8, SI
	MOVQ BX, CX
	ZERO_Z
	CMPQ CX, $64
	JLT  dbz_tail16

dbz_loop64:
	VMOVUPS     (SI), Z4
	VMOVUPS     64(SI), Z5
	VMOVUPS     128(SI), Z6
	VMOVUPS     192(SI), Z7
	VFMADD231PS (DI), Z4, Z0
	VFMADD231PS 64(DI), Z5, Z1
	VFMADD231PS 128(DI), Z6, Z2
	VFMADD231PS 192(DI), Z7, Z3
	ADDQ        $256, SI
	ADDQ        $256, DI
	SUBQ        $64, CX
	CMPQ        CX, $64
	JGE         dbz_loop64

dbz_tail16:
	CMPQ        CX, $16
	JLT         dbz_tailmask
	VMOVUPS     (SI), Z4
	VFMADD231PS (DI), Z4, Z0
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         dbz_tail16

dbz_tailmask:
	TESTQ       CX, CX
	JZ          dbz_reduce
	VMOVUPS.Z   (SI), K1, Z4
	VMOVUPS.Z   (DI), K1, Z5
	VFMADD231PS Z5, Z4, Z1
	LEAQ        (DI)(CX*4), DI

dbz_reduce:
	REDUCE_Z
	MOVSS X0, (DX)
	ADDQ  $4, DX
	DECQ  R9
	JNZ   dbz_row

dbz_done:
	VZEROUPPER
	RET

// func l2sqBatchAVX512(q, rows, out *float32, dim, n int)
TEXT ·l2sqBatchAVX512(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), R8
	MOVQ rows+8(FP), DI
	MOVQ out+16(FP), DX
	MOVQ dim+24(FP), BX
	MOVQ n+32(FP), R9

	MOVQ  BX, CX
	ANDQ  $15, CX
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K1
	TESTQ R9, R9
	JZ    lbz_done

lbz_row:
	MOVQ R8, SI
	MOVQ BX, CX
	ZERO_Z
	CMPQ CX, $64
	JLT  lbz_tail16

lbz_loop64:
	VMOVUPS     (SI), Z4
	VMOVUPS     64(SI), Z5
	VMOVUPS     128(SI), Z6
	VMOVUPS     192(SI), Z7
	VSUBPS      (DI), Z4, Z4
	VSUBPS      64(DI), Z5, Z5
	VSUBPS      128(DI), Z6, Z6
	VSUBPS      192(DI), Z7, Z7
	VFMADD231PS Z4, Z4, Z0
	VFMADD231PS Z5, Z5, Z1
	VFMADD231PS Z6, Z6, Z2
	VFMADD231PS Z7, Z7, Z3
	ADDQ        $256, SI
	ADDQ        $256, DI
	SUBQ        $64, CX
	CMPQ        CX, $64
	JGE         lbz_loop64

lbz_tail16:
	CMPQ        CX, $16
	JLT         lbz_tailmask
	VMOVUPS     (SI), Z4
	VSUBPS      (DI), Z4, Z4
	VFMADD231PS Z4, Z4, Z0
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         lbz_tail16

lbz_tailmask:
	TESTQ       CX, CX
	JZ          lbz_reduce
	VMOVUPS.Z   (SI), K1, Z4
	VMOVUPS.Z   (DI), K1, Z5
	VSUBPS      Z5, Z4, Z4
	VFMADD231PS Z4, Z4, Z1
	LEAQ        (DI)(CX*4), DI

lbz_reduce:
	REDUCE_Z
	MOVSS X0, (DX)
	ADDQ  $4, DX
	DECQ  R9
	JNZ   lbz_row

lbz_done:
	VZEROUPPER
	RET

// ---------------------------------------------------------------------------
// AVX2 + FMA

// func dotAVX2(a, b *float32, n int) float32
TEXT ·dotAVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	ZERO_Y
	CMPQ CX, $64
	JLT  dy_tail8

dy_loop64:
	VMOVUPS     (SI), Y8
	VMOVUPS     32(SI), Y9
	VMOVUPS     64(SI), Y10
	VMOVUPS     96(SI), Y11
	VMOVUPS     128(SI), Y12
	VMOVUPS     160(SI), Y13
	VMOVUPS     192(SI), Y14
	VMOVUPS     224(SI), Y15
	VFMADD231PS (DI), Y8, Y0
	VFMADD231PS 32(DI), Y9, Y1
	VFMADD231PS 64(DI), Y10, Y2
	VFMADD231PS 96(DI), Y11, Y3
	VFMADD231PS 128(DI), Y12, Y4
	VFMADD231PS 160(DI), Y13, Y5
	VFMADD231PS 192(DI), Y14, Y6
	VFMADD231PS 224(DI), Y15, Y7
	ADDQ        $256, SI
	ADDQ        $256, DI
	SUBQ        $64, CX
	CMPQ        CX, $64
	JGE         dy_loop64

dy_tail8:
	CMPQ        CX, $8
	JLT         dy_tailmask
	VMOVUPS     (SI), Y8
	VFMADD231PS (DI), Y8, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         dy_tail8

dy_tailmask:
	TESTQ       CX, CX
	JZ          dy_reduce
	LEAQ        tailmask<>(SB), AX
	MOVQ        $8, DX
	SUBQ        CX, DX
	VMOVDQU     (AX)(DX*4), Y10
	VMASKMOVPS  (SI), Y10, Y8
	VMASKMOVPS  (DI), Y10, Y9
	VFMADD231PS Y9, Y8, Y1

dy_reduce:
	REDUCE_Y
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func l2sqAVX2(a, b *float32, n int) float32
TEXT ·l2sqAVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	ZERO_Y
	CMPQ CX, $64
	JLT  ly_tail8

ly_loop64:
	VMOVUPS     (SI), Y8
	VMOVUPS     32(SI), Y9
	VMOVUPS     64(SI), Y10
	VMOVUPS     96(SI), Y11
	VMOVUPS     128(SI), Y12
	VMOVUPS     160(SI), Y13
	VMOVUPS     192(SI), Y14
	VMOVUPS     224(SI), Y15
	VSUBPS      (DI), Y8, Y8
	VSUBPS      32(DI), Y9, Y9
	VSUBPS      64(DI), Y10, Y10
	VSUBPS      96(DI), Y11, Y11
	VSUBPS      128(DI), Y12, Y12
	VSUBPS      160(DI), Y13, Y13
	VSUBPS      192(DI), Y14, Y14
	VSUBPS      224(DI), Y15, Y15
	VFMADD231PS Y8, Y8, Y0
	VFMADD231PS Y9, Y9, Y1
	VFMADD231PS Y10, Y10, Y2
	VFMADD231PS Y11, Y11, Y3
	VFMADD231PS Y12, Y12, Y4
	VFMADD231PS Y13, Y13, Y5
	VFMADD231PS Y14, Y14, Y6
	VFMADD231PS Y15, Y15, Y7
	ADDQ        $256, SI
	ADDQ        $256, DI
	SUBQ        $64, CX
	CMPQ        CX, $64
	JGE         ly_loop64

ly_tail8:
	CMPQ        CX, $8
	JLT         ly_tailmask
	VMOVUPS     (SI), Y8
	VSUBPS      (DI), Y8, Y8
	VFMADD231PS Y8, Y8, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         ly_tail8

ly_tailmask:
	TESTQ       CX, CX
	JZ          ly_reduce
	LEAQ        tailmask<>(SB), AX
	MOVQ        $8, DX
	SUBQ        CX, DX
	VMOVDQU     (AX)(DX*4), Y10
	VMASKMOVPS  (SI), Y10, Y8
	VMASKMOVPS  (DI), Y10, Y9
	VSUBPS      Y9, Y8, Y8
	VFMADD231PS Y8, Y8, Y1

ly_reduce:
	REDUCE_Y
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotBatchAVX2(q, rows, out *float32, dim, n int)
TEXT ·dotBatchAVX2(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), R8
	MOVQ rows+8(FP), DI
	MOVQ out+16(FP), DX
	MOVQ dim+24(FP), BX
	MOVQ n+32(FP), R9

	// R10 points at the 8-lane tail mask for dim%8 (built once per call).
	MOVQ  BX, CX
	ANDQ  $7, CX
	MOVQ  $8, AX
	SUBQ  CX, AX
	LEAQ  tailmask<>(SB), R10
	LEAQ  (R10)(AX*4), R10
	TESTQ R9, R9
	JZ    dby_done

dby_row:
	MOVQ R8, SI
	MOVQ BX, CX
	ZERO_Y
	CMPQ CX, $64
	JLT  dby_tail8

dby_loop64:
	VMOVUPS     (SI), Y8
	VMOVUPS     32(SI), Y9
	VMOVUPS     64(SI), Y10
	VMOVUPS     96(SI), Y11
	VMOVUPS     128(SI), Y12
	VMOVUPS     160(SI), Y13
	VMOVUPS     192(SI), Y14
	VMOVUPS     224(SI), Y15
	VFMADD231PS (DI), Y8, Y0
	VFMADD231PS 32(DI), Y9, Y1
	VFMADD231PS 64(DI), Y10, Y2
	VFMADD231PS 96(DI), Y11, Y3
	VFMADD231PS 128(DI), Y12, Y4
	VFMADD231PS 160(DI), Y13, Y5
	VFMADD231PS 192(DI), Y14, Y6
	VFMADD231PS 224(DI), Y15, Y7
	ADDQ        $256, SI
	ADDQ        $256, DI
	SUBQ        $64, CX
	CMPQ        CX, $64
	JGE         dby_loop64

dby_tail8:
	CMPQ        CX, $8
	JLT         dby_tailmask
	VMOVUPS     (SI), Y8
	VFMADD231PS (DI), Y8, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         dby_tail8

dby_tailmask:
	TESTQ       CX, CX
	JZ          dby_reduce
	VMOVDQU     (R10), Y10
	VMASKMOVPS  (SI), Y10, Y8
	VMASKMOVPS  (DI), Y10, Y9
	VFMADD231PS Y9, Y8, Y1
	LEAQ        (DI)(CX*4), DI

dby_reduce:
	REDUCE_Y
	MOVSS X0, (DX)
	ADDQ  $4, DX
	DECQ  R9
	JNZ   dby_row

dby_done:
	VZEROUPPER
	RET

// func l2sqBatchAVX2(q, rows, out *float32, dim, n int)
TEXT ·l2sqBatchAVX2(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), R8
	MOVQ rows+8(FP), DI
	MOVQ out+16(FP), DX
	MOVQ dim+24(FP), BX
	MOVQ n+32(FP), R9

	MOVQ  BX, CX
	ANDQ  $7, CX
	MOVQ  $8, AX
	SUBQ  CX, AX
	LEAQ  tailmask<>(SB), R10
	LEAQ  (R10)(AX*4), R10
	TESTQ R9, R9
	JZ    lby_done

lby_row:
	MOVQ R8, SI
	MOVQ BX, CX
	ZERO_Y
	CMPQ CX, $64
	JLT  lby_tail8

lby_loop64:
	VMOVUPS     (SI), Y8
	VMOVUPS     32(SI), Y9
	VMOVUPS     64(SI), Y10
	VMOVUPS     96(SI), Y11
	VMOVUPS     128(SI), Y12
	VMOVUPS     160(SI), Y13
	VMOVUPS     192(SI), Y14
	VMOVUPS     224(SI), Y15
	VSUBPS      (DI), Y8, Y8
	VSUBPS      32(DI), Y9, Y9
	VSUBPS      64(DI), Y10, Y10
	VSUBPS      96(DI), Y11, Y11
	VSUBPS      128(DI), Y12, Y12
	VSUBPS      160(DI), Y13, Y13
	VSUBPS      192(DI), Y14, Y14
	VSUBPS      224(DI), Y15, Y15
	VFMADD231PS Y8, Y8, Y0
	VFMADD231PS Y9, Y9, Y1
	VFMADD231PS Y10, Y10, Y2
	VFMADD231PS Y11, Y11, Y3
	VFMADD231PS Y12, Y12, Y4
	VFMADD231PS Y13, Y13, Y5
	VFMADD231PS Y14, Y14, Y6
	VFMADD231PS Y15, Y15, Y7
	ADDQ        $256, SI
	ADDQ        $256, DI
	SUBQ        $64, CX
	CMPQ        CX, $64
	JGE         lby_loop64

lby_tail8:
	CMPQ        CX, $8
	JLT         lby_tailmask
	VMOVUPS     (SI), Y8
	VSUBPS      (DI), Y8, Y8
	VFMADD231PS Y8, Y8, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         lby_tail8

lby_tailmask:
	TESTQ       CX, CX
	JZ          lby_reduce
	VMOVDQU     (R10), Y10
	VMASKMOVPS  (SI), Y10, Y8
	VMASKMOVPS  (DI), Y10, Y9
	VSUBPS      Y9, Y8, Y8
	VFMADD231PS Y8, Y8, Y1
	LEAQ        (DI)(CX*4), DI

lby_reduce:
	REDUCE_Y
	MOVSS X0, (DX)
	ADDQ  $4, DX
	DECQ  R9
	JNZ   lby_row

lby_done:
	VZEROUPPER
	RET

// ---------------------------------------------------------------------------
// Four queries per pass: each chunk of a row is loaded once and multiplied
// with the matching chunk of four queries, so a batch scan does 5 loads per
// 4 FMAs instead of 8 and reads the block of rows once per 4 queries. The
// accumulator layout (4 per query, 64 floats per iteration, tails into the
// same lanes) and the reduction order are those of the one-query kernels,
// so Flat.SearchBatch returns exactly what Flat.Search returns.

// HSUM_Z reduces the 16 lanes of zmm z (whose ymm/xmm aliases are y, x)
// into the low lane of x, using t/tx as scratch, in REDUCE_Z's order.
#define HSUM_Z(z, y, x, t, tx) \
	VEXTRACTF64X4 $1, z, t; \
	VADDPS        t, y, y; \
	VEXTRACTF128  $1, y, tx; \
	VADDPS        tx, x, x; \
	VMOVHLPS      x, x, tx; \
	VADDPS        tx, x, x; \
	VMOVSHDUP     x, tx; \
	VADDSS        tx, x, x

// func dotBatch4AVX512(qs, rows, out *float32, dim, n int)
// qs holds 4 queries of dim floats back to back; for i < n and j < 4,
// out[4*i+j] = dot(qs[j*dim:(j+1)*dim], rows[i*dim:(i+1)*dim]). dim > 0.
TEXT ·dotBatch4AVX512(SB), NOSPLIT, $0-40
	MOVQ qs+0(FP), R8
	MOVQ rows+8(FP), DI
	MOVQ out+16(FP), DX
	MOVQ dim+24(FP), BX
	MOVQ n+32(FP), R9

	MOVQ  BX, CX
	ANDQ  $15, CX
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K1
	MOVQ  BX, R10
	SHLQ  $2, R10           // query stride in bytes
	LEAQ  (R10)(R10*2), R11 // 3 * stride
	TESTQ R9, R9
	JZ    d4_done

d4_row:
	MOVQ R8, SI
	MOVQ BX, CX
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	VXORPS Z8, Z8, Z8
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	VXORPS Z12, Z12, Z12
	VXORPS Z13, Z13, Z13
	VXORPS Z14, Z14, Z14
	VXORPS Z15, Z15, Z15
	CMPQ CX, $64
	JLT  d4_tail16

d4_loop64:
	VMOVUPS (DI), Z16
	VMOVUPS 64(DI), Z17
	VMOVUPS 128(DI), Z18
	VMOVUPS 192(DI), Z19
	VFMADD231PS (SI), Z16, Z0
	VFMADD231PS 64(SI), Z17, Z1
	VFMADD231PS 128(SI), Z18, Z2
	VFMADD231PS 192(SI), Z19, Z3
	VFMADD231PS (SI)(R10*1), Z16, Z4
	VFMADD231PS 64(SI)(R10*1), Z17, Z5
	VFMADD231PS 128(SI)(R10*1), Z18, Z6
	VFMADD231PS 192(SI)(R10*1), Z19, Z7
	VFMADD231PS (SI)(R10*2), Z16, Z8
	VFMADD231PS 64(SI)(R10*2), Z17, Z9
	VFMADD231PS 128(SI)(R10*2), Z18, Z10
	VFMADD231PS 192(SI)(R10*2), Z19, Z11
	VFMADD231PS (SI)(R11*1), Z16, Z12
	VFMADD231PS 64(SI)(R11*1), Z17, Z13
	VFMADD231PS 128(SI)(R11*1), Z18, Z14
	VFMADD231PS 192(SI)(R11*1), Z19, Z15
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $64, CX
	CMPQ CX, $64
	JGE  d4_loop64

d4_tail16:
	CMPQ CX, $16
	JLT  d4_tailmask
	VMOVUPS (DI), Z16
	VFMADD231PS (SI), Z16, Z0
	VFMADD231PS (SI)(R10*1), Z16, Z4
	VFMADD231PS (SI)(R10*2), Z16, Z8
	VFMADD231PS (SI)(R11*1), Z16, Z12
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  d4_tail16

d4_tailmask:
	TESTQ CX, CX
	JZ    d4_reduce
	VMOVUPS.Z (DI), K1, Z16
	VMOVUPS.Z (SI), K1, Z20
	VMOVUPS.Z (SI)(R10*1), K1, Z21
	VMOVUPS.Z (SI)(R10*2), K1, Z22
	VMOVUPS.Z (SI)(R11*1), K1, Z23
	VFMADD231PS Z20, Z16, Z1
	VFMADD231PS Z21, Z16, Z5
	VFMADD231PS Z22, Z16, Z9
	VFMADD231PS Z23, Z16, Z13
	LEAQ (DI)(CX*4), DI

d4_reduce:
	// Same association as REDUCE_Z, so results match the one-query kernels bit for bit.
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	HSUM_Z(Z0, Y0, X0, Y1, X1)
	VADDPS Z5, Z4, Z4
	VADDPS Z7, Z6, Z6
	VADDPS Z6, Z4, Z4
	HSUM_Z(Z4, Y4, X4, Y5, X5)
	VADDPS Z9, Z8, Z8
	VADDPS Z11, Z10, Z10
	VADDPS Z10, Z8, Z8
	HSUM_Z(Z8, Y8, X8, Y9, X9)
	VADDPS Z13, Z12, Z12
	VADDPS Z15, Z14, Z14
	VADDPS Z14, Z12, Z12
	HSUM_Z(Z12, Y12, X12, Y13, X13)
	MOVSS X0, (DX)
	MOVSS X4, 4(DX)
	MOVSS X8, 8(DX)
	MOVSS X12, 12(DX)
	ADDQ $16, DX
	DECQ R9
	JNZ  d4_row

d4_done:
	VZEROUPPER
	RET

// func l2sqBatch4AVX512(qs, rows, out *float32, dim, n int)
// As dotBatch4AVX512, for squared L2.
TEXT ·l2sqBatch4AVX512(SB), NOSPLIT, $0-40
	MOVQ qs+0(FP), R8
	MOVQ rows+8(FP), DI
	MOVQ out+16(FP), DX
	MOVQ dim+24(FP), BX
	MOVQ n+32(FP), R9

	MOVQ  BX, CX
	ANDQ  $15, CX
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K1
	MOVQ  BX, R10
	SHLQ  $2, R10           // query stride in bytes
	LEAQ  (R10)(R10*2), R11 // 3 * stride
	TESTQ R9, R9
	JZ    l4_done

l4_row:
	MOVQ R8, SI
	MOVQ BX, CX
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	VXORPS Z8, Z8, Z8
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	VXORPS Z12, Z12, Z12
	VXORPS Z13, Z13, Z13
	VXORPS Z14, Z14, Z14
	VXORPS Z15, Z15, Z15
	CMPQ CX, $64
	JLT  l4_tail16

l4_loop64:
	VMOVUPS (DI), Z16
	VMOVUPS 64(DI), Z17
	VMOVUPS 128(DI), Z18
	VMOVUPS 192(DI), Z19
	VSUBPS      (SI), Z16, Z20
	VSUBPS      64(SI), Z17, Z21
	VSUBPS      128(SI), Z18, Z22
	VSUBPS      192(SI), Z19, Z23
	VFMADD231PS Z20, Z20, Z0
	VFMADD231PS Z21, Z21, Z1
	VFMADD231PS Z22, Z22, Z2
	VFMADD231PS Z23, Z23, Z3
	VSUBPS      (SI)(R10*1), Z16, Z20
	VSUBPS      64(SI)(R10*1), Z17, Z21
	VSUBPS      128(SI)(R10*1), Z18, Z22
	VSUBPS      192(SI)(R10*1), Z19, Z23
	VFMADD231PS Z20, Z20, Z4
	VFMADD231PS Z21, Z21, Z5
	VFMADD231PS Z22, Z22, Z6
	VFMADD231PS Z23, Z23, Z7
	VSUBPS      (SI)(R10*2), Z16, Z20
	VSUBPS      64(SI)(R10*2), Z17, Z21
	VSUBPS      128(SI)(R10*2), Z18, Z22
	VSUBPS      192(SI)(R10*2), Z19, Z23
	VFMADD231PS Z20, Z20, Z8
	VFMADD231PS Z21, Z21, Z9
	VFMADD231PS Z22, Z22, Z10
	VFMADD231PS Z23, Z23, Z11
	VSUBPS      (SI)(R11*1), Z16, Z20
	VSUBPS      64(SI)(R11*1), Z17, Z21
	VSUBPS      128(SI)(R11*1), Z18, Z22
	VSUBPS      192(SI)(R11*1), Z19, Z23
	VFMADD231PS Z20, Z20, Z12
	VFMADD231PS Z21, Z21, Z13
	VFMADD231PS Z22, Z22, Z14
	VFMADD231PS Z23, Z23, Z15
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $64, CX
	CMPQ CX, $64
	JGE  l4_loop64

l4_tail16:
	CMPQ CX, $16
	JLT  l4_tailmask
	VMOVUPS (DI), Z16
	VSUBPS      (SI), Z16, Z20
	VFMADD231PS Z20, Z20, Z0
	VSUBPS      (SI)(R10*1), Z16, Z20
	VFMADD231PS Z20, Z20, Z4
	VSUBPS      (SI)(R10*2), Z16, Z20
	VFMADD231PS Z20, Z20, Z8
	VSUBPS      (SI)(R11*1), Z16, Z20
	VFMADD231PS Z20, Z20, Z12
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  l4_tail16

l4_tailmask:
	TESTQ CX, CX
	JZ    l4_reduce
	VMOVUPS.Z (DI), K1, Z16
	VMOVUPS.Z (SI), K1, Z20
	VMOVUPS.Z (SI)(R10*1), K1, Z21
	VMOVUPS.Z (SI)(R10*2), K1, Z22
	VMOVUPS.Z (SI)(R11*1), K1, Z23
	VSUBPS      Z20, Z16, Z20
	VFMADD231PS Z20, Z20, Z1
	VSUBPS      Z21, Z16, Z21
	VFMADD231PS Z21, Z21, Z5
	VSUBPS      Z22, Z16, Z22
	VFMADD231PS Z22, Z22, Z9
	VSUBPS      Z23, Z16, Z23
	VFMADD231PS Z23, Z23, Z13
	LEAQ (DI)(CX*4), DI

l4_reduce:
	// Same association as REDUCE_Z, so results match the one-query kernels bit for bit.
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	HSUM_Z(Z0, Y0, X0, Y1, X1)
	VADDPS Z5, Z4, Z4
	VADDPS Z7, Z6, Z6
	VADDPS Z6, Z4, Z4
	HSUM_Z(Z4, Y4, X4, Y5, X5)
	VADDPS Z9, Z8, Z8
	VADDPS Z11, Z10, Z10
	VADDPS Z10, Z8, Z8
	HSUM_Z(Z8, Y8, X8, Y9, X9)
	VADDPS Z13, Z12, Z12
	VADDPS Z15, Z14, Z14
	VADDPS Z14, Z12, Z12
	HSUM_Z(Z12, Y12, X12, Y13, X13)
	MOVSS X0, (DX)
	MOVSS X4, 4(DX)
	MOVSS X8, 8(DX)
	MOVSS X12, 12(DX)
	ADDQ $16, DX
	DECQ R9
	JNZ  l4_row

l4_done:
	VZEROUPPER
	RET
