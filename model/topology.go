package model

// The network between the actors, as the model declares it: which class of
// link a channel crosses, which channels keep their order, who cannot be
// reached. Engines read it here rather than deciding from actors' state.

// NetClass is the kind of network a channel crosses.
type NetClass uint8

const (
	// NetDC: inside the data centre. Channels are FIFO (TCP connections
	// between services).
	NetDC NetClass = iota
	// NetWAN: camera ⇄ gateway and app → store, over the internet; a message
	// may be lost (the scenario's WAN loss).
	NetWAN
	// NetPush: a push notification to a phone.
	NetPush
	// NetInternet: the anonymous reader, over TCP on the internet: WAN
	// latency, and a lost packet is sent again rather than lost.
	NetInternet
)

// LinkOf is the class of the channel from → to.
func LinkOf(from, to Addr) NetClass {
	switch {
	case from.Kind == KindReader || to.Kind == KindReader:
		return NetInternet
	case from.Kind == KindCamera || to.Kind == KindCamera || from.Kind == KindApp:
		return NetWAN
	case to.Kind == KindApp:
		return NetPush
	}
	return NetDC
}

// FIFO says whether a channel of class c delivers in the order sent.
func (c NetClass) FIFO() bool { return c == NetDC }

// Lossy says whether a message on a channel of class c may be lost.
func (c NetClass) Lossy() bool { return c == NetWAN }

// WorkerPeers are the actors an ingest worker has one data-centre channel
// with each way, besides its cache connections (one channel per
// connection), in a fixed order an engine may index by.
var WorkerPeers = [...]Addr{GatewayAddr, RegistryAddr, StoreAddr, NotifierAddr}

// Reachable says whether a message sent to `to` now can arrive: a host that
// is down loses what is sent to it (the gateway during an outage; the model's
// gateway also ignores what reaches it while down).
func (w *World) Reachable(to Addr) bool {
	return !(to.Kind == KindGateway && w.Gateway.Down)
}

// Offline says whether camera cam can neither be heard nor reach anyone until
// the gateway is back: the gateway is down and the camera is not connected.
// With nothing on its way to it, only its own timers step it.
func (w *World) Offline(cam Addr) bool {
	return w.Gateway.Down && w.Cameras[cam.Index].State != CamConnected
}

// ChannelGroup is a family of the network's one-way channels, one from
// each actor of kind From to each actor of kind To, with Lanes channels
// each (a worker's cache connections; 1 otherwise). An engine that keeps
// one FIFO per channel (the explorer) numbers them group by group, sender
// by sender, receiver by receiver, lane by lane.
type ChannelGroup struct {
	From, To Kind
	Lanes    int
}

// Channels are the groups of the world of p, in the order engines number
// them: the 2024 world's first, so a world without the other incidents'
// actors is numbered as the 2024 world alone.
func Channels(p *Params) []ChannelGroup {
	g := []ChannelGroup{
		{KindCamera, KindGateway, 1}, {KindGateway, KindCamera, 1},
		{KindGateway, KindWorker, 1}, {KindWorker, KindGateway, 1},
		{KindWorker, KindCache, p.PoolSize}, {KindCache, KindWorker, p.PoolSize},
		{KindRegistry, KindCache, 1},
		{KindWorker, KindRegistry, 1}, {KindRegistry, KindWorker, 1},
		{KindWorker, KindStore, 1}, {KindStore, KindWorker, 1},
		{KindWorker, KindApp, 1}, {KindApp, KindStore, 1},
		{KindStore, KindRegistry, 1}, {KindRegistry, KindStore, 1},
	}
	if p.Web.On {
		g = append(g, ChannelGroup{KindWeb, KindRegistry, 1}, ChannelGroup{KindRegistry, KindWeb, 1})
	}
	if p.Notifier {
		g = append(g, ChannelGroup{KindWorker, KindNotifier, 1}, ChannelGroup{KindNotifier, KindApp, 1})
	}
	if p.Replica.On {
		g = append(g, ChannelGroup{KindReader, KindReplica, 1}, ChannelGroup{KindReplica, KindReader, 1})
	}
	return g
}

// TimerKinds are the kinds whose actors have timers (NumTimers), in the
// order engines number them.
var TimerKinds = [...]Kind{KindCamera, KindGateway, KindCache, KindWorker, KindWeb, KindReader}

// Renamed says how a renaming of interchangeable actors moves an actor of
// kind k: cameras move with their devices (KindCamera), apps with their
// accounts (KindApp); every other actor stays (KindNone).
func Renamed(k Kind) Kind {
	switch k {
	case KindCamera, KindApp:
		return k
	}
	return KindNone
}

// Timeout is a kind of timeout whose answer may still be on its way when it
// fires: the ones the bug class turns on, which an untimed engine (the
// explorer) fires early only within a budget.
type Timeout uint8

const (
	TimeoutNone    Timeout = iota // may always fire: no answer can still come
	TimeoutCache                  // a cache request's deadline (the naive client's race)
	TimeoutDial                   // a cache dial's timeout
	TimeoutConnect                // a camera's connect timeout
	TimeoutUpload                 // a camera's upload acknowledgement timeout
)

// InFlight is what an engine holds on the channel from → to on a lane
// (model.Channels), oldest first.
type InFlight func(from, to Addr, lane uint16) []Msg

// Premature says whether firing actor a's timer id now would be premature
// — its answer is still in flight or being served — and which kind of
// timeout it is (TimeoutNone when it may always fire). Which message
// answers which timer is the model's to say: a connect is answered by an
// accept or reject of its generation, an upload by its acknowledgement (or
// is still on its way through the gateway and a worker), a cache request
// or dial by anything on its connection's generation.
func (w *World) Premature(a Addr, id uint16, ch InFlight) Timeout {
	switch a.Kind {
	case KindCamera:
		cam := &w.Cameras[a.Index]
		switch id {
		case TConn:
			if cam.State == CamConnecting && w.connectPending(a, cam.Gen, ch) {
				return TimeoutConnect
			}
		case TUpload:
			if cam.Inflight && w.uploadPending(a, cam.InflightSeq, ch) {
				return TimeoutUpload
			}
		}
	case KindWorker:
		conn := &w.Workers[a.Index].Conns[id]
		if conn.State != ConnIdle && w.connPending(a, id, conn.Gen, ch) {
			if conn.State == ConnDialing {
				return TimeoutDial
			}
			return TimeoutCache
		}
	}
	return TimeoutNone
}

func (w *World) connectPending(cam Addr, gen uint32, ch InFlight) bool {
	for _, m := range ch(cam, GatewayAddr, 0) {
		if m.Type == MsgConnect && m.Gen == gen {
			return true
		}
	}
	for _, m := range ch(GatewayAddr, cam, 0) {
		if (m.Type == MsgAccept || m.Type == MsgReject) && m.Gen == gen {
			return true
		}
	}
	return false
}

func (w *World) uploadPending(cam Addr, seq uint32, ch InFlight) bool {
	is := func(ev EventRef) bool { return ev.Device == DeviceID(cam.Index) && ev.Seq == seq }
	for _, m := range ch(cam, GatewayAddr, 0) {
		if m.Type == MsgUpload && is(m.Ev) {
			return true
		}
	}
	for _, m := range ch(GatewayAddr, cam, 0) {
		if m.Type == MsgAck && is(m.Ev) {
			return true
		}
	}
	for i := range w.Workers {
		wa := WorkerAddr(i)
		for _, m := range ch(GatewayAddr, wa, 0) {
			if is(m.Ev) {
				return true
			}
		}
		for _, m := range ch(wa, GatewayAddr, 0) {
			if is(m.Ev) {
				return true
			}
		}
		for _, s := range w.Workers[i].Slots {
			if s.Used && is(s.Ev) {
				return true
			}
		}
	}
	return false
}

func (w *World) connPending(wa Addr, c uint16, gen uint32, ch InFlight) bool {
	for _, m := range ch(wa, CacheAddr, c) {
		if m.Gen == gen {
			return true
		}
	}
	for _, m := range ch(CacheAddr, wa, c) {
		if m.Gen == gen {
			return true
		}
	}
	for _, q := range w.Cache.Queue {
		if q.From == wa && q.Conn == c && q.Gen == gen {
			return true
		}
	}
	return false
}

// FaultMenu is every fault a world of p (with accounts accounts) may suffer
// at any point, in the order an untimed engine tries them: the 2024
// world's (outage, cold cache restart, the events-tab kill switch), then
// transfers — which camera passes to whom is the world's own, given by its
// configuration — then the other incidents' parts' (the web cache's fault
// window and each account's logins, the defective notifier's window, the
// replica's access-control window).
func FaultMenu(p *Params, accounts int, transfers []Fault) []Fault {
	menu := []Fault{{Kind: FaultGatewayDown}, {Kind: FaultGatewayUp}, {Kind: FaultCacheRestart}, {Kind: FaultEventsTabOff}}
	menu = append(menu, transfers...)
	if p.Web.On {
		menu = append(menu, Fault{Kind: FaultWebShared}, Fault{Kind: FaultWebKeyed})
		for a := 0; a < accounts; a++ {
			menu = append(menu, Fault{Kind: FaultLogin, Account: AccountID(a)})
		}
	}
	if p.Notifier {
		menu = append(menu, Fault{Kind: FaultNotifierDefect}, Fault{Kind: FaultNotifierFixed})
	}
	if p.Replica.On {
		menu = append(menu, Fault{Kind: FaultReplicaAuthOff}, Fault{Kind: FaultReplicaAuthOn})
	}
	return menu
}

// Window is a fault that is on for a while: one fault kind opens it and
// another closes it.
type Window uint8

const (
	WindowWeb      Window = iota // the web cache key omits the account
	WindowNotifier               // the defective notifier is deployed
	WindowReplica                // the replica's access control is off
	NumWindows
)

// WindowOf says which window fault kind k opens or closes and whether it
// opens it; ok is false for a fault that is no window's edge.
func WindowOf(k FaultKind) (w Window, opens, ok bool) {
	switch k {
	case FaultWebShared:
		return WindowWeb, true, true
	case FaultWebKeyed:
		return WindowWeb, false, true
	case FaultNotifierDefect:
		return WindowNotifier, true, true
	case FaultNotifierFixed:
		return WindowNotifier, false, true
	case FaultReplicaAuthOff:
		return WindowReplica, true, true
	case FaultReplicaAuthOn:
		return WindowReplica, false, true
	}
	return 0, false, false
}

// InputsCommute says whether an actor of kind k handles messages from
// different senders independently: its step on one sender's message reads
// and writes only what no other sender's message touches and sends only to
// that sender, so steps on messages from different senders commute and
// neither enables nor disables the other. The registry only reads (a
// transfer is a fault, not a message) and answers its sender. The store
// writes only the record of the put's device, whose uploads all reach one
// worker and so come from one sender, answers the put's sender, and
// judges a view by the message and a flag only faults set; with
// verify-on-view every view asks the registry, so views from different
// apps send on one channel. The explorer's partial-order reduction builds
// on it; a test checks that such steps commute on every state of the
// small worlds it visits.
func InputsCommute(p *Params, k Kind) bool {
	switch k {
	case KindRegistry:
		return true
	case KindStore:
		return !p.Mitigations.Has(VerifyOnView)
	}
	return false
}

// MaySend says whether actor from may send on its channel to `to` (on lane)
// before `to` sends it anything more. It is false only where every message
// on that channel answers one of to's and none is owed: the cache answers
// requests on their connection (on its way, or queued), the registry and
// the store answer requests, and the gateway writes to a camera only about
// that camera's own connect or upload (on its way, relayed, or held by a
// worker). A false answer turns true only by a step of `to`. The explorer's
// partial-order reduction builds on it; a test checks both halves on every
// step of the small worlds.
func (w *World) MaySend(from, to Addr, lane uint16, ch InFlight) bool {
	switch {
	case from.Kind == KindCache && to.Kind == KindWorker:
		if len(ch(to, CacheAddr, lane)) > 0 {
			return true
		}
		for _, q := range w.Cache.Queue {
			if q.From == to && q.Conn == lane {
				return true
			}
		}
		return false
	case from.Kind == KindRegistry && to.Kind == KindCache:
		return false // the registry sends the cache nothing (a transfer's invalidation is a fault's target)
	case from.Kind == KindRegistry, from.Kind == KindStore && to.Kind == KindWorker:
		return len(ch(to, from, 0)) > 0
	case from.Kind == KindGateway && to.Kind == KindCamera:
		if len(ch(to, GatewayAddr, 0)) > 0 {
			return true
		}
		d := DeviceID(to.Index)
		for i := range w.Workers {
			wa := WorkerAddr(i)
			for _, m := range ch(GatewayAddr, wa, 0) {
				if m.Ev.Device == d {
					return true
				}
			}
			for _, m := range ch(wa, GatewayAddr, 0) {
				if m.Ev.Device == d {
					return true
				}
			}
			for _, s := range w.Workers[i].Slots {
				if s.Used && s.Ev.Device == d {
					return true
				}
			}
		}
		return false
	}
	return true
}

// PrematureDeps says which kinds of premature timeout (bit k for Timeout k)
// actor a's timer id can be. It calls deps with every other actor whose
// step may change what Premature says of it, and faults with every kind of
// fault that may change it or add to those actors. The answer it waits for
// stays pending while the actors holding or relaying it move it along:
// the gateway answers a connect and relays an upload and its
// acknowledgement in one step each, a worker moves an upload from its
// channel into a slot and from the slot into its acknowledgement, the
// cache moves a request into its queue and from the queue into its reply.
// Only a server that is down loses what reaches it, and a cold restart
// forgets the requests in the cache's queue.
func (w *World) PrematureDeps(a Addr, id uint16, ch InFlight, deps func(Addr), faults func(FaultKind)) (kinds uint8) {
	switch a.Kind {
	case KindCamera:
		if w.Gateway.Down {
			deps(GatewayAddr)
		}
		faults(FaultGatewayDown)
		switch id {
		case TConn:
			return 1 << TimeoutConnect
		case TUpload:
			return 1 << TimeoutUpload
		}
	case KindWorker:
		if w.Cache.Down {
			deps(CacheAddr)
		}
		faults(FaultCacheDown)
		// A cold restart forgets a queued request; one on its way may be
		// queued before it. A reply on its way stays.
		queued := len(ch(a, CacheAddr, id)) > 0
		for _, q := range w.Cache.Queue {
			queued = queued || q.From == a && q.Conn == id
		}
		if queued {
			faults(FaultCacheRestart)
		}
		return 1<<TimeoutDial | 1<<TimeoutCache
	}
	return 0
}

// MayCause says whether actor a, stepping on an input from src (a itself
// for one of its timers, EngineAddr for a fault), may send to dst: the
// model's send graph, finer than its channels, since a relay sends each
// input on to particular actors only. The explorer's partial-order
// reduction builds on it; a test checks it on every step of the small
// worlds.
func (w *World) MayCause(a, src, dst Addr) bool {
	switch a.Kind {
	case KindCamera:
		return dst == GatewayAddr
	case KindGateway:
		switch src.Kind {
		case KindCamera: // an accept or reject to it, its upload to its worker
			return dst == src || dst == WorkerAddr(int(src.Index)%w.Env.P.Workers)
		case KindWorker: // an acknowledgement to its camera
			return dst.Kind == KindCamera
		}
		return false // the refill timer and faults send nothing
	case KindWorker:
		switch src.Kind {
		case KindStore: // stored: the pushes and the acknowledgement
			return dst.Kind == KindApp || dst.Kind == KindNotifier || dst == GatewayAddr
		case KindGateway, KindCache, KindRegistry, KindWorker: // lookups, reads, writes, redials
			return dst == CacheAddr || dst == RegistryAddr || dst == StoreAddr
		}
		return false
	case KindCache:
		switch src.Kind {
		case KindWorker: // a dial's answer or a reset
			return dst == src
		case KindCache: // the service timer answers the queue's head
			return dst.Kind == KindWorker
		}
		return false
	case KindRegistry, KindReplica:
		return dst == src // answers
	case KindStore:
		switch src.Kind {
		case KindWorker:
			return dst == src
		case KindApp:
			return dst == RegistryAddr
		}
		return false
	case KindApp:
		return dst == StoreAddr
	case KindNotifier:
		return dst.Kind == KindApp
	}
	return true
}
