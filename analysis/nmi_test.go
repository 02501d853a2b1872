package analysis

import (
	"errors"
	"math"
	"testing"
)

func TestNMI(t *testing.T) {
	cases := []struct {
		name string
		a, b []int
		want float64
	}{
		{"identical", []int{0, 0, 1, 1, 2, 2}, []int{0, 0, 1, 1, 2, 2}, 1},
		{"renamed", []int{0, 0, 1, 1, 2, 2}, []int{5, 5, 3, 3, 9, 9}, 1},
		{"independent", []int{0, 0, 1, 1}, []int{0, 1, 0, 1}, 0},
		{"both-single", []int{1, 1, 1}, []int{2, 2, 2}, 1},
		{"one-single", []int{1, 1, 1, 1}, []int{0, 0, 1, 1}, 0},
		// a splits {0,1,2,3} as {0,1},{2,3}; b as {0},{1,2,3}:
		// H(a) = ln 2, H(b) = -(1/4 ln 1/4 + 3/4 ln 3/4),
		// I = H(a) + H(b) - H(a,b), H(a,b) over {1/4,1/4,1/2}.
		{"worked", []int{0, 0, 1, 1}, []int{0, 1, 1, 1}, func() float64 {
			ha := math.Log(2)
			hb := -(0.25*math.Log(0.25) + 0.75*math.Log(0.75))
			hab := -(0.25*math.Log(0.25)*2 + 0.5*math.Log(0.5))
			return (ha + hb - hab) / ((ha + hb) / 2)
		}()},
	}
	for _, tc := range cases {
		got, err := NMI(tc.a, tc.b)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: NMI %v, want %v", tc.name, got, tc.want)
		}
	}
	if _, err := NMI([]int{1}, []int{1, 2}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("different lengths: %v", err)
	}
	if _, err := NMI(nil, nil); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("empty: %v", err)
	}
}
