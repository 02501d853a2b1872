//go:build amd64 && !purego

// int8 kernels. Codes are sign-extended to int16 and multiplied pairwise
// with VPMADDWD, which sums adjacent products into int32 lanes: exact for
// any int8 input, and no unsigned/signed juggling as VPMADDUBSW or VNNI's
// VPDPBUSD would need. Tails use an opmask (AVX-512) or a scalar loop
// (AVX2); neither reads past the slices.

#include "textflag.h"

#define REDUCE_I32_Z \
	VPADDD        Z1, Z0, Z0; \
	VPADDD        Z3, Z2, Z2; \
	VPADDD        Z2, Z0, Z0; \
	VEXTRACTI64X4 $1, Z0, Y1; \
	VPADDD        Y1, Y0, Y0; \
	VEXTRACTI128  $1, Y0, X1; \
	VPADDD        X1, X0, X0; \
	VPSHUFD       $0x4e, X0, X1; \
	VPADDD        X1, X0, X0; \
	VPSHUFD       $0xb1, X0, X1; \
	VPADDD        X1, X0, X0

#define REDUCE_I32_Y \
	VPADDD       Y1, Y0, Y0; \
	VPADDD       Y3, Y2, Y2; \
	VPADDD       Y2, Y0, Y0; \
	VEXTRACTI128 $1, Y0, X1; \
	VPADDD       X1, X0, X0; \
	VPSHUFD      $0x4e, X0, X1; \
	VPADDD       X1, X0, X0; \
	VPSHUFD      $0xb1, X0, X1; \
	VPADDD       X1, X0, X0

// func dotInt8AVX512(a, b *int8, n int) int32
TEXT ·dotInt8AVX512(SB), NOSPLIT, $0-28
	MOVQ   a+0(FP), SI
	MOVQ   b+8(FP), DI
	MOVQ   n+16(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	CMPQ   CX, $128
	JLT    di8z_tail32

di8z_loop128:
	VPMOVSXBW (SI), Z4
	VPMOVSXBW (DI), Z5
	VPMOVSXBW 32(SI), Z6
	VPMOVSXBW 32(DI), Z7
	VPMOVSXBW 64(SI), Z8
	VPMOVSXBW 64(DI), Z9
	VPMOVSXBW 96(SI), Z10
	VPMOVSXBW 96(DI), Z11
	VPMADDWD  Z5, Z4, Z4
	VPMADDWD  Z7, Z6, Z6
	VPMADDWD  Z9, Z8, Z8
	VPMADDWD  Z11, Z10, Z10
	VPADDD    Z4, Z0, Z0
	VPADDD    Z6, Z1, Z1
	VPADDD    Z8, Z2, Z2
	VPADDD    Z10, Z3, Z3
	ADDQ      $128, SI
	ADDQ      $128, DI
	SUBQ      $128, CX
	CMPQ      CX, $128
	JGE       di8z_loop128

di8z_tail32:
	CMPQ      CX, $32
	JLT       di8z_tailmask
	VPMOVSXBW (SI), Z4
	VPMOVSXBW (DI), Z5
	VPMADDWD  Z5, Z4, Z4
	VPADDD    Z4, Z0, Z0
	ADDQ      $32, SI
	ADDQ      $32, DI
	SUBQ      $32, CX
	JMP       di8z_tail32

di8z_tailmask:
	TESTQ       CX, CX
	JZ          di8z_reduce
	MOVL        $1, AX
	SHLL        CX, AX
	DECL        AX
	KMOVD       AX, K1
	VPMOVSXBW.Z (SI), K1, Z4
	VPMOVSXBW.Z (DI), K1, Z5
	VPMADDWD    Z5, Z4, Z4
	VPADDD      Z4, Z1, Z1

di8z_reduce:
	REDUCE_I32_Z
	VMOVD      X0, AX
	VZEROUPPER
	MOVL       AX, ret+24(FP)
	RET

// func dotInt8AVX2(a, b *int8, n int) int32
TEXT ·dotInt8AVX2(SB), NOSPLIT, $0-28
	MOVQ  a+0(FP), SI
	MOVQ  b+8(FP), DI
	MOVQ  n+16(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	XORQ  R8, R8
	CMPQ  CX, $64
	JLT   di8y_tail16

di8y_loop64:
	VPMOVSXBW (SI), Y4
	VPMOVSXBW (DI), Y5
	VPMOVSXBW 16(SI), Y6
	VPMOVSXBW 16(DI), Y7
	VPMOVSXBW 32(SI), Y8
	VPMOVSXBW 32(DI), Y9
	VPMOVSXBW 48(SI), Y10
	VPMOVSXBW 48(DI), Y11
	VPMADDWD  Y5, Y4, Y4
	VPMADDWD  Y7, Y6, Y6
	VPMADDWD  Y9, Y8, Y8
	VPMADDWD  Y11, Y10, Y10
	VPADDD    Y4, Y0, Y0
	VPADDD    Y6, Y1, Y1
	VPADDD    Y8, Y2, Y2
	VPADDD    Y10, Y3, Y3
	ADDQ      $64, SI
	ADDQ      $64, DI
	SUBQ      $64, CX
	CMPQ      CX, $64
	JGE       di8y_loop64

di8y_tail16:
	CMPQ      CX, $16
	JLT       di8y_scalar
	VPMOVSXBW (SI), Y4
	VPMOVSXBW (DI), Y5
	VPMADDWD  Y5, Y4, Y4
	VPADDD    Y4, Y0, Y0
	ADDQ      $16, SI
	ADDQ      $16, DI
	SUBQ      $16, CX
	JMP       di8y_tail16

di8y_scalar:
	TESTQ   CX, CX
	JZ      di8y_reduce
	MOVBQSX (SI), AX
	MOVBQSX (DI), DX
	IMULQ   DX, AX
	ADDQ    AX, R8
	INCQ    SI
	INCQ    DI
	DECQ    CX
	JMP     di8y_scalar

di8y_reduce:
	REDUCE_I32_Y
	VMOVD      X0, AX
	ADDL       R8, AX
	VZEROUPPER
	MOVL       AX, ret+24(FP)
	RET
