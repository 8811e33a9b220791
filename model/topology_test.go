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
