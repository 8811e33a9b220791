package statespace

import (
	"bytes"

	"github.com/stormproof/stormproof/model"
)

// The canonical encoding of a world's state. Each actor writes its own
// state (model.StateWriter: AppendState beside its type, with the model's
// rules for what is canonical); this file orders the sections and adds
// what is the state space's own:
//
//   - The budgets, the gateway and the cache's own state first; then one
//     section per camera that holds the camera and its device's registry,
//     cache and store records, so a renaming of cameras moves whole
//     sections; the store's own state; one section per worker; the other
//     incidents' actors; then the non-empty channels, each message written
//     by Msg.AppendState.
//   - The rankers of equality-only counters (model.Ranker) are filled from
//     everywhere a value lives: a camera's attempt numbers from the camera
//     and its channels, a cache connection's generations and tokens from
//     the connection, its lanes and the cache's queue.
//   - Symmetry: the state is encoded under every automorphism of the
//     configuration and the least encoding is the canonical one.
//
// Counts precede lists, so a prefix never parses as another state.

var errCorrupt = model.ErrStateCode

type encoder struct {
	l *layout
	// The rankers of the state being encoded, per camera and per
	// worker*pool+conn: each points into own, or into base when what it
	// ranks is as in the base state.
	camGen, conGen, conTok []*model.Ranker
	own, base              rankSet
	p                      *perm
	w                      model.StateWriter // p as a renaming of devices and accounts
	filled                 uint64            // the state's non-empty channels (mstate.filled)
	// Early exit: when bound is set, encode compares what it wrote with
	// bound at section ends and gives up (returns nil) as soon as its
	// encoding is known to be greater.
	bound   []byte
	checked int
	less    bool
}

// rankSet holds the rankers of one state.
type rankSet struct{ cam, gen, tok []model.Ranker }

func newRankSet(l *layout) rankSet {
	return rankSet{cam: make([]model.Ranker, l.nCam), gen: make([]model.Ranker, l.nW*l.pool), tok: make([]model.Ranker, l.nW*l.pool)}
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
	return &encoder{l: l, camGen: make([]*model.Ranker, l.nCam), conGen: make([]*model.Ranker, n), conTok: make([]*model.Ranker, n),
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
func rankCam(r *model.Ranker, st *mstate, l *layout, d int) {
	r.Reset()
	r.Add(st.w.Cameras[d].Gen)
	for _, m := range st.ch[l.camUp+d] {
		if m.Type == model.MsgConnect {
			r.Add(m.Gen)
		}
	}
	for _, m := range st.ch[l.camDown+d] {
		if m.Type == model.MsgAccept || m.Type == model.MsgReject {
			r.Add(m.Gen)
		}
	}
	r.Done()
}

// rankConn ranks cache connection k's generations (g) and request tokens
// (t): the connection's, its channels' and the cache queue's.
func rankConn(g, t *model.Ranker, st *mstate, l *layout, k int) {
	g.Reset()
	t.Reset()
	conn := &st.w.Workers[k/l.pool].Conns[k%l.pool]
	g.Add(conn.Gen)
	t.Add(conn.Token)
	if conn.State == model.ConnBusy {
		t.Add(conn.Active.Req.Token)
	}
	for _, r := range conn.Unread {
		t.Add(r.Token)
	}
	for _, m := range st.ch[l.wToCache+k] {
		g.Add(m.Gen)
		if m.Type == model.MsgCacheReq {
			t.Add(m.Req.Token)
		}
	}
	for _, m := range st.ch[l.cacheToW+k] {
		g.Add(m.Gen)
		if m.Type == model.MsgCacheReply {
			t.Add(m.Reply.Token)
		}
	}
	for _, q := range st.w.Cache.Queue {
		if int(q.From.Index)*l.pool+int(q.Conn) == k {
			g.Add(q.Gen)
			t.Add(q.Req.Token)
		}
	}
	g.Done()
	t.Done()
}

// actorTimers are the timer bits of actor a in timers, lowest first.
func (l *layout) actorTimers(timers uint64, a model.Addr) uint64 {
	n := l.timerN[a.Kind]
	return timers >> l.timerBit(a, 0) & (1<<n - 1)
}

// setTimers sets actor a's timer bits t in *timers.
func (l *layout) setTimers(timers *uint64, a model.Addr, t uint64) { *timers |= t << l.timerBit(a, 0) }

// chanRanks are the rankers of channel ch's messages: a camera's attempt
// numbers, or a cache connection's generations and tokens.
func (e *encoder) chanRanks(ch int) (gen, tok *model.Ranker) {
	l := e.l
	switch {
	case ch >= l.camUp && ch < l.camUp+l.nCam:
		return e.camGen[ch-l.camUp], nil
	case ch >= l.camDown && ch < l.camDown+l.nCam:
		return e.camGen[ch-l.camDown], nil
	case ch >= l.wToCache && ch < l.wToCache+l.nW*l.pool:
		k := ch - l.wToCache
		return e.conGen[k], e.conTok[k]
	case ch >= l.cacheToW && ch < l.cacheToW+l.nW*l.pool:
		k := ch - l.cacheToW
		return e.conGen[k], e.conTok[k]
	}
	return nil, nil
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
		b = w.Web.AppendState(b, &e.w, uint8(l.actorTimers(st.timers, model.WebAddr)))
	}
	if pt.notifier {
		b = w.Notifier.AppendState(b, &e.w)
	}
	if pt.replica {
		b = w.Replica.AppendState(b, &e.w)
		b = w.Reader.AppendState(b, &e.w, uint8(l.actorTimers(st.timers, model.ReaderAddr)))
	}
	return b
}

// encode appends the world, channels, timers and budgets of st under p
// (ranks must be computed). The monitor is appended by the caller.
func (e *encoder) encode(b []byte, st *mstate, p *perm, bound []byte) []byte {
	e.setPerm(p)
	e.bound, e.checked, e.less = bound, 0, false
	b = e.header(b, st)
	for i := 0; i < e.l.nCam; i++ {
		if e.over(b) {
			return nil
		}
		b = e.camera(b, st, p.camOrder[i])
	}
	b = st.w.Store.AppendState(b, &e.w)
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

func (e *encoder) setPerm(p *perm) {
	e.p = p
	e.w = model.StateWriter{DevNew: p.camNew, AcctNew: p.acctNew}
}

// encodeChanged appends the identity encoding of st, a copy of the base
// state with the changes d (ranks computed by rankChanged). base is the
// base state's encoding, and cam and wk say where its sections lie (as
// decode found them): the sections of the cameras and workers d leaves
// as they were are copied from it instead of encoded again.
func (e *encoder) encodeChanged(b []byte, st *mstate, id *perm, base []byte, cam, wk []int, d *dirty) []byte {
	e.setPerm(id)
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
	b = st.w.Store.AppendState(b, &e.w)
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
	b = w.Gateway.AppendState(b, &e.w, uint8(l.actorTimers(st.timers, model.GatewayAddr)))
	return w.Cache.AppendState(b, &e.w, uint8(l.actorTimers(st.timers, model.CacheAddr)), l.pool, e.conGen, e.conTok)
}

// camera appends camera d's section: the camera, and its registry, cache
// and store entries (so a renaming of cameras moves whole sections).
func (e *encoder) camera(b []byte, st *mstate, d model.DeviceID) []byte {
	w := &st.w
	b = w.Cameras[d].AppendState(b, &e.w, uint8(e.l.actorTimers(st.timers, model.CameraAddr(d))), e.camGen[d])
	b = w.Registry.AppendDevice(b, &e.w, d)
	b = w.Cache.AppendEntry(b, &e.w, d)
	return w.Store.AppendDevice(b, &e.w, d)
}

// worker appends worker wi's section.
func (e *encoder) worker(b []byte, st *mstate, wi int) []byte {
	l := e.l
	k := wi * l.pool
	return st.w.Workers[wi].AppendState(b, &e.w, l.actorTimers(st.timers, model.WorkerAddr(wi)),
		e.conGen[k:k+l.pool], e.conTok[k:k+l.pool])
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
	b = e.w.Uv(b, mask)
	for m := mask; m != 0; m &= m - 1 {
		ch := int(p.chOf[trailingZeros(m)])
		gen, tok := e.chanRanks(ch)
		b = e.w.U(b, uint32(len(st.ch[ch])))
		for j := range st.ch[ch] {
			b = st.ch[ch][j].AppendState(b, &e.w, gen, tok)
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
	l *layout
	r model.StateReader
	// Where the last decoded state's camera and worker sections begin (and,
	// last, where the one after them does), as offsets into its encoding.
	cam, wk []int
}

// parts reads what encoder.parts wrote.
func (d *decoder) parts(st *mstate) {
	l := d.l
	pt := l.parts
	if !pt.web && !pt.notifier && !pt.replica {
		return
	}
	r := &d.r
	bd := &st.bud
	for i, on := range [numWindows]bool{pt.web, pt.notifier, pt.replica} {
		if on {
			bd.windows[i].left = r.Byte()
			bd.windows[i].open = r.Flag()
		}
	}
	w := &st.w
	if pt.web {
		for a := 0; a < l.nAcct; a++ {
			bd.logins[a] = r.Byte()
		}
		l.setTimers(&st.timers, model.WebAddr, uint64(w.Web.ReadState(r)))
	}
	if pt.notifier {
		w.Notifier.ReadState(r)
	}
	if pt.replica {
		w.Replica.ReadState(r)
		l.setTimers(&st.timers, model.ReaderAddr, uint64(w.Reader.ReadState(r)))
	}
}

// decode reads b into st and returns the rest (the monitor's encoding).
func (d *decoder) decode(b []byte, st *mstate) ([]byte, error) {
	d.r = model.StateReader{B: b}
	r := &d.r
	l := d.l
	w := &st.w
	bd := &st.bud
	if len(b) < 5+NumPremature {
		return nil, errCorrupt
	}
	bd.outages, bd.restarts = b[0], b[1]
	bd.transfers = uint16(b[2]) | uint16(b[3])<<8
	bd.tabOff = b[4] != 0
	copy(bd.premature[:], b[5:])
	r.B = b[5+NumPremature:]
	st.timers = 0
	l.setTimers(&st.timers, model.GatewayAddr, uint64(w.Gateway.ReadState(r)))
	l.setTimers(&st.timers, model.CacheAddr, uint64(w.Cache.ReadState(r, &st.queueBuf)))
	d.cam, d.wk = d.cam[:0], d.wk[:0]
	for i := 0; i < l.nCam; i++ {
		d.cam = append(d.cam, len(b)-len(r.B))
		dev := model.DeviceID(i)
		l.setTimers(&st.timers, model.CameraAddr(dev), uint64(w.Cameras[i].ReadState(r)))
		w.Registry.ReadDevice(r, dev)
		w.Cache.ReadEntry(r, dev)
		w.Store.ReadDevice(r, dev)
	}
	d.cam = append(d.cam, len(b)-len(r.B))
	w.Store.ReadState(r)
	for wi := range w.Workers {
		d.wk = append(d.wk, len(b)-len(r.B))
		l.setTimers(&st.timers, model.WorkerAddr(wi), w.Workers[wi].ReadState(r, &st.wbuf[wi]))
	}
	d.wk = append(d.wk, len(b)-len(r.B))
	d.parts(st)
	mask := r.U64()
	for i := 0; i < l.nChan; i++ {
		n := 0
		if mask&(1<<i) != 0 {
			if n = r.Len(); n == 0 {
				return nil, errCorrupt
			}
		}
		def := &l.chans[i]
		c := st.chBuf[i][:0]
		for j := 0; j < n && !r.Bad; j++ {
			c = append(c, r.Msg(def.from, def.lane))
		}
		st.chBuf[i] = c
		st.ch[i] = nil
		if n > 0 {
			st.ch[i] = c
		}
	}
	if r.Bad {
		return nil, errCorrupt
	}
	return r.B, nil
}
