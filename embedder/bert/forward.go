package bert

import (
	"math"
	"time"
)

// scratch is one worker's memory for a forward pass. It grows to the
// largest batch seen and is reused, so steady-state embedding allocates
// nothing in the network (forward_test.go checks it).
type scratch struct {
	ids, types []int32 // tokens of the batch, sequences back to back
	lens       []int   // tokens per sequence
	x, tmp     []float32
	qkv, ctx   []float32
	inter      []float32
	scores, kt []float32
	pool       []float64
	// prof, when set, receives the time of each phase (Profile).
	prof *Breakdown
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}

// reset starts a new batch.
func (sc *scratch) reset() {
	sc.ids, sc.types, sc.lens = sc.ids[:0], sc.types[:0], sc.lens[:0]
}

// add appends one sequence to the batch.
func (sc *scratch) add(ids, types []int32) {
	sc.ids = append(sc.ids, ids...)
	sc.types = append(sc.types, types...)
	sc.lens = append(sc.lens, len(ids))
}

// forward runs the network over the batch in sc, leaving the last hidden
// states in sc.x (one row of Hidden floats per token, sequences back to
// back).
//
// Sequences are not padded: every product over tokens runs on the rows of
// all sequences stacked together, and attention runs per sequence over its
// own tokens. That is the padded computation minus the padding: with the
// additive mask of the ONNX export a padded key gets weight exp(-10000) = 0
// in float32, and padded queries are never pooled.
func (m *Model) forward(sc *scratch) {
	a := m.arch
	H, I := a.Hidden, a.Intermediate
	T := len(sc.ids)
	eps := float32(a.LayerNormEps)
	sc.x = grow(sc.x, T*H)
	sc.tmp = grow(sc.tmp, T*H)
	sc.qkv = grow(sc.qkv, T*3*H)
	sc.ctx = grow(sc.ctx, T*H)
	sc.inter = grow(sc.inter, T*I)

	var t0 time.Time
	if sc.prof != nil {
		t0 = time.Now()
	}
	t := 0
	for _, L := range sc.lens {
		for p := 0; p < L; p++ {
			row := sc.x[t*H : (t+1)*H]
			w := m.w.word[int(sc.ids[t])*H:][:H]
			ps := m.w.pos[p*H:][:H]
			ty := m.w.typ[int(sc.types[t])*H:][:H]
			for j := range row {
				row[j] = w[j] + ps[j] + ty[j]
			}
			layerNorm(row, m.w.embGain, m.w.embBias, eps)
			t++
		}
	}
	p := sc.prof
	p.lap(&t0, phOther)
	for l := range m.w.layers {
		lw := &m.w.layers[l]
		setRows(sc.qkv, T, 3*H, lw.qkvBias)
		gemm(T, 3*H, H, sc.x, H, packed(lw.qkv, H), sc.qkv, 3*H)
		p.lap(&t0, phDense)
		m.attention(sc, &t0)
		setRows(sc.tmp, T, H, lw.attnBias)
		gemm(T, H, H, sc.ctx, H, packed(lw.attnOut, H), sc.tmp, H)
		p.lap(&t0, phDense)
		addLayerNorm(sc.x, sc.tmp, T, H, lw.ln1Gain, lw.ln1Bias, eps)
		p.lap(&t0, phLayerNorm)
		setRows(sc.inter, T, I, lw.interBias)
		gemm(T, I, H, sc.x, H, packed(lw.inter, H), sc.inter, I)
		p.lap(&t0, phDense)
		gelu(sc.inter)
		p.lap(&t0, phGELU)
		setRows(sc.tmp, T, H, lw.outBias)
		gemm(T, H, I, sc.inter, I, packed(lw.out, I), sc.tmp, H)
		p.lap(&t0, phDense)
		addLayerNorm(sc.x, sc.tmp, T, H, lw.ln2Gain, lw.ln2Bias, eps)
		p.lap(&t0, phLayerNorm)
		if p != nil {
			p.DenseFLOPs += 2 * float64(T) * float64(H) * float64(3*H+H+2*I)
		}
	}
}

// Breakdown is where a forward pass spends its time (Model.Profile).
type Breakdown struct {
	// Dense is the four weight products per layer (query|key|value,
	// attention output, intermediate, output); AttentionProducts the
	// per-head Q·Kᵀ and P·V products. Both run on the gemm kernels.
	Dense, AttentionProducts time.Duration
	// Softmax includes the key transposition; Other the embeddings.
	Softmax, GELU, LayerNorm, Other time.Duration
	// DenseFLOPs and AttentionFLOPs count multiply-adds as two operations.
	DenseFLOPs, AttentionFLOPs float64
}

// Total is the sum of the phases.
func (b Breakdown) Total() time.Duration {
	return b.Dense + b.AttentionProducts + b.Softmax + b.GELU + b.LayerNorm + b.Other
}

type phase uint8

const (
	phDense phase = iota
	phAttentionProducts
	phSoftmax
	phGELU
	phLayerNorm
	phOther
)

// lap adds the time since *t0 to phase ph and restarts *t0; a nil receiver
// (no profiling) does nothing, so the untimed path costs one branch per
// phase.
func (b *Breakdown) lap(t0 *time.Time, ph phase) {
	if b == nil {
		return
	}
	now := time.Now()
	d := now.Sub(*t0)
	*t0 = now
	switch ph {
	case phDense:
		b.Dense += d
	case phAttentionProducts:
		b.AttentionProducts += d
	case phSoftmax:
		b.Softmax += d
	case phGELU:
		b.GELU += d
	case phLayerNorm:
		b.LayerNorm += d
	default:
		b.Other += d
	}
}

// packed describes a weight matrix packed by packPanels with k inputs.
func packed(w []float32, k int) bMatrix {
	return bMatrix{data: w, panelStride: k * panelWidth, ldb: panelWidth}
}

// attention computes the heads' context vectors into sc.ctx from the
// fused q|k|v rows in sc.qkv.
func (m *Model) attention(sc *scratch, t0 *time.Time) {
	p := sc.prof
	H := m.arch.Hidden
	hd := H / m.arch.Heads
	ld := 3 * H
	scale := float32(1 / math.Sqrt(float64(hd)))
	clear(sc.ctx)
	off := 0
	for _, L := range sc.lens {
		// Keys are transposed into kt so scores = Q·Kᵀ is an ordinary
		// product; its width is rounded up to whole panels, the extra
		// columns are zero and ignored.
		sp := (L + panelWidth - 1) / panelWidth * panelWidth
		sc.kt = grow(sc.kt, hd*sp)
		sc.scores = grow(sc.scores, L*sp)
		for h := 0; h < m.arch.Heads; h++ {
			q := sc.qkv[off*ld+h*hd:]
			k := sc.qkv[off*ld+H+h*hd:]
			v := sc.qkv[off*ld+2*H+h*hd:]
			for d := 0; d < hd; d++ {
				row := sc.kt[d*sp : (d+1)*sp]
				for j := 0; j < L; j++ {
					row[j] = k[j*ld+d]
				}
				clear(row[L:])
			}
			clear(sc.scores)
			p.lap(t0, phSoftmax)
			gemm(L, sp, hd, q, ld, bMatrix{data: sc.kt, panelStride: panelWidth, ldb: sp}, sc.scores, sp)
			p.lap(t0, phAttentionProducts)
			for i := 0; i < L; i++ {
				softmaxScaled(sc.scores[i*sp:i*sp+L], scale)
			}
			p.lap(t0, phSoftmax)
			gemm(L, hd, L, sc.scores, sp, bMatrix{data: v, panelStride: panelWidth, ldb: ld}, sc.ctx[off*H+h*hd:], H)
			p.lap(t0, phAttentionProducts)
		}
		if p != nil {
			p.AttentionFLOPs += 4 * float64(m.arch.Heads) * float64(L) * float64(L) * float64(hd)
		}
		off += L
	}
}

// setRows fills each of the n rows of width w in dst with bias.
func setRows(dst []float32, n, w int, bias []float32) {
	for i := 0; i < n; i++ {
		copy(dst[i*w:(i+1)*w], bias)
	}
}

// layerNorm normalizes row in place: (x - mean) / sqrt(var + eps) * gain +
// bias, with the biased variance, as torch.nn.LayerNorm.
func layerNorm(row, gain, bias []float32, eps float32) {
	var sum float32
	for _, v := range row {
		sum += v
	}
	mean := sum / float32(len(row))
	var ss float32
	for _, v := range row {
		d := v - mean
		ss += d * d
	}
	inv := float32(1 / math.Sqrt(float64(ss/float32(len(row))+eps)))
	gain, bias = gain[:len(row)], bias[:len(row)]
	for j, v := range row {
		row[j] = (v-mean)*inv*gain[j] + bias[j]
	}
}

// addLayerNorm sets x = LayerNorm(x + y) row by row: the residual
// connection and the normalization in one pass over the rows.
func addLayerNorm(x, y []float32, n, w int, gain, bias []float32, eps float32) {
	for i := 0; i < n; i++ {
		row := x[i*w : (i+1)*w]
		yr := y[i*w : (i+1)*w]
		for j := range row {
			row[j] += yr[j]
		}
		layerNorm(row, gain, bias, eps)
	}
}

// softmaxScaled replaces s with softmax(scale·s).
func softmaxScaled(s []float32, scale float32) {
	mx := s[0]
	for _, v := range s[1:] {
		mx = max(mx, v)
	}
	inv := 1 / expSum(s, mx, scale)
	for j := range s {
		s[j] *= inv
	}
}
