package plots

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/stormproof/stormproof/sim"
)

// series makes a small storm: 60 bins, connected cameras fall during an
// outage (bins 20..40) and come back with a burst of attempts.
func series() *sim.Series {
	n := 60
	s := &sim.Series{BinSeconds: 10}
	for b := 0; b < n; b++ {
		conn, att, p50, to, fd := int64(100), int64(2), 5.0, int64(0), int64(0)
		switch {
		case b >= 20 && b < 40:
			conn, att, p50 = 0, 30, 0
		case b >= 40 && b < 45:
			conn, att, p50, to, fd = int64(20*(b-39)), 400, 90, 50, int64(b-39)
		}
		s.Connected = append(s.Connected, conn)
		s.ConnectAttempts = append(s.ConnectAttempts, att)
		s.Connects = append(s.Connects, 0)
		s.CacheCalls = append(s.CacheCalls, 10)
		s.CacheTimeouts = append(s.CacheTimeouts, to)
		s.CacheP50 = append(s.CacheP50, p50)
		s.CacheP99 = append(s.CacheP99, 2*p50)
		s.ForeignDeliveries = append(s.ForeignDeliveries, fd)
		s.Deliveries = append(s.Deliveries, 5)
	}
	return s
}

var outage = Outage{200 * time.Second, 400 * time.Second}

func figures(t *testing.T, s *sim.Series) map[string]*Figure {
	t.Helper()
	out := map[string]*Figure{}
	for name, fn := range map[string]func(*sim.Series, Outage, string) (*Figure, error){
		"storm": StormCurve, "cache": CacheLatency, "foreign": ForeignDeliveries} {
		f, err := fn(s, outage, "test")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = f
	}
	return out
}

// Every figure encodes as PNG and SVG, the same bytes every time.
func TestFiguresEncodeDeterministically(t *testing.T) {
	s := series()
	for name, f := range figures(t, s) {
		for _, format := range []string{"png", "svg"} {
			a, err := f.Bytes(format)
			if err != nil {
				t.Fatalf("%s.%s: %v", name, format, err)
			}
			g, _ := figures(t, s)[name].Bytes(format)
			if !bytes.Equal(a, g) {
				t.Fatalf("%s.%s: two encodings differ", name, format)
			}
			switch format {
			case "png":
				img, err := png.Decode(bytes.NewReader(a))
				if err != nil {
					t.Fatalf("%s.png: %v", name, err)
				}
				// 18 cm × 14 cm at 110 dpi; the storm 28 cm wide, its
				// zoom beside.
				w := 780
				if name == "storm" {
					w = 1213
				}
				if b := img.Bounds(); b.Dx() != w || b.Dy() != 606 {
					t.Fatalf("%s.png is %v", name, b)
				}
			case "svg":
				if !bytes.Contains(a, []byte("<svg")) || !bytes.Contains(a, []byte("outage")) {
					t.Fatalf("%s.svg lacks an svg element or the outage legend", name)
				}
			}
		}
	}
}

// The outage is shaded (light grey between its start and end) behind the
// lines, in every panel; without an outage nothing is.
func TestOutageShaded(t *testing.T) {
	shade := func(r, g, b uint32) bool {
		near := func(v uint32) bool { return v>>8 >= 216 && v>>8 <= 224 }
		return near(r) && near(g) && near(b)
	}
	grey := func(o Outage) int {
		f, err := StormCurve(series(), o, "x")
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.Bytes("png")
		if err != nil {
			t.Fatal(err)
		}
		img, _ := png.Decode(bytes.NewReader(b))
		return count(img, shade)
	}
	// The outage is a third of the time axis: about a third of both
	// panels' plotting areas.
	if with, without := grey(outage), grey(Outage{}); with < 40000 || without > 5000 {
		t.Fatalf("shaded pixels: %d with an outage, %d without", with, without)
	}
}

// Latency lines break where no call returned instead of dropping to zero.
func TestLatencyGaps(t *testing.T) {
	s := series()
	segs, top, err := line(s, func(b int) float64 { return s.CacheP50[b] }, colP50, false, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 2 || top != 90 {
		t.Fatalf("%d segments, top %g: want 2 (before and after the outage), 90", len(segs), top)
	}
	for _, l := range segs {
		for _, xy := range l.XYs {
			if xy.Y == 0 {
				t.Fatalf("a zero point at %g h", xy.X)
			}
		}
	}
	if segs, _, _ := line(s, func(b int) float64 { return s.CacheP50[b] }, colP50, false, false); len(segs) != 1 || len(segs[0].XYs) != 60 {
		t.Fatal("without gaps the line should be whole")
	}
}

func TestSeriesChecked(t *testing.T) {
	s := series()
	s.CacheP99 = s.CacheP99[:10]
	if _, err := CacheLatency(s, outage, "x"); err == nil || !strings.Contains(err.Error(), "different lengths") {
		t.Fatalf("got %v", err)
	}
	if _, err := StormCurve(&sim.Series{}, outage, "x"); err == nil {
		t.Fatal("empty series drawn")
	}
}

// The heatmap colours its lowest and highest cells at the two ends of the
// palette and writes each value on its cell.
func TestHeatmap(t *testing.T) {
	g := &Grid{Title: "t", XLabel: "x", YLabel: "y", XTicks: []string{"a", "b"}, YTicks: []string{"c"},
		Z: [][]float64{{0, 10}}, Text: func(v float64) string { return Number(v) }}
	f, err := Heatmap(g)
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.Bytes("png")
	if err != nil {
		t.Fatal(err)
	}
	img, _ := png.Decode(bytes.NewReader(b))
	blue, red := count(img, func(r, g, b uint32) bool { return b > 0xa000 && r < 0x6000 }),
		count(img, func(r, g, b uint32) bool { return r > 0xa000 && b < 0x5000 && g < 0x3000 })
	if blue < 1000 || red < 1000 {
		t.Fatalf("blue %d and red %d pixels: want both cells coloured", blue, red)
	}
	svg, _ := f.Bytes("svg")
	if !bytes.Contains(svg, []byte(">10<")) && !bytes.Contains(svg, []byte(">10 <")) {
		t.Fatalf("the value 10 is not written on its cell")
	}
	if _, err := Heatmap(&Grid{XTicks: []string{"a"}, YTicks: []string{"b"}, Z: [][]float64{{1, 2}}}); err == nil {
		t.Fatal("a ragged grid was drawn")
	}
	// One value everywhere, or none: still a picture, not a panic.
	for _, z := range [][][]float64{{{3, 3}}, {{math.NaN(), math.NaN()}}} {
		g.Z = z
		f, err := Heatmap(g)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Bytes("png"); err != nil {
			t.Fatal(err)
		}
	}
}

func count(img image.Image, ok func(r, g, b uint32) bool) int {
	n := 0
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if ok(r, g, b) {
				n++
			}
		}
	}
	return n
}

func TestSaveFormatFromExtension(t *testing.T) {
	dir := t.TempDir()
	f := figures(t, series())["storm"]
	for _, name := range []string{"a.png", "a.svg", "a.PDF"} {
		if err := f.Save(filepath.Join(dir, name)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	pdf, _ := os.ReadFile(filepath.Join(dir, "a.PDF"))
	if !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatal("a.PDF is not a PDF")
	}
	err := f.Save(filepath.Join(dir, "a.txt"))
	if err == nil || !strings.Contains(err.Error(), "a.txt: cannot tell the image format") {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.txt")); !os.IsNotExist(err) {
		t.Fatal("a file was written for an unknown format")
	}
}

// Legends are drawn beside their panels, never over any panel's data.
func TestLegendsOffTheData(t *testing.T) {
	for name, f := range figures(t, series()) {
		c := vgimg.New(f.W, f.H)
		l := f.layout(draw.New(c))
		if len(l.legends) != len(f.Panels) {
			t.Fatalf("%s: %d legends for %d panels", name, len(l.legends), len(f.Panels))
		}
		for i, r := range l.legends {
			if r.Size().X <= 0 || r.Size().Y <= 0 {
				t.Errorf("%s: panel %d has no legend", name, i)
				continue
			}
			if in := f.Panels[i].Legend.Rectangle(l.panels[i]).Size().Y; in != 0 {
				t.Errorf("%s: panel %d draws a legend inside its plot area", name, i)
			}
			for j, pc := range l.panels {
				d := f.Panels[j].DataCanvas(pc)
				if overlap(r, d.Rectangle) {
					t.Errorf("%s: legend %d %v overlaps panel %d's data %v", name, i, r, j, d.Rectangle)
				}
			}
		}
	}
}

func overlap(a, b vg.Rectangle) bool {
	return a.Min.X < b.Max.X && b.Min.X < a.Max.X && a.Min.Y < b.Max.Y && b.Min.Y < a.Max.Y
}

// Beside each 4-hour panel of the storm, a panel shows the minutes after
// the outage ends: from a minute before to ten after, in minutes since the
// gateway came back, with the series' values of that window.
func TestStormZoom(t *testing.T) {
	s := series()
	f, err := StormCurve(s, outage, "x")
	if err != nil {
		t.Fatal(err)
	}
	if f.Cols != 2 || len(f.Panels) != 4 {
		t.Fatalf("%d panels in %d columns: want the 4-hour panels and their zooms side by side", len(f.Panels), f.Cols)
	}
	for _, i := range []int{1, 3} {
		p := f.Panels[i]
		if p.X.Min != -1 || p.X.Max != 10 || p.X.Label.Text != "minutes since the outage ended" {
			t.Errorf("zoom panel %d: x from %g to %g (%q)", i, p.X.Min, p.X.Max, p.X.Label.Text)
		}
	}
	// The test series' storm: attempts peak at 40/s in the 50 s after the
	// outage; the zoom's y axis must reach it and the 4-hour axis too.
	if top := f.Panels[3].Y.Max; top < 40 || top > 40*1.1 {
		t.Errorf("zoom of attempts tops at %g, want just above 40", top)
	}
	if f, _ := StormCurve(s, Outage{}, "x"); len(f.Panels) != 2 {
		t.Errorf("without an outage: %d panels, want 2 (nothing to zoom on)", len(f.Panels))
	}
}

// The heatmap has a colour scale under its cells, from the lowest value to
// the highest, blue to red.
func TestHeatmapColourScale(t *testing.T) {
	g := &Grid{Title: "t", XLabel: "x", YLabel: "y", XTicks: []string{"a", "b", "c"}, YTicks: []string{"d"},
		Z: [][]float64{{0, 5, 10}}, Text: Number, Scale: "what the colours measure"}
	f, err := Heatmap(g)
	if err != nil {
		t.Fatal(err)
	}
	if f.Below == nil || f.Below.X.Min != 0 || f.Below.X.Max != 10 || f.Below.X.Label.Text != g.Scale {
		t.Fatalf("colour scale %+v: want 0 to 10, labelled %q", f.Below, g.Scale)
	}
	img, l := drawn(t, f)
	bar := l.below.Rectangle
	y := (bar.Min.Y + bar.Max.Y) / 2
	left, right := img.At(px(bar.Min.X+2), py(f, y)), img.At(px(bar.Max.X-2), py(f, y))
	if r, _, b, _ := left.RGBA(); b < r {
		t.Errorf("the scale starts with %v, want blue", left)
	}
	if r, _, b, _ := right.RGBA(); r < b {
		t.Errorf("the scale ends with %v, want red", right)
	}
}

// A value is written in white on a dark cell and in black on a light one:
// whichever contrasts more with the cell.
func TestHeatmapTextContrast(t *testing.T) {
	pal := moreland.SmoothBlueRed().Palette(heatColours).Colors()
	for _, c := range pal {
		other := color.Color(color.Black)
		if TextOn(c) == color.Black {
			other = color.White
		}
		if Contrast(TextOn(c), c) < Contrast(other, c) {
			t.Fatalf("on %v: %v has less contrast than %v", c, TextOn(c), other)
		}
	}
	// Drawn: the lowest cell (dark blue) and the highest (dark red) carry
	// white text, the middle one (light grey) black.
	g := &Grid{XTicks: []string{"a", "b", "c"}, YTicks: []string{"d"}, Z: [][]float64{{0, 5, 10}}, Text: Number}
	f, err := Heatmap(g)
	if err != nil {
		t.Fatal(err)
	}
	img, l := drawn(t, f)
	d := f.Panels[0].DataCanvas(l.panels[0])
	w := (d.Max.X - d.Min.X) / 3
	for cell, want := range []string{"white", "black", "white"} {
		x0, x1 := d.Min.X+vg.Length(cell)*w, d.Min.X+vg.Length(cell+1)*w
		white, black := 0, 0
		for x := px(x0) + 2; x < px(x1)-2; x++ {
			for y := py(f, d.Max.Y) + 2; y < py(f, d.Min.Y)-2; y++ {
				r, g, b, _ := img.At(x, y).RGBA()
				switch {
				case r > 0xf000 && g > 0xf000 && b > 0xf000:
					white++
				case r < 0x1000 && g < 0x1000 && b < 0x1000:
					black++
				}
			}
		}
		if got := map[bool]string{true: "white", false: "black"}[white > black]; got != want || white+black == 0 {
			t.Errorf("cell %d: %d white and %d black pixels: want %s text", cell, white, black, want)
		}
	}
}

// drawn encodes f as PNG and returns the image and where its parts lie.
func drawn(t *testing.T, f *Figure) (image.Image, layout) {
	t.Helper()
	b, err := f.Bytes("png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := vgimg.NewWith(vgimg.UseWH(f.W, f.H), vgimg.UseDPI(110))
	return img, f.layout(draw.New(c))
}

// px and py turn figure coordinates (points, from the bottom left) into
// pixels of the 110 dpi PNG.
func px(x vg.Length) int            { return int(x.Dots(110)) }
func py(f *Figure, y vg.Length) int { return int((f.H - y).Dots(110)) }
