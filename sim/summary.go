package sim

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/stormproof/stormproof/model"
)

// Summary is what `stormproof run` prints and writes to summary.json.
type Summary struct {
	Scenario string `json:"scenario"`
	Seed     uint64 `json:"seed"`
	Design   string `json:"design"`
	// ClientWorkers of Workers run the design's client (the rest OldClient).
	Workers       int     `json:"workers"`
	ClientWorkers int     `json:"client_workers"`
	OldClient     string  `json:"old_client,omitempty"`
	Scale         float64 `json:"scale"`
	Cameras       int     `json:"cameras"`
	Accounts      int     `json:"accounts"`
	Simulated     string  `json:"simulated"`
	OutageFrom    string  `json:"outage_from,omitempty"`
	OutageTo      string  `json:"outage_to,omitempty"`
	Events        uint64  `json:"engine_events"`
	NetworkLost   uint64  `json:"network_lost"`

	ReconnectPeak   float64 `json:"reconnect_peak_per_s"`
	ReconnectPeakAt string  `json:"reconnect_peak_at"`
	ReconnectSteady float64 `json:"reconnect_steady_per_s"`
	// After the outage ends: the storm of attempts and of accepted connections.
	RecoveryAttemptPeak float64 `json:"recovery_attempt_peak_per_s"`
	RecoveryConnectPeak float64 `json:"recovery_connect_peak_per_s"`
	RecoveryConnectAt   string  `json:"recovery_connect_peak_at"`

	CacheCalls    int64 `json:"cache_calls"`
	CacheTimeouts int64 `json:"cache_timeouts"`
	CacheErrors   int64 `json:"cache_errors"`
	CacheShed     int64 `json:"cache_shed"`
	CacheMisreads int64 `json:"cache_misreads"`
	RegistryReads int64 `json:"registry_reads"`

	Captured   int64            `json:"events_captured"`
	Uploads    int64            `json:"uploads"`
	Stored     int64            `json:"events_stored"`
	Duplicates int64            `json:"duplicate_uploads"`
	Delivered  int64            `json:"thumbnails_delivered"`
	Dropped    map[string]int64 `json:"events_dropped"`
	Refused    map[string]int64 `json:"pushes_refused"`

	ForeignThumbnails int64 `json:"foreign_thumbnails"`
	ForeignTaps       int64 `json:"foreign_taps"`
	ForeignEnlarged   int64 `json:"foreign_enlarged_views"`
	ForeignVideos     int64 `json:"foreign_videos"`
	Taps              int64 `json:"taps"`
	ViewsServed       int64 `json:"views_served"`
	ViewsRefused      int64 `json:"views_refused"`

	Cohorts Cohorts `json:"cohorts"`

	// The other incidents' parts, when the scenario has them.
	Web      *WebSummary      `json:"web,omitempty"`
	Notifier *NotifierSummary `json:"notifier,omitempty"`
	Replica  *ReplicaSummary  `json:"replica,omitempty"`

	Quiet      bool                  `json:"quiet"`
	Invariants map[string]InvVerdict `json:"invariants"`
	// FirstViolation describes the first violation, if any.
	FirstViolation string `json:"first_violation,omitempty"`
	// Notes are caveats about the run (e.g. a scale too small for the
	// cache's queueing to be that of the full fleet).
	Notes     []string `json:"notes,omitempty"`
	Reproduce string   `json:"reproduce,omitempty"`
}

// InvVerdict is one invariant's outcome.
type InvVerdict struct {
	Judged     bool   `json:"judged"`
	Held       bool   `json:"held"`
	Violations uint64 `json:"violations"`
}

// Held reports whether every judged invariant held.
func (s *Summary) Held() bool {
	for _, v := range s.Invariants {
		if v.Judged && !v.Held {
			return false
		}
	}
	return true
}

func summarize(s *Scenario, p *Plan, eng *Engine, m *metrics, mon *model.Monitor, quiet bool, losses int, res *Result, opt RunOptions) Summary {
	peak, at, steady := m.reconnect(p.OutageFrom)
	sum := Summary{
		Scenario: s.Name, Seed: s.Seed, Design: s.Design().String(), Scale: s.Scale,
		Workers: p.Params.Workers, ClientWorkers: p.Params.Workers,
		Cameras: len(p.Fleet.Devices), Accounts: p.Fleet.Accounts,
		Simulated: time.Duration(eng.Now()).Round(time.Second).String(), Events: eng.Processed, NetworkLost: eng.Lost,
		ReconnectPeak: peak, ReconnectPeakAt: at.String(), ReconnectSteady: steady,
		CacheCalls: m.cacheCalls, CacheTimeouts: m.cacheTimeouts, CacheErrors: m.cacheErrors, CacheShed: m.cacheShed,
		CacheMisreads: m.misread, RegistryReads: m.regReads,
		Captured: m.captured, Uploads: m.uploads, Stored: m.stored, Duplicates: m.dups, Delivered: m.delivered,
		Dropped: m.drops, Refused: m.refused,
		ForeignThumbnails: m.foreignPush, ForeignTaps: m.foreignTaps, ForeignEnlarged: m.foreignEnlarged,
		ForeignVideos: m.foreignVideos, Taps: m.taps, ViewsServed: m.views, ViewsRefused: m.viewRefused,
		Cohorts: m.cohorts(), Quiet: quiet, Notes: p.Notes, Invariants: map[string]InvVerdict{}, Reproduce: opt.Reproduce,
	}
	if sum.CacheCalls > 0 && sum.CacheTimeouts == 0 {
		// A design that held here never met a late reply: its verdict says
		// nothing about the fault the cache clients differ in.
		sum.Notes = append(slices.Clip(sum.Notes), "no cache call timed out: the storm left no reply late, so this run does not exercise the late-reply fault")
	}
	if p.Params.ClientWorkers > 0 {
		sum.ClientWorkers, sum.OldClient = p.Params.ClientWorkers, p.Params.OldClient.String()
	}
	if p.OutageTo > 0 {
		sum.OutageFrom, sum.OutageTo = p.OutageFrom.String(), p.OutageTo.String()
		sum.RecoveryAttemptPeak, _ = peakAfter(m.attemptsBySec, p.OutageTo)
		var at time.Duration
		sum.RecoveryConnectPeak, at = peakAfter(m.connectsBySec, p.OutageTo)
		sum.RecoveryConnectAt = at.String()
	}
	incidentSummaries(s, p, &m.inc, &sum)
	counts := mon.Counts()
	for _, inv := range model.Invariants() {
		v := InvVerdict{Judged: true, Violations: counts[inv]}
		if inv == model.NoSilentLoss {
			v.Judged = quiet
			v.Violations = uint64(losses)
		}
		v.Held = v.Violations == 0
		sum.Invariants[inv.String()] = v
	}
	var first *model.Violation
	for i := range res.First {
		for j := range res.First[i] {
			if v := &res.First[i][j]; first == nil || v.T < first.T {
				first = v
			}
		}
	}
	if first != nil {
		sum.FirstViolation = fmt.Sprintf("t=%v %s", time.Duration(first.T), first)
	}
	return sum
}

// Print writes the summary for a person.
func (s *Summary) Print(w io.Writer) {
	pf := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	pf("scenario        %s (seed %d, scale %g), design %s\n", s.Scenario, s.Seed, s.Scale, s.Design)
	if s.ClientWorkers < s.Workers {
		pf("rollout         %d of %d ingest workers run %s; the others still run %s\n",
			s.ClientWorkers, s.Workers, strings.SplitN(s.Design, "+", 2)[0], s.OldClient)
	}
	pf("fleet           %d cameras, %d accounts\n", s.Cameras, s.Accounts)
	if s.OutageFrom != "" {
		pf("outage          gateway down %s → %s (simulated %s, %d engine events)\n", s.OutageFrom, s.OutageTo, s.Simulated, s.Events)
	} else {
		pf("simulated       %s (%d engine events)\n", s.Simulated, s.Events)
	}
	ratio := ""
	if s.ReconnectSteady > 0 {
		ratio = fmt.Sprintf(", %.0f× the steady %.2f/s", s.ReconnectPeak/s.ReconnectSteady, s.ReconnectSteady)
	} else {
		ratio = ", steady rate 0/s"
	}
	pf("reconnects      peak %.0f attempts/s at %s%s\n", s.ReconnectPeak, s.ReconnectPeakAt, ratio)
	if s.OutageTo != "" {
		pf("storm           after the outage: up to %.0f attempts/s and %.0f accepted connections/s (peak at %s)\n",
			s.RecoveryAttemptPeak, s.RecoveryConnectPeak, s.RecoveryConnectAt)
	}
	pf("cache           %d calls: %d timed out, %d errors, %d replies read by the wrong request; %d lookups shed (pool exhausted); %d registry reads\n",
		s.CacheCalls, s.CacheTimeouts, s.CacheErrors, s.CacheMisreads, s.CacheShed, s.RegistryReads)
	pf("events          %d captured, %d stored (%d duplicate uploads), %d thumbnails delivered to owners (one per owner: a shared camera's event goes to each)\n",
		s.Captured, s.Stored, s.Duplicates, s.Delivered)
	pf("                dropped: %s; pushes refused: %s\n", kv(s.Dropped), kv(s.Refused))
	pf("foreign         %d thumbnails pushed to strangers, %d tapped: %d enlarged thumbnails and %d videos served\n",
		s.ForeignThumbnails, s.ForeignTaps, s.ForeignEnlarged, s.ForeignVideos)
	s.printIncidents(pf)
	c := s.Cohorts
	pf("accounts        %d unaffected; %d own thumbnails exposed, not tapped; %d exposed and tapped; %d received others' thumbnails (%d affected in all)\n",
		c.Unaffected, c.ExposedNotTapped, c.ExposedTapped, c.ReceivedOthers, c.Affected)
	var parts []string
	for _, inv := range model.Invariants() {
		v := s.Invariants[inv.String()]
		switch {
		case !v.Judged:
			parts = append(parts, inv.String()+" not judged (run not quiet)")
		case v.Held:
			parts = append(parts, inv.String()+" held")
		default:
			parts = append(parts, fmt.Sprintf("%s VIOLATED (%d)", inv, v.Violations))
		}
	}
	pf("invariants      %s\n", strings.Join(parts, ", "))
	if s.FirstViolation != "" {
		pf("first violation %s\n", s.FirstViolation)
	}
	for _, n := range s.Notes {
		pf("note            %s\n", n)
	}
}

func kv(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
