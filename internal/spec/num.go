package spec

import (
	"fmt"
	"math"
)

// Interval is the set of values a numeric field accepts: from Lo to Hi,
// each end included unless marked open. Every float read from an input is
// checked against one, so NaN and ±Inf, which slip through comparisons such
// as x < 0 || x > 1, are refused everywhere by the same rule.
type Interval struct {
	Lo, Hi         float64
	LoOpen, HiOpen bool
}

// Closed is [lo, hi].
func Closed(lo, hi float64) Interval { return Interval{Lo: lo, Hi: hi} }

// OpenClosed is (lo, hi].
func OpenClosed(lo, hi float64) Interval { return Interval{Lo: lo, Hi: hi, LoOpen: true} }

// ClosedOpen is [lo, hi).
func ClosedOpen(lo, hi float64) Interval { return Interval{Lo: lo, Hi: hi, HiOpen: true} }

// Contains reports whether v is a finite number inside the interval.
func (iv Interval) Contains(v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	if v < iv.Lo || (iv.LoOpen && v == iv.Lo) {
		return false
	}
	if v > iv.Hi || (iv.HiOpen && v == iv.Hi) {
		return false
	}
	return true
}

func (iv Interval) String() string {
	l, r := "[", "]"
	if iv.LoOpen {
		l = "("
	}
	if iv.HiOpen {
		r = ")"
	}
	return fmt.Sprintf("%s%g, %g%s", l, iv.Lo, iv.Hi, r)
}

// Check returns nil when v is a finite number in the interval, otherwise an
// error saying what is wanted and what was given.
func (iv Interval) Check(v float64) error {
	if iv.Contains(v) {
		return nil
	}
	return fmt.Errorf("must be a finite number in %v, got %g", iv, v)
}
