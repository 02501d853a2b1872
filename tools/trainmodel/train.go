package main

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
)

// coocTable is an open-addressing hash table from an unordered token pair
// (packed min<<32|max) to a weighted count. A Go map would need several
// times the memory for the ~30M pairs of this corpus and be slower.
type coocTable struct {
	keys []uint64 // 0 = empty (pair (0,0) is [PAD], never counted)
	vals []float32
	n    int
}

func newCoocTable(logSize int) *coocTable {
	return &coocTable{keys: make([]uint64, 1<<logSize), vals: make([]float32, 1<<logSize)}
}

func (t *coocTable) add(a, b int32, w float32) {
	if a > b {
		a, b = b, a
	}
	k := uint64(a)<<32 | uint64(uint32(b))
	if t.n*10 > len(t.keys)*7 {
		t.grow()
	}
	mask := uint64(len(t.keys) - 1)
	i := (k * 0x9E3779B97F4A7C15) >> 20 & mask
	for {
		switch t.keys[i] {
		case k:
			t.vals[i] += w
			return
		case 0:
			t.keys[i] = k
			t.vals[i] = w
			t.n++
			return
		}
		i = (i + 1) & mask
	}
}

func (t *coocTable) grow() {
	old, oldv := t.keys, t.vals
	t.keys = make([]uint64, 2*len(old))
	t.vals = make([]float32, 2*len(old))
	t.n = 0
	mask := uint64(len(t.keys) - 1)
	for j, k := range old {
		if k == 0 {
			continue
		}
		i := (k * 0x9E3779B97F4A7C15) >> 20 & mask
		for t.keys[i] != 0 {
			i = (i + 1) & mask
		}
		t.keys[i] = k
		t.vals[i] = oldv[j]
		t.n++
	}
}

// countCooc counts pairs within the window, weighted 1/distance, never
// across a paragraph boundary (id -1 in the stream).
func countCooc(stream []int32, window int) *coocTable {
	t := newCoocTable(24)
	for i, a := range stream {
		if a < 0 {
			continue
		}
		for d := 1; d <= window && i+d < len(stream); d++ {
			b := stream[i+d]
			if b < 0 {
				break
			}
			if a == 0 && b == 0 {
				continue
			}
			t.add(a, b, 1/float32(d))
		}
	}
	return t
}

// csr is a sparse matrix in compressed-row form.
type csr struct {
	n      int
	rowPtr []int64
	col    []int32
	val    []float32
}

// ppmiMatrix turns the symmetric counts into PPMI with context distribution
// smoothing (Levy, Goldberg & Dagan 2015): PMI(w,c) = log(X_wc·D /
// (X_w · D_α(c))) with D_α(c) = D·X_c^α/Σ X^α, shifted by log(shift), kept
// where positive. It returns the matrix and its transpose.
func ppmiMatrix(t *coocTable, n int, alpha, shift float64) (m, mt *csr, rowSum []float64) {
	rowSum = make([]float64, n)
	type ent struct {
		r, c int32
		v    float32
	}
	var ents []ent
	for i, k := range t.keys {
		if k == 0 {
			continue
		}
		a, b := int32(k>>32), int32(uint32(k))
		v := t.vals[i]
		ents = append(ents, ent{a, b, v})
		rowSum[a] += float64(v)
		if a != b {
			ents = append(ents, ent{b, a, v})
			rowSum[b] += float64(v)
		}
	}
	var total, totalA float64
	for _, s := range rowSum {
		total += s
		totalA += math.Pow(s, alpha)
	}
	logShift := math.Log(shift)
	kept := ents[:0]
	for _, e := range ents {
		pmi := math.Log(float64(e.v)) + math.Log(totalA) - math.Log(rowSum[e.r]) - alpha*math.Log(rowSum[e.c]) - logShift
		if pmi > 0 {
			kept = append(kept, ent{e.r, e.c, float32(pmi)})
		}
	}
	build := func(transpose bool) *csr {
		es := slices.Clone(kept)
		if transpose {
			for i := range es {
				es[i].r, es[i].c = es[i].c, es[i].r
			}
		}
		slices.SortFunc(es, func(x, y ent) int {
			if x.r != y.r {
				return cmp.Compare(x.r, y.r)
			}
			return cmp.Compare(x.c, y.c)
		})
		m := &csr{n: n, rowPtr: make([]int64, n+1), col: make([]int32, len(es)), val: make([]float32, len(es))}
		for i, e := range es {
			m.rowPtr[e.r+1]++
			m.col[i] = e.c
			m.val[i] = e.v
		}
		for i := range n {
			m.rowPtr[i+1] += m.rowPtr[i]
		}
		return m
	}
	return build(false), build(true), rowSum
}

// mulDense computes Y = M·X for X of n×l row-major. Rows are split between
// workers; each output row is computed by one worker in a fixed order, so
// the result does not depend on scheduling.
func (m *csr) mulDense(x []float64, l, workers int) []float64 {
	y := make([]float64, m.n*l)
	var wg sync.WaitGroup
	chunk := (m.n + workers - 1) / workers
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, m.n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				yr := y[i*l : i*l+l]
				for p := m.rowPtr[i]; p < m.rowPtr[i+1]; p++ {
					v := float64(m.val[p])
					xr := x[int(m.col[p])*l : int(m.col[p])*l+l]
					for k, xv := range xr {
						yr[k] += v * xv
					}
				}
			}
		}()
	}
	wg.Wait()
	return y
}

// orthonormalize replaces the columns of the n×l row-major matrix by an
// orthonormal basis of their span (modified Gram-Schmidt, twice for
// stability), working on a column-major copy for cache locality.
func orthonormalize(a []float64, n, l int) {
	cols := make([][]float64, l)
	for k := range l {
		c := make([]float64, n)
		for i := range n {
			c[i] = a[i*l+k]
		}
		cols[k] = c
	}
	for pass := 0; pass < 2; pass++ {
		for k := range l {
			ck := cols[k]
			for j := 0; j < k; j++ {
				cj := cols[j]
				var d float64
				for i, v := range ck {
					d += v * cj[i]
				}
				for i := range ck {
					ck[i] -= d * cj[i]
				}
			}
			var nn float64
			for _, v := range ck {
				nn += v * v
			}
			nn = math.Sqrt(nn)
			if nn < 1e-300 {
				nn = 1
			}
			for i := range ck {
				ck[i] /= nn
			}
		}
	}
	for k, c := range cols {
		for i, v := range c {
			a[i*l+k] = v
		}
	}
}

// jacobiEigen diagonalizes a symmetric l×l matrix (row-major, destroyed),
// returning eigenvalues and eigenvectors as columns of v, by cyclic Jacobi
// rotations: exact enough and simple for l of a few hundred.
func jacobiEigen(a []float64, l int) (vals []float64, v []float64) {
	v = make([]float64, l*l)
	for i := range l {
		v[i*l+i] = 1
	}
	for sweep := 0; sweep < 60; sweep++ {
		var off float64
		for i := range l {
			for j := i + 1; j < l; j++ {
				off += a[i*l+j] * a[i*l+j]
			}
		}
		if off < 1e-22 {
			break
		}
		for p := 0; p < l; p++ {
			for q := p + 1; q < l; q++ {
				apq := a[p*l+q]
				if math.Abs(apq) < 1e-300 {
					continue
				}
				theta := (a[q*l+q] - a[p*l+p]) / (2 * apq)
				t := math.Copysign(1, theta) / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := range l {
					akp, akq := a[k*l+p], a[k*l+q]
					a[k*l+p] = c*akp - s*akq
					a[k*l+q] = s*akp + c*akq
				}
				for k := range l {
					apk, aqk := a[p*l+k], a[q*l+k]
					a[p*l+k] = c*apk - s*aqk
					a[q*l+k] = s*apk + c*aqk
				}
				for k := range l {
					vkp, vkq := v[k*l+p], v[k*l+q]
					v[k*l+p] = c*vkp - s*vkq
					v[k*l+q] = s*vkp + c*vkq
				}
			}
		}
	}
	vals = make([]float64, l)
	for i := range l {
		vals[i] = a[i*l+i]
	}
	return vals, v
}

// randomizedSVD returns the top-k left singular vectors scaled by
// singular value^power, n×k row-major (Halko, Martinsson & Tropp 2011,
// with q power iterations), plus the singular values.
func randomizedSVD(m, mt *csr, k, oversample, iters int, power float64, seed uint64, workers int, logf func(string, ...any)) ([]float64, []float64) {
	n := m.n
	l := k + oversample
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	omega := make([]float64, n*l)
	for i := range omega {
		omega[i] = rng.NormFloat64()
	}
	y := m.mulDense(omega, l, workers)
	orthonormalize(y, n, l)
	for it := range iters {
		z := mt.mulDense(y, l, workers)
		orthonormalize(z, n, l)
		y = m.mulDense(z, l, workers)
		orthonormalize(y, n, l)
		logf("svd: power iteration %d done", it+1)
	}
	// B = Qᵀ M is l×n; Bᵀ = Mᵀ Q. C = B Bᵀ = (Bᵀ)ᵀ Bᵀ.
	bt := mt.mulDense(y, l, workers)
	c := make([]float64, l*l)
	for i := range n {
		r := bt[i*l : i*l+l]
		for a := range l {
			ra := r[a]
			if ra == 0 {
				continue
			}
			ca := c[a*l : a*l+l]
			for b := a; b < l; b++ {
				ca[b] += ra * r[b]
			}
		}
	}
	for a := range l {
		for b := 0; b < a; b++ {
			c[a*l+b] = c[b*l+a]
		}
	}
	vals, vecs := jacobiEigen(c, l)
	order := make([]int, l)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(vals[b], vals[a]) })
	sv := make([]float64, k)
	out := make([]float64, n*k)
	for j := range k {
		col := order[j]
		s := math.Sqrt(math.Max(vals[col], 0))
		sv[j] = s
		scale := math.Pow(s, power)
		// Fix the sign so the largest-magnitude component is positive:
		// eigenvectors are defined up to sign, and this keeps the output
		// stable.
		for i := range n {
			var u float64
			for a := range l {
				u += y[i*l+a] * vecs[a*l+col]
			}
			out[i*k+j] = u * scale
		}
		var big float64
		for i := range n {
			if math.Abs(out[i*k+j]) > math.Abs(big) {
				big = out[i*k+j]
			}
		}
		if big < 0 {
			for i := range n {
				out[i*k+j] = -out[i*k+j]
			}
		}
	}
	return out, sv
}

func normalizeRows(v []float64, dim int) {
	for i := 0; i+dim <= len(v); i += dim {
		r := v[i : i+dim]
		var s float64
		for _, x := range r {
			s += x * x
		}
		if s == 0 {
			continue
		}
		s = 1 / math.Sqrt(s)
		for j := range r {
			r[j] *= s
		}
	}
}

// retrofit pulls each vector towards its neighbours in the lexicon graph
// (Faruqui et al. 2015): q_i ← (α·q̂_i + Σ_j β_ij q_j) / (α + Σ_j β_ij) with
// β_ij = 1/deg(i), updated in place in id order (deterministic).
func retrofit(vecs []float64, dim int, edges map[int32][]int32, alpha float64, iters int) {
	orig := slices.Clone(vecs)
	ids := make([]int32, 0, len(edges))
	for id := range edges {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	tmp := make([]float64, dim)
	for range iters {
		for _, i := range ids {
			nb := edges[i]
			if len(nb) == 0 {
				continue
			}
			beta := 1 / float64(len(nb))
			for j := range tmp {
				tmp[j] = alpha * orig[int(i)*dim+j]
			}
			for _, o := range nb {
				r := vecs[int(o)*dim : int(o)*dim+dim]
				for j, x := range r {
					tmp[j] += beta * x
				}
			}
			den := alpha + beta*float64(len(nb))
			for j := range tmp {
				vecs[int(i)*dim+j] = tmp[j] / den
			}
		}
	}
}

// removeTopComponent removes from every row the first principal direction
// of Σ_w f(w) v_w v_wᵀ (found by power iteration): the common component
// that frequency-weighted sums of token vectors all share (Arora, Liang &
// Ma 2017), which otherwise dominates every sentence embedding.
func removeTopComponent(vecs []float64, dim int, f []float64) []float64 {
	n := len(vecs) / dim
	cov := make([]float64, dim*dim)
	for i := range n {
		if f[i] == 0 {
			continue
		}
		r := vecs[i*dim : i*dim+dim]
		for a := range dim {
			ra := r[a] * f[i]
			ca := cov[a*dim : a*dim+dim]
			for b, rb := range r {
				ca[b] += ra * rb
			}
		}
	}
	u := make([]float64, dim)
	for i := range u {
		u[i] = 1 / math.Sqrt(float64(dim))
	}
	nu := make([]float64, dim)
	for range 200 {
		for a := range dim {
			var s float64
			for b := range dim {
				s += cov[a*dim+b] * u[b]
			}
			nu[a] = s
		}
		var nn float64
		for _, x := range nu {
			nn += x * x
		}
		nn = math.Sqrt(nn)
		for a := range u {
			u[a] = nu[a] / nn
		}
	}
	for i := range n {
		r := vecs[i*dim : i*dim+dim]
		var d float64
		for j, x := range r {
			d += x * u[j]
		}
		for j := range r {
			r[j] -= d * u[j]
		}
	}
	return u
}
