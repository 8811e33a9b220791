package service

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/traces"
)

// Recorder is the service's in-process history: every observation with
// the time since the run's start (monotonic clock). Goroutines add to it
// concurrently; Events returns it in time order for traces.Writer.
type Recorder struct {
	start  time.Time
	mu     sync.Mutex
	events []traces.Event
}

// NewRecorder starts a history whose time 0 is start.
func NewRecorder(start time.Time) *Recorder { return &Recorder{start: start} }

// Start is the run's time origin.
func (r *Recorder) Start() time.Time { return r.start }

// Now is the time since the start, in trace time.
func (r *Recorder) Now() model.Time { return model.Time(time.Since(r.start)) }

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
