//go:build amd64 && !purego

// Matrix-product kernels for amd64 with AVX2 and FMA (see kernels_amd64.go
// and gemm.go for the layouts). C's 4×16 block lives in Y0..Y7 for the
// whole k loop; each step loads one row of the B panel (two YMM), broadcasts
// one element of each A row and issues eight independent FMAs, enough to
// cover the FMA latency on two pipes.

#include "textflag.h"

// func kernel4x16AVX2(a *float32, lda int, b *float32, ldb int, c *float32, ldc int, k int)
TEXT ·kernel4x16AVX2(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), AX
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R8
	MOVQ k+48(FP), CX
	SHLQ $2, AX
	SHLQ $2, BX
	SHLQ $2, R8
	SHLQ $2, CX
	LEAQ (SI)(AX*1), R9
	LEAQ (R9)(AX*1), R10
	LEAQ (R10)(AX*1), R11
	LEAQ (DX)(R8*1), R12
	LEAQ (R12)(R8*1), R13
	LEAQ (R13)(R8*1), R14
	VMOVUPS (DX), Y0
	VMOVUPS 32(DX), Y1
	VMOVUPS (R12), Y2
	VMOVUPS 32(R12), Y3
	VMOVUPS (R13), Y4
	VMOVUPS 32(R13), Y5
	VMOVUPS (R14), Y6
	VMOVUPS 32(R14), Y7
	XORQ R15, R15

loop4:
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9
	VBROADCASTSS (SI)(R15*1), Y10
	VFMADD231PS  Y8, Y10, Y0
	VFMADD231PS  Y9, Y10, Y1
	VBROADCASTSS (R9)(R15*1), Y11
	VFMADD231PS  Y8, Y11, Y2
	VFMADD231PS  Y9, Y11, Y3
	VBROADCASTSS (R10)(R15*1), Y12
	VFMADD231PS  Y8, Y12, Y4
	VFMADD231PS  Y9, Y12, Y5
	VBROADCASTSS (R11)(R15*1), Y13
	VFMADD231PS  Y8, Y13, Y6
	VFMADD231PS  Y9, Y13, Y7
	ADDQ         BX, DI
	ADDQ         $4, R15
	CMPQ         R15, CX
	JLT          loop4

	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, (R12)
	VMOVUPS Y3, 32(R12)
	VMOVUPS Y4, (R13)
	VMOVUPS Y5, 32(R13)
	VMOVUPS Y6, (R14)
	VMOVUPS Y7, 32(R14)
	VZEROUPPER
	RET

// func kernel1x16AVX2(a *float32, b *float32, ldb int, c *float32, k int)
TEXT ·kernel1x16AVX2(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ ldb+16(FP), BX
	MOVQ c+24(FP), DX
	MOVQ k+32(FP), CX
	SHLQ $2, BX
	SHLQ $2, CX
	VMOVUPS (DX), Y0
	VMOVUPS 32(DX), Y1
	XORQ R15, R15

loop1:
	VBROADCASTSS (SI)(R15*1), Y10
	VFMADD231PS  (DI), Y10, Y0
	VFMADD231PS  32(DI), Y10, Y1
	ADDQ         BX, DI
	ADDQ         $4, R15
	CMPQ         R15, CX
	JLT          loop1

	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VZEROUPPER
	RET

// func kernel8x16AVX512(a *float32, lda int, b *float32, ldb int, c *float32, ldc int, k int)
// The AVX-512 form: C's 8×16 block in Z0..Z7, one ZMM load of the B row per
// step and eight FMAs with the A element broadcast from memory.
TEXT ·kernel8x16AVX512(SB), NOSPLIT, $0-56
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R9
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), BX
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R8
	MOVQ k+48(FP), CX
	SHLQ $2, R9
	SHLQ $2, BX
	SHLQ $2, R8
	LEAQ (R9)(R9*2), R10
	LEAQ (SI)(R9*4), R11
	LEAQ (R8)(R8*2), R12
	LEAQ (DX)(R8*4), R13
	VMOVUPS (DX), Z0
	VMOVUPS (DX)(R8*1), Z1
	VMOVUPS (DX)(R8*2), Z2
	VMOVUPS (DX)(R12*1), Z3
	VMOVUPS (R13), Z4
	VMOVUPS (R13)(R8*1), Z5
	VMOVUPS (R13)(R8*2), Z6
	VMOVUPS (R13)(R12*1), Z7

loop8:
	VMOVUPS          (DI), Z16
	VFMADD231PS.BCST (SI), Z16, Z0
	VFMADD231PS.BCST (SI)(R9*1), Z16, Z1
	VFMADD231PS.BCST (SI)(R9*2), Z16, Z2
	VFMADD231PS.BCST (SI)(R10*1), Z16, Z3
	VFMADD231PS.BCST (R11), Z16, Z4
	VFMADD231PS.BCST (R11)(R9*1), Z16, Z5
	VFMADD231PS.BCST (R11)(R9*2), Z16, Z6
	VFMADD231PS.BCST (R11)(R10*1), Z16, Z7
	ADDQ             BX, DI
	ADDQ             $4, SI
	ADDQ             $4, R11
	DECQ             CX
	JNZ              loop8

	VMOVUPS Z0, (DX)
	VMOVUPS Z1, (DX)(R8*1)
	VMOVUPS Z2, (DX)(R8*2)
	VMOVUPS Z3, (DX)(R12*1)
	VMOVUPS Z4, (R13)
	VMOVUPS Z5, (R13)(R8*1)
	VMOVUPS Z6, (R13)(R8*2)
	VMOVUPS Z7, (R13)(R12*1)
	VZEROUPPER
	RET
