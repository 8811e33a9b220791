package model

// CacheEntry is one key of the cache server. Tomb is the registry version
// of the last invalidation: a SET carrying an older version is refused.
type CacheEntry struct {
	Present bool
	Val     CacheValue
	Tomb    uint32
}

// Queued is a request waiting at the cache server.
type Queued struct {
	From Addr
	Conn uint16
	Gen  uint32
	Req  CacheReq
}

// Cache is a single-threaded cache server (Redis-like): it serves requests
// one at a time in arrival order, each taking the service time. Keys are
// device ids, so its contents are a slice indexed by device.
type Cache struct {
	Down  bool
	Busy  bool
	Epoch uint32
	Queue []Queued
	Data  []CacheEntry
}

// TService is the cache server's only timer: the end of the current op.
const TService uint16 = 0

// Step advances the cache server by one input.
func (s *Cache) Step(env *Env, self Addr, in *Input, ctx Ctx) {
	switch in.Kind {
	case InFault:
		switch in.Fault.Kind {
		case FaultCacheRestart:
			// Cold restart: contents, tombstones and queued requests are gone;
			// old connections are unknown to the new incarnation.
			s.Epoch++
			clear(s.Data)
			s.Queue = nil
			s.Busy = false
			ctx.CancelTimer(TService)
		case FaultCacheDown:
			s.Down = true
		case FaultCacheUp:
			s.Down = false
		case FaultTransfer:
			s.invalidate(in.Fault.Device, in.Fault.Version)
		}
	case InTimer:
		s.serve(env, ctx)
	case InMsg:
		if s.Down {
			return
		}
		m := &in.Msg
		switch m.Type {
		case MsgCacheDial:
			ctx.Send(m.From, Msg{Type: MsgCacheDialOK, Conn: m.Conn, Gen: m.Gen, Epoch: s.Epoch}, Dur{})
		case MsgCacheReq:
			if m.Epoch != s.Epoch {
				ctx.Send(m.From, Msg{Type: MsgCacheReset, Conn: m.Conn, Gen: m.Gen}, Dur{})
				return
			}
			s.Queue = pushBack(s.Queue, Queued{From: m.From, Conn: m.Conn, Gen: m.Gen, Req: m.Req})
			if !s.Busy {
				s.Busy = true
				ctx.SetTimer(TService, env.P.CacheService)
			}
		case MsgCacheInvalidate:
			s.invalidate(m.Req.Key, m.Req.Val.Version)
		}
	}
}

// invalidate deletes key d and tombstones it at registry version v: a SET
// carrying an older registry read is refused from now on.
func (s *Cache) invalidate(d DeviceID, v uint32) {
	e := &s.Data[d]
	e.Present = false
	e.Val = CacheValue{}
	if v > e.Tomb {
		e.Tomb = v
	}
}

func (s *Cache) serve(env *Env, ctx Ctx) {
	if len(s.Queue) == 0 {
		s.Busy = false
		return
	}
	var q Queued
	q, s.Queue = popFront(s.Queue)
	e := &s.Data[q.Req.Key]
	r := CacheReply{Op: q.Req.Op, Key: q.Req.Key, Token: q.Req.Token}
	switch q.Req.Op {
	case OpGet:
		r.Found, r.Val = e.Present, e.Val
	case OpSet:
		if q.Req.Val.Version >= e.Tomb {
			e.Present, e.Val = true, q.Req.Val
			r.Found = true
		}
	case OpDel:
		e.Present, e.Val, r.Found = false, CacheValue{}, true
	}
	ctx.Observe(Obs{Kind: ObsCacheServe, Conn: q.Conn, Gen: q.Gen, Token: q.Req.Token, Op: q.Req.Op,
		Key: q.Req.Key, Flag: r.Found, Val: r.Val, Peer: q.From})
	ctx.Send(q.From, Msg{Type: MsgCacheReply, Conn: q.Conn, Gen: q.Gen, Reply: r}, Dur{})
	if len(s.Queue) > 0 {
		ctx.SetTimer(TService, env.P.CacheService)
	} else {
		s.Busy = false
	}
}

// Registry is the source of truth: each device's owner set and its version.
type Registry struct {
	Owners  []Owners
	Version []uint32
}

// Step advances the registry by one input.
func (r *Registry) Step(env *Env, self Addr, in *Input, ctx Ctx) {
	switch in.Kind {
	case InInit:
		for d := range r.Owners {
			ctx.Observe(Obs{Kind: ObsOwn, Device: DeviceID(d), Owners: r.Owners[d], Version: r.Version[d]})
		}
	case InFault:
		if in.Fault.Kind != FaultTransfer {
			return
		}
		d := in.Fault.Device
		r.Version[d]++
		r.Owners[d] = in.Fault.Owners
		ctx.Observe(Obs{Kind: ObsOwn, Device: d, Owners: r.Owners[d], Version: r.Version[d]})
		// With invalidate-on-transfer the cache takes part in this write
		// (World.FaultTargets): an invalidation sent as a message could be
		// overtaken by the new owner's first lookup (found by the explorer).
	case InMsg:
		m := &in.Msg
		d := m.Ev.Device
		switch m.Type {
		case MsgRegRead:
			ctx.Send(m.From, Msg{Type: MsgRegReply, Slot: m.Slot, Ev: EventRef{Device: d},
				Owners: r.Owners[d], Version: r.Version[d]}, env.P.RegistryLatency)
		case MsgViewCheck:
			ctx.Send(m.From, Msg{Type: MsgViewCheckReply, Ev: m.Ev, Account: m.Account, View: m.View, Slot: m.Slot,
				Flag: r.Owners[d].Has(m.Account)}, env.P.RegistryLatency)
		case MsgWebPageReq:
			// The account's live-view page streams its first camera (the
			// lowest-numbered one it may see).
			page := EventRef{}
			for i := range r.Owners {
				if r.Owners[i].Has(m.Account) {
					page = EventRef{Device: DeviceID(i), Stamp: r.Owners[i]}
					break
				}
			}
			ctx.Send(m.From, Msg{Type: MsgWebPage, Account: m.Account, Slot: m.Slot, Flag: m.Flag, Ev: page},
				env.P.RegistryLatency)
		}
	}
}

// Store keeps events (deduplicated by device and sequence) and serves their
// media when a user taps a thumbnail. A camera uploads one event at a time
// and in order, so "already stored" is Seq < Next[device].
type Store struct {
	Next   []uint32
	TabOff bool
}

// Step advances the store by one input.
func (s *Store) Step(env *Env, self Addr, in *Input, ctx Ctx) {
	switch in.Kind {
	case InFault:
		if in.Fault.Kind == FaultEventsTabOff {
			s.TabOff = true
		}
	case InMsg:
		m := &in.Msg
		switch m.Type {
		case MsgPut:
			d := m.Ev.Device
			dup := m.Ev.Seq < s.Next[d]
			if !dup {
				s.Next[d] = m.Ev.Seq + 1
			}
			ctx.Observe(Obs{Kind: ObsStore, Device: d, Seq: m.Ev.Seq, Flag: dup})
			ctx.Send(m.From, Msg{Type: MsgPutReply, Slot: m.Slot, Flag: dup}, env.P.StoreLatency)
		case MsgView:
			switch {
			case s.TabOff:
				s.refuse(m, ReasonEventsTabOff, ctx)
			case env.P.Mitigations.Has(StampedMedia) && !m.Ev.Stamp.Has(m.Account):
				s.refuse(m, ReasonStampMismatch, ctx)
			case env.P.Mitigations.Has(VerifyOnView):
				ctx.Send(RegistryAddr, Msg{Type: MsgViewCheck, Ev: m.Ev, Account: m.Account, View: m.View}, Dur{})
			default:
				s.serve(m, ctx)
			}
		case MsgViewCheckReply:
			if m.Flag {
				s.serve(m, ctx)
			} else {
				s.refuse(m, ReasonRegistryDenied, ctx)
			}
		}
	}
}

func (s *Store) serve(m *Msg, ctx Ctx) {
	ctx.Observe(Obs{Kind: ObsView, Device: m.Ev.Device, Seq: m.Ev.Seq, Account: m.Account, View: m.View})
}

func (s *Store) refuse(m *Msg, why Reason, ctx Ctx) {
	ctx.Observe(Obs{Kind: ObsViewRefused, Device: m.Ev.Device, Seq: m.Ev.Seq, Account: m.Account, View: m.View, Reason: why})
}

// App is an account's phone app. Apps hold no state: a push is recorded as
// a delivery, and the user may tap it.
type App struct{}

// Step advances the app of account self.Index.
func (App) Step(env *Env, self Addr, in *Input, ctx Ctx) {
	a := AccountID(self.Index)
	if in.Kind != InMsg || in.Msg.Type != MsgPush {
		return
	}
	ev := in.Msg.Ev
	ctx.Observe(Obs{Kind: ObsDeliver, Device: ev.Device, Seq: ev.Seq, Account: a})
	if !ctx.Chance(ChoiceTap, env.P.TapProb) {
		return
	}
	view := ViewEnlarged
	if ev.Video && ctx.Chance(ChoiceVideo, env.P.VideoProb) {
		view = ViewVideo
	}
	ctx.Observe(Obs{Kind: ObsTap, Device: ev.Device, Seq: ev.Seq, Account: a, View: view})
	ctx.Send(StoreAddr, Msg{Type: MsgView, Ev: ev, Account: a, View: view}, env.P.TapDelay)
}

// AppendState appends the cache's own state to a state encoding (its
// entries are written per device, by AppendEntry): timer is its service
// timer's bit, and a queued request of connection k (worker·pool + lane)
// is ranked by gen[k] and tok[k].
func (c *Cache) AppendState(b []byte, w *StateWriter, timer uint8, pool int, gen, tok []*Ranker) []byte {
	b = append(b, boolByte(c.Down)|boolByte(c.Busy)<<1|timer<<2)
	b = w.U(b, c.Epoch)
	b = w.U(b, uint32(len(c.Queue)))
	for i := range c.Queue {
		q := &c.Queue[i]
		k := int(q.From.Index)*pool + int(q.Conn)
		b = w.U(b, q.From.Index)
		b = w.U(b, uint32(q.Conn))
		b = w.U(b, gen[k].Rank(q.Gen))
		b = w.Req(b, &q.Req, tok[k])
	}
	return b
}

// ReadState reads what AppendState wrote into c, its queue into the
// storage of *queue, and returns the timer bit.
func (c *Cache) ReadState(r *StateReader, queue *[]Queued) (timer uint8) {
	f := r.Byte()
	c.Down, c.Busy = f&1 != 0, f&2 != 0
	c.Epoch = r.U()
	n := r.Len()
	q := (*queue)[:0]
	for i := 0; i < n; i++ {
		from := WorkerAddr(int(r.U()))
		conn := uint16(r.U())
		gen := r.U()
		q = append(q, Queued{From: from, Conn: conn, Gen: gen, Req: r.Req()})
	}
	*queue = q
	c.Queue = nil
	if n > 0 {
		c.Queue = q
	}
	return f >> 2 & 1
}

// AppendEntry appends the cache's entry for device d.
func (c *Cache) AppendEntry(b []byte, w *StateWriter, d DeviceID) []byte {
	ce := &c.Data[d]
	b = w.Flag(b, ce.Present)
	if ce.Present {
		b = w.Val(b, ce.Val)
	}
	return w.U(b, ce.Tomb)
}

// ReadEntry reads what AppendEntry wrote into device d's entry.
func (c *Cache) ReadEntry(r *StateReader, d DeviceID) {
	ce := &c.Data[d]
	*ce = CacheEntry{Present: r.Flag()}
	if ce.Present {
		ce.Val = r.Val()
	}
	ce.Tomb = r.U()
}

// AppendDevice appends the registry's record of device d.
func (g *Registry) AppendDevice(b []byte, w *StateWriter, d DeviceID) []byte {
	b = w.Owners(b, g.Owners[d])
	return w.U(b, g.Version[d])
}

// ReadDevice reads what AppendDevice wrote into device d's record.
func (g *Registry) ReadDevice(r *StateReader, d DeviceID) {
	g.Owners[d] = r.Owners()
	g.Version[d] = r.U()
}

// AppendDevice appends the store's record of device d (its next sequence
// number); AppendState its own state.
func (s *Store) AppendDevice(b []byte, w *StateWriter, d DeviceID) []byte { return w.U(b, s.Next[d]) }

// ReadDevice reads what AppendDevice wrote into device d's record.
func (s *Store) ReadDevice(r *StateReader, d DeviceID) { s.Next[d] = r.U() }

// AppendState appends the store's own state to a state encoding.
func (s *Store) AppendState(b []byte, w *StateWriter) []byte { return w.Flag(b, s.TabOff) }

// ReadState reads what AppendState wrote into s.
func (s *Store) ReadState(r *StateReader) { s.TabOff = r.Flag() }
