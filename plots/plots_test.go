package plots

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
				// 18 cm × 14 cm at 110 dpi.
				if b := img.Bounds(); b.Dx() != 780 || b.Dy() != 606 {
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
