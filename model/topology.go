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
