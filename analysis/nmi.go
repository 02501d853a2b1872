package analysis

import "math"

// NMI returns the normalized mutual information of two labellings of the
// same items: I(a; b) / ((H(a) + H(b)) / 2), the arithmetic-mean
// normalization (scikit-learn's default), in [0, 1]. 1 means the
// labellings are the same partition whatever the label values; independent
// labellings score near 0. When both are a single group the partitions are
// identical and NMI is 1; when only one is, it is 0.
func NMI(a, b []int) (float64, error) {
	if len(a) != len(b) {
		return 0, invalidf("labellings of %d and %d items", len(a), len(b))
	}
	if len(a) == 0 {
		return 0, invalidf("no items to compare")
	}
	type pair struct{ x, y int }
	joint := map[pair]int{}
	ca, cb := map[int]int{}, map[int]int{}
	for i := range a {
		joint[pair{a[i], b[i]}]++
		ca[a[i]]++
		cb[b[i]]++
	}
	n := float64(len(a))
	entropy := func(c map[int]int) float64 {
		var h float64
		for _, v := range c {
			p := float64(v) / n
			h -= p * math.Log(p)
		}
		return h
	}
	ha, hb := entropy(ca), entropy(cb)
	if ha == 0 && hb == 0 {
		return 1, nil
	}
	if ha == 0 || hb == 0 {
		return 0, nil
	}
	var mi float64
	for p, v := range joint {
		pxy := float64(v) / n
		mi += pxy * math.Log(pxy*n*n/(float64(ca[p.x])*float64(cb[p.y])))
	}
	return math.Max(0, math.Min(1, mi/((ha+hb)/2))), nil
}
