package model

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ClientVariant names a cache client's behaviour (ClientBehaviour): one
// of the three built in, or one a user registered (RegisterClient).
type ClientVariant uint8

// The built-in variants.
const (
	// NaivePool: on timeout the caller gets an error and the connection goes
	// back to the pool with the reply still coming. The next request on that
	// connection reads it. (redis-py 2023, go-redis #1140, gomemcache PR #5.)
	NaivePool ClientVariant = iota
	// DiscardOnTimeout closes the connection on timeout, as go-redis v9 and
	// gomemcache do today.
	DiscardOnTimeout
	// Tagged: each request carries a token the reply must echo (memcached
	// meta "O" opaque); a mismatch closes the connection and counts as a miss.
	Tagged
)

func (c ClientVariant) String() string {
	if b, ok := c.lookup(); ok {
		return b.Name
	}
	return fmt.Sprintf("client(%d)", uint8(c))
}

// Clients lists every variant, the built-in ones first.
func Clients() []ClientVariant {
	out := make([]ClientVariant, len(clients.all()))
	for i := range out {
		out[i] = ClientVariant(i)
	}
	return out
}

// MarshalText writes the variant's name.
func (c ClientVariant) MarshalText() ([]byte, error) {
	b, ok := c.lookup()
	if !ok {
		return nil, fmt.Errorf("no cache client %d", uint8(c))
	}
	return []byte(b.Name), nil
}

// UnmarshalText reads a variant's name. It is the one place a client name is
// parsed: scenario and explorer files, trace headers and flags all decode
// through it.
func (c *ClientVariant) UnmarshalText(b []byte) error {
	all := clients.all()
	names := make([]string, len(all))
	for i, cb := range all {
		if cb.Name == string(b) {
			*c = ClientVariant(i)
			return nil
		}
		names[i] = cb.Name
	}
	return &NameError{Kind: "cache client", Name: string(b), Known: names}
}

// NameError is a name that is not one of a kind's names.
type NameError struct {
	Kind  string   // "cache client", "mitigation"
	Name  string   // as written
	Known []string // the names there are
}

func (e *NameError) Error() string {
	return fmt.Sprintf("unknown %s %q (want %s)", e.Kind, e.Name, strings.Join(e.Known, ", "))
}

// BadText is the text at fault, for a decoder to find its line.
func (e *NameError) BadText() string { return e.Name }

// Mitigation is one switch of the design.
type Mitigation uint8

const (
	// BypassCacheOwnership reads device→owners from the registry, never the cache.
	BypassCacheOwnership Mitigation = iota
	// VerifyOnView checks the registry before serving an enlarged thumbnail or
	// video. It does not stop the thumbnail push.
	VerifyOnView
	// KeyInValue: the cached value names its device; a mismatch is a miss.
	KeyInValue
	// StampedMedia: the camera stamps the accounts it is bound to into its
	// media; pushes and views to anyone else are refused (VerifiedView, 2025).
	StampedMedia
	// EventsTabOff: a kill switch (at the scenario's events_tab_off_at) stops
	// pushes and views.
	EventsTabOff
	// JitteredBackoff: full jitter replaces each profile's reconnect policy.
	JitteredBackoff
	// GatewayAdmission: a token bucket limits accepted connections per second.
	GatewayAdmission
	// InvalidateOnTransfer: an ownership write deletes the cached entry and
	// leaves a versioned tombstone, so a SET carrying an older registry read
	// is refused (a plain DEL would lose the read-then-set race).
	InvalidateOnTransfer
	// ConfigGuard: a configuration change that turns a data store's
	// authorization off needs a second person's approval; without it the
	// change is refused (2019: one employee removed the replica's protection).
	ConfigGuard
	// ExposureAlarm: after Params.Replica.AlarmAfter anonymous reads the
	// replica raises an alarm and access is closed.
	ExposureAlarm
	// DataMinimisation: the analytics copy never holds integration tokens.
	DataMinimisation
	numBuiltinMitigations
)

func (m Mitigation) String() string {
	if r, ok := m.lookup(); ok {
		return r.Name
	}
	return fmt.Sprintf("mitigation(%d)", uint8(m))
}

// AllMitigations lists every mitigation, the built-in ones first.
func AllMitigations() []Mitigation {
	out := make([]Mitigation, len(mitigations.all()))
	for i := range out {
		out[i] = Mitigation(i)
	}
	return out
}

// Mitigations is a set of switches.
type Mitigations uint16

// Has reports whether m is on.
func (s Mitigations) Has(m Mitigation) bool { return s&(1<<m) != 0 }

// With returns s with m on.
func (s Mitigations) With(m Mitigation) Mitigations { return s | 1<<m }

// List returns the switches that are on, in declaration order.
func (s Mitigations) List() []Mitigation {
	var out []Mitigation
	for m := Mitigation(0); int(m) < len(mitigations.all()); m++ {
		if s.Has(m) {
			out = append(out, m)
		}
	}
	return out
}

func (s Mitigations) String() string {
	var names []string
	for _, m := range s.List() {
		names = append(names, m.String())
	}
	return strings.Join(names, ",")
}

// MarshalText writes the mitigation's name.
func (m Mitigation) MarshalText() ([]byte, error) {
	r, ok := m.lookup()
	if !ok {
		return nil, fmt.Errorf("no mitigation %d", uint8(m))
	}
	return []byte(r.Name), nil
}

// UnmarshalText reads one mitigation's name ("events-tab-off" is
// events-tab-off-at). It is the one place a mitigation name is parsed.
func (m *Mitigation) UnmarshalText(b []byte) error {
	name := strings.TrimSpace(string(b))
	if name == "events-tab-off" {
		name = EventsTabOff.String()
	}
	all := mitigations.all()
	known := make([]string, len(all))
	for i, r := range all {
		if r.Name == name {
			*m = Mitigation(i)
			return nil
		}
		known[i] = r.Name
	}
	sort.Strings(known)
	return &NameError{Kind: "mitigation", Name: name, Known: known}
}

// MarshalText writes the set as a comma-separated list, the form a flag
// takes.
func (s Mitigations) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a comma-separated list ("" is the empty set).
func (s *Mitigations) UnmarshalText(b []byte) error {
	var out Mitigations
	if strings.TrimSpace(string(b)) != "" {
		for _, part := range strings.Split(string(b), ",") {
			var m Mitigation
			if err := m.UnmarshalText([]byte(part)); err != nil {
				return err
			}
			out = out.With(m)
		}
	}
	*s = out
	return nil
}

// MarshalJSON writes the set as a list of names (never null).
func (s Mitigations) MarshalJSON() ([]byte, error) {
	list := s.List()
	if list == nil {
		list = []Mitigation{}
	}
	return json.Marshal(list)
}

// UnmarshalJSON reads a list of names (null is the empty set).
func (s *Mitigations) UnmarshalJSON(b []byte) error {
	var list []Mitigation
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*s = MitigationSet(list...)
	return nil
}

// MarshalYAML writes the set as a list of names.
func (s Mitigations) MarshalYAML() (any, error) {
	names := []string{}
	for _, m := range s.List() {
		names = append(names, m.String())
	}
	return names, nil
}

// UnmarshalYAML reads a list of names. (The decoder's callback form keeps
// the model free of any YAML library.)
func (s *Mitigations) UnmarshalYAML(unmarshal func(any) error) error {
	var list []Mitigation
	if err := unmarshal(&list); err != nil {
		return err
	}
	*s = MitigationSet(list...)
	return nil
}

// MitigationSet is the set of the given switches.
func MitigationSet(ms ...Mitigation) Mitigations {
	var s Mitigations
	for _, m := range ms {
		s = s.With(m)
	}
	return s
}

// Design is the variant under test: one cache client and a set of mitigations.
type Design struct {
	Client      ClientVariant
	Mitigations Mitigations
}

// Cloud is the cloud side of a world as scenario and explorer files both
// write it (section "cloud"): the design under test and the capacities every
// engine models. Each file adds what only its engine reads.
type Cloud struct {
	Client         ClientVariant `yaml:"client" json:"client"`
	Mitigations    Mitigations   `yaml:"mitigations" json:"mitigations"`
	Workers        int           `yaml:"workers" json:"workers"`
	PoolSize       int           `yaml:"pool_size" json:"pool_size"`
	MaxWaiting     int           `yaml:"max_waiting" json:"max_waiting"`
	AdmissionBurst int           `yaml:"admission_burst" json:"admission_burst"`
}

// CloudLimits bound a Cloud's capacities; an engine gives its own. A zero
// limit is no upper bound.
type CloudLimits struct {
	Workers, PoolSize, MaxWaiting, AdmissionBurst int
}

// Design is the cache client and mitigations.
func (c Cloud) Design() Design { return Design{Client: c.Client, Mitigations: c.Mitigations} }

// Check returns the field at fault (under "cloud.") and why, or "".
func (c Cloud) Check(lim CloudLimits) (field, msg string) {
	switch {
	case !c.Client.known():
		return "cloud.client", fmt.Sprintf("no cache client %d", uint8(c.Client))
	case c.Mitigations>>len(mitigations.all()) != 0:
		return "cloud.mitigations", fmt.Sprintf("no mitigation in %#x", uint16(c.Mitigations>>len(mitigations.all())))
	case outside(c.Workers, 1, lim.Workers):
		return "cloud.workers", rangeMsg(c.Workers, 1, lim.Workers, "")
	case outside(c.PoolSize, 1, lim.PoolSize):
		return "cloud.pool_size", rangeMsg(c.PoolSize, 1, lim.PoolSize, "")
	case outside(c.MaxWaiting, 0, lim.MaxWaiting):
		return "cloud.max_waiting", rangeMsg(c.MaxWaiting, 0, lim.MaxWaiting, " (0: unbounded)")
	case outside(c.AdmissionBurst, 0, lim.AdmissionBurst):
		return "cloud.admission_burst", rangeMsg(c.AdmissionBurst, 0, lim.AdmissionBurst, "")
	case c.Mitigations.Has(GatewayAdmission) && c.AdmissionBurst < 1:
		return "cloud.admission_burst", "gateway-admission needs admission_burst ≥ 1"
	}
	return "", ""
}

func outside(v, lo, hi int) bool { return v < lo || (hi > 0 && v > hi) }

func rangeMsg(v, lo, hi int, note string) string {
	if hi == 0 {
		return fmt.Sprintf("must be ≥ %d%s, got %d", lo, note, v)
	}
	return fmt.Sprintf("must be in %d..%d%s, got %d", lo, hi, note, v)
}

func (d Design) String() string {
	if d.Mitigations == 0 {
		return d.Client.String()
	}
	return d.Client.String() + "+" + d.Mitigations.String()
}

// Jitter is a reconnect-backoff jitter policy (AWS Architecture Blog,
// "Exponential Backoff And Jitter", 2015).
type Jitter uint8

const (
	JitterNone  Jitter = iota // delay = min(cap, initial·mult^n)
	JitterFull                // uniform(0, delay)
	JitterEqual               // delay/2 + uniform(0, delay/2)
)

var jitterNames = [...]string{"none", "full", "equal"}

func (j Jitter) String() string {
	if int(j) < len(jitterNames) {
		return jitterNames[j]
	}
	return "?"
}

// ParseJitter parses a jitter name.
func ParseJitter(s string) (Jitter, error) {
	for i, n := range jitterNames {
		if n == s {
			return Jitter(i), nil
		}
	}
	return 0, fmt.Errorf("unknown jitter %q (want none, full or equal)", s)
}

// Backoff is a camera's reconnect policy.
type Backoff struct {
	Initial    time.Duration
	Multiplier float64
	Cap        time.Duration
	Jitter     Jitter
}

// Delay is the Dur to wait before reconnect attempt n (n ≥ 1).
func (b Backoff) Delay(n int) Dur {
	v := float64(b.Initial)
	for i := 1; i < n && v < float64(b.Cap); i++ {
		v *= b.Multiplier
	}
	if v > float64(b.Cap) {
		v = float64(b.Cap)
	}
	d := time.Duration(v)
	switch b.Jitter {
	case JitterFull:
		return Uniform(0, d)
	case JitterEqual:
		return Uniform(d/2, d)
	}
	return Const(d)
}

// Profile is what a camera's state machine needs of its hardware profile.
// Package hwprofiles loads these from YAML, with a source for every value.
type Profile struct {
	Name string
	// Boot: power-on to first connect attempt.
	Boot Dur
	// Backoff: reconnect policy after a lost or failed connection.
	Backoff Backoff
	// ConnectTimeout: how long a connect attempt waits for the gateway.
	ConnectTimeout time.Duration
	// Keepalive: interval of the keepalive; a lost link is noticed within it.
	Keepalive time.Duration
	// MotionPerHour: mean rate of motion events (a Poisson process).
	MotionPerHour float64
	// ThumbBytes, ClipBytes: sizes of a thumbnail and of a 12 s event clip.
	ThumbBytes, ClipBytes uint32
	// UplinkBytesPerSec bounds the upload of a thumbnail.
	UplinkBytesPerSec float64
	// Buffer: events held locally while disconnected; the oldest is dropped
	// when it is full.
	Buffer uint32
	// UploadTimeout: an unacknowledged upload is sent again after this long
	// (0: never); after MaxUploadRetries the camera reconnects.
	UploadTimeout    time.Duration
	MaxUploadRetries uint8
	// AlwaysOn: mains-powered cameras stay connected. Battery cameras sleep and
	// wake on motion (WakeLatency), upload, and sleep again.
	AlwaysOn    bool
	WakeLatency Dur
}

// CaptureDur is the time to the next motion event.
func (p *Profile) CaptureDur() Dur {
	if p.MotionPerHour <= 0 {
		return Dur{}
	}
	return Exp(time.Duration(float64(time.Hour) / p.MotionPerHour))
}

// UploadDur is the time a thumbnail takes on the camera's uplink.
func (p *Profile) UploadDur() Dur {
	if p.UplinkBytesPerSec <= 0 {
		return Dur{}
	}
	return Const(time.Duration(float64(p.ThumbBytes) / p.UplinkBytesPerSec * float64(time.Second)))
}

// Params are the parameters of the cloud side, shared by every actor and
// never mutated during a run.
type Params struct {
	Design
	// Workers: ingest workers; a device's uploads go to worker device % Workers.
	Workers int
	// PoolSize: cache connections per worker.
	PoolSize int
	// CacheTimeout: the client's per-request deadline.
	CacheTimeout time.Duration
	// ClientWorkers is how many workers (the first ones) run the design's
	// cache client; the others run OldClient, the library the fleet ran
	// before (a rollout in progress). 0: all of them.
	ClientWorkers int
	OldClient     ClientVariant
	// MaxWaiting bounds the requests waiting for a free pooled connection
	// (0: unbounded). A request beyond it fails at once ("pool exhausted")
	// and the lookup falls back to the registry: the load shedding every
	// pool has in some form (go-redis PoolTimeout, a bounded waiter queue).
	MaxWaiting int
	// DialTimeout: a cache dial not answered in this time is retried.
	DialTimeout time.Duration
	// CacheService: the cache server's time per operation (it serves one at a
	// time, in arrival order), so queues and timeouts emerge under load.
	CacheService Dur
	// RegistryLatency, StoreLatency: service time of those stores.
	RegistryLatency, StoreLatency Dur
	// Admission (mitigation gateway-admission): accepted connections per
	// second and bucket size.
	AdmissionRate  float64
	AdmissionBurst int32
	// JitterBackoff replaces each profile's policy when the mitigation
	// jittered-backoff is on.
	JitterBackoff Backoff
	// TapProb: probability that a user taps a pushed thumbnail; VideoProb:
	// probability that a tap on an event with a clip plays the clip (the rest
	// enlarge the thumbnail); TapDelay: push to tap.
	TapProb, VideoProb float64
	TapDelay           Dur
	// MaxEventsPerCamera bounds captures per camera (0: unbounded). The
	// explorer needs it to keep the state space finite.
	MaxEventsPerCamera uint32
	// StartConnected: mains cameras begin the run connected (steady state)
	// instead of booting.
	StartConnected bool
	// MaxConnectAttempt saturates the backoff attempt counter; it only keeps
	// explorer states finite (the delay is capped long before).
	MaxConnectAttempt uint8

	// The parts of the other incidents; their zero values leave them out of
	// the world.
	Web      WebParams
	Notifier bool // uploads' pushes go through a notification service (2020)
	Replica  ReplicaParams
}

// WebParams configure the web live-view portal (2023-09).
type WebParams struct {
	On bool
	// TTL: how long a response stays in the portal's response cache.
	TTL Dur
}

// ReplicaParams configure the analytics replica and its reader (2019-12).
type ReplicaParams struct {
	On bool
	// AlarmAfter: anonymous reads before the exposure alarm closes access
	// (mitigation exposure-alarm).
	AlarmAfter uint32
	// ProbeEvery: the anonymous reader tries the replica this often until it
	// is let in; ReadEvery: then it reads one document after another.
	ProbeEvery, ReadEvery Dur
	// MaxProbes: refused probes after which the reader gives up (0: never).
	MaxProbes uint32
}

// ClientOf is the cache client worker i runs.
func (p *Params) ClientOf(i int) ClientVariant {
	if p.ClientWorkers > 0 && i >= p.ClientWorkers {
		return p.OldClient
	}
	return p.Client
}

// Device is one camera of a fleet as the world is built.
type Device struct {
	Profile uint8 // index into Fleet.Profiles
	Owners  Owners
	Video   bool // records event videos (12 s clips)
}

// Fleet is the fixed population of a run.
type Fleet struct {
	Profiles []Profile
	Devices  []Device
	Accounts int
	// Integrations[a]: account a has an integration token (an Alexa link)
	// the analytics replica copies. Nil when there is no replica.
	Integrations []bool
}

// Validate reports the first inconsistency of p, naming the field.
func (p *Params) Validate() error {
	switch {
	case !p.Client.known():
		return fmt.Errorf("client: unknown variant %d", p.Client)
	case !p.OldClient.known():
		return fmt.Errorf("old client: unknown variant %d", p.OldClient)
	case p.ClientWorkers < 0 || p.ClientWorkers > p.Workers:
		return fmt.Errorf("client_workers: must be in 0..%d, got %d", p.Workers, p.ClientWorkers)
	case p.Workers < 1:
		return fmt.Errorf("workers: must be ≥ 1, got %d", p.Workers)
	case p.PoolSize < 1 || p.PoolSize > 1<<15:
		return fmt.Errorf("pool_size: must be in 1..32768, got %d", p.PoolSize)
	case p.CacheTimeout <= 0:
		return fmt.Errorf("cache_timeout: must be > 0, got %v", p.CacheTimeout)
	case p.TapProb < 0 || p.TapProb > 1:
		return fmt.Errorf("tap_prob: must be in [0,1], got %g", p.TapProb)
	case p.VideoProb < 0 || p.VideoProb > 1:
		return fmt.Errorf("video_prob: must be in [0,1], got %g", p.VideoProb)
	case p.Mitigations.Has(GatewayAdmission) && (p.AdmissionRate <= 0 || p.AdmissionBurst < 1):
		return fmt.Errorf("admission: rate and burst must be > 0 when gateway-admission is on")
	case p.Replica.On && p.Mitigations.Has(ExposureAlarm) && p.Replica.AlarmAfter < 1:
		return fmt.Errorf("replica: alarm_after must be ≥ 1 when exposure-alarm is on")
	}
	return nil
}
