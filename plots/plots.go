// Package plots draws a run's time series and a sweep's heatmap with
// gonum/plot. A Figure is one or more panels stacked vertically; Save picks
// the format from the file name (.png, .svg, also .pdf, .jpg, .eps, .tif).
package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/stormproof/stormproof/internal/atomicfile"
	"github.com/stormproof/stormproof/sim"
)

// Figure is a grid of panels, row by row.
type Figure struct {
	Panels []*plot.Plot
	W, H   vg.Length
	// Cols is the number of panels per row (0: one).
	Cols int
	// Legends, when set, holds each panel's legend (nil: none); it is drawn
	// in a column of its own to the right of the panel, never over the data.
	Legends []*plot.Legend
	// Below is drawn in a strip of height BelowH under the panels (a
	// heatmap's colour scale).
	Below  *plot.Plot
	BelowH vg.Length
}

// layout is where a figure's parts go on a canvas: each panel's canvas
// (title, axes and data), each legend's rectangle, and the strip below.
type layout struct {
	panels  []draw.Canvas
	legends []vg.Rectangle
	below   draw.Canvas
}

// legendGap is the space between a panel and its legend.
const legendGap = vg.Length(6)

// layout places the figure's parts on dc: the panels on an aligned grid
// (plot.Align), narrowed on the right by the widest legend, which is drawn
// in that margin, top-aligned with its panel.
func (f *Figure) layout(dc draw.Canvas) layout {
	cols := max(f.Cols, 1)
	rows := (len(f.Panels) + cols - 1) / cols
	legW := vg.Length(0)
	for _, l := range f.Legends {
		if l != nil {
			legW = max(legW, l.Rectangle(dc).Size().X)
		}
	}
	if legW > 0 {
		legW += legendGap
	}
	var out layout
	if f.Below != nil {
		out.below = draw.Crop(dc, 0, 0, 0, f.BelowH-dc.Size().Y)
		dc = draw.Crop(dc, 0, 0, f.BelowH, 0)
	}
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadTop: vg.Points(4), PadBottom: vg.Points(4),
		PadLeft: vg.Points(4), PadRight: vg.Points(8) + legW, PadX: vg.Points(10) + legW, PadY: vg.Points(10)}
	grid := make([][]*plot.Plot, rows)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
	}
	for i, p := range f.Panels {
		grid[i/cols][i%cols] = p
	}
	canvases := plot.Align(grid, tiles, dc)
	for i := range f.Panels {
		c := canvases[i/cols][i%cols]
		out.panels = append(out.panels, c)
		var r vg.Rectangle
		if i < len(f.Legends) && f.Legends[i] != nil {
			sz := f.Legends[i].Rectangle(c).Size()
			r.Min = vg.Point{X: c.Max.X + legendGap, Y: c.Max.Y - sz.Y}
			r.Max = vg.Point{X: c.Max.X + legendGap + sz.X, Y: c.Max.Y}
		}
		out.legends = append(out.legends, r)
	}
	if f.Below != nil && len(f.Panels) > 0 {
		// Under the first panel's data area, so a colour scale spans the
		// cells it explains.
		d := f.Panels[0].DataCanvas(out.panels[0])
		out.below.Min.X, out.below.Max.X = d.Min.X, d.Max.X
	}
	return out
}

// Formats are the file extensions Save accepts.
var Formats = []string{"png", "svg", "pdf", "jpg", "jpeg", "eps", "tif", "tiff"}

// Format is the format a file name asks for, or an error naming the choices.
func Format(path string) (string, error) {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	for _, f := range Formats {
		if f == ext {
			return ext, nil
		}
	}
	return "", fmt.Errorf("%s: cannot tell the image format from the extension (want .%s)", path, strings.Join(Formats, ", ."))
}

// Encode writes the figure in format (an extension without the dot).
func (f *Figure) Encode(w io.Writer, format string) error {
	var c vg.CanvasWriterTo
	if format == "png" {
		// A fixed resolution, so the same figure is the same bytes.
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(f.W, f.H), vgimg.UseDPI(110))}
	} else {
		var err error
		if c, err = draw.NewFormattedCanvas(f.W, f.H, format); err != nil {
			return err
		}
	}
	dc := draw.New(c)
	l := f.layout(dc)
	for i, p := range f.Panels {
		p.Draw(l.panels[i])
		if i < len(f.Legends) && f.Legends[i] != nil {
			f.Legends[i].Draw(draw.Canvas{Canvas: dc.Canvas, Rectangle: l.legends[i]})
		}
	}
	if f.Below != nil {
		f.Below.Draw(l.below)
	}
	_, err := c.WriteTo(w)
	return err
}

// Bytes encodes the figure in memory.
func (f *Figure) Bytes(format string) ([]byte, error) {
	var b bytes.Buffer
	if err := f.Encode(&b, format); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Save writes the figure to path atomically, in the format its extension names.
func (f *Figure) Save(path string) error {
	format, err := Format(path)
	if err != nil {
		return err
	}
	b, err := f.Bytes(format)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b)
}

// Outage is a window to shade.
type Outage struct{ From, To time.Duration }

// OutageOf reads a run summary's first gateway outage (zero if none).
func OutageOf(s *sim.Summary) Outage {
	from, err1 := time.ParseDuration(s.OutageFrom)
	to, err2 := time.ParseDuration(s.OutageTo)
	if err1 != nil || err2 != nil || to <= from {
		return Outage{}
	}
	return Outage{from, to}
}

var (
	colConnected = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colAttempts  = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	colP50       = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	colP99       = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	colForeign   = color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}
	colShade     = color.NRGBA{R: 0x90, G: 0x90, B: 0x90, A: 0x50}
)

// hours is the x value of bin b (its end), in hours since the start.
func hours(s *sim.Series, b int) float64 { return float64(b+1) * s.BinSeconds / 3600 }

func panel(title, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.X.Label.Text = "hours since the start of the run"
	p.X.Min = 0
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	return p
}

// line draws vals over the bins; with gaps, a zero value (a bin without
// data, such as a latency with no call returning) breaks the line instead
// of dropping to zero.
func line(s *sim.Series, vals func(b int) float64, c color.Color, dashed, gaps bool) ([]*plotter.Line, float64, error) {
	var out []*plotter.Line
	var seg plotter.XYs
	top := 0.0
	flush := func() error {
		if len(seg) == 0 {
			return nil
		}
		l, err := plotter.NewLine(seg)
		if err != nil {
			return err
		}
		l.Color = c
		l.Width = vg.Points(1.2)
		if dashed {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		out = append(out, l)
		seg = nil
		return nil
	}
	for b := range s.Connected {
		v := vals(b)
		if gaps && v == 0 {
			if err := flush(); err != nil {
				return nil, 0, err
			}
			continue
		}
		seg = append(seg, plotter.XY{X: hours(s, b), Y: v})
		top = math.Max(top, v)
	}
	if err := flush(); err != nil {
		return nil, 0, err
	}
	return out, top, nil
}

// frame sets the axes' ranges and shades the outage; it is called before
// the lines are added, so the shading lies behind them.
func frame(p *plot.Plot, s *sim.Series, o Outage, top float64) error {
	if top <= 0 {
		top = 1
	}
	p.Y.Max = top * 1.08
	p.X.Max = hours(s, len(s.Connected)-1)
	if o.To > o.From {
		x0, x1 := o.From.Hours(), o.To.Hours()
		poly, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: 0}, {X: x1, Y: 0}, {X: x1, Y: p.Y.Max}, {X: x0, Y: p.Y.Max}})
		if err != nil {
			return err
		}
		poly.Color = colShade
		poly.LineStyle.Width = 0
		p.Add(poly)
		p.Legend.Add("outage", poly)
	}
	return nil
}

// lines frames the panel and adds the lines with their legend names.
func lines(p *plot.Plot, s *sim.Series, o Outage, names []string, ls [][]*plotter.Line, tops []float64) error {
	top := 0.0
	for _, t := range tops {
		top = math.Max(top, t)
	}
	if err := frame(p, s, o, top); err != nil {
		return err
	}
	for i, segs := range ls {
		for _, l := range segs {
			p.Add(l)
		}
		if len(segs) > 0 {
			p.Legend.Add(names[i], segs[0])
		}
	}
	p.Legend.Top = true
	return nil
}

func check(s *sim.Series) error {
	n := len(s.Connected)
	if n == 0 || s.BinSeconds <= 0 {
		return fmt.Errorf("series: empty")
	}
	if len(s.ConnectAttempts) != n || len(s.CacheP50) != n || len(s.CacheP99) != n || len(s.CacheTimeouts) != n || len(s.ForeignDeliveries) != n {
		return fmt.Errorf("series: the series have different lengths")
	}
	return nil
}

type curve struct {
	name         string
	vals         func(b int) float64
	c            color.Color
	dashed, gaps bool
}

func curves(p *plot.Plot, s *sim.Series, o Outage, cs ...curve) error {
	var names []string
	var ls [][]*plotter.Line
	var tops []float64
	for _, c := range cs {
		l, top, err := line(s, c.vals, c.c, c.dashed, c.gaps)
		if err != nil {
			return err
		}
		names, ls, tops = append(names, c.name), append(ls, l), append(tops, top)
	}
	return lines(p, s, o, names, ls, tops)
}

func twoPanels(s *sim.Series, top, bot *plot.Plot) *Figure {
	return withLegends(&Figure{Panels: []*plot.Plot{top, bot}, W: 18 * vg.Centimeter, H: 14 * vg.Centimeter})
}

// withLegends moves each panel's legend out of its data area into the
// figure's legend column.
func withLegends(f *Figure) *Figure {
	f.Legends = make([]*plot.Legend, len(f.Panels))
	for i, p := range f.Panels {
		l := p.Legend
		l.Top, l.Left = true, true
		f.Legends[i] = &l
		p.Legend = plot.NewLegend()
	}
	return f
}

// The storm zoom: from a minute before the outage ends to ten minutes
// after, where the whole fleet comes back at once.
const (
	zoomBefore = time.Minute
	zoomAfter  = 10 * time.Minute
)

// zoom draws vals over the minutes around the end of outage o, in minutes
// since the gateway came back, the last minute of the outage shaded.
func zoom(p *plot.Plot, s *sim.Series, o Outage, name string, vals func(b int) float64, c color.Color) error {
	var xys plotter.XYs
	top := 0.0
	end := o.To.Seconds()
	for b := range s.Connected {
		t := hours(s, b) * 3600
		if t <= end-zoomBefore.Seconds() || t > end+zoomAfter.Seconds() {
			continue
		}
		v := vals(b)
		xys = append(xys, plotter.XY{X: (t - end) / 60, Y: v})
		top = math.Max(top, v)
	}
	if top <= 0 {
		top = 1
	}
	p.X.Min, p.X.Max = -zoomBefore.Minutes(), zoomAfter.Minutes()
	p.Y.Max = top * 1.08
	poly, err := plotter.NewPolygon(plotter.XYs{{X: p.X.Min, Y: 0}, {X: 0, Y: 0}, {X: 0, Y: p.Y.Max}, {X: p.X.Min, Y: p.Y.Max}})
	if err != nil {
		return err
	}
	poly.Color = colShade
	poly.LineStyle.Width = 0
	p.Add(poly)
	p.Legend.Add("outage", poly)
	if len(xys) > 0 {
		l, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		l.Color = c
		l.Width = vg.Points(1.2)
		p.Add(l)
		p.Legend.Add(name, l)
	}
	return nil
}

func zoomPanel(title, ylabel string) *plot.Plot {
	p := panel(title, ylabel)
	p.X.Label.Text = "minutes since the outage ended"
	return p
}

// StormCurve: connected cameras and reconnect attempts per second over
// time, the outage shaded.
func StormCurve(s *sim.Series, o Outage, title string) (*Figure, error) {
	if err := check(s); err != nil {
		return nil, err
	}
	top := panel(title+": connected cameras", "cameras connected")
	if err := curves(top, s, o, curve{"connected", func(b int) float64 { return float64(s.Connected[b]) }, colConnected, false, false}); err != nil {
		return nil, err
	}
	attempts := func(b int) float64 { return float64(s.ConnectAttempts[b]) / s.BinSeconds }
	bot := panel("reconnect attempts", "attempts per second (10 s bins)")
	if err := curves(bot, s, o, curve{"attempts/s", attempts, colAttempts, false, false}); err != nil {
		return nil, err
	}
	if o.To <= o.From {
		return twoPanels(s, top, bot), nil
	}
	// Beside each, the storm: the minutes after the outage ends.
	ztop := zoomPanel("the storm: connected cameras", "cameras connected")
	if err := zoom(ztop, s, o, "connected", func(b int) float64 { return float64(s.Connected[b]) }, colConnected); err != nil {
		return nil, err
	}
	zbot := zoomPanel("the storm: reconnect attempts", "attempts per second (10 s bins)")
	if err := zoom(zbot, s, o, "attempts/s", attempts, colAttempts); err != nil {
		return nil, err
	}
	return withLegends(&Figure{Panels: []*plot.Plot{top, ztop, bot, zbot}, Cols: 2, W: 28 * vg.Centimeter, H: 14 * vg.Centimeter}), nil
}

// CacheLatency: cache latency p50 and p99 and timeouts per second.
func CacheLatency(s *sim.Series, o Outage, title string) (*Figure, error) {
	if err := check(s); err != nil {
		return nil, err
	}
	top := panel(title+": cache latency of the calls returning in each 10 s", "milliseconds")
	if err := curves(top, s, o,
		curve{"p50", func(b int) float64 { return s.CacheP50[b] }, colP50, false, true},
		curve{"p99", func(b int) float64 { return s.CacheP99[b] }, colP99, true, true}); err != nil {
		return nil, err
	}
	bot := panel("cache timeouts", "timeouts per second (10 s bins)")
	if err := curves(bot, s, o, curve{"timeouts/s", func(b int) float64 { return float64(s.CacheTimeouts[b]) / s.BinSeconds }, colAttempts, false, false}); err != nil {
		return nil, err
	}
	return twoPanels(s, top, bot), nil
}

// ForeignDeliveries: thumbnails pushed to strangers per 10 s bin, and in all.
func ForeignDeliveries(s *sim.Series, o Outage, title string) (*Figure, error) {
	if err := check(s); err != nil {
		return nil, err
	}
	cum := make([]float64, len(s.ForeignDeliveries))
	acc := 0.0
	for b, v := range s.ForeignDeliveries {
		acc += float64(v)
		cum[b] = acc
	}
	top := panel(title+": thumbnails pushed to strangers", "per 10 s")
	if err := curves(top, s, o, curve{"foreign deliveries", func(b int) float64 { return float64(s.ForeignDeliveries[b]) }, colForeign, false, false}); err != nil {
		return nil, err
	}
	bot := panel("foreign deliveries so far", "in all")
	if err := curves(bot, s, o, curve{"cumulative", func(b int) float64 { return cum[b] }, colForeign, false, false}); err != nil {
		return nil, err
	}
	top.Legend.Left, bot.Legend.Left = true, true
	return twoPanels(s, top, bot), nil
}

// Grid is a heatmap's data: Z[y][x], NaN where there is no value.
type Grid struct {
	Title          string
	XLabel, YLabel string
	XTicks, YTicks []string
	Z              [][]float64
	// Text writes a cell's value on it ("" leaves it blank).
	Text func(v float64) string
	// Scale names what the colours measure, under the colour scale
	// (default "colour scale").
	Scale string
}

type gridXYZ struct{ g *Grid }

func (g gridXYZ) Dims() (c, r int)   { return len(g.g.XTicks), len(g.g.YTicks) }
func (g gridXYZ) Z(c, r int) float64 { return g.g.Z[r][c] }
func (g gridXYZ) X(c int) float64    { return float64(c) }
func (g gridXYZ) Y(r int) float64    { return float64(r) }

// Heatmap draws a grid of values over two categorical axes, each cell
// labelled with its value in black or white, whichever contrasts more with
// the cell's colour, and the colour scale as a bar below.
func Heatmap(g *Grid) (*Figure, error) {
	nx, ny := len(g.XTicks), len(g.YTicks)
	if nx == 0 || ny == 0 || len(g.Z) != ny {
		return nil, fmt.Errorf("heatmap: %d×%d ticks for %d rows", nx, ny, len(g.Z))
	}
	for _, row := range g.Z {
		if len(row) != nx {
			return nil, fmt.Errorf("heatmap: a row has %d values for %d columns", len(row), nx)
		}
	}
	pal := moreland.SmoothBlueRed().Palette(heatColours)
	hm := plotter.NewHeatMap(gridXYZ{g}, pal)
	if math.IsInf(hm.Min, 0) { // all NaN
		hm.Min, hm.Max = 0, 1
	}
	if hm.Max == hm.Min {
		hm.Max = hm.Min + 1
	}
	p := plot.New()
	p.Title.Text = g.Title
	p.X.Label.Text = g.XLabel
	p.Y.Label.Text = g.YLabel
	p.Add(hm)
	var xt, yt []plot.Tick
	for i, l := range g.XTicks {
		xt = append(xt, plot.Tick{Value: float64(i), Label: l})
	}
	for i, l := range g.YTicks {
		yt = append(yt, plot.Tick{Value: float64(i), Label: l})
	}
	p.X.LineStyle.Width, p.Y.LineStyle.Width = 0, 0
	p.X.Tick.Marker = plot.ConstantTicks(xt)
	p.Y.Tick.Marker = plot.ConstantTicks(yt)
	if g.Text != nil {
		var xys plotter.XYs
		var labels []string
		for y := 0; y < ny; y++ {
			for x := 0; x < nx; x++ {
				if t := g.Text(g.Z[y][x]); t != "" {
					xys = append(xys, plotter.XY{X: float64(x), Y: float64(y)})
					labels = append(labels, t)
				}
			}
		}
		if len(xys) > 0 {
			lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
			if err != nil {
				return nil, err
			}
			for i, xy := range xys {
				lb.TextStyle[i].XAlign = draw.XCenter
				lb.TextStyle[i].YAlign = draw.YCenter
				lb.TextStyle[i].Color = TextOn(CellColour(hm, g.Z[int(xy.Y)][int(xy.X)]))
			}
			p.Add(lb)
		}
	}
	bar, err := colourScale(hm.Min, hm.Max)
	if err != nil {
		return nil, err
	}
	if g.Scale != "" {
		bar.X.Label.Text = g.Scale
	}
	w := max(12*vg.Centimeter, vg.Length(nx)*2.6*vg.Centimeter+5*vg.Centimeter)
	h := max(8*vg.Centimeter, vg.Length(ny)*1.6*vg.Centimeter+4*vg.Centimeter)
	const barH = 2.2 * vg.Centimeter
	return &Figure{Panels: []*plot.Plot{p}, W: w, H: h + barH, Below: bar, BelowH: barH}, nil
}

// heatColours is the number of colours of the heatmap's palette.
const heatColours = 255

// colourScale is the heatmap's legend: its palette from min to max as a
// horizontal bar with a value axis.
func colourScale(lo, hi float64) (*plot.Plot, error) {
	cm := moreland.SmoothBlueRed()
	cm.SetMin(lo)
	cm.SetMax(hi)
	p := plot.New()
	p.HideY()
	p.X.Label.Text = "colour scale"
	p.X.Padding = 0
	p.Add(&plotter.ColorBar{ColorMap: cm, Colors: heatColours})
	return p, nil
}

// CellColour is the colour hm paints a cell of value v (as
// plotter.HeatMap picks it from its palette); nil for no value.
func CellColour(hm *plotter.HeatMap, v float64) color.Color {
	pal := hm.Palette.Colors()
	if math.IsNaN(v) || hm.Max == hm.Min || v < hm.Min || v > hm.Max {
		return nil
	}
	return pal[int((v-hm.Min)*float64(len(pal)-1)/(hm.Max-hm.Min)+0.5)]
}

// TextOn is the colour of text written on background c: black or white,
// whichever has the higher contrast ratio with it (WCAG 2 relative
// luminance); black on no colour.
func TextOn(c color.Color) color.Color {
	if c == nil {
		return color.Black
	}
	if Contrast(color.White, c) > Contrast(color.Black, c) {
		return color.White
	}
	return color.Black
}

// Contrast is the WCAG 2 contrast ratio of two colours, from 1 to 21.
func Contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// luminance is the WCAG 2 relative luminance of an sRGB colour.
func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		x := float64(v) / 0xffff
		if x <= 0.04045 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// Number writes a value with as many decimals as its size deserves:
// 1234, 12.3, 1.23; "–" for NaN (no value).
func Number(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "–"
	case a >= 100 || v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}
