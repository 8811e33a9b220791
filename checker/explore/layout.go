package explore

import (
	"fmt"

	"github.com/stormproof/stormproof/model"
)

// layout numbers the channels and timers of a configuration. A channel is
// one FIFO per (sender, receiver, cache-connection lane); its index fixes
// the order in which the explorer tries deliveries and encodes states.
type layout struct {
	nCam, nAcct, nW, pool int
	parts                 parts

	camUp, camDown, gwToW, wToGw, wToCache, cacheToW, regToCache, wToReg, regToW,
	wToStore, storeToW, wToApp, appToStore, storeToReg, regToStore int
	// The other incidents' channels (-1 when the part is absent).
	webToReg, regToWeb, wToNotif, notifToApp, readerToRep, repToReader int
	nChan                                                              int
	chans                                                              []chanDef

	// Timer bits of the other incidents' actors (-1 when absent).
	webTimer, readerTimer int
	nTimers               int
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
	l := &layout{nCam: nCam, nAcct: nAcct, nW: nW, pool: pool, parts: pt,
		webToReg: -1, regToWeb: -1, wToNotif: -1, notifToApp: -1, readerToRep: -1, repToReader: -1,
		webTimer: -1, readerTimer: -1}
	add := func(from, to model.Addr, lane uint16, perm uint8, idx int) {
		l.chans = append(l.chans, chanDef{from: from, to: to, lane: lane, perm: perm, idx: idx})
	}
	l.camUp = len(l.chans)
	for d := 0; d < nCam; d++ {
		add(model.CameraAddr(model.DeviceID(d)), model.GatewayAddr, 0, 1, d)
	}
	l.camDown = len(l.chans)
	for d := 0; d < nCam; d++ {
		add(model.GatewayAddr, model.CameraAddr(model.DeviceID(d)), 0, 1, d)
	}
	l.gwToW = len(l.chans)
	for w := 0; w < nW; w++ {
		add(model.GatewayAddr, model.WorkerAddr(w), 0, 0, 0)
	}
	l.wToGw = len(l.chans)
	for w := 0; w < nW; w++ {
		add(model.WorkerAddr(w), model.GatewayAddr, 0, 0, 0)
	}
	l.wToCache = len(l.chans)
	for w := 0; w < nW; w++ {
		for c := 0; c < pool; c++ {
			add(model.WorkerAddr(w), model.CacheAddr, uint16(c), 0, 0)
		}
	}
	l.cacheToW = len(l.chans)
	for w := 0; w < nW; w++ {
		for c := 0; c < pool; c++ {
			add(model.CacheAddr, model.WorkerAddr(w), uint16(c), 0, 0)
		}
	}
	l.regToCache = len(l.chans)
	add(model.RegistryAddr, model.CacheAddr, 0, 0, 0)
	l.wToReg = len(l.chans)
	for w := 0; w < nW; w++ {
		add(model.WorkerAddr(w), model.RegistryAddr, 0, 0, 0)
	}
	l.regToW = len(l.chans)
	for w := 0; w < nW; w++ {
		add(model.RegistryAddr, model.WorkerAddr(w), 0, 0, 0)
	}
	l.wToStore = len(l.chans)
	for w := 0; w < nW; w++ {
		add(model.WorkerAddr(w), model.StoreAddr, 0, 0, 0)
	}
	l.storeToW = len(l.chans)
	for w := 0; w < nW; w++ {
		add(model.StoreAddr, model.WorkerAddr(w), 0, 0, 0)
	}
	l.wToApp = len(l.chans)
	for w := 0; w < nW; w++ {
		for a := 0; a < nAcct; a++ {
			add(model.WorkerAddr(w), model.AppAddr(model.AccountID(a)), 0, 2, a)
		}
	}
	l.appToStore = len(l.chans)
	for a := 0; a < nAcct; a++ {
		add(model.AppAddr(model.AccountID(a)), model.StoreAddr, 0, 2, a)
	}
	l.storeToReg = len(l.chans)
	add(model.StoreAddr, model.RegistryAddr, 0, 0, 0)
	l.regToStore = len(l.chans)
	add(model.RegistryAddr, model.StoreAddr, 0, 0, 0)
	l.nTimers = 3*nCam + 2 + nW*pool
	if pt.web {
		l.webToReg = len(l.chans)
		add(model.WebAddr, model.RegistryAddr, 0, 0, 0)
		l.regToWeb = len(l.chans)
		add(model.RegistryAddr, model.WebAddr, 0, 0, 0)
		l.webTimer = l.nTimers
		l.nTimers++
	}
	if pt.notifier {
		l.wToNotif = len(l.chans)
		for w := 0; w < nW; w++ {
			add(model.WorkerAddr(w), model.NotifierAddr, 0, 0, 0)
		}
		l.notifToApp = len(l.chans)
		for a := 0; a < nAcct; a++ {
			add(model.NotifierAddr, model.AppAddr(model.AccountID(a)), 0, 2, a)
		}
	}
	if pt.replica {
		l.readerToRep = len(l.chans)
		add(model.ReaderAddr, model.ReplicaAddr, 0, 0, 0)
		l.repToReader = len(l.chans)
		add(model.ReplicaAddr, model.ReaderAddr, 0, 0, 0)
		l.readerTimer = l.nTimers
		l.nTimers++
	}
	l.nChan = len(l.chans)
	return l
}

// chanOf is the channel a message from `from` to `to` on lane travels.
func (l *layout) chanOf(from, to model.Addr, lane uint16) int {
	bad := func() int {
		panic(fmt.Sprintf("explore: no channel from %v to %v", from, to))
	}
	switch from.Kind {
	case model.KindCamera:
		if to.Kind == model.KindGateway {
			return l.camUp + int(from.Index)
		}
	case model.KindGateway:
		switch to.Kind {
		case model.KindCamera:
			return l.camDown + int(to.Index)
		case model.KindWorker:
			return l.gwToW + int(to.Index)
		}
	case model.KindWorker:
		w := int(from.Index)
		switch to.Kind {
		case model.KindGateway:
			return l.wToGw + w
		case model.KindCache:
			return l.wToCache + w*l.pool + int(lane)
		case model.KindRegistry:
			return l.wToReg + w
		case model.KindStore:
			return l.wToStore + w
		case model.KindApp:
			return l.wToApp + w*l.nAcct + int(to.Index)
		case model.KindNotifier:
			if l.wToNotif >= 0 {
				return l.wToNotif + w
			}
		}
	case model.KindCache:
		if to.Kind == model.KindWorker {
			return l.cacheToW + int(to.Index)*l.pool + int(lane)
		}
	case model.KindRegistry:
		switch to.Kind {
		case model.KindCache:
			return l.regToCache
		case model.KindWorker:
			return l.regToW + int(to.Index)
		case model.KindStore:
			return l.regToStore
		case model.KindWeb:
			if l.regToWeb >= 0 {
				return l.regToWeb
			}
		}
	case model.KindStore:
		switch to.Kind {
		case model.KindWorker:
			return l.storeToW + int(to.Index)
		case model.KindRegistry:
			return l.storeToReg
		}
	case model.KindApp:
		if to.Kind == model.KindStore {
			return l.appToStore + int(from.Index)
		}
	case model.KindWeb:
		if to.Kind == model.KindRegistry && l.webToReg >= 0 {
			return l.webToReg
		}
	case model.KindNotifier:
		if to.Kind == model.KindApp && l.notifToApp >= 0 {
			return l.notifToApp + int(to.Index)
		}
	case model.KindReader:
		if to.Kind == model.KindReplica && l.readerToRep >= 0 {
			return l.readerToRep
		}
	case model.KindReplica:
		if to.Kind == model.KindReader && l.repToReader >= 0 {
			return l.repToReader
		}
	}
	return bad()
}

// timerBit is the bit of actor a's timer id in mstate.timers.
func (l *layout) timerBit(a model.Addr, id uint16) uint {
	switch a.Kind {
	case model.KindCamera:
		return uint(3*int(a.Index) + int(id))
	case model.KindGateway:
		return uint(3 * l.nCam)
	case model.KindCache:
		return uint(3*l.nCam + 1)
	case model.KindWorker:
		return uint(3*l.nCam + 2 + int(a.Index)*l.pool + int(id))
	case model.KindWeb:
		if l.webTimer >= 0 {
			return uint(l.webTimer)
		}
	case model.KindReader:
		if l.readerTimer >= 0 {
			return uint(l.readerTimer)
		}
	}
	panic(fmt.Sprintf("explore: %v has no timers", a))
}

// timerOf is the inverse of timerBit.
func (l *layout) timerOf(bit uint) (model.Addr, uint16) {
	b := int(bit)
	switch {
	case b < 3*l.nCam:
		return model.CameraAddr(model.DeviceID(b / 3)), uint16(b % 3)
	case b == 3*l.nCam:
		return model.GatewayAddr, 0
	case b == 3*l.nCam+1:
		return model.CacheAddr, 0
	case b == l.webTimer:
		return model.WebAddr, 0
	case b == l.readerTimer:
		return model.ReaderAddr, 0
	}
	b -= 3*l.nCam + 2
	return model.WorkerAddr(b / l.pool), uint16(b % l.pool)
}
