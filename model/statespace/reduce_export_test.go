package statespace

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/stormproof/stormproof/model"
)

// ReductionCheck is what CheckReduction looked at.
type ReductionCheck struct {
	States, Transitions, Pairs int
}

// CheckReduction checks, at the first bfs states of s in breadth-first
// order and at every state of walks random runs (seeded by seed), the two
// facts the partial-order reduction rests on:
//   - the model's declarations hold on every transition: an actor sends on
//     a channel only where model.World.MaySend said it may and only to an
//     actor model.MayCause allows for that input, a MaySend that
//     is false stays false unless the receiver stepped, and an armed
//     timer's Premature answer changes, and the actors PrematureDeps names
//     grow, only by a step of its actor, of one it names, or a fault of a
//     kind it names (and its kinds include every answer);
//   - every two enabled transitions the reduction treats as independent
//     commute: taken in either order, with every outcome of their chances,
//     they reach the same states, and violate in one order exactly when
//     they violate in the other.
func CheckReduction(s *System, bfs, walks int, seed uint64) (ReductionCheck, error) {
	x := s.newExpander()
	var rc ReductionCheck
	if err := x.initial(); err != nil {
		return rc, err
	}
	b, _ := x.canon()
	init := slices.Clone(b)
	seen := map[string]bool{string(init): true}
	queue := [][]byte{init}
	check := func(st []byte) ([][]byte, error) {
		rc.States++
		succ, err := x.checkState(st, &rc)
		if err != nil {
			return nil, fmt.Errorf("state %x: %v", st, err)
		}
		return succ, nil
	}
	for len(queue) > 0 && rc.States < bfs {
		st := queue[0]
		queue = queue[1:]
		succ, err := check(st)
		if err != nil {
			return rc, err
		}
		for _, n := range succ {
			if !seen[string(n)] {
				seen[string(n)] = true
				queue = append(queue, n)
			}
		}
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	for w := 0; w < walks; w++ {
		st := init
		for {
			succ, err := check(st)
			if err != nil {
				return rc, err
			}
			if len(succ) == 0 {
				break
			}
			st = succ[rng.IntN(len(succ))]
		}
	}
	return rc, nil
}

// checkState checks one state and returns its successors.
func (x *Expander) checkState(st []byte, rc *ReductionCheck) ([][]byte, error) {
	if err := x.load(st); err != nil {
		return nil, err
	}
	trs := slices.Clone(x.enabled())
	var succ [][]byte
	for _, t := range trs {
		rc.Transitions++
		outs, err := x.outcomes(st, t, true)
		if err != nil {
			return nil, fmt.Errorf("%+v: %v", t, err)
		}
		for _, o := range outs {
			if !o.bad {
				succ = append(succ, o.next)
			}
		}
	}
	// Which pairs are independent is judged in st (the diamonds below
	// leave other states loaded).
	if err := x.load(st); err != nil {
		return nil, err
	}
	var pairs [][2]int
	for i := range trs {
		for j := i + 1; j < len(trs); j++ {
			if x.independent(trs[i], trs[j]) {
				pairs = append(pairs, [2]int{i, j})
			}
		}
	}
	for _, pr := range pairs {
		t, u := trs[pr[0]], trs[pr[1]]
		rc.Pairs++
		a, err := x.diamond(st, t, u)
		if err != nil {
			return nil, err
		}
		b, err := x.diamond(st, u, t)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(a, b) {
			return nil, fmt.Errorf("%+v and %+v do not commute:\n%q\n%q", t, u, a, b)
		}
	}
	return succ, nil
}

type outcome struct {
	next []byte
	bad  bool
}

// outcomes runs t from state st (every outcome of its chances) and, with
// declare, checks the model's declarations on each step.
func (x *Expander) outcomes(st []byte, t trans, declare bool) ([]outcome, error) {
	if err := x.load(st); err != nil {
		return nil, err
	}
	var outs []outcome
	var derr error
	stepped := x.actorsOf(t)
	_, _, _, err := x.run([]trans{t}, nil, true, func(next []byte, _ uint32, bad bool) (bool, bool) {
		outs = append(outs, outcome{append([]byte(nil), next...), bad})
		if declare && derr == nil {
			derr = x.checkDeclarations(t, stepped)
		}
		return false, false
	})
	if err == nil {
		err = derr
	}
	return outs, err
}

// actorSet is a set of actors by their index in layout.actors.
type actorSet uint64

// actorsOf is the set of actors transition t steps in the base state.
func (x *Expander) actorsOf(t trans) actorSet {
	l := x.l
	switch t.kind {
	case tDeliver:
		return 1 << l.actorIdx(l.chans[t.idx].to)
	case tTimer:
		a, _ := l.timerOf(uint(t.idx))
		return 1 << l.actorIdx(a)
	}
	var s actorSet
	x.base.w.FaultTargets(x.s.faults[t.idx].f, func(a model.Addr, _ model.Input) { s |= 1 << l.actorIdx(a) })
	return s
}

// unitsOf is the set of units (the reduction's groups of transitions)
// transition t belongs to in the base state: a delivery's, a timer's
// actor's, or every unit of a fault's targets.
func (x *Expander) unitsOf(t trans) unitSet {
	l, u := x.l, x.s.units
	switch t.kind {
	case tDeliver:
		return 1 << u.ofChan[t.idx]
	case tTimer:
		a, _ := l.timerOf(uint(t.idx))
		return u.ofActor[l.actorIdx(a)]
	}
	var s unitSet
	x.base.w.FaultTargets(x.s.faults[t.idx].f, func(a model.Addr, _ model.Input) { s |= u.ofActor[l.actorIdx(a)] })
	return s
}

// checkDeclarations checks MaySend and PrematureDeps on the step from the
// base state to the work state.
func (x *Expander) checkDeclarations(t trans, stepped actorSet) error {
	l, b, w := x.l, x.base, x.work
	workCh := func(from, to model.Addr, lane uint16) []model.Msg { return w.ch[l.chanOf(from, to, lane)] }
	for c, d := range l.chans {
		sent := len(w.ch[c]) - len(b.ch[c])
		if t.kind == tDeliver && t.idx == c {
			sent++
		}
		before := b.w.MaySend(d.from, d.to, d.lane, x.inFlight)
		if sent > 0 && !before {
			return fmt.Errorf("%v sent to %v on lane %d where MaySend said it may not", d.from, d.to, d.lane)
		}
		if sent > 0 {
			src := model.EngineAddr
			switch t.kind {
			case tDeliver:
				src = l.chans[t.idx].from
			case tTimer:
				src, _ = l.timerOf(uint(t.idx))
			}
			if !b.w.MayCause(d.from, src, d.to) {
				return fmt.Errorf("%v, stepping on an input from %v, sent to %v, which MayCause does not allow", d.from, src, d.to)
			}
		}
		if !before && stepped&(1<<l.actorIdx(d.to)) == 0 && w.w.MaySend(d.from, d.to, d.lane, workCh) {
			return fmt.Errorf("MaySend(%v → %v, lane %d) turned true without a step of %v", d.from, d.to, d.lane, d.to)
		}
	}
	var fk model.FaultKind = 255 // the fault t injects, if it is one
	if t.kind == tFault {
		fk = x.s.faults[t.idx].f.Kind
	}
	for tm := b.timers & w.timers; tm != 0; tm &= tm - 1 {
		a, id := l.timerOf(uint(trailingZeros(tm)))
		deps, declared := actorSet(1)<<l.actorIdx(a), false
		var before, after uint64 // fault kinds named
		kinds := b.w.PrematureDeps(a, id, x.inFlight, func(d model.Addr) { deps |= 1 << l.actorIdx(d) },
			func(k model.FaultKind) { declared, before = declared || k == fk, before|1<<k })
		k0, k1 := b.w.Premature(a, id, x.inFlight), w.w.Premature(a, id, workCh)
		for _, k := range []model.Timeout{k0, k1} {
			if k != model.TimeoutNone && kinds&(1<<k) == 0 {
				return fmt.Errorf("%v timer %d is premature of kind %d, which PrematureDeps does not list", a, id, k)
			}
		}
		if declared || deps&stepped != 0 {
			continue // its actor, one it names or a fault it names stepped: anything may change
		}
		if k0 != k1 {
			return fmt.Errorf("%v timer %d: premature %d turned %d by a step of none of its actors", a, id, k0, k1)
		}
		grown := actorSet(0)
		w.w.PrematureDeps(a, id, workCh, func(d model.Addr) { grown |= 1 << l.actorIdx(d) }, func(k model.FaultKind) { after |= 1 << k })
		if grown&^deps != 0 || after&^before != 0 {
			return fmt.Errorf("%v timer %d: what PrematureDeps names grew (actors %b to %b, faults %b to %b) by a step it does not name",
				a, id, deps, grown|deps, before, after)
		}
	}
	return nil
}

// independent says whether the reduction treats t and u, enabled in the
// base state, as independent (the rules of reduce.go).
func (x *Expander) independent(t, u trans) bool {
	if x.global(t) || x.global(u) {
		return false
	}
	at, au := x.unitsOf(t), x.unitsOf(u)
	if at&au != 0 {
		return false
	}
	kt, dt, ft := x.timerDeps(t)
	ku, du, fu := x.timerDeps(u)
	if dt&au != 0 || du&at != 0 || ft(u) || fu(t) {
		return false
	}
	var live uint8
	for k, n := range x.base.bud.premature {
		if n > 0 {
			live |= 1 << (k + 1)
		}
	}
	return kt&ku&live == 0
}

func (x *Expander) global(t trans) bool {
	return t.kind == tFault && !localFault(x.s.faults[t.idx].f.Kind)
}

// timerDeps is a timer transition's premature kinds, the actors
// PrematureDeps names for it, and whether a transition is a fault of a
// kind it names.
func (x *Expander) timerDeps(t trans) (uint8, unitSet, func(trans) bool) {
	if t.kind != tTimer {
		return 0, 0, func(trans) bool { return false }
	}
	a, id := x.l.timerOf(uint(t.idx))
	var s unitSet
	var fks []model.FaultKind
	k := x.base.w.PrematureDeps(a, id, x.inFlight, func(d model.Addr) { s |= x.s.units.ofActor[x.l.actorIdx(d)] },
		func(k model.FaultKind) { fks = append(fks, k) })
	return k, s, func(u trans) bool { return u.kind == tFault && slices.Contains(fks, x.s.faults[u.idx].f.Kind) }
}

// diamond runs t then u from st, with every outcome of each, on concrete
// states (a canonical state may rename the actors u steps), and returns
// the sorted results: the state reached and whether either step violated.
// (Which of two commuting steps violates may depend on their order — the
// second delivery of an event is the one counted twice — but a run
// violates in one order exactly when it does in the other.)
func (x *Expander) diamond(st []byte, t, u trans) ([]string, error) {
	if err := x.load(st); err != nil {
		return nil, err
	}
	var scripts [][]bool
	if _, _, _, err := x.run([]trans{t}, nil, true, func([]byte, uint32, bool) (bool, bool) {
		scripts = append(scripts, slices.Clone(x.script))
		return false, false
	}); err != nil {
		return nil, err
	}
	var res []string
	for _, sc := range scripts {
		// A copy: commit reuses the loaded state's monitor bytes.
		if err := x.load(slices.Clone(st)); err != nil {
			return nil, err
		}
		x.script = append(x.script[:0], sc...)
		if _, _, err := x.once(t); err != nil {
			return nil, err
		}
		badT := x.violated
		x.commit()
		if !slices.Contains(x.enabled(), u) {
			return nil, fmt.Errorf("%+v disables %+v", t, u)
		}
		if _, _, _, err := x.run([]trans{u}, nil, true, func(next []byte, _ uint32, badU bool) (bool, bool) {
			res = append(res, fmt.Sprintf("%x %v", next, badT || badU))
			return false, false
		}); err != nil {
			return nil, err
		}
	}
	slices.Sort(res)
	return slices.Compact(res), nil
}
