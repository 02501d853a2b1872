//go:build amd64 && !purego

// Vectorized exp and GELU for AVX2/FMA, eight floats at a time, with the
// same formulas as the portable code in activation.go: exp by range
// reduction to [-ln2/2, ln2/2], a degree-6 polynomial and an exponent add
// (Cephes' expf, relative error about 1e-7); erf by Abramowitz and Stegun
// 7.1.26 (absolute error below 1.5e-7), which needs one exp and one
// division. Callers pass whole multiples of 8; activation_amd64.go does the
// tails with the portable code.

#include "textflag.h"

DATA clamplo<>+0(SB)/4, $0xc2aeac4f
DATA clamplo<>+4(SB)/4, $0xc2aeac4f
DATA clamplo<>+8(SB)/4, $0xc2aeac4f
DATA clamplo<>+12(SB)/4, $0xc2aeac4f
DATA clamplo<>+16(SB)/4, $0xc2aeac4f
DATA clamplo<>+20(SB)/4, $0xc2aeac4f
DATA clamplo<>+24(SB)/4, $0xc2aeac4f
DATA clamplo<>+28(SB)/4, $0xc2aeac4f
GLOBL clamplo<>(SB), RODATA|NOPTR, $32
DATA log2e<>+0(SB)/4, $0x3fb8aa3b
DATA log2e<>+4(SB)/4, $0x3fb8aa3b
DATA log2e<>+8(SB)/4, $0x3fb8aa3b
DATA log2e<>+12(SB)/4, $0x3fb8aa3b
DATA log2e<>+16(SB)/4, $0x3fb8aa3b
DATA log2e<>+20(SB)/4, $0x3fb8aa3b
DATA log2e<>+24(SB)/4, $0x3fb8aa3b
DATA log2e<>+28(SB)/4, $0x3fb8aa3b
GLOBL log2e<>(SB), RODATA|NOPTR, $32
DATA expc1<>+0(SB)/4, $0x3f318000
DATA expc1<>+4(SB)/4, $0x3f318000
DATA expc1<>+8(SB)/4, $0x3f318000
DATA expc1<>+12(SB)/4, $0x3f318000
DATA expc1<>+16(SB)/4, $0x3f318000
DATA expc1<>+20(SB)/4, $0x3f318000
DATA expc1<>+24(SB)/4, $0x3f318000
DATA expc1<>+28(SB)/4, $0x3f318000
GLOBL expc1<>(SB), RODATA|NOPTR, $32
DATA expc2<>+0(SB)/4, $0xb95e8083
DATA expc2<>+4(SB)/4, $0xb95e8083
DATA expc2<>+8(SB)/4, $0xb95e8083
DATA expc2<>+12(SB)/4, $0xb95e8083
DATA expc2<>+16(SB)/4, $0xb95e8083
DATA expc2<>+20(SB)/4, $0xb95e8083
DATA expc2<>+24(SB)/4, $0xb95e8083
DATA expc2<>+28(SB)/4, $0xb95e8083
GLOBL expc2<>(SB), RODATA|NOPTR, $32
DATA ep0<>+0(SB)/4, $0x39506967
DATA ep0<>+4(SB)/4, $0x39506967
DATA ep0<>+8(SB)/4, $0x39506967
DATA ep0<>+12(SB)/4, $0x39506967
DATA ep0<>+16(SB)/4, $0x39506967
DATA ep0<>+20(SB)/4, $0x39506967
DATA ep0<>+24(SB)/4, $0x39506967
DATA ep0<>+28(SB)/4, $0x39506967
GLOBL ep0<>(SB), RODATA|NOPTR, $32
DATA ep1<>+0(SB)/4, $0x3ab743ce
DATA ep1<>+4(SB)/4, $0x3ab743ce
DATA ep1<>+8(SB)/4, $0x3ab743ce
DATA ep1<>+12(SB)/4, $0x3ab743ce
DATA ep1<>+16(SB)/4, $0x3ab743ce
DATA ep1<>+20(SB)/4, $0x3ab743ce
DATA ep1<>+24(SB)/4, $0x3ab743ce
DATA ep1<>+28(SB)/4, $0x3ab743ce
GLOBL ep1<>(SB), RODATA|NOPTR, $32
DATA ep2<>+0(SB)/4, $0x3c088908
DATA ep2<>+4(SB)/4, $0x3c088908
DATA ep2<>+8(SB)/4, $0x3c088908
DATA ep2<>+12(SB)/4, $0x3c088908
DATA ep2<>+16(SB)/4, $0x3c088908
DATA ep2<>+20(SB)/4, $0x3c088908
DATA ep2<>+24(SB)/4, $0x3c088908
DATA ep2<>+28(SB)/4, $0x3c088908
GLOBL ep2<>(SB), RODATA|NOPTR, $32
DATA ep3<>+0(SB)/4, $0x3d2aa9c1
DATA ep3<>+4(SB)/4, $0x3d2aa9c1
DATA ep3<>+8(SB)/4, $0x3d2aa9c1
DATA ep3<>+12(SB)/4, $0x3d2aa9c1
DATA ep3<>+16(SB)/4, $0x3d2aa9c1
DATA ep3<>+20(SB)/4, $0x3d2aa9c1
DATA ep3<>+24(SB)/4, $0x3d2aa9c1
DATA ep3<>+28(SB)/4, $0x3d2aa9c1
GLOBL ep3<>(SB), RODATA|NOPTR, $32
DATA ep4<>+0(SB)/4, $0x3e2aaaaa
DATA ep4<>+4(SB)/4, $0x3e2aaaaa
DATA ep4<>+8(SB)/4, $0x3e2aaaaa
DATA ep4<>+12(SB)/4, $0x3e2aaaaa
DATA ep4<>+16(SB)/4, $0x3e2aaaaa
DATA ep4<>+20(SB)/4, $0x3e2aaaaa
DATA ep4<>+24(SB)/4, $0x3e2aaaaa
DATA ep4<>+28(SB)/4, $0x3e2aaaaa
GLOBL ep4<>(SB), RODATA|NOPTR, $32
DATA ep5<>+0(SB)/4, $0x3f000000
DATA ep5<>+4(SB)/4, $0x3f000000
DATA ep5<>+8(SB)/4, $0x3f000000
DATA ep5<>+12(SB)/4, $0x3f000000
DATA ep5<>+16(SB)/4, $0x3f000000
DATA ep5<>+20(SB)/4, $0x3f000000
DATA ep5<>+24(SB)/4, $0x3f000000
DATA ep5<>+28(SB)/4, $0x3f000000
GLOBL ep5<>(SB), RODATA|NOPTR, $32
DATA one<>+0(SB)/4, $0x3f800000
DATA one<>+4(SB)/4, $0x3f800000
DATA one<>+8(SB)/4, $0x3f800000
DATA one<>+12(SB)/4, $0x3f800000
DATA one<>+16(SB)/4, $0x3f800000
DATA one<>+20(SB)/4, $0x3f800000
DATA one<>+24(SB)/4, $0x3f800000
DATA one<>+28(SB)/4, $0x3f800000
GLOBL one<>(SB), RODATA|NOPTR, $32
DATA half<>+0(SB)/4, $0x3f000000
DATA half<>+4(SB)/4, $0x3f000000
DATA half<>+8(SB)/4, $0x3f000000
DATA half<>+12(SB)/4, $0x3f000000
DATA half<>+16(SB)/4, $0x3f000000
DATA half<>+20(SB)/4, $0x3f000000
DATA half<>+24(SB)/4, $0x3f000000
DATA half<>+28(SB)/4, $0x3f000000
GLOBL half<>(SB), RODATA|NOPTR, $32
DATA rsqrt2<>+0(SB)/4, $0x3f3504f3
DATA rsqrt2<>+4(SB)/4, $0x3f3504f3
DATA rsqrt2<>+8(SB)/4, $0x3f3504f3
DATA rsqrt2<>+12(SB)/4, $0x3f3504f3
DATA rsqrt2<>+16(SB)/4, $0x3f3504f3
DATA rsqrt2<>+20(SB)/4, $0x3f3504f3
DATA rsqrt2<>+24(SB)/4, $0x3f3504f3
DATA rsqrt2<>+28(SB)/4, $0x3f3504f3
GLOBL rsqrt2<>(SB), RODATA|NOPTR, $32
DATA asp<>+0(SB)/4, $0x3ea7ba05
DATA asp<>+4(SB)/4, $0x3ea7ba05
DATA asp<>+8(SB)/4, $0x3ea7ba05
DATA asp<>+12(SB)/4, $0x3ea7ba05
DATA asp<>+16(SB)/4, $0x3ea7ba05
DATA asp<>+20(SB)/4, $0x3ea7ba05
DATA asp<>+24(SB)/4, $0x3ea7ba05
DATA asp<>+28(SB)/4, $0x3ea7ba05
GLOBL asp<>(SB), RODATA|NOPTR, $32
DATA asa1<>+0(SB)/4, $0x3e827906
DATA asa1<>+4(SB)/4, $0x3e827906
DATA asa1<>+8(SB)/4, $0x3e827906
DATA asa1<>+12(SB)/4, $0x3e827906
DATA asa1<>+16(SB)/4, $0x3e827906
DATA asa1<>+20(SB)/4, $0x3e827906
DATA asa1<>+24(SB)/4, $0x3e827906
DATA asa1<>+28(SB)/4, $0x3e827906
GLOBL asa1<>(SB), RODATA|NOPTR, $32
DATA asa2<>+0(SB)/4, $0xbe91a98e
DATA asa2<>+4(SB)/4, $0xbe91a98e
DATA asa2<>+8(SB)/4, $0xbe91a98e
DATA asa2<>+12(SB)/4, $0xbe91a98e
DATA asa2<>+16(SB)/4, $0xbe91a98e
DATA asa2<>+20(SB)/4, $0xbe91a98e
DATA asa2<>+24(SB)/4, $0xbe91a98e
DATA asa2<>+28(SB)/4, $0xbe91a98e
GLOBL asa2<>(SB), RODATA|NOPTR, $32
DATA asa3<>+0(SB)/4, $0x3fb5f0e3
DATA asa3<>+4(SB)/4, $0x3fb5f0e3
DATA asa3<>+8(SB)/4, $0x3fb5f0e3
DATA asa3<>+12(SB)/4, $0x3fb5f0e3
DATA asa3<>+16(SB)/4, $0x3fb5f0e3
DATA asa3<>+20(SB)/4, $0x3fb5f0e3
DATA asa3<>+24(SB)/4, $0x3fb5f0e3
DATA asa3<>+28(SB)/4, $0x3fb5f0e3
GLOBL asa3<>(SB), RODATA|NOPTR, $32
DATA asa4<>+0(SB)/4, $0xbfba00e3
DATA asa4<>+4(SB)/4, $0xbfba00e3
DATA asa4<>+8(SB)/4, $0xbfba00e3
DATA asa4<>+12(SB)/4, $0xbfba00e3
DATA asa4<>+16(SB)/4, $0xbfba00e3
DATA asa4<>+20(SB)/4, $0xbfba00e3
DATA asa4<>+24(SB)/4, $0xbfba00e3
DATA asa4<>+28(SB)/4, $0xbfba00e3
GLOBL asa4<>(SB), RODATA|NOPTR, $32
DATA asa5<>+0(SB)/4, $0x3f87dc22
DATA asa5<>+4(SB)/4, $0x3f87dc22
DATA asa5<>+8(SB)/4, $0x3f87dc22
DATA asa5<>+12(SB)/4, $0x3f87dc22
DATA asa5<>+16(SB)/4, $0x3f87dc22
DATA asa5<>+20(SB)/4, $0x3f87dc22
DATA asa5<>+24(SB)/4, $0x3f87dc22
DATA asa5<>+28(SB)/4, $0x3f87dc22
GLOBL asa5<>(SB), RODATA|NOPTR, $32
DATA absmask<>+0(SB)/4, $0x7fffffff
DATA absmask<>+4(SB)/4, $0x7fffffff
DATA absmask<>+8(SB)/4, $0x7fffffff
DATA absmask<>+12(SB)/4, $0x7fffffff
DATA absmask<>+16(SB)/4, $0x7fffffff
DATA absmask<>+20(SB)/4, $0x7fffffff
DATA absmask<>+24(SB)/4, $0x7fffffff
DATA absmask<>+28(SB)/4, $0x7fffffff
GLOBL absmask<>(SB), RODATA|NOPTR, $32
DATA signmask<>+0(SB)/4, $0x80000000
DATA signmask<>+4(SB)/4, $0x80000000
DATA signmask<>+8(SB)/4, $0x80000000
DATA signmask<>+12(SB)/4, $0x80000000
DATA signmask<>+16(SB)/4, $0x80000000
DATA signmask<>+20(SB)/4, $0x80000000
DATA signmask<>+24(SB)/4, $0x80000000
DATA signmask<>+28(SB)/4, $0x80000000
GLOBL signmask<>(SB), RODATA|NOPTR, $32

// EXP_Y0 replaces Y0 (≤ 88) with exp(Y0); clobbers Y1, Y2, Y3.
#define EXP_Y0 \
	VMAXPS       clamplo<>(SB), Y0, Y0; \
	VMULPS       log2e<>(SB), Y0, Y1; \
	VROUNDPS     $0, Y1, Y1; \
	VFNMADD231PS expc1<>(SB), Y1, Y0; \
	VFNMADD231PS expc2<>(SB), Y1, Y0; \
	VMOVUPS      ep0<>(SB), Y2; \
	VFMADD213PS  ep1<>(SB), Y0, Y2; \
	VFMADD213PS  ep2<>(SB), Y0, Y2; \
	VFMADD213PS  ep3<>(SB), Y0, Y2; \
	VFMADD213PS  ep4<>(SB), Y0, Y2; \
	VFMADD213PS  ep5<>(SB), Y0, Y2; \
	VMULPS       Y0, Y0, Y3; \
	VFMADD213PS  Y0, Y3, Y2; \
	VADDPS       one<>(SB), Y2, Y2; \
	VCVTPS2DQ    Y1, Y1; \
	VPSLLD       $23, Y1, Y1; \
	VPADDD       Y1, Y2, Y0

// func expSumAVX2(p *float32, n int, mx, scale float32) float32
// p[i] = exp((p[i]-mx)*scale); returns the sum. n is a positive multiple of 8.
TEXT ·expSumAVX2(SB), NOSPLIT, $0-28
	MOVQ         p+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS mx+16(FP), Y14
	VBROADCASTSS scale+20(FP), Y15
	VXORPS       Y13, Y13, Y13

exploop:
	VMOVUPS (SI), Y0
	VSUBPS  Y14, Y0, Y0
	VMULPS  Y15, Y0, Y0
	EXP_Y0
	VMOVUPS Y0, (SI)
	VADDPS  Y0, Y13, Y13
	ADDQ    $32, SI
	SUBQ    $8, CX
	JNZ     exploop

	VEXTRACTF128 $1, Y13, X1
	VADDPS       X1, X13, X0
	VMOVHLPS     X0, X0, X1
	VADDPS       X1, X0, X0
	VMOVSHDUP    X0, X1
	VADDSS       X1, X0, X0
	MOVSS        X0, ret+24(FP)
	VZEROUPPER
	RET

// func geluAVX2(p *float32, n int)
// p[i] = p[i]/2·(1 + erf(p[i]/√2)). n is a positive multiple of 8.
TEXT ·geluAVX2(SB), NOSPLIT, $0-16
	MOVQ    p+0(FP), SI
	MOVQ    n+8(FP), CX
	VMOVUPS one<>(SB), Y9

geluloop:
	VMOVUPS      (SI), Y8
	VANDPS       absmask<>(SB), Y8, Y4
	VMULPS       rsqrt2<>(SB), Y4, Y4
	VMULPS       asp<>(SB), Y4, Y5
	VADDPS       Y9, Y5, Y5
	VDIVPS       Y5, Y9, Y5
	VMOVUPS      asa5<>(SB), Y6
	VFMADD213PS  asa4<>(SB), Y5, Y6
	VFMADD213PS  asa3<>(SB), Y5, Y6
	VFMADD213PS  asa2<>(SB), Y5, Y6
	VFMADD213PS  asa1<>(SB), Y5, Y6
	VMULPS       Y5, Y6, Y6
	VMULPS       Y4, Y4, Y0
	VXORPS       signmask<>(SB), Y0, Y0
	EXP_Y0
	VMOVUPS      Y9, Y7
	VFNMADD231PS Y0, Y6, Y7
	VANDPS       signmask<>(SB), Y8, Y5
	VORPS        Y5, Y7, Y7
	VADDPS       Y9, Y7, Y7
	VMULPS       half<>(SB), Y8, Y8
	VMULPS       Y7, Y8, Y8
	VMOVUPS      Y8, (SI)
	ADDQ         $32, SI
	SUBQ         $8, CX
	JNZ          geluloop
	VZEROUPPER
	RET
