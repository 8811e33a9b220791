package statespace

import (
	"math/bits"
	"slices"

	"github.com/stormproof/stormproof/model"
)

// Partial-order reduction: at each state the search may take only a
// stubborn set T of the enabled transitions (Valmari): no run of
// transitions outside T can touch what an enabled transition of T
// touches, or enable a disabled one, before some transition of T is
// taken. Then any run from the state is matched by one the reduced search
// takes: the first of the run's transitions in T moves to the front (it
// commutes with those before it); if none is in T, every enabled
// transition of T commutes with the whole run, and one that leads a level
// deeper is taken first. The proviso below makes sure there is one, so
// the second case cannot repeat for ever. Moving a transition past
// independent ones keeps the states after both and whether either
// violates (the monitor's observations of different actors commute), so
// every violation is still found — perhaps at the end of a longer run,
// which is why a reduced search that finds one is followed by a plain one
// up to that length (explore.Run).
//
// Independence is the actors' own: a step touches its actor's state, the
// tail of its outgoing channels and the head of the channel it reads, so
// steps of different actors commute. An actor that handles its senders'
// messages independently (model.InputsCommute) is split into one unit per
// input channel; any other actor is one unit. What the model declares
// (model.World.MayCause, MaySend, PrematureDeps) bounds what else
// must join the set:
//   - an enabled transition brings every transition of its unit;
//   - a delivery on an empty channel from Y brings the transitions of Y
//     that may send on it (MayCause), or none when its receiver's are all
//     in and Y only answers and owes nothing (MaySend);
//   - a timer that may not fire brings its actor's transitions (which arm
//     it), the actors whose steps change whether it would fire early, and
//     every actor whose early timer spends the same budget;
//   - an enabled fault aimed at a unit whose transitions are all in comes
//     in with every unit of its targets.
//
// Faults that change what the monitor judges by (transfers, logins,
// windows) are dependent on every step: while one is enabled the state is
// expanded fully. The cycle proviso of a breadth-first search: the
// stubborn sets found are taken smallest first, in turn, until one has a
// successor not stored at an earlier level (a union of stubborn sets is
// one); with none, the state is expanded fully (Expander.successors). A
// test checks the declarations on every step
// of the small worlds, and that every pair of enabled transitions this
// treats as independent commutes.

// unitSet is a set of units by their index in units (at most 64).
type unitSet uint64

// units are the groups of transitions the reduction takes or leaves
// together. An actor is one unit, unless the model declares that it
// handles its senders' messages independently (model.InputsCommute):
// then the deliveries on each of its input channels are a unit of their
// own, independent of the others.
type units struct {
	n       int
	ofChan  []int     // per channel: the unit its deliveries belong to
	ofActor []unitSet // per actor (layout.actors): its units
	first   []int     // per actor: its first unit (its only one if it has timers)
	chans   [][]int   // per unit: the input channels whose deliveries it holds
	actor   []int     // per unit: its actor
}

// inputsCommute is the model's declaration (a variable so that a test can
// declare a false one and see the reduction's check fail).
var inputsCommute = model.InputsCommute

// newUnits splits l's actors into units under p. An actor with timers
// stays whole, and so does every actor if the split would pass 64 units.
func newUnits(l *layout, p *model.Params) *units {
	for _, split := range []bool{true, false} {
		u := &units{ofChan: make([]int, l.nChan), ofActor: make([]unitSet, len(l.actors)), first: make([]int, len(l.actors))}
		add := func(a int, chans []int) {
			for _, c := range chans {
				u.ofChan[c] = u.n
			}
			u.ofActor[a] |= 1 << u.n
			u.chans = append(u.chans, chans)
			u.actor = append(u.actor, a)
			u.n++
		}
		for i, a := range l.actors {
			u.first[i] = u.n
			in := l.inChans[i]
			if split && len(in) > 1 && l.timerN[a.Kind] == 0 && inputsCommute(p, a.Kind) {
				for _, c := range in {
					add(i, []int{c})
				}
			} else {
				add(i, in)
			}
		}
		if u.n <= 64 {
			return u
		}
	}
	panic("statespace: more than 64 actors") // the world's limits keep them well under
}

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

// localFault says whether a fault of kind k acts on its targets alone. The
// others (transfers, logins, windows) change what the monitor judges
// deliveries by, so they are dependent on every step.
func localFault(k model.FaultKind) bool {
	switch k {
	case model.FaultGatewayDown, model.FaultGatewayUp, model.FaultCacheRestart, model.FaultEventsTabOff:
		return true
	}
	return false
}

// cand is a stubborn set: the enabled transitions of the units full and
// the enabled faults aimed at them, n of them.
type cand struct {
	full   unitSet
	n      int
	faults int // how many of them are faults
}

// reducer is an expander's scratch for choosing a stubborn set.
type reducer struct {
	unitOf   []int     // per enabled transition: its unit, or -1 for a fault
	targets  []unitSet // per enabled transition: a fault's targets' units
	timerKin []uint8   // per unit: the premature kinds of its armed timers
	cands    []cand    // proper stubborn sets, in the order they are tried
	sel      []bool
	done     []bool
	stack    []int
	items    []int             // disabled transitions: a channel, or 64 + a timer bit
	kinds    []model.FaultKind // per enabled transition: a fault's kind
	firing   uint64            // the timer bits that may fire (enabled)
}

// stubborn lists in x.red.cands the proper stubborn sets of trs, the
// enabled transitions of the base state, it finds — those with fewer
// faults first (a fault postponed while anything else can go first is
// tried at fewer places), then the smaller — and says whether there is
// one.
func (x *Expander) stubborn(trs []trans) bool {
	r := &x.red
	l, u, b := x.l, x.s.units, x.base
	if len(trs) < 2 {
		return false
	}
	r.unitOf = r.unitOf[:0]
	r.targets = r.targets[:0]
	r.kinds = r.kinds[:0]
	r.firing = 0
	for _, t := range trs {
		a, tg, k := -1, unitSet(0), model.FaultKind(0)
		switch t.kind {
		case tDeliver:
			a = u.ofChan[t.idx]
		case tTimer:
			ad, _ := l.timerOf(uint(t.idx))
			a = u.first[l.actorIdx(ad)]
			r.firing |= 1 << t.idx
		case tFault:
			f := x.s.faults[t.idx].f
			if !localFault(f.Kind) {
				return false
			}
			b.w.FaultTargets(f, func(ad model.Addr, _ model.Input) { tg |= u.ofActor[l.actorIdx(ad)] })
			k = f.Kind
		}
		r.kinds = append(r.kinds, k)
		r.unitOf = append(r.unitOf, a)
		r.targets = append(r.targets, tg)
	}
	// The premature kinds of each unit's armed timers.
	r.timerKin = append(r.timerKin[:0], make([]uint8, u.n)...)
	for t := b.timers; t != 0; t &= t - 1 {
		a, id := l.timerOf(uint(bits.TrailingZeros64(t)))
		r.timerKin[u.first[l.actorIdx(a)]] |= b.w.PrematureDeps(a, id, x.inFlight, func(model.Addr) {}, func(model.FaultKind) {})
	}
	var spent uint8 // kinds whose budget is spent
	for k := range b.bud.premature {
		if b.bud.premature[k] == 0 {
			spent |= 1 << (k + 1)
		}
	}
	// One candidate per unit with an enabled transition: the set its
	// closure gives (successors takes them in turn until one reaches a
	// state not stored yet).
	r.cands = r.cands[:0]
	var tried unitSet
	for _, a := range r.unitOf {
		if a < 0 || tried&(1<<a) != 0 {
			continue
		}
		tried |= 1 << a
		s := x.closure(a, spent)
		n, nf := 0, 0
		for i := range trs {
			if r.in(i, s) {
				n++
				if r.unitOf[i] < 0 {
					nf++
				}
			}
		}
		if n < len(trs) && !slices.ContainsFunc(r.cands, func(c cand) bool { return c.full == s }) {
			r.cands = append(r.cands, cand{s, n, nf})
		}
	}
	slices.SortStableFunc(r.cands, func(a, b cand) int {
		if a.faults != b.faults {
			return a.faults - b.faults
		}
		return a.n - b.n
	})
	return len(r.cands) > 0
}

// in says whether the i-th enabled transition is in the stubborn set of
// the units full.
func (r *reducer) in(i int, full unitSet) bool {
	return r.unitOf[i] >= 0 && full&(1<<r.unitOf[i]) != 0 || r.targets[i]&full != 0
}

// closure returns the units all of whose transitions are in the least
// stubborn set containing unit a's, by the rules above: an enabled
// transition brings every transition of its unit; a disabled delivery
// from Y brings the transitions of Y that may send on it (model.MayCause),
// unless its receiver's transitions are all in and Y owes it nothing
// (model.World.MaySend); a disabled timer brings what may enable it.
func (x *Expander) closure(a int, spent uint8) unitSet {
	r := &x.red
	l, u, b := x.l, x.s.units, x.base
	var full unitSet
	var chs, tms uint64 // channels and timer bits whose transitions are in
	r.stack, r.items = r.stack[:0], r.items[:0]
	makeFull := func(i int) {
		if full&(1<<i) == 0 {
			full |= 1 << i
			r.stack = append(r.stack, i)
		}
	}
	makeAllFull := func(m unitSet) {
		for ; m != 0; m &= m - 1 {
			makeFull(bits.TrailingZeros64(uint64(m)))
		}
	}
	addCh := func(c int) {
		if chs&(1<<c) != 0 {
			return
		}
		chs |= 1 << c
		if len(b.ch[c]) > 0 {
			makeFull(u.ofChan[c])
		} else {
			r.items = append(r.items, c)
		}
	}
	addTm := func(bit int) {
		if tms&(1<<bit) != 0 {
			return
		}
		tms |= 1 << bit
		ta, _ := l.timerOf(uint(bit))
		if r.firing&(1<<bit) != 0 {
			makeFull(u.first[l.actorIdx(ta)])
		} else {
			r.items = append(r.items, 64+bit)
		}
	}
	addTimers := func(actor int) {
		ad := l.actors[actor]
		for id := 0; id < l.timerN[ad.Kind]; id++ {
			addTm(int(l.timerBit(ad, uint16(id))))
		}
	}
	// addFaultsOn brings the enabled faults aimed at any of the units m,
	// with all their targets.
	addFaultsOn := func(m unitSet) {
		for _, tg := range r.targets {
			if tg&m != 0 {
				makeAllFull(tg)
			}
		}
	}
	// early brings what may change whether timer id of ta would fire early.
	early := func(ta model.Addr, id uint16) {
		b.w.PrematureDeps(ta, id, x.inFlight, func(d model.Addr) { makeAllFull(u.ofActor[l.actorIdx(d)]) }, func(k model.FaultKind) {
			for i, fk := range r.kinds {
				if r.unitOf[i] < 0 && fk == k {
					makeAllFull(r.targets[i])
				}
			}
		})
	}
	makeFull(a)
	for len(r.stack) > 0 || len(r.items) > 0 {
		if n := len(r.stack); n > 0 {
			i := r.stack[n-1]
			r.stack = r.stack[:n-1]
			for _, c := range u.chans[i] {
				addCh(c)
			}
			addTimers(u.actor[i]) // an actor with timers is one unit
			if kin := r.timerKin[i]; kin != 0 {
				for t := b.timers; t != 0; t &= t - 1 {
					ta, id := l.timerOf(uint(bits.TrailingZeros64(t)))
					if u.first[l.actorIdx(ta)] == i {
						early(ta, id)
					}
				}
				if live := kin &^ spent; live != 0 {
					for j, k := range r.timerKin {
						if k&live != 0 {
							makeFull(j)
						}
					}
				}
			}
			addFaultsOn(1 << i)
			continue
		}
		it := r.items[len(r.items)-1]
		r.items = r.items[:len(r.items)-1]
		if it < 64 { // a delivery on an empty channel Y → X
			d := &l.chans[it]
			y, xi := l.actorIdx(d.from), l.actorIdx(d.to)
			ys, xs := u.ofActor[y], u.ofActor[xi]
			if full&ys == ys || full&xs == xs && !b.w.MaySend(d.from, d.to, d.lane, x.inFlight) {
				continue
			}
			for _, c := range l.inChans[y] {
				if b.w.MayCause(d.from, l.chans[c].from, d.to) {
					addCh(c)
				}
			}
			if b.w.MayCause(d.from, d.from, d.to) {
				addTimers(y)
			}
			if b.w.MayCause(d.from, model.EngineAddr, d.to) {
				addFaultsOn(ys)
			}
			continue
		}
		bit := uint(it - 64)
		ta, id := l.timerOf(bit)
		ti := l.actorIdx(ta)
		if b.timers&(1<<bit) != 0 {
			// Armed but early with its budget spent: it fires once its
			// answer is gone, which steps of its actor or of the actors
			// PrematureDeps names decide.
			early(ta, id)
		}
		// Not armed: only a step of its own actor arms it.
		for _, c := range l.inChans[ti] {
			addCh(c)
		}
		addTimers(ti)
		addFaultsOn(u.ofActor[ti])
	}
	return full
}
