package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/traces"
)

// RunOptions says what a run writes.
type RunOptions struct {
	// Detail is the trace detail: full, slice or none ("" = the scenario's).
	Detail string
	// Trace receives the trace (nil: none is written).
	Trace io.Writer
	// Tool is the version string for the header; Reproduce the command line.
	Tool, Reproduce string
	// SliceLimit is how many violations a slice trace explains (0 = 20).
	SliceLimit int
	// Progress, if set, is called about once per simulated minute.
	Progress func(now, end time.Duration)
	// Follow lists events a slice trace keeps whole, violated or not: their
	// lines, the cache replies read for their devices and their devices'
	// ownership, so a re-run under a fix can retell one event's fate from
	// a slice rather than from a full trace.
	Follow []model.EventRef
}

// Result is what a run found.
type Result struct {
	Summary Summary
	Series  Series
	// First holds up to 10 violations of each invariant, in time order.
	First [model.NumInvariants][]model.Violation
}

// Header is the trace header of a run of s.
func Header(s *Scenario, opt RunOptions, detail string) traces.Header {
	p := s.scaled(s.Fleet.Cameras)
	a := min(s.scaled(s.Fleet.Accounts), p)
	return traces.Header{Engine: "sim", Scenario: s.Name, Seed: s.Seed, Design: s.Design().String(),
		Devices: p, Accounts: a, Detail: detail, Authorized: s.Rule().String(), Options: s.JSON(), Tool: opt.Tool, Reproduce: opt.Reproduce}
}

// Run simulates s. The trace, if any, is written as the run goes (full) or
// at its end (slice).
func Run(s *Scenario, opt RunOptions) (*Result, error) {
	if s.JSON() == nil {
		_, err := json.Marshal(s)
		return nil, fmt.Errorf("scenario %s cannot be written into a trace header: %v", s.Name, err)
	}
	plan, err := s.Build()
	if err != nil {
		return nil, err
	}
	detail := opt.Detail
	if detail == "" {
		detail = s.Trace
	}
	if opt.Trace == nil {
		detail = "none"
	}
	mon := model.NewMonitor(len(plan.Fleet.Devices))
	mon.Rule = s.Rule()
	met := newMetrics(mon, len(plan.Fleet.Devices), plan.Fleet.Accounts, plan.Duration)
	res := &Result{}
	var tw *traces.Writer
	if detail != "none" {
		if tw, err = traces.NewWriter(opt.Trace, Header(s, opt, detail)); err != nil {
			return nil, err
		}
	}
	var sl *slicer
	if detail == "slice" {
		limit := opt.SliceLimit
		if limit <= 0 {
			limit = 20
		}
		sl = newSlicer(limit, plan)
		for _, e := range opt.Follow {
			sl.track[uint64(e.Device)<<32|uint64(e.Seq)] = true
			sl.trackKey[e.Device] = true
			sl.own(e.Device)
		}
	}
	var sinkErr error
	judge := func(t model.Time, o *model.Obs) {
		vs, err := mon.Observe(t, o)
		if err != nil && sinkErr == nil {
			sinkErr = fmt.Errorf("t=%v: %v", time.Duration(t), err)
		}
		met.observe(t, o, vs)
		for _, v := range vs {
			if len(res.First[v.Inv]) < 10 {
				res.First[v.Inv] = append(res.First[v.Inv], v)
			}
		}
		switch detail {
		case "full":
			if err := tw.Write(t, o); err != nil && sinkErr == nil {
				sinkErr = err
			}
		case "slice":
			sl.observe(t, o, vs)
		}
	}
	pp := startPipe(judge)
	eng, err := NewEngine(plan, s.Seed)
	if err != nil {
		pp.flush()
		return nil, err
	}
	eng.out = pp
	eng.FastForward = detail != "full"
	eng.Start()
	end := model.Time(plan.Duration)
	quiet := false
	if opt.Progress == nil {
		quiet = eng.Run(end)
	} else {
		for t := model.Time(0); ; {
			t += model.Time(time.Minute)
			if t > end {
				t = end
			}
			quiet = eng.Run(t)
			opt.Progress(time.Duration(eng.Now()), plan.Duration)
			if quiet || t >= end {
				break
			}
		}
	}
	pp.flush()
	if sinkErr != nil {
		return nil, sinkErr
	}
	var loss []model.Violation
	if quiet {
		loss = mon.Quiet(eng.Now())
		for _, v := range loss {
			if len(res.First[model.NoSilentLoss]) < 10 {
				res.First[model.NoSilentLoss] = append(res.First[model.NoSilentLoss], v)
			}
		}
	}
	if sl != nil {
		if err := sl.write(tw); err != nil {
			return nil, err
		}
	}
	if tw != nil {
		// The end line tells a checker whether the run was quiet, so it can
		// judge NoSilentLoss from the trace alone.
		if err := tw.Write(eng.Now(), &model.Obs{Kind: model.ObsEnd, Actor: model.EngineAddr, Flag: quiet}); err != nil {
			return nil, err
		}
		if err := tw.Flush(); err != nil {
			return nil, err
		}
	}
	met.finishSeries()
	res.Series = met.s
	res.Summary = summarize(s, plan, eng, met, mon, quiet, len(loss), res, opt)
	return res, nil
}

// slicer keeps, for a large run, only the events that explain its first
// violations: for each, the chain from the cache call whose reply was
// misread to the stranger's tap. Cache lines are remembered per connection
// (there are few connections), so memory does not grow with the fleet.
type slicer struct {
	limit  int
	plan   *Plan
	seq    uint64
	rings  map[uint64]*ring
	prov   map[uint64][]sline
	follow map[uint64]bool
	owned  map[model.DeviceID]bool
	// track and trackKey are RunOptions.Follow's events and their devices.
	track    map[uint64]bool
	trackKey map[model.DeviceID]bool
	out      []sline
	n        int

	// The other incidents: a web session's lines, the page each account's
	// session put under the shared key, and how many of their violations
	// were taken.
	sess  map[uint32][]sline
	fill  map[model.AccountID]sline
	taken map[uint64]bool
}

type sline struct {
	t   model.Time
	seq uint64
	o   model.Obs
}

const ringLen = 48

// ring holds the last ringLen lines of one cache connection, oldest first
// from head.
type ring struct {
	l       [ringLen]sline
	head, n int
}

// at is the i-th oldest line held.
func (r *ring) at(i int) *sline { return &r.l[(r.head+i)%ringLen] }

func (r *ring) add(l sline) {
	if r.n < ringLen {
		*r.at(r.n) = l
		r.n++
		return
	}
	*r.at(0) = l // the oldest goes
	r.head = (r.head + 1) % ringLen
}

func newSlicer(limit int, p *Plan) *slicer {
	return &slicer{limit: limit, plan: p, rings: map[uint64]*ring{}, prov: map[uint64][]sline{},
		follow: map[uint64]bool{}, owned: map[model.DeviceID]bool{}, track: map[uint64]bool{}, trackKey: map[model.DeviceID]bool{},
		sess: map[uint32][]sline{}, fill: map[model.AccountID]sline{}, taken: map[uint64]bool{}}
}

func ringKey(worker uint32, conn uint16) uint64 { return uint64(worker)<<16 | uint64(conn) }

func (sl *slicer) observe(t model.Time, o *model.Obs, vs []model.Violation) {
	sl.seq++
	l := sline{t: t, seq: sl.seq, o: *o}
	ev := uint64(o.Device)<<32 | uint64(o.Seq)
	switch o.Kind {
	case model.ObsFault:
		if o.Fault.Kind != model.FaultLogin {
			sl.out = append(sl.out, l)
			break
		}
		sl.session(o.Slot, l) // a login is kept only with its session's violation
	case model.ObsWebLookup:
		sl.session(o.Slot, l)
		if o.Outcome == model.OutRegistry && o.Flag {
			sl.fill[o.Account] = l
		}
	case model.ObsNotify:
		if o.To != o.Owners {
			// The notifier's join changed the recipients: part of the story
			// of a foreign delivery of this event.
			if len(sl.prov) >= 200_000 {
				clear(sl.prov)
			}
			sl.prov[ev] = append(sl.prov[ev], l)
		}
	case model.ObsOwn:
		if t > 0 {
			sl.out = append(sl.out, l)
		}
	case model.ObsCacheCall, model.ObsCacheRet, model.ObsCacheClose, model.ObsCacheServe:
		w := o.Actor.Index
		if o.Kind == model.ObsCacheServe {
			w = o.Peer.Index
		}
		if b := sl.plan.Params.ClientOf(int(w)).Behaviour(); b.CloseOnTimeout || b.Mismatch != model.ReadAnyway {
			// Only a client that keeps a timed-out connection and reads any
			// reply can hand a reply to the wrong request, so only its
			// connections' lines can explain a misread: at 10M cameras the
			// other workers' rings would hold ≈500 MB.
			break
		}
		k := ringKey(w, o.Conn)
		r := sl.rings[k]
		if r == nil {
			r = &ring{}
			sl.rings[k] = r
		}
		r.add(l)
	case model.ObsLookup:
		if o.Outcome == model.OutCache && o.ReplyOf != 0 && (o.ReplyOf != o.Token || o.ReplyKey != o.Key) {
			var p []sline
			r := sl.rings[ringKey(o.Actor.Index, o.Conn)]
			for i := 0; r != nil && i < r.n; i++ {
				c := r.at(i)
				if c.o.Gen == o.Gen && (c.o.Token == o.Token || c.o.Token == o.ReplyOf || c.o.Kind == model.ObsCacheClose) {
					p = append(p, *c)
				}
			}
			if len(sl.prov) >= 200_000 {
				clear(sl.prov) // bound the memory; only early violations are sliced anyway
			}
			sl.prov[ev] = append(p, l)
		}
	}
	switch {
	case o.Kind == model.ObsFault || o.Kind == model.ObsOwn:
	case sl.follow[ev] || sl.track[ev]:
		sl.out = append(sl.out, l)
	case o.Kind == model.ObsCacheRet && sl.trackKey[o.Key]:
		sl.out = append(sl.out, l) // the reply a followed event's lookup used
	}
	for _, v := range vs {
		if v.Inv == model.NoForeignStream || v.Inv == model.NoForeignRead {
			sl.other(l, &v)
			continue
		}
		if v.Inv != model.NoForeignDelivery && v.Inv != model.NoForeignView {
			continue
		}
		k := uint64(v.Device)<<32 | uint64(v.Seq)
		if !sl.follow[k] {
			if sl.n >= sl.limit {
				continue
			}
			sl.n++
			sl.follow[k] = true
			sl.out = append(sl.out, l)
			sl.own(v.Device)
			for _, p := range sl.prov[k] {
				sl.out = append(sl.out, p)
				if p.o.Kind == model.ObsLookup {
					sl.own(p.o.ReplyKey)
				}
			}
		}
	}
}

// session remembers a line of web session s (bounded like prov).
func (sl *slicer) session(s uint32, l sline) {
	if len(sl.sess) >= 200_000 {
		clear(sl.sess)
	}
	sl.sess[s] = append(sl.sess[s], l)
}

// other keeps the first violations of the other incidents' invariants with
// what explains them: for a foreign stream, the session's login and
// lookups and the lookup that filled the shared entry it read.
func (sl *slicer) other(l sline, v *model.Violation) {
	k := uint64(v.Inv)<<32 | uint64(v.Session)
	if v.Inv == model.NoForeignRead {
		k = uint64(v.Inv)<<32 | uint64(l.o.Slot)
	}
	if sl.taken[k] || sl.n >= sl.limit {
		return
	}
	sl.taken[k] = true
	sl.n++
	if v.Inv == model.NoForeignStream {
		sl.own(v.Device)
		for _, x := range sl.sess[v.Session] {
			sl.out = append(sl.out, x)
			if x.o.Kind == model.ObsWebLookup && x.o.Outcome == model.OutCache && x.o.Owners.N > 0 {
				if f, ok := sl.fill[x.o.Owners.IDs[0]]; ok {
					sl.out = append(sl.out, f)
				}
			}
		}
	}
	sl.out = append(sl.out, l)
}

// own adds device d's initial ownership line once.
func (sl *slicer) own(d model.DeviceID) {
	if sl.owned[d] || int(d) >= len(sl.plan.Fleet.Devices) {
		return
	}
	sl.owned[d] = true
	sl.out = append(sl.out, sline{t: 0, seq: 0, o: model.Obs{Kind: model.ObsOwn, Actor: model.RegistryAddr,
		Device: d, Owners: sl.plan.Fleet.Devices[d].Owners}})
}

func (sl *slicer) write(tw *traces.Writer) error {
	sort.SliceStable(sl.out, func(i, j int) bool {
		// Time first: a camera fast-forwarded through an outage reports
		// its steps after later events of others (a trace is in time order).
		if sl.out[i].t != sl.out[j].t {
			return sl.out[i].t < sl.out[j].t
		}
		if sl.out[i].seq != sl.out[j].seq {
			return sl.out[i].seq < sl.out[j].seq
		}
		return sl.out[i].o.Device < sl.out[j].o.Device
	})
	var last uint64
	for i, l := range sl.out {
		if i > 0 && l.seq != 0 && l.seq == last {
			continue
		}
		last = l.seq
		if err := tw.Write(l.t, &l.o); err != nil {
			return err
		}
	}
	return nil
}
