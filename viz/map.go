// Package viz draws pictures of collections: a scatter map of points in two
// dimensions (for example db.Collection.Map's projection), coloured by
// group, as SVG or PNG, with gonum.org/v1/plot (already the bench's plotting
// library). It knows nothing of databases: callers hand it plain points, so
// that a Go program draws exactly what `vecbolt map` draws.
//
// Output is deterministic: the same points and options give the same bytes
// (groups are ordered by size, then name; colours follow that order).
package viz

import (
	"cmp"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ErrInvalid is wrapped by errors about the caller's points or options.
var ErrInvalid = errors.New("viz: invalid input")

// Point is one point of a map.
type Point struct {
	X, Y float64
	// Group selects the colour; "" is a group like any other.
	Group string
}

// MapOptions describe the picture.
type MapOptions struct {
	// Format is "svg" or "png".
	Format string
	// Title, XLabel and YLabel annotate the plot (may be empty).
	Title, XLabel, YLabel string
	// MaxGroups is how many of the largest groups get their own colour,
	// legend entry and a label at their median point (default 10, at most
	// len(Palette())); the other points are drawn grey as "other".
	MaxGroups int
	// Width and Height in inches (default 8 × 6).
	Width, Height float64
}

// Palette is the colours of the groups, largest group first.
func Palette() []color.Color {
	hex := []uint32{0x1f77b4, 0xd62728, 0x2ca02c, 0xff7f0e, 0x9467bd, 0x8c564b, 0xe377c2, 0x17becf, 0xbcbd22, 0x393b79, 0xad494a, 0x637939}
	out := make([]color.Color, len(hex))
	for i, h := range hex {
		out[i] = color.NRGBA{R: uint8(h >> 16), G: uint8(h >> 8), B: uint8(h), A: 0xc0}
	}
	return out
}

// otherColor draws the points of groups beyond MaxGroups.
var otherColor = color.NRGBA{R: 0x99, G: 0x99, B: 0x99, A: 0x80}

// maxLabel caps a group label's length on the picture.
const maxLabel = 32

// WriteMap draws points as a scatter plot into w.
func WriteMap(w io.Writer, points []Point, o MapOptions) error {
	if o.Format != "svg" && o.Format != "png" {
		return fmt.Errorf("%w: format %q: want svg or png", ErrInvalid, o.Format)
	}
	if len(points) == 0 {
		return fmt.Errorf("%w: no points to draw", ErrInvalid)
	}
	for i, p := range points {
		if math.IsNaN(p.X) || math.IsNaN(p.Y) || math.IsInf(p.X, 0) || math.IsInf(p.Y, 0) {
			return fmt.Errorf("%w: point %d has a non-finite coordinate", ErrInvalid, i)
		}
	}
	pal := Palette()
	if o.MaxGroups == 0 {
		o.MaxGroups = 10
	}
	if o.MaxGroups < 0 || o.MaxGroups > len(pal) {
		return fmt.Errorf("%w: MaxGroups %d: want 1..%d", ErrInvalid, o.MaxGroups, len(pal))
	}
	if o.Width == 0 {
		o.Width = 8
	}
	if o.Height == 0 {
		o.Height = 6
	}
	if !(o.Width > 0 && o.Width <= 100 && o.Height > 0 && o.Height <= 100) {
		return fmt.Errorf("%w: size %v × %v inches: want (0, 100]", ErrInvalid, o.Width, o.Height)
	}
	byGroup := map[string]plotter.XYs{}
	for _, p := range points {
		byGroup[p.Group] = append(byGroup[p.Group], plotter.XY{X: p.X, Y: p.Y})
	}
	groups := make([]string, 0, len(byGroup))
	for g := range byGroup {
		groups = append(groups, g)
	}
	slices.SortFunc(groups, func(a, b string) int {
		if c := cmp.Compare(len(byGroup[b]), len(byGroup[a])); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = o.Title, o.XLabel, o.YLabel
	p.Legend.Top = true
	p.Legend.ThumbnailWidth = vg.Points(8)
	radius := vg.Points(1.6)
	if len(points) > 20_000 {
		radius = vg.Points(0.9)
	}
	shown := groups
	if len(groups) > o.MaxGroups {
		shown = groups[:o.MaxGroups]
		var rest plotter.XYs
		for _, g := range groups[o.MaxGroups:] {
			rest = append(rest, byGroup[g]...)
		}
		sc, err := plotter.NewScatter(rest)
		if err != nil {
			return err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: otherColor, Radius: radius, Shape: draw.CircleGlyph{}}
		p.Add(sc)
		p.Legend.Add(fmt.Sprintf("other (%d groups)", len(groups)-o.MaxGroups), sc)
	}
	var labels plotter.XYLabels
	for i, g := range shown {
		sc, err := plotter.NewScatter(byGroup[g])
		if err != nil {
			return err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: pal[i], Radius: radius, Shape: draw.CircleGlyph{}}
		p.Add(sc)
		if len(groups) > 1 || g != "" {
			name := shorten(g)
			p.Legend.Add(name, sc)
			labels.XYs = append(labels.XYs, median(byGroup[g]))
			labels.Labels = append(labels.Labels, name)
		}
	}
	if len(labels.XYs) > 0 {
		l, err := plotter.NewLabels(labels)
		if err != nil {
			return err
		}
		for i := range l.TextStyle {
			l.TextStyle[i].Color = color.Black
			l.TextStyle[i].Font.Size = vg.Points(9)
			l.TextStyle[i].XAlign = draw.XCenter
		}
		p.Add(l)
	}
	wt, err := p.WriterTo(vg.Length(o.Width)*vg.Inch, vg.Length(o.Height)*vg.Inch, o.Format)
	if err != nil {
		return err
	}
	_, err = wt.WriteTo(w)
	return err
}

// median is the coordinate-wise median of the points: a label spot inside
// the bulk of a group, unlike the mean, which an outlying few can drag
// into another group.
func median(pts plotter.XYs) plotter.XY {
	xs := make([]float64, len(pts))
	ys := make([]float64, len(pts))
	for i, p := range pts {
		xs[i], ys[i] = p.X, p.Y
	}
	slices.Sort(xs)
	slices.Sort(ys)
	return plotter.XY{X: xs[len(xs)/2], Y: ys[len(ys)/2]}
}

func shorten(s string) string {
	if s == "" {
		return "(empty)"
	}
	if r := []rune(s); len(r) > maxLabel {
		return string(r[:maxLabel-1]) + "…"
	}
	return s
}
