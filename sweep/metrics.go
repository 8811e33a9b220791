package sweep

import (
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/sim"
)

// Metric is one column of the result tables, taken from a run's summary.
type Metric struct {
	Name string
	// Title is what a person reads (table headings, plot titles).
	Title string
	// Int: the value is a count (written without a fraction).
	Int bool
	Get func(s *sim.Summary) float64
}

func count[T int | int64 | uint64](f func(s *sim.Summary) T) func(s *sim.Summary) float64 {
	return func(s *sim.Summary) float64 { return float64(f(s)) }
}

func violations(inv model.Invariant) func(s *sim.Summary) float64 {
	return func(s *sim.Summary) float64 { return float64(s.Invariants[inv.String()].Violations) }
}

// Metrics are the result columns, in table order. The first is the one a
// heatmap draws: the accounts the incident notice would count as affected.
var Metrics = []Metric{
	{"accounts_affected", "accounts affected", true, count(func(s *sim.Summary) int { return s.Cohorts.Affected })},
	{"accounts_received_others", "accounts that received others' thumbnails", true, count(func(s *sim.Summary) int { return s.Cohorts.ReceivedOthers })},
	{"accounts_exposed_not_tapped", "accounts whose thumbnails were exposed, not tapped", true, count(func(s *sim.Summary) int { return s.Cohorts.ExposedNotTapped })},
	{"accounts_exposed_tapped", "accounts whose thumbnails were exposed and tapped", true, count(func(s *sim.Summary) int { return s.Cohorts.ExposedTapped })},
	{"foreign_thumbnails", "thumbnails pushed to strangers", true, count(func(s *sim.Summary) int64 { return s.ForeignThumbnails })},
	{"foreign_taps", "strangers' taps", true, count(func(s *sim.Summary) int64 { return s.ForeignTaps })},
	{"foreign_enlarged_views", "enlarged thumbnails served to strangers", true, count(func(s *sim.Summary) int64 { return s.ForeignEnlarged })},
	{"foreign_videos", "videos served to strangers", true, count(func(s *sim.Summary) int64 { return s.ForeignVideos })},
	{"cache_calls", "cache calls", true, count(func(s *sim.Summary) int64 { return s.CacheCalls })},
	{"cache_timeouts", "cache timeouts", true, count(func(s *sim.Summary) int64 { return s.CacheTimeouts })},
	{"cache_misreads", "replies read by the wrong request", true, count(func(s *sim.Summary) int64 { return s.CacheMisreads })},
	{"cache_shed", "lookups shed (pool exhausted)", true, count(func(s *sim.Summary) int64 { return s.CacheShed })},
	{"cache_errors", "cache errors", true, count(func(s *sim.Summary) int64 { return s.CacheErrors })},
	{"registry_reads", "registry reads", true, count(func(s *sim.Summary) int64 { return s.RegistryReads })},
	{"reconnect_steady_per_s", "steady reconnect attempts per second", false, func(s *sim.Summary) float64 { return s.ReconnectSteady }},
	{"recovery_attempt_peak_per_s", "peak reconnect attempts per second after the outage", false, func(s *sim.Summary) float64 { return s.RecoveryAttemptPeak }},
	{"recovery_connect_peak_per_s", "peak accepted connections per second after the outage", false, func(s *sim.Summary) float64 { return s.RecoveryConnectPeak }},
	{"events_captured", "events captured", true, count(func(s *sim.Summary) int64 { return s.Captured })},
	{"events_stored", "events stored", true, count(func(s *sim.Summary) int64 { return s.Stored })},
	{"thumbnails_delivered", "thumbnails delivered to owners", true, count(func(s *sim.Summary) int64 { return s.Delivered })},
	{"events_dropped", "events dropped", true, func(s *sim.Summary) float64 {
		var n int64
		for _, v := range s.Dropped {
			n += v
		}
		return float64(n)
	}},
	{"violations_no_foreign_delivery", "NoForeignDelivery violations", true, violations(model.NoForeignDelivery)},
	{"violations_no_foreign_view", "NoForeignView violations", true, violations(model.NoForeignView)},
	{"violations_no_silent_loss", "NoSilentLoss violations", true, violations(model.NoSilentLoss)},
	{"violations_at_most_once", "AtMostOnce violations", true, violations(model.AtMostOnce)},
	// The other incidents (0 when the scenario does not have their part).
	{"violations_no_foreign_stream", "NoForeignStream violations", true, violations(model.NoForeignStream)},
	{"violations_no_foreign_read", "NoForeignRead violations", true, violations(model.NoForeignRead)},
	{"web_sessions_shown_others_cameras", "web sessions shown another account's camera", true, count(func(s *sim.Summary) int64 {
		if s.Web == nil {
			return 0
		}
		return s.Web.Sessions
	})},
	{"web_pages_shown_to_others", "accounts whose web page was served to others", true, count(func(s *sim.Summary) int {
		if s.Web == nil {
			return 0
		}
		return s.Web.Pages
	})},
	{"notifications_misrouted", "notifications pushed to other recipients than resolved", true, count(func(s *sim.Summary) int64 {
		if s.Notifier == nil {
			return 0
		}
		return s.Notifier.Misjoined
	})},
	{"replica_anonymous_reads", "replica documents read anonymously", true, count(func(s *sim.Summary) int64 {
		if s.Replica == nil {
			return 0
		}
		return s.Replica.AnonReads
	})},
	{"replica_tokens_read", "replica documents with a token read anonymously", true, count(func(s *sim.Summary) int64 {
		if s.Replica == nil {
			return 0
		}
		return s.Replica.Tokens
	})},
	{"quiet", "run ended quiet (1) or not (0)", true, func(s *sim.Summary) float64 {
		if s.Quiet {
			return 1
		}
		return 0
	}},
	{"engine_events", "simulator events", true, count(func(s *sim.Summary) uint64 { return s.Events })},
}

// MetricIndex returns the index of the named metric, or -1.
func MetricIndex(name string) int {
	for i, m := range Metrics {
		if m.Name == name {
			return i
		}
	}
	return -1
}
