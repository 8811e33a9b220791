package commands

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/stormproof/stormproof/internal/cli"
)

// progressTo is where progress goes: standard error when it is a terminal,
// nowhere otherwise, so a pipe, a log file or a trace never receives it.
// Progress reads the wall clock and only ever writes here: it cannot change
// what a run computes or writes. Tests set it to see the progress.
var progressTo = func() io.Writer {
	if cli.IsTerminal(os.Stderr) {
		return os.Stderr
	}
	return nil
}

// progress is a bar with the wall time spent and an estimate of the time
// left; nil (no terminal) draws nothing.
type progress struct {
	bar *progressbar.ProgressBar
}

// newProgress starts a bar of total steps, or returns nil when progress
// goes nowhere.
func newProgress(desc string, total int64) *progress {
	w := progressTo()
	if w == nil {
		return nil
	}
	return &progress{progressbar.NewOptions64(max(total, 1),
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(25),
		progressbar.OptionThrottle(250*time.Millisecond),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
	)}
}

// set moves the bar to n steps, with a new description when desc is not "".
func (p *progress) set(n int64, desc string) {
	if p == nil {
		return
	}
	if desc != "" {
		p.bar.Describe(desc)
	}
	p.bar.Set64(n)
}

// done clears the bar's line, so what the command prints next starts on a
// clean line.
func (p *progress) done() {
	if p == nil {
		return
	}
	p.bar.Clear()
}

// simBar is a simulation's progress: the bar counts simulated seconds, so
// the estimate of the time left assumes the rest of the simulated time
// costs what the part done cost (a storm still to come makes it
// optimistic). nil draws nothing.
type simBar struct {
	what string
	mu   sync.Mutex // done may come from another goroutine (a signal)
	p    *progress
	over bool
}

// newSimBar returns a simulation's bar, or nil when progress goes nowhere.
func newSimBar(what string) *simBar {
	if progressTo() == nil {
		return nil
	}
	return &simBar{what: what}
}

// callback is the bar's sim.RunOptions.Progress (nil for a nil bar).
func (b *simBar) callback() func(now, end time.Duration) {
	if b == nil {
		return nil
	}
	return func(now, end time.Duration) {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.over {
			return
		}
		if b.p == nil {
			b.p = newProgress(b.what, int64(end.Seconds()))
		}
		b.p.set(int64(now.Seconds()), fmt.Sprintf("%s: %v of %v simulated", b.what, now.Truncate(time.Minute), end.Truncate(time.Minute)))
	}
}

// done clears the bar; the simulation's later calls draw nothing.
func (b *simBar) done() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.over = true
	b.p.done()
}

// countBar is the progress of a number of runs or cells (matrix, sweep):
// the estimate of the time left assumes the rest cost what the ones done
// cost. nil draws nothing.
type countBar struct {
	what, unit string
	p          *progress
}

// newCountBar returns a count's bar, or nil when progress goes nowhere.
func newCountBar(what, unit string) *countBar {
	if progressTo() == nil {
		return nil
	}
	return &countBar{what: what, unit: unit}
}

// callback is the bar's progress function, called from one goroutine with
// the runs done and the runs in all (nil for a nil bar).
func (b *countBar) callback() func(done, total int) {
	if b == nil {
		return nil
	}
	return func(done, total int) {
		if b.p == nil {
			b.p = newProgress(b.what, int64(total))
		}
		b.p.set(int64(done), fmt.Sprintf("%s: %d of %d %s", b.what, done, total, b.unit))
	}
}

func (b *countBar) done() {
	if b != nil {
		b.p.done()
	}
}
