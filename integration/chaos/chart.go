package chaos

import (
	"fmt"
	"image/color"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Fault window colours, by what the fault hits.
var (
	shadeRedis = color.NRGBA{R: 0xf5, G: 0xa0, B: 0x30, A: 0x48}
	shadePG    = color.NRGBA{R: 0x30, G: 0x80, B: 0xf0, A: 0x48}
	shadeChild = color.NRGBA{R: 0x60, G: 0x60, B: 0x60, A: 0x60}
)

func shadeOf(kind string) color.Color {
	switch {
	case strings.HasPrefix(kind, "redis") || strings.HasPrefix(kind, "subscriber"):
		return shadeRedis
	case strings.HasPrefix(kind, "pg"):
		return shadePG
	default:
		return shadeChild
	}
}

// WriteChart draws a run's stale reads over time — each point a key-level
// read, at its invocation, by its staleness — over the fault windows,
// shaded by what they hit, with the calm bound as a dashed line. The format
// follows path's extension (.png, .svg, .pdf).
func WriteChart(path string, r *RunReport) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Strata under faults: stale reads (seed %d, change feed %v)", r.Seed, r.Feed)
	p.X.Label.Text = "time since the run began (s)"
	p.Y.Label.Text = "staleness (ms)"
	top := 100.0
	for _, s := range r.Reads.Samples {
		top = max(top, float64(s.Staleness)/1e6)
	}
	top *= 1.1
	end := r.Duration.Seconds()
	for _, f := range r.Faults {
		end = max(end, float64(f.End)/1e9)
	}
	// Fault windows (at least 50 ms wide, so instant faults show).
	legend := map[string]bool{}
	for _, f := range r.Faults {
		x0, x1 := float64(f.Start)/1e9, max(float64(f.End)/1e9, float64(f.Start)/1e9+0.05)
		poly, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: 0}, {X: x1, Y: 0}, {X: x1, Y: top}, {X: x0, Y: top}})
		if err != nil {
			return fmt.Errorf("chaos: chart: %w", err)
		}
		poly.Color = shadeOf(f.Kind)
		poly.LineStyle.Width = 0
		p.Add(poly)
		cat := map[color.Color]string{shadeRedis: "Redis fault", shadePG: "PostgreSQL fault", shadeChild: "writer killed"}[shadeOf(f.Kind)]
		if !legend[cat] {
			legend[cat] = true
			p.Legend.Add(cat, poly)
		}
	}
	for _, schema := range []string{SchemaWT, SchemaWB} {
		var pts plotter.XYs
		for _, s := range r.Reads.Samples {
			if s.Schema == schema {
				pts = append(pts, plotter.XY{X: float64(s.At) / 1e9, Y: float64(s.Staleness) / 1e6})
			}
		}
		if len(pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return fmt.Errorf("chaos: chart: %w", err)
		}
		sc.GlyphStyle.Radius = vg.Points(1.6)
		if schema == SchemaWB {
			sc.GlyphStyle.Color = color.RGBA{R: 0x1b, G: 0x9e, B: 0x77, A: 0xff}
			sc.GlyphStyle.Shape = draw.TriangleGlyph{}
			p.Legend.Add("write-behind read", sc)
		} else {
			sc.GlyphStyle.Color = color.RGBA{R: 0xb0, G: 0x1b, B: 0x2e, A: 0xff}
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
			p.Legend.Add("write-through read", sc)
		}
		p.Add(sc)
	}
	calm := float64(CalmBound) / float64(time.Millisecond)
	line, err := plotter.NewLine(plotter.XYs{{X: 0, Y: calm}, {X: end, Y: calm}})
	if err != nil {
		return fmt.Errorf("chaos: chart: %w", err)
	}
	line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	line.Color = color.Black
	p.Legend.Add(fmt.Sprintf("calm bound (%v)", CalmBound), line)
	p.Add(line)
	p.Add(plotter.NewGrid())
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, end, 0, top
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.YOffs = vg.Points(-4)
	p.Legend.XOffs = vg.Points(4)
	if err := p.Save(11*vg.Inch, 5*vg.Inch, path); err != nil {
		return fmt.Errorf("chaos: save chart: %w", err)
	}
	return nil
}
