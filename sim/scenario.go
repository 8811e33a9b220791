package sim

import (
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/stormproof/stormproof/hwprofiles"
	"github.com/stormproof/stormproof/internal/spec"
	"github.com/stormproof/stormproof/model"
)

//go:embed scenarios/*.yaml
var embedded embed.FS

// DefaultScenario is what `stormproof run` runs without arguments.
const DefaultScenario = "wyze-2024-02"

// Scenario is one simulated world: fleet, faults, network, cloud design
// and users. Every field that models the world carries its source, or
// "assumed", as a comment in the YAML file.
type Scenario struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description"`
	// Base names an embedded scenario this one starts from; the fields
	// given here replace the base's.
	Base string `yaml:"base,omitempty" json:"-"`
	// Scale multiplies the fleet and every capacity that grows with it
	// (accounts, transfers, admission, workers, cache throughput).
	Scale        float64       `yaml:"scale" json:"scale"`
	Seed         uint64        `yaml:"seed" json:"seed"`
	Duration     spec.Duration `yaml:"duration" json:"duration"`
	CaptureUntil spec.Duration `yaml:"capture_until" json:"capture_until"`
	// Start: "connected" (the run begins in steady state) or "booting"
	// (every camera powers on at t=0).
	Start          string          `yaml:"start" json:"start"`
	Fleet          FleetSpec       `yaml:"fleet" json:"fleet"`
	Outages        []Outage        `yaml:"outages" json:"outages"`
	CacheRestarts  []spec.Duration `yaml:"cache_restarts" json:"cache_restarts"`
	Transfers      Transfers       `yaml:"transfers" json:"transfers"`
	EventsTabOffAt spec.Duration   `yaml:"events_tab_off_at" json:"events_tab_off_at"`
	Network        Network         `yaml:"network" json:"network"`
	Cloud          Cloud           `yaml:"cloud" json:"cloud"`
	Users          Users           `yaml:"users" json:"users"`
	// Trace is the default trace detail: full, slice or none.
	Trace string `yaml:"trace" json:"trace"`
	// Authorized is the authorization rule the run is judged by: capture
	// (the owner when the event was captured; "" is capture) or
	// capture-or-delivery (model.AuthRule). A judging choice, not a
	// parameter of the world: it needs no source.
	Authorized string `yaml:"authorized,omitempty" json:"authorized,omitempty"`
	// The other incidents' parts, each an optional section (absent: not
	// part of the world; see incidents.go).
	Web      *WebSpec      `yaml:"web,omitempty" json:"web,omitempty"`
	Notifier *NotifierSpec `yaml:"notifier,omitempty" json:"notifier,omitempty"`
	Replica  *ReplicaSpec  `yaml:"replica,omitempty" json:"replica,omitempty"`

	// Profiles are the resolved hardware profiles of the mix (filled by
	// Resolve; written into trace headers so a replay needs no files).
	Profiles []hwprofiles.Profile `yaml:"-" json:"profiles,omitempty"`
	// File is where the scenario came from; root is its document, for the
	// lines of its fields.
	File string     `yaml:"-" json:"-"`
	root *yaml.Node `yaml:"-" json:"-"`
}

// FleetSpec is the population.
type FleetSpec struct {
	Cameras       int     `yaml:"cameras" json:"cameras"`
	Accounts      int     `yaml:"accounts" json:"accounts"`
	ShareFraction float64 `yaml:"share_fraction" json:"share_fraction"`
	VideoFraction float64 `yaml:"video_fraction" json:"video_fraction"`
	// Mix maps profile names to their share of the fleet (sums to 1).
	Mix map[string]float64 `yaml:"mix" json:"mix"`
	// ProfileFiles are users' profile files, relative to the scenario file.
	ProfileFiles []string `yaml:"profile_files,omitempty" json:"profile_files,omitempty"`
}

// Outage is a window in which a component is down.
type Outage struct {
	Component string        `yaml:"component" json:"component"` // gateway | cache
	From      spec.Duration `yaml:"from" json:"from"`
	To        spec.Duration `yaml:"to" json:"to"`
}

// Transfers are ownership transfers of random devices to random accounts at
// uniform times in [From, To].
type Transfers struct {
	Count int           `yaml:"count" json:"count"`
	From  spec.Duration `yaml:"from" json:"from"`
	To    spec.Duration `yaml:"to" json:"to"`
}

// Network is the latency and loss of each kind of link.
type Network struct {
	WAN     spec.Dist `yaml:"wan" json:"wan"`           // camera ⇄ gateway, app → store
	WANLoss float64   `yaml:"wan_loss" json:"wan_loss"` // probability a WAN message is lost
	DC      spec.Dist `yaml:"dc" json:"dc"`             // inside the data centre
	Push    spec.Dist `yaml:"push" json:"push"`         // push notification to a phone
}

// Cloud is the design under test and its capacities: the part explorer
// configurations share (model.Cloud) and what only timed runs read.
type Cloud struct {
	model.Cloud `yaml:",inline"`
	// ClientShare is the fraction of workers running Client (a rollout in
	// progress); the others run OldClient. 1: all of them.
	ClientShare     float64             `yaml:"client_share" json:"client_share"`
	OldClient       model.ClientVariant `yaml:"old_client" json:"old_client"`
	CacheTimeout    spec.Duration       `yaml:"cache_timeout" json:"cache_timeout"`
	DialTimeout     spec.Duration       `yaml:"dial_timeout" json:"dial_timeout"`
	CacheService    spec.Dist           `yaml:"cache_service" json:"cache_service"`
	RegistryLatency spec.Dist           `yaml:"registry_latency" json:"registry_latency"`
	StoreLatency    spec.Dist           `yaml:"store_latency" json:"store_latency"`
	AdmissionRate   float64             `yaml:"admission_rate" json:"admission_rate"`
	JitterBackoff   hwprofiles.Backoff  `yaml:"jitter_backoff" json:"jitter_backoff"`
}

// CloudLimits are the capacities a timed run accepts.
var CloudLimits = model.CloudLimits{PoolSize: 4096}

// Users is how people use the app.
type Users struct {
	TapProb   float64   `yaml:"tap_prob" json:"tap_prob"`
	VideoProb float64   `yaml:"video_prob" json:"video_prob"`
	TapDelay  spec.Dist `yaml:"tap_delay" json:"tap_delay"`
}

// Embedded lists the embedded scenario names.
func Embedded() []string { return spec.EmbeddedNames(embedded, "scenarios") }

// Load finds a scenario by embedded name or file path, decodes it strictly
// and resolves its profiles. Errors name the file and line.
func Load(nameOrFile string) (*Scenario, error) {
	file, data, err := spec.Named(embedded, "scenarios", "scenario", nameOrFile)
	if err != nil {
		return nil, err
	}
	dir := ""
	if !strings.HasPrefix(file, "builtin:") {
		dir = filepath.Dir(file)
	}
	return Parse(file, data, dir)
}

// Parse decodes a scenario document. dir resolves relative profile files.
func Parse(file string, data []byte, dir string) (*Scenario, error) {
	s := &Scenario{}
	root, err := decodeChain(file, data, s, nil)
	if err != nil {
		return nil, err
	}
	if err := spec.RequireSources(file, root, "name", "description", "base", "trace", "authorized"); err != nil {
		return nil, err
	}
	s.File, s.root = file, root
	if err := s.resolve(dir); err != nil {
		if fe, ok := err.(*fieldErr); ok {
			return nil, s.fieldError(fe.field, "%s", fe.msg)
		}
		return nil, err
	}
	return s, nil
}

// maxBaseDepth bounds a chain of bases (each names an embedded scenario).
const maxBaseDepth = 8

// decodeChain decodes a document into s over its base: the base (and its
// own base, and so on) is decoded first, then the document's own fields
// overwrite it. seen holds the bases already on the chain.
func decodeChain(file string, data []byte, s *Scenario, seen []string) (*yaml.Node, error) {
	if err := spec.CheckLines(file, data); err != nil {
		return nil, err // before any line of the document is named
	}
	var probe struct {
		Base string `yaml:"base"`
	}
	_ = yaml.Unmarshal(data, &probe)
	if probe.Base != "" {
		var root yaml.Node
		_ = yaml.Unmarshal(data, &root)
		errf := func(format string, a ...any) error { return spec.Errorf(file, &root, "base", format, a...) }
		if contains(seen, probe.Base) {
			return nil, errf("base %q is already on the chain (%s): a cycle", probe.Base, strings.Join(seen, " → "))
		}
		if len(seen) >= maxBaseDepth {
			return nil, errf("more than %d bases in a chain", maxBaseDepth)
		}
		bdata, err := embedded.ReadFile(path.Join("scenarios", probe.Base+".yaml"))
		if err != nil {
			return nil, errf("unknown embedded scenario %q (%s)", probe.Base, strings.Join(Embedded(), ", "))
		}
		if _, err := decodeChain("builtin:"+probe.Base+".yaml", bdata, s, append(seen, probe.Base)); err != nil {
			return nil, err
		}
		if yamlHasPath(data, "fleet.mix") {
			s.Fleet.Mix = nil // a mix is replaced whole, not merged
		}
	}
	return spec.Decode(file, data, s)
}

// fieldError is a bad-input error about a field, naming the scenario's file
// and the field's line. A field the file does not set came from its base:
// the error names the line of the base.
func (s *Scenario) fieldError(field, format string, a ...any) error {
	msg := fmt.Sprintf(format, a...)
	if s.root == nil {
		return &spec.Error{File: s.File, Field: field, Msg: msg}
	}
	if s.Base != "" && spec.Node(s.root, field) == nil {
		if e, ok := spec.Errorf(s.File, s.root, "base", "%s", msg).(*spec.Error); ok {
			e.Field, e.Msg = field, msg+" (the value of base "+s.Base+")"
			return e
		}
	}
	return spec.Errorf(s.File, s.root, field, "%s", msg)
}

func yamlHasPath(data []byte, p string) bool {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return false
	}
	return spec.Node(&root, p) != nil
}

type fieldErr struct{ field, msg string }

func (e *fieldErr) Error() string { return e.field + ": " + e.msg }

func bad(field, format string, a ...any) error { return &fieldErr{field, fmt.Sprintf(format, a...)} }

// resolve validates the scenario and loads its profiles.
func (s *Scenario) resolve(dir string) error {
	if err := s.validate(); err != nil {
		return err
	}
	var files []string
	for i, f := range s.Fleet.ProfileFiles {
		if dir != "" && !filepath.IsAbs(f) {
			f = filepath.Join(dir, f)
		}
		// A file that cannot be read is this scenario's error, on its line;
		// a fault inside a profile file names that file's line.
		if st, err := os.Stat(f); err != nil || !st.Mode().IsRegular() {
			why := "not a regular file"
			if err != nil {
				why = unwrapPath(err).Error()
			}
			return bad(fmt.Sprintf("fleet.profile_files.%d", i), "cannot read profile file %s: %s", f, why)
		}
		files = append(files, f)
	}
	set, err := hwprofiles.NewSet(files...)
	if err != nil {
		return err
	}
	s.Profiles = nil
	for _, name := range s.mixNames() {
		p, ok := set[name]
		if !ok {
			return bad("fleet.mix."+name, "unknown profile %q (known: %s)", name, strings.Join(set.Names(), ", "))
		}
		s.Profiles = append(s.Profiles, p)
	}
	return nil
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func (s *Scenario) mixNames() []string {
	names := make([]string, 0, len(s.Fleet.Mix))
	for n := range s.Fleet.Mix {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (s *Scenario) validate() error {
	if _, err := model.ParseAuthRule(s.Authorized); err != nil {
		return bad("authorized", "%v", err)
	}
	sum := 0.0
	for _, n := range s.mixNames() {
		w := s.Fleet.Mix[n]
		if err := spec.Closed(0, 1).Check(w); err != nil {
			return bad("fleet.mix."+n, "share %v", err)
		}
		sum += w
	}
	c := &s.Cloud
	// Every float of the scenario, against the interval it models.
	for _, f := range []struct {
		field string
		v     float64
		iv    spec.Interval
	}{
		{"scale", s.Scale, ScaleRange},
		{"fleet.share_fraction", s.Fleet.ShareFraction, spec.Closed(0, 1)},
		{"fleet.video_fraction", s.Fleet.VideoFraction, spec.Closed(0, 1)},
		{"network.wan_loss", s.Network.WANLoss, spec.ClosedOpen(0, 1)},
		{"cloud.client_share", c.ClientShare, spec.OpenClosed(0, 1)},
		{"cloud.admission_rate", c.AdmissionRate, spec.Closed(0, 1e9)},
		{"cloud.jitter_backoff.multiplier", c.JitterBackoff.Multiplier, spec.Closed(1, 100)},
		{"users.tap_prob", s.Users.TapProb, spec.Closed(0, 1)},
		{"users.video_prob", s.Users.VideoProb, spec.Closed(0, 1)},
	} {
		if err := f.iv.Check(f.v); err != nil {
			return bad(f.field, "%v", err)
		}
	}
	switch {
	case s.Duration <= 0:
		return bad("duration", "must be > 0")
	case s.CaptureUntil <= 0 || s.CaptureUntil > s.Duration:
		return bad("capture_until", "must be in (0, duration], got %v", s.CaptureUntil)
	case s.Start != "connected" && s.Start != "booting":
		return bad("start", "must be connected or booting, got %q", s.Start)
	case s.Fleet.Cameras < 1:
		return bad("fleet.cameras", "must be ≥ 1, got %d", s.Fleet.Cameras)
	case s.Fleet.Accounts < 1:
		return bad("fleet.accounts", "must be ≥ 1, got %d", s.Fleet.Accounts)
	case len(s.Fleet.Mix) == 0:
		return bad("fleet.mix", "needs at least one profile")
	case math.Abs(sum-1) > 1e-6:
		return bad("fleet.mix", "shares must sum to 1, got %g", sum)
	case s.Transfers.Count < 0:
		return bad("transfers.count", "must be ≥ 0")
	case s.Transfers.Count > 0 && (s.Transfers.From < 0 || s.Transfers.To < s.Transfers.From || s.Transfers.To > s.Duration):
		return bad("transfers", "need 0 ≤ from ≤ to ≤ duration")
	case c.CacheTimeout <= 0:
		return bad("cloud.cache_timeout", "must be > 0")
	case c.DialTimeout <= 0:
		return bad("cloud.dial_timeout", "must be > 0")
	case s.Trace != "full" && s.Trace != "slice" && s.Trace != "none":
		return bad("trace", "must be full, slice or none, got %q", s.Trace)
	}
	for i, o := range s.Outages {
		f := fmt.Sprintf("outages.%d", i)
		if o.Component != "gateway" && o.Component != "cache" {
			return bad(f+".component", "must be gateway or cache, got %q", o.Component)
		}
		if o.From < 0 || o.To <= o.From || o.To > s.Duration {
			return bad(f, "need 0 ≤ from < to ≤ duration, got %v..%v", o.From, o.To)
		}
	}
	for i, t := range s.CacheRestarts {
		if t < 0 || t > s.Duration {
			return bad(fmt.Sprintf("cache_restarts.%d", i), "must be in [0, duration]")
		}
	}
	if err := s.validateIncidents(); err != nil {
		return err
	}
	for _, d := range []struct {
		f string
		d spec.Dist
	}{{"network.wan", s.Network.WAN}, {"network.dc", s.Network.DC}, {"network.push", s.Network.Push},
		{"cloud.cache_service", c.CacheService}, {"cloud.registry_latency", c.RegistryLatency},
		{"cloud.store_latency", c.StoreLatency}, {"users.tap_delay", s.Users.TapDelay}} {
		if err := d.d.Check(); err != nil {
			return bad(d.f, "%v", err)
		}
	}
	// The cache's service time is divided by the scale (Build): it must
	// still be a duration, and a service time longer than the run means
	// nothing is served.
	for _, v := range []spec.Duration{c.CacheService.Value, c.CacheService.Max, c.CacheService.Mean, c.CacheService.Median} {
		if float64(v)/s.Scale > float64(s.Duration) {
			return bad("scale", "at scale %g the cache's service time (%v divided by the scale) is longer than the run", s.Scale, v)
		}
	}
	if field, msg := c.Check(CloudLimits); field != "" {
		return bad(field, "%s", msg)
	}
	if _, err := c.OldClient.MarshalText(); err != nil {
		return bad("cloud.old_client", "%v", err)
	}
	if c.Mitigations.Has(model.GatewayAdmission) && c.AdmissionRate <= 0 {
		return bad("cloud.admission_rate", "gateway-admission needs admission_rate > 0")
	}
	if _, err := model.ParseJitter(c.JitterBackoff.Jitter); err != nil {
		return bad("cloud.jitter_backoff.jitter", "%v", err)
	}
	if c.JitterBackoff.Initial <= 0 || c.JitterBackoff.Cap < c.JitterBackoff.Initial {
		return bad("cloud.jitter_backoff", "need initial > 0, cap ≥ initial")
	}
	if s.Fleet.Cameras > 50_000_000 || s.scaled(s.Fleet.Cameras) > 50_000_000 {
		return bad("fleet.cameras", "at most 50,000,000 cameras after scaling")
	}
	return nil
}

// ScaleRange is what a scale factor may be: from a millionth (a fleet of
// ten million becomes ten cameras) to ten thousand. The cache's service
// time is divided by the scale, so a factor without a lower bound would
// stretch it beyond what a duration holds.
var ScaleRange = spec.Closed(1e-6, 1e4)

// ScaleFlag is a --scale flag (flag.Value): a factor in ScaleRange. Unset
// it is 0, which leaves a scenario's scale as it is; set, 0 is refused like
// any other value outside the range.
type ScaleFlag float64

func (v *ScaleFlag) String() string {
	if v == nil || *v == 0 {
		return ""
	}
	return strconv.FormatFloat(float64(*v), 'g', -1, 64)
}

// Set implements flag.Value.
func (v *ScaleFlag) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("want a number")
	}
	if err := ScaleRange.Check(f); err != nil {
		return err
	}
	*v = ScaleFlag(f)
	return nil
}

// Override applies command-line choices: a client variant, extra
// mitigations, a seed and a further scale factor.
type Override struct {
	Client      *model.ClientVariant // nil: the scenario's
	Mitigations model.Mitigations    // switched on besides the scenario's
	Seed        *uint64
	Scale       float64 // multiplies the scenario's own scale; 0 = unchanged
	Rule        string  // the authorization rule ("": the scenario's)
}

// Apply returns a copy of s with o applied and validated.
func (s *Scenario) Apply(o Override) (*Scenario, error) {
	c := *s
	if o.Client != nil {
		c.Cloud.Client = *o.Client
	}
	c.Cloud.Mitigations |= o.Mitigations
	if o.Seed != nil {
		c.Seed = *o.Seed
	}
	if o.Rule != "" {
		if _, err := model.ParseAuthRule(o.Rule); err != nil {
			return nil, fmt.Errorf("--rule: %v", err)
		}
		c.Authorized = o.Rule
	}
	if o.Scale != 0 {
		if err := ScaleRange.Check(o.Scale); err != nil {
			return nil, fmt.Errorf("--scale: %v", err)
		}
		c.Scale *= o.Scale
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%s: %v", s.File, err)
	}
	return &c, nil
}

// Rule is the authorization rule the run is judged by (validated on load).
func (s *Scenario) Rule() model.AuthRule {
	r, _ := model.ParseAuthRule(s.Authorized)
	return r
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (s *Scenario) scaled(n int) int {
	v := int(math.Round(float64(n) * s.Scale))
	if n > 0 && v < 1 {
		v = 1
	}
	return v
}

// Design returns the scenario's cache client and mitigations.
func (s *Scenario) Design() model.Design { return s.Cloud.Design() }

// JSON is the scenario, expanded and resolved, as written into trace
// headers. A validated scenario always encodes (its numbers are finite);
// one that does not is nil, and Run refuses it rather than write a header
// without its options.
func (s *Scenario) JSON() json.RawMessage {
	b, err := json.Marshal(s)
	if err != nil {
		return nil
	}
	return b
}

// FromJSON rebuilds a scenario from a trace header's options.
func FromJSON(raw json.RawMessage) (*Scenario, error) {
	var s Scenario
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("trace header options are not a scenario: %v", err)
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("trace header options: %v", err)
	}
	byName := map[string]bool{}
	for _, p := range s.Profiles {
		byName[p.Name] = true
	}
	for _, n := range s.mixNames() {
		if !byName[n] {
			return nil, fmt.Errorf("trace header options: profile %q of the mix is missing", n)
		}
	}
	s.File = "trace header"
	return &s, nil
}

// Plan is a scenario made concrete for one seed: the model's parameters,
// the fleet, and the faults at their times.
type Plan struct {
	Params model.Params
	Fleet  model.Fleet
	Faults []TimedFault
	Net    NetParams
	// OutageFrom/OutageTo is the first gateway outage (for the summary).
	OutageFrom, OutageTo time.Duration
	CaptureUntil         time.Duration
	Duration             time.Duration
	// Notes are caveats about this plan a reader of its results should see.
	Notes []string
}

// TimedFault is a fault at a virtual time.
type TimedFault struct {
	At    time.Duration
	Fault model.Fault
}

// NetParams is the network model, as Durs.
type NetParams struct {
	WAN, DC, Push model.Dur
	WANLoss       float64
}

// Build makes the plan. The fleet (profiles, ownership, shares, clips) and
// the transfers are drawn from a stream of their own derived from the seed,
// so they do not depend on anything the run does.
func (s *Scenario) Build() (*Plan, error) {
	design := s.Design()
	c := &s.Cloud
	jb := c.JitterBackoff
	jit, _ := model.ParseJitter(jb.Jitter)
	cams, accts := s.scaled(s.Fleet.Cameras), s.scaled(s.Fleet.Accounts)
	// The cache connections in all (workers × pool) scale with the fleet,
	// so the queue a saturated cache can hold, times its scaled service
	// time, stays what it was.
	workers := s.scaled(c.Workers)
	pool := max(1, int(math.Round(float64(c.Workers*c.PoolSize)*s.Scale/float64(workers))))
	clientWorkers := 0 // all
	if c.ClientShare < 1 {
		clientWorkers = min(workers, max(1, int(math.Round(c.ClientShare*float64(workers)))))
	}
	if accts > cams {
		accts = cams
	}
	p := &Plan{
		Params: model.Params{
			Design:          design,
			Workers:         workers,
			ClientWorkers:   clientWorkers,
			OldClient:       c.OldClient,
			PoolSize:        pool,
			MaxWaiting:      c.MaxWaiting,
			CacheTimeout:    c.CacheTimeout.D(),
			DialTimeout:     c.DialTimeout.D(),
			CacheService:    c.CacheService.Scale(1 / s.Scale).Model(),
			RegistryLatency: c.RegistryLatency.Model(),
			StoreLatency:    c.StoreLatency.Model(),
			AdmissionRate:   c.AdmissionRate * s.Scale,
			AdmissionBurst:  int32(max(1, s.scaled(c.AdmissionBurst))),
			JitterBackoff:   model.Backoff{Initial: jb.Initial.D(), Multiplier: jb.Multiplier, Cap: jb.Cap.D(), Jitter: jit},
			TapProb:         s.Users.TapProb,
			VideoProb:       s.Users.VideoProb,
			TapDelay:        s.Users.TapDelay.Model(),
		},
		Net: NetParams{WAN: s.Network.WAN.Model(), DC: s.Network.DC.Model(), Push: s.Network.Push.Model(),
			WANLoss: s.Network.WANLoss},
		CaptureUntil: s.CaptureUntil.D(),
		Duration:     s.Duration.D(),
	}
	for _, pr := range s.Profiles {
		p.Fleet.Profiles = append(p.Fleet.Profiles, pr.ModelProfile())
	}
	p.Fleet.Accounts = accts
	rng := rand.New(rand.NewPCG(s.Seed, 0x666c656574)) // "fleet"
	// Profile of each camera by the mix; owners: every account gets one
	// camera, the rest go to accounts at random; some devices are shared.
	names := s.mixNames()
	cum := make([]float64, len(names))
	acc := 0.0
	for i, n := range names {
		acc += s.Fleet.Mix[n]
		cum[i] = acc
	}
	p.Fleet.Devices = make([]model.Device, cams)
	for i := range p.Fleet.Devices {
		d := &p.Fleet.Devices[i]
		u := rng.Float64() * acc
		for d.Profile = 0; int(d.Profile) < len(cum)-1 && u >= cum[d.Profile]; d.Profile++ {
		}
		owner := model.AccountID(i)
		if i >= accts {
			owner = model.AccountID(rng.IntN(accts))
		}
		d.Owners = model.MakeOwners(owner)
		if accts > 1 && rng.Float64() < s.Fleet.ShareFraction {
			other := model.AccountID(rng.IntN(accts - 1))
			if other >= owner {
				other++
			}
			d.Owners.Add(other)
		}
		d.Video = rng.Float64() < s.Fleet.VideoFraction
	}
	if s.Start == "connected" {
		p.Params.StartConnected = true
	}
	for _, o := range s.Outages {
		down, up := model.FaultGatewayDown, model.FaultGatewayUp
		if o.Component == "cache" {
			down, up = model.FaultCacheDown, model.FaultCacheUp
		}
		p.Faults = append(p.Faults, TimedFault{At: o.From.D(), Fault: model.Fault{Kind: down}},
			TimedFault{At: o.To.D(), Fault: model.Fault{Kind: up}})
		if o.Component == "gateway" && p.OutageTo == 0 {
			p.OutageFrom, p.OutageTo = o.From.D(), o.To.D()
		}
	}
	for _, t := range s.CacheRestarts {
		p.Faults = append(p.Faults, TimedFault{At: t.D(), Fault: model.Fault{Kind: model.FaultCacheRestart}})
	}
	if n := s.scaled(s.Transfers.Count); s.Transfers.Count > 0 && accts > 1 {
		for i := 0; i < n; i++ {
			d := model.DeviceID(rng.IntN(cams))
			to := model.AccountID(rng.IntN(accts))
			at := s.Transfers.From.D() + time.Duration(rng.Int64N(int64(s.Transfers.To-s.Transfers.From)+1))
			p.Faults = append(p.Faults, TimedFault{At: at, Fault: model.Fault{Kind: model.FaultTransfer, Device: d, Owners: model.MakeOwners(to)}})
		}
	}
	s.buildIncidents(p)
	if design.Mitigations.Has(model.EventsTabOff) {
		p.Faults = append(p.Faults, TimedFault{At: s.EventsTabOffAt.D(), Fault: model.Fault{Kind: model.FaultEventsTabOff}})
	}
	p.Faults = append(p.Faults, TimedFault{At: s.CaptureUntil.D(), Fault: model.Fault{Kind: model.FaultQuiesce}})
	sort.SliceStable(p.Faults, func(i, j int) bool { return p.Faults[i].At < p.Faults[j].At })
	if err := p.Params.Validate(); err != nil {
		return nil, err
	}
	if mean := meanDur(p.Params.CacheService); mean > p.Params.CacheTimeout/10 {
		p.Notes = append(p.Notes, fmt.Sprintf("at scale %g the cache's mean time per operation (%v) is more than a tenth of the client deadline (%v): timeouts happen without load, so queueing is not that of the full-size fleet; use a larger scale for fidelity",
			s.Scale, mean.Round(time.Microsecond), p.Params.CacheTimeout))
	}
	return p, nil
}

// meanDur is the mean of a duration distribution.
func meanDur(d model.Dur) time.Duration {
	switch d.Kind {
	case model.DurUniform:
		return (d.A + d.B) / 2
	case model.DurLogNormal:
		return time.Duration(float64(d.A) * math.Exp(d.Sigma*d.Sigma/2))
	}
	return d.A
}
