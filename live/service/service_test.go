package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stormproof/stormproof/live/cache"
	"github.com/stormproof/stormproof/live/server"
	"github.com/stormproof/stormproof/model"
)

func TestValueNamesItsDevice(t *testing.T) {
	v := model.CacheValue{Device: 6945, Owners: model.MakeOwners(1949, 7), Version: 3}
	b := EncodeValue(v)
	if string(b) != `{"dev":6945,"own":[1949,7],"ver":3}` {
		t.Fatalf("encoded %s", b)
	}
	got, err := DecodeValue(b)
	if err != nil || got != v {
		t.Fatalf("decoded %+v %v", got, err)
	}
	for _, bad := range []string{"OK", `{"dev":1,"own":[1,2,3,4,5]}`, ""} {
		if _, err := DecodeValue([]byte(bad)); err == nil {
			t.Errorf("%q decoded as a value", bad)
		}
	}
	if d, ok := ParseKey(Key(42)); !ok || d != 42 {
		t.Fatalf("ParseKey(Key(42)) = %d %v", d, ok)
	}
	if _, ok := ParseKey("user:42"); ok {
		t.Fatal("parsed a key of another kind")
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		out  model.Outcome
		why  model.Reason
		sent bool
	}{
		{context.DeadlineExceeded, model.OutTimeout, model.ReasonTimeout, true},
		{fmt.Errorf("read: %w", timeoutErr{}), model.OutTimeout, model.ReasonTimeout, true},
		{fmt.Errorf("x: %w", cache.ErrTypeMismatch), model.OutError, model.ReasonTypeMismatch, true},
		{io.EOF, model.OutError, model.ReasonReset, true},
		{syscall.ECONNRESET, model.OutError, model.ReasonReset, true},
		{errors.New("ERR something"), model.OutError, model.ReasonNone, true},
		{fmt.Errorf("%w: memcache: connect timeout", cache.ErrNotSent), model.OutError, model.ReasonNone, false},
	}
	for _, c := range cases {
		if out, why := Classify(c.err); c.sent && (out != c.out || why != c.why) {
			t.Errorf("Classify(%v) = %v %v, want %v %v", c.err, out, why, c.out, c.why)
		}
		if notSent(c.err) == c.sent {
			t.Errorf("notSent(%v) = %v", c.err, !c.sent)
		}
	}
}

func TestRecorderOrdersByTime(t *testing.T) {
	r := NewRecorder(time.Now())
	r.Add(5, model.Obs{Kind: model.ObsCacheRet})
	r.Add(3, model.Obs{Kind: model.ObsCacheCall})
	r.Add(5, model.Obs{Kind: model.ObsLookup})
	ev := r.Events()
	if ev[0].T != 3 || ev[1].Obs.Kind != model.ObsCacheRet || ev[2].Obs.Kind != model.ObsLookup {
		t.Fatalf("events out of order or ties reordered: %+v", ev)
	}
}

// The delivery path on a real Redis (the naive client, which is correct
// while no call times out): lookups miss and read
// the registry, then hit; every event is delivered once to each owner; a
// duplicate upload is stored once and pushed once; a transfer is recorded
// and seen by later registry reads.
func TestServiceOnRealRedis(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not on PATH (apt-get install -y redis-server); CI installs it")
	}
	srv, err := server.Start(context.Background(), server.Redis)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	a, _ := cache.Lookup("naive", "redis")
	c, _, err := a.Open(cache.Options{Addr: srv.Addr, User: srv.User, Password: srv.Password, PoolSize: 2, Timeout: time.Second, DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rec := NewRecorder(time.Now())
	reg := NewRegistry([]model.Owners{model.MakeOwners(0), model.MakeOwners(1, 2)}, rec)
	s := New(Config{Workers: 1, Lanes: 1, Timeout: time.Second, QueueCap: 10}, []cache.Client{c}, reg, rec)
	s.Start()
	for _, u := range []Upload{{0, 0}, {1, 0}, {0, 1}, {1, 0}} {
		s.Submit(u)
	}
	s.Drain()
	st := s.Stats()
	if st.Stored != 3 || st.Duplicates != 1 || st.Deliveries != 4 || st.Hits != 2 || st.Misses != 2 || st.RegistryReads != 2 {
		t.Fatalf("stats %+v", st)
	}
	got := map[[3]uint32]int{}
	kinds := map[model.ObsKind]int{}
	for _, e := range rec.Events() {
		kinds[e.Obs.Kind]++
		if e.Obs.Kind == model.ObsDeliver {
			got[[3]uint32{uint32(e.Obs.Device), e.Obs.Seq, uint32(e.Obs.Account)}]++
		}
	}
	want := map[[3]uint32]int{{0, 0, 0}: 1, {1, 0, 1}: 1, {1, 0, 2}: 1, {0, 1, 0}: 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("deliveries %v, want %v", got, want)
	}
	if kinds[model.ObsCacheCall] != kinds[model.ObsCacheRet] || kinds[model.ObsCacheCall] != 6 {
		t.Fatalf("cache calls %d, returns %d: want 6 of each (4 GETs, 2 SETs)", kinds[model.ObsCacheCall], kinds[model.ObsCacheRet])
	}
	reg.Transfer(1, model.MakeOwners(2))
	if o, v := reg.Read(1); v != 1 || o != model.MakeOwners(2) {
		t.Fatalf("after the transfer: %v v%d", o, v)
	}
}
