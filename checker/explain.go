package checker

import (
	"fmt"
	"slices"
	"time"

	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/traces"
)

// The explainer keeps, while the trace streams past, just enough to tell the
// story of a violation when it happens: for each event its capture and last
// upload; for each cache request whose reply its caller did not read, the
// request, its timeout and the server's late answer; for each lookup that
// resolves an event to a stranger, where that answer came from. Memory
// follows what is in flight, not the length of the trace (captures aside:
// one small record per event).

type lineRef struct {
	line int
	t    model.Time
	o    model.Obs
}

type reqRec struct {
	call, ret, serve lineRef
	hasRet, hasServe bool
	// root is the timed-out request that put the connection out of step,
	// when this request's own read was already someone else's reply.
	root *reqRec
}

type connID struct {
	w    uint32
	conn uint16
}

type connRec struct {
	gen  uint32
	reqs map[uint32]*reqRec // token → request not yet answered to its own caller
}

// misread is a reply read by the wrong request: victim read culprit's reply.
type misread struct {
	culprit *reqRec // the earlier request whose reply was read (may be nil)
	victim  reqRec  // the request that read it (call and ret)
	hasCall bool
	// elsewhere: the client does not say which connection carried a call
	// (a library: conn is the calling lane), so the culprit is the
	// worker's latest timed-out GET of the device the value names.
	elsewhere bool
}

// retID names a cache-ret by the request that read it.
type retID struct {
	w, gen, tok uint32
	conn        uint16
}

// hitRec is a hit waiting for its lookup, with its misread if any.
type hitRec struct {
	ret lineRef
	mis *misread
}

type capRec struct {
	capture, upload lineRef
	hasUpload       bool
}

// provenance is how a lookup that names a stranger came about.
type provenance struct {
	lookup   lineRef
	ret      *lineRef // the cache-ret it used
	call     *lineRef // that request's cache-call
	mis      *misread
	regRet   *lineRef
	lastSet  *lineRef // the server's last SET of the key before the lookup
	transfer *lineRef // an ownership change of the device before the lookup
}

type storyB struct {
	s     traces.Story
	ev    uint64
	acct  model.AccountID
	extra int
}

type explainer struct {
	mon  *model.Monitor
	want int
	// untimed: the trace is the explorer's (t is a step number), so the
	// stories name no durations.
	untimed bool
	// lanes: the trace is a live run's, where a client that names no
	// connection has its calls numbered by the calling lane: conn is then
	// no connection, and a reply read on it may be any connection's.
	lanes bool

	conns map[connID]*connRec
	// hits are the cache hits not yet taken by their lookup, by the
	// request that read them (conn, gen, token): a worker's lanes
	// interleave, so a lookup's own hit need not be the worker's last line.
	hits     map[retID]hitRec
	lastCall map[reqID]lineRef // calls of requests still open (for the victim's own call)
	caps     map[uint64]*capRec
	prov     map[uint64]*provenance
	provFIFO []uint64
	lastSet  map[model.DeviceID]lineRef
	lastOwn  map[model.DeviceID]lineRef
	regRet   map[[2]uint32]lineRef
	lastGW   *lineRef // the last gateway fault (the storm's start)

	built map[[2]uint64]*storyB
	list  []*storyB

	follow       map[uint64]model.EventRef
	followed     map[model.EventRef][]traces.Step
	followKeys   map[model.DeviceID]bool
	followRet    map[[2]uint32]lineRef
	followWorker map[model.EventRef]string

	inc incidentTrail // the other incidents' (explain_incidents.go)
}

const maxProv = 1 << 16 // suspicious lookups remembered at once

func newExplainer(mon *model.Monitor, want int, follow []model.EventRef) *explainer {
	ex := &explainer{mon: mon, want: want, conns: map[connID]*connRec{}, hits: map[retID]hitRec{},
		lastCall: map[reqID]lineRef{}, caps: map[uint64]*capRec{},
		prov: map[uint64]*provenance{}, lastSet: map[model.DeviceID]lineRef{}, lastOwn: map[model.DeviceID]lineRef{},
		regRet: map[[2]uint32]lineRef{}, built: map[[2]uint64]*storyB{}}
	if len(follow) > 0 {
		ex.follow = map[uint64]model.EventRef{}
		ex.followed = map[model.EventRef][]traces.Step{}
		ex.followKeys = map[model.DeviceID]bool{}
		ex.followRet = map[[2]uint32]lineRef{}
		ex.followWorker = map[model.EventRef]string{}
		for _, e := range follow {
			ex.followKeys[e.Device] = true
			e = model.EventRef{Device: e.Device, Seq: e.Seq}
			ex.follow[e.Key()] = e
		}
	}
	return ex
}

func evKey(d model.DeviceID, seq uint32) uint64 { return uint64(d)<<32 | uint64(seq) }

func (ex *explainer) conn(w uint32, c uint16, gen uint32) *connRec {
	id := connID{w, c}
	cr := ex.conns[id]
	if cr == nil {
		cr = &connRec{gen: gen, reqs: map[uint32]*reqRec{}}
		ex.conns[id] = cr
	}
	if cr.gen != gen {
		cr.gen = gen
		clear(cr.reqs)
	}
	return cr
}

func (ex *explainer) observe(line int, t model.Time, o *model.Obs, vs []model.Violation) {
	ref := lineRef{line: line, t: t, o: *o}
	switch o.Kind {
	case model.ObsCapture:
		ex.caps[evKey(o.Device, o.Seq)] = &capRec{capture: ref}
	case model.ObsUpload:
		if c := ex.caps[evKey(o.Device, o.Seq)]; c != nil {
			c.upload, c.hasUpload = ref, true
		}
	case model.ObsFault:
		if o.Fault.Kind == model.FaultGatewayUp || o.Fault.Kind == model.FaultGatewayDown {
			r := ref
			ex.lastGW = &r
		}
	case model.ObsOwn:
		ex.lastOwn[o.Device] = ref
	case model.ObsCacheCall:
		if o.Conn != model.NoConn {
			cr := ex.conn(o.Actor.Index, o.Conn, o.Gen)
			cr.reqs[o.Token] = &reqRec{call: ref}
		}
	case model.ObsCacheServe:
		if cr := ex.conns[connID{o.Peer.Index, o.Conn}]; cr != nil && cr.gen == o.Gen {
			if r := cr.reqs[o.Token]; r != nil {
				r.serve, r.hasServe = ref, true
			}
		}
		if o.Op == model.OpSet && o.Flag {
			ex.lastSet[o.Key] = ref
		}
	case model.ObsCacheClose:
		if cr := ex.conns[connID{o.Actor.Index, o.Conn}]; cr != nil && cr.gen == o.Gen {
			clear(cr.reqs)
		}
	case model.ObsCacheRet:
		ex.cacheRet(ref)
		if ex.follow != nil {
			if ex.followKeys[o.Key] {
				ex.followRet[[2]uint32{o.Actor.Index, uint32(o.Key)}] = ref
			}
		}
	case model.ObsRegRet:
		ex.regRet[[2]uint32{o.Actor.Index, o.Slot}] = ref
	case model.ObsLookup:
		ex.lookup(ref)
	}
	ex.inc.observe(ref)
	if ex.follow != nil {
		ex.track(ref)
	}
	for i := range vs {
		ex.violation(ref, &vs[i])
	}
	if o.Kind == model.ObsTap || o.Kind == model.ObsView || o.Kind == model.ObsViewRefused || o.Kind == model.ObsRefused {
		if b := ex.built[[2]uint64{evKey(o.Device, o.Seq), uint64(o.Account)}]; b != nil && b.extra < 3 && !isViolationStep(b, line) {
			b.extra++
			b.s.Steps = append(b.s.Steps, describe(ref, ""))
		}
	}
}

func isViolationStep(b *storyB, line int) bool {
	for _, s := range b.s.Steps {
		if s.Line == line {
			return true
		}
	}
	return false
}

func (ex *explainer) cacheRet(ref lineRef) {
	o := &ref.o
	w := o.Actor.Index
	if o.Conn == model.NoConn {
		return
	}
	cr := ex.conn(w, o.Conn, o.Gen)
	own := cr.reqs[o.Token]
	var ownCopy reqRec
	if own != nil {
		own.ret, own.hasRet = ref, true
		ownCopy = *own
	}
	// Whose reply did this caller read? The engine says so (of/ofkey); a
	// real client does not know, but a hit whose value names another device
	// points at the oldest unanswered request for that device.
	var culpritTok uint32
	switch {
	case o.ReplyOf != 0 && o.ReplyOf != o.Token:
		culpritTok = o.ReplyOf
	case o.ReplyOf == 0 && o.Outcome == model.OutHit && o.Val.Device != o.Key && !ex.lanes:
		best := uint32(0)
		for tok, r := range cr.reqs {
			if tok != o.Token && r.hasRet && r.call.o.Key == o.Val.Device && (best == 0 || tok < best) {
				best = tok
			}
		}
		culpritTok = best
	}
	if culpritTok == 0 {
		foreign := o.ReplyOf == 0 && o.Outcome == model.OutHit && o.Val.Device != o.Key
		if o.Outcome != model.OutTimeout && o.Outcome != model.OutError && !foreign {
			delete(cr.reqs, o.Token) // answered to its own caller: nothing more to tell
		}
		var m *misread
		if foreign {
			// The value names another device, and this connection holds no
			// request for it: the client does not say which connection
			// carried the call. The reply read is that of a GET of that
			// device on another of the worker's connections.
			m = &misread{victim: ownCopy, hasCall: own != nil, elsewhere: true}
			if c := ex.unansweredGet(w, o.Val.Device, ref.t); c != nil {
				m.culprit = c
			}
		}
		ex.hit(ref, m)
		return
	}
	m := &misread{victim: ownCopy, hasCall: own != nil}
	if c := cr.reqs[culpritTok]; c != nil {
		cc := *c
		m.culprit = &cc
		delete(cr.reqs, culpritTok) // its reply has been consumed
		if own != nil {
			// This request's own reply is now out of step too; what started
			// it is the culprit's root, or the culprit if it timed out.
			own.root = c.root
			if own.root == nil && c.hasRet && c.ret.o.Outcome == model.OutTimeout {
				own.root = &cc
			}
		}
	}
	ex.hit(ref, m)
}

// hit keeps a cache hit (and its misread) for the lookup that uses it.
func (ex *explainer) hit(ref lineRef, m *misread) {
	o := &ref.o
	if o.Outcome != model.OutHit {
		return
	}
	if len(ex.hits) >= maxProv {
		clear(ex.hits) // hits whose lookup never came (a cut-short run)
	}
	ex.hits[retID{w: o.Actor.Index, gen: o.Gen, tok: o.Token, conn: o.Conn}] = hitRec{ret: ref, mis: m}
}

// unansweredGet is worker w's latest GET of device d, returned before t,
// that did not read its own reply (it timed out, failed, or read another
// device's value), so its reply was left for a later read; no earlier read
// has been blamed on it. It is taken: one reply is read once.
func (ex *explainer) unansweredGet(w uint32, d model.DeviceID, t model.Time) *reqRec {
	var best *reqRec
	var bestCR *connRec
	var bestTok uint32
	for id, cr := range ex.conns {
		if id.w != w {
			continue
		}
		for tok, r := range cr.reqs {
			if r.call.o.Op != model.OpGet || r.call.o.Key != d || !r.hasRet || r.ret.t > t {
				continue
			}
			switch ro := &r.ret.o; {
			case ro.Outcome == model.OutTimeout, ro.Outcome == model.OutError,
				ro.Outcome == model.OutHit && ro.Val.Device != d:
			default:
				continue
			}
			if best == nil || r.ret.t > best.ret.t {
				best, bestCR, bestTok = r, cr, tok
			}
		}
	}
	if best == nil {
		return nil
	}
	c := *best
	delete(bestCR.reqs, bestTok)
	return &c
}

// suspicious reports whether a lookup names an account that may not see the
// event: then its delivery will be foreign, and its provenance is kept.
func (ex *explainer) suspicious(o *model.Obs) bool {
	for _, a := range o.Owners.IDs[:o.Owners.N] {
		if !ex.mon.Authorized(o.Device, o.Seq, a) {
			return true
		}
	}
	return false
}

func (ex *explainer) lookup(ref lineRef) {
	o := &ref.o
	w := o.Actor.Index
	var h hitRec
	var hasHit bool
	if o.Outcome == model.OutCache {
		id := retID{w: w, gen: o.Gen, tok: o.Token, conn: o.Conn}
		if h, hasHit = ex.hits[id]; hasHit {
			delete(ex.hits, id)
		}
	}
	if ex.want == 0 || !ex.suspicious(o) {
		return
	}
	p := &provenance{lookup: ref}
	switch o.Outcome {
	case model.OutCache:
		if hasHit {
			r := h.ret
			p.ret = &r
			if m := h.mis; m != nil {
				p.mis = m
				if m.hasCall {
					c := m.victim.call
					p.call = &c
				}
			}
		}
		if s, ok := ex.lastSet[o.Device]; ok {
			p.lastSet = &s
		}
	case model.OutRegistry:
		if r, ok := ex.regRet[[2]uint32{w, o.Slot}]; ok {
			p.regRet = &r
		}
	}
	if own, ok := ex.lastOwn[o.Device]; ok && own.t > 0 {
		p.transfer = &own
	}
	k := evKey(o.Device, o.Seq)
	if _, had := ex.prov[k]; !had {
		ex.provFIFO = append(ex.provFIFO, k)
		if len(ex.provFIFO) > maxProv {
			delete(ex.prov, ex.provFIFO[0])
			ex.provFIFO = ex.provFIFO[1:]
		}
	}
	ex.prov[k] = p
}

func (ex *explainer) violation(ref lineRef, v *model.Violation) {
	k := evKey(v.Device, v.Seq)
	bk := [2]uint64{k, uint64(v.Account)}
	if b := ex.built[bk]; b != nil && v.Inv == model.NoForeignView {
		st := describe(ref, "")
		st.Violation = true
		st.Because = fmt.Sprintf("the store served the %s without checking that account %d may see camera %d", v.View, v.Account, v.Device)
		b.s.Steps = append(b.s.Steps, st)
		b.extra++
		return
	}
	if len(ex.list) >= ex.want || ex.built[bk] != nil {
		return
	}
	b := &storyB{ev: k, acct: v.Account}
	b.s = traces.Story{Invariant: v.Inv.String(), Violation: v.String(), T: v.T}
	switch v.Inv {
	case model.NoForeignStream:
		b.s.Steps = ex.inc.streamChain(ref, v, &b.s)
	case model.NoForeignRead:
		b.s.Steps = ex.inc.readChain(ref, v, &b.s)
	default:
		b.s.Steps = ex.chain(ref, v, &b.s)
	}
	ex.built[bk] = b
	ex.list = append(ex.list, b)
}

// quiet explains silent losses found when the trace ended.
func (ex *explainer) quiet(vs []model.Violation) {
	for i := range vs {
		if len(ex.list) >= ex.want {
			return
		}
		v := &vs[i]
		b := &storyB{ev: evKey(v.Device, v.Seq), acct: model.NoAccount}
		b.s = traces.Story{Invariant: v.Inv.String(), Violation: v.String(), T: v.T}
		if c := ex.caps[b.ev]; c != nil {
			b.s.Steps = append(b.s.Steps, describe(c.capture, "the camera saw motion"))
			if c.hasUpload {
				b.s.Steps = append(b.s.Steps, describe(c.upload, ""))
			}
		}
		b.s.Steps = append(b.s.Steps, traces.Step{T: v.T, From: "engine", Kind: "end", Violation: true,
			What:    fmt.Sprintf("the run ends quiet; event %d/%d never reached all of %v", v.Device, v.Seq, v.Authorized),
			Because: "no delivery, refusal or recorded loss (drop) accounts for it"})
		ex.list = append(ex.list, b)
	}
}

func (ex *explainer) stories() []traces.Story {
	var out []traces.Story
	for _, b := range ex.list {
		out = append(out, b.s)
	}
	slices.SortStableFunc(out, func(a, b traces.Story) int {
		switch {
		case a.T < b.T:
			return -1
		case a.T > b.T:
			return 1
		}
		return 0
	})
	return out
}

// chain builds the steps of a foreign delivery or view, oldest first.
func (ex *explainer) chain(ref lineRef, v *model.Violation, s *traces.Story) []traces.Step {
	k := evKey(v.Device, v.Seq)
	var steps []traces.Step
	add := func(st traces.Step) { steps = append(steps, st) }
	p := ex.prov[k]
	worker := ""
	if p != nil {
		worker = p.lookup.o.Actor.String()
	}
	if ex.lastGW != nil && ex.lastGW.o.Fault.Kind == model.FaultGatewayUp && ex.lastGW.t <= ref.t {
		add(describe(*ex.lastGW, "the outage ended: every camera reconnects at once and uploads what it buffered (the reconnect storm)"))
	}
	if c := ex.caps[k]; c != nil {
		add(describe(c.capture, fmt.Sprintf("motion in front of camera %d, owned by %v", v.Device, v.Authorized)))
		if c.hasUpload {
			st := describe(c.upload, "")
			if worker != "" {
				st.To = worker
			}
			if !ex.untimed && c.upload.t > c.capture.t+model.Time(time.Minute) {
				st.Because = fmt.Sprintf("the camera held the event %v while it could not reach the cloud", dur(c.upload.t-c.capture.t))
			}
			add(st)
		}
	}
	if p != nil {
		ex.provSteps(p, v, s, add)
	}
	joined := ex.inc.notifySteps(k, v, s, add)
	st := describe(ref, "")
	st.Violation = true
	if ref.o.Kind == model.ObsDeliver && worker != "" {
		st.From = worker
	}
	if ref.o.Kind == model.ObsDeliver && joined {
		st.From = "notifier"
	}
	switch v.Inv {
	case model.NoForeignDelivery:
		switch {
		case v.NeverCaptured:
			st.Because = "no camera ever captured this event"
		case joined:
			st.Because = fmt.Sprintf("the notifier pushes to the accounts its join produced; account %d does not own camera %d (owners %v)", v.Account, v.Device, v.Authorized)
		default:
			st.Because = fmt.Sprintf("the worker pushes to the accounts the lookup named; account %d does not own camera %d (owners %v)", v.Account, v.Device, v.Authorized)
		}
	case model.NoForeignView:
		st.Because = fmt.Sprintf("account %d received a thumbnail it should not have, tapped it, and the store served the %s", v.Account, v.View)
	case model.AtMostOnce:
		st.Because = "the same event was pushed to this account before"
	}
	add(st)
	// Trace order is time order (and, at equal times, causal order).
	slices.SortStableFunc(steps, func(a, b traces.Step) int { return cmpLine(a.Line, b.Line) })
	return steps
}

func cmpLine(a, b int) int {
	switch {
	case a == b:
		return 0
	case a == 0:
		return 1
	case b == 0:
		return -1
	case a < b:
		return -1
	}
	return 1
}

func (ex *explainer) provSteps(p *provenance, v *model.Violation, s *traces.Story, add func(traces.Step)) {
	w := p.lookup.o.Actor.String()
	lk := &p.lookup.o
	if p.mis != nil && p.mis.elsewhere && p.ret != nil {
		r := &p.ret.o
		if c := p.mis.culprit; c != nil {
			co := &c.call.o
			add(describe(c.call, fmt.Sprintf("an earlier lookup asks the cache for device %d", co.Key)))
			if c.ret.o.Outcome == model.OutTimeout {
				add(describe(c.ret, fmt.Sprintf("no reply within the client's deadline%s: the call gives up, and its reply is still on its way", ex.span(c.ret.t-c.call.t))))
				s.Headline = fmt.Sprintf("On %s, request tok %d (GET %d) timed out; request tok %d (GET %d) then read a reply holding device %d's value, the late reply of a GET of %d, so event %d/%d went to account(s) %v instead of %v.",
					w, co.Token, co.Key, lk.Token, lk.Device, r.Val.Device, r.Val.Device, v.Device, v.Seq, lk.Owners, v.Authorized)
			} else {
				add(describe(c.ret, "this call did not read its own reply: that reply is still to come, for whichever request reads next"))
				s.Headline = fmt.Sprintf("On %s, request tok %d (GET %d) did not read its own reply; request tok %d (GET %d) then read a reply holding device %d's value, the reply of a GET of %d, so event %d/%d went to account(s) %v instead of %v.",
					w, co.Token, co.Key, lk.Token, lk.Device, r.Val.Device, r.Val.Device, v.Device, v.Seq, lk.Owners, v.Authorized)
			}
		} else {
			s.Headline = fmt.Sprintf("On %s, request tok %d (GET %d) read a reply holding device %d's value, another request's reply, so event %d/%d went to account(s) %v instead of %v.",
				w, lk.Token, lk.Device, r.Val.Device, v.Device, v.Seq, lk.Owners, v.Authorized)
		}
	} else if p.mis != nil && p.mis.culprit != nil {
		c := p.mis.culprit
		co := &c.call.o
		root := c
		if c.root != nil {
			// The culprit itself read an older reply: start from the
			// timeout that put the connection out of step.
			root = c.root
			ro := &root.call.o
			add(describe(root.call, fmt.Sprintf("a lookup (device %d) takes pooled connection %d", ro.Key, ro.Conn)))
			if root.hasRet {
				add(describe(root.ret, fmt.Sprintf("no reply within the client's deadline%s; the naive pool puts connection %d back with the reply still coming, and from now on each read on it returns the reply of the request before", ex.span(root.ret.t-root.call.t), ro.Conn)))
			}
		}
		add(describe(c.call, fmt.Sprintf("an earlier lookup (device %d) takes pooled connection %d", co.Key, co.Conn)))
		if c.hasRet {
			switch r := &c.ret.o; {
			case r.Outcome == model.OutTimeout:
				add(describe(c.ret, fmt.Sprintf("no reply within the client's deadline%s; the naive pool puts connection %d back with the reply still coming", ex.span(c.ret.t-c.call.t), co.Conn)))
			case r.ReplyOf != 0 && r.ReplyOf != r.Token:
				add(describe(c.ret, fmt.Sprintf("the connection is out of step: this read returns tok %d's reply, and tok %d's own reply is still to come", r.ReplyOf, r.Token)))
			default:
				add(describe(c.ret, ""))
			}
		}
		if c.hasServe {
			why := fmt.Sprintf("the cache answers request tok %d%s, too late for its caller; the reply goes to whoever reads connection %d next", co.Token, ex.afterSent(c.serve.t-c.call.t), co.Conn)
			if c.hasRet && c.ret.o.Outcome != model.OutTimeout {
				why = fmt.Sprintf("the cache answers request tok %d, but its caller has already gone with another reply; this one goes to whoever reads connection %d next", co.Token, co.Conn)
			}
			st := describe(c.serve, why)
			add(st)
		}
		if root == c {
			s.Headline = fmt.Sprintf("On %s's cache connection %d (gen %d), request tok %d (GET %d) timed out; its late reply was read by request tok %d (GET %d), so event %d/%d went to account(s) %v instead of %v.",
				w, co.Conn, co.Gen, co.Token, co.Key, lk.Token, lk.Device, v.Device, v.Seq, lk.Owners, v.Authorized)
		} else {
			ro := &root.call.o
			s.Headline = fmt.Sprintf("On %s's cache connection %d (gen %d), request tok %d (GET %d) timed out, leaving the connection a reply behind; request tok %d (GET %d) then read the late reply of tok %d (GET %d), so event %d/%d went to account(s) %v instead of %v.",
				w, co.Conn, co.Gen, ro.Token, ro.Key, lk.Token, lk.Device, co.Token, co.Key, v.Device, v.Seq, lk.Owners, v.Authorized)
		}
	}
	if p.call != nil {
		why := fmt.Sprintf("the lookup of event %d/%d takes connection %d, the one with the unread reply", lk.Device, lk.Seq, p.call.o.Conn)
		if p.mis.elsewhere {
			why = fmt.Sprintf("the lookup of event %d/%d asks the cache for device %d", lk.Device, lk.Seq, lk.Device)
		}
		add(describe(*p.call, why))
	}
	if p.ret != nil {
		r := &p.ret.o
		because := ""
		switch {
		case p.mis != nil:
			because = fmt.Sprintf("the read returns the first reply waiting on the connection: tok %d's (device %d), not tok %d's", r.ReplyOf, r.ReplyKey, r.Token)
			if r.ReplyOf == 0 {
				because = fmt.Sprintf("the read returns the first reply waiting on the connection, whose value names device %d", r.Val.Device)
			}
			if p.mis.elsewhere {
				because = fmt.Sprintf("the reply names device %d, not device %d asked for: the client read another request's reply", r.Val.Device, r.Key)
			}
		case p.transfer != nil:
			because = fmt.Sprintf("the cached owners are from before the ownership change (value version %d)", r.Val.Version)
		}
		add(describe(*p.ret, because))
	}
	if p.mis == nil && p.lastSet != nil && p.lastSet.t <= p.lookup.t {
		add(describe(*p.lastSet, "the value the lookup read was written here"))
	}
	if p.regRet != nil {
		add(describe(*p.regRet, ""))
	}
	if p.transfer != nil && p.mis == nil {
		add(describe(*p.transfer, "ownership changed"))
	}
	because := "the worker takes the cached owners as the event's recipients"
	if lk.Outcome == model.OutRegistry {
		because = "the worker takes the registry's answer as the event's recipients"
	}
	add(describe(p.lookup, because))
}

// track records a followed event's lines.
func (ex *explainer) track(ref lineRef) {
	o := &ref.o
	switch o.Kind {
	case model.ObsCapture, model.ObsDrop, model.ObsUpload, model.ObsLookup, model.ObsStore, model.ObsDeliver,
		model.ObsRefused, model.ObsTap, model.ObsView, model.ObsViewRefused, model.ObsNotify:
	default:
		return
	}
	e, ok := ex.follow[evKey(o.Device, o.Seq)]
	if !ok || len(ex.followed[e]) >= 50 {
		return
	}
	if o.Kind == model.ObsLookup {
		// The cache's answer that decided the lookup: the last reply this
		// worker read for the device.
		if r, ok := ex.followRet[[2]uint32{o.Actor.Index, uint32(o.Device)}]; ok {
			ex.followed[e] = append(ex.followed[e], describe(r, ""))
		}
		ex.followWorker[e] = o.Actor.String()
	}
	st := describe(ref, "")
	if o.Kind == model.ObsDeliver && ex.followWorker[e] != "" {
		st.From = ex.followWorker[e]
	}
	if (o.Kind == model.ObsDeliver || o.Kind == model.ObsView) && !ex.mon.Authorized(o.Device, o.Seq, o.Account) {
		st.Violation = true
	}
	ex.followed[e] = append(ex.followed[e], st)
}

func (ex *explainer) followedSteps() map[model.EventRef][]traces.Step { return ex.followed }

// span is " (d)" for a timed trace and nothing for the explorer's.
func (ex *explainer) span(t model.Time) string {
	if ex.untimed {
		return ""
	}
	return fmt.Sprintf(" (%v)", dur(t))
}

// afterSent is " d after it was sent" for a timed trace.
func (ex *explainer) afterSent(t model.Time) string {
	if ex.untimed {
		return ""
	}
	return fmt.Sprintf(" %v after it was sent", dur(t))
}

func dur(t model.Time) time.Duration {
	d := time.Duration(t)
	switch {
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond / 10)
}

// describe turns a trace line into a step.
func describe(r lineRef, because string) traces.Step {
	o := &r.o
	st := traces.Step{T: r.t, Line: r.line, From: o.Actor.String(), Kind: o.Kind.String(), Because: because}
	ev := fmt.Sprintf("%d/%d", o.Device, o.Seq)
	switch o.Kind {
	case model.ObsCapture:
		st.What = "captures event " + ev
		if o.Flag {
			st.What += " (with a 12 s clip)"
		}
	case model.ObsUpload:
		st.To = "gateway"
		st.What = "uploads event " + ev
		if o.Gen > 0 {
			st.What += fmt.Sprintf(" (resend %d)", o.Gen)
		}
	case model.ObsDrop:
		st.What = fmt.Sprintf("drops event %s (%s)", ev, o.Reason)
	case model.ObsCacheCall:
		st.To = "cache"
		st.What = fmt.Sprintf("%s %d on conn %d (gen %d), request tok %d", o.Op.Command(), o.Key, o.Conn, o.Gen, o.Token)
	case model.ObsCacheServe:
		st.From, st.To = "cache", o.Peer.String()
		res := "miss"
		switch {
		case o.Op == model.OpGet && o.Flag:
			res = "hit " + valString(o.Val)
		case o.Op != model.OpGet && o.Flag:
			res = "stored"
		case o.Op != model.OpGet:
			res = "not stored"
		}
		st.What = fmt.Sprintf("answers tok %d (%s %d) on conn %d: %s", o.Token, o.Op.Command(), o.Key, o.Conn, res)
	case model.ObsCacheRet:
		switch o.Outcome {
		case model.OutTimeout:
			st.What = fmt.Sprintf("request tok %d (%s %d) on conn %d times out", o.Token, o.Op.Command(), o.Key, o.Conn)
		case model.OutHit:
			st.What = fmt.Sprintf("request tok %d (%s %d) reads hit %s", o.Token, o.Op.Command(), o.Key, valString(o.Val))
		default:
			st.What = fmt.Sprintf("request tok %d (%s %d) on conn %d: %s", o.Token, o.Op.Command(), o.Key, o.Conn, o.Outcome)
		}
		if o.ReplyOf != 0 && o.ReplyOf != o.Token {
			st.What += fmt.Sprintf(" — the reply of tok %d (key %d)", o.ReplyOf, o.ReplyKey)
		}
		if o.Reason != model.ReasonNone && o.Outcome != model.OutTimeout {
			st.What += fmt.Sprintf(" (%s)", o.Reason)
		}
	case model.ObsCacheClose:
		st.What = fmt.Sprintf("closes conn %d gen %d (%s)", o.Conn, o.Gen, o.Reason)
	case model.ObsRegCall:
		st.To = "registry"
		st.What = fmt.Sprintf("asks the registry for device %d's owners", o.Key)
	case model.ObsRegRet:
		st.From, st.To = "registry", o.Actor.String()
		st.What = fmt.Sprintf("device %d is owned by %v (version %d)", o.Key, o.Owners, o.Version)
	case model.ObsLookup:
		src := "the cache"
		if o.Outcome == model.OutRegistry {
			src = "the registry"
		}
		st.What = fmt.Sprintf("resolves event %s's recipients to %v from %s", ev, o.Owners, src)
		if o.Reason == model.ReasonKeyMismatch {
			st.What = fmt.Sprintf("rejects the cached value for event %s: it names device %d (key-in-value)", ev, o.Val.Device)
		}
	case model.ObsStore:
		st.From, st.To = "store", ""
		st.What = "stores event " + ev
		if o.Flag {
			st.What += " (duplicate)"
		}
	case model.ObsDeliver:
		st.From, st.To = "worker", o.Actor.String()
		st.What = fmt.Sprintf("thumbnail of event %s pushed to account %d", ev, o.Account)
	case model.ObsRefused:
		st.What = fmt.Sprintf("refuses to push event %s to account %d (%s)", ev, o.Account, o.Reason)
	case model.ObsTap:
		st.To = "store"
		st.What = fmt.Sprintf("account %d taps the thumbnail of %s, asking for the %s", o.Account, ev, o.View)
	case model.ObsView:
		st.To = fmt.Sprintf("acct%d", o.Account)
		if o.Account == model.NoAccount {
			st.To = "anonymous"
		}
		st.What = fmt.Sprintf("serves the %s of event %s to account %d", o.View, ev, o.Account)
	case model.ObsViewRefused:
		st.To = fmt.Sprintf("acct%d", o.Account)
		st.What = fmt.Sprintf("refuses the %s of event %s to account %d (%s)", o.View, ev, o.Account, o.Reason)
	case model.ObsOwn:
		st.What = fmt.Sprintf("device %d is owned by %v from now (version %d)", o.Device, o.Owners, o.Version)
	case model.ObsFault:
		st.What = o.Fault.Kind.String()
		switch o.Fault.Kind {
		case model.FaultGatewayUp:
			st.What = "the gateway comes back up"
		case model.FaultGatewayDown:
			st.What = "the gateway goes down (outage)"
		case model.FaultTransfer:
			st.What = fmt.Sprintf("device %d is transferred to %v", o.Fault.Device, o.Fault.Owners)
		default:
			if w := describeIncidentFault(o); w != "" {
				st.What = w
			}
		}
	default:
		if describeIncident(&st, o) {
			break
		}
		st.What = o.Kind.String()
	}
	return st
}

func valString(v model.CacheValue) string {
	return fmt.Sprintf("{dev %d, owners %v, v%d}", v.Device, v.Owners, v.Version)
}
