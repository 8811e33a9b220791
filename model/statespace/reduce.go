package statespace

import (
	"math/bits"

	"github.com/stormproof/stormproof/model"
)

// Partial-order reduction: at each state the search may take only a
// stubborn set of the enabled transitions (Valmari): a set T such that no
// run of transitions outside T can touch what T's transitions touch, or
// enable one of T's, before some transition of T is taken. Every state
// with nothing left to deliver or fire (a deadlock, or a quiescent state
// where only faults remain) stays reachable, by a run that is a
// reordering of independent transitions of any run reaching it; a
// violation is kept because a reordering of independent transitions
// keeps each transition's verdict (the monitor's observations of
// different actors commute: a test checks every such pair in the small
// worlds) and a run that violates can be run on to such a state.
//
// Independence is the actors' own: a step touches its actor's state, the
// tail of its outgoing channels and the head of the channel it reads, so
// steps of different actors commute. What the model adds (model.World
// MaySend and PrematureDeps) bounds which other actors must join:
//   - an actor's empty input channel from an actor that may send on it
//     (which would enable a transition of the set), unless the sender
//     only answers and owes nothing;
//   - the actors whose steps change whether an armed timer would fire
//     early, and every actor whose early timer spends the same budget;
//   - every enabled fault aimed at an actor of the set, with its targets.
//
// Faults that change what the monitor judges by (transfers, logins,
// windows) are dependent on everything: while one is enabled the state is
// expanded fully. So is a state any of whose chosen successors was
// stored at an earlier level (the cycle proviso of breadth-first search:
// no transition is postponed around a cycle).

// actorSet is a set of actors by their index in layout.actors.
type actorSet uint64

// numberActors numbers the actors of a layout: cameras, then the singletons
// and workers in the model's kinds order, then apps.
func (l *layout) numberActors(p *model.Params) {
	add := func(a model.Addr) { l.actors = append(l.actors, a) }
	for i := 0; i < l.nCam; i++ {
		add(model.CameraAddr(model.DeviceID(i)))
	}
	for k := model.Kind(0); int(k) < numKinds; k++ {
		switch k {
		case model.KindCamera, model.KindApp:
		case model.KindWorker:
			for i := 0; i < l.nW; i++ {
				add(model.WorkerAddr(i))
			}
		default:
			for i := 0; i < model.Count(p, k); i++ {
				add(model.Addr{Kind: k, Index: uint32(i)})
			}
		}
	}
	for a := 0; a < l.nAcct; a++ {
		add(model.AppAddr(model.AccountID(a)))
	}
	for k := range l.actorBase {
		l.actorBase[k] = -1
	}
	for i, a := range l.actors {
		if l.actorBase[a.Kind] < 0 {
			l.actorBase[a.Kind] = i
		}
	}
	l.inChans = make([][]int, len(l.actors))
	for c, d := range l.chans {
		to := l.actorIdx(d.to)
		l.inChans[to] = append(l.inChans[to], c)
	}
}

// actorIdx is actor a's index in l.actors.
func (l *layout) actorIdx(a model.Addr) int { return l.actorBase[a.Kind] + int(a.Index) }

// reducer is an expander's scratch for choosing a stubborn set.
type reducer struct {
	actorOf  []int      // per enabled transition: its actor, or -1 for a fault
	targets  []actorSet // per enabled transition: a fault's targets
	timerKin []uint8    // per actor: the premature kinds of its armed timers
	inT      []bool
	best     []bool
	stack    []int
}

// stubborn marks in x.red.best the transitions of a stubborn set of trs,
// the enabled transitions of the base state, and says whether it is a
// proper subset.
func (x *Expander) stubborn(trs []trans) bool {
	r := &x.red
	l, b := x.l, x.base
	if len(trs) < 2 {
		return false
	}
	r.actorOf = r.actorOf[:0]
	r.targets = r.targets[:0]
	for _, t := range trs {
		a, tg := -1, actorSet(0)
		switch t.kind {
		case tDeliver:
			a = l.actorIdx(l.chans[t.idx].to)
		case tTimer:
			ad, _ := l.timerOf(uint(t.idx))
			a = l.actorIdx(ad)
		case tFault:
			f := x.s.faults[t.idx].f
			switch f.Kind {
			case model.FaultGatewayDown, model.FaultGatewayUp, model.FaultCacheRestart, model.FaultEventsTabOff:
				b.w.FaultTargets(f, func(ad model.Addr, _ model.Input) { tg |= 1 << l.actorIdx(ad) })
			default:
				return false // a fault the monitor judges by: dependent on everything
			}
		}
		r.actorOf = append(r.actorOf, a)
		r.targets = append(r.targets, tg)
	}
	// The premature kinds of each actor's armed timers.
	r.timerKin = append(r.timerKin[:0], make([]uint8, len(l.actors))...)
	for t := b.timers; t != 0; t &= t - 1 {
		a, id := l.timerOf(uint(bits.TrailingZeros64(t)))
		r.timerKin[l.actorIdx(a)] |= b.w.PrematureDeps(a, id, func(model.Addr) {})
	}
	var spent uint8 // kinds whose budget is spent
	for k := range b.bud.premature {
		if b.bud.premature[k] == 0 {
			spent |= 1 << (k + 1)
		}
	}
	bestN := len(trs)
	r.inT = append(r.inT[:0], make([]bool, len(trs))...)
	r.best = append(r.best[:0], make([]bool, len(trs))...)
	var tried actorSet
	for _, a := range r.actorOf {
		if a < 0 || tried&(1<<a) != 0 {
			continue
		}
		tried |= 1 << a
		s := x.closure(a, spent)
		n := 0
		for i := range trs {
			in := r.actorOf[i] >= 0 && s&(1<<r.actorOf[i]) != 0 || r.targets[i]&s != 0
			r.inT[i] = in
			if in {
				n++
			}
		}
		if n < bestN {
			bestN = n
			copy(r.best, r.inT)
		}
	}
	return bestN < len(trs)
}

// closure is the least set of actors containing a that is closed under
// the rules above.
func (x *Expander) closure(a int, spent uint8) actorSet {
	r := &x.red
	l, b := x.l, x.base
	var s actorSet
	r.stack = r.stack[:0]
	add := func(i int) {
		if s&(1<<i) == 0 {
			s |= 1 << i
			r.stack = append(r.stack, i)
		}
	}
	add(a)
	for len(r.stack) > 0 {
		i := r.stack[len(r.stack)-1]
		r.stack = r.stack[:len(r.stack)-1]
		me := l.actors[i]
		for _, c := range l.inChans[i] {
			d := &l.chans[c]
			if len(b.ch[c]) == 0 && b.w.MaySend(d.from, me, d.lane, x.inFlight) {
				add(l.actorIdx(d.from))
			}
		}
		if kin := r.timerKin[i]; kin != 0 {
			for t := b.timers; t != 0; t &= t - 1 {
				ta, id := l.timerOf(uint(bits.TrailingZeros64(t)))
				if l.actorIdx(ta) == i {
					b.w.PrematureDeps(ta, id, func(d model.Addr) { add(l.actorIdx(d)) })
				}
			}
			if live := kin &^ spent; live != 0 {
				for j, k := range r.timerKin {
					if k&live != 0 {
						add(j)
					}
				}
			}
		}
		for _, tg := range r.targets {
			if tg&(1<<i) != 0 {
				for m := tg; m != 0; m &= m - 1 {
					add(bits.TrailingZeros64(uint64(m)))
				}
			}
		}
	}
	return s
}
