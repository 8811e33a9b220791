package model

import (
	"testing"
	"time"
)

// recCtx records what an actor does, so a test can script its inputs.
type recCtx struct {
	sent   []Msg
	to     []Addr
	armed  map[uint16]Dur
	obs    []Obs
	chance bool
}

func newRec() *recCtx { return &recCtx{armed: map[uint16]Dur{}} }

func (r *recCtx) Send(to Addr, m Msg, _ Dur)      { r.sent = append(r.sent, m); r.to = append(r.to, to) }
func (r *recCtx) SetTimer(id uint16, d Dur)       { r.armed[id] = d }
func (r *recCtx) CancelTimer(id uint16)           { delete(r.armed, id) }
func (r *recCtx) Chance(_ Choice, p float64) bool { return r.chance && p > 0 }
func (r *recCtx) Observe(o Obs)                   { r.obs = append(r.obs, o) }
func (r *recCtx) last(t MsgType) (Msg, bool) {
	for i := len(r.sent) - 1; i >= 0; i-- {
		if r.sent[i].Type == t {
			return r.sent[i], true
		}
	}
	return Msg{}, false
}
func (r *recCtx) find(k ObsKind) []Obs {
	var out []Obs
	for _, o := range r.obs {
		if o.Kind == k {
			out = append(out, o)
		}
	}
	return out
}

func workerEnv(c ClientVariant, m Mitigations) *Env {
	return &Env{P: &Params{Design: Design{Client: c, Mitigations: m}, Workers: 1, PoolSize: 1,
		CacheTimeout: 100 * time.Millisecond, DialTimeout: time.Second}}
}

// upToLateReply scripts the 2024 story on one pooled connection: event A's
// GET times out, event B's GET goes out on the same connection, and then
// A's late reply arrives.
func upToLateReply(t *testing.T, env *Env) (*Worker, *recCtx) {
	t.Helper()
	w := &Worker{Client: env.P.Client}
	ctx := newRec()
	w.Step(env, WorkerAddr(0), &Input{Kind: InInit}, ctx)
	dial, _ := ctx.last(MsgCacheDial)
	w.Step(env, WorkerAddr(0), &Input{Kind: InMsg, Msg: Msg{Type: MsgCacheDialOK, Conn: 0, Gen: dial.Gen}}, ctx)
	evA := EventRef{Device: 1, Seq: 0, Stamp: MakeOwners(10)}
	evB := EventRef{Device: 2, Seq: 0, Stamp: MakeOwners(20)}
	w.Step(env, WorkerAddr(0), &Input{Kind: InMsg, Msg: Msg{Type: MsgUpload, Ev: evA}}, ctx)
	getA, _ := ctx.last(MsgCacheReq)
	if getA.Req.Key != 1 {
		t.Fatalf("first GET is for key %d, want 1", getA.Req.Key)
	}
	w.Step(env, WorkerAddr(0), &Input{Kind: InTimer, Timer: 0}, ctx) // A's deadline passes
	w.Step(env, WorkerAddr(0), &Input{Kind: InMsg, Msg: Msg{Type: MsgUpload, Ev: evB}}, ctx)
	if redial, _ := ctx.last(MsgCacheDial); redial.Gen != dial.Gen {
		// discard-on-timeout closed the connection: B waits for the new one.
		w.Step(env, WorkerAddr(0), &Input{Kind: InMsg, Msg: Msg{Type: MsgCacheDialOK, Conn: 0, Gen: redial.Gen}}, ctx)
	}
	getB, _ := ctx.last(MsgCacheReq)
	if getB.Req.Key != 2 {
		t.Fatalf("second GET is for key %d, want 2", getB.Req.Key)
	}
	// A's reply (device 1 is owned by account 10) arrives late, on the
	// connection that now serves B.
	late := CacheReply{Op: OpGet, Key: 1, Token: getA.Req.Token, Found: true,
		Val: CacheValue{Device: 1, Owners: MakeOwners(10)}}
	w.Step(env, WorkerAddr(0), &Input{Kind: InMsg, Msg: Msg{Type: MsgCacheReply, Conn: 0, Gen: getA.Gen, Reply: late}}, ctx)
	return w, ctx
}

func TestNaivePoolReadsTheLateReply(t *testing.T) {
	_, ctx := upToLateReply(t, workerEnv(NaivePool, 0))
	var got *Obs
	for _, o := range ctx.find(ObsLookup) {
		if o.Device == 2 {
			o := o
			got = &o
		}
	}
	if got == nil {
		t.Fatal("event B was never resolved")
	}
	if got.Outcome != OutCache || !got.Owners.Has(10) || got.ReplyOf == got.Token || got.ReplyKey != 1 {
		t.Fatalf("B resolved to %+v; want device 1's owners {10} from the reply of the earlier request", got)
	}
	put, _ := ctx.last(MsgPut)
	if put.Ev.Device != 2 {
		t.Fatalf("B was not stored: last put %+v", put)
	}
}

func TestSafeClientsDoNotUseTheLateReply(t *testing.T) {
	for _, c := range []struct {
		name string
		env  *Env
	}{
		{"discard-on-timeout", workerEnv(DiscardOnTimeout, 0)},
		{"tagged", workerEnv(Tagged, 0)},
		{"naive+key-in-value", workerEnv(NaivePool, Mitigations(0).With(KeyInValue))},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, ctx := upToLateReply(t, c.env)
			for _, o := range ctx.find(ObsLookup) {
				if o.Device == 2 && o.Outcome == OutCache && o.Reason == ReasonNone {
					t.Fatalf("B took owners %v from the cache", o.Owners)
				}
			}
			// B must fall back to the registry (tagged, key-in-value) or still be
			// waiting for its own reply (discard: the late reply died with its connection).
			reads := ctx.find(ObsRegCall)
			if c.name == "discard-on-timeout" {
				if len(reads) != 1 || reads[0].Key != 1 {
					t.Fatalf("registry reads %v: want only A's fallback", reads)
				}
				return
			}
			if len(reads) != 2 || reads[1].Key != 2 {
				t.Fatalf("registry reads %v: want A's and then B's fallback", reads)
			}
		})
	}
}

func TestCameraDropsOldestWhenBufferFull(t *testing.T) {
	env := &Env{P: &Params{Workers: 1, PoolSize: 1, CacheTimeout: time.Second},
		Fleet: &Fleet{Profiles: []Profile{{Name: "p", MotionPerHour: 1, Buffer: 2, AlwaysOn: true,
			ConnectTimeout: time.Second, Keepalive: time.Minute,
			Backoff: Backoff{Initial: time.Second, Multiplier: 2, Cap: time.Minute}}}}}
	c := &Camera{Stamp: MakeOwners(0)}
	ctx := newRec()
	c.Step(env, CameraAddr(3), &Input{Kind: InInit}, ctx) // booting: not connected, so events pile up
	for i := 0; i < 4; i++ {
		c.Step(env, CameraAddr(3), &Input{Kind: InTimer, Timer: TCapture}, ctx)
	}
	drops := ctx.find(ObsDrop)
	if len(drops) != 2 || drops[0].Seq != 0 || drops[1].Seq != 1 || drops[0].Reason != ReasonBufferFull {
		t.Fatalf("drops %+v: want seq 0 then 1 dropped as buffer-full", drops)
	}
	if c.Buffered() != 2 || c.BufLo != 2 || c.Next != 4 {
		t.Fatalf("buffer [%d,%d): want [2,4)", c.BufLo, c.Next)
	}
}

func own(m *Monitor, t *testing.T, d DeviceID, v uint32, owners ...AccountID) {
	t.Helper()
	if _, err := m.Observe(0, &Obs{Kind: ObsOwn, Device: d, Owners: MakeOwners(owners...), Version: v}); err != nil {
		t.Fatal(err)
	}
}

func obs(m *Monitor, t *testing.T, o Obs) []Violation {
	t.Helper()
	vs, err := m.Observe(1, &o)
	if err != nil {
		t.Fatal(err)
	}
	return append([]Violation(nil), vs...)
}

func TestMonitor(t *testing.T) {
	m := NewMonitor(2)
	own(m, t, 0, 0, 5)
	own(m, t, 1, 0, 6, 7) // shared with account 7
	obs(m, t, Obs{Kind: ObsCapture, Device: 0, Seq: 0})
	obs(m, t, Obs{Kind: ObsCapture, Device: 1, Seq: 0})
	if vs := obs(m, t, Obs{Kind: ObsDeliver, Device: 0, Seq: 0, Account: 5}); len(vs) != 0 {
		t.Fatalf("owner delivery flagged: %v", vs)
	}
	vs := obs(m, t, Obs{Kind: ObsDeliver, Device: 1, Seq: 0, Account: 5})
	if len(vs) != 1 || vs[0].Inv != NoForeignDelivery || vs[0].Account != 5 {
		t.Fatalf("foreign delivery: got %v", vs)
	}
	if vs := obs(m, t, Obs{Kind: ObsView, Device: 1, Seq: 0, Account: 5, View: ViewVideo}); len(vs) != 1 || vs[0].Inv != NoForeignView {
		t.Fatalf("foreign view: got %v", vs)
	}
	if vs := obs(m, t, Obs{Kind: ObsDeliver, Device: 0, Seq: 0, Account: 5}); len(vs) != 1 || vs[0].Inv != AtMostOnce {
		t.Fatalf("second delivery: got %v", vs)
	}
	// Event 1/0 reached account 6 but not its share 7: a silent loss.
	obs(m, t, Obs{Kind: ObsDeliver, Device: 1, Seq: 0, Account: 6})
	if q := m.Quiet(2); len(q) != 1 || q[0].Inv != NoSilentLoss || q[0].Device != 1 {
		t.Fatalf("quiet: got %v", q)
	}
	obs(m, t, Obs{Kind: ObsRefused, Device: 1, Seq: 0, Account: 7, Reason: ReasonStampMismatch})
	if q := m.Quiet(2); len(q) != 0 {
		t.Fatalf("a recorded refusal accounts for the loss; got %v", q)
	}
	if _, err := m.Observe(3, &Obs{Kind: ObsCapture, Device: 0, Seq: 5}); err == nil {
		t.Fatal("a capture out of sequence must be an error")
	}
	if _, err := m.Observe(3, &Obs{Kind: ObsDeliver, Device: 9}); err == nil {
		t.Fatal("a device out of range must be an error")
	}
}

// The footage belongs to the owner at capture: an event in flight across a
// transfer may reach only the seller under the default rule, and either side
// under OwnerAtCaptureOrDelivery; a third account never.
func TestMonitorTransfer(t *testing.T) {
	for _, rule := range []AuthRule{OwnerAtCapture, OwnerAtCaptureOrDelivery} {
		m := NewMonitor(1)
		m.Rule = rule
		own(m, t, 0, 0, 1)
		obs(m, t, Obs{Kind: ObsCapture, Device: 0, Seq: 0})
		own(m, t, 0, 1, 2) // transferred to account 2
		obs(m, t, Obs{Kind: ObsCapture, Device: 0, Seq: 1})
		vs := obs(m, t, Obs{Kind: ObsDeliver, Device: 0, Seq: 0, Account: 2})
		if rule == OwnerAtCapture && (len(vs) != 1 || vs[0].Inv != NoForeignDelivery) {
			t.Fatalf("%s: the buyer receiving the seller's pre-sale event: %v", rule, vs)
		}
		if rule == OwnerAtCaptureOrDelivery && len(vs) != 0 {
			t.Fatalf("%s: the new owner receiving an in-flight event: %v", rule, vs)
		}
		if vs := obs(m, t, Obs{Kind: ObsDeliver, Device: 0, Seq: 1, Account: 1}); len(vs) != 1 || vs[0].Inv != NoForeignDelivery {
			t.Fatalf("%s: old owner receiving an event captured after the transfer: %v", rule, vs)
		}
		if vs := obs(m, t, Obs{Kind: ObsDeliver, Device: 0, Seq: 0, Account: 3}); len(vs) != 1 {
			t.Fatalf("%s: stranger: %v", rule, vs)
		}
		if got := m.AuthorizedAtCapture(0, 0); !got.Has(1) || got.Has(2) {
			t.Fatalf("%s: owners at capture of 0/0: %v", rule, got)
		}
	}
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Initial: time.Second, Multiplier: 2, Cap: 10 * time.Second}
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 30: 10 * time.Second} {
		if got := b.Delay(n); got != Const(want) {
			t.Errorf("Delay(%d) = %v, want %v", n, got, want)
		}
	}
	b.Jitter = JitterFull
	if got := b.Delay(3); got != Uniform(0, 4*time.Second) {
		t.Errorf("full jitter Delay(3) = %v", got)
	}
	b.Jitter = JitterEqual
	if got := b.Delay(3); got != Uniform(2*time.Second, 4*time.Second) {
		t.Errorf("equal jitter Delay(3) = %v", got)
	}
}

func TestParseNames(t *testing.T) {
	for _, c := range Clients() {
		var got ClientVariant
		if err := got.UnmarshalText([]byte(c.String())); err != nil || got != c {
			t.Errorf("UnmarshalText(%q) = %v, %v", c, got, err)
		}
	}
	all := Mitigations(0)
	for _, m := range AllMitigations() {
		all = all.With(m)
	}
	var got Mitigations
	if err := got.UnmarshalText([]byte(all.String())); err != nil || got != all {
		t.Errorf("UnmarshalText(%q) = %v, %v", all, got, err)
	}
	if err := got.UnmarshalText([]byte("bypass-cache-ownership,nope")); err == nil {
		t.Error("unknown mitigation accepted")
	}
	for _, k := range ObsKinds() {
		if got, ok := ParseObsKind(k.String()); !ok || got != k {
			t.Errorf("ParseObsKind(%q) = %v, %v", k, got, ok)
		}
	}
}
