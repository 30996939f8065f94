package benchkit

import (
	"fmt"
	"image/color"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// ChartRows picks the rows a ratio chart shows: our subjects compared to a
// baseline, in workloads that are timed (not counted).
func ChartRows(results []Result) []Result {
	var out []Result
	for _, r := range results {
		if r.Baseline == "" || r.Baseline == r.Subject || r.Ratio <= 0 {
			continue
		}
		if r.HitPct != nil || r.L3Queries != nil {
			continue
		}
		out = append(out, r)
	}
	return out
}

// WriteChart draws a horizontal bar per chart row (see ChartRows): the
// ratio of Strata's time per operation to the baseline's, with a line at
// 1 (equal speed; shorter bars are faster). The format follows path's
// extension: .png, .svg or .pdf.
func WriteChart(path, title string, results []Result) error {
	rows := ChartRows(results)
	if len(rows) == 0 {
		return fmt.Errorf("benchkit: no ratios to chart")
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "time per op, Strata ÷ baseline (lower is faster)"
	vals := make(plotter.Values, len(rows))
	labels := make([]string, len(rows))
	top := 1.0
	for i, r := range rows {
		// plot draws the first value at the bottom; reverse to read top-down.
		j := len(rows) - 1 - i
		vals[j] = r.Ratio
		labels[j] = fmt.Sprintf("%s vs %s", r.Workload, r.Baseline)
		top = max(top, r.Ratio)
	}
	bars, err := plotter.NewBarChart(vals, vg.Points(9))
	if err != nil {
		return fmt.Errorf("benchkit: chart: %w", err)
	}
	bars.Horizontal = true
	bars.Color = color.RGBA{R: 0x2b, G: 0x6c, B: 0xb0, A: 0xff}
	bars.LineStyle.Width = 0
	p.Add(bars)
	one, err := plotter.NewLine(plotter.XYs{{X: 1, Y: -0.5}, {X: 1, Y: float64(len(rows)) - 0.5}})
	if err != nil {
		return fmt.Errorf("benchkit: chart: %w", err)
	}
	one.Color = color.RGBA{R: 0xc0, A: 0xff}
	one.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(one)
	p.NominalY(labels...)
	p.X.Min = 0
	p.X.Max = top * 1.08
	p.Add(plotter.NewGrid())
	height := vg.Length(len(rows))*vg.Points(14) + vg.Inch
	if err := p.Save(9*vg.Inch, height, path); err != nil {
		return fmt.Errorf("benchkit: save chart %s: %w", filepath.Base(path), err)
	}
	return nil
}

// ChartPath returns the chart's path next to a JSON file: x.json → x.png.
func ChartPath(jsonPath string) string {
	return strings.TrimSuffix(jsonPath, filepath.Ext(jsonPath)) + ".png"
}
