package spec

import (
	"math"
	"strings"
	"testing"
)

func TestIntervalRefusesWhatIsNotAFiniteNumberInside(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		iv   Interval
		v    float64
		want bool
	}{
		{Closed(0, 1), 0, true},
		{Closed(0, 1), 1, true},
		{Closed(0, 1), 0.5, true},
		{Closed(0, 1), -1e-300, false},
		{Closed(0, 1), 1 + 1e-15, false},
		{Closed(0, 1), nan, false},
		{Closed(0, 1), -nan, false},
		{Closed(0, inf), inf, false}, // infinite ends bound nothing: Inf is still refused
		{Closed(-inf, inf), -inf, false},
		{Closed(-inf, inf), math.MaxFloat64, true},
		{OpenClosed(0, 1), 0, false},
		{OpenClosed(0, 1), 1, true},
		{ClosedOpen(0, 1), 1, false},
		{ClosedOpen(0, 1), 0, true},
	}
	for _, c := range cases {
		if got := c.iv.Contains(c.v); got != c.want {
			t.Errorf("%v contains %g: %v, want %v", c.iv, c.v, got, c.want)
		}
		if err := c.iv.Check(c.v); (err == nil) != c.want {
			t.Errorf("%v check %g: %v, want ok=%v", c.iv, c.v, err, c.want)
		}
	}
}

func TestDurationsInDaysAreFinite(t *testing.T) {
	for _, s := range []string{"nand", "NaNd", "infd", "+Infd", "-1d", "100001d", "1e300d"} {
		if d, err := ParseDuration(s); err == nil {
			t.Errorf("%q parsed as %v, want an error", s, d)
		}
	}
	if d, err := ParseDuration("1.5d"); err != nil || d.Hours() != 36 {
		t.Errorf("1.5d: %v %v", d, err)
	}
}

// A line break editors and YAML count differently is refused on the line
// a reader sees (lines end with LF or CR LF).
func TestLineBreaksEditorsDisagreeOn(t *testing.T) {
	for _, c := range []struct {
		doc  string
		line int
	}{
		{"a: 1\nb: 2\rc: [\n", 2},
		{"a: 1\nb: 2\n# x\u2029c: [\n", 3},
		{"a: 1\u2028b: 2\n", 1},
		{"a: 1\n\u0085b: 2\n", 2},
		{"a: 1\r\nb: 2\r\nc: 3\r", 3},
	} {
		var out map[string]any
		_, err := Decode("x.yaml", []byte(c.doc), &out)
		e, ok := err.(*Error)
		if !ok || e.Line != c.line {
			t.Errorf("%q: %v, want an error on line %d", c.doc, err, c.line)
		}
	}
	// CR LF counts lines as LF does.
	var out map[string]any
	_, lf := Decode("x.yaml", []byte("a: 1\nb: 2\nc: {\nd: 3\n"), &out)
	_, crlf := Decode("x.yaml", []byte("a: 1\r\nb: 2\r\nc: {\r\nd: 3\r\n"), &out)
	if lf == nil || crlf == nil || lf.(*Error).Line != crlf.(*Error).Line || !strings.HasPrefix(lf.Error(), "x.yaml:") {
		t.Errorf("LF: %v; CR LF: %v", lf, crlf)
	}
}
