package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/stormproof/stormproof/internal/spec"
	"github.com/stormproof/stormproof/model"
)

// The optional scenario sections of the other incidents. A scenario without
// them builds exactly the 2024 world alone.

// Window is a span of the run in which something is on.
type Window struct {
	From spec.Duration `yaml:"from" json:"from"`
	To   spec.Duration `yaml:"to" json:"to"`
}

// WebSpec is the 2023-09 web live-view portal.
type WebSpec struct {
	// LoginsPerHour: live-view page requests (web sessions) per hour, at
	// scale 1; they scale with the accounts.
	LoginsPerHour float64 `yaml:"logins_per_hour" json:"logins_per_hour"`
	// CacheTTL: how long the portal keeps a cached response.
	CacheTTL spec.Duration `yaml:"cache_ttl" json:"cache_ttl"`
	// Fault: while it is on, the response cache's key omits the account.
	Fault Window `yaml:"fault" json:"fault"`
}

// NotifierSpec is the 2020-06 notification service.
type NotifierSpec struct {
	// Defect: the deployment with the recipient-join defect is live.
	Defect Window `yaml:"defect" json:"defect"`
}

// ReplicaSpec is the 2019-12 analytics copy and its anonymous reader.
type ReplicaSpec struct {
	// IntegrationFraction: share of accounts with an integration token.
	IntegrationFraction float64 `yaml:"integration_fraction" json:"integration_fraction"`
	// AuthOff: access control is off (a configuration change at From,
	// found and closed at To).
	AuthOff Window `yaml:"auth_off" json:"auth_off"`
	// ProbeEvery and ReadEvery: the reader's probes, and its reads once in.
	ProbeEvery spec.Dist `yaml:"probe_every" json:"probe_every"`
	ReadEvery  spec.Dist `yaml:"read_every" json:"read_every"`
	// MaxProbes: refused probes before the reader gives up (0: never).
	MaxProbes int `yaml:"max_probes" json:"max_probes"`
	// AlarmAfter: anonymous reads before the exposure alarm (mitigation
	// exposure-alarm) closes access.
	AlarmAfter int `yaml:"alarm_after" json:"alarm_after"`
}

func (s *Scenario) window(field string, w Window) error {
	if w.From < 0 || w.To <= w.From || w.To > s.Duration {
		return bad(field, "need 0 ≤ from < to ≤ duration, got %v..%v", w.From, w.To)
	}
	return nil
}

func (s *Scenario) validateIncidents() error {
	if w := s.Web; w != nil {
		if err := spec.OpenClosed(0, 1e7).Check(w.LoginsPerHour); err != nil {
			return bad("web.logins_per_hour", "%v", err)
		}
		if w.CacheTTL <= 0 {
			return bad("web.cache_ttl", "must be > 0")
		}
		if err := s.window("web.fault", w.Fault); err != nil {
			return err
		}
		if n := w.LoginsPerHour * s.Scale * s.Duration.D().Hours(); n > 5e6 {
			return bad("web.logins_per_hour", "%.0f logins in the run: at most 5,000,000", n)
		}
	}
	if n := s.Notifier; n != nil {
		if err := s.window("notifier.defect", n.Defect); err != nil {
			return err
		}
	}
	if r := s.Replica; r != nil {
		switch {
		case !spec.Closed(0, 1).Contains(r.IntegrationFraction):
			return bad("replica.integration_fraction", "%v", spec.Closed(0, 1).Check(r.IntegrationFraction))
		case r.MaxProbes < 0:
			return bad("replica.max_probes", "must be ≥ 0 (0: never gives up)")
		case r.AlarmAfter < 1:
			return bad("replica.alarm_after", "must be ≥ 1, got %d", r.AlarmAfter)
		}
		if err := s.window("replica.auth_off", r.AuthOff); err != nil {
			return err
		}
		for _, d := range []struct {
			f string
			d spec.Dist
		}{{"replica.probe_every", r.ProbeEvery}, {"replica.read_every", r.ReadEvery}} {
			if err := d.d.Check(); err != nil {
				return bad(d.f, "%v", err)
			}
		}
	}
	return nil
}

// buildIncidents adds the configured parts to the plan: parameters, the
// fault windows and, for the web portal, the logins. Their random draws
// come from streams of their own, so the fleet and transfers do not depend
// on them.
func (s *Scenario) buildIncidents(p *Plan) {
	if w := s.Web; w != nil {
		p.Params.Web = model.WebParams{On: true, TTL: model.Const(w.CacheTTL.D())}
		p.Faults = append(p.Faults,
			TimedFault{At: w.Fault.From.D(), Fault: model.Fault{Kind: model.FaultWebShared}},
			TimedFault{At: w.Fault.To.D(), Fault: model.Fault{Kind: model.FaultWebKeyed}})
		// Logins are a Poisson process; each is a session of an account
		// drawn uniformly.
		rng := rand.New(rand.NewPCG(s.Seed, 0x6c6f67696e)) // "login"
		rate := w.LoginsPerHour * s.Scale / 3600           // per second
		var sess uint32
		for t := rng.ExpFloat64() / rate; t < p.Duration.Seconds(); t += rng.ExpFloat64() / rate {
			a := model.AccountID(rng.IntN(p.Fleet.Accounts))
			p.Faults = append(p.Faults, TimedFault{At: secs(t), Fault: model.Fault{Kind: model.FaultLogin, Account: a, Session: sess}})
			sess++
		}
	}
	if n := s.Notifier; n != nil {
		p.Params.Notifier = true
		p.Faults = append(p.Faults,
			TimedFault{At: n.Defect.From.D(), Fault: model.Fault{Kind: model.FaultNotifierDefect}},
			TimedFault{At: n.Defect.To.D(), Fault: model.Fault{Kind: model.FaultNotifierFixed}})
	}
	if r := s.Replica; r != nil {
		p.Params.Replica = model.ReplicaParams{On: true, AlarmAfter: uint32(r.AlarmAfter),
			ProbeEvery: r.ProbeEvery.Model(), ReadEvery: r.ReadEvery.Model(), MaxProbes: uint32(r.MaxProbes)}
		rng := rand.New(rand.NewPCG(s.Seed, 0x7265706c696361)) // "replica"
		p.Fleet.Integrations = make([]bool, p.Fleet.Accounts)
		for a := range p.Fleet.Integrations {
			p.Fleet.Integrations[a] = rng.Float64() < r.IntegrationFraction
		}
		p.Faults = append(p.Faults,
			TimedFault{At: r.AuthOff.From.D(), Fault: model.Fault{Kind: model.FaultReplicaAuthOff}},
			TimedFault{At: r.AuthOff.To.D(), Fault: model.Fault{Kind: model.FaultReplicaAuthOn}})
	}
}

func secs(t float64) time.Duration { return time.Duration(t * float64(time.Second)) }

// WindowString is a window for a person ("20m0s → 1h0m0s").
func (w Window) String() string {
	return fmt.Sprintf("%s → %s", days(model.Time(w.From)), days(model.Time(w.To)))
}
