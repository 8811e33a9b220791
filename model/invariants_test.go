package model

import "testing"

// Ownership is the order of own lines, whatever their version labels: the
// owners at each capture are those of the latest own line before it.
func TestMonitorOwnershipByOrder(t *testing.T) {
	m := NewMonitor(1)
	own(m, t, 0, 7, 1)
	obs(m, t, Obs{Kind: ObsCapture, Device: 0, Seq: 0})
	own(m, t, 0, 1000, 2)
	obs(m, t, Obs{Kind: ObsCapture, Device: 0, Seq: 1})
	obs(m, t, Obs{Kind: ObsCapture, Device: 0, Seq: 2})
	own(m, t, 0, 4294967295, 3)
	obs(m, t, Obs{Kind: ObsCapture, Device: 0, Seq: 3})
	for seq, want := range []AccountID{1, 2, 2, 3} {
		if got := m.AuthorizedAtCapture(0, uint32(seq)); got.N != 1 || got.IDs[0] != want {
			t.Errorf("owners at capture of 0/%d: %v, want [%d]", seq, got, want)
		}
	}
	if _, err := m.Observe(0, &Obs{Kind: ObsOwn, Device: 0, Owners: MakeOwners(4), Version: 4294967295}); err == nil {
		t.Error("a version that does not increase must be an error")
	}
}

// AtMostOnce after the watermark has forgotten an event: a second delivery
// to its owner is a repeat; a first delivery after a drop or a refusal is
// not, the second is.
func TestMonitorAtMostOnceAfterResolution(t *testing.T) {
	m := NewMonitor(1)
	own(m, t, 0, 0, 1)
	for s := uint32(0); s < 3; s++ {
		obs(m, t, Obs{Kind: ObsCapture, Device: 0, Seq: s})
	}
	if vs := obs(m, t, Obs{Kind: ObsDeliver, Device: 0, Seq: 0, Account: 1}); len(vs) != 0 {
		t.Fatalf("first delivery: %v", vs)
	}
	if vs := obs(m, t, Obs{Kind: ObsDeliver, Device: 0, Seq: 0, Account: 1}); len(vs) != 1 || vs[0].Inv != AtMostOnce {
		t.Fatalf("repeat after the watermark passed the event: %v", vs)
	}
	obs(m, t, Obs{Kind: ObsDrop, Device: 0, Seq: 1, Reason: ReasonBufferFull})
	obs(m, t, Obs{Kind: ObsRefused, Device: 0, Seq: 2, Account: 1, Reason: ReasonEventsTabOff})
	for _, s := range []uint32{1, 2} {
		if vs := obs(m, t, Obs{Kind: ObsDeliver, Device: 0, Seq: s, Account: 1}); len(vs) != 0 {
			t.Fatalf("first delivery of 0/%d after its loss was recorded: %v", s, vs)
		}
		if vs := obs(m, t, Obs{Kind: ObsDeliver, Device: 0, Seq: s, Account: 1}); len(vs) != 1 || vs[0].Inv != AtMostOnce {
			t.Fatalf("second delivery of 0/%d: %v", s, vs)
		}
	}
	if q := m.Quiet(9); len(q) != 0 {
		t.Errorf("every event reached its owner: %v", q)
	}
}

// A monitor decoded from its encoding judges the rest of a stream as the
// original does, rule and partial flag included.
func TestMonitorEncodingKeepsTheRule(t *testing.T) {
	m := NewMonitor(2)
	m.Rule = OwnerAtCaptureOrDelivery
	own(m, t, 0, 0, 1)
	obs(m, t, Obs{Kind: ObsCapture, Device: 0, Seq: 0})
	own(m, t, 0, 1, 2)
	var md MonitorDecoder
	d, rest, err := md.Decode(m.AppendState(nil, nil, nil), 2)
	if err != nil || len(rest) != 0 {
		t.Fatalf("decode: %v (%d bytes left)", err, len(rest))
	}
	if d.Rule != OwnerAtCaptureOrDelivery || !d.Authorized(0, 0, 2) || !d.Authorized(0, 0, 1) || d.Authorized(0, 0, 3) {
		t.Errorf("decoded monitor: rule %v, buyer %v, seller %v", d.Rule, d.Authorized(0, 0, 2), d.Authorized(0, 0, 1))
	}
}
