package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Interrupted is returned by a command that SIGINT or SIGTERM stopped: it
// removed its temporary files and published nothing of the interrupted
// work. Its exit status is 128 + the signal's number.
type Interrupted struct {
	Signal string
	Status int
	// Kept says what of the work was kept ("": nothing).
	Kept string
}

func (e *Interrupted) Error() string {
	if e.Kept != "" {
		return fmt.Sprintf("interrupted by %s: %s", e.Signal, e.Kept)
	}
	return fmt.Sprintf("interrupted by %s: nothing of the interrupted run was written", e.Signal)
}

// Signals is a context that SIGINT or SIGTERM ends; Stop restores their
// default behaviour (a second signal then ends the process at once).
type Signals struct {
	context.Context
	intr, term context.Context
	stops      [2]context.CancelFunc
}

// NotifySignals starts diverting SIGINT and SIGTERM to a context.
func NotifySignals() *Signals {
	s := &Signals{}
	var both context.CancelFunc
	s.Context, both = context.WithCancel(context.Background())
	var stopI, stopT context.CancelFunc
	s.intr, stopI = signal.NotifyContext(context.Background(), os.Interrupt)
	s.term, stopT = signal.NotifyContext(context.Background(), syscall.SIGTERM)
	s.stops = [2]context.CancelFunc{func() { stopI(); stopT() }, both}
	go func() {
		select {
		case <-s.intr.Done():
		case <-s.term.Done():
		}
		both()
	}()
	return s
}

// Stop stops diverting the signals.
func (s *Signals) Stop() {
	s.stops[0]()
}

// Interruption is the Interrupted error of the signal that arrived, or nil.
func (s *Signals) Interruption() error {
	switch {
	case s.term.Err() != nil && context.Cause(s.term) != context.Canceled:
		return &Interrupted{Signal: "SIGTERM", Status: ExitSIGTERM}
	case s.intr.Err() != nil && context.Cause(s.intr) != context.Canceled:
		return &Interrupted{Signal: "SIGINT", Status: ExitSIGINT}
	}
	return nil
}
