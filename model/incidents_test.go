package model

import (
	"testing"
	"time"
)

func incidentEnv(m Mitigations) *Env {
	return &Env{P: &Params{Design: Design{Mitigations: m}, Web: WebParams{On: true, TTL: Const(time.Minute)},
		Notifier: true, Replica: ReplicaParams{On: true, AlarmAfter: 2, MaxProbes: 2}},
		Fleet: &Fleet{Accounts: 3, Integrations: []bool{false, true, false}}}
}

// login delivers a login and, if the portal asks the registry, its answer:
// account a's page shows camera cam.
func login(w *Web, env *Env, ctx *recCtx, a AccountID, sess uint32, cam DeviceID) {
	n := len(ctx.sent)
	w.Step(env, WebAddr, &Input{Kind: InFault, Fault: Fault{Kind: FaultLogin, Account: a, Session: sess}}, ctx)
	if len(ctx.sent) > n && ctx.sent[len(ctx.sent)-1].Type == MsgWebPageReq {
		req := ctx.sent[len(ctx.sent)-1]
		w.Step(env, WebAddr, &Input{Kind: InMsg, Msg: Msg{Type: MsgWebPage, Account: a, Slot: sess, Flag: req.Flag,
			Ev: EventRef{Device: cam, Stamp: MakeOwners(a)}}}, ctx)
	}
}

func streams(ctx *recCtx) map[uint32]DeviceID {
	out := map[uint32]DeviceID{}
	for _, o := range ctx.find(ObsStream) {
		out[o.Slot] = o.Device
	}
	return out
}

func TestWebSharedKeyServesTheFirstPageToAll(t *testing.T) {
	env := incidentEnv(0)
	w, ctx := &Web{}, newRec()
	login(w, env, ctx, 0, 0, 10) // before the fault: own page
	w.Step(env, WebAddr, &Input{Kind: InFault, Fault: Fault{Kind: FaultWebShared}}, ctx)
	login(w, env, ctx, 1, 1, 11) // fills the shared entry
	login(w, env, ctx, 2, 2, 12) // reads account 1's page
	if got := streams(ctx); got[0] != 10 || got[1] != 11 || got[2] != 11 {
		t.Fatalf("streams %v, want session 2 shown camera 11", got)
	}
	if _, armed := ctx.armed[TWebTTL]; !armed {
		t.Fatal("the shared entry has no expiry")
	}
	w.Step(env, WebAddr, &Input{Kind: InTimer, Timer: TWebTTL}, ctx) // expires
	login(w, env, ctx, 2, 3, 12)
	w.Step(env, WebAddr, &Input{Kind: InFault, Fault: Fault{Kind: FaultWebKeyed}}, ctx)
	login(w, env, ctx, 0, 4, 10)
	if got := streams(ctx); got[3] != 12 || got[4] != 10 || w.Entry.Present {
		t.Fatalf("after expiry and the fix: streams %v, entry %+v", got, w.Entry)
	}
}

func TestWebFixes(t *testing.T) {
	for _, m := range []Mitigation{KeyInValue, BypassCacheOwnership, StampedMedia, VerifyOnView} {
		env := incidentEnv(Mitigations(0).With(m))
		w, ctx := &Web{Shared: true}, newRec()
		login(w, env, ctx, 1, 1, 11)
		login(w, env, ctx, 2, 2, 12)
		switch m {
		case StampedMedia:
			if r := ctx.find(ObsStreamRefused); len(r) != 1 || r[0].Account != 2 || r[0].Reason != ReasonStampMismatch {
				t.Errorf("%v: refusals %+v", m, r)
			}
		case VerifyOnView:
			if c, ok := ctx.last(MsgViewCheck); !ok || c.View != ViewLive || c.Slot != 2 || c.Account != 2 || c.Ev.Device != 11 {
				t.Errorf("%v: check %+v", m, c)
			}
		default:
			if got := streams(ctx); got[2] != 12 {
				t.Errorf("%v: session 2 shown camera %d, want its own 12", m, got[2])
			}
		}
	}
}

func TestNotifierOffByOne(t *testing.T) {
	env := incidentEnv(0)
	n, ctx := &Notifier{}, newRec()
	notify := func(d DeviceID, a AccountID) {
		n.Step(env, NotifierAddr, &Input{Kind: InMsg, Msg: Msg{Type: MsgNotify, Ev: EventRef{Device: d, Stamp: MakeOwners(a)}, Owners: MakeOwners(a)}}, ctx)
	}
	notify(0, 0)
	n.Step(env, NotifierAddr, &Input{Kind: InFault, Fault: Fault{Kind: FaultNotifierDefect}}, ctx)
	notify(1, 1) // gets nobody (no previous row)
	notify(2, 2) // gets account 1
	n.Step(env, NotifierAddr, &Input{Kind: InFault, Fault: Fault{Kind: FaultNotifierFixed}}, ctx)
	notify(0, 0)
	var got []AccountID
	for i, m := range ctx.sent {
		if m.Type == MsgPush {
			got = append(got, ctx.to[i].Account())
		}
	}
	if len(got) != 3 || got[0] != 0 || got[1] != 1 || got[2] != 0 {
		t.Fatalf("pushes to %v, want [0 1 0]", got)
	}
	if o := ctx.find(ObsNotify); len(o) != 4 || !o[2].Flag || o[2].To != MakeOwners(1) || o[2].Owners != MakeOwners(2) {
		t.Fatalf("notify lines %+v", o)
	}
	// The stamp check at the last hop refuses the misrouted push.
	env = incidentEnv(Mitigations(0).With(StampedMedia))
	n, ctx = &Notifier{Defect: true, Last: MakeOwners(1)}, newRec()
	notify(2, 2)
	if r := ctx.find(ObsRefused); len(r) != 1 || r[0].Account != 1 || len(ctx.sent) != 0 {
		t.Fatalf("stamped-media: refusals %+v, sent %+v", r, ctx.sent)
	}
}

func TestReplica(t *testing.T) {
	read := func(r *Replica, env *Env, ctx *recCtx, doc uint32) {
		r.Step(env, ReplicaAddr, &Input{Kind: InMsg, Msg: Msg{Type: MsgReplicaRead, Slot: doc, Account: NoAccount, From: ReaderAddr}}, ctx)
	}
	env := incidentEnv(0)
	r, ctx := &Replica{}, newRec()
	read(r, env, ctx, 0)
	r.Step(env, ReplicaAddr, &Input{Kind: InFault, Fault: Fault{Kind: FaultReplicaAuthOff}}, ctx)
	read(r, env, ctx, 1)
	if ref, rd := ctx.find(ObsReadRefused), ctx.find(ObsRead); len(ref) != 1 || len(rd) != 1 ||
		rd[0].Fields != FieldEmail|FieldDevice|FieldSSID|FieldToken || rd[0].Owners != MakeOwners(1) {
		t.Fatalf("refused %+v, read %+v", ref, rd)
	}
	env = incidentEnv(Mitigations(0).With(ConfigGuard))
	r, ctx = &Replica{}, newRec()
	r.Step(env, ReplicaAddr, &Input{Kind: InFault, Fault: Fault{Kind: FaultReplicaAuthOff}}, ctx)
	read(r, env, ctx, 1)
	if len(ctx.find(ObsConfigRefused)) != 1 || len(ctx.find(ObsRead)) != 0 {
		t.Fatalf("config-guard: %+v", ctx.obs)
	}
	env = incidentEnv(Mitigations(0).With(ExposureAlarm).With(DataMinimisation))
	r, ctx = &Replica{Open: true}, newRec()
	for doc := uint32(0); doc < 3; doc++ {
		read(r, env, ctx, doc)
	}
	rd := ctx.find(ObsRead)
	if len(rd) != 2 || len(ctx.find(ObsAlarm)) != 1 || rd[1].Fields&FieldToken != 0 || r.Open {
		t.Fatalf("alarm after 2, no tokens: reads %+v", rd)
	}
}

func TestReaderGivesUp(t *testing.T) {
	env := incidentEnv(0)
	r, ctx := &Reader{}, newRec()
	r.Step(env, ReaderAddr, &Input{Kind: InInit}, ctx)
	reply := func(ok bool) {
		r.Step(env, ReaderAddr, &Input{Kind: InTimer, Timer: TReader}, ctx)
		r.Step(env, ReaderAddr, &Input{Kind: InMsg, Msg: Msg{Type: MsgReplicaReply, Slot: r.Next, Flag: ok}}, ctx)
	}
	reply(false)
	reply(true)
	reply(true)
	if r.State != ReaderScanning || r.Next != 2 {
		t.Fatalf("reader %+v", r)
	}
	reply(false) // locked out while scanning: done
	if r.State != ReaderDone {
		t.Fatalf("reader %+v", r)
	}
	r, ctx = &Reader{}, newRec()
	reply(false)
	reply(false)
	if r.State != ReaderDone || r.Probes != 2 {
		t.Fatalf("after MaxProbes refusals: %+v", r)
	}
}

func TestMonitorStreamsAndReads(t *testing.T) {
	m := NewMonitor(2)
	for d := DeviceID(0); d < 2; d++ {
		if _, err := m.Observe(0, &Obs{Kind: ObsOwn, Device: d, Owners: MakeOwners(AccountID(d))}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		o    Obs
		want Invariant
		ok   bool
	}{
		{Obs{Kind: ObsStream, Device: 0, Account: 0}, 0, true},
		{Obs{Kind: ObsStream, Device: 0, Account: 1, Slot: 7}, NoForeignStream, false},
		{Obs{Kind: ObsRead, Account: 1, Owners: MakeOwners(1)}, 0, true},
		{Obs{Kind: ObsRead, Account: NoAccount, Owners: MakeOwners(1), Fields: FieldEmail}, NoForeignRead, false},
	} {
		vs, err := m.Observe(1, &c.o)
		if err != nil {
			t.Fatal(err)
		}
		if c.ok != (len(vs) == 0) || (!c.ok && (vs[0].Inv != c.want || vs[0].String() == "")) {
			t.Errorf("%+v: violations %+v", c.o, vs)
		}
	}
	if _, err := m.Observe(2, &Obs{Kind: ObsStream, Device: 5}); err == nil {
		t.Error("a stream of a device out of range is accepted")
	}
}
