//go:build amd64 && !purego

// Pointer-list kernels: score one query against rows given by address, as a
// graph search does for the unvisited neighbours of one node (whose vectors
// lie in different segments). They exist for memory-level parallelism, not
// arithmetic: a 384-dim row is 24 cache lines that are almost never cached,
// so before scoring anything the kernel touches the first line of every
// listed row (their DRAM and TLB misses overlap), and while it scores row i
// it prefetches all of row i+1, so the next row streams in under the FMAs
// instead of after them. One call per neighbour list also replaces one Go
// call per neighbour.
//
// The accumulator layout, tails and reduction order are those of dotAVX512,
// l2sqAVX512, dotAVX2 and l2sqAVX2 (distance_amd64.s), so every form returns
// bit-identical results and the graph ranks exactly as before.

#include "textflag.h"

// ptailmask<> is distance_amd64.s's tailmask<> (symbols with <> are local
// to their file): eight all-ones int32 lanes, then eight zero lanes.
DATA ptailmask<>+0(SB)/4, $0xffffffff
DATA ptailmask<>+4(SB)/4, $0xffffffff
DATA ptailmask<>+8(SB)/4, $0xffffffff
DATA ptailmask<>+12(SB)/4, $0xffffffff
DATA ptailmask<>+16(SB)/4, $0xffffffff
DATA ptailmask<>+20(SB)/4, $0xffffffff
DATA ptailmask<>+24(SB)/4, $0xffffffff
DATA ptailmask<>+28(SB)/4, $0xffffffff
DATA ptailmask<>+32(SB)/4, $0
DATA ptailmask<>+36(SB)/4, $0
DATA ptailmask<>+40(SB)/4, $0
DATA ptailmask<>+44(SB)/4, $0
DATA ptailmask<>+48(SB)/4, $0
DATA ptailmask<>+52(SB)/4, $0
DATA ptailmask<>+56(SB)/4, $0
DATA ptailmask<>+60(SB)/4, $0
GLOBL ptailmask<>(SB), RODATA|NOPTR, $64

// PREDUCE_Z and PREDUCE_Y are REDUCE_Z and REDUCE_Y of distance_amd64.s.
#define PREDUCE_Z \
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

#define PREDUCE_Y \
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

// ---------------------------------------------------------------------------
// AVX-512

// func dotPtrsAVX512(q *float32, rows **float32, out *float32, dim, n int)
// out[i] = dot(q, rows[i][:dim]) for i < n; requires dim > 0.
TEXT ·dotPtrsAVX512(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), R8
	MOVQ rows+8(FP), R13
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
	JZ    dpz_done

	// First line of every row, so their misses overlap.
	XORQ R11, R11

dpz_pf:
	MOVQ       (R13)(R11*8), AX
	PREFETCHT0 (AX)
	INCQ       R11
	CMPQ       R11, R9
	JLT        dpz_pf

dpz_row:
	MOVQ (R13), DI
	// R14 walks the next row (this one again on the last) for prefetches.
	MOVQ DI, R14
	CMPQ R9, $1
	JEQ  dpz_last
	MOVQ 8(R13), R14

dpz_last:
	MOVQ R8, SI
	MOVQ BX, CX
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	CMPQ   CX, $64
	JLT    dpz_tail16

dpz_loop64:
	PREFETCHT0  (R14)
	PREFETCHT0  64(R14)
	PREFETCHT0  128(R14)
	PREFETCHT0  192(R14)
	ADDQ        $256, R14
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
	JGE         dpz_loop64

dpz_tail16:
	CMPQ        CX, $16
	JLT         dpz_tailmask
	VMOVUPS     (SI), Z4
	VFMADD231PS (DI), Z4, Z0
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         dpz_tail16

dpz_tailmask:
	TESTQ       CX, CX
	JZ          dpz_reduce
	VMOVUPS.Z   (SI), K1, Z4
	VMOVUPS.Z   (DI), K1, Z5
	VFMADD231PS Z5, Z4, Z1

dpz_reduce:
	PREDUCE_Z
	MOVSS X0, (DX)
	ADDQ  $4, DX
	ADDQ  $8, R13
	DECQ  R9
	JNZ   dpz_row

dpz_done:
	VZEROUPPER
	RET

// func l2sqPtrsAVX512(q *float32, rows **float32, out *float32, dim, n int)
// out[i] = squared L2(q, rows[i][:dim]) for i < n; requires dim > 0.
TEXT ·l2sqPtrsAVX512(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), R8
	MOVQ rows+8(FP), R13
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
	JZ    lpz_done

	// First line of every row, so their misses overlap.
	XORQ R11, R11

lpz_pf:
	MOVQ       (R13)(R11*8), AX
	PREFETCHT0 (AX)
	INCQ       R11
	CMPQ       R11, R9
	JLT        lpz_pf

lpz_row:
	MOVQ (R13), DI
	// R14 walks the next row (this one again on the last) for prefetches.
	MOVQ DI, R14
	CMPQ R9, $1
	JEQ  lpz_last
	MOVQ 8(R13), R14

lpz_last:
	MOVQ R8, SI
	MOVQ BX, CX
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	CMPQ   CX, $64
	JLT    lpz_tail16

lpz_loop64:
	PREFETCHT0  (R14)
	PREFETCHT0  64(R14)
	PREFETCHT0  128(R14)
	PREFETCHT0  192(R14)
	ADDQ        $256, R14
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
	JGE         lpz_loop64

lpz_tail16:
	CMPQ        CX, $16
	JLT         lpz_tailmask
	VMOVUPS     (SI), Z4
	VSUBPS      (DI), Z4, Z4
	VFMADD231PS Z4, Z4, Z0
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         lpz_tail16

lpz_tailmask:
	TESTQ       CX, CX
	JZ          lpz_reduce
	VMOVUPS.Z   (SI), K1, Z4
	VMOVUPS.Z   (DI), K1, Z5
	VSUBPS      Z5, Z4, Z4
	VFMADD231PS Z4, Z4, Z1

lpz_reduce:
	PREDUCE_Z
	MOVSS X0, (DX)
	ADDQ  $4, DX
	ADDQ  $8, R13
	DECQ  R9
	JNZ   lpz_row

lpz_done:
	VZEROUPPER
	RET

// ---------------------------------------------------------------------------
// AVX2 + FMA

// func dotPtrsAVX2(q *float32, rows **float32, out *float32, dim, n int)
// out[i] = dot(q, rows[i][:dim]) for i < n; requires dim > 0.
TEXT ·dotPtrsAVX2(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), R8
	MOVQ rows+8(FP), R13
	MOVQ out+16(FP), DX
	MOVQ dim+24(FP), BX
	MOVQ n+32(FP), R9

	// R10 points at the 8-lane tail mask for dim%8 (built once per call).
	MOVQ  BX, CX
	ANDQ  $7, CX
	MOVQ  $8, AX
	SUBQ  CX, AX
	LEAQ  ptailmask<>(SB), R10
	LEAQ  (R10)(AX*4), R10
	TESTQ R9, R9
	JZ    dpy_done

	// First line of every row, so their misses overlap.
	XORQ R11, R11

dpy_pf:
	MOVQ       (R13)(R11*8), AX
	PREFETCHT0 (AX)
	INCQ       R11
	CMPQ       R11, R9
	JLT        dpy_pf

dpy_row:
	MOVQ (R13), DI
	// R14 walks the next row (this one again on the last) for prefetches.
	MOVQ DI, R14
	CMPQ R9, $1
	JEQ  dpy_last
	MOVQ 8(R13), R14

dpy_last:
	MOVQ R8, SI
	MOVQ BX, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	CMPQ   CX, $64
	JLT    dpy_tail8

dpy_loop64:
	PREFETCHT0  (R14)
	PREFETCHT0  64(R14)
	PREFETCHT0  128(R14)
	PREFETCHT0  192(R14)
	ADDQ        $256, R14
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
	JGE         dpy_loop64

dpy_tail8:
	CMPQ        CX, $8
	JLT         dpy_tailmask
	VMOVUPS     (SI), Y8
	VFMADD231PS (DI), Y8, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         dpy_tail8

dpy_tailmask:
	TESTQ       CX, CX
	JZ          dpy_reduce
	VMOVDQU     (R10), Y10
	VMASKMOVPS  (SI), Y10, Y8
	VMASKMOVPS  (DI), Y10, Y9
	VFMADD231PS Y9, Y8, Y1

dpy_reduce:
	PREDUCE_Y
	MOVSS X0, (DX)
	ADDQ  $4, DX
	ADDQ  $8, R13
	DECQ  R9
	JNZ   dpy_row

dpy_done:
	VZEROUPPER
	RET

// func l2sqPtrsAVX2(q *float32, rows **float32, out *float32, dim, n int)
// out[i] = squared L2(q, rows[i][:dim]) for i < n; requires dim > 0.
TEXT ·l2sqPtrsAVX2(SB), NOSPLIT, $0-40
	MOVQ q+0(FP), R8
	MOVQ rows+8(FP), R13
	MOVQ out+16(FP), DX
	MOVQ dim+24(FP), BX
	MOVQ n+32(FP), R9

	// R10 points at the 8-lane tail mask for dim%8 (built once per call).
	MOVQ  BX, CX
	ANDQ  $7, CX
	MOVQ  $8, AX
	SUBQ  CX, AX
	LEAQ  ptailmask<>(SB), R10
	LEAQ  (R10)(AX*4), R10
	TESTQ R9, R9
	JZ    lpy_done

	// First line of every row, so their misses overlap.
	XORQ R11, R11

lpy_pf:
	MOVQ       (R13)(R11*8), AX
	PREFETCHT0 (AX)
	INCQ       R11
	CMPQ       R11, R9
	JLT        lpy_pf

lpy_row:
	MOVQ (R13), DI
	// R14 walks the next row (this one again on the last) for prefetches.
	MOVQ DI, R14
	CMPQ R9, $1
	JEQ  lpy_last
	MOVQ 8(R13), R14

lpy_last:
	MOVQ R8, SI
	MOVQ BX, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	CMPQ   CX, $64
	JLT    lpy_tail8

lpy_loop64:
	PREFETCHT0  (R14)
	PREFETCHT0  64(R14)
	PREFETCHT0  128(R14)
	PREFETCHT0  192(R14)
	ADDQ        $256, R14
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
	JGE         lpy_loop64

lpy_tail8:
	CMPQ        CX, $8
	JLT         lpy_tailmask
	VMOVUPS     (SI), Y8
	VSUBPS      (DI), Y8, Y8
	VFMADD231PS Y8, Y8, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         lpy_tail8

lpy_tailmask:
	TESTQ       CX, CX
	JZ          lpy_reduce
	VMOVDQU     (R10), Y10
	VMASKMOVPS  (SI), Y10, Y8
	VMASKMOVPS  (DI), Y10, Y9
	VSUBPS      Y9, Y8, Y8
	VFMADD231PS Y8, Y8, Y1

lpy_reduce:
	PREDUCE_Y
	MOVSS X0, (DX)
	ADDQ  $4, DX
	ADDQ  $8, R13
	DECQ  R9
	JNZ   lpy_row

lpy_done:
	VZEROUPPER
	RET

// ---------------------------------------------------------------------------

// func prefetchLines(p *uint32, n int)
// Asks for the cache lines holding the n > 0 bytes at p. A prefetch never
// faults, so this is safe for any address; it only costs bandwidth.
TEXT ·prefetchLines(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	LEAQ -1(AX)(CX*1), CX // last byte

pl_loop:
	PREFETCHT0 (AX)
	ADDQ       $64, AX
	CMPQ       AX, CX
	JLT        pl_loop
	PREFETCHT0 (CX)
	RET
