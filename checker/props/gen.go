package props

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"time"

	"pgregory.net/rapid"

	"github.com/stormproof/stormproof/hwprofiles"
	"github.com/stormproof/stormproof/internal/spec"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/sim"
)

// DefaultBase is the embedded scenario drawn scenarios start from.
const DefaultBase = sim.DefaultScenario

// Options say what Scenario draws. The zero value draws any design in any
// world the fault sites allow, within the environment's budget.
type Options struct {
	// Base names the embedded scenario the drawn fields replace
	// (default DefaultBase). Everything not drawn is the base's.
	Base string
	// MaxCameras and MaxCapture bound the fleet and the capture window
	// (0: the budget's, see CurrentBudget).
	MaxCameras int
	MaxCapture time.Duration
	// Clients are the cache-client variants drawn from (nil: all). The
	// first is what shrinking tends to.
	Clients []model.ClientVariant
	// Mitigations may each be drawn on (nil: DefaultMitigations; empty,
	// non-nil: none). Always are on in every draw.
	Mitigations []model.Mitigation
	Always      model.Mitigations
	// Faults are the fault sites (zero value: DefaultFaults).
	Faults *Faults
	// Storm: every run has at least one gateway outage, so every run ends
	// in a reconnect storm.
	Storm bool
	// Safe completes each drawn design to one that Expect says holds every
	// invariant of the model in the drawn world (see Safe and Expect). It
	// implies NoRetransfer.
	Safe bool
	// NoRetransfer draws no world in which a device changes hands twice:
	// there an event in flight across both transfers can reach the owner in
	// between, whatever the cache design (see Expect), so a test of a
	// design leaves such worlds out.
	NoRetransfer bool
	// Rule is the authorization rule every drawn scenario is judged by
	// (the zero value: the owner at capture). Under it an event captured
	// before a sale and pushed to the buyer is foreign, so with Safe no
	// transfer is drawn (no design holds every invariant across one).
	Rule model.AuthRule
}

// DefaultMitigations are the 2024 switches a drawn design may turn on.
func DefaultMitigations() []model.Mitigation {
	return []model.Mitigation{model.BypassCacheOwnership, model.VerifyOnView, model.KeyInValue,
		model.StampedMedia, model.EventsTabOff, model.JitteredBackoff, model.GatewayAdmission,
		model.InvalidateOnTransfer}
}

// Site is a fault site in the two-stage style of FoundationDB's BUGGIFY:
// a run first decides whether the site is active (probability Active), and
// an active site then fires at each of its Slots opportunities with
// probability Fire. Both coins are drawn from rapid, so shrinking turns
// sites off and makes them fire less.
type Site struct {
	Active, Fire float64
	// Slots: opportunities in the capture window (outages and restarts:
	// one window or instant per slot that fires, so they never overlap).
	Slots int
}

// Faults are the fault sites of a drawn scenario.
type Faults struct {
	// GatewayOutage: the cloud outage whose end is a reconnect storm.
	GatewayOutage Site
	// CacheOutage: the cache unreachable for a while; CacheRestart: a
	// cold restart (contents and tombstones gone).
	CacheOutage, CacheRestart Site
	// Transfer: ownership transfers of random devices (one draw: how many).
	Transfer Site
	// WANLoss: camera and app messages lost at a drawn rate.
	WANLoss Site
	// BootStorm: every camera powers on at t=0 instead of starting connected.
	BootStorm Site
}

// DefaultFaults are the sites of Options' zero value: an outage in half the
// runs, each other fault in about a quarter.
func DefaultFaults() Faults {
	return Faults{
		GatewayOutage: Site{Active: 0.5, Fire: 0.5, Slots: 2},
		CacheOutage:   Site{Active: 0.25, Fire: 0.5, Slots: 2},
		CacheRestart:  Site{Active: 0.25, Fire: 0.5, Slots: 3},
		Transfer:      Site{Active: 0.25, Fire: 1, Slots: 1},
		WANLoss:       Site{Active: 0.25, Fire: 1, Slots: 1},
		BootStorm:     Site{Active: 0.25, Fire: 1, Slots: 1},
	}
}

// NoFaults has every site off.
func NoFaults() Faults { return Faults{} }

// drain is the time after the capture window in which the run goes quiet
// (every buffered event uploaded and delivered), so NoSilentLoss is judged.
const drain = 30 * time.Minute

func (o Options) resolve() (Options, *sim.Scenario, error) {
	if o.Base == "" {
		o.Base = DefaultBase
	}
	if o.MaxCameras == 0 || o.MaxCapture == 0 {
		b, err := CurrentBudget()
		if err != nil {
			return o, nil, err
		}
		if o.MaxCameras == 0 {
			o.MaxCameras = b.MaxCameras
		}
		if o.MaxCapture == 0 {
			o.MaxCapture = b.MaxCapture
		}
	}
	if o.MaxCameras < 1 || o.MaxCapture < 5*time.Minute {
		return o, nil, fmt.Errorf("props: need MaxCameras ≥ 1 and MaxCapture ≥ 5m, got %d and %v", o.MaxCameras, o.MaxCapture)
	}
	if o.Clients == nil {
		o.Clients = model.Clients()
	}
	if len(o.Clients) == 0 {
		return o, nil, fmt.Errorf("props: Options.Clients is empty")
	}
	if o.Mitigations == nil {
		o.Mitigations = DefaultMitigations()
	}
	if o.Faults == nil {
		f := DefaultFaults()
		o.Faults = &f
	}
	base, err := sim.Load(o.Base)
	if err != nil {
		return o, nil, fmt.Errorf("props: base: %v", err)
	}
	if base.Web != nil || base.Notifier != nil || base.Replica != nil {
		// Their windows are absolute times of the base's run, which a drawn
		// duration would cut.
		return o, nil, fmt.Errorf("props: base %s has other incidents' sections; draw from a 2024 base", o.Base)
	}
	return o, base, nil
}

// Scenario draws a scenario: o.Base with its fleet (size, profile mix,
// accounts and shares, clips), run length, outages, cache restarts,
// transfers, network loss, design (cache client and mitigations) and cloud
// capacities replaced by drawn values. It panics if o is invalid (a bad
// base or bounds), as that is a mistake in the test, not a finding.
func Scenario(o Options) *rapid.Generator[*sim.Scenario] {
	o, base, err := o.resolve()
	if err != nil {
		panic(err)
	}
	mix := mixOrder(base)
	return rapid.Custom(func(t *rapid.T) *sim.Scenario {
		d := drawWorld(t, &o, base, mix)
		d.Cloud.Client, d.Cloud.OldClient, d.Cloud.Mitigations = drawDesign(t, &o)
		if o.Rule != model.OwnerAtCapture {
			d.Authorized = o.Rule.String()
		}
		if d.Cloud.Mitigations.Has(model.EventsTabOff) {
			d.EventsTabOffAt = spec.Duration(minutes(t, 0, int(d.CaptureUntil.D()/time.Minute), "events_tab_off_at"))
		}
		s, err := build(d, base)
		if err == nil && (o.Safe || o.NoRetransfer) {
			// No design holds every invariant when a device changes hands
			// twice (see Expect): fewer transfers until none does.
			for d.Transfers.Count > 1 && facts(s).twice && err == nil {
				d.Transfers.Count--
				s, err = build(d, base)
			}
		}
		if err == nil && o.Safe {
			for d.Transfers.Count > 0 && facts(s).strict && err == nil {
				d.Transfers.Count--
				s, err = build(d, base)
			}
		}
		if err == nil && o.Safe {
			completeDesign(t, d, facts(s))
			s, err = build(d, base)
		}
		if err != nil {
			t.Fatalf("props: a drawn scenario is invalid (a bug of the generator): %v", err)
		}
		return s
	})
}

// mixOrder lists the base's profiles, the most common first: what a drawn
// mix shrinks to.
func mixOrder(base *sim.Scenario) []string {
	names := slices.Collect(maps.Keys(base.Fleet.Mix))
	sort.Slice(names, func(i, j int) bool {
		a, b := base.Fleet.Mix[names[i]], base.Fleet.Mix[names[j]]
		if a != b {
			return a > b
		}
		return names[i] < names[j]
	})
	return names
}

// Coin is true with probability p (to 1/256): eight fair bits from rapid,
// most significant first, so shrinking (each bit towards 0) turns it false.
func Coin(p float64) *rapid.Generator[bool] {
	if p <= 0 || p >= 1 {
		return rapid.Just(p >= 1)
	}
	return rapid.Custom(func(t *rapid.T) bool { return coin(t, p, "") })
}

func coin(t *rapid.T, p float64, label string) bool {
	if p <= 0 || p >= 1 {
		return p >= 1
	}
	u := 0
	for i := 0; i < 8; i++ {
		u <<= 1
		if rapid.Bool().Draw(t, label) {
			u |= 1
		}
	}
	return float64(u) >= 256*(1-p)
}

// Fires draws one run of the site: for each of its slots, whether it fires.
func (s Site) Fires() *rapid.Generator[[]bool] {
	if s.Active <= 0 || s.Fire <= 0 {
		return rapid.Just(make([]bool, max(1, s.Slots)))
	}
	return rapid.Custom(func(t *rapid.T) []bool { return s.fires(t, "") })
}

func (s Site) fires(t *rapid.T, label string) []bool {
	out := make([]bool, max(1, s.Slots))
	if !coin(t, s.Active, label+".active") {
		return out
	}
	for i := range out {
		out[i] = coin(t, s.Fire, label+".fires")
	}
	return out
}

func minutes(t *rapid.T, lo, hi int, label string) time.Duration {
	return time.Duration(rapid.IntRange(lo, max(lo, hi)).Draw(t, label)) * time.Minute
}

func drawWorld(t *rapid.T, o *Options, base *sim.Scenario, mix []string) *sim.Scenario {
	d := *base
	d.Name = "rapid"
	d.Description = "drawn by stormproof checker/props (pgregory.net/rapid) from " + o.Base
	d.Base = o.Base
	d.File = "checker/props"
	d.Scale = 1
	d.Trace = "full"

	// Cloud capacities: how quickly a storm overloads the cache. They are
	// drawn first and shrink to the most stressed cloud (one worker, one
	// connection, the slowest cache, the shortest deadline, an unbounded
	// wait queue): rapid shrinks earlier draws first, so a failing scenario
	// trades its fleet for stress, and the fleet then shrinks further.
	c := &d.Cloud
	c.ClientShare = 1
	c.Workers = rapid.IntRange(1, 4).Draw(t, "workers")
	c.PoolSize = rapid.IntRange(1, 5).Draw(t, "pool_size")
	c.MaxWaiting = rapid.SampledFrom([]int{0, 50, 5}).Draw(t, "max_waiting")
	c.CacheTimeout = spec.Duration(rapid.SampledFrom([]time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond}).Draw(t, "cache_timeout"))
	svc := rapid.SampledFrom([]time.Duration{300 * time.Millisecond, 100 * time.Millisecond, 30 * time.Millisecond, 10 * time.Millisecond}).Draw(t, "cache_service_mean")
	c.CacheService = spec.Dist{Dist: "exp", Mean: spec.Duration(svc)}

	// Fleet: size, accounts (each account owns at least one camera), shares, clips, profile mix.
	d.Fleet.Cameras = rapid.IntRange(1, o.MaxCameras).Draw(t, "cameras")
	d.Fleet.Accounts = rapid.IntRange(1, d.Fleet.Cameras).Draw(t, "accounts")
	d.Fleet.ShareFraction = rapid.SampledFrom([]float64{0, 0.1, 0.5}).Draw(t, "share_fraction")
	d.Fleet.VideoFraction = rapid.SampledFrom([]float64{0, 0.3, 1}).Draw(t, "video_fraction")
	d.Fleet.Mix = drawMix(t, mix)
	d.Fleet.ProfileFiles = nil

	// Time: a capture window, then a drain in which the run goes quiet. The
	// window shrinks to 30 minutes (or the bound), not to its shortest: a
	// small fleet needs about that long to show a storm's leak, and rapid,
	// which shrinks one draw at a time, would otherwise cut the window
	// first and be left with a large fleet.
	maxMin := int(o.MaxCapture / time.Minute)
	mid := min(30, maxMin)
	capture := time.Duration(mid+rapid.IntRange(5-mid, maxMin-mid).Draw(t, "capture_minutes_from_30")) * time.Minute
	d.CaptureUntil = spec.Duration(capture)
	d.Duration = spec.Duration(capture + drain)

	f := o.Faults
	d.Start = "connected"
	if coin(t, f.BootStorm.Active, "boot_storm") {
		d.Start = "booting"
	}
	d.Outages = nil
	gw := f.GatewayOutage
	if o.Storm {
		gw.Active = 1
	}
	d.Outages = append(d.Outages, windows(t, "gateway", gw, capture, o.Storm, 30*time.Minute)...)
	d.Outages = append(d.Outages, windows(t, "cache", f.CacheOutage, capture, false, 5*time.Minute)...)
	d.CacheRestarts = []spec.Duration{}
	for i, fire := range f.CacheRestart.fires(t, "cache_restart") {
		if fire {
			lo, hi := slot(capture, f.CacheRestart.Slots, i)
			d.CacheRestarts = append(d.CacheRestarts, spec.Duration(lo+minutes(t, 0, int((hi-lo)/time.Minute), "cache_restart_at")))
		}
	}
	d.Transfers = sim.Transfers{}
	if f.Transfer.fires(t, "transfer")[0] {
		d.Transfers = sim.Transfers{Count: rapid.IntRange(1, 4).Draw(t, "transfers"), From: 0, To: spec.Duration(capture)}
	}
	d.Network.WANLoss = 0
	if f.WANLoss.fires(t, "wan_loss")[0] {
		d.Network.WANLoss = rapid.SampledFrom([]float64{0.001, 0.01, 0.05}).Draw(t, "wan_loss_rate")
	}

	d.Users.TapProb = rapid.SampledFrom([]float64{0.1, 1, 0}).Draw(t, "tap_prob")
	d.Users.VideoProb = rapid.SampledFrom([]float64{0.1, 1}).Draw(t, "video_prob")
	// The seed (owners, transfers, every random stream of the run) is drawn
	// last: rapid shrinks earlier draws first, and a smaller fleet matters
	// more to a reader than seed 0.
	d.Seed = rapid.Uint64Range(0, math.MaxUint32).Draw(t, "seed")
	return &d
}

// drawMix draws one to all of the profiles, each with a weight of 1 to 4.
func drawMix(t *rapid.T, names []string) map[string]float64 {
	picked := rapid.SliceOfNDistinct(rapid.SampledFrom(names), 1, len(names), rapid.ID[string]).Draw(t, "profiles")
	w := make([]int, len(picked))
	sum := 0
	for i := range picked {
		w[i] = rapid.IntRange(1, 4).Draw(t, "profile_weight")
		sum += w[i]
	}
	mix := map[string]float64{}
	for i, n := range picked {
		mix[n] = float64(w[i]) / float64(sum)
	}
	return mix
}

// slot is the i-th of n equal parts of the capture window.
func slot(capture time.Duration, n, i int) (time.Duration, time.Duration) {
	n = max(1, n)
	l := (capture / time.Duration(n)).Truncate(time.Minute)
	return time.Duration(i) * l, time.Duration(i+1) * l
}

// windows draws the outages of one site: at most one per slot, inside it,
// of at least a minute and at most longest. A window is drawn as its
// distance from the slot's start and from the slot's end, so it shrinks to
// the whole slot (capped at longest from its start): shrinking keeps a
// storm as long as the slot instead of cutting it to nothing.
// atLeastOne makes the last slot fire when no other did.
func windows(t *rapid.T, component string, s Site, capture time.Duration, atLeastOne bool, longest time.Duration) []sim.Outage {
	var out []sim.Outage
	fires := s.fires(t, component+"_outage")
	for i, fire := range fires {
		if !fire && !(atLeastOne && len(out) == 0 && i == len(fires)-1) {
			continue
		}
		lo, hi := slot(capture, len(fires), i)
		free := int((hi-lo)/time.Minute) - 1 // minutes the window may leave out
		if free < 0 {
			continue
		}
		from := lo + minutes(t, 0, free, component+"_outage_late_start")
		to := hi - minutes(t, 0, int((hi-from)/time.Minute)-1, component+"_outage_early_end")
		to = min(to, from+longest)
		out = append(out, sim.Outage{Component: component, From: spec.Duration(from), To: spec.Duration(to)})
	}
	return out
}

// drawDesign draws the cache client (the fleet runs one client: no
// rollout) and the mitigations.
func drawDesign(t *rapid.T, o *Options) (client, old model.ClientVariant, mits model.Mitigations) {
	c := rapid.SampledFrom(o.Clients).Draw(t, "client")
	m := o.Always
	for _, x := range o.Mitigations {
		if rapid.Bool().Draw(t, x.String()) {
			m = m.With(x)
		}
	}
	return c, c, m
}

// completeDesign adds to a drawn design what Expect needs to call it safe
// in the drawn world: a lookup that cannot take another device's owners,
// and, with transfers, one that cannot take a previous owner.
func completeDesign(t *rapid.T, d *sim.Scenario, f world) {
	m, c := d.Cloud.Mitigations, d.Cloud.Client
	if !f.lookupOK(c, m) {
		m = m.With(rapid.SampledFrom([]model.Mitigation{model.KeyInValue, model.BypassCacheOwnership}).Draw(t, "safe_lookup"))
	}
	if !f.fresh(c, m) {
		if f.restarts || !f.clientSafe(c) {
			// A cold restart forgets invalidations' tombstones; a naive
			// client's late reply is not invalidated.
			m = m.With(model.BypassCacheOwnership)
		} else {
			m = m.With(rapid.SampledFrom([]model.Mitigation{model.InvalidateOnTransfer, model.BypassCacheOwnership}).Draw(t, "safe_owner"))
		}
	}
	d.Cloud.Mitigations = m
}

// build validates a drawn scenario and resolves its profiles (the base's,
// by name, in the order sim.Scenario.Resolve puts them: sorted). It does
// not go through YAML, which would cost more than the run; that the YAML
// ScenarioYAML writes reads back to the same scenario is a test
// (TestSameDrawsSameTrace).
func build(d *sim.Scenario, base *sim.Scenario) (*sim.Scenario, error) {
	byName := map[string]hwprofiles.Profile{}
	for _, p := range base.Profiles {
		byName[p.Name] = p
	}
	names := slices.Sorted(maps.Keys(d.Fleet.Mix))
	d.Profiles = nil
	for _, n := range names {
		p, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("profile %q is not in base %s", n, base.Name)
		}
		d.Profiles = append(d.Profiles, p)
	}
	s, err := d.Apply(sim.Override{})
	if err != nil {
		return nil, err
	}
	// The lists as a scenario file decodes them (an empty list, not none),
	// so the trace header is the same as that of the written file's run.
	if s.Outages == nil {
		s.Outages = []sim.Outage{}
	}
	if s.CacheRestarts == nil {
		s.CacheRestarts = []spec.Duration{}
	}
	return s, nil
}
