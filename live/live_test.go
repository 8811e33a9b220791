package live

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/internal/spec"
	"github.com/stormproof/stormproof/live/faults"
	"github.com/stormproof/stormproof/live/witness"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/sim"
)

const testScenario = "testdata/short-storm.yaml"

// testDuration compresses the test scenario's hour into a few seconds: the
// storm starts at 4.5 s, and the default schedule has an outage window
// and then 10% loss until the end.
const testDuration = 6 * time.Second

func loadScenario(t *testing.T) *sim.Scenario {
	t.Helper()
	s, err := sim.Load(testScenario)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// needLive skips unless this machine can run a live test: root for eBPF
// and the server on PATH. CI has both.
func needLive(t *testing.T, server string) {
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
	bin := map[string]string{"redis": "redis-server", "memcached": "memcached"}[server]
	if _, err := exec.LookPath(bin); err != nil {
		t.Skipf("%s not on PATH (apt-get install -y %s); CI installs it", bin, bin)
	}
}

func TestWorkloadIsTheScenariosCameraSideAndDeterministic(t *testing.T) {
	s := loadScenario(t)
	a, err := BuildWorkload(s)
	if err != nil {
		t.Fatal(err)
	}
	b, err := BuildWorkload(s)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same scenario and seed gave two workloads")
	}
	if a.Devices != 1000 || a.Captures == 0 || a.Uploads < a.Captures/2 {
		t.Fatalf("workload: %d devices, %d captures, %d uploads", a.Devices, a.Captures, a.Uploads)
	}
	if a.StormAt != 45*time.Minute {
		t.Fatalf("storm at %v, want the end of the outage (45m)", a.StormAt)
	}
	// The storm is there: uploads in the minute after the outage far
	// exceed a minute before it.
	var before, after int
	for _, ev := range a.Events {
		switch t := time.Duration(ev.T); {
		case ev.Obs.Kind != model.ObsUpload:
		case t >= 29*time.Minute && t < 30*time.Minute:
			before++
		case t >= 45*time.Minute && t < 46*time.Minute:
			after++
		}
	}
	if after < 5*before || after == 0 {
		t.Fatalf("uploads: %d in the minute before the outage, %d in the minute after: no storm", before, after)
	}
	for _, ev := range a.Events {
		if ev.Obs.Kind == model.ObsConnTry || ev.Obs.Kind == model.ObsCacheCall || ev.Obs.Kind == model.ObsDeliver {
			t.Fatalf("the workload holds a %s line: only the camera side belongs in it", ev.Obs.Kind)
		}
	}
	s2 := *s
	s2.Seed = s.Seed + 1
	c, err := BuildWorkload(&s2)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a.Events, c.Events) {
		t.Fatal("another seed gave the same workload")
	}
}

func TestDefaultDrops(t *testing.T) {
	w := &Workload{Duration: time.Hour, StormAt: 30 * time.Minute,
		CacheOutages: []sim.Outage{{Component: "cache", From: sdur(6 * time.Minute), To: sdur(12 * time.Minute)}}}
	s := DefaultDrops(w, nil, 10*time.Second)
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s[0] != (faults.Window{From: time.Second, To: 2 * time.Second, P: 1}) {
		t.Fatalf("the cache outage 6m-12m of an hour in 10 s should be 1s-2s, got %v", s[0])
	}
	if s[1].From != 5*time.Second {
		t.Fatalf("the storm windows should start when the gateway is back (5 s): %v", s)
	}
	if s[len(s)-1].To > 10*time.Second {
		t.Fatalf("a window ends after the run: %v", s)
	}
}

func TestCheckRejectsBadOptions(t *testing.T) {
	s := loadScenario(t)
	ok := Options{Server: "redis", Client: "naive", Scenario: s, Duration: time.Second}
	cases := []struct {
		name string
		edit func(o *Options)
		want string
	}{
		{"server", func(o *Options) { o.Server = "valkey" }, "redis or memcached"},
		{"client", func(o *Options) { o.Client = "jedis" }, "unknown client"},
		{"client for the server", func(o *Options) { o.Server = "memcached" }, "speaks to redis"},
		{"duration", func(o *Options) { o.Duration = 0 }, "--duration"},
		{"mitigation", func(o *Options) { o.Mitigations = model.Mitigations(0).With(model.StampedMedia) }, "stamped-media"},
		{"drops after the end", func(o *Options) { o.Drops = faults.Schedule{{From: 0, To: 2 * time.Second, P: 1}} }, "after the run"},
	}
	for _, c := range cases {
		o := ok
		c.edit(&o)
		_, err := o.Check()
		if !errors.Is(err, ErrBadOptions) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want a bad-options error mentioning %q", c.name, err, c.want)
		}
	}
	t.Setenv("PATH", t.TempDir())
	o := ok
	if _, err := o.Check(); !errors.Is(err, ErrBadOptions) || !strings.Contains(err.Error(), "apt-get install -y redis-server") {
		t.Errorf("without redis-server: %v", err)
	}
}

// run does one live run of the test scenario and checks its trace.
func run(t *testing.T, o Options) (*Result, *checker.Report, string) {
	t.Helper()
	o.Scenario = loadScenario(t)
	if o.Duration == 0 {
		o.Duration = testDuration
	}
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	o.Trace = f
	res, err := Run(context.Background(), o)
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

// A delivery the record lacks is caught by the witness: the service is
// made to lose the record of one event's deliveries.
func TestWitnessCatchesADeliveryTheRecordLacks(t *testing.T) {
	needLive(t, "redis")
	var lostDev, lostSeq uint32 = 7, 0
	res, _, path := run(t, Options{Server: "redis", Client: "naive", Drops: faults.Schedule{}, Duration: 2 * time.Second,
		omit: func(dev, seq, acct uint32) bool { return dev == lostDev && seq == lostSeq }})
	w := res.Witness
	if w.Agree() || len(w.Unrecorded) == 0 {
		t.Fatalf("witness %+v: the omitted delivery was not caught", w)
	}
	for _, d := range w.Unrecorded {
		if d.Device != model.DeviceID(lostDev) || d.Seq != lostSeq {
			t.Fatalf("unrecorded delivery %+v is not the omitted event %d/%d", d, lostDev, lostSeq)
		}
	}
	if w.Seen != w.Recorded+len(w.Unrecorded) {
		t.Fatalf("seen %d = recorded %d + unrecorded %d does not hold", w.Seen, w.Recorded, len(w.Unrecorded))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"k":"witness","a":"engine","dev":7,"seq":0`) {
		t.Fatal("the trace lacks the witness line of the omitted delivery")
	}
}

func sdur(d time.Duration) spec.Duration { return spec.Duration(d) }

// A witness line never comes before the lookup line of its event: the
// uprobe fires in push, after the lookup was recorded, and the record and
// the probe share one clock.
func TestWitnessLinesFollowTheirLookup(t *testing.T) {
	needLive(t, "redis")
	_, _, path := run(t, Options{Server: "redis", Client: "naive", Drops: faults.Schedule{}, Duration: 3 * time.Second})
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type ev struct{ dev, seq uint32 }
	looked := map[ev]bool{}
	witnesses := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for line := 1; sc.Scan(); line++ {
		var r struct {
			K   string `json:"k"`
			Dev uint32 `json:"dev"`
			Seq uint32 `json:"seq"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		switch r.K {
		case "lookup":
			looked[ev{r.Dev, r.Seq}] = true
		case "witness":
			witnesses++
			if !looked[ev{r.Dev, r.Seq}] {
				t.Fatalf("line %d: the witness of event %d/%d comes before the event's lookup", line, r.Dev, r.Seq)
			}
		}
	}
	if witnesses == 0 {
		t.Fatal("no witness lines")
	}
}
