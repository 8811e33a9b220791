package model

import "fmt"

// Env is what every actor reads and none writes.
type Env struct {
	P     *Params
	Fleet *Fleet
}

// World is the state of every actor. Apps are stateless, so they have no
// entry. Engines step it one input at a time; the explorer copies it.
type World struct {
	Env      *Env
	Cameras  []Camera
	Gateway  Gateway
	Workers  []Worker
	Cache    Cache
	Registry Registry
	Store    Store
	// The actors of the other incidents: present (stepped, initialised,
	// reached by faults) only when Params configure them.
	Web      Web
	Notifier Notifier
	Replica  Replica
	Reader   Reader
}

// NewWorld builds the initial (pre-Init) world of a fleet.
func NewWorld(p *Params, f *Fleet) (*World, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if len(f.Profiles) == 0 || len(f.Profiles) > 256 {
		return nil, fmt.Errorf("fleet: need 1..256 profiles, got %d", len(f.Profiles))
	}
	n := len(f.Devices)
	w := &World{
		Env:      &Env{P: p, Fleet: f},
		Cameras:  make([]Camera, n),
		Workers:  make([]Worker, p.Workers),
		Cache:    Cache{Data: make([]CacheEntry, n)},
		Registry: Registry{Owners: make([]Owners, n), Version: make([]uint32, n)},
		Store:    Store{Next: make([]uint32, n)},
	}
	for i := range w.Workers {
		w.Workers[i].Client = p.ClientOf(i)
	}
	for i, d := range f.Devices {
		if int(d.Profile) >= len(f.Profiles) {
			return nil, fmt.Errorf("fleet: device %d has profile %d of %d", i, d.Profile, len(f.Profiles))
		}
		for _, a := range d.Owners.IDs[:d.Owners.N] {
			if int(a) >= f.Accounts {
				return nil, fmt.Errorf("fleet: device %d owner %d is not one of %d accounts", i, a, f.Accounts)
			}
		}
		w.Cameras[i] = Camera{Profile: d.Profile, Video: d.Video, Stamp: d.Owners}
		w.Registry.Owners[i] = d.Owners
	}
	return w, nil
}

// NumTimers is how many timers an actor of kind k has.
func NumTimers(p *Params, k Kind) int {
	switch k {
	case KindCamera:
		return int(numCamTimers)
	case KindGateway, KindCache:
		return 1
	case KindWorker:
		return p.PoolSize
	case KindWeb, KindReader:
		return 1
	}
	return 0
}

// Count is how many actors of kind k the world of p has, for the kinds
// that are singletons or absent (cameras, workers and apps are counted by
// the fleet and the parameters).
func Count(p *Params, k Kind) int {
	switch k {
	case KindGateway, KindCache, KindRegistry, KindStore:
		return 1
	case KindWeb:
		return b2i(p.Web.On)
	case KindNotifier:
		return b2i(p.Notifier)
	case KindReplica, KindReader:
		return b2i(p.Replica.On)
	}
	return 0
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// Step delivers one input to the actor at `to`. The input is read during
// the call only (passed by pointer: it is large, and a full-size run steps
// billions of inputs).
func (w *World) Step(to Addr, in *Input, ctx Ctx) {
	env := w.Env
	// A switch, not w.Actor(to).Step: the engines step billions of inputs,
	// and a direct call is inlined where an interface call is not.
	switch to.Kind {
	case KindCamera:
		w.Cameras[to.Index].Step(env, to, in, ctx)
	case KindGateway:
		w.Gateway.Step(env, to, in, ctx)
	case KindWorker:
		w.Workers[to.Index].Step(env, to, in, ctx)
	case KindCache:
		w.Cache.Step(env, to, in, ctx)
	case KindRegistry:
		w.Registry.Step(env, to, in, ctx)
	case KindStore:
		w.Store.Step(env, to, in, ctx)
	case KindApp:
		App{}.Step(env, to, in, ctx)
	case KindWeb:
		w.Web.Step(env, to, in, ctx)
	case KindNotifier:
		w.Notifier.Step(env, to, in, ctx)
	case KindReplica:
		w.Replica.Step(env, to, in, ctx)
	case KindReader:
		w.Reader.Step(env, to, in, ctx)
	}
}

// Actor is every actor of the model: it steps on one input at a time, as
// the actor at self, and acts on the world only through ctx (sends, timers,
// observations, chances). Its state is its own value; it reads env, never
// another actor.
type Actor interface {
	Step(env *Env, self Addr, in *Input, ctx Ctx)
}

// Actor is the actor at a, or nil if the world has none there.
func (w *World) Actor(a Addr) Actor {
	switch a.Kind {
	case KindCamera:
		if int(a.Index) < len(w.Cameras) {
			return &w.Cameras[a.Index]
		}
	case KindGateway:
		return &w.Gateway
	case KindWorker:
		if int(a.Index) < len(w.Workers) {
			return &w.Workers[a.Index]
		}
	case KindCache:
		return &w.Cache
	case KindRegistry:
		return &w.Registry
	case KindStore:
		return &w.Store
	case KindApp:
		if int(a.Index) < w.Env.Fleet.Accounts {
			return App{}
		}
	case KindWeb:
		if w.Env.P.Web.On {
			return &w.Web
		}
	case KindNotifier:
		if w.Env.P.Notifier {
			return &w.Notifier
		}
	case KindReplica:
		if w.Env.P.Replica.On {
			return &w.Replica
		}
	case KindReader:
		if w.Env.P.Replica.On {
			return &w.Reader
		}
	}
	return nil
}

// Actors calls fn for every actor that has state or timers, in a fixed
// order: the order engines deliver InInit in.
func (w *World) Actors(fn func(Addr)) {
	fn(RegistryAddr)
	fn(StoreAddr)
	fn(CacheAddr)
	for i := range w.Workers {
		fn(WorkerAddr(i))
	}
	fn(GatewayAddr)
	for i := range w.Cameras {
		fn(CameraAddr(DeviceID(i)))
	}
	// After the 2024 actors, so their order (and so a 2024 world's trace)
	// does not depend on whether these are configured.
	p := w.Env.P
	if p.Web.On {
		fn(WebAddr)
	}
	if p.Notifier {
		fn(NotifierAddr)
	}
	if p.Replica.On {
		fn(ReplicaAddr)
		fn(ReaderAddr)
	}
}

// FaultTargets calls fn for each actor a fault reaches, in a fixed order,
// with the input to deliver to it. Engines deliver them all at one instant.
func (w *World) FaultTargets(f Fault, fn func(Addr, Input)) {
	in := Input{Kind: InFault, Fault: f}
	switch f.Kind {
	case FaultGatewayDown:
		fn(GatewayAddr, in)
		link := Input{Kind: InFault, Fault: Fault{Kind: FaultLinkDown}}
		for i := range w.Cameras {
			fn(CameraAddr(DeviceID(i)), link)
		}
	case FaultGatewayUp:
		fn(GatewayAddr, in)
	case FaultCacheRestart, FaultCacheDown, FaultCacheUp:
		fn(CacheAddr, in)
	case FaultTransfer:
		fn(RegistryAddr, in)
		if w.Env.P.Mitigations.Has(InvalidateOnTransfer) {
			// The ownership write deletes the cached entry before it completes
			// (and before the camera is set up for its new owner): the cache
			// takes part in the write, at the version the registry wrote.
			inv := in
			inv.Fault.Version = w.Registry.Version[f.Device]
			fn(CacheAddr, inv)
		}
		fn(CameraAddr(f.Device), in)
	case FaultEventsTabOff:
		for i := range w.Workers {
			fn(WorkerAddr(i), in)
		}
		fn(StoreAddr, in)
	case FaultQuiesce:
		for i := range w.Cameras {
			fn(CameraAddr(DeviceID(i)), in)
		}
	case FaultLogin, FaultWebShared, FaultWebKeyed:
		if w.Env.P.Web.On {
			fn(WebAddr, in)
		}
	case FaultNotifierDefect, FaultNotifierFixed:
		if w.Env.P.Notifier {
			fn(NotifierAddr, in)
		}
	case FaultReplicaAuthOff, FaultReplicaAuthOn:
		if w.Env.P.Replica.On {
			fn(ReplicaAddr, in)
		}
	}
}

// Clone returns a deep copy.
func (w *World) Clone() *World {
	c := *w
	c.Cameras = append([]Camera(nil), w.Cameras...)
	c.Workers = make([]Worker, len(w.Workers))
	for i := range w.Workers {
		c.Workers[i] = w.Workers[i].clone()
	}
	c.Cache.Queue = append([]Queued(nil), w.Cache.Queue...)
	c.Cache.Data = append([]CacheEntry(nil), w.Cache.Data...)
	c.Registry.Owners = append([]Owners(nil), w.Registry.Owners...)
	c.Registry.Version = append([]uint32(nil), w.Registry.Version...)
	c.Store.Next = append([]uint32(nil), w.Store.Next...)
	return &c
}

func (w *Worker) clone() Worker {
	c := *w
	c.Conns = make([]PoolConn, len(w.Conns))
	for i, pc := range w.Conns {
		pc.Unread = append([]CacheReply(nil), pc.Unread...)
		c.Conns[i] = pc
	}
	c.Waiting = append([]PendingReq(nil), w.Waiting...)
	c.Slots = append([]Upload(nil), w.Slots...)
	c.Free = append([]uint32(nil), w.Free...)
	return c
}
