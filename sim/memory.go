package sim

import (
	"fmt"
	"math"

	"github.com/stormproof/stormproof/internal/membudget"
)

// What a run holds, per unit of what its configuration asks for. The
// per-camera figure bounds the live heap's growth from 3,000 to 30,000
// cameras of wyze-2024-02 (830 B per camera, sampled after a collection
// every ten simulated minutes; TestMemoryEstimateBoundsTheRun) and the 1 M
// storm's peak in heap profiles (580 B; README "Memory"), with a margin;
// the others are the growth of peak RSS of
// `stormproof run --trace none` on wyze-2024-02 when only that field grows
// (20,000 workers: +122 MB; 1,000,000 transfers: +163 MB; 40 days: +104 MB),
// an upper bound on what they hold live.
const (
	memBase        = 64 << 20 // the program, the runtime, the trace writer's buffers
	memPerCamera   = 1000     // actors, engine slots, monitor, metrics, pending events
	memPerAccount  = 64       // app actor, cohort bits, integrations
	memPerWorker   = 2048     // worker actor, upload slots, FIFO tables
	memPerConn     = 1024     // a pooled connection: client state, slicer ring
	memPerSecond   = 32       // per-second and per-bin series of the summary
	memPerTransfer = 192      // a planned fault and its queued event
	memPerLogin    = 192      // a planned web login and its queued event
	memPerOpenEv   = 96       // an event captured and not yet resolved (monitor record)
	// openInCamera is how many open events per camera the per-camera
	// figure already holds: the 2024 storm's cameras buffer up to 20.
	openInCamera = 20
)

// MemEstimate is the memory a run of a scenario is estimated to hold, and
// the field whose term is the largest.
type MemEstimate struct {
	Bytes float64
	Field string
	// Term is the largest term, said for a person ("50000000 cameras × 600 B").
	Term  string
	terms float64
}

// Memory estimates the memory a run of s holds, from its configuration
// alone (nothing is allocated). Counts are computed in floating point, so
// no product of input numbers can overflow.
func (s *Scenario) Memory() MemEstimate {
	sc := func(n int) float64 { return math.Max(1, math.Round(float64(n)*s.Scale)) }
	cams := sc(s.Fleet.Cameras)
	accts := math.Min(sc(s.Fleet.Accounts), cams)
	workers := sc(s.Cloud.Workers)
	conns := math.Max(1, float64(s.Cloud.Workers)*float64(s.Cloud.PoolSize)*s.Scale)
	secs := s.Duration.D().Seconds()
	e := MemEstimate{Bytes: memBase}
	add := func(field string, n, per float64, what string) {
		b := n * per
		e.Bytes += b
		if b > e.terms {
			e.terms, e.Field = b, field
			e.Term = fmt.Sprintf("%.0f %s × %s", n, what, membudget.Format(per))
		}
	}
	add("fleet.cameras", cams, memPerCamera, "cameras")
	add("fleet.accounts", accts, memPerAccount, "accounts")
	// pool_size is bounded (at most 4096): the workers are the number to name.
	add("cloud.workers", workers, memPerWorker+conns/workers*memPerConn, "workers")
	add("duration", secs, memPerSecond, "seconds")
	if s.Transfers.Count > 0 {
		add("transfers.count", sc(s.Transfers.Count), memPerTransfer, "transfers")
	}
	if w := s.Web; w != nil {
		add("web.logins_per_hour", w.LoginsPerHour*s.Scale*s.Duration.D().Hours(), memPerLogin, "logins")
	}
	// Events stay open while a camera buffers them: at most its buffer, at
	// most what it captures in the run.
	open := 0.0
	for _, p := range s.Profiles {
		w := s.Fleet.Mix[p.Name]
		open += w * math.Max(0, math.Min(float64(p.BufferEvents), p.MotionPerHour*s.CaptureUntil.D().Hours()+1)-openInCamera)
	}
	if open > 0 {
		add("fleet.mix", open*cams, memPerOpenEv, fmt.Sprintf("open events beyond %d per camera", openInCamera))
	}
	return e
}

// CheckMemory refuses, naming the field with the largest term and its line,
// a run estimated to need more than limit bytes.
func (s *Scenario) CheckMemory(limit uint64) error {
	e := s.Memory()
	if e.Bytes <= float64(limit) {
		return nil
	}
	at := ""
	if s.Scale != 1 {
		at = fmt.Sprintf(" at scale %g", s.Scale)
	}
	return s.fieldError(e.Field, "a run%s needs an estimated %s (%s), more than --max-mem %s",
		at, membudget.Format(e.Bytes), e.Term, membudget.Format(float64(limit)))
}
