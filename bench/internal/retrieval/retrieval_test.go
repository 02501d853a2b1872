package retrieval

import (
	"math"
	"slices"
	"testing"
)

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name      string
		ranked    [][]int
		rel       [][]int
		k         int
		ndcg, rec float64
	}{
		{"first", [][]int{{7, 1, 2}}, [][]int{{7}}, 10, 1, 1},
		{"second", [][]int{{1, 7, 2}}, [][]int{{7}}, 10, 1 / math.Log2(3), 1},
		{"beyond k", [][]int{{1, 2, 7}}, [][]int{{7}}, 2, 0, 0},
		{"missing", [][]int{{1, 2}}, [][]int{{7}}, 10, 0, 0},
		{"two relevant, one found first", [][]int{{3, 9}}, [][]int{{3, 4}}, 10, 1 / (1 + 1/math.Log2(3)), 0.5},
		{"mean over queries", [][]int{{7}, {1}}, [][]int{{7}, {7}}, 10, 0.5, 0.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Evaluate(tc.ranked, tc.rel, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(s.NDCG-tc.ndcg) > 1e-12 || math.Abs(s.Recall-tc.rec) > 1e-12 {
				t.Fatalf("got ndcg %v recall %v, want %v %v", s.NDCG, s.Recall, tc.ndcg, tc.rec)
			}
		})
	}
}

func TestEvaluateErrors(t *testing.T) {
	cases := []struct {
		name   string
		ranked [][]int
		rel    [][]int
		k      int
	}{
		{"k zero", [][]int{{1}}, [][]int{{1}}, 0},
		{"length", [][]int{{1}}, [][]int{{1}, {2}}, 10},
		{"empty", nil, nil, 10},
		{"no relevant", [][]int{{1}}, [][]int{{}}, 10},
		{"duplicate", [][]int{{1, 1}}, [][]int{{1}}, 10},
	}
	for _, c := range cases {
		if _, err := Evaluate(c.ranked, c.rel, c.k); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}

func TestTerms(t *testing.T) {
	got := Terms("GNU's C-compiler, v12.2 (Ünïcode)!")
	want := []string{"gnu", "s", "c", "compiler", "v12", "2", "ünïcode"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestBM25(t *testing.T) {
	docs := []string{
		"the quick brown fox jumps over the lazy dog",
		"a fast compiler for the C programming language",
		"compiler compiler compiler",
		"tools for brown bears",
	}
	ix := NewBM25(docs)
	if got := ix.Search("C compiler", 10); len(got) != 2 || got[0] != 1 {
		// Doc 1 matches both terms; doc 2 only repeats one.
		t.Fatalf("C compiler: %v", got)
	}
	if got := ix.Search("brown", 1); !slices.Equal(got, []int{3}) {
		// Equal tf, shorter document wins.
		t.Fatalf("brown: %v", got)
	}
	if got := ix.Search("zebra", 10); len(got) != 0 {
		t.Fatalf("zebra: %v", got)
	}
	if got := NewBM25(nil).Search("x", 3); len(got) != 0 {
		t.Fatalf("empty index: %v", got)
	}
}
