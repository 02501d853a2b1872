package metrics

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
)

func TestRecallAtK(t *testing.T) {
	truth := [][]int32{{1, 2, 3, 4}, {5, 6, 7, 8}}
	tests := []struct {
		name string
		got  [][]int32
		k    int
		want float64
	}{
		{"perfect", [][]int32{{1, 2, 3, 4}, {5, 6, 7, 8}}, 4, 1},
		{"order ignored", [][]int32{{4, 3, 2, 1}, {8, 7, 6, 5}}, 4, 1},
		{"half", [][]int32{{1, 2, 9, 9}, {5, 6, 10, 11}}, 4, 0.5},
		{"k cuts truth", [][]int32{{1, 2}, {6, 5}}, 2, 1},
		{"k cuts answers", [][]int32{{9, 1, 2, 3}, {5, 0, 0, 0}}, 2, 0.5},
		{"short answers", [][]int32{{1}, {}}, 4, 0.125},
		{"k beyond truth", [][]int32{{1, 2, 3, 4}, {5, 6, 7, 8}}, 10, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := RecallAtK(tc.got, truth, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(r-tc.want) > 1e-12 {
				t.Fatalf("recall %v, want %v", r, tc.want)
			}
		})
	}
}

func TestRecallErrors(t *testing.T) {
	if _, err := RecallAtK(nil, nil, 10); err == nil {
		t.Fatal("zero queries accepted")
	}
	if _, err := RecallAtK([][]int32{{1}}, [][]int32{{1}, {2}}, 1); err == nil {
		t.Fatal("length mismatch accepted")
	}
	if _, err := RecallAtK([][]int32{{1}}, [][]int32{{1}}, 0); err == nil {
		t.Fatal("k=0 accepted")
	}
	if _, err := RecallAtK([][]int32{{1}}, [][]int32{{}}, 1); err == nil {
		t.Fatal("empty truth accepted")
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	tests := []struct {
		p    float64
		want time.Duration
	}{{50, 50}, {99, 99}, {100, 100}, {1, 1}, {0.5, 1}}
	for _, tc := range tests {
		if got := Percentile(d, tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
	if Percentile(nil, 50) != 0 {
		t.Error("empty percentile not zero")
	}
	if got := Percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("single = %v", got)
	}
}

func TestTimed(t *testing.T) {
	seen := make([]int, 50)
	r, err := Timed(context.Background(), 50, 3, func(_, i int) error { seen[i]++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("call %d ran %d times", i, c)
		}
	}
	if r.Queries != 50 || r.Threads != 3 || r.QPS <= 0 || r.P99 < r.P50 {
		t.Fatalf("bad run %+v", r)
	}
	boom := errors.New("boom")
	if _, err := Timed(context.Background(), 10, 2, func(_, i int) error {
		if i == 3 {
			return boom
		}
		return nil
	}); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if _, err := Timed(context.Background(), 0, 1, nil); err == nil {
		t.Fatal("n=0 accepted")
	}
}

func TestReadMem(t *testing.T) {
	m, err := ReadMem()
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if m.RSS <= 0 || m.HWM < m.RSS/2 {
		t.Fatalf("implausible %+v", m)
	}
}
