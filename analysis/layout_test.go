package analysis

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// TestNeighborLayoutSeparatesBlobs puts 12 blobs along 12 orthogonal
// directions of 48 dimensions: any 2-D linear projection overlays most of
// them, while the neighbour layout must keep each blob together: a point's
// nearest point in the layout belongs to its own blob.
func TestNeighborLayoutSeparatesBlobs(t *testing.T) {
	k, per, dim := 12, 40, 48
	if testing.Short() {
		// Small enough for -race; PCA may then separate the blobs too.
		k, per = 8, 20
	}
	// Centres 3·e_c, noise N(0, 0.3²): in 48 dimensions a point's nearest
	// neighbours are in its blob, but two dimensions of noise blur the
	// blobs' linear projections into each other.
	rng := rand.New(rand.NewPCG(5, 5))
	data := make([]float32, 0, k*per*dim)
	truth := make([]int, 0, k*per)
	for i := range k * per {
		c := i % k
		truth = append(truth, c)
		for j := range dim {
			v := 0.3 * rng.NormFloat64()
			if j == c {
				v += 3
			}
			data = append(data, float32(v))
		}
	}
	for _, spherical := range []bool{false, true} {
		y, err := NeighborLayout(context.Background(), data, dim, spherical, 1)
		if err != nil {
			t.Fatal(err)
		}
		pca, err := PCA(context.Background(), data, dim, 2, 1)
		if err != nil {
			t.Fatal(err)
		}
		xy, _ := pca.Project(data)
		p := make([][2]float64, len(xy))
		for i := range xy {
			p[i] = [2]float64{xy[i][0], xy[i][1]}
		}
		layout, linear := nnAgreement(y, truth), nnAgreement(p, truth)
		t.Logf("spherical=%v: nearest point in the same blob: layout %.3f, PCA %.3f", spherical, layout, linear)
		if layout < 0.98 {
			t.Errorf("spherical=%v: the layout keeps %.3f of points next to their blob (PCA: %.3f)", spherical, layout, linear)
		}
		if linear > 0.9 && !testing.Short() {
			t.Errorf("spherical=%v: PCA already separates the blobs (%.3f); the test shows nothing", spherical, linear)
		}
	}
	a, _ := NeighborLayout(context.Background(), data, dim, true, 7)
	b, _ := NeighborLayout(context.Background(), data, dim, true, 7)
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("the same seed gave different layouts")
		}
	}
}

// nnAgreement is the fraction of points whose nearest other point in the
// plane has the same label.
func nnAgreement(p [][2]float64, labels []int) float64 {
	ok := 0
	for i := range p {
		best, bd := -1, math.Inf(1)
		for j := range p {
			if j == i {
				continue
			}
			dx, dy := p[i][0]-p[j][0], p[i][1]-p[j][1]
			if d := dx*dx + dy*dy; d < bd {
				best, bd = j, d
			}
		}
		if labels[best] == labels[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(p))
}

func TestNeighborLayoutBadInput(t *testing.T) {
	if _, err := NeighborLayout(context.Background(), []float32{1, 2}, 2, false, 1); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("one row: %v", err)
	}
	big := make([]float32, (MaxLayoutRows+1)*1)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range big {
		big[i] = rng.Float32()
	}
	if _, err := NeighborLayout(context.Background(), big, 1, false, 1); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("too many rows: %v", err)
	}
	if _, err := NeighborLayout(context.Background(), []float32{0, 0, 1, 1}, 2, true, 1); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("zero row, spherical: %v", err)
	}
}
