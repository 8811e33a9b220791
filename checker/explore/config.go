package explore

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/stormproof/stormproof/hwprofiles"
	"github.com/stormproof/stormproof/internal/spec"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/model/statespace"
)

//go:embed configs/*.yaml
var embedded embed.FS

// DefaultConfig is what `stormproof explore` explores without arguments.
const DefaultConfig = "small"

// Config is a small world to explore exhaustively. Durations play no part
// (the explorer is untimed); what bounds the state space is explicit here:
// events per camera, faults, premature-timeout budgets.
type Config struct {
	Name        string       `yaml:"name" json:"name"`
	Description string       `yaml:"description" json:"description"`
	Accounts    int          `yaml:"accounts" json:"accounts"`
	Cameras     []CameraSpec `yaml:"cameras" json:"cameras"`
	// Start: "connected" (steady state) or "booting".
	Start string `yaml:"start" json:"start"`
	// EventsPerCamera is model.Params.MaxEventsPerCamera: each camera
	// captures exactly this many events over a run.
	EventsPerCamera int `yaml:"events_per_camera" json:"events_per_camera"`
	// WarmCache: the run starts with every device's owners cached (steady
	// state before an outage), as the registry holds them.
	WarmCache bool        `yaml:"warm_cache" json:"warm_cache"`
	Cloud     model.Cloud `yaml:"cloud" json:"cloud"`
	Users     UsersSpec   `yaml:"users" json:"users"`
	Faults    FaultsSpec  `yaml:"faults" json:"faults"`
	Bounds    BoundsSpec  `yaml:"bounds" json:"bounds"`
	// The other incidents' parts (absent: not part of the world).
	Web      *WebSpec      `yaml:"web,omitempty" json:"web,omitempty"`
	Notifier *NotifierSpec `yaml:"notifier,omitempty" json:"notifier,omitempty"`
	Replica  *ReplicaSpec  `yaml:"replica,omitempty" json:"replica,omitempty"`
	File     string        `yaml:"-" json:"-"`
	profiles []model.Profile
}

// WebSpec is the 2023 web portal: every account may open sessions, and the
// response cache's key may omit the account for a while.
type WebSpec struct {
	// Logins: sessions each account may open in a run.
	Logins int `yaml:"logins" json:"logins"`
	// FaultWindows: how often the mapping fault may begin (and then end).
	FaultWindows int `yaml:"fault_windows" json:"fault_windows"`
}

// NotifierSpec is the 2020 notification service.
type NotifierSpec struct {
	// DefectWindows: how often the defective deployment may go live (and
	// then be rolled back).
	DefectWindows int `yaml:"defect_windows" json:"defect_windows"`
}

// ReplicaSpec is the 2019 analytics copy and its anonymous reader.
type ReplicaSpec struct {
	// Integrations: the accounts whose documents hold an integration token.
	Integrations []int `yaml:"integrations" json:"integrations"`
	// AuthOffWindows: how often access control may be switched off (and
	// then back on).
	AuthOffWindows int `yaml:"auth_off_windows" json:"auth_off_windows"`
	// AlarmAfter: anonymous reads before the exposure alarm (mitigation
	// exposure-alarm) closes access.
	AlarmAfter int `yaml:"alarm_after" json:"alarm_after"`
	// MaxProbes: refused probes after which the reader gives up.
	MaxProbes int `yaml:"max_probes" json:"max_probes"`
}

// CameraSpec is one camera: its hardware profile, owner set and clips.
type CameraSpec struct {
	Profile string `yaml:"profile" json:"profile"`
	Owners  []int  `yaml:"owners" json:"owners"`
	Video   bool   `yaml:"video" json:"video"`
}

// UsersSpec: only whether a probability is 0, 1 or in between matters to
// the explorer (in between: both outcomes are explored).
type UsersSpec struct {
	TapProb   float64 `yaml:"tap_prob" json:"tap_prob"`
	VideoProb float64 `yaml:"video_prob" json:"video_prob"`
}

// FaultsSpec says how often each fault may happen in a run (at any point).
type FaultsSpec struct {
	Outages       int            `yaml:"outages" json:"outages"`
	CacheRestarts int            `yaml:"cache_restarts" json:"cache_restarts"`
	Transfers     []TransferSpec `yaml:"transfers" json:"transfers"`
}

// TransferSpec is one ownership transfer that may happen once.
type TransferSpec struct {
	Device int   `yaml:"device" json:"device"`
	To     []int `yaml:"to" json:"to"`
}

// BoundsSpec bounds what an untimed world could otherwise repeat forever.
type BoundsSpec struct {
	// PrematureTimeouts: how many times per run a timeout of each kind may
	// fire while its answer can still arrive. A timeout whose answer can no
	// longer arrive always fires.
	PrematureTimeouts PrematureSpec `yaml:"premature_timeouts" json:"premature_timeouts"`
	// MaxConnectAttempt is model.Params.MaxConnectAttempt.
	MaxConnectAttempt int `yaml:"max_connect_attempt" json:"max_connect_attempt"`
}

// PrematureSpec is a budget per timeout kind.
type PrematureSpec struct {
	Cache   int `yaml:"cache" json:"cache"`
	Dial    int `yaml:"dial" json:"dial"`
	Connect int `yaml:"connect" json:"connect"`
	Upload  int `yaml:"upload" json:"upload"`
}

// prematureNames are the budgets' names, in the model's order of Timeout
// kinds (TimeoutCache first), as budgets lists them.
var prematureNames = [statespace.NumPremature]string{"cache", "dial", "connect", "upload"}

func (p PrematureSpec) budgets() [statespace.NumPremature]int {
	return [statespace.NumPremature]int{p.Cache, p.Dial, p.Connect, p.Upload}
}

// Embedded lists the embedded configuration names. An incident's
// configuration has the name of its scenario (sim.Incidents).
func Embedded() []string { return spec.EmbeddedNames(embedded, "configs") }

// Load finds a configuration by embedded name or file path.
func Load(nameOrFile string) (*Config, error) {
	file, data, err := spec.Named(embedded, "configs", "explorer configuration", nameOrFile)
	if err != nil {
		return nil, err
	}
	return Parse(file, data)
}

// Parse strictly decodes a configuration: unknown fields, wrong types and
// modelling values without a source comment are errors naming file and line.
func Parse(file string, data []byte) (*Config, error) {
	c := &Config{}
	root, err := spec.Decode(file, data, c)
	if err != nil {
		return nil, err
	}
	if err := spec.RequireSources(file, root, "name", "description"); err != nil {
		return nil, err
	}
	c.File = file
	if field, msg := c.validate(); field != "" {
		return nil, spec.Errorf(file, root, field, "%s", msg)
	}
	return c, nil
}

// Override applies command-line choices: a client (nil: the
// configuration's) and mitigations switched on besides its own. It returns
// a validated copy.
func (c *Config) Override(client *model.ClientVariant, mitigations model.Mitigations) (*Config, error) {
	o := *c
	if client != nil {
		o.Cloud.Client = *client
	}
	o.Cloud.Mitigations |= mitigations
	if field, msg := o.validate(); field != "" {
		return nil, fmt.Errorf("%s: %s: %s", c.File, field, msg)
	}
	return &o, nil
}

// CloudLimits are the capacities a world small enough to explore may have.
var CloudLimits = model.CloudLimits{Workers: 4, PoolSize: 4, MaxWaiting: 16, AdmissionBurst: 16}

// validate checks c and resolves its profiles; it returns the field at
// fault and a message.
func (c *Config) validate() (string, string) {
	f := func(format string, a ...any) string { return fmt.Sprintf(format, a...) }
	switch {
	case c.Accounts < 1 || c.Accounts > statespace.MaxAccounts:
		return "accounts", f("must be in 1..%d, got %d", statespace.MaxAccounts, c.Accounts)
	case len(c.Cameras) < 1 || len(c.Cameras) > statespace.MaxCameras:
		return "cameras", f("need 1..%d cameras, got %d", statespace.MaxCameras, len(c.Cameras))
	case c.Start != "connected" && c.Start != "booting":
		return "start", f("must be connected or booting, got %q", c.Start)
	case c.EventsPerCamera < 0 || c.EventsPerCamera > 8:
		return "events_per_camera", f("must be in 0..8 (0: the cameras capture nothing), got %d", c.EventsPerCamera)
	case !spec.Closed(0, 1).Contains(c.Users.TapProb):
		return "users.tap_prob", spec.Closed(0, 1).Check(c.Users.TapProb).Error()
	case !spec.Closed(0, 1).Contains(c.Users.VideoProb):
		return "users.video_prob", spec.Closed(0, 1).Check(c.Users.VideoProb).Error()
	case c.Faults.Outages < 0 || c.Faults.Outages > 3:
		return "faults.outages", f("must be in 0..3, got %d", c.Faults.Outages)
	case c.Faults.CacheRestarts < 0 || c.Faults.CacheRestarts > 3:
		return "faults.cache_restarts", f("must be in 0..3, got %d", c.Faults.CacheRestarts)
	case len(c.Faults.Transfers) > statespace.MaxTransfers:
		return "faults.transfers", f("at most %d, got %d", statespace.MaxTransfers, len(c.Faults.Transfers))
	case c.Bounds.MaxConnectAttempt < 1 || c.Bounds.MaxConnectAttempt > 255:
		return "bounds.max_connect_attempt", f("must be in 1..255, got %d", c.Bounds.MaxConnectAttempt)
	}
	if field, msg := c.Cloud.Check(CloudLimits); field != "" {
		return field, msg
	}
	if field, msg := c.validateParts(); field != "" {
		return field, msg
	}
	p, _ := c.build()
	if nc, nt := statespace.Size(p, len(c.Cameras), c.Accounts); nc > statespace.MaxChannels {
		return "cameras", fmt.Sprintf("too many channels for the explorer (%d > %d): fewer cameras, accounts, workers or connections", nc, statespace.MaxChannels)
	} else if nt > statespace.MaxTimers {
		return "cloud.pool_size", fmt.Sprintf("too many timers for the explorer (3 per camera + 2 + workers×pool_size + web + reader ≤ %d)", statespace.MaxTimers)
	}
	for i, v := range c.Bounds.PrematureTimeouts.budgets() {
		if v < 0 || v > 15 {
			return "bounds.premature_timeouts." + prematureNames[i], f("must be in 0..15, got %d", v)
		}
	}
	set, err := hwprofiles.NewSet()
	if err != nil {
		return "cameras", err.Error()
	}
	c.profiles = nil
	byName := map[string]int{}
	for i, cam := range c.Cameras {
		field := fmt.Sprintf("cameras.%d", i)
		p, ok := set[cam.Profile]
		if !ok {
			return field + ".profile", f("unknown profile %q (known: %s)", cam.Profile, strings.Join(set.Names(), ", "))
		}
		if _, seen := byName[cam.Profile]; !seen {
			byName[cam.Profile] = len(c.profiles)
			c.profiles = append(c.profiles, p.ModelProfile())
		}
		if msg := c.checkOwners(cam.Owners); msg != "" {
			return field + ".owners", msg
		}
	}
	for i, t := range c.Faults.Transfers {
		field := fmt.Sprintf("faults.transfers.%d", i)
		if t.Device < 0 || t.Device >= len(c.Cameras) {
			return field + ".device", f("no camera %d (the configuration has %d)", t.Device, len(c.Cameras))
		}
		if msg := c.checkOwners(t.To); msg != "" {
			return field + ".to", msg
		}
	}
	return "", ""
}

func (c *Config) validateParts() (string, string) {
	f := func(format string, a ...any) string { return fmt.Sprintf(format, a...) }
	if w := c.Web; w != nil {
		switch {
		case w.Logins < 1 || w.Logins > 3:
			return "web.logins", f("must be in 1..3, got %d", w.Logins)
		case w.FaultWindows < 0 || w.FaultWindows > 2:
			return "web.fault_windows", f("must be in 0..2, got %d", w.FaultWindows)
		}
	}
	if n := c.Notifier; n != nil && (n.DefectWindows < 0 || n.DefectWindows > 2) {
		return "notifier.defect_windows", f("must be in 0..2, got %d", n.DefectWindows)
	}
	if r := c.Replica; r != nil {
		switch {
		case r.AuthOffWindows < 0 || r.AuthOffWindows > 2:
			return "replica.auth_off_windows", f("must be in 0..2, got %d", r.AuthOffWindows)
		case r.AlarmAfter < 1 || r.AlarmAfter > 8:
			return "replica.alarm_after", f("must be in 1..8, got %d", r.AlarmAfter)
		case r.MaxProbes < 1 || r.MaxProbes > 8:
			return "replica.max_probes", f("must be in 1..8 (the reader gives up after so many refused probes), got %d", r.MaxProbes)
		}
		seen := map[int]bool{}
		for i, a := range r.Integrations {
			if a < 0 || a >= c.Accounts || seen[a] {
				return fmt.Sprintf("replica.integrations.%d", i), f("no account %d, or listed twice (the configuration has %d)", a, c.Accounts)
			}
			seen[a] = true
		}
	}
	return "", ""
}

func (c *Config) checkOwners(ids []int) string {
	if len(ids) < 1 || len(ids) > model.MaxOwners {
		return fmt.Sprintf("need 1..%d accounts, got %d", model.MaxOwners, len(ids))
	}
	seen := map[int]bool{}
	for _, a := range ids {
		if a < 0 || a >= c.Accounts {
			return fmt.Sprintf("no account %d (the configuration has %d)", a, c.Accounts)
		}
		if seen[a] {
			return fmt.Sprintf("account %d listed twice", a)
		}
		seen[a] = true
	}
	return ""
}

// Design is the cache client and mitigations.
func (c *Config) Design() model.Design { return c.Cloud.Design() }

// JSON is the configuration as written into a counterexample's header.
func (c *Config) JSON() json.RawMessage {
	b, _ := json.Marshal(c)
	return b
}

func owners(ids []int) model.Owners {
	var o model.Owners
	for _, a := range ids {
		o.Add(model.AccountID(a))
	}
	return o
}

// build makes the model's parameters and fleet. Durations are placeholders
// the explorer never reads (Params.Validate wants them positive).
func (c *Config) build() (*model.Params, *model.Fleet) {
	p := &model.Params{
		Design:             c.Design(),
		Workers:            c.Cloud.Workers,
		PoolSize:           c.Cloud.PoolSize,
		MaxWaiting:         c.Cloud.MaxWaiting,
		CacheTimeout:       time.Second,
		DialTimeout:        time.Second,
		AdmissionRate:      1,
		AdmissionBurst:     int32(c.Cloud.AdmissionBurst),
		TapProb:            c.Users.TapProb,
		VideoProb:          c.Users.VideoProb,
		MaxEventsPerCamera: uint32(c.EventsPerCamera),
		StartConnected:     c.Start == "connected",
		MaxConnectAttempt:  uint8(c.Bounds.MaxConnectAttempt),
	}
	// The other incidents' parts; durations are placeholders here too.
	if c.Web != nil {
		p.Web = model.WebParams{On: true, TTL: model.Const(time.Minute)}
	}
	p.Notifier = c.Notifier != nil
	f := &model.Fleet{Profiles: c.profiles, Accounts: c.Accounts}
	if r := c.Replica; r != nil {
		p.Replica = model.ReplicaParams{On: true, AlarmAfter: uint32(r.AlarmAfter), MaxProbes: uint32(r.MaxProbes),
			ProbeEvery: model.Const(time.Hour), ReadEvery: model.Const(time.Second)}
		f.Integrations = make([]bool, c.Accounts)
		for _, a := range r.Integrations {
			f.Integrations[a] = true
		}
	}
	idx := map[string]int{}
	for i, p := range c.profiles {
		idx[p.Name] = i
	}
	for _, cam := range c.Cameras {
		f.Devices = append(f.Devices, model.Device{Profile: uint8(idx[cam.Profile]), Owners: owners(cam.Owners), Video: cam.Video})
	}
	return p, f
}

// Spec is the world c describes, with its budgets.
func (c *Config) Spec() statespace.Spec {
	p, f := c.build()
	s := statespace.Spec{Params: p, Fleet: f, WarmCache: c.WarmCache, Outages: c.Faults.Outages,
		CacheRestarts: c.Faults.CacheRestarts, Premature: c.Bounds.PrematureTimeouts.budgets()}
	for _, t := range c.Faults.Transfers {
		s.Transfers = append(s.Transfers, model.Fault{Kind: model.FaultTransfer, Device: model.DeviceID(t.Device), Owners: owners(t.To)})
	}
	if c.Web != nil {
		s.Windows[model.WindowWeb], s.Logins = c.Web.FaultWindows, c.Web.Logins
	}
	if c.Notifier != nil {
		s.Windows[model.WindowNotifier] = c.Notifier.DefectWindows
	}
	if c.Replica != nil {
		s.Windows[model.WindowReplica] = c.Replica.AuthOffWindows
	}
	return s
}
