package service

import (
	"cmp"
	"slices"
	"sync"
	"time"
	_ "unsafe" // for go:linkname

	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/traces"
)

// Recorder is the service's in-process history: every observation with
// the time since the run's start. Goroutines add to it concurrently;
// Events returns it in time order for traces.Writer.
//
// Its clock is CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns, read the way
// the Go runtime reads it: an eBPF event (the witness's) and a recorded line
// are then on one clock, so a probe that fires after a line was recorded is
// never placed before it.
type Recorder struct {
	start  time.Time
	mono   int64
	mu     sync.Mutex
	events []traces.Event
}

// nanotime is the runtime's CLOCK_MONOTONIC reading (the clock of
// time.Now's monotonic part), kept linkable by the runtime for packages
// that need the raw clock.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// NewRecorder starts a history whose time 0 is start (time.Now()).
func NewRecorder(start time.Time) *Recorder {
	return &Recorder{start: start, mono: nanotime() - int64(time.Since(start))}
}

// Start is the run's time origin.
func (r *Recorder) Start() time.Time { return r.start }

// Mono is the run's time origin on CLOCK_MONOTONIC, in nanoseconds (the
// base for bpf_ktime_get_ns readings).
func (r *Recorder) Mono() uint64 { return uint64(r.mono) }

// Now is the time since the start, in trace time.
func (r *Recorder) Now() model.Time { return model.Time(nanotime() - r.mono) }

// Add records o at time t (taken earlier, e.g. when a call began).
func (r *Recorder) Add(t model.Time, o model.Obs) {
	r.mu.Lock()
	r.events = append(r.events, traces.Event{T: t, Obs: o})
	r.mu.Unlock()
}

// Record records o now and returns the time.
func (r *Recorder) Record(o model.Obs) model.Time {
	r.mu.Lock()
	t := r.Now()
	r.events = append(r.events, traces.Event{T: t, Obs: o})
	r.mu.Unlock()
	return t
}

// Events returns the history sorted by time; events at the same time stay
// in the order they were added (a call before its return).
func (r *Recorder) Events() []traces.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	slices.SortStableFunc(r.events, func(a, b traces.Event) int { return cmp.Compare(a.T, b.T) })
	return r.events
}

// Len is the number of events so far.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}
