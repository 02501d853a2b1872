package main

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// hnswlibRef is hnswlib's curve from shared/notes/anchors.md: the same
// 100k × 384 clustered recipe, M=16, efConstruction=200, one thread, on the
// same machine type but in a separate run. ef, recall@10, QPS.
func hnswlibRef() [][3]float64 {
	return [][3]float64{{16, 0.878, 12800}, {24, 0.941, 10900}, {32, 0.969, 10500}, {48, 0.990, 8900}, {96, 0.9995, 5500}}
}

// zoomFrom is where the zoomed recall plots start.
const zoomFrom = 0.85

func palette() []color.Color {
	return []color.Color{
		color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
		color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
		color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
		color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
		color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
		color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
		color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
	}
}

// plot writes the plots for whatever the run measured.
func (b *bench) plot(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var written []string
	for _, t := range []int{1, 2} {
		for _, zoom := range []bool{false, true} {
			name := fmt.Sprintf("ann-recall-qps-%dt", t)
			if zoom {
				name += "-zoom"
			}
			name += "." + b.cfg.plotFormat
			ok, err := b.plotRecallQPS(filepath.Join(dir, name), t, zoom)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if ok {
				written = append(written, name)
			}
		}
	}
	bars := []struct {
		file, title, ylabel string
		pick                func(*Measurement) (string, *float64)
	}{
		{"build-throughput", "Graph build throughput (ann suite; M=16, efConstruction=200)", "vectors/s",
			func(m *Measurement) (string, *float64) {
				// The exact index and chromem-go only append vectors; their
				// "build" figures are in the tables, not on this chart.
				if m.Suite != "ann" || m.Params["phase"] != "build" || (m.System != "vecbolt-hnsw" && m.System != "coder-hnsw" && m.System != "hnswlib") {
					return "", nil
				}
				return fmt.Sprintf("%s\n%v thread(s)", m.System, m.Params["threads"]), m.BuildVPS
			}},
		{"db-insert", "Insert throughput through the database (db suite)", "documents/s",
			func(m *Measurement) (string, *float64) {
				if m.Suite != "db" || m.Params["phase"] != "insert" {
					return "", nil
				}
				return m.System + "\n" + m.Dataset, m.DocsPerS
			}},
		{"embed-throughput", "Embedding throughput, 1 thread, batch 32", "texts/s",
			func(m *Measurement) (string, *float64) {
				if m.Suite != "embed" {
					return "", nil
				}
				return fmt.Sprintf("%s\n%s", m.System, m.Dataset[len("demo-corpus-"):]), m.EmbedsPerS
			}},
	}
	for _, bc := range bars {
		var labels []string
		var vals plotter.Values
		for i := range b.rep.all {
			if l, v := bc.pick(&b.rep.all[i]); v != nil {
				labels = append(labels, l)
				vals = append(vals, *v)
			}
		}
		if bc.file == "build-throughput" && len(vals) > 0 && b.cfg.n == 100_000 {
			labels = append(labels, "anchors.md hnswlib\n1 thread(s)", "anchors.md hnswlib\n2 thread(s)")
			vals = append(vals, 3080, 5930)
		}
		if len(vals) == 0 {
			continue
		}
		p := plot.New()
		p.Title.Text = bc.title
		p.Y.Label.Text = bc.ylabel
		bar, err := plotter.NewBarChart(vals, vg.Points(28))
		if err != nil {
			return err
		}
		bar.Color = palette()[0]
		bar.LineStyle.Width = 0
		p.Add(bar, plotter.NewGrid())
		p.NominalX(labels...)
		p.X.Tick.Label.Rotation = 0
		w := max(5*vg.Inch, vg.Length(len(vals))*1.5*vg.Inch)
		file := bc.file + "." + b.cfg.plotFormat
		if err := p.Save(w, 4*vg.Inch, filepath.Join(dir, file)); err != nil {
			return err
		}
		written = append(written, file)
	}
	b.logf("plots written to %s: %v", dir, written)
	return nil
}

// plotRecallQPS draws QPS (log scale) against recall@10 for every system
// of the ann suite, ann-benchmarks style (up and to the right is better).
// With zoom, only points at recall ≥ zoomFrom are drawn.
func (b *bench) plotRecallQPS(path string, threads int, zoom bool) (bool, error) {
	type series struct {
		name string
		pts  plotter.XYs
	}
	var ss []*series
	get := func(name string) *series {
		for _, s := range ss {
			if s.name == name {
				return s
			}
		}
		s := &series{name: name}
		ss = append(ss, s)
		return s
	}
	var label string
	var dim int
	for _, m := range b.rep.all {
		if m.Suite != "ann" || m.RecallAt10 == nil || m.Params["target_recall"] != nil {
			continue
		}
		q := m.QPS1T
		if threads == 2 {
			q = m.QPS2T
		}
		if q == nil {
			continue
		}
		if zoom && *m.RecallAt10 < zoomFrom {
			continue
		}
		name := m.System
		// Params read back by --from hold float64s, a live run ints.
		if b := m.Params["batch"]; b != nil && fmt.Sprint(b) != "1" {
			name += fmt.Sprintf(" (batch %v)", m.Params["batch"])
		}
		get(name).pts = append(get(name).pts, plotter.XY{X: *m.RecallAt10, Y: *q})
		label, dim = m.Dataset, m.Dim
	}
	if len(ss) == 0 {
		return false, nil
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Recall@10 vs queries/s, %d thread(s), %s × %d, k=10", threads, label, dim)
	if zoom {
		p.Title.Text += fmt.Sprintf(" (recall ≥ %.2f)", zoomFrom)
		p.X.Min, p.X.Max = zoomFrom, 1
	}
	p.X.Label.Text = "recall@10"
	p.Y.Label.Text = "queries/s (log)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = false
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	for i, s := range ss {
		slices.SortFunc(s.pts, func(a, b plotter.XY) int {
			switch {
			case a.X < b.X:
				return -1
			case a.X > b.X:
				return 1
			}
			return 0
		})
		l, sc, err := plotter.NewLinePoints(s.pts)
		if err != nil {
			return false, err
		}
		c := palette()[i%len(palette())]
		l.Color, sc.Color = c, c
		sc.Shape = draw.CircleGlyph{}
		p.Add(l, sc)
		p.Legend.Add(s.name, l, sc)
	}
	if threads == 1 && label == "clustered-100k" {
		var pts plotter.XYs
		for _, r := range hnswlibRef() {
			if zoom && r[1] < zoomFrom {
				continue
			}
			pts = append(pts, plotter.XY{X: r[1], Y: r[2]})
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return false, err
		}
		c := palette()[len(palette())-1]
		l.Color, sc.Color = c, c
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		sc.Shape = draw.BoxGlyph{}
		p.Add(l, sc)
		p.Legend.Add("hnswlib C++ (anchors.md, separate run)", l, sc)
	}
	if err := p.Save(8*vg.Inch, 5*vg.Inch, path); err != nil {
		return false, err
	}
	return true, nil
}
