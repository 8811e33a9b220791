// Package live is stormproof's third engine: the model's delivery path run
// for real. It starts a real cache server (redis-server or memcached) on
// loopback, puts a real client library behind the service of package
// live/service, replays the camera side of a scenario (the reconnect storm
// after an outage) in compressed wall time, breaks the network to the cache
// with an eBPF drop schedule (package live/faults), watches the delivery
// function with an eBPF uprobe (package live/witness), and writes the
// history as a trace in the one format, for the one judge.
//
// A live trace is not reproducible byte for byte: real sockets and a real
// scheduler decide the interleaving. What is reproducible is the input:
// the workload (scenario and seed), the drop schedule and the client
// settings, all in the trace header.
package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/stormproof/stormproof/live/cache"
	"github.com/stormproof/stormproof/live/faults"
	"github.com/stormproof/stormproof/live/server"
	"github.com/stormproof/stormproof/live/service"
	"github.com/stormproof/stormproof/live/witness"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/sim"
	"github.com/stormproof/stormproof/traces"
)

// Options say what a live run does.
type Options struct {
	// Server is "redis" or "memcached"; Client an adapter name (cache.Names).
	Server, Client string
	// Scenario gives the workload (its camera side) and the service's shape
	// (workers, pool size, cache timeout, registry latency).
	Scenario *sim.Scenario
	// Duration is the wall time the scenario is compressed into.
	Duration time.Duration
	// Drops is the drop schedule (offsets in wall time); nil means the
	// default: the scenario's cache outages plus faults.Storm at the end of
	// the gateway outage. Use an empty, non-nil schedule for none.
	Drops faults.Schedule
	// NoEBPF runs without the drop filter and the witness (no root needed;
	// nothing breaks the network then).
	NoEBPF bool
	// Lanes per worker (0: twice the scenario's pool size).
	Lanes int
	// Mitigations the service applies: key-in-value, bypass-cache-ownership.
	Mitigations model.Mitigations
	// Tool and Reproduce go into the header.
	Tool, Reproduce string
	// Trace receives the trace.
	Trace io.Writer
	// Log, if set, receives one line per phase (starting the server, the
	// storm, draining).
	Log func(format string, a ...any)

	// omit is a test hook passed to the service (see service.Omit).
	omit func(dev, seq, acct uint32) bool
}

// Result is what a run did and saw.
type Result struct {
	Header   traces.Header
	Workload struct{ Captures, Uploads int }
	Stats    service.Stats
	// ServerVersion names the server that ran; Duration is the wall time
	// the scenario was compressed into, Compression scenario time per wall
	// time.
	ServerVersion string
	Duration      time.Duration
	Compression   float64
	Drops         faults.Schedule
	// Packets to the server port seen and dropped by the eBPF filter.
	PacketsSeen, PacketsDropped uint64
	// ConnsClosed are the client connections the server saw opened and
	// closed during the run, by the server's own counts (-1: it did not
	// say).
	ConnsClosed int64
	Witness     WitnessCheck
	// Monitor counts the model's invariants over the in-process record
	// (the judge's full verdict comes from checking the trace).
	Violations [model.NumInvariants]uint64
	Events     int
	Wall       time.Duration
}

// WitnessCheck compares the eBPF witness with the in-process record.
type WitnessCheck struct {
	Enabled bool
	// Seen deliveries by the witness, Recorded by the service.
	Seen, Recorded int
	// Unrecorded are deliveries the witness saw that the record lacks: a
	// finding. Unwitnessed are recorded deliveries the witness missed
	// (Lost explains them when the ring buffer overflowed).
	Unrecorded  []Delivery
	Unwitnessed int
	Lost        uint64
}

// Delivery is one push of an event to an account.
type Delivery struct {
	Device model.DeviceID
	Seq    uint32
	Acct   model.AccountID
}

// Agree reports whether the witness saw what the record holds.
func (w *WitnessCheck) Agree() bool {
	return !w.Enabled || (len(w.Unrecorded) == 0 && w.Unwitnessed == 0)
}

// Settings are the live run's options as written into the trace header.
type Settings struct {
	Server        string          `json:"server"`
	ServerVersion string          `json:"server_version"`
	Client        string          `json:"client"`
	ClientAbout   string          `json:"client_about"`
	ClientOptions cache.Settings  `json:"client_settings"`
	Duration      string          `json:"duration"`
	Compression   float64         `json:"compression"`
	Workers       int             `json:"workers"`
	Lanes         int             `json:"lanes_per_worker"`
	PoolSize      int             `json:"pool_size"`
	Timeout       string          `json:"cache_timeout"`
	DialTimeout   string          `json:"dial_timeout"`
	Registry      string          `json:"registry_latency"`
	Mitigations   []string        `json:"mitigations"`
	Drops         string          `json:"drops"`
	EBPF          bool            `json:"ebpf"`
	Witness       string          `json:"witness"`
	Scenario      json.RawMessage `json:"scenario"`
}

// ErrBadOptions matches (errors.Is) every error that is the user's input
// being wrong or the machine lacking something (exit 2).
var ErrBadOptions = errors.New("bad options")

type optionError struct{ err error }

func (e *optionError) Error() string        { return e.err.Error() }
func (e *optionError) Unwrap() error        { return e.err }
func (e *optionError) Is(target error) bool { return target == ErrBadOptions }

func badf(format string, a ...any) error { return &optionError{fmt.Errorf(format, a...)} }

// Check validates o without running anything.
func (o *Options) Check() (cache.Adapter, error) {
	if _, err := server.ParseKind(o.Server); err != nil {
		return cache.Adapter{}, badf("--server: %v", err)
	}
	a, err := cache.Lookup(o.Client, o.Server)
	if err != nil {
		return cache.Adapter{}, badf("--client: %v", err)
	}
	if o.Scenario == nil {
		return cache.Adapter{}, badf("no scenario")
	}
	if o.Duration <= 0 {
		return cache.Adapter{}, badf("--duration: must be > 0")
	}
	supported := model.Mitigations(0).With(model.KeyInValue).With(model.BypassCacheOwnership)
	if extra := o.Mitigations &^ supported; extra != 0 {
		return cache.Adapter{}, badf("--mitigate: live supports key-in-value and bypass-cache-ownership, not %s", extra)
	}
	if o.Drops != nil {
		if err := o.Drops.Validate(); err != nil {
			return cache.Adapter{}, badf("--drops: %v", err)
		}
		if n := len(o.Drops); n > 0 && o.Drops[n-1].To > o.Duration {
			return cache.Adapter{}, badf("--drops: window %v-%v ends after the run (%v)", o.Drops[n-1].From, o.Drops[n-1].To, o.Duration)
		}
	}
	if _, err := exec.LookPath(server.Kind(o.Server).Binary()); err != nil {
		return cache.Adapter{}, &optionError{&server.MissingError{Kind: server.Kind(o.Server)}}
	}
	return a, nil
}

// DefaultDrops is the schedule a run uses without --drops: the scenario's
// cache outages, compressed, then faults.Storm when the gateway outage
// ends (for up to 10 s of the run).
func DefaultDrops(w *Workload, s *sim.Scenario, d time.Duration) faults.Schedule {
	comp := float64(w.Duration) / float64(d)
	// Wall offsets rounded to the millisecond keep the schedule readable.
	wall := func(t time.Duration) time.Duration { return time.Duration(float64(t) / comp).Round(time.Millisecond) }
	var out faults.Schedule
	for _, o := range w.CacheOutages {
		if from, to := wall(o.From.D()), wall(o.To.D()); to > from {
			out = append(out, faults.Window{From: from, To: to, P: 1})
		}
	}
	if w.StormAt > 0 {
		at := wall(w.StormAt)
		for _, st := range faults.Storm(at, min(10*time.Second, d-at)) {
			if !overlaps(out, st) {
				out = append(out, st)
			}
		}
	}
	slices.SortFunc(out, func(a, b faults.Window) int { return int(a.From - b.From) })
	if len(out) > faults.MaxWindows {
		out = out[:faults.MaxWindows]
	}
	return out
}

func overlaps(s faults.Schedule, w faults.Window) bool {
	for _, x := range s {
		if w.From < x.To && x.From < w.To {
			return true
		}
	}
	return false
}

// Run does one live run. ctx ends it early (a signal): servers, BPF links
// and clients are released on every path.
func Run(ctx context.Context, o Options) (res *Result, err error) {
	adapter, err := o.Check()
	if err != nil {
		return nil, err
	}
	logf := o.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if !o.NoEBPF {
		if err := faults.Check(); err != nil {
			return nil, badf("%v; run as root, or pass --no-ebpf (then nothing breaks the network)", err)
		}
	}
	s := o.Scenario
	plan, err := s.Build()
	if err != nil {
		return nil, badf("scenario %s: %v", s.Name, err)
	}
	logf("workload: simulating %s (seed %d) for the camera side", s.Name, s.Seed)
	wl, err := buildWorkload(ctx, s)
	if err != nil {
		return nil, err
	}
	comp := float64(wl.Duration) / float64(o.Duration)
	drops := o.Drops
	if drops == nil {
		drops = DefaultDrops(wl, s, o.Duration)
	}
	if o.NoEBPF {
		drops = nil
	}
	lanes := o.Lanes
	if lanes <= 0 {
		lanes = 2 * plan.Params.PoolSize
	}

	srv, err := server.Start(ctx, server.Kind(o.Server))
	if err != nil {
		if server.ErrMissing(err) {
			return nil, &optionError{err}
		}
		return nil, err
	}
	defer srv.Stop()
	logf("server: %s on %s", srv.Version, srv.Addr)

	var drop *faults.Dropper
	if !o.NoEBPF {
		if drop, err = faults.Attach(srv.Port); err != nil {
			return nil, err
		}
		defer drop.Close()
	}

	before, connErr := srv.Connections()
	origin := time.Now()
	rec := service.NewRecorder(origin)
	mono := rec.Mono() // the same instant on bpf_ktime_get_ns's clock
	reg := service.NewRegistry(wl.Initial, rec)
	var recClose []func() error
	defer func() {
		for _, c := range recClose {
			c()
		}
	}()
	copt := cache.Options{Addr: srv.Addr, User: srv.User, Password: srv.Password, PoolSize: plan.Params.PoolSize, Timeout: plan.Params.CacheTimeout,
		DialTimeout: plan.Params.DialTimeout}
	clients := make([]cache.Client, plan.Params.Workers)
	var settings cache.Settings
	for w := range clients {
		wopt := copt
		worker := model.WorkerAddr(w)
		wopt.OnClose = func(conn int, gen uint32, why error) {
			_, r := service.Classify(why)
			rec.Record(model.Obs{Kind: model.ObsCacheClose, Actor: worker, Conn: uint16(conn), Gen: gen, Reason: r})
		}
		c, st, err := adapter.Open(wopt)
		if err != nil {
			return nil, fmt.Errorf("client %s: %v", adapter.Name, err)
		}
		clients[w], settings = c, st
		recClose = append(recClose, c.Close)
	}
	svc := service.New(service.Config{Workers: plan.Params.Workers, Lanes: lanes, Timeout: plan.Params.CacheTimeout,
		KeyInValue: o.Mitigations.Has(model.KeyInValue), BypassCache: o.Mitigations.Has(model.BypassCacheOwnership),
		RegistryLatency: plan.Params.RegistryLatency, Seed: s.Seed, QueueCap: wl.Uploads + 1, Omit: o.omit}, clients, reg, rec)

	var wit *witness.Witness
	if !o.NoEBPF {
		if wit, err = witness.AttachFunc(service.PushFunc, service.PushArgs); err != nil {
			return nil, err
		}
		defer wit.Stop()
	}
	if drop != nil {
		if err := drop.Arm(mono, drops); err != nil {
			return nil, err
		}
	}

	svc.Start()
	logf("replay: %d uploads of %d devices, %v of scenario time in %v (%.0f×); drops %s",
		wl.Uploads, wl.Devices, wl.Duration, o.Duration, comp, drops)
	replayErr := replay(ctx, wl, comp, origin, rec, reg, svc, logf)
	if replayErr != nil {
		svc.Abort()
	} else {
		logf("drain: waiting for the service to finish what it was given")
	}
	// A signal while the service drains skips what is still queued; the
	// calls in flight end within their deadline.
	drained := make(chan struct{})
	go func() { svc.Drain(); close(drained) }()
	select {
	case <-drained:
	case <-ctx.Done():
		svc.Abort()
		<-drained
	}
	if replayErr == nil {
		replayErr = ctx.Err()
	}
	if replayErr != nil {
		// Interrupted: nothing of the run is kept, so nothing more is
		// computed; the deferred calls stop the server and detach the
		// programs.
		return nil, replayErr
	}
	rec.Record(model.Obs{Kind: model.ObsEnd, Actor: model.EngineAddr, Flag: true})

	res = &Result{ServerVersion: srv.Version, Duration: o.Duration, Compression: comp, Drops: drops,
		Stats: svc.Stats(), Wall: time.Since(origin), ConnsClosed: -1}
	res.Workload.Captures, res.Workload.Uploads = wl.Captures, wl.Uploads
	if drop != nil {
		// Detached before the server is asked for its counters: a drop
		// window still open at the end would lose that question too.
		res.PacketsSeen, res.PacketsDropped = drop.Stats()
		drop.Close()
	}
	if after, err := srv.Connections(); err == nil && connErr == nil {
		// Connections the clients opened during the run and no longer
		// hold (the counting connections open and close alike).
		res.ConnsClosed = (after.Accepted - before.Accepted) - (after.Open - before.Open) - 1
	}
	events := rec.Events()
	if wit != nil {
		seen, lost, err := wit.Stop()
		if err != nil {
			return nil, fmt.Errorf("witness: %v", err)
		}
		res.Witness = crossCheck(events, seen, lost)
		events = mergeWitness(events, seen, mono)
	}
	design := adapter.Name
	if o.Mitigations != 0 {
		design += "+" + o.Mitigations.String()
	}
	witnessNote := "off (--no-ebpf)"
	if wit != nil {
		witnessNote = "uprobe on service.(*Service).push, ring buffer"
	}
	st := Settings{Server: o.Server, ServerVersion: srv.Version, Client: adapter.Name, ClientAbout: adapter.About,
		ClientOptions: settings, Duration: o.Duration.String(), Compression: comp, Workers: plan.Params.Workers,
		Lanes: lanes, PoolSize: plan.Params.PoolSize, Timeout: plan.Params.CacheTimeout.String(),
		DialTimeout: plan.Params.DialTimeout.String(), Registry: plan.Params.RegistryLatency.String(),
		Mitigations: mitigationNames(o.Mitigations), Drops: drops.String(), EBPF: !o.NoEBPF, Witness: witnessNote,
		Scenario: s.JSON()}
	opts, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	res.Header = traces.Header{Engine: "live", Scenario: s.Name, Seed: s.Seed, Design: design,
		Devices: wl.Devices, Accounts: wl.Accounts, Detail: "full", Options: opts, Tool: o.Tool, Reproduce: o.Reproduce}
	mon := model.NewMonitor(wl.Devices)
	for i := range events {
		if i%(1<<16) == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if _, err := mon.Observe(events[i].T, &events[i].Obs); err != nil {
			return nil, fmt.Errorf("live record: %v", err)
		}
	}
	mon.Quiet(events[len(events)-1].T)
	res.Violations = mon.Counts()
	res.Events = len(events)
	if o.Trace != nil {
		tw, err := traces.NewWriter(o.Trace, res.Header)
		if err != nil {
			return nil, err
		}
		for i := range events {
			if i%(1<<16) == 0 && ctx.Err() != nil {
				return nil, ctx.Err() // a signal: the trace is abandoned
			}
			if err := tw.Write(events[i].T, &events[i].Obs); err != nil {
				return nil, err
			}
		}
		if err := tw.Flush(); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func mitigationNames(m model.Mitigations) []string {
	out := []string{}
	for _, x := range m.List() {
		out = append(out, x.String())
	}
	return out
}

// replay feeds the workload to the service at its compressed times.
func replay(ctx context.Context, wl *Workload, comp float64, origin time.Time, rec *service.Recorder,
	reg *service.Registry, svc *service.Service, logf func(string, ...any)) error {
	stormLogged := false
	for i := range wl.Events {
		ev := &wl.Events[i]
		at := origin.Add(time.Duration(float64(ev.T) / comp))
		if wait := time.Until(at); wait > time.Millisecond {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		} else if ctx.Err() != nil {
			return ctx.Err()
		}
		o := ev.Obs
		switch o.Kind {
		case model.ObsOwn:
			reg.Transfer(o.Device, o.Owners)
			continue
		case model.ObsFault:
			o.Actor = model.EngineAddr
			if o.Fault.Kind == model.FaultGatewayUp && !stormLogged {
				logf("storm: the gateway is back at %v of the run", time.Since(origin).Round(time.Millisecond))
				stormLogged = true
			}
		}
		rec.Record(o)
		if o.Kind == model.ObsUpload {
			svc.Submit(service.Upload{Device: o.Device, Seq: o.Seq})
		}
	}
	return nil
}

// crossCheck compares the witness's deliveries with the record's.
func crossCheck(events []traces.Event, seen []witness.Event, lost uint64) WitnessCheck {
	wc := WitnessCheck{Enabled: true, Seen: len(seen), Lost: lost}
	count := map[Delivery]int{}
	for i := range events {
		o := &events[i].Obs
		if o.Kind == model.ObsDeliver {
			count[Delivery{o.Device, o.Seq, o.Account}]++
			wc.Recorded++
		}
	}
	for _, e := range seen {
		d := Delivery{model.DeviceID(e.Args[0]), e.Args[1], model.AccountID(e.Args[2])}
		if count[d] > 0 {
			count[d]--
			continue
		}
		wc.Unrecorded = append(wc.Unrecorded, d)
	}
	for _, n := range count {
		wc.Unwitnessed += n
	}
	return wc
}

// mergeWitness adds the witness's events to the record as witness lines,
// on the record's clock. The record's last line (end) stays last.
func mergeWitness(events []traces.Event, seen []witness.Event, mono uint64) []traces.Event {
	n := len(events) - 1
	end := events[n]
	body := events[:n:n] // appending copies: the end line is not overwritten
	for _, e := range seen {
		t := model.Time(0)
		if e.Mono > mono {
			t = model.Time(e.Mono - mono)
		}
		body = append(body, traces.Event{T: t, Obs: model.Obs{Kind: model.ObsWitness, Actor: model.EngineAddr,
			Device: model.DeviceID(e.Args[0]), Seq: e.Args[1], Account: model.AccountID(e.Args[2])}})
	}
	slices.SortStableFunc(body, func(a, b traces.Event) int { return cmpTime(a.T, b.T) })
	if len(body) > 0 && body[len(body)-1].T > end.T {
		end.T = body[len(body)-1].T
	}
	return append(body, end)
}

func cmpTime(a, b model.Time) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// buildWorkload is BuildWorkload that a cancelled ctx abandons: the
// simulation of a large scenario takes seconds, and a signal must not wait
// for it.
func buildWorkload(ctx context.Context, s *sim.Scenario) (*Workload, error) {
	type built struct {
		wl  *Workload
		err error
	}
	done := make(chan built, 1)
	go func() {
		wl, err := BuildWorkload(s)
		done <- built{wl, err}
	}()
	select {
	case b := <-done:
		return b.wl, b.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Exercised reports whether the run met the fault it was meant to test: a
// cache call timed out while its reply was still due (the late reply a
// pooled client must not hand to the next request). A run in which no call
// timed out proves nothing about late replies, whatever its verdict; why
// says what happened instead.
func (r *Result) Exercised() (ok bool, why string) {
	st := &r.Stats
	if st.Timeouts > 0 {
		return true, ""
	}
	switch {
	case len(r.Drops) == 0:
		why = "no cache call timed out: the run had no drop schedule"
	case r.PacketsSeen > 0 && r.PacketsDropped == 0:
		why = "no cache call timed out: no packet fell in a drop window"
	case st.Late > 0:
		why = fmt.Sprintf("no cache call timed out: %d replies were read after their deadline by the calls that sent them (the client waited past the deadline instead of timing out)", st.Late)
	default:
		why = "no cache call timed out"
	}
	return false, why
}

// Describe is one line naming the run, for logs.
func (o *Options) Describe() string {
	return strings.Join([]string{o.Server, o.Client, o.Scenario.Name, o.Duration.String()}, " ")
}
