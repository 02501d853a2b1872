package bert

import "math"

// The activations are computed with the formulas below rather than
// math.Exp and math.Erf: those are float64 and scalar, and took half of the
// forward pass's time (exp in softmax, erf in GELU). These are accurate to
// about 1e-7, far inside the 1e-4 the outputs are held to, and have
// eight-lane assembly forms (activation_amd64.s).

// Coefficients of Cephes' expf and of Abramowitz & Stegun 7.1.26.
const (
	expClampLo = -87.33654
	expC1      = 0.693359375
	expC2      = -2.12194440e-4
	asP        = 0.3275911
	asA1       = 0.254829592
	asA2       = -0.284496736
	asA3       = 1.421413741
	asA4       = -1.453152027
	asA5       = 1.061405429
)

// expf returns e^x for x ≤ 88 (inputs below -87.3 give about 1e-38, not 0).
func expf(x float32) float32 {
	x = max(x, expClampLo)
	n := float32(math.RoundToEven(float64(x * math.Log2E)))
	r := x - n*expC1
	r -= n * expC2
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	p = p*r*r + r + 1
	return math.Float32frombits(math.Float32bits(p) + uint32(int32(n))<<23)
}

// geluf returns x/2·(1 + erf(x/√2)).
func geluf(x float32) float32 {
	z := float32(math.Abs(float64(x))) * (1 / math.Sqrt2)
	t := 1 / (1 + asP*z)
	poly := t * (asA1 + t*(asA2+t*(asA3+t*(asA4+t*asA5))))
	erf := 1 - poly*expf(-z*z)
	if x < 0 {
		erf = -erf
	}
	return 0.5 * x * (1 + erf)
}

// expSumGo sets s[i] = exp((s[i]-mx)·scale) and returns the sum.
func expSumGo(s []float32, mx, scale float32) float32 {
	var sum float32
	for j, v := range s {
		e := expf((v - mx) * scale)
		s[j] = e
		sum += e
	}
	return sum
}

func geluGo(v []float32) {
	for i, x := range v {
		v[i] = geluf(x)
	}
}
