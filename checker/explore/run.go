// Package explore is stormproof's exhaustive explorer: breadth-first search
// over every interleaving of message deliveries, timer firings, chance
// outcomes and faults of a small configuration of the model's own actors,
// with the model's Monitor as ghost state. It proves the invariants for
// every run within the configuration's bounds, or finds a shortest
// counterexample and replays it into a trace that `stormproof check` and
// `stormproof render` read.
package explore

import (
	"fmt"
	"io"
	"strings"

	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/traces"
)

// Options are the choices of one exploration.
type Options struct {
	// NoSymmetry turns symmetry reduction off (to measure its factor).
	NoSymmetry bool
	// Ignore lists invariants whose violations do not stop the search (to
	// ask whether one holds where another is known to fail, e.g. whether
	// stamped-media stops every foreign delivery though owners then lose
	// notifications silently).
	Ignore []model.Invariant
	Search SearchOptions
	// Rule is the authorization rule the search judges by.
	Rule model.AuthRule
}

// Result is what an exploration found.
type Result struct {
	Config *Config
	Search *SearchResult
	// Group is the order of the symmetry group used.
	Group int
	// Ignored are the invariants the search did not judge (Options.Ignore).
	Ignored []model.Invariant
	// Rule is the authorization rule the search judged by.
	Rule model.AuthRule
	// Counterexample is the replayed shortest path, when a violation was found.
	Counterexample *Counterexample
}

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

// Run explores cfg.
func Run(cfg *Config, opt Options) (*Result, error) {
	s, err := newModelSys(cfg, !opt.NoSymmetry)
	if err != nil {
		return nil, err
	}
	for _, inv := range opt.Ignore {
		s.ignore |= 1 << inv
	}
	s.rule = opt.Rule
	sr, err := Search(s, opt.Search)
	if err != nil {
		return nil, err
	}
	res := &Result{Config: cfg, Search: sr, Group: len(s.group), Ignored: opt.Ignore, Rule: opt.Rule}
	if sr.Violation != nil {
		if res.Counterexample, err = s.replay(sr.Violation); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// replay re-runs a path of fingerprints from the concrete initial state: at
// each step it takes the first successor whose canonical form has the next
// fingerprint. The concrete states keep their real numbers (connection
// generations, tokens) and device names, so the trace tells the real story.
func (s *modelSys) replay(path *Path) (*Counterexample, error) {
	x := s.newExpander()
	x.tracing = true
	if err := x.initial(); err != nil {
		return nil, err
	}
	ce := &Counterexample{}
	for _, o := range x.obs {
		ce.Init = append(ce.Init, o.o)
	}
	if b, _ := x.canon(); Fingerprint(b) != path.States[0] {
		return nil, fmt.Errorf("explore: replay: the initial state does not match the search's")
	}
	x.commit()
	targets := append(append([]uint64(nil), path.States[1:]...), path.Bad)
	for i, fp := range targets {
		last := i == len(targets)-1
		x.t = model.Time(i + 1)
		var step *Step
		_, err := x.successors(func(next []byte, _ uint32, bad bool) bool {
			if Fingerprint(next) != fp || bad != last {
				return false
			}
			step = &Step{What: x.describe()}
			for _, o := range x.obs {
				step.Obs = append(step.Obs, o.o)
			}
			if last {
				ce.Violation = x.viol
			}
			return true
		})
		if err != nil {
			return nil, err
		}
		if step == nil {
			return nil, fmt.Errorf("explore: replay: no successor of step %d matches the search's path", i)
		}
		ce.Steps = append(ce.Steps, *step)
		x.commit()
	}
	return ce, nil
}

// commit makes the work state (just produced) the base state.
func (x *expander) commit() {
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
func (x *expander) describe() string {
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

// WriteTrace writes the counterexample as a full trace: the header carries
// the configuration, `t` is the step number (0 for initialisation).
func (r *Result) WriteTrace(w io.Writer, tool, reproduce string) error {
	ce := r.Counterexample
	if ce == nil {
		return fmt.Errorf("explore: no counterexample to write")
	}
	cfg := r.Config
	tw, err := traces.NewWriter(w, traces.Header{Engine: "explore", Scenario: cfg.Name, Design: cfg.Design().String(),
		Devices: len(cfg.Cameras), Accounts: cfg.Accounts, Detail: "full", Authorized: r.Rule.String(), Options: cfg.JSON(), Tool: tool, Reproduce: reproduce})
	if err != nil {
		return err
	}
	for i := range ce.Init {
		if err := tw.Write(0, &ce.Init[i]); err != nil {
			return err
		}
	}
	for si, st := range ce.Steps {
		for i := range st.Obs {
			if err := tw.Write(model.Time(si+1), &st.Obs[i]); err != nil {
				return err
			}
		}
	}
	if ce.Violation.Inv == model.NoSilentLoss {
		// The run ends quiet: nothing in flight, no timer armed.
		end := model.Obs{Kind: model.ObsEnd, Actor: model.EngineAddr, Flag: true}
		if err := tw.Write(model.Time(len(ce.Steps)), &end); err != nil {
			return err
		}
	}
	return tw.Flush()
}
