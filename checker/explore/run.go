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

	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/model/statespace"
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
	// Reduce searches with partial-order reduction (statespace.Options).
	// A violation it finds is then looked for again without it, up to the
	// length found, so the counterexample is a shortest one.
	Reduce bool
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
	Counterexample *statespace.Counterexample
	// Reduced: the search took stubborn sets only (Options.Reduce).
	Reduced bool
	// Shortest is the search without reduction that found the shortest
	// violation, when a reduced search found one (nil otherwise).
	Shortest *SearchResult
}

// Run explores cfg: the model's state space (package statespace) searched
// breadth first, and the shortest violation replayed into a counterexample.
func Run(cfg *Config, opt Options) (*Result, error) {
	sopt := statespace.Options{Symmetry: !opt.NoSymmetry, Ignore: opt.Ignore, Rule: opt.Rule, Reduce: opt.Reduce}
	s, err := statespace.New(cfg.Spec(), sopt)
	if err != nil {
		return nil, err
	}
	sr, err := Search(modelSystem{s}, opt.Search)
	if err != nil {
		return nil, err
	}
	res := &Result{Config: cfg, Search: sr, Group: s.Group(), Ignored: opt.Ignore, Rule: opt.Rule, Reduced: opt.Reduce}
	if v := sr.Violation; v != nil && opt.Reduce {
		// The reduced search may reach a violation by a longer run: the
		// plain search up to that length finds a shortest one.
		sopt.Reduce = false
		if s, err = statespace.New(cfg.Spec(), sopt); err != nil {
			return nil, err
		}
		po := opt.Search
		po.MaxDepth = len(v.States)
		if res.Shortest, err = Search(modelSystem{s}, po); err != nil {
			return nil, err
		}
		if res.Shortest.Violation == nil {
			return nil, fmt.Errorf("explore: the search without reduction found no violation within %d steps", len(v.States))
		}
		sr.Violation = res.Shortest.Violation
	}
	if v := sr.Violation; v != nil {
		if res.Counterexample, err = s.Replay(v.States, v.Bad, Fingerprint); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// modelSystem is the model's state space as the search's System.
type modelSystem struct{ *statespace.System }

func (m modelSystem) NewExpander() Expander { return m.System.NewExpander() }

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
