package sim

import "github.com/stormproof/stormproof/model"

// pipe hands a run's observations to a second goroutine in batches, so
// that judging them (monitor, metrics, slicer, trace writer: a quarter of a
// large run's work) goes on beside the engine, on the second core. The
// consumer sees exactly the engine's sequence, so nothing about a run's
// results depends on the scheduling; the engine never reads the
// consumer's state.
type pipe struct {
	cur   []timedObs
	full  chan []timedObs
	empty chan []timedObs
	done  chan struct{}
}

type timedObs struct {
	t model.Time
	o model.Obs
}

const (
	pipeBatch = 2048 // observations per hand-over (≈400 KB)
	pipeBufs  = 4    // batches in circulation
)

func startPipe(consume func(t model.Time, o *model.Obs)) *pipe {
	p := &pipe{full: make(chan []timedObs, pipeBufs), empty: make(chan []timedObs, pipeBufs), done: make(chan struct{})}
	// Batches grow as they fill: a small run (a property test draws
	// thousands) allocates only what it observes.
	for range pipeBufs - 1 {
		p.empty <- nil
	}
	go func() {
		defer close(p.done)
		for b := range p.full {
			for i := range b {
				consume(b[i].t, &b[i].o)
			}
			p.empty <- b[:0]
		}
	}()
	return p
}

// put queues one observation (copied).
func (p *pipe) put(t model.Time, o *model.Obs) {
	p.cur = append(p.cur, timedObs{t, *o})
	if len(p.cur) == pipeBatch {
		p.full <- p.cur
		p.cur = <-p.empty
	}
}

// flush hands over what is queued and waits until all is consumed; the
// pipe cannot be used after.
func (p *pipe) flush() {
	if len(p.cur) > 0 {
		p.full <- p.cur
	}
	close(p.full)
	<-p.done
}
