package spec

import (
	"math"
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
