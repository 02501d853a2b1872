package main

import (
	"slices"
	"strings"
	"testing"
)

func TestEvenSample(t *testing.T) {
	texts := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	tests := []struct {
		n    int
		want []string
	}{
		{n: 4, want: []string{"a", "c", "e", "g"}},
		{n: 3, want: []string{"a", "c", "f"}},
		{n: 1, want: []string{"a"}},
		{n: 8, want: texts},
		{n: 20, want: texts},
	}
	for _, tt := range tests {
		if got := evenSample(texts, tt.n); !slices.Equal(got, tt.want) {
			t.Errorf("evenSample(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

func TestCheckAgreement(t *testing.T) {
	ref := [][]float32{{1, 0}, {0, 2}}
	tests := []struct {
		name    string
		got     [][]float32
		want    float64
		wantErr string
	}{
		{name: "same direction, other length", got: [][]float32{{3, 0}, {0, 0.5}}, want: 1},
		{name: "one vector turned", got: [][]float32{{1, 0}, {1, 1}}, want: 0.7071, wantErr: "lowest cosine 0.707107"},
		{name: "within 0.999", got: [][]float32{{1, 0.04}, {0, 1}}, want: 0.9992},
		{name: "count differs", got: [][]float32{{1, 0}}, wantErr: "1 embeddings against 2"},
		{name: "dimension differs", got: [][]float32{{1, 0}, {0, 1, 0}}, wantErr: "dimension 3 against 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := checkAgreement("x", tt.got, ref)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c < tt.want-1e-4 || c > tt.want+1e-4 {
				t.Fatalf("cosine %.6f, want %.4f", c, tt.want)
			}
		})
	}
}

func TestColumnPrecision(t *testing.T) {
	whole := column{prec: 0}
	tests := []struct {
		c    column
		v    float64
		want int
	}{
		{whole, 0.53, 2},
		{whole, 9.9, 2},
		{whole, 126, 0},
		{whole, 0, 0},
		{whole, 6, 0},
		{column{prec: 4}, 0.5, 4},
	}
	for _, tt := range tests {
		if got := tt.c.precFor(tt.v); got != tt.want {
			t.Errorf("precFor(%v) with prec %d = %d, want %d", tt.v, tt.c.prec, got, tt.want)
		}
	}
}
