package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/live"
	"github.com/stormproof/stormproof/live/cache"
	"github.com/stormproof/stormproof/live/faults"
	"github.com/stormproof/stormproof/live/server"
	"github.com/stormproof/stormproof/sim"
)

var registerOnce sync.Once

func needRedis(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not on PATH (apt-get install -y redis-server); CI installs it")
	}
}

func TestRoundTrip(t *testing.T) {
	needRedis(t)
	s, err := server.Start(context.Background(), server.Redis)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	c, _, err := adapter.Open(cache.Options{Addr: s.Addr, User: s.User, Password: s.Password, Timeout: time.Second, DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, found, err := c.Get(ctx, "k"); err != nil || found {
		t.Fatalf("GET of a missing key: found=%v err=%v", found, err)
	}
	if err := c.Set(ctx, "k", []byte("v\r\nwith a line break")); err != nil {
		t.Fatal(err)
	}
	if v, found, err := c.Get(ctx, "k"); err != nil || !found || string(v) != "v\r\nwith a line break" {
		t.Fatalf("GET k = %q %v %v", v, found, err)
	}
}

// The example's client never reuses a connection, so the storm cannot make
// it read another request's reply: the run holds.
func TestExampleClientHoldsUnderTheOutage(t *testing.T) {
	needRedis(t)
	if testing.Short() {
		t.Skip("a live run takes seconds: skipped with -short")
	}
	if err := faults.Check(); err != nil {
		t.Skipf("%v; CI runs the live tests as root", err)
	}
	registerOnce.Do(func() { cache.Register(adapter) })
	s, err := sim.Load("../../testdata/short-storm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := live.Run(context.Background(), live.Options{Server: "redis", Client: adapter.Name, Scenario: s,
		Duration: 4 * time.Second, Trace: f})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Dropped SYNs make dials fail (calls never sent); dropped requests time out.
	if res.PacketsDropped == 0 || res.Stats.Timeouts+res.Stats.NotSent == 0 {
		t.Fatalf("%d packets dropped, %d timeouts, %d calls never sent: the outage did not happen",
			res.PacketsDropped, res.Stats.Timeouts, res.Stats.NotSent)
	}
	rep, err := checker.CheckFile(path, checker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Held() || !res.Witness.Agree() {
		rep.Print(os.Stderr)
		t.Fatalf("the dial-per-call client should hold; witness %+v", res.Witness)
	}
}
