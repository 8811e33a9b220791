package model

import "testing"

// The link classes as the scenario's network section documents them:
// camera ⇄ gateway and app → store cross the WAN (lossy), pushes to a
// phone are their own class, the anonymous reader is on the internet over
// TCP (never lost), and everything else is inside the data centre (FIFO).
func TestLinkOf(t *testing.T) {
	cam, app, w := Addr{Kind: KindCamera, Index: 3}, Addr{Kind: KindApp, Index: 1}, Addr{Kind: KindWorker, Index: 0}
	reader, replica := Addr{Kind: KindReader}, Addr{Kind: KindReplica}
	for _, tc := range []struct {
		from, to Addr
		want     NetClass
	}{
		{cam, GatewayAddr, NetWAN}, {GatewayAddr, cam, NetWAN}, {app, StoreAddr, NetWAN},
		{w, app, NetPush}, {NotifierAddr, app, NetPush},
		{reader, replica, NetInternet}, {replica, reader, NetInternet},
		{w, CacheAddr, NetDC}, {CacheAddr, w, NetDC}, {w, RegistryAddr, NetDC}, {GatewayAddr, w, NetDC}, {RegistryAddr, StoreAddr, NetDC},
	} {
		got := LinkOf(tc.from, tc.to)
		if got != tc.want {
			t.Errorf("LinkOf(%v, %v) = %d, want %d", tc.from, tc.to, got, tc.want)
		}
		if got.FIFO() != (tc.want == NetDC) || got.Lossy() != (tc.want == NetWAN) {
			t.Errorf("%v → %v: FIFO %v lossy %v", tc.from, tc.to, got.FIFO(), got.Lossy())
		}
	}
}

// A down gateway is unreachable, and a camera that is not connected to it
// is offline; a connected one is not (it still holds its session).
func TestReachableOffline(t *testing.T) {
	w := &World{Cameras: make([]Camera, 2)}
	w.Cameras[1].State = CamConnected
	cam0, cam1 := Addr{Kind: KindCamera, Index: 0}, Addr{Kind: KindCamera, Index: 1}
	if !w.Reachable(GatewayAddr) || w.Offline(cam0) {
		t.Fatal("gateway up: unreachable or a camera offline")
	}
	w.Gateway.Down = true
	if w.Reachable(GatewayAddr) || !w.Reachable(CacheAddr) || !w.Reachable(cam0) {
		t.Error("gateway down: reachability")
	}
	if !w.Offline(cam0) || w.Offline(cam1) {
		t.Error("gateway down: a disconnected camera is offline, a connected one is not")
	}
}

// The fault menu holds the 2024 world's faults, the world's transfers in
// their order, then only the parts the world has; every window has an
// opening and a closing fault in it.
func TestFaultMenu(t *testing.T) {
	tr := []Fault{{Kind: FaultTransfer, Device: 1}, {Kind: FaultTransfer, Device: 0}}
	base := FaultMenu(&Params{}, 2, tr)
	if len(base) != 6 || base[0].Kind != FaultGatewayDown || base[4].Device != 1 || base[5].Device != 0 {
		t.Fatalf("2024 menu %+v", base)
	}
	all := FaultMenu(&Params{Web: WebParams{On: true}, Notifier: true, Replica: ReplicaParams{On: true}}, 2, nil)
	logins := 0
	var opens, closes [NumWindows]int
	for _, f := range all {
		if f.Kind == FaultLogin {
			logins++
		}
		if w, o, ok := WindowOf(f.Kind); ok {
			if o {
				opens[w]++
			} else {
				closes[w]++
			}
		}
	}
	if logins != 2 || opens != [NumWindows]int{1, 1, 1} || closes != [NumWindows]int{1, 1, 1} {
		t.Errorf("menu %+v: %d logins, windows opened %v closed %v", all, logins, opens, closes)
	}
	if _, _, ok := WindowOf(FaultGatewayDown); ok {
		t.Error("an outage is not a window of this kind")
	}
}

// Every actor a world has is an Actor at its address; an address the world
// has no actor at (a part it lacks, an index past its end) is none.
func TestWorldActor(t *testing.T) {
	w := &World{Env: incidentEnv(0), Cameras: make([]Camera, 2), Workers: make([]Worker, 1)}
	for _, a := range []Addr{CameraAddr(1), GatewayAddr, WorkerAddr(0), CacheAddr, RegistryAddr, StoreAddr,
		AppAddr(2), WebAddr, NotifierAddr, ReplicaAddr, ReaderAddr} {
		if w.Actor(a) == nil {
			t.Errorf("no actor at %v", a)
		}
	}
	if w.Actor(CameraAddr(1)) != Actor(&w.Cameras[1]) {
		t.Error("the camera's Actor is not the world's camera")
	}
	for _, a := range []Addr{CameraAddr(2), WorkerAddr(1), AppAddr(3), EngineAddr} {
		if w.Actor(a) != nil {
			t.Errorf("an actor at %v", a)
		}
	}
	w.Env = &Env{P: &Params{}, Fleet: &Fleet{Accounts: 1}}
	for _, a := range []Addr{WebAddr, NotifierAddr, ReplicaAddr, ReaderAddr} {
		if w.Actor(a) != nil {
			t.Errorf("a 2024 world has an actor at %v", a)
		}
	}
}
