package model

// ConnState is a pooled cache connection's state.
type ConnState uint8

const (
	ConnDialing ConnState = iota
	ConnIdle
	ConnBusy
)

// PendingReq is a cache request and, for a GET, the upload waiting on it.
type PendingReq struct {
	Req     CacheReq
	Slot    uint32
	HasSlot bool
}

// PoolConn is one connection of the cache client's pool. Replies on it
// arrive in the order the requests were sent (a FIFO channel); the client
// reads them one at a time. Unread holds replies that arrived while no
// request was waiting: the next request's read returns the first of them
// at once. That is the whole mechanism of the naive client's bug.
type PoolConn struct {
	State  ConnState
	Gen    uint32
	Epoch  uint32
	Token  uint32
	Active PendingReq
	Unread []CacheReply
}

// Upload is an event the worker is resolving and storing.
type Upload struct {
	Used   bool
	Ev     EventRef
	Owners Owners
}

// Worker is an ingest worker with its cache client. For each upload it
// resolves the device's recipients cache-aside (GET device → hit: owners;
// miss or error: registry read, then SET), stores the event and pushes the
// thumbnail to every recipient.
type Worker struct {
	// Client is this worker's cache client (fixed by the world's Params:
	// ClientWorkers of them run the design's client, the others the old one).
	Client  ClientVariant
	Conns   []PoolConn
	Waiting []PendingReq // requests waiting for a free connection (FIFO)
	Slots   []Upload
	Free    []uint32 // free slot indices (stack)
	TabOff  bool
}

// Worker timers: timer c is connection c's deadline (or dial timeout).

// Step advances the worker by one input.
func (w *Worker) Step(env *Env, self Addr, in *Input, ctx Ctx) {
	switch in.Kind {
	case InInit:
		w.Conns = make([]PoolConn, env.P.PoolSize)
		for c := range w.Conns {
			w.dial(env, c, ctx)
		}
	case InTimer:
		c := int(in.Timer)
		conn := &w.Conns[c]
		switch conn.State {
		case ConnDialing:
			ctx.Observe(Obs{Kind: ObsCacheClose, Conn: uint16(c), Gen: conn.Gen, Reason: ReasonDialTimeout})
			w.dial(env, c, ctx)
		case ConnBusy:
			pr := conn.Active
			ctx.Observe(Obs{Kind: ObsCacheRet, Conn: uint16(c), Gen: conn.Gen, Token: pr.Req.Token,
				Op: pr.Req.Op, Key: pr.Req.Key, Outcome: OutTimeout, Reason: ReasonTimeout})
			if w.Client.behaviour().CloseOnTimeout {
				w.close(env, c, ReasonTimeout, ctx)
			} else {
				// The reply is still coming; the connection goes back to the pool.
				conn.State = ConnIdle
				w.pump(env, c, ctx)
			}
			if pr.HasSlot {
				w.regRead(pr.Slot, ctx) // miss, timeout or error: ask the registry
			}
		}
	case InFault:
		if in.Fault.Kind == FaultEventsTabOff {
			w.TabOff = true
		}
	case InMsg:
		w.onMsg(env, &in.Msg, ctx)
	}
}

func (w *Worker) onMsg(env *Env, m *Msg, ctx Ctx) {
	switch m.Type {
	case MsgUpload:
		slot := w.alloc()
		w.Slots[slot] = Upload{Used: true, Ev: m.Ev}
		if env.P.Mitigations.Has(BypassCacheOwnership) {
			w.regRead(slot, ctx)
		} else {
			w.issue(env, PendingReq{Req: CacheReq{Op: OpGet, Key: m.Ev.Device}, Slot: slot, HasSlot: true}, ctx)
		}
	case MsgCacheDialOK:
		conn := w.conn(m)
		if conn == nil || conn.State != ConnDialing {
			return
		}
		ctx.CancelTimer(m.Conn)
		conn.State = ConnIdle
		conn.Epoch = m.Epoch
		w.pump(env, int(m.Conn), ctx)
	case MsgCacheReply:
		conn := w.conn(m)
		if conn == nil {
			return // the reply of a connection closed since: gone with it
		}
		switch conn.State {
		case ConnBusy:
			if w.skips(conn, m.Reply) {
				return // not its reply: read on, the deadline still running
			}
			ctx.CancelTimer(m.Conn)
			w.complete(env, int(m.Conn), m.Reply, ctx)
		case ConnIdle:
			conn.Unread = pushBack(conn.Unread, m.Reply)
		}
	case MsgCacheReset:
		conn := w.conn(m)
		if conn == nil {
			return
		}
		c := int(m.Conn)
		if conn.State == ConnBusy {
			ctx.CancelTimer(m.Conn)
			pr := conn.Active
			ctx.Observe(Obs{Kind: ObsCacheRet, Conn: m.Conn, Gen: conn.Gen, Token: pr.Req.Token,
				Op: pr.Req.Op, Key: pr.Req.Key, Outcome: OutError, Reason: ReasonReset})
			w.close(env, c, ReasonReset, ctx)
			if pr.HasSlot {
				w.regRead(pr.Slot, ctx) // miss, timeout or error: ask the registry
			}
			return
		}
		w.close(env, c, ReasonReset, ctx)
	case MsgRegReply:
		u := &w.Slots[m.Slot]
		ctx.Observe(Obs{Kind: ObsRegRet, Slot: m.Slot, Key: u.Ev.Device, Owners: m.Owners, Version: m.Version})
		u.Owners = m.Owners
		ctx.Observe(Obs{Kind: ObsLookup, Device: u.Ev.Device, Seq: u.Ev.Seq, Slot: m.Slot, Owners: m.Owners,
			Version: m.Version, Outcome: OutRegistry})
		if !env.P.Mitigations.Has(BypassCacheOwnership) {
			val := CacheValue{Device: u.Ev.Device, Owners: m.Owners, Version: m.Version}
			w.issue(env, PendingReq{Req: CacheReq{Op: OpSet, Key: u.Ev.Device, Val: val}}, ctx)
		}
		w.put(m.Slot, ctx)
	case MsgPutReply:
		u := w.Slots[m.Slot]
		w.Slots[m.Slot] = Upload{}
		w.Free = append(w.Free, m.Slot)
		if !m.Flag { // stored for the first time: push the thumbnail
			var notify Owners // the recipients handed to the notifier, when there is one
			for _, a := range u.Owners.IDs[:u.Owners.N] {
				switch {
				case w.TabOff:
					ctx.Observe(Obs{Kind: ObsRefused, Device: u.Ev.Device, Seq: u.Ev.Seq, Account: a, Reason: ReasonEventsTabOff})
				case env.P.Mitigations.Has(StampedMedia) && !u.Ev.Stamp.Has(a):
					ctx.Observe(Obs{Kind: ObsRefused, Device: u.Ev.Device, Seq: u.Ev.Seq, Account: a, Reason: ReasonStampMismatch})
				case env.P.Notifier:
					notify.Add(a)
				default:
					ctx.Send(AppAddr(a), Msg{Type: MsgPush, Ev: u.Ev, Account: a}, Dur{})
				}
			}
			if notify.N > 0 {
				ctx.Send(NotifierAddr, Msg{Type: MsgNotify, Ev: u.Ev, Owners: notify}, Dur{})
			}
		}
		ctx.Send(GatewayAddr, Msg{Type: MsgAck, Ev: u.Ev}, Dur{})
	}
}

// conn returns the connection a message is for, or nil if that connection
// has been closed since (its generation moved on).
func (w *Worker) conn(m *Msg) *PoolConn {
	if int(m.Conn) >= len(w.Conns) || w.Conns[m.Conn].Gen != m.Gen {
		return nil
	}
	return &w.Conns[m.Conn]
}

func (w *Worker) alloc() uint32 {
	if n := len(w.Free); n > 0 {
		s := w.Free[n-1]
		w.Free = w.Free[:n-1]
		return s
	}
	w.Slots = append(w.Slots, Upload{})
	return uint32(len(w.Slots) - 1)
}

func (w *Worker) dial(env *Env, c int, ctx Ctx) {
	conn := &w.Conns[c]
	conn.Gen++
	conn.State = ConnDialing
	conn.Unread = nil
	ctx.Send(CacheAddr, Msg{Type: MsgCacheDial, Conn: uint16(c), Gen: conn.Gen}, Dur{})
	ctx.SetTimer(uint16(c), Const(env.P.DialTimeout))
}

func (w *Worker) close(env *Env, c int, why Reason, ctx Ctx) {
	ctx.Observe(Obs{Kind: ObsCacheClose, Conn: uint16(c), Gen: w.Conns[c].Gen, Reason: why})
	w.dial(env, c, ctx)
}

// issue sends a request on the lowest idle connection, or queues it.
func (w *Worker) issue(env *Env, pr PendingReq, ctx Ctx) {
	for c := range w.Conns {
		if w.Conns[c].State == ConnIdle {
			w.sendOn(env, c, pr, ctx)
			return
		}
	}
	if env.P.MaxWaiting > 0 && len(w.Waiting) >= env.P.MaxWaiting {
		ctx.Observe(Obs{Kind: ObsCacheRet, Conn: NoConn, Op: pr.Req.Op, Key: pr.Req.Key, Slot: pr.Slot,
			Outcome: OutError, Reason: ReasonPoolExhausted})
		if pr.HasSlot {
			w.regRead(pr.Slot, ctx)
		}
		return
	}
	w.Waiting = pushBack(w.Waiting, pr)
}

// skips says whether the worker's client drops reply r, read on busy
// connection conn, as not its request's.
func (w *Worker) skips(conn *PoolConn, r CacheReply) bool {
	return r.Token != conn.Active.Req.Token && w.Client.behaviour().Mismatch == SkipMismatch
}

// NoConn marks a cache-ret of a request that never got a connection.
const NoConn = ^uint16(0)

// pump gives an idle connection the oldest waiting request.
func (w *Worker) pump(env *Env, c int, ctx Ctx) {
	if w.Conns[c].State != ConnIdle || len(w.Waiting) == 0 {
		return
	}
	var pr PendingReq
	pr, w.Waiting = popFront(w.Waiting)
	w.sendOn(env, c, pr, ctx)
}

func (w *Worker) sendOn(env *Env, c int, pr PendingReq, ctx Ctx) {
	conn := &w.Conns[c]
	conn.Token++
	pr.Req.Token = conn.Token
	conn.Active = pr
	conn.State = ConnBusy
	ctx.Send(CacheAddr, Msg{Type: MsgCacheReq, Conn: uint16(c), Gen: conn.Gen, Epoch: conn.Epoch, Req: pr.Req}, Dur{})
	ctx.Observe(Obs{Kind: ObsCacheCall, Conn: uint16(c), Gen: conn.Gen, Token: pr.Req.Token,
		Op: pr.Req.Op, Key: pr.Req.Key, Val: pr.Req.Val, Slot: pr.Slot})
	for len(conn.Unread) > 0 {
		// A reply is already waiting in the socket buffer: the read returns it
		// at once, whichever request it answered (a client that skips
		// mismatched replies drops it and reads on).
		var r CacheReply
		r, conn.Unread = popFront(conn.Unread)
		if w.skips(conn, r) {
			continue
		}
		w.complete(env, c, r, ctx)
		return
	}
	ctx.SetTimer(uint16(c), Const(env.P.CacheTimeout))
}

// complete hands reply r to connection c's active request.
func (w *Worker) complete(env *Env, c int, r CacheReply, ctx Ctx) {
	conn := &w.Conns[c]
	pr := conn.Active
	conn.Active = PendingReq{}
	conn.State = ConnIdle
	o := Obs{Kind: ObsCacheRet, Conn: uint16(c), Gen: conn.Gen, Token: pr.Req.Token, Op: pr.Req.Op,
		Key: pr.Req.Key, ReplyOf: r.Token, ReplyKey: r.Key}
	closeIt := false
	switch {
	case r.Op != pr.Req.Op:
		// e.g. a SET's "OK" read by a GET: even a naive client sees garbage.
		o.Outcome, o.Reason, closeIt = OutError, ReasonTypeMismatch, true
	case r.Token != pr.Req.Token && w.Client.behaviour().Mismatch == CloseOnMismatch:
		o.Outcome, o.Reason, closeIt = OutError, ReasonTokenMismatch, true
	case r.Op == OpGet && r.Found:
		o.Outcome, o.Val = OutHit, r.Val
	case r.Op == OpGet:
		o.Outcome = OutMiss
	case r.Found:
		o.Outcome = OutStored
	default:
		o.Outcome = OutNotStored
	}
	ctx.Observe(o)
	if closeIt {
		w.close(env, c, o.Reason, ctx)
	} else {
		w.pump(env, c, ctx)
	}
	if !pr.HasSlot {
		return
	}
	if o.Outcome != OutHit {
		w.regRead(pr.Slot, ctx) // miss, timeout or error: ask the registry
		return
	}
	u := &w.Slots[pr.Slot]
	if env.P.Mitigations.Has(KeyInValue) && r.Val.Device != u.Ev.Device {
		ctx.Observe(Obs{Kind: ObsLookup, Device: u.Ev.Device, Seq: u.Ev.Seq, Slot: pr.Slot, Owners: r.Val.Owners,
			Val: r.Val, Outcome: OutCache, Reason: ReasonKeyMismatch})
		w.regRead(pr.Slot, ctx)
		return
	}
	if env.P.Mitigations.rejectsCached(u.Ev, r.Val) {
		ctx.Observe(Obs{Kind: ObsLookup, Device: u.Ev.Device, Seq: u.Ev.Seq, Slot: pr.Slot, Owners: r.Val.Owners,
			Val: r.Val, Outcome: OutCache, Reason: ReasonRefused})
		w.regRead(pr.Slot, ctx)
		return
	}
	u.Owners = r.Val.Owners
	ctx.Observe(Obs{Kind: ObsLookup, Device: u.Ev.Device, Seq: u.Ev.Seq, Slot: pr.Slot, Owners: r.Val.Owners,
		Val: r.Val, Version: r.Val.Version, Outcome: OutCache, Conn: uint16(c), Gen: conn.Gen, Token: pr.Req.Token, ReplyOf: r.Token, ReplyKey: r.Key})
	w.put(pr.Slot, ctx)
}

func (w *Worker) regRead(slot uint32, ctx Ctx) {
	d := w.Slots[slot].Ev.Device
	ctx.Send(RegistryAddr, Msg{Type: MsgRegRead, Slot: slot, Ev: EventRef{Device: d}}, Dur{})
	ctx.Observe(Obs{Kind: ObsRegCall, Slot: slot, Key: d})
}

func (w *Worker) put(slot uint32, ctx Ctx) {
	ctx.Send(StoreAddr, Msg{Type: MsgPut, Slot: slot, Ev: w.Slots[slot].Ev}, Dur{})
}

// AppendState appends the worker's state to a state encoding: bit c of
// timers is connection c's deadline; gen[c] and tok[c] rank connection c's
// generations and tokens (a waiting request has no token yet: tok[0]).
func (wk *Worker) AppendState(b []byte, w *StateWriter, timers uint64, gen, tok []*Ranker) []byte {
	b = w.Flag(b, wk.TabOff)
	for ci := range wk.Conns {
		conn := &wk.Conns[ci]
		b = append(b, byte(conn.State)|byte(timers>>ci&1)<<2)
		b = w.U(b, gen[ci].Rank(conn.Gen))
		if conn.State != ConnDialing {
			b = w.U(b, conn.Epoch)
		}
		b = w.U(b, tok[ci].TokRank(conn.Token))
		if conn.State == ConnBusy {
			b = w.Pending(b, &conn.Active, tok[ci])
		}
		b = w.U(b, uint32(len(conn.Unread)))
		for j := range conn.Unread {
			b = w.Reply(b, &conn.Unread[j], tok[ci])
		}
	}
	b = w.U(b, uint32(len(wk.Waiting)))
	for j := range wk.Waiting {
		b = w.Pending(b, &wk.Waiting[j], tok[0])
	}
	b = w.U(b, uint32(len(wk.Slots)))
	for j := range wk.Slots {
		s := &wk.Slots[j]
		b = w.Flag(b, s.Used)
		if s.Used {
			b = w.Ev(b, s.Ev)
			b = w.Owners(b, s.Owners)
		}
	}
	b = w.U(b, uint32(len(wk.Free)))
	for _, f := range wk.Free {
		b = w.U(b, f)
	}
	return b
}

// WorkerStorage is the storage a decoded worker's slices reuse: a list of
// unread replies per connection, and the waiting, slot and free lists.
type WorkerStorage struct {
	Unread  [][]CacheReply
	Waiting []PendingReq
	Slots   []Upload
	Free    []uint32
}

// ReadState reads what AppendState wrote into wk (its connections must
// number as many as when written; the settings fixed for a run are kept),
// its lists into buf's storage, and returns the timer bits.
func (wk *Worker) ReadState(r *StateReader, buf *WorkerStorage) (timers uint64) {
	wk.TabOff = r.Flag()
	for ci := range wk.Conns {
		conn := &wk.Conns[ci]
		f := r.Byte()
		*conn = PoolConn{State: ConnState(f & 3)}
		timers |= uint64(f>>2&1) << ci
		conn.Gen = r.U()
		if conn.State != ConnDialing {
			conn.Epoch = r.U()
		}
		conn.Token = r.U()
		if conn.State == ConnBusy {
			conn.Active = r.Pending()
		}
		conn.Unread = readList(r, &buf.Unread[ci], r.Reply)
	}
	wk.Waiting = readList(r, &buf.Waiting, r.Pending)
	wk.Slots = readList(r, &buf.Slots, func() Upload {
		var s Upload
		if s.Used = r.Flag(); s.Used {
			s.Ev = r.Ev()
			s.Owners = r.Owners()
		}
		return s
	})
	wk.Free = readList(r, &buf.Free, r.U)
	return timers
}

// readList reads a counted list into *buf's storage and returns it (nil
// when empty, as the model keeps an empty list).
func readList[T any](r *StateReader, buf *[]T, read func() T) []T {
	n := r.Len()
	l := (*buf)[:0]
	for j := 0; j < n; j++ {
		l = append(l, read())
	}
	*buf = l
	if n == 0 {
		return nil
	}
	return l
}
