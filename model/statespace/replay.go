package statespace

import (
	"fmt"
	"strings"

	"github.com/stormproof/stormproof/model"
)

// Counterexample is a shortest run that ends in a violation.
type Counterexample struct {
	Violation model.Violation
	// Init holds the observations of the actors' initialisation (step 0).
	Init []model.Obs
	// Steps are the transitions, in order.
	Steps []Step
}

// Step is one transition of a counterexample and what the actors observed.
type Step struct {
	What string
	Obs  []model.Obs
}

// Replay re-runs a path of fingerprints (states, from the initial one, then
// bad: the violating successor's) from the concrete initial state: at
// each step it takes the first successor whose canonical form has the next
// fingerprint. The concrete states keep their real numbers (connection
// generations, tokens) and device names, so the trace tells the real story.
func (s *System) Replay(states []uint64, badFP uint64, fingerprint func([]byte) uint64) (*Counterexample, error) {
	x := s.newExpander()
	x.tracing = true
	if err := x.initial(); err != nil {
		return nil, err
	}
	ce := &Counterexample{}
	for _, o := range x.obs {
		ce.Init = append(ce.Init, o.o)
	}
	if b, _ := x.canon(); fingerprint(b) != states[0] {
		return nil, fmt.Errorf("statespace: replay: the initial state does not match the search's")
	}
	x.commit()
	targets := append(append([]uint64(nil), states[1:]...), badFP)
	for i, fp := range targets {
		last := i == len(targets)-1
		x.t = model.Time(i + 1)
		var step *Step
		_, err := x.successors(false, func(next []byte, _ uint32, bad bool) (bool, bool) {
			if fingerprint(next) != fp || bad != last {
				return false, false
			}
			step = &Step{What: x.describe()}
			for _, o := range x.obs {
				step.Obs = append(step.Obs, o.o)
			}
			if last {
				ce.Violation = x.viol
			}
			return true, false
		})
		if err != nil {
			return nil, err
		}
		if step == nil {
			return nil, fmt.Errorf("statespace: replay: no successor of step %d matches the search's path", i)
		}
		ce.Steps = append(ce.Steps, *step)
		x.commit()
	}
	return ce, nil
}

// commit makes the work state (just produced) the base state.
func (x *Expander) commit() {
	x.base.copyFrom(x.work)
	x.enc.baseRanks(x.base)
	x.baseEnc = nil // the base state was not decoded
	x.baseFilled = x.base.filled()
	if x.touched {
		x.monBuf = x.workMon.AppendState(x.monBuf[:0], nil, nil)
		x.baseMon, x.monBuf = x.monBuf, x.baseMon
	}
	x.baseMonDec = nil
	clear(x.baseMonPermOK)
}

// describe says what the transition in progress (x.curT on x.base) is.
func (x *Expander) describe() string {
	t := x.curT
	var b strings.Builder
	switch t.kind {
	case tDeliver:
		m := &x.base.ch[t.idx][0]
		def := &x.l.chans[t.idx]
		fmt.Fprintf(&b, "deliver %s %v→%v", m.Type, def.from, def.to)
		if def.from.Kind == model.KindCache || def.to.Kind == model.KindCache && def.from.Kind == model.KindWorker {
			fmt.Fprintf(&b, " (conn %d)", def.lane)
		}
	case tTimer:
		a, id := x.l.timerOf(uint(t.idx))
		fmt.Fprintf(&b, "timer %v %s", a, timerName(a, id))
		if t.premature >= 0 {
			b.WriteString(" fires before its answer arrives")
		}
	case tFault:
		f := x.s.faults[t.idx].f
		fmt.Fprintf(&b, "fault %s", f.Kind)
		switch f.Kind {
		case model.FaultTransfer:
			fmt.Fprintf(&b, " of cam%d to accounts %v", f.Device, f.Owners)
		case model.FaultLogin:
			fmt.Fprintf(&b, " of acct%d", f.Account)
		}
	}
	for i, v := range x.script {
		if i < len(x.sites) {
			fmt.Fprintf(&b, ", %s: %v", choiceName(x.sites[i]), v)
		}
	}
	return b.String()
}

func timerName(a model.Addr, id uint16) string {
	switch a.Kind {
	case model.KindCamera:
		return [...]string{"capture", "connect/backoff", "upload ack"}[id]
	case model.KindGateway:
		return "admission refill"
	case model.KindCache:
		return "service"
	case model.KindWorker:
		return fmt.Sprintf("conn %d deadline", id)
	case model.KindWeb:
		return "shared entry expiry"
	case model.KindReader:
		return "next probe or read"
	}
	return "?"
}

func choiceName(c model.Choice) string {
	if c == model.ChoiceVideo {
		return "plays video"
	}
	return "taps"
}
