package statespace

import (
	"bytes"
	"errors"
	"slices"

	"github.com/stormproof/stormproof/model"
)

// The canonical encoding of a state. Three reductions make it canonical:
//
//   - Numbers that are only ever compared for equality and only grow (a
//     camera's connect attempt number, a cache connection's generation and
//     request tokens) are replaced by their rank among the values still in
//     the state, so "attempt 7 with nothing in flight" and "attempt 2 with
//     nothing in flight" are one state. Token 0 (none yet) stays 0.
//   - Fields the model never reads in the state at hand are left out (the
//     stale request of a connection that is not busy, the generation of an
//     upload, the epoch of a dialing connection, the sequence number of an
//     event not in flight).
//   - Symmetry: the state is encoded under every automorphism of the
//     configuration and the least encoding is the canonical one.
//
// Every value is an unsigned varint; the layout is fixed by the layout and
// by counts written before lists, so a prefix never parses as another state.

var errCorrupt = errors.New("explore: malformed state encoding")

// ranker maps the values of one equality-only counter to their ranks.
type ranker struct{ vals []uint32 }

func (r *ranker) reset()       { r.vals = r.vals[:0] }
func (r *ranker) add(v uint32) { r.vals = append(r.vals, v) }
func (r *ranker) done()        { slices.Sort(r.vals); r.vals = slices.Compact(r.vals) }
func (r *ranker) rank(v uint32) uint32 {
	for i, x := range r.vals {
		if x == v {
			return uint32(i)
		}
	}
	panic("explore: value missing from its ranker")
}

// tokRank ranks tokens with 0 kept as 0.
func (r *ranker) tokRank(v uint32) uint32 {
	if v == 0 {
		return 0
	}
	rk := r.rank(v)
	if r.vals[0] == 0 {
		return rk
	}
	return rk + 1
}

type encoder struct {
	l *layout
	// The rankers of the state being encoded, per camera and per
	// worker*pool+conn: each points into own, or into base when what it
	// ranks is as in the base state.
	camGen, conGen, conTok []*ranker
	own, base              rankSet
	p                      *perm
	filled                 uint64 // the state's non-empty channels (mstate.filled)
	// Early exit: when bound is set, encode compares what it wrote with
	// bound at section ends and gives up (returns nil) as soon as its
	// encoding is known to be greater.
	bound   []byte
	checked int
	less    bool
}

// rankSet holds the rankers of one state.
type rankSet struct{ cam, gen, tok []ranker }

func newRankSet(l *layout) rankSet {
	return rankSet{cam: make([]ranker, l.nCam), gen: make([]ranker, l.nW*l.pool), tok: make([]ranker, l.nW*l.pool)}
}

// over reports whether the encoding so far, b, is already greater than bound.
func (e *encoder) over(b []byte) bool {
	if e.bound == nil || e.less {
		return false
	}
	n := len(b)
	m := min(n, len(e.bound))
	c := bytes.Compare(b[e.checked:m], e.bound[e.checked:m])
	switch {
	case c < 0:
		e.less = true
		return false
	case c > 0 || (c == 0 && n > len(e.bound)):
		return true
	}
	e.checked = m
	return false
}

func newEncoder(l *layout) *encoder {
	n := l.nW * l.pool
	return &encoder{l: l, camGen: make([]*ranker, l.nCam), conGen: make([]*ranker, n), conTok: make([]*ranker, n),
		own: newRankSet(l), base: newRankSet(l)}
}

// ranks computes the rankers of st (they do not depend on the renaming).
func (e *encoder) ranks(st *mstate) {
	e.rankInto(&e.own, st)
	e.use(&e.own)
}

// baseRanks computes the rankers of base, a state whose changed copies
// rankChanged will rank.
func (e *encoder) baseRanks(base *mstate) { e.rankInto(&e.base, base) }

// rankChanged computes the rankers of st, a copy of the base state (of
// baseRanks) with the changes d: those whose values d leaves as they were
// are the base's.
func (e *encoder) rankChanged(st *mstate, d *dirty) {
	if d.all {
		e.ranks(st)
		return
	}
	l := e.l
	for c := range e.camGen {
		if !d.cam(l, c) {
			e.camGen[c] = &e.base.cam[c]
			continue
		}
		rankCam(&e.own.cam[c], st, l, c)
		e.camGen[c] = &e.own.cam[c]
	}
	for k := range e.conGen {
		if !d.conn(l, k) {
			e.conGen[k], e.conTok[k] = &e.base.gen[k], &e.base.tok[k]
			continue
		}
		rankConn(&e.own.gen[k], &e.own.tok[k], st, l, k)
		e.conGen[k], e.conTok[k] = &e.own.gen[k], &e.own.tok[k]
	}
}

func (e *encoder) use(rs *rankSet) {
	for c := range e.camGen {
		e.camGen[c] = &rs.cam[c]
	}
	for k := range e.conGen {
		e.conGen[k], e.conTok[k] = &rs.gen[k], &rs.tok[k]
	}
}

func (e *encoder) rankInto(rs *rankSet, st *mstate) {
	for c := range rs.cam {
		rankCam(&rs.cam[c], st, e.l, c)
	}
	for k := range rs.gen {
		rankConn(&rs.gen[k], &rs.tok[k], st, e.l, k)
	}
}

// rankCam ranks camera d's connect attempt numbers: its own and those of
// the messages on its channels.
func rankCam(r *ranker, st *mstate, l *layout, d int) {
	r.reset()
	r.add(st.w.Cameras[d].Gen)
	for _, m := range st.ch[l.camUp+d] {
		if m.Type == model.MsgConnect {
			r.add(m.Gen)
		}
	}
	for _, m := range st.ch[l.camDown+d] {
		if m.Type == model.MsgAccept || m.Type == model.MsgReject {
			r.add(m.Gen)
		}
	}
	r.done()
}

// rankConn ranks cache connection k's generations (g) and request tokens
// (t): the connection's, its channels' and the cache queue's.
func rankConn(g, t *ranker, st *mstate, l *layout, k int) {
	g.reset()
	t.reset()
	conn := &st.w.Workers[k/l.pool].Conns[k%l.pool]
	g.add(conn.Gen)
	t.add(conn.Token)
	if conn.State == model.ConnBusy {
		t.add(conn.Active.Req.Token)
	}
	for _, r := range conn.Unread {
		t.add(r.Token)
	}
	for _, m := range st.ch[l.wToCache+k] {
		g.add(m.Gen)
		if m.Type == model.MsgCacheReq {
			t.add(m.Req.Token)
		}
	}
	for _, m := range st.ch[l.cacheToW+k] {
		g.add(m.Gen)
		if m.Type == model.MsgCacheReply {
			t.add(m.Reply.Token)
		}
	}
	for _, q := range st.w.Cache.Queue {
		if int(q.From.Index)*l.pool+int(q.Conn) == k {
			g.add(q.Gen)
			t.add(q.Req.Token)
		}
	}
	g.done()
	t.done()
}

func (e *encoder) uv(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func (e *encoder) u(b []byte, v uint32) []byte {
	if v < 0x80 {
		return append(b, byte(v))
	}
	return e.uv(b, uint64(v))
}

func (e *encoder) flag(b []byte, v bool) []byte { return append(b, boolByte(v)) }

func (e *encoder) dev(b []byte, d model.DeviceID) []byte {
	if int(d) < len(e.p.camNew) {
		d = model.DeviceID(e.p.camNew[d])
	}
	return e.u(b, uint32(d))
}

func (e *encoder) acct(b []byte, a model.AccountID) []byte {
	if a != model.NoAccount && int(a) < len(e.p.acctNew) {
		a = e.p.acctNew[a]
	}
	return e.uv(b, uint64(a))
}

func (e *encoder) owners(b []byte, o model.Owners) []byte {
	b = append(b, o.N)
	for _, a := range o.IDs[:o.N] {
		b = e.acct(b, a)
	}
	return b
}

func (e *encoder) ev(b []byte, ev model.EventRef) []byte {
	b = e.dev(b, ev.Device)
	b = e.u(b, ev.Seq)
	b = e.flag(b, ev.Video)
	return e.owners(b, ev.Stamp)
}

func (e *encoder) val(b []byte, v model.CacheValue) []byte {
	b = e.dev(b, v.Device)
	b = e.owners(b, v.Owners)
	return e.u(b, v.Version)
}

func (e *encoder) req(b []byte, r *model.CacheReq, tok *ranker) []byte {
	b = append(b, byte(r.Op))
	b = e.dev(b, r.Key)
	if r.Op == model.OpSet {
		b = e.val(b, r.Val)
	}
	return e.u(b, tok.tokRank(r.Token))
}

func (e *encoder) reply(b []byte, r *model.CacheReply, tok *ranker) []byte {
	b = append(b, byte(r.Op))
	b = e.dev(b, r.Key)
	b = e.u(b, tok.tokRank(r.Token))
	b = e.flag(b, r.Found)
	if r.Found && r.Op == model.OpGet {
		b = e.val(b, r.Val)
	}
	return b
}

func (e *encoder) pending(b []byte, pr *model.PendingReq, tok *ranker) []byte {
	b = e.req(b, &pr.Req, tok)
	b = e.u(b, pr.Slot)
	return e.flag(b, pr.HasSlot)
}

// msg writes one message of channel ch; conn is its lane's ranker index.
func (e *encoder) msg(b []byte, m *model.Msg, ch int) []byte {
	l := e.l
	b = append(b, byte(m.Type))
	switch m.Type {
	case model.MsgConnect:
		b = e.u(b, e.camGen[ch-l.camUp].rank(m.Gen))
	case model.MsgAccept, model.MsgReject:
		b = e.u(b, e.camGen[ch-l.camDown].rank(m.Gen))
	case model.MsgUpload, model.MsgPut:
		b = e.ev(b, m.Ev)
		b = e.u(b, m.Slot)
	case model.MsgAck:
		b = e.dev(b, m.Ev.Device)
		b = e.u(b, m.Ev.Seq)
	case model.MsgCacheDial, model.MsgCacheDialOK, model.MsgCacheReq, model.MsgCacheReply, model.MsgCacheReset:
		k := ch - l.wToCache
		if ch >= l.cacheToW {
			k = ch - l.cacheToW
		}
		b = e.u(b, e.conGen[k].rank(m.Gen))
		switch m.Type {
		case model.MsgCacheDialOK:
			b = e.u(b, m.Epoch)
		case model.MsgCacheReq:
			b = e.u(b, m.Epoch)
			b = e.req(b, &m.Req, e.conTok[k])
		case model.MsgCacheReply:
			b = e.reply(b, &m.Reply, e.conTok[k])
		}
	case model.MsgCacheInvalidate:
		b = e.dev(b, m.Req.Key)
		b = e.u(b, m.Req.Val.Version)
	case model.MsgRegRead:
		b = e.u(b, m.Slot)
		b = e.dev(b, m.Ev.Device)
	case model.MsgRegReply:
		b = e.u(b, m.Slot)
		b = e.owners(b, m.Owners)
		b = e.u(b, m.Version)
	case model.MsgPutReply:
		b = e.u(b, m.Slot)
		b = e.flag(b, m.Flag)
	case model.MsgPush:
		b = e.ev(b, m.Ev)
	case model.MsgView, model.MsgViewCheck, model.MsgViewCheckReply:
		b = e.ev(b, m.Ev)
		b = e.acct(b, m.Account)
		b = append(b, byte(m.View))
		b = e.flag(b, m.Flag)
		if m.View == model.ViewLive {
			b = e.u(b, m.Slot) // the web session a live check is for
		}
	case model.MsgWebPageReq:
		b = e.acct(b, m.Account)
		b = e.u(b, m.Slot)
		b = e.flag(b, m.Flag)
	case model.MsgWebPage:
		b = e.acct(b, m.Account)
		b = e.u(b, m.Slot)
		b = e.flag(b, m.Flag)
		b = e.dev(b, m.Ev.Device)
		b = e.owners(b, m.Ev.Stamp)
	case model.MsgNotify:
		b = e.ev(b, m.Ev)
		b = e.owners(b, m.Owners)
	case model.MsgReplicaRead:
		b = e.u(b, m.Slot)
		b = e.acct(b, m.Account)
	case model.MsgReplicaReply:
		b = e.u(b, m.Slot)
		b = e.flag(b, m.Flag)
	default:
		panic("explore: cannot encode message " + m.Type.String())
	}
	return b
}

// parts appends the budgets of the other incidents' faults and their
// actors' states, for the parts the configuration has (nothing otherwise,
// so a 2024 configuration's encoding does not depend on the other
// incidents' actors).
func (e *encoder) parts(b []byte, st *mstate) []byte {
	l := e.l
	pt := l.parts
	if !pt.web && !pt.notifier && !pt.replica {
		return b
	}
	bd := &st.bud
	for i, on := range [numWindows]bool{pt.web, pt.notifier, pt.replica} {
		if on {
			b = append(b, bd.windows[i].left, boolByte(bd.windows[i].open))
		}
	}
	w := &st.w
	if pt.web {
		for a := 0; a < l.nAcct; a++ {
			b = append(b, bd.logins[e.p.acctOrder[a]])
		}
		we := &w.Web
		b = append(b, boolByte(we.Shared)|boolByte(we.Entry.Present)<<1|byte(st.timers>>uint(l.webTimer)&1)<<2)
		if we.Entry.Present {
			b = e.acct(b, we.Entry.For)
			b = e.ev(b, we.Entry.Page)
		}
	}
	if pt.notifier {
		b = e.flag(b, w.Notifier.Defect)
		b = e.owners(b, w.Notifier.Last)
	}
	if pt.replica {
		b = e.flag(b, w.Replica.Open)
		b = e.u(b, w.Replica.Anon)
		r := &w.Reader
		b = append(b, byte(r.State)|byte(st.timers>>uint(l.readerTimer)&1)<<2)
		b = e.u(b, r.Next)
		b = e.u(b, r.Probes)
	}
	return b
}

// encode appends the world, channels, timers and budgets of st under p
// (ranks must be computed). The monitor is appended by the caller.
func (e *encoder) encode(b []byte, st *mstate, p *perm, bound []byte) []byte {
	e.p = p
	e.bound, e.checked, e.less = bound, 0, false
	b = e.header(b, st)
	for i := 0; i < e.l.nCam; i++ {
		if e.over(b) {
			return nil
		}
		b = e.camera(b, st, p.camOrder[i])
	}
	b = e.flag(b, st.w.Store.TabOff)
	if e.over(b) {
		return nil
	}
	for wi := range st.w.Workers {
		b = e.worker(b, st, wi)
	}
	b = e.parts(b, st)
	if e.over(b) {
		return nil
	}
	return e.channels(b, st)
}

// encodeChanged appends the identity encoding of st, a copy of the base
// state with the changes d (ranks computed by rankChanged). base is the
// base state's encoding, and cam and wk say where its sections lie (as
// decode found them): the sections of the cameras and workers d leaves
// as they were are copied from it instead of encoded again.
func (e *encoder) encodeChanged(b []byte, st *mstate, id *perm, base []byte, cam, wk []int, d *dirty) []byte {
	e.p = id
	e.bound = nil
	l := e.l
	b = e.header(b, st)
	// A camera's section holds its registry, cache and store entries too.
	shared := d.kind(model.KindRegistry) || d.kind(model.KindCache) || d.kind(model.KindStore)
	for c := 0; c < l.nCam; c++ {
		if shared || d.cam(l, c) {
			b = e.camera(b, st, model.DeviceID(c))
		} else {
			b = append(b, base[cam[c]:cam[c+1]]...)
		}
	}
	b = e.flag(b, st.w.Store.TabOff)
	for wi := range st.w.Workers {
		// A worker's section is its own state and its connections' (ranked).
		clean := d.workers&(1<<wi) == 0
		for k := wi * l.pool; clean && k < (wi+1)*l.pool; k++ {
			clean = !d.conn(l, k)
		}
		if clean {
			b = append(b, base[wk[wi]:wk[wi+1]]...)
		} else {
			b = e.worker(b, st, wi)
		}
	}
	b = e.parts(b, st)
	return e.channels(b, st)
}

// header appends the budgets, the gateway and the cache's own state.
func (e *encoder) header(b []byte, st *mstate) []byte {
	l := e.l
	w := &st.w
	bd := &st.bud
	b = append(b, bd.outages, bd.restarts, byte(bd.transfers), byte(bd.transfers>>8), boolByte(bd.tabOff))
	b = append(b, bd.premature[:]...)
	g := &w.Gateway
	b = e.flag(b, g.Down)
	b = e.flag(b, g.Refilling)
	b = e.u(b, uint32(g.Tokens))
	c := &w.Cache
	b = append(b, boolByte(c.Down)|boolByte(c.Busy)<<1|byte(st.timers>>(3*l.nCam+1)&1)<<2|byte(st.timers>>(3*l.nCam)&1)<<3)
	b = e.u(b, c.Epoch)
	b = e.u(b, uint32(len(c.Queue)))
	for i := range c.Queue {
		q := &c.Queue[i]
		k := int(q.From.Index)*l.pool + int(q.Conn)
		b = e.u(b, q.From.Index)
		b = e.u(b, uint32(q.Conn))
		b = e.u(b, e.conGen[k].rank(q.Gen))
		b = e.req(b, &q.Req, e.conTok[k])
	}
	return b
}

// camera appends camera d's section: the camera, and its registry, cache
// and store entries.
func (e *encoder) camera(b []byte, st *mstate, d model.DeviceID) []byte {
	w := &st.w
	cam := &w.Cameras[d]
	b = append(b, byte(cam.State), cam.Attempt,
		boolByte(cam.Capturing)|boolByte(cam.Inflight)<<1|byte(st.timers>>(3*uint(d))&7)<<2)
	b = e.u(b, e.camGen[d].rank(cam.Gen))
	if cam.Inflight {
		b = e.u(b, cam.InflightSeq)
		b = append(b, cam.Retries)
	}
	b = e.u(b, cam.BufLo)
	b = e.u(b, cam.Next)
	b = e.owners(b, cam.Stamp)
	b = e.owners(b, w.Registry.Owners[d])
	b = e.u(b, w.Registry.Version[d])
	ce := &w.Cache.Data[d]
	b = e.flag(b, ce.Present)
	if ce.Present {
		b = e.val(b, ce.Val)
	}
	b = e.u(b, ce.Tomb)
	return e.u(b, w.Store.Next[d])
}

// worker appends worker wi's section.
func (e *encoder) worker(b []byte, st *mstate, wi int) []byte {
	l := e.l
	wk := &st.w.Workers[wi]
	b = e.flag(b, wk.TabOff)
	for ci := range wk.Conns {
		k := wi*l.pool + ci
		conn := &wk.Conns[ci]
		b = append(b, byte(conn.State)|byte(st.timers>>(3*l.nCam+2+k)&1)<<2)
		b = e.u(b, e.conGen[k].rank(conn.Gen))
		if conn.State != model.ConnDialing {
			b = e.u(b, conn.Epoch)
		}
		b = e.u(b, e.conTok[k].tokRank(conn.Token))
		if conn.State == model.ConnBusy {
			b = e.pending(b, &conn.Active, e.conTok[k])
		}
		b = e.u(b, uint32(len(conn.Unread)))
		for j := range conn.Unread {
			b = e.reply(b, &conn.Unread[j], e.conTok[k])
		}
	}
	b = e.u(b, uint32(len(wk.Waiting)))
	for j := range wk.Waiting {
		b = e.pending(b, &wk.Waiting[j], e.conTok[0]) // waiting requests have no token yet
	}
	b = e.u(b, uint32(len(wk.Slots)))
	for j := range wk.Slots {
		s := &wk.Slots[j]
		b = e.flag(b, s.Used)
		if s.Used {
			b = e.ev(b, s.Ev)
			b = e.owners(b, s.Owners)
		}
	}
	b = e.u(b, uint32(len(wk.Free)))
	for _, f := range wk.Free {
		b = e.u(b, f)
	}
	return b
}

// channels appends a mask of the non-empty channels (renamed by e.p), then
// each of those.
func (e *encoder) channels(b []byte, st *mstate) []byte {
	p := e.p
	mask := e.filled
	if !p.identity {
		mask = 0
		for m := e.filled; m != 0; m &= m - 1 {
			mask |= 1 << p.chPos[trailingZeros(m)]
		}
	}
	b = e.uv(b, mask)
	for m := mask; m != 0; m &= m - 1 {
		ch := int(p.chOf[trailingZeros(m)])
		b = e.u(b, uint32(len(st.ch[ch])))
		for j := range st.ch[ch] {
			b = e.msg(b, &st.ch[ch][j], ch)
		}
	}
	return b
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// decoder reads an encoding back into a concrete state (under the identity).
type decoder struct {
	l   *layout
	b   []byte
	bad bool
	// Where the last decoded state's camera and worker sections begin (and,
	// last, where the one after them does), as offsets into its encoding.
	cam, wk []int
}

func (d *decoder) u() uint32 {
	var v uint64
	for i, s := 0, uint(0); i < len(d.b) && i < 10; i, s = i+1, s+7 {
		c := d.b[i]
		if c < 0x80 {
			d.b = d.b[i+1:]
			return uint32(v | uint64(c)<<s)
		}
		v |= uint64(c&0x7f) << s
	}
	d.bad = true
	return 0
}

func (d *decoder) u64() uint64 {
	var v uint64
	for i, s := 0, uint(0); i < len(d.b) && i < 10; i, s = i+1, s+7 {
		c := d.b[i]
		if c < 0x80 {
			d.b = d.b[i+1:]
			return v | uint64(c)<<s
		}
		v |= uint64(c&0x7f) << s
	}
	d.bad = true
	return 0
}

func (d *decoder) byte1() byte {
	if len(d.b) == 0 {
		d.bad = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) flag() bool { return d.byte1() != 0 }

func (d *decoder) owners() model.Owners {
	var o model.Owners
	o.N = d.byte1()
	if o.N > model.MaxOwners {
		d.bad = true
		o.N = 0
	}
	for i := range o.IDs[:o.N] {
		o.IDs[i] = model.AccountID(d.u())
	}
	return o
}

func (d *decoder) ev() model.EventRef {
	return model.EventRef{Device: model.DeviceID(d.u()), Seq: d.u(), Video: d.flag(), Stamp: d.owners()}
}

func (d *decoder) val() model.CacheValue {
	return model.CacheValue{Device: model.DeviceID(d.u()), Owners: d.owners(), Version: d.u()}
}

func (d *decoder) req() model.CacheReq {
	r := model.CacheReq{Op: model.CacheOp(d.byte1()), Key: model.DeviceID(d.u())}
	if r.Op == model.OpSet {
		r.Val = d.val()
	}
	r.Token = d.u()
	return r
}

func (d *decoder) reply() model.CacheReply {
	r := model.CacheReply{Op: model.CacheOp(d.byte1()), Key: model.DeviceID(d.u()), Token: d.u(), Found: d.flag()}
	if r.Found && r.Op == model.OpGet {
		r.Val = d.val()
	}
	return r
}

func (d *decoder) pending() model.PendingReq {
	return model.PendingReq{Req: d.req(), Slot: d.u(), HasSlot: d.flag()}
}

func (d *decoder) msg(ch int) model.Msg {
	l := d.l
	def := &l.chans[ch]
	m := model.Msg{Type: model.MsgType(d.byte1()), From: def.from, Conn: def.lane}
	switch m.Type {
	case model.MsgConnect, model.MsgAccept, model.MsgReject, model.MsgCacheDial, model.MsgCacheReset:
		m.Gen = d.u()
	case model.MsgUpload, model.MsgPut:
		m.Ev = d.ev()
		m.Slot = d.u()
	case model.MsgAck:
		m.Ev.Device = model.DeviceID(d.u())
		m.Ev.Seq = d.u()
	case model.MsgCacheDialOK:
		m.Gen = d.u()
		m.Epoch = d.u()
	case model.MsgCacheReq:
		m.Gen = d.u()
		m.Epoch = d.u()
		m.Req = d.req()
	case model.MsgCacheReply:
		m.Gen = d.u()
		m.Reply = d.reply()
	case model.MsgCacheInvalidate:
		m.Req.Op = model.OpDel
		m.Req.Key = model.DeviceID(d.u())
		m.Req.Val.Device = m.Req.Key
		m.Req.Val.Version = d.u()
	case model.MsgRegRead:
		m.Slot = d.u()
		m.Ev.Device = model.DeviceID(d.u())
	case model.MsgRegReply:
		m.Slot = d.u()
		m.Owners = d.owners()
		m.Version = d.u()
	case model.MsgPutReply:
		m.Slot = d.u()
		m.Flag = d.flag()
	case model.MsgPush:
		m.Ev = d.ev()
	case model.MsgView, model.MsgViewCheck, model.MsgViewCheckReply:
		m.Ev = d.ev()
		m.Account = model.AccountID(d.u())
		m.View = model.ViewKind(d.byte1())
		m.Flag = d.flag()
		if m.View == model.ViewLive {
			m.Slot = d.u()
		}
	case model.MsgWebPageReq:
		m.Account = model.AccountID(d.u())
		m.Slot = d.u()
		m.Flag = d.flag()
	case model.MsgWebPage:
		m.Account = model.AccountID(d.u())
		m.Slot = d.u()
		m.Flag = d.flag()
		m.Ev.Device = model.DeviceID(d.u())
		m.Ev.Stamp = d.owners()
	case model.MsgNotify:
		m.Ev = d.ev()
		m.Owners = d.owners()
	case model.MsgReplicaRead:
		m.Slot = d.u()
		m.Account = model.AccountID(d.u())
	case model.MsgReplicaReply:
		m.Slot = d.u()
		m.Flag = d.flag()
	default:
		d.bad = true
	}
	return m
}

// parts reads what encoder.parts wrote.
func (d *decoder) parts(st *mstate) {
	l := d.l
	pt := l.parts
	if !pt.web && !pt.notifier && !pt.replica {
		return
	}
	bd := &st.bud
	for i, on := range [numWindows]bool{pt.web, pt.notifier, pt.replica} {
		if on {
			bd.windows[i].left = d.byte1()
			bd.windows[i].open = d.flag()
		}
	}
	w := &st.w
	if pt.web {
		for a := 0; a < l.nAcct; a++ {
			bd.logins[a] = d.byte1()
		}
		f := d.byte1()
		w.Web = model.Web{Shared: f&1 != 0}
		st.timers |= uint64(f>>2&1) << uint(l.webTimer)
		if f&2 != 0 {
			w.Web.Entry = model.WebEntry{Present: true, For: model.AccountID(d.u()), Page: d.ev()}
		}
	}
	if pt.notifier {
		w.Notifier = model.Notifier{Defect: d.flag(), Last: d.owners()}
	}
	if pt.replica {
		w.Replica = model.Replica{Open: d.flag(), Anon: d.u()}
		f := d.byte1()
		st.timers |= uint64(f>>2&1) << uint(l.readerTimer)
		w.Reader = model.Reader{State: model.ReaderState(f & 3), Next: d.u(), Probes: d.u()}
	}
}

// decode reads b into st and returns the rest (the monitor's encoding).
func (d *decoder) decode(b []byte, st *mstate) ([]byte, error) {
	d.b, d.bad = b, false
	l := d.l
	w := &st.w
	bd := &st.bud
	if len(d.b) < 5+NumPremature {
		return nil, errCorrupt
	}
	bd.outages, bd.restarts = d.b[0], d.b[1]
	bd.transfers = uint16(d.b[2]) | uint16(d.b[3])<<8
	bd.tabOff = d.b[4] != 0
	copy(bd.premature[:], d.b[5:])
	d.b = d.b[5+NumPremature:]
	st.timers = 0
	w.Gateway.Down = d.flag()
	w.Gateway.Refilling = d.flag()
	w.Gateway.Tokens = int32(d.u())
	cf := d.byte1()
	w.Cache.Down, w.Cache.Busy = cf&1 != 0, cf&2 != 0
	st.timers |= uint64(cf>>2&1)<<(3*l.nCam+1) | uint64(cf>>3&1)<<(3*l.nCam)
	w.Cache.Epoch = d.u()
	nq := int(d.u())
	if nq > len(d.b) {
		return nil, errCorrupt
	}
	q := st.queueBuf[:0]
	for i := 0; i < nq; i++ {
		from := model.WorkerAddr(int(d.u()))
		conn := uint16(d.u())
		gen := d.u()
		q = append(q, model.Queued{From: from, Conn: conn, Gen: gen, Req: d.req()})
	}
	st.queueBuf = q
	w.Cache.Queue = nil
	if nq > 0 {
		w.Cache.Queue = q
	}
	d.cam, d.wk = d.cam[:0], d.wk[:0]
	for i := 0; i < l.nCam; i++ {
		d.cam = append(d.cam, len(b)-len(d.b))
		cam := &w.Cameras[i]
		cam.State = model.CamState(d.byte1())
		cam.Attempt = d.byte1()
		f := d.byte1()
		cam.Capturing, cam.Inflight = f&1 != 0, f&2 != 0
		st.timers |= uint64(f>>2&7) << (3 * uint(i))
		cam.Gen = d.u()
		cam.InflightSeq, cam.Retries = 0, 0
		if cam.Inflight {
			cam.InflightSeq = d.u()
			cam.Retries = d.byte1()
		}
		cam.BufLo = d.u()
		cam.Next = d.u()
		cam.Stamp = d.owners()
		w.Registry.Owners[i] = d.owners()
		w.Registry.Version[i] = d.u()
		ce := &w.Cache.Data[i]
		*ce = model.CacheEntry{Present: d.flag()}
		if ce.Present {
			ce.Val = d.val()
		}
		ce.Tomb = d.u()
		w.Store.Next[i] = d.u()
	}
	d.cam = append(d.cam, len(b)-len(d.b))
	w.Store.TabOff = d.flag()
	for wi := range w.Workers {
		d.wk = append(d.wk, len(b)-len(d.b))
		wk := &w.Workers[wi]
		wk.TabOff = d.flag()
		for ci := range wk.Conns {
			k := wi*l.pool + ci
			conn := &wk.Conns[ci]
			f := d.byte1()
			*conn = model.PoolConn{State: model.ConnState(f & 3)}
			st.timers |= uint64(f>>2&1) << (3*l.nCam + 2 + k)
			conn.Gen = d.u()
			if conn.State != model.ConnDialing {
				conn.Epoch = d.u()
			}
			conn.Token = d.u()
			if conn.State == model.ConnBusy {
				conn.Active = d.pending()
			}
			nu := int(d.u())
			if nu > len(d.b) {
				return nil, errCorrupt
			}
			u := st.unreadBuf[k][:0]
			for j := 0; j < nu; j++ {
				u = append(u, d.reply())
			}
			st.unreadBuf[k] = u
			if nu > 0 {
				conn.Unread = u
			}
		}
		nw := int(d.u())
		if nw > len(d.b) {
			return nil, errCorrupt
		}
		wt := st.waitBuf[wi][:0]
		for j := 0; j < nw; j++ {
			wt = append(wt, d.pending())
		}
		st.waitBuf[wi] = wt
		wk.Waiting = nil
		if nw > 0 {
			wk.Waiting = wt
		}
		ns := int(d.u())
		if ns > len(d.b) {
			return nil, errCorrupt
		}
		sl := st.slotBuf[wi][:0]
		for j := 0; j < ns; j++ {
			var s model.Upload
			if s.Used = d.flag(); s.Used {
				s.Ev = d.ev()
				s.Owners = d.owners()
			}
			sl = append(sl, s)
		}
		st.slotBuf[wi] = sl
		wk.Slots = nil
		if ns > 0 {
			wk.Slots = sl
		}
		nf := int(d.u())
		if nf > len(d.b) {
			return nil, errCorrupt
		}
		fr := st.freeBuf[wi][:0]
		for j := 0; j < nf; j++ {
			fr = append(fr, d.u())
		}
		st.freeBuf[wi] = fr
		wk.Free = nil
		if nf > 0 {
			wk.Free = fr
		}
	}
	d.wk = append(d.wk, len(b)-len(d.b))
	d.parts(st)
	mask := d.u64()
	for i := 0; i < l.nChan; i++ {
		n := 0
		if mask&(1<<i) != 0 {
			n = int(d.u())
			if n == 0 || n > len(d.b) {
				return nil, errCorrupt
			}
		}
		c := st.chBuf[i][:0]
		for j := 0; j < n; j++ {
			c = append(c, d.msg(i))
		}
		st.chBuf[i] = c
		st.ch[i] = nil
		if n > 0 {
			st.ch[i] = c
		}
	}
	if d.bad {
		return nil, errCorrupt
	}
	return d.b, nil
}
