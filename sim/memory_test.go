package sim

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// The estimate bounds what a run holds: the live heap, sampled after a
// collection once per simulated ten minutes, stays below it.
func TestMemoryEstimateBoundsTheRun(t *testing.T) {
	runs := []struct {
		name  string
		scale float64
	}{{DefaultScenario, 0.3}, {"notify-2020-06", 0.3}, {DefaultScenario, 3}}
	if testing.Short() {
		runs = runs[:2]
	}
	var peaks, ests []float64
	for _, r := range runs {
		name, scale := r.name, r.scale
		s := load(t, name, Override{Scale: scale})
		est := s.Memory()
		var peak uint64
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.HeapAlloc
		last := time.Duration(-1)
		_, err := Run(s, RunOptions{Progress: func(now, end time.Duration) {
			if now-last < 10*time.Minute && now < end {
				return
			}
			last = now
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc-min(before, ms.HeapAlloc))
		}})
		if err != nil {
			t.Fatal(err)
		}
		if float64(peak) > est.Bytes {
			t.Errorf("%s at scale %g: live heap peaked at %d bytes, above the estimate %.0f", name, scale, peak, est.Bytes)
		}
		t.Logf("%s at scale %g: peak live %d, estimate %.0f (%s)", name, scale, peak, est.Bytes, est.Term)
		peaks, ests = append(peaks, float64(peak)), append(ests, est.Bytes)
	}
	// What grows with the fleet grows no faster than its estimate.
	if len(runs) > 2 && peaks[2]-peaks[0] > ests[2]-ests[0] {
		t.Errorf("from scale 0.3 to 3 the live heap grew by %.0f bytes, its estimate by %.0f", peaks[2]-peaks[0], ests[2]-ests[0])
	}
}

// A configuration whose estimate exceeds the budget is refused naming the
// field with the largest term, its file and its line; the base's line when
// the base set it.
func TestMemoryRefusalNamesTheField(t *testing.T) {
	cases := []struct{ doc, want string }{
		{"base: wyze-2024-02\nfleet:\n  cameras: 50000000   # assumed\n", "x.yaml:3: fleet.cameras: a run needs an estimated"},
		{"base: wyze-2024-02\nduration: 100000d   # assumed\ncapture_until: 1h   # assumed\n", "x.yaml:2: duration: "},
		{"base: wyze-2024-02\ncloud:\n  workers: 100000000   # assumed\n", "x.yaml:3: cloud.workers: "},
		{"base: wyze-2024-02\ntransfers:\n  count: 2000000000   # assumed\n  from: 1h   # assumed\n  to: 2h   # assumed\n", "x.yaml:3: transfers.count: "},
		{"base: wyze-2024-02-full\nname: big\n", "x.yaml:1: fleet.cameras: "},
	}
	for _, c := range cases {
		s, err := Parse("x.yaml", []byte(c.doc), "")
		if err != nil {
			t.Fatalf("%q: %v", c.doc, err)
		}
		err = s.CheckMemory(1 << 30)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q…", c.doc, err, c.want)
		}
	}
	s := load(t, DefaultScenario, Override{})
	if err := s.CheckMemory(1 << 30); err != nil {
		t.Errorf("the default scenario is refused 1 GiB: %v", err)
	}
}
