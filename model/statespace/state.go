package statespace

import "github.com/stormproof/stormproof/model"

// mstate is one concrete global state of the model: every actor's state
// (the model's own World), the FIFO channels, the armed timers and what is
// left of the configuration's fault and timeout budgets. The monitor (ghost
// state) is kept beside it by the expander.
type mstate struct {
	w      model.World
	ch     [][]model.Msg
	timers uint64 // bit timerBit(actor, id) set: armed
	bud    budgets

	// Backing storage the copies reuse: the model reslices and nils these
	// slices as it steps, so the state keeps its own references.
	chBuf    [][]model.Msg
	wbuf     []model.WorkerStorage
	queueBuf []model.Queued
}

// Premature-timeout kinds: a timeout that fires while its answer may still
// arrive (model.World.Premature) spends one unit of its kind's budget. The
// budgets are indexed by the model's Timeout less one.
const NumPremature = int(model.TimeoutUpload)

type budgets struct {
	outages   uint8  // gateway outages that may still begin
	restarts  uint8  // cache restarts left
	transfers uint16 // bit i: transfer i has happened
	tabOff    bool   // the events-tab kill switch has flipped
	premature [NumPremature]uint8

	// The other incidents' (encoded only when the part is configured):
	// windows that may still open and whether one is open now, and the
	// logins each account may still make.
	windows [numWindows]window
	logins  [MaxAccounts]uint8
}

// A window is a fault that begins and later ends (its pair of faults).
type window struct {
	left uint8 // openings left
	open bool
}

const numWindows = int(model.NumWindows)

func newMState(l *layout, w *model.World) *mstate {
	st := &mstate{
		ch:    make([][]model.Msg, l.nChan),
		chBuf: make([][]model.Msg, l.nChan),
		wbuf:  make([]model.WorkerStorage, l.nW),
	}
	for i := range st.wbuf {
		st.wbuf[i].Unread = make([][]model.CacheReply, l.pool)
	}
	st.w = *w
	st.w.Cameras = append([]model.Camera(nil), w.Cameras...)
	st.w.Workers = make([]model.Worker, len(w.Workers))
	for i := range st.w.Workers {
		// Every field the world was built with (a worker's fixed settings too);
		// the slices are the state's own.
		st.w.Workers[i] = w.Workers[i]
		st.w.Workers[i].Conns = make([]model.PoolConn, l.pool)
		st.w.Workers[i].Waiting, st.w.Workers[i].Slots, st.w.Workers[i].Free = nil, nil, nil
	}
	st.w.Cache.Data = append([]model.CacheEntry(nil), w.Cache.Data...)
	st.w.Registry.Owners = append([]model.Owners(nil), w.Registry.Owners...)
	st.w.Registry.Version = append([]uint32(nil), w.Registry.Version...)
	st.w.Store.Next = append([]uint32(nil), w.Store.Next...)
	return st
}

// dirty records what a transition may have changed in a copy of a state:
// the actors it stepped and the channels it sent on or delivered from.
// The expander restores only these between successors (a whole copy per
// successor would cost more than applying the transition); timers and
// budgets are always copied.
type dirty struct {
	all     bool
	cams    uint64 // bit d: camera d
	workers uint64 // bit w: worker w
	kinds   uint32 // bit k: the single actor of kind k (cache, registry, …)
	chans   uint64 // bit i: channel i
}

// stepped marks actor a as changed.
func (d *dirty) stepped(a model.Addr) {
	switch a.Kind {
	case model.KindCamera:
		d.cams |= 1 << a.Index
	case model.KindWorker:
		d.workers |= 1 << a.Index
	default:
		d.kinds |= 1 << a.Kind
	}
}

func (d *dirty) kind(k model.Kind) bool { return d.all || d.kinds&(1<<k) != 0 }

// cam reports whether camera c or one of its channels may have changed
// (what its attempt numbers are ranked from).
func (d *dirty) cam(l *layout, c int) bool {
	return d.all || d.cams&(1<<c) != 0 || d.chans&(1<<(l.camUp+c)|1<<(l.camDown+c)) != 0
}

// conn reports whether cache connection k (worker*pool+conn) may have
// changed: its worker, its channels or the cache's queue (what its
// generations and tokens are ranked from).
func (d *dirty) conn(l *layout, k int) bool {
	return d.kind(model.KindCache) || d.workers&(1<<(k/l.pool)) != 0 ||
		d.chans&(1<<(l.wToCache+k)|1<<(l.cacheToW+k)) != 0
}

// copyFrom makes st a deep copy of src, reusing st's storage.
func (st *mstate) copyFrom(src *mstate) { st.restore(src, &dirty{all: true}) }

// restore makes st a deep copy of src again, given that st was one before
// the changes d records; it reuses st's storage.
func (st *mstate) restore(src *mstate, d *dirty) {
	dw, sw := &st.w, &src.w
	switch {
	case d.all:
		copy(dw.Cameras, sw.Cameras)
	default:
		for m := d.cams; m != 0; m &= m - 1 {
			i := trailingZeros(m)
			dw.Cameras[i] = sw.Cameras[i]
		}
	}
	if d.kind(model.KindGateway) {
		dw.Gateway = sw.Gateway
	}
	for i := range sw.Workers {
		if !d.all && d.workers&(1<<i) == 0 {
			continue
		}
		dk, sk := &dw.Workers[i], &sw.Workers[i]
		conns := dk.Conns
		*dk = *sk // every field, then the slices into the state's own storage
		dk.Conns = conns
		buf := &st.wbuf[i]
		for c := range sk.Conns {
			u := copyInto(&buf.Unread[c], sk.Conns[c].Unread)
			dk.Conns[c] = sk.Conns[c]
			dk.Conns[c].Unread = u
		}
		dk.Waiting = copyInto(&buf.Waiting, sk.Waiting)
		dk.Slots = copyInto(&buf.Slots, sk.Slots)
		dk.Free = copyInto(&buf.Free, sk.Free)
	}
	if d.kind(model.KindCache) {
		data := dw.Cache.Data
		dw.Cache = sw.Cache
		dw.Cache.Data = data
		copy(dw.Cache.Data, sw.Cache.Data)
		dw.Cache.Queue = copyInto(&st.queueBuf, sw.Cache.Queue)
	}
	if d.kind(model.KindRegistry) {
		owners, versions := dw.Registry.Owners, dw.Registry.Version
		dw.Registry = sw.Registry
		dw.Registry.Owners, dw.Registry.Version = owners, versions
		copy(dw.Registry.Owners, sw.Registry.Owners)
		copy(dw.Registry.Version, sw.Registry.Version)
	}
	if d.kind(model.KindStore) {
		next := dw.Store.Next
		dw.Store = sw.Store
		dw.Store.Next = next
		copy(dw.Store.Next, sw.Store.Next)
	}
	if d.kind(model.KindWeb) {
		dw.Web = sw.Web
	}
	if d.kind(model.KindNotifier) {
		dw.Notifier = sw.Notifier
	}
	if d.kind(model.KindReplica) {
		dw.Replica = sw.Replica
	}
	if d.kind(model.KindReader) {
		dw.Reader = sw.Reader
	}
	if d.all {
		for i := range src.ch {
			st.ch[i] = copyInto(&st.chBuf[i], src.ch[i])
		}
	} else {
		for m := d.chans; m != 0; m &= m - 1 {
			i := trailingZeros(m)
			st.ch[i] = copyInto(&st.chBuf[i], src.ch[i])
		}
	}
	st.timers = src.timers
	st.bud = src.bud
	*d = dirty{}
}

// copyInto copies src into *buf's storage and returns the copy (empty but
// with the storage's capacity when src is empty, so appends do not allocate).
func copyInto[T any](buf *[]T, src []T) []T {
	b := append((*buf)[:0], src...)
	*buf = b
	return b
}

// filled has bit i set when channel i holds a message.
func (st *mstate) filled() uint64 {
	var m uint64
	for i, c := range st.ch {
		if len(c) > 0 {
			m |= 1 << i
		}
	}
	return m
}

// busy reports whether any message is in flight.
func (st *mstate) busy() bool {
	for _, c := range st.ch {
		if len(c) > 0 {
			return true
		}
	}
	return false
}
