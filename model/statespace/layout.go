package statespace

import (
	"fmt"

	"github.com/stormproof/stormproof/model"
)

// layout numbers the channels and timers of a configuration, as the
// model declares them (model.Channels, model.TimerKinds, model.NumTimers).
// A channel is one FIFO per (sender, receiver, cache-connection lane); its
// index fixes the order in which the explorer tries deliveries and encodes
// states.
type layout struct {
	nCam, nAcct, nW, pool int
	parts                 parts

	// The first channels of the groups the codec and the system read by
	// name.
	camUp, camDown, gwToW, wToGw, wToCache, cacheToW int
	nChan                                            int
	chans                                            []chanDef
	groups                                           [numKinds][numKinds]group

	// Timers: the first bit of each kind and how many each actor has.
	timerBase, timerN [numKinds]int
	// Timer bits of the other incidents' actors (-1 when absent).
	webTimer, readerTimer int
	nTimers               int

	// Actors, numbered for the partial-order reduction (numberActors):
	// the first index of each kind and each actor's input channels.
	actors    []model.Addr
	actorBase [numKinds]int
	inChans   [][]int
}

const numKinds = int(model.KindEngine)

// group is where a channel group's channels are (n == 0: no such group).
type group struct {
	base, nTo, lanes, n int
}

// parts are the other incidents' actors a configuration has. Their
// channels and timers come after the 2024 world's, so a configuration
// without them has exactly the layout of the 2024 world alone.
type parts struct {
	web, notifier, replica bool
}

type chanDef struct {
	from, to model.Addr
	lane     uint16
	// perm says how a renaming moves the channel: 0 fixed, 1 by camera, 2 by account.
	perm uint8
	idx  int // the camera or account index it is moved by
}

func newLayout(nCam, nAcct, nW, pool int, pt parts) *layout {
	l := &layout{nCam: nCam, nAcct: nAcct, nW: nW, pool: pool, parts: pt, webTimer: -1, readerTimer: -1}
	p := &model.Params{PoolSize: pool, Web: model.WebParams{On: pt.web}, Notifier: pt.notifier, Replica: model.ReplicaParams{On: pt.replica}}
	count := func(k model.Kind) int {
		switch k {
		case model.KindCamera:
			return nCam
		case model.KindApp:
			return nAcct
		case model.KindWorker:
			return nW
		}
		return model.Count(p, k)
	}
	addr := func(k model.Kind, i int) model.Addr { return model.Addr{Kind: k, Index: uint32(i)} }
	for _, g := range model.Channels(p) {
		nFrom, nTo := count(g.From), count(g.To)
		l.groups[g.From][g.To] = group{base: len(l.chans), nTo: nTo, lanes: g.Lanes, n: nFrom * nTo * g.Lanes}
		for i := 0; i < nFrom; i++ {
			for j := 0; j < nTo; j++ {
				// A channel moves with the renamed actor at either end.
				var perm uint8
				idx := 0
				for _, end := range []struct {
					k model.Kind
					i int
				}{{g.From, i}, {g.To, j}} {
					switch model.Renamed(end.k) {
					case model.KindCamera:
						perm, idx = 1, end.i
					case model.KindApp:
						perm, idx = 2, end.i
					}
				}
				for lane := 0; lane < g.Lanes; lane++ {
					l.chans = append(l.chans, chanDef{from: addr(g.From, i), to: addr(g.To, j), lane: uint16(lane), perm: perm, idx: idx})
				}
			}
		}
	}
	l.nChan = len(l.chans)
	base := func(from, to model.Kind) int { return l.groups[from][to].base }
	l.camUp, l.camDown = base(model.KindCamera, model.KindGateway), base(model.KindGateway, model.KindCamera)
	l.gwToW, l.wToGw = base(model.KindGateway, model.KindWorker), base(model.KindWorker, model.KindGateway)
	l.wToCache, l.cacheToW = base(model.KindWorker, model.KindCache), base(model.KindCache, model.KindWorker)
	for _, k := range model.TimerKinds {
		if count(k) == 0 {
			continue // absent: no bits
		}
		l.timerBase[k], l.timerN[k] = l.nTimers, model.NumTimers(p, k)
		l.nTimers += count(k) * l.timerN[k]
	}
	if pt.web {
		l.webTimer = l.timerBase[model.KindWeb]
	}
	if pt.replica {
		l.readerTimer = l.timerBase[model.KindReader]
	}
	l.numberActors(p)
	return l
}

// chanOf is the channel a message from `from` to `to` on lane travels.
func (l *layout) chanOf(from, to model.Addr, lane uint16) int {
	g := &l.groups[from.Kind][to.Kind]
	if g.n == 0 {
		panic(fmt.Sprintf("explore: no channel from %v to %v", from, to))
	}
	if g.lanes == 1 {
		lane = 0 // only cache connections have lanes
	}
	return g.base + (int(from.Index)*g.nTo+int(to.Index))*g.lanes + int(lane)
}

// timerBit is the bit of actor a's timer id in mstate.timers.
func (l *layout) timerBit(a model.Addr, id uint16) uint {
	n := l.timerN[a.Kind]
	if n == 0 {
		panic(fmt.Sprintf("explore: %v has no timers", a))
	}
	return uint(l.timerBase[a.Kind] + int(a.Index)*n + int(id))
}

// timerOf is the inverse of timerBit.
func (l *layout) timerOf(bit uint) (model.Addr, uint16) {
	b := int(bit)
	for i := len(model.TimerKinds) - 1; i >= 0; i-- {
		k := model.TimerKinds[i]
		if n := l.timerN[k]; n > 0 && b >= l.timerBase[k] {
			b -= l.timerBase[k]
			return model.Addr{Kind: k, Index: uint32(b / n)}, uint16(b % n)
		}
	}
	panic(fmt.Sprintf("explore: no timer bit %d", bit))
}
