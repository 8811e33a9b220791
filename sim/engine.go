// Package sim is the timed discrete-event simulator: it runs the model's
// actors at fleet scale in virtual time, single-threaded per run, with an
// event queue ordered by (time, sequence) and a random stream per actor
// derived from the seed. No wall clock, goroutine or map order reaches a
// run: the same scenario and seed give the same trace, byte for byte.
package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
	"unsafe"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/stormproof/stormproof/internal/hugepage"
	"github.com/stormproof/stormproof/internal/prefetch"
	"github.com/stormproof/stormproof/model"
)

// Engine runs one world.
type Engine struct {
	W    *model.World
	plan *Plan

	now model.Time
	seq uint64
	q   *calendar

	msgs []model.Msg
	free []uint32

	timerBase [model.KindEngine]int
	timerN    [model.KindEngine]int
	timerGen  []uint32

	rngBase [model.KindEngine + 1]int // where each kind's streams start in rngs (cameras: in cams)
	rngs    []rand.PCG

	// The last arrival time per data-centre channel (FIFO order): a dense
	// table for the channels with a worker at one end (nearly all of them),
	// a map for the others.
	fifoW    []model.Time
	fifoPeer int // channels per worker and direction: gateway, registry, store, notifier, cache connections
	fifo     map[uint64]model.Time

	cur    model.Addr
	curRng *rand.PCG

	logA [8]time.Duration // medians of the log-normals drawn so far (logOf)
	logV [8]float64
	logN int
	out  *pipe // where observations go, in order (none when nil)

	// Processed counts the events the engine delivered (stale timers excluded).
	Processed uint64
	// Lost counts messages the network dropped.
	Lost uint64

	gatewayUps []model.Time // times the gateway comes back, ascending
	faultTimes []model.Time // times of all scheduled faults, ascending

	// FastForward lets an isolated camera run ahead of the global clock (see
	// fastForward). Observations then reach the judge out of global time
	// order, so it is off when a full trace is written.
	FastForward bool
	cams        []camSlot // the engine's per-camera state, one cache line each
	counting    bool      // cams' inflight counts are kept (the gateway is down)
	ff          bool
	ffTimers    [3]model.Time
	ffOrig      [3]model.Time // the times queued when a fast-forward began
	// FastForwarded counts the events processed ahead of the global clock.
	FastForwarded uint64
}

// NewEngine builds the world of a plan and seeds every actor's stream.
func NewEngine(p *Plan, seed uint64) (*Engine, error) {
	w, err := model.NewWorld(&p.Params, &p.Fleet)
	if err != nil {
		return nil, err
	}
	// The tables read at random for every event, in huge pages (see
	// hugepage): the world's are rebuilt in advised memory.
	w.Cameras = hugepage.Clone(w.Cameras)
	w.Cache.Data = hugepage.Clone(w.Cache.Data)
	w.Registry.Owners = hugepage.Clone(w.Registry.Owners)
	w.Registry.Version = hugepage.Clone(w.Registry.Version)
	w.Store.Next = hugepage.Clone(w.Store.Next)
	// Each worker's upload slots start in one shared table (a worker that
	// needs more grows a slice of its own).
	slots := hugepage.Make[model.Upload](slotsPerWorker * len(w.Workers))
	for i := range w.Workers {
		w.Workers[i].Slots = slots[i*slotsPerWorker : i*slotsPerWorker : (i+1)*slotsPerWorker]
	}
	e := &Engine{W: w, plan: p, fifo: map[uint64]model.Time{}}
	e.fifoPeer = fifoFixed + p.Params.PoolSize
	e.fifoW = make([]model.Time, 2*e.fifoPeer*len(w.Workers))
	for i := range e.fifoW {
		e.fifoW[i] = math.MinInt64
	}
	// Timers: one block per kind, actors of a kind side by side.
	count := [model.KindEngine]int{
		model.KindCamera: len(w.Cameras), model.KindGateway: 1, model.KindWorker: len(w.Workers),
		model.KindCache: 1, model.KindRegistry: 1, model.KindStore: 1, model.KindApp: p.Fleet.Accounts,
	}
	// The other incidents' actors: none unless configured, so a 2024 world's
	// timer slots and random streams do not depend on them.
	for _, k := range []model.Kind{model.KindWeb, model.KindNotifier, model.KindReplica, model.KindReader} {
		count[k] = model.Count(&p.Params, k)
	}
	total := 0
	for k := model.Kind(0); k < model.KindEngine; k++ {
		e.timerBase[k] = total
		e.timerN[k] = model.NumTimers(&p.Params, k)
		if k == model.KindCamera {
			continue // in cams
		}
		total += e.timerN[k] * count[k]
	}
	if e.timerN[model.KindCamera] > len(camSlot{}.gen) {
		return nil, fmt.Errorf("sim: a camera has %d timers, the engine keeps %d", e.timerN[model.KindCamera], len(camSlot{}.gen))
	}
	e.timerGen = hugepage.Make[uint32](total)
	e.cams = hugepage.Make[camSlot](len(w.Cameras))
	// Every actor's stream is seeded from its place in one numbering
	// (cameras, then the gateway, …, then the engine); cameras keep theirs
	// in cams, the others in rngs from rngBase[kind].
	others := 1 // the engine's
	for k, c := range count {
		if model.Kind(k) != model.KindCamera {
			others += c
		}
	}
	e.rngs = hugepage.Make[rand.PCG](others)[:0]
	n := 0
	for k := model.Kind(0); k <= model.KindEngine; k++ {
		c := 1
		if k < model.KindEngine {
			c = count[k]
		}
		e.rngBase[k] = len(e.rngs)
		for j := 0; j < c; j++ {
			var r rand.PCG
			r.Seed(seed, splitmix(uint64(n+j)+1))
			if k == model.KindCamera {
				e.cams[j] = camSlot{rng: r, at: [3]model.Time{-1, -1, -1}}
			} else {
				e.rngs = append(e.rngs, r)
			}
		}
		n += c
	}
	e.q = newCalendar()
	for _, f := range p.Faults {
		if f.Fault.Kind == model.FaultGatewayUp {
			e.gatewayUps = append(e.gatewayUps, model.Time(f.At))
		}
		e.faultTimes = append(e.faultTimes, model.Time(f.At))
	}
	return e, nil
}

// slotsPerWorker is the uploads a worker can hold at once before its slot
// table grows on its own: a 100k-camera wyze-2024-02 run peaks at 48–58
// per worker (workers scale with the fleet).
const slotsPerWorker = 64

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Now is the current virtual time.
func (e *Engine) Now() model.Time { return e.now }

// Pending is the number of queued events (stale timers included).
func (e *Engine) Pending() int { return e.q.len() }

func (e *Engine) rngOf(a model.Addr) *rand.PCG {
	if a.Kind == model.KindCamera {
		return &e.cams[a.Index].rng
	}
	if a.Kind >= model.KindEngine {
		return &e.rngs[e.rngBase[model.KindEngine]]
	}
	return &e.rngs[e.rngBase[a.Kind]+int(a.Index)]
}

func (e *Engine) push(it item) {
	e.seq++
	it.seq = e.seq
	e.q.push(it)
}

// Start delivers Init to every actor and schedules the plan's faults.
func (e *Engine) Start() {
	e.W.Actors(func(a model.Addr) {
		e.step(a, &model.Input{Kind: model.InInit})
	})
	for i, f := range e.plan.Faults {
		e.push(item{at: model.Time(f.At), kind: itemFault, ref: uint32(i), to: model.EngineAddr})
	}
	e.countInflight()
}

// Run processes events until the queue is empty (the run is quiet: it
// returns true) or the next event is after `until`.
func (e *Engine) Run(until model.Time) bool {
	for e.q.len() > 0 {
		if e.q.now.len() == 0 {
			e.q.advance()
		}
		h := e.q.peek()
		if h.kind == itemTimer {
			if h.to.Kind == model.KindCamera {
				if !e.camDue(h) {
					continue
				}
			} else if e.timerGen[e.timerSlot(h.to, h.timer)] != h.ref {
				e.q.pop() // a cancelled timer: not pending work
				continue
			}
		}
		if h.at > until {
			e.now = until
			return false
		}
		it := e.q.pop()
		e.ahead()
		e.now = it.at
		switch it.kind {
		case itemMsg:
			in := model.Input{Kind: model.InMsg, Msg: e.msgs[it.ref]}
			e.free = append(e.free, it.ref)
			e.Processed++
			if it.to.Kind == model.KindCamera && e.counting {
				e.cams[it.to.Index].inflight--
			}
			e.step(it.to, &in)
		case itemTimer:
			// Due: the head check above let only a live timer through.
			e.Processed++
			if it.to.Kind == model.KindCamera {
				e.cams[it.to.Index].fired(it.timer)
				if e.FastForward && e.isolated(it.to) {
					e.fastForward(it, until)
					continue
				}
			}
			e.step(it.to, &model.Input{Kind: model.InTimer, Timer: it.timer})
		case itemFault:
			e.Processed++
			f := e.plan.Faults[it.ref].Fault
			e.cur = model.EngineAddr
			o := model.Obs{Kind: model.ObsFault, Fault: f, Device: f.Device, Owners: f.Owners}
			if f.Kind == model.FaultLogin {
				o.Account, o.Slot = f.Account, f.Session // as a trace reader sees it
			}
			e.Observe(o)
			e.W.FaultTargets(f, func(a model.Addr, in model.Input) { e.step(a, &in) })
			e.countInflight()
		}
	}
	return true
}

// ahead asks the processor to load what the next event will read first —
// its message; its camera's engine slot and model state, or its app's
// random stream — while this one runs. At full size these are random reads
// in gigabytes of tables, a cache miss each. The next event is the head of
// the queue unless this one queues an earlier one, which is rare.
func (e *Engine) ahead() {
	if len(e.q.now.h) == 0 {
		return
	}
	h := &e.q.now.h[0]
	if h.kind == itemMsg {
		m := unsafe.Pointer(&e.msgs[h.ref])
		prefetch.Line(m)
		prefetch.Line(unsafe.Add(m, 64))
		prefetch.Line(unsafe.Add(m, 128))
		prefetch.Line(unsafe.Add(m, unsafe.Sizeof(model.Msg{})-1))
	}
	switch h.to.Kind {
	case model.KindCamera:
		prefetch.Line(unsafe.Pointer(&e.cams[h.to.Index]))
		prefetch.Line(unsafe.Pointer(&e.W.Cameras[h.to.Index]))
	case model.KindApp: // stateless, but each has its random stream
		prefetch.Line(unsafe.Pointer(e.rngOf(h.to)))
	}
}

func (e *Engine) step(a model.Addr, in *model.Input) {
	e.cur = a
	e.curRng = e.rngOf(a)
	e.W.Step(a, in, e)
}

// camDue settles the camera timer entry h at the head of the queue: it
// reports whether h fires now; if not, h is gone from the head — dropped (a
// superseded entry, or its timer was cancelled) or queued again at the
// timer's later deadline (re-armed while h was queued, see setCamTimer).
func (e *Engine) camDue(h *item) bool {
	c := &e.cams[h.to.Index]
	bit := uint8(1) << h.timer
	switch {
	case c.gen[h.timer] != h.ref: // superseded by a later entry
	case c.armed&bit == 0:
		c.carried &^= bit
	case c.at[h.timer] > h.at:
		it := e.q.pop() // h points into the queue: read it no more
		it.at = c.at[it.timer]
		e.push(it)
		return false
	default:
		return true
	}
	e.q.pop()
	return false
}

func (e *Engine) timerSlot(a model.Addr, id uint16) int {
	return e.timerBase[a.Kind] + int(a.Index)*e.timerN[a.Kind] + int(id)
}

// sample draws a duration from the current actor's stream.
func (e *Engine) sample(d model.Dur) model.Time {
	switch d.Kind {
	case model.DurUniform:
		if d.B <= d.A {
			return model.Time(d.A)
		}
		return model.Time(distuv.Uniform{Min: float64(d.A), Max: float64(d.B), Src: e.curRng}.Rand())
	case model.DurExp:
		return model.Time(distuv.Exponential{Rate: 1 / float64(d.A), Src: e.curRng}.Rand())
	case model.DurLogNormal:
		// The log of the median is remembered: a run draws from a handful
		// of log-normals, billions of times.
		v := distuv.LogNormal{Mu: e.logOf(d.A), Sigma: d.Sigma, Src: e.curRng}.Rand()
		if v > 1e18 {
			v = 1e18
		}
		return model.Time(v)
	}
	return model.Time(d.A)
}

// logOf is math.Log(float64(a)), remembered for the last few a.
func (e *Engine) logOf(a time.Duration) float64 {
	for i := range e.logN {
		if e.logA[i] == a {
			return e.logV[i]
		}
	}
	v := math.Log(float64(a))
	if e.logN < len(e.logA) {
		e.logA[e.logN], e.logV[e.logN] = a, v
		e.logN++
	}
	return v
}

// Send implements model.Ctx: the network model picks the latency (and may
// lose a WAN message); channels inside the data centre stay FIFO.
func (e *Engine) Send(to model.Addr, m model.Msg, extra model.Dur) {
	from := e.cur
	m.From = from
	if !e.W.Reachable(to) {
		return // a host that is down loses what is sent to it
	}
	link := model.LinkOf(from, to)
	if link.Lossy() && e.plan.Net.WANLoss > 0 && unit(e.curRng) < e.plan.Net.WANLoss {
		e.Lost++
		return
	}
	var lat model.Time
	switch link {
	case model.NetWAN, model.NetInternet:
		lat = e.sample(e.plan.Net.WAN)
	case model.NetPush:
		lat = e.sample(e.plan.Net.Push)
	default:
		lat = e.sample(e.plan.Net.DC)
	}
	fifo := link.FIFO()
	if !extra.IsZero() {
		lat += e.sample(extra)
	}
	at := e.now + lat
	if fifo {
		if i := e.fifoSlot(from, to, m.Conn); i >= 0 {
			at = max(at, e.fifoW[i])
			e.fifoW[i] = at
		} else {
			key := uint64(from.Kind)<<60 | uint64(from.Index&0xffffff)<<36 | uint64(to.Kind)<<32 |
				uint64(to.Index&0xffff)<<16 | uint64(m.Conn)
			if last, ok := e.fifo[key]; ok && last > at {
				at = last
			}
			e.fifo[key] = at
		}
	}
	if to.Kind == model.KindCamera && e.counting {
		e.cams[to.Index].inflight++
	}
	var ref uint32
	if n := len(e.free); n > 0 {
		ref = e.free[n-1]
		e.free = e.free[:n-1]
		e.msgs[ref] = m
	} else {
		ref = uint32(len(e.msgs))
		e.msgs = append(hugepage.Grow(e.msgs, 1024), m)
	}
	e.push(item{at: at, kind: itemMsg, to: to, ref: ref})
}

// fifoFixed is the number of a worker's channel peers other than its cache
// connections (model.WorkerPeers).
const fifoFixed = len(model.WorkerPeers)

// fifoSlot is the place in fifoW of the channel from → to on connection
// conn, or -1 when no worker is at either end or the pair is not one the
// table holds (those keep to the map).
func (e *Engine) fifoSlot(from, to model.Addr, conn uint16) int {
	w, peer, dir := from, to, 0
	if from.Kind != model.KindWorker {
		if to.Kind != model.KindWorker {
			return -1
		}
		w, peer, dir = to, from, 1
	}
	if peer == model.CacheAddr {
		if int(conn) < e.fifoPeer-fifoFixed {
			return (int(w.Index)*e.fifoPeer+fifoFixed+int(conn))*2 + dir
		}
		return -1
	}
	if conn != 0 {
		return -1
	}
	for code, p := range model.WorkerPeers {
		if peer == p {
			return (int(w.Index)*e.fifoPeer+code)*2 + dir
		}
	}
	return -1
}

// nextGatewayUp is when the gateway is next scheduled to come back.
func (e *Engine) nextGatewayUp() model.Time {
	for len(e.gatewayUps) > 0 && e.gatewayUps[0] <= e.now {
		e.gatewayUps = e.gatewayUps[1:]
	}
	if len(e.gatewayUps) == 0 {
		return math.MaxInt64
	}
	return e.gatewayUps[0]
}

// SetTimer implements model.Ctx.
func (e *Engine) SetTimer(id uint16, d model.Dur) {
	at := e.now + e.sample(d)
	if e.ff {
		e.ffTimers[id] = at
		return
	}
	if e.cur.Kind == model.KindCamera {
		e.setCamTimer(e.cur.Index, id, at)
		return
	}
	g := &e.timerGen[e.timerSlot(e.cur, id)]
	*g++
	e.push(item{at: at, kind: itemTimer, to: e.cur, timer: id, ref: *g})
}

// setCamTimer arms camera i's timer id for at. If an entry of that timer is
// still queued for no later than at (it was cancelled or re-armed since),
// that entry carries the new deadline: when it reaches the head it is queued
// again for at (camDue). A camera's upload timeout is armed and cancelled
// for every upload; without this each cancelled one stayed queued for its
// 30 s — at 10M cameras, most of the queue during the storm.
func (e *Engine) setCamTimer(i uint32, id uint16, at model.Time) {
	c := &e.cams[i]
	bit := uint8(1) << id
	c.armed |= bit
	if c.carried&bit != 0 && at >= c.at[id] {
		c.at[id] = at // the queued entry is at or before the old deadline
		return
	}
	c.at[id] = at
	c.carried |= bit
	c.gen[id]++
	e.push(item{at: at, kind: itemTimer, to: model.Addr{Kind: model.KindCamera, Index: i}, timer: id, ref: c.gen[id]})
}

// CancelTimer implements model.Ctx.
func (e *Engine) CancelTimer(id uint16) {
	if e.ff {
		e.ffTimers[id] = -1
		return
	}
	if e.cur.Kind == model.KindCamera {
		e.cams[e.cur.Index].armed &^= 1 << id // its entry, if queued, is dropped at the head
		return
	}
	e.timerGen[e.timerSlot(e.cur, id)]++
}

// countInflight starts counting the messages on their way to each camera
// when the gateway goes down, from the queue as it is, and stops when it
// is back: only then does a camera's count matter (isolated). Counting at
// every send would cost a cache miss on the receiving camera's slot.
func (e *Engine) countInflight() {
	switch down := e.W.Gateway.Down; {
	case down && !e.counting:
		for i := range e.cams {
			e.cams[i].inflight = 0
		}
		e.q.each(func(it *item) {
			if it.kind == itemMsg && it.to.Kind == model.KindCamera {
				e.cams[it.to.Index].inflight++
			}
		})
		e.counting = true
	case !down:
		e.counting = false
	}
}

// isolated reports whether camera a can neither receive nor be heard until
// the gateway comes back: the gateway is down, nothing is on its way to the
// camera, and the camera is not connected. Until then it only steps on its
// own timers, so it can be run ahead on its own.
func (e *Engine) isolated(a model.Addr) bool {
	return e.W.Offline(a) && e.cams[a.Index].inflight == 0
}

// fastForward runs an isolated camera on its own timers, from the timer
// `it` up to the next fault (the gateway coming back, or any other), or the
// run's end, whichever is first. Its steps are exactly those the global
// queue would have made: same inputs in the same order, from the camera's
// own random stream; only the work of queueing them is saved, and the
// camera's state stays in cache. During an outage that is most of a run.
// (The run's end, not Run's `until`: a caller that runs minute by minute,
// to show progress, would otherwise cut every fast-forward at the minute.)
func (e *Engine) fastForward(it item, until model.Time) {
	h := max(until, model.Time(e.plan.Duration)) + 1
	for len(e.faultTimes) > 0 && e.faultTimes[0] <= e.now {
		e.faultTimes = e.faultTimes[1:]
	}
	if len(e.faultTimes) > 0 && e.faultTimes[0] < h {
		h = e.faultTimes[0]
	}
	if u := e.nextGatewayUp(); u < h {
		h = u
	}
	if it.at >= h {
		e.step(it.to, &model.Input{Kind: model.InTimer, Timer: it.timer})
		return
	}
	n := e.timerN[model.KindCamera]
	c := &e.cams[it.to.Index]
	for id := 0; id < n; id++ {
		e.ffTimers[id] = c.deadline(id)
		e.ffOrig[id] = e.ffTimers[id]
	}
	e.ffTimers[it.timer] = -1
	e.ffOrig[it.timer] = -1 // its entry was just popped
	global := e.now
	e.ff = true
	fire, at := int(it.timer), it.at
	for {
		e.now = at
		e.step(it.to, &model.Input{Kind: model.InTimer, Timer: uint16(fire)})
		fire, at = -1, h
		for id := 0; id < n; id++ {
			if t := e.ffTimers[id]; t >= 0 && t < at {
				fire, at = id, t
			}
		}
		if fire < 0 {
			break
		}
		e.ffTimers[fire] = -1
		e.Processed++
		e.FastForwarded++
	}
	e.ff = false
	e.now = global
	e.cur = it.to
	// A timer the camera left as it was keeps its queued entry (and its
	// place among equal times, as in a plain run); any other is superseded.
	// Re-queueing every timer left one stale entry per timer per
	// fast-forward: at 10M cameras, billions of dead entries.
	for id := 0; id < n; id++ {
		switch t := e.ffTimers[id]; {
		case t == e.ffOrig[id]:
		case t < 0:
			c.armed &^= 1 << id
		default:
			e.setCamTimer(it.to.Index, uint16(id), t)
		}
	}
}

// camSlot is what the engine keeps per camera, side by side so that a
// camera's step touches one cache line here (at 10M cameras, separate
// arrays cost a miss each): its random stream; per timer its deadline (of
// the latest arming, kept after a cancel), whether it is armed, whether an
// entry of it is queued (carried: the one whose ref is gen); and, while the
// gateway is down, the messages on their way to it. 64 bytes.
type camSlot struct {
	rng      rand.PCG
	at       [3]model.Time
	gen      [3]uint32
	inflight uint16
	armed    uint8
	carried  uint8
	_        [8]byte
}

// fired records that timer id's carrying entry was popped and fired.
func (c *camSlot) fired(id uint16) {
	c.armed &^= 1 << id
	c.carried &^= 1 << id
}

// deadline is when timer id fires, -1 if it is not armed.
func (c *camSlot) deadline(id int) model.Time {
	if c.armed&(1<<id) == 0 {
		return -1
	}
	return c.at[id]
}

// Chance implements model.Ctx.
func (e *Engine) Chance(_ model.Choice, p float64) bool {
	if p <= 0 {
		return false
	}
	if p >= 1 {
		return true
	}
	return unit(e.curRng) < p
}

// unit is a uniform draw in [0, 1).
func unit(r *rand.PCG) float64 { return float64(r.Uint64()>>11) / (1 << 53) }

// Observe implements model.Ctx.
func (e *Engine) Observe(o model.Obs) {
	if e.out != nil {
		o.Actor = e.cur
		e.out.put(e.now, &o) // a direct call, so o stays on the stack
	}
}
