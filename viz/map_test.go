package viz

import (
	"bytes"
	"errors"
	"fmt"
	"image/png"
	"math"
	"strings"
	"testing"
)

func points(groups, each int) []Point {
	var pts []Point
	for g := range groups {
		for i := range each {
			a := float64(i) / float64(each) * 2 * math.Pi
			pts = append(pts, Point{X: float64(10*g) + math.Cos(a), Y: math.Sin(a), Group: fmt.Sprintf("group %d", g)})
		}
	}
	return pts
}

func TestWriteMap(t *testing.T) {
	pts := points(13, 20-1)
	pts = append(pts, Point{X: 0, Y: 0, Group: "group 0"})
	var svg, again bytes.Buffer
	o := MapOptions{Format: "svg", Title: "t", XLabel: "x", YLabel: "y"}
	if err := WriteMap(&svg, pts, o); err != nil {
		t.Fatal(err)
	}
	if err := WriteMap(&again, pts, o); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(svg.Bytes(), again.Bytes()) {
		t.Fatal("the same points drew different SVGs")
	}
	s := svg.String()
	if !strings.HasPrefix(s, "<?xml") || !strings.Contains(s, "<svg") {
		t.Fatalf("not an SVG: %.80q", s)
	}
	// The largest group is labelled; beyond MaxGroups, groups are "other".
	for _, want := range []string{"group 0", "other (3 groups)"} {
		if !strings.Contains(s, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	var pngBuf bytes.Buffer
	if err := WriteMap(&pngBuf, pts, MapOptions{Format: "png", Width: 4, Height: 3}); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&pngBuf)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 4*96 || b.Dy() != 3*96 {
		t.Fatalf("PNG is %v, want 384×288", b)
	}
}

func TestWriteMapBadInput(t *testing.T) {
	ok := points(2, 3)
	cases := []struct {
		name string
		pts  []Point
		o    MapOptions
	}{
		{"format", ok, MapOptions{Format: "gif"}},
		{"no points", nil, MapOptions{Format: "svg"}},
		{"nan", []Point{{X: math.NaN()}}, MapOptions{Format: "svg"}},
		{"inf", []Point{{Y: math.Inf(1)}}, MapOptions{Format: "png"}},
		{"groups", ok, MapOptions{Format: "svg", MaxGroups: 99}},
		{"size", ok, MapOptions{Format: "svg", Width: -1}},
	}
	for _, tc := range cases {
		if err := WriteMap(&bytes.Buffer{}, tc.pts, tc.o); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", tc.name, err)
		}
	}
}
