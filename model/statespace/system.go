package statespace

import (
	"bytes"
	"fmt"
	"math/bits"

	"github.com/stormproof/stormproof/model"
)

// System is the model's actors composed into one transition system, as
// the explorer searches it: the model's own actors, stepped through
// model.World.Step and FaultTargets, with FIFO channels and armed timers
// in place of time. It implements the explorer's System, whose search
// sees only the canonical bytes.
type System struct {
	spec      Spec
	p         *model.Params
	fleet     *model.Fleet
	l         *layout
	units     *units // the partial-order reduction's groups of transitions
	group     []perm
	transfers []model.Fault
	faults    []faultDef
	ignore    uint32 // bit i: violations of invariant i do not count
	rule      model.AuthRule
	reduce    bool
}

// Spec is a world small enough to explore: the model's parameters and
// fleet, and the budgets that bound what an untimed world could otherwise
// repeat forever. Durations play no part.
type Spec struct {
	Params *model.Params
	Fleet  *model.Fleet
	// WarmCache: the run starts with every device's owners cached, as the
	// registry holds them (steady state before an outage).
	WarmCache bool
	// Outages and CacheRestarts: how often each may happen in a run.
	Outages, CacheRestarts int
	// Transfers: ownership transfers that may each happen once.
	Transfers []model.Fault
	// Premature: how often a timeout of each kind (indexed by the model's
	// Timeout less one) may fire while its answer can still arrive.
	Premature [NumPremature]int
	// Windows: how often each window (model.Window) may open, then close.
	Windows [model.NumWindows]int
	// Logins: the sessions each account may open (with the web portal).
	Logins int
}

// Options are the choices of one search of a Spec.
type Options struct {
	// Symmetry reduces states that differ by a renaming of cameras and
	// accounts to one.
	Symmetry bool
	// Ignore lists invariants whose violations do not count.
	Ignore []model.Invariant
	// Rule is the authorization rule the monitor judges by.
	Rule model.AuthRule
	// Reduce takes only a stubborn set of each state's transitions
	// (partial-order reduction, reduce.go): every verdict is kept, but a
	// violation may be found by a longer run than the shortest.
	Reduce bool
}

func (s *System) judges(inv model.Invariant) bool { return s.ignore&(1<<inv) == 0 }

// faultDef is one entry of the configuration's fault menu.
type faultDef struct {
	f        model.Fault
	transfer int // index of the transfer, or -1
}

// Limits of a world: timers fit in 64 bits, channels in a 64-bit mask,
// transfers in 16 bits, renamings are enumerated.
const (
	MaxCameras   = 8
	MaxAccounts  = 6
	MaxTransfers = 16
	MaxChannels  = 64
	MaxTimers    = 64
)

// Size is how many channels and timers a world of nCam cameras and nAcct
// accounts under p has (each must be at most MaxChannels, MaxTimers).
func Size(p *model.Params, nCam, nAcct int) (channels, timers int) {
	l := newLayout(nCam, nAcct, p.Workers, p.PoolSize, partsOf(p))
	return l.nChan, l.nTimers
}

func partsOf(p *model.Params) parts {
	return parts{web: p.Web.On, notifier: p.Notifier, replica: p.Replica.On}
}

// New composes spec's world into a System.
func New(spec Spec, opt Options) (*System, error) {
	p, f := spec.Params, spec.Fleet
	if err := p.Validate(); err != nil {
		return nil, err
	}
	switch nc, nt := Size(p, len(f.Devices), f.Accounts); {
	case len(f.Devices) < 1 || len(f.Devices) > MaxCameras:
		return nil, fmt.Errorf("statespace: need 1..%d cameras, got %d", MaxCameras, len(f.Devices))
	case f.Accounts < 1 || f.Accounts > MaxAccounts:
		return nil, fmt.Errorf("statespace: need 1..%d accounts, got %d", MaxAccounts, f.Accounts)
	case len(spec.Transfers) > MaxTransfers:
		return nil, fmt.Errorf("statespace: at most %d transfers, got %d", MaxTransfers, len(spec.Transfers))
	case nc > MaxChannels || nt > MaxTimers:
		return nil, fmt.Errorf("statespace: %d channels and %d timers, at most %d and %d", nc, nt, MaxChannels, MaxTimers)
	}
	s := &System{spec: spec, p: p, fleet: f, l: newLayout(len(f.Devices), f.Accounts, p.Workers, p.PoolSize, partsOf(p)),
		transfers: spec.Transfers, rule: opt.Rule, reduce: opt.Reduce}
	s.units = newUnits(s.l, p)
	for _, inv := range opt.Ignore {
		s.ignore |= 1 << inv
	}
	ti := 0
	for _, ft := range model.FaultMenu(p, f.Accounts, s.transfers) {
		d := faultDef{f: ft, transfer: -1}
		if ft.Kind == model.FaultTransfer {
			d.transfer, ti = ti, ti+1
		}
		s.faults = append(s.faults, d)
	}
	// The web portal's sessions and the replica's documents belong to
	// particular accounts: no renaming maps them onto themselves in
	// general, so those worlds are explored without symmetry reduction.
	s.group = symmetries(p, f, s.transfers, opt.Symmetry && !p.Web.On && !p.Replica.On)
	for i := range s.group {
		s.group[i].setChannels(s.l)
	}
	return s, nil
}

// Group is the order of the symmetry group the search reduces by.
func (s *System) Group() int { return len(s.group) }

// windowOf is the window a fault opens or closes (model.WindowOf).
func windowOf(k model.FaultKind) (int, bool, bool) {
	w, opens, ok := model.WindowOf(k)
	return int(w), opens, ok
}

// Transition kinds.
const (
	tDeliver = iota
	tTimer
	tFault
)

type trans struct {
	kind      uint8
	idx       int // channel, timer bit or fault index
	premature int // -1, or the premature-timeout kind a timer spends
}

// Expander steps concrete states decoded from canonical encodings. It is
// the model.Ctx of the actors it steps.
type Expander struct {
	s        *System
	l        *layout
	inFlight model.InFlight // channel, bound once
	base     *mstate
	work     *mstate
	enc      *encoder
	dec      decoder

	baseMon       []byte // the base state's monitor, encoded under the identity
	baseDec       model.MonitorDecoder
	baseMonDec    *model.Monitor // decoded lazily from baseMon
	baseMonPerm   [][]byte
	baseMonPermOK []bool
	workDec       model.MonitorDecoder
	workMon       *model.Monitor
	touched       bool
	dirt          dirty  // what work changed since it was last a copy of base
	baseEnc       []byte // the base state's encoding, when it was loaded from one
	baseFilled    uint64 // the base state's non-empty channels
	scratch       []byte

	bufs [][]byte
	trs  []trans
	red  reducer

	// The step in progress.
	cur      model.Addr
	curT     trans
	sites    []model.Choice
	monBuf   []byte
	script   []bool
	pos      int
	violated bool
	viol     model.Violation
	err      error
	t        model.Time
	tracing  bool
	obs      []traces0
}

// traces0 is one observation recorded during replay.
type traces0 struct {
	t model.Time
	o model.Obs
}

func (s *System) newExpander() *Expander {
	w, _ := model.NewWorld(s.p, s.fleet)
	x := &Expander{s: s, l: s.l, enc: newEncoder(s.l), dec: decoder{l: s.l}}
	x.inFlight = x.channel
	x.base = newMState(s.l, w)
	x.work = newMState(s.l, w)
	x.bufs = make([][]byte, len(s.group))
	x.baseMonPerm = make([][]byte, len(s.group))
	x.baseMonPermOK = make([]bool, len(s.group))
	return x
}

// NewExpander returns an expander for one goroutine.
func (s *System) NewExpander() *Expander { return s.newExpander() }

// Initial returns the canonical encoding of the initial state (every
// actor's Init, in the model's order) and the size of its orbit.
func (s *System) Initial() ([]byte, uint32, error) {
	x := s.newExpander()
	if err := x.initial(); err != nil {
		return nil, 0, err
	}
	b, orbit := x.canon()
	return append([]byte(nil), b...), orbit, nil
}

// initial sets x.work to the initial state (monitor in x.workMon).
func (x *Expander) initial() error {
	w, err := model.NewWorld(x.s.p, x.s.fleet)
	if err != nil {
		return err
	}
	sp := &x.s.spec
	if sp.WarmCache {
		for d, dev := range x.s.fleet.Devices {
			w.Cache.Data[d] = model.CacheEntry{Present: true, Val: model.CacheValue{Device: model.DeviceID(d), Owners: dev.Owners}}
		}
	}
	x.work = newMState(x.l, w)
	x.work.bud = budgets{outages: uint8(sp.Outages), restarts: uint8(sp.CacheRestarts)}
	for k, n := range sp.Premature {
		x.work.bud.premature[k] = uint8(n)
	}
	pt := x.l.parts
	for wi, on := range [numWindows]bool{pt.web, pt.notifier, pt.replica} {
		if on {
			x.work.bud.windows[wi].left = uint8(sp.Windows[wi])
		}
	}
	if pt.web {
		for a := 0; a < x.l.nAcct; a++ {
			x.work.bud.logins[a] = uint8(sp.Logins)
		}
	}
	x.workMon, x.touched = model.NewMonitor(len(w.Cameras)), true
	x.workMon.Rule = x.s.rule
	x.resetStep()
	if sp.WarmCache {
		// The trace shows the warm contents as SETs made before the run, so
		// the cache history a checker reads starts from them.
		x.cur = model.EngineAddr
		for d := range w.Cache.Data {
			e := &w.Cache.Data[d]
			o := model.Obs{Kind: model.ObsCacheCall, Token: uint32(d + 1), Op: model.OpSet, Key: model.DeviceID(d), Val: e.Val}
			x.Observe(o)
			o.Kind, o.Outcome, o.ReplyOf, o.ReplyKey = model.ObsCacheRet, model.OutStored, o.Token, o.Key
			x.Observe(o)
		}
	}
	x.work.w.Actors(func(a model.Addr) { x.step(a, model.Input{Kind: model.InInit}) })
	if x.s.p.MaxEventsPerCamera == 0 {
		// Cameras that capture nothing (the incident does not involve
		// events): quiesced before the run begins.
		x.work.w.FaultTargets(model.Fault{Kind: model.FaultQuiesce}, func(a model.Addr, in model.Input) { x.step(a, in) })
	}
	if x.err != nil {
		return x.err
	}
	if x.violated {
		return fmt.Errorf("explore: the initial state violates %v", x.viol)
	}
	x.dirt.all = true // work is no copy of base
	return nil
}

func (x *Expander) resetStep() {
	x.violated, x.err, x.pos = false, nil, 0
	x.obs = x.obs[:0]
}

func (x *Expander) step(a model.Addr, in model.Input) {
	x.cur = a
	x.dirt.stepped(a)
	x.work.w.Step(a, &in, x)
}

// Send implements model.Ctx: the message joins the tail of its FIFO channel.
func (x *Expander) Send(to model.Addr, m model.Msg, _ model.Dur) {
	m.From = x.cur
	ch := x.l.chanOf(x.cur, to, m.Conn)
	x.dirt.chans |= 1 << ch
	x.work.ch[ch] = append(x.work.ch[ch], m)
}

// SetTimer implements model.Ctx: durations play no part.
func (x *Expander) SetTimer(id uint16, _ model.Dur) {
	x.work.timers |= 1 << x.l.timerBit(x.cur, id)
}

// CancelTimer implements model.Ctx.
func (x *Expander) CancelTimer(id uint16) {
	x.work.timers &^= 1 << x.l.timerBit(x.cur, id)
}

// Chance implements model.Ctx: both outcomes are explored when 0<p<1, by
// re-running the step with a script of outcomes (false first).
func (x *Expander) Chance(site model.Choice, p float64) bool {
	if p <= 0 {
		return false
	}
	if p >= 1 {
		return true
	}
	if x.pos == len(x.script) {
		x.script = append(x.script, false)
	}
	if x.pos < len(x.sites) {
		x.sites[x.pos] = site
	} else {
		x.sites = append(x.sites, site)
	}
	v := x.script[x.pos]
	x.pos++
	return v
}

// Observe implements model.Ctx: observations the invariants judge go to the
// ghost monitor.
func (x *Expander) Observe(o model.Obs) {
	o.Actor = x.cur
	if x.tracing {
		x.obs = append(x.obs, traces0{t: x.t, o: o})
	}
	switch o.Kind {
	case model.ObsOwn, model.ObsCapture, model.ObsDrop, model.ObsDeliver, model.ObsRefused, model.ObsView,
		model.ObsStream, model.ObsRead:
	default:
		return
	}
	m := x.monitor()
	if m == nil {
		return
	}
	vs, err := m.Observe(x.t, &o)
	if err != nil && x.err == nil {
		x.err = fmt.Errorf("explore: monitor: %v", err)
	}
	for _, v := range vs {
		if !x.violated && x.s.judges(v.Inv) {
			x.violated, x.viol = true, v
		}
	}
}

// monitor returns the work state's monitor, decoding it from the base
// state's on first use in a step.
func (x *Expander) monitor() *model.Monitor {
	if !x.touched {
		m, _, err := x.workDec.Decode(x.baseMon, x.l.nCam)
		if err != nil {
			if x.err == nil {
				x.err = err
			}
			return nil
		}
		x.workMon, x.touched = m, true
	}
	return x.workMon
}

// load makes state the base of the next expansion.
func (x *Expander) load(state []byte) error {
	rest, err := x.dec.decode(state, x.base)
	if err != nil {
		return err
	}
	x.baseMon = rest
	x.baseEnc = state
	x.baseFilled = x.base.filled()
	x.dirt.all = true
	x.enc.baseRanks(x.base)
	x.baseMonDec = nil
	clear(x.baseMonPermOK)
	return nil
}

// Expand calls emit for every successor of state, in a fixed order, and
// returns its class: 0 busy, 1 quiescent, 2 quiescent and final, 3 stuck.
// emit says whether the successor was stored at an earlier level than
// the state's successors (the reduction's cycle proviso reads it).
func (x *Expander) Expand(state []byte, emit func([]byte, uint32, bool) bool) (int, error) {
	if err := x.load(state); err != nil {
		return 0, err
	}
	n, err := x.successors(x.s.reduce, func(next []byte, orbit uint32, bad bool) (bool, bool) {
		return false, emit(next, orbit, bad)
	})
	if err != nil {
		return 0, err
	}
	quiet := !x.base.busy() && x.base.timers == 0
	switch {
	case quiet && n > 0:
		return 1, nil
	case quiet:
		return 2, nil
	case n == 0:
		return 3, nil
	}
	return 0, nil
}

// enabled lists the transitions enabled in the base state, in a fixed order:
// deliveries by channel, timers by bit, faults by menu order.
func (x *Expander) enabled() []trans {
	b := x.base
	x.trs = x.trs[:0]
	for i, c := range b.ch {
		if len(c) > 0 {
			x.trs = append(x.trs, trans{kind: tDeliver, idx: i, premature: -1})
		}
	}
	for t := b.timers; t != 0; t &= t - 1 {
		bit := uint(trailingZeros(t))
		k := x.prematureKind(bit)
		if k >= 0 && b.bud.premature[k] == 0 {
			continue
		}
		x.trs = append(x.trs, trans{kind: tTimer, idx: int(bit), premature: k})
	}
	mit := x.s.p.Mitigations
	for i, fd := range x.s.faults {
		ok := false
		switch fd.f.Kind {
		case model.FaultGatewayDown:
			ok = b.bud.outages > 0 && !b.w.Gateway.Down
		case model.FaultGatewayUp:
			ok = b.w.Gateway.Down
		case model.FaultCacheRestart:
			ok = b.bud.restarts > 0
		case model.FaultEventsTabOff:
			ok = mit.Has(model.EventsTabOff) && !b.bud.tabOff
		case model.FaultTransfer:
			ok = b.bud.transfers&(1<<fd.transfer) == 0
		case model.FaultLogin:
			ok = b.bud.logins[fd.f.Account] > 0
		default:
			if wi, opens, isWin := windowOf(fd.f.Kind); isWin {
				win := b.bud.windows[wi]
				ok = win.open != opens && (!opens || win.left > 0)
			}
		}
		if ok {
			x.trs = append(x.trs, trans{kind: tFault, idx: i, premature: -1})
		}
	}
	return x.trs
}

func trailingZeros(v uint64) int { return bits.TrailingZeros64(v) }

// prematureKind says whether firing timer bit now would be premature (its
// answer may still arrive: the model's World.Premature) and of which kind
// (an index of the budgets); -1 when it may always fire.
func (x *Expander) prematureKind(bit uint) int {
	a, id := x.l.timerOf(bit)
	return int(x.base.w.Premature(a, id, x.inFlight)) - 1
}

// channel is what the base state holds on the channel from → to on lane.
func (x *Expander) channel(from, to model.Addr, lane uint16) []model.Msg {
	return x.base.ch[x.l.chanOf(from, to, lane)]
}

// apply performs transition t on the work state.
func (x *Expander) apply(t trans) {
	w := x.work
	switch t.kind {
	case tDeliver:
		m := w.ch[t.idx][0]
		x.dirt.chans |= 1 << t.idx
		w.ch[t.idx] = w.ch[t.idx][1:]
		if len(w.ch[t.idx]) == 0 {
			w.ch[t.idx] = nil
		}
		x.step(x.l.chans[t.idx].to, model.Input{Kind: model.InMsg, Msg: m})
	case tTimer:
		w.timers &^= 1 << uint(t.idx)
		if t.premature >= 0 {
			w.bud.premature[t.premature]--
		}
		a, id := x.l.timerOf(uint(t.idx))
		x.step(a, model.Input{Kind: model.InTimer, Timer: id})
	case tFault:
		fd := x.s.faults[t.idx]
		switch fd.f.Kind {
		case model.FaultGatewayDown:
			w.bud.outages--
		case model.FaultCacheRestart:
			w.bud.restarts--
		case model.FaultEventsTabOff:
			w.bud.tabOff = true
		case model.FaultTransfer:
			w.bud.transfers |= 1 << fd.transfer
		}
		f := fd.f
		if f.Kind == model.FaultLogin {
			// Session numbers: account a's k-th login is session a + k·accounts.
			a := f.Account
			k := uint32(x.s.spec.Logins) - uint32(w.bud.logins[a])
			w.bud.logins[a]--
			f.Session = uint32(a) + k*uint32(x.l.nAcct)
		}
		if wi, opens, isWin := windowOf(f.Kind); isWin {
			w.bud.windows[wi].open = opens
			if opens {
				w.bud.windows[wi].left--
			}
		}
		x.cur = model.EngineAddr
		o := model.Obs{Kind: model.ObsFault, Fault: f, Device: f.Device, Owners: f.Owners}
		if f.Kind == model.FaultLogin {
			o.Account, o.Slot = f.Account, f.Session
		}
		x.Observe(o)
		w.w.FaultTargets(f, func(a model.Addr, in model.Input) { x.step(a, in) })
	}
}

// checkChanged makes canon check encodeChanged against encode (for a test).
var checkChanged = false

// copyAll makes every successor start from a whole copy of the base state
// and have all its rankers computed (a test compares the search with and
// without it).
var copyAll = false

// successors runs every enabled transition, with every outcome of its
// chances, on a copy of the base state and calls fn with the canonical
// encoding of each result; fn returns true to stop, and whether the
// successor was stored earlier. With reduce it runs a stubborn set's
// transitions only, unless every one of theirs was stored earlier. It
// returns how many successors there were.
func (x *Expander) successors(reduce bool, fn func(next []byte, orbit uint32, bad bool) (stop, old bool)) (int, error) {
	trs := x.enabled()
	if !reduce || !x.stubborn(trs) {
		n, _, _, err := x.run(trs, nil, true, fn)
		return n, err
	}
	// The first stubborn set, in the order stubborn lists them, whose
	// successors are not all stored at an earlier level, with those before
	// it (a union of stubborn sets is one): the cycle proviso of a
	// breadth-first search. With none, every transition.
	r := &x.red
	r.done = append(r.done[:0], make([]bool, len(trs))...)
	r.sel = append(r.sel[:0], make([]bool, len(trs))...)
	total := 0
	for _, c := range r.cands {
		for i := range trs {
			r.sel[i] = !r.done[i] && r.in(i, c.full)
			r.done[i] = r.done[i] || r.sel[i]
		}
		n, allOld, stop, err := x.run(trs, r.sel, true, fn)
		total += n
		if err != nil || stop || !allOld {
			return total, err
		}
	}
	n, _, _, err := x.run(trs, r.done, false, fn)
	return total + n, err
}

// run runs the transitions trs[i] with sel[i] == want (all when sel is
// nil), as successors says, and reports whether every successor was
// stored earlier and whether fn stopped it.
func (x *Expander) run(trs []trans, sel []bool, want bool, fn func(next []byte, orbit uint32, bad bool) (stop, old bool)) (n int, allOld, stop bool, err error) {
	allOld = true
	for ti := 0; ti < len(trs); ti++ {
		if sel != nil && sel[ti] != want {
			continue
		}
		t := trs[ti]
		x.script = x.script[:0]
		x.sites = x.sites[:0]
		x.curT = t
		for {
			next, orbit, err := x.once(t)
			if err != nil {
				return n, allOld, false, err
			}
			n++
			stop, old := fn(next, orbit, x.violated)
			allOld = allOld && old
			if stop {
				return n, allOld, true, nil
			}
			// Next outcome script: flip the last false, drop what follows.
			for len(x.script) > 0 && x.script[len(x.script)-1] {
				x.script = x.script[:len(x.script)-1]
			}
			if len(x.script) == 0 {
				break
			}
			x.script[len(x.script)-1] = true
		}
	}
	return n, allOld, false, nil
}

// once performs t with the current outcome script on a copy of the base
// state and returns the result's canonical encoding (x.violated: whether
// the step violated an invariant).
func (x *Expander) once(t trans) ([]byte, uint32, error) {
	x.work.restore(x.base, &x.dirt)
	x.dirt.all = copyAll
	x.touched = false
	x.resetStep()
	x.apply(t)
	if x.err != nil {
		return nil, 0, x.err
	}
	if !x.violated && !x.work.busy() && x.work.timers == 0 && x.s.judges(model.NoSilentLoss) {
		// Quiescent: nothing in flight, no timer armed. Judge NoSilentLoss.
		if m := x.monitor(); m != nil {
			if vs := m.Quiet(x.t); len(vs) > 0 {
				x.violated, x.viol = true, vs[0]
			}
		}
		if x.err != nil {
			return nil, 0, x.err
		}
	}
	next, orbit := x.canon()
	return next, orbit, nil
}

// canon returns the canonical encoding of the work state with its monitor
// (valid until the next call) and the size of its orbit. x.dirt says how
// the work state differs from the base state.
func (x *Expander) canon() ([]byte, uint32) {
	x.enc.rankChanged(x.work, &x.dirt)
	if x.dirt.all {
		x.enc.filled = x.work.filled()
	} else {
		f := x.baseFilled
		for m := x.dirt.chans; m != 0; m &= m - 1 {
			i := trailingZeros(m)
			f &^= 1 << i
			if len(x.work.ch[i]) > 0 {
				f |= 1 << i
			}
		}
		x.enc.filled = f
	}
	var best []byte
	same := 0
	for pi := range x.s.group {
		p := &x.s.group[pi]
		var b []byte
		if p.identity && x.baseEnc != nil && !x.dirt.all {
			b = x.enc.encodeChanged(x.bufs[pi][:0], x.work, p, x.baseEnc, x.dec.cam, x.dec.wk, &x.dirt)
			if checkChanged {
				x.scratch = x.enc.encode(x.scratch[:0], x.work, p, nil)
				if !bytes.Equal(b, x.scratch) {
					panic(fmt.Sprintf("explore: encodeChanged %x, encode %x", b, x.scratch))
				}
			}
		} else {
			b = x.enc.encode(x.bufs[pi][:0], x.work, p, best)
		}
		if b == nil {
			continue // already greater than the best so far
		}
		b = x.appendMon(b, pi, p)
		x.bufs[pi] = b
		if best == nil {
			best, same = b, 1
			continue
		}
		switch c := bytes.Compare(b, best); {
		case c < 0:
			best, same = b, 1
		case c == 0:
			same++
		}
	}
	return best, uint32(len(x.s.group) / same)
}

func (x *Expander) appendMon(b []byte, pi int, p *perm) []byte {
	var order []model.DeviceID
	var acct []model.AccountID
	if !p.identity {
		order, acct = p.camOrder, p.acctNew
	}
	if x.touched {
		return x.workMon.AppendState(b, order, acct)
	}
	if p.identity {
		return append(b, x.baseMon...)
	}
	if !x.baseMonPermOK[pi] {
		if x.baseMonDec == nil {
			m, _, err := x.baseDec.Decode(x.baseMon, x.l.nCam)
			if err != nil {
				panic(err) // it was decoded as part of the base state already
			}
			x.baseMonDec = m
		}
		x.baseMonPerm[pi] = x.baseMonDec.AppendState(x.baseMonPerm[pi][:0], order, acct)
		x.baseMonPermOK[pi] = true
	}
	return append(b, x.baseMonPerm[pi]...)
}
