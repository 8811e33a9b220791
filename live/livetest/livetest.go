// Package livetest holds the tests every cache adapter of stormproof live
// passes, for the adapter modules under live/adapters and for adapters of
// your own: a round trip against a real server, and the reconnect storm of
// a short test scenario under the default eBPF drop schedule, judged.
package livetest

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/live"
	"github.com/stormproof/stormproof/live/cache"
	"github.com/stormproof/stormproof/live/faults"
	"github.com/stormproof/stormproof/live/server"
	"github.com/stormproof/stormproof/live/witness"
	"github.com/stormproof/stormproof/sim"
)

// Duration compresses the test scenario's hour into a few seconds: the
// storm starts at 4.5 s, and the default schedule has an outage window and
// then 10% loss until the end.
const Duration = 6 * time.Second

// Scenario is the short test scenario, live/testdata/short-storm.yaml.
func Scenario(t testing.TB) *sim.Scenario {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	s, err := sim.Load(filepath.Join(filepath.Dir(file), "..", "testdata", "short-storm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// NeedServer skips unless the server's program is on PATH.
func NeedServer(t testing.TB, kind string) {
	t.Helper()
	k, err := server.ParseKind(kind)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath(k.Binary()); err != nil {
		t.Skipf("%s not on PATH (apt-get install -y %s); CI installs it", k.Binary(), k.Binary())
	}
}

// NeedLive skips unless this machine can do a live run: not -short, root
// for eBPF, and the server on PATH. CI has all three.
func NeedLive(t testing.TB, kind string) {
	t.Helper()
	if testing.Short() {
		t.Skip("live runs take seconds: skipped with -short")
	}
	if err := faults.Check(); err != nil {
		t.Skipf("%v; CI runs the live tests as root", err)
	}
	if err := witness.Check(); err != nil {
		t.Skip(err)
	}
	NeedServer(t, kind)
}

// Run does one live run of the test scenario with o (Scenario and Duration
// filled in when unset), checks its trace, and returns the run, the report
// and the trace's path.
func Run(t testing.TB, o live.Options) (*live.Result, *checker.Report, string) {
	t.Helper()
	if o.Scenario == nil {
		o.Scenario = Scenario(t)
	}
	if o.Duration == 0 {
		o.Duration = Duration
	}
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	o.Trace = f
	res, err := live.Run(context.Background(), o)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := checker.CheckFile(path, checker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res, rep, path
}

// RoundTrip opens a client of a against a real server: a miss, a set, a
// hit, and (for a client that takes a context) an expired deadline is an
// error, never a result.
func RoundTrip(t *testing.T, a cache.Adapter, takesContext bool) {
	t.Helper()
	NeedServer(t, a.Server)
	k, _ := server.ParseKind(a.Server)
	s, err := server.Start(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	c, settings, err := a.Open(cache.Options{Addr: s.Addr, User: s.User, Password: s.Password, PoolSize: 2, Timeout: time.Second, DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if len(settings) == 0 {
		t.Fatal("an adapter must say which settings it used")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, found, err := c.Get(ctx, "dev:1"); err != nil || found {
		t.Fatalf("GET of a missing key: found=%v err=%v", found, err)
	}
	if err := c.Set(ctx, "dev:1", []byte(`{"dev":1}`)); err != nil {
		t.Fatal(err)
	}
	v, found, err := c.Get(ctx, "dev:1")
	if err != nil || !found || string(v) != `{"dev":1}` {
		t.Fatalf("GET dev:1 = %q found=%v err=%v", v, found, err)
	}
	if !takesContext {
		return
	}
	dead, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Millisecond))
	defer cancel2()
	if _, _, err := c.Get(dead, "dev:1"); err == nil {
		t.Fatal("a GET past its deadline returned a result")
	}
}

// Holds runs a through the test scenario's storm under the default drop
// schedule and asserts what a correct client gives: the outage happened and
// bit (calls timed out), every invariant is judged and holds, the model
// variant the adapter declares holds too (SameAsDeclared), no GET was
// answered with another key's value, and the witness agrees.
func Holds(t *testing.T, a cache.Adapter) {
	t.Helper()
	NeedLive(t, a.Server)
	if err := cache.Add(a); err != nil {
		t.Fatal(err)
	}
	res, rep, path := Run(t, live.Options{Server: a.Server, Client: a.Name})
	if res.PacketsDropped == 0 || res.Stats.Timeouts+res.Stats.NotSent == 0 {
		t.Fatalf("%d packets dropped, %d timeouts, %d calls never sent: the outage did not happen",
			res.PacketsDropped, res.Stats.Timeouts, res.Stats.NotSent)
	}
	if ok, why := res.Exercised(); !ok {
		t.Fatalf("the run was not exercised: %s", why)
	}
	if !rep.Held() {
		var b strings.Builder
		rep.Print(&b)
		t.Fatalf("%s under the outage:\n%s", a.Name, b.String())
	}
	for _, v := range rep.Verdicts {
		if !v.Judged {
			t.Errorf("%s not judged: %s", v.Name, v.NotJudged)
		}
	}
	SameAsDeclared(t, a, Scenario(t), false)
	if n := ForeignHits(t, path); n != 0 {
		t.Fatalf("%d GETs returned another key's value", n)
	}
	w := res.Witness
	if !w.Agree() || w.Seen != w.Recorded || w.Seen == 0 {
		t.Fatalf("witness %+v should agree with the record", w)
	}
}

// SameAsDeclared holds an adapter to the model variant it declares
// (Adapter.Behaves): the simulator runs that variant, on every ingest
// worker, in the scenario the live run used, and its verdict on the
// promises must be the library's (leaked is whether the live run
// violated one).
func SameAsDeclared(t testing.TB, a cache.Adapter, s *sim.Scenario, leaked bool) {
	t.Helper()
	if a.Behaves == nil {
		t.Fatalf("adapter %s declares no model variant (cache.Adapter.Behaves)", a.Name)
	}
	m, err := s.Apply(sim.Override{Client: a.Behaves})
	if err != nil {
		t.Fatal(err)
	}
	m.Cloud.ClientShare = 1
	res, err := sim.Run(m, sim.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if simLeaked := !res.Summary.Held(); simLeaked != leaked {
		t.Fatalf("%s %s in the live run, but the variant it declares, %s, %s in the simulator",
			a.Name, verb(leaked), a.Behaves, verb(simLeaked))
	}
}

func verb(leaked bool) string {
	if leaked {
		return "leaks"
	}
	return "holds"
}

// ForeignHits counts GETs in a trace answered with another key's value.
func ForeignHits(t testing.TB, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Bytes()
		if !strings.Contains(string(line), `"k":"cache-ret"`) || !strings.Contains(string(line), `"out":"hit"`) {
			continue
		}
		var r struct {
			Key int `json:"key"`
			Val struct {
				Dev int `json:"dev"`
			} `json:"val"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		if r.Val.Dev != r.Key {
			n++
		}
	}
	return n
}
