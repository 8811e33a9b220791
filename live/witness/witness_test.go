package witness

import (
	"reflect"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

var sink uint64

// probeTarget stands for the service's delivery function: three integer
// arguments in RAX, RBX and RCX.
//
//go:noinline
//go:nosplit
func probeTarget(a, b, c uint32) {
	sink += uint64(a) + uint64(b) + uint64(c)
}

func monotonic() uint64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano())
}

func TestWitnessSeesEveryCallWithItsArguments(t *testing.T) {
	if err := Check(); err != nil {
		t.Skipf("%v; CI runs these tests as root", err)
	}
	probeTarget(99, 99, 99) // before the probe: not seen
	w, err := AttachFunc(probeTarget, []int{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	start := monotonic()
	const n = 5000
	for i := range uint32(n) {
		probeTarget(i, i*7, 4000000000-i)
	}
	end := monotonic()
	events, lost, err := w.Stop()
	if err != nil {
		t.Fatal(err)
	}
	probeTarget(98, 98, 98) // after: not seen
	if lost != 0 || len(events) != n {
		t.Fatalf("saw %d calls (%d lost), want %d", len(events), lost, n)
	}
	for i, ev := range events {
		u := uint32(i)
		if want := [MaxArgs]uint32{u, u * 7, 4000000000 - u, 0}; ev.Args != want {
			t.Fatalf("event %d: args %v, want %v", i, ev.Args, want)
		}
		if ev.Mono < start || ev.Mono > end {
			t.Fatalf("event %d at %d, outside the calls' span [%d, %d]", i, ev.Mono, start, end)
		}
	}
	if !slices.IsSortedFunc(events, func(a, b Event) int { return int(int64(a.Mono - b.Mono)) }) {
		t.Error("calls made one after another on one goroutine arrived out of order")
	}
	if again, _, _ := w.Stop(); again != nil {
		t.Error("a second Stop returned events again")
	}
}

func TestAttachErrors(t *testing.T) {
	if err := Check(); err != nil {
		t.Skipf("%v; CI runs these tests as root", err)
	}
	var nilFunc func()
	if _, err := AttachFunc(nilFunc, []int{0}); err == nil {
		t.Error("attached to a nil function")
	}
	if _, err := AttachFunc(42, []int{0}); err == nil {
		t.Error("attached to a non-function")
	}
	if _, err := AttachFunc(probeTarget, []int{9}); err == nil {
		t.Error("accepted argument position 9 (the ABI has 9 registers: 0..8)")
	}
}

// The probe goes on the file the program runs from, named so that a
// rebuild of the binary during a run cannot move it to another file.
func TestProbeTargetsTheRunningFile(t *testing.T) {
	path, off, err := fileOffset(reflect.ValueOf(probeTarget).Pointer())
	if err != nil {
		t.Fatal(err)
	}
	if path != "/proc/self/exe" || off == 0 {
		t.Fatalf("probe target %s+%#x, want /proc/self/exe at a non-zero offset", path, off)
	}
}
