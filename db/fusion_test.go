package db

import (
	"errors"
	"math"
	"testing"
)

// TestFusionExact checks the fusion functions against answers worked out
// by hand.
func TestFusionExact(t *testing.T) {
	// Vector: labels 1, 2, 3 with cosine 0.9, 0.5, 0.1.
	// Keyword: labels 3, 4 with BM25 8 and 2.
	vec := []ranked{{1, 0.9}, {2, 0.5}, {3, 0.1}}
	kw := []ranked{{3, 8}, {4, 2}}
	type want struct {
		label uint64
		score float64
	}
	tests := []struct {
		name string
		got  []fused
		want []want
	}{
		{
			// 0.5/61 + 0 ; 0.5/62 ; 0.5/63 + 0.5/61 ; 0.5/62
			name: "rrf alpha 0.5 k 60",
			got:  fuseRRF(vec, kw, 0.5, 60),
			want: []want{{3, 0.5/63 + 0.5/61}, {1, 0.5 / 61}, {2, 0.5 / 62}, {4, 0.5 / 62}},
		},
		{
			// label 1: 0.8/2 = 0.4; 2: 0.8/3; 3: 0.8/4 + 0.2/2; 4: 0.2/3.
			name: "rrf alpha 0.8 k 1",
			got:  fuseRRF(vec, kw, 0.8, 1),
			want: []want{{1, 0.4}, {3, 0.2 + 0.1}, {2, 0.8 / 3}, {4, 0.2 / 3}},
		},
		{
			// Theoretical min: cosine lo -1, best 0.9: (s+1)/1.9; BM25
			// lo 0, best 8: s/8.
			name: "convex theoretical-min alpha 0.5",
			got:  fuseConvex(vec, kw, 0.5, normTheoreticalMin, -1, true),
			want: []want{{3, 0.5*1.1/1.9 + 0.5}, {1, 0.5}, {2, 0.5 * 1.5 / 1.9}, {4, 0.5 * 0.25}},
		},
		{
			// Min-max: vector (s-0.1)/0.8, keyword (s-2)/6.
			name: "convex min-max alpha 0.5",
			got:  fuseConvex(vec, kw, 0.5, normMinMax, -1, true),
			want: []want{{1, 0.5}, {3, 0.5}, {2, 0.25}, {4, 0}},
		},
		{
			// No theoretical minimum (dot product): the lowest vector
			// candidate stands in; BM25 keeps 0.
			name: "convex theoretical-min without metric minimum",
			got:  fuseConvex(vec, kw, 0.25, normTheoreticalMin, 0, false),
			want: []want{{3, 0.75}, {1, 0.25}, {4, 0.75 * 0.25}, {2, 0.25 * 0.5}},
		},
		{
			name: "alpha 1 is vector order",
			got:  fuseConvex(vec, kw, 1, normTheoreticalMin, -1, true),
			want: []want{{1, 1}, {2, 1.5 / 1.9}, {3, 1.1 / 1.9}, {4, 0}},
		},
		{
			name: "one side empty",
			got:  fuseConvex(nil, kw, 0.5, normMinMax, -1, true),
			want: []want{{3, 0.5}, {4, 0}},
		},
		{
			name: "both empty",
			got:  fuseRRF(nil, nil, 0.5, 60),
			want: []want{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.got) != len(tc.want) {
				t.Fatalf("got %d results %+v, want %d", len(tc.got), tc.got, len(tc.want))
			}
			for i, w := range tc.want {
				g := tc.got[i]
				// The inputs are float32 (0.9 is 0.899999976...), so the
				// answers agree to float32 precision.
				if g.label != w.label || math.Abs(g.score-w.score) > 1e-7 {
					t.Errorf("#%d: label %d score %.15f, want label %d score %.15f", i, g.label, g.score, w.label, w.score)
				}
			}
		})
	}
}

// TestFusionTiesAndExplain checks that ties break by best rank on either
// side, then by label, and that each fused result carries both sides'
// scores and ranks.
func TestFusionTiesAndExplain(t *testing.T) {
	// Labels 7 and 5 tie in RRF (rank 1 on one side each); 7 is first on
	// the vector side, 5 on the keyword side: equal best rank, so label
	// order decides.
	got := fuseRRF([]ranked{{7, 0.3}, {9, 0.2}}, []ranked{{5, 4}, {9, 1}}, 0.5, 60)
	wantOrder := []uint64{9, 5, 7}
	for i, l := range wantOrder {
		if got[i].label != l {
			t.Fatalf("order %v, want %v", got, wantOrder)
		}
	}
	nine := got[0]
	if nine.vecRank != 2 || nine.kwRank != 2 || nine.vecScore != 0.2 || nine.kwScore != 1 {
		t.Errorf("label 9 explained as %+v", nine)
	}
	if got[1].vecRank != 0 || got[1].kwRank != 1 || got[2].kwRank != 0 || got[2].vecRank != 1 {
		t.Errorf("absent sides must have rank 0: %+v", got)
	}
}

// TestFuseResults checks the exported fusion against the same hand-made
// answer, and its argument checks.
func TestFuseResults(t *testing.T) {
	vec := []Result{{ID: "a", Score: 0.9}, {ID: "b", Score: 0.5}, {ID: "c", Score: 0.1}}
	kw := []Result{{ID: "c", Score: 8}, {ID: "d", Score: 2}}
	res, err := FuseResults(vec, kw, Cosine, 3, WithFusion(FusionRRF), WithAlpha(0.5))
	if err != nil {
		t.Fatal(err)
	}
	wantIDs := []string{"c", "a", "b"}
	for i, r := range res {
		if r.ID != wantIDs[i] {
			t.Fatalf("IDs %v, want %v", res, wantIDs)
		}
	}
	if x := res[0].Explain; x == nil || x.VectorRank != 3 || x.KeywordRank != 1 || x.KeywordScore != 8 || math.Abs(float64(res[0].Score)-(0.5/63+0.5/61)) > 1e-6 {
		t.Errorf("c: %+v %+v", res[0], res[0].Explain)
	}
	for _, tc := range []struct {
		name string
		vec  []Result
		opts []SearchOption
	}{
		{"repeated ID", []Result{{ID: "a"}, {ID: "a"}}, nil},
		{"alpha above 1", vec, []SearchOption{WithAlpha(1.5)}},
		{"alpha NaN", vec, []SearchOption{WithAlpha(math.NaN())}},
		{"unknown fusion", vec, []SearchOption{WithFusion(Fusion(42))}},
		{"RRF k negative", vec, []SearchOption{WithRRFK(-1)}},
	} {
		if _, err := FuseResults(tc.vec, kw, Cosine, 3, tc.opts...); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", tc.name, err)
		}
	}
}
