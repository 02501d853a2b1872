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
