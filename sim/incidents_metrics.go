package sim

import (
	"strconv"
	"time"

	"github.com/stormproof/stormproof/model"
)

// incidentMetrics counts what the other incidents' actors did. Accounts
// are marked in slices (allocated on first use), not maps, so nothing
// depends on iteration order.
type incidentMetrics struct {
	logins, streams, streamsRefused, foreignStreams int64
	sessions                                        []bool // sessions shown another account's camera
	foreignSessions                                 int64
	viewers, exposedWeb                             []bool // accounts shown others' cameras / whose cameras were shown
	sharedPages                                     int64  // pages cached under the shared key (registry lookups asked under it)
	pagesShown                                      []bool // accounts whose cached page was served to another account's session

	notifications, misjoined int64

	reads, readsRefused, anonReads, tokens int64
	docsRead                               []bool
	firstRead, alarmAt                     model.Time
	alarm, configRefused                   bool
}

func markSet(set *[]bool, i int, n int) bool {
	if *set == nil {
		*set = make([]bool, n)
	}
	for i >= len(*set) {
		*set = append(*set, false)
	}
	if (*set)[i] {
		return false
	}
	(*set)[i] = true
	return true
}

func countSet(set []bool) int {
	n := 0
	for _, v := range set {
		if v {
			n++
		}
	}
	return n
}

func (im *incidentMetrics) observe(m *metrics, t model.Time, o *model.Obs, vs []model.Violation) {
	accts := len(m.accounts)
	switch o.Kind {
	case model.ObsFault:
		if o.Fault.Kind == model.FaultLogin {
			im.logins++
		}
	case model.ObsWebLookup:
		if o.Outcome == model.OutRegistry && o.Flag {
			im.sharedPages++
		}
		if o.Outcome == model.OutCache && o.Reason == model.ReasonNone && o.Owners.N > 0 && o.Owners.IDs[0] != o.Account &&
			int(o.Owners.IDs[0]) < accts {
			markSet(&im.pagesShown, int(o.Owners.IDs[0]), accts)
		}
	case model.ObsStream:
		im.streams++
	case model.ObsStreamRefused:
		im.streamsRefused++
	case model.ObsNotify:
		im.notifications++
		if o.Owners != o.To {
			im.misjoined++
		}
	case model.ObsRead:
		im.reads++
	case model.ObsReadRefused:
		im.readsRefused++
	case model.ObsAlarm:
		im.alarm, im.alarmAt = true, t
	case model.ObsConfigRefused:
		im.configRefused = true
	}
	for _, v := range vs {
		switch v.Inv {
		case model.NoForeignStream:
			im.foreignStreams++
			if markSet(&im.sessions, int(v.Session), 1024) {
				im.foreignSessions++
			}
			if int(v.Account) < accts {
				markSet(&im.viewers, int(v.Account), accts)
			}
			for _, a := range v.Authorized.IDs[:v.Authorized.N] {
				markSet(&im.exposedWeb, int(a), accts)
			}
		case model.NoForeignRead:
			if im.anonReads == 0 {
				im.firstRead = t
			}
			im.anonReads++
			if v.Fields&model.FieldToken != 0 {
				im.tokens++
			}
			for _, a := range v.Authorized.IDs[:v.Authorized.N] {
				markSet(&im.docsRead, int(a), accts)
			}
		}
	}
}

// WebSummary is the 2023 web portal's part of a run.
type WebSummary struct {
	Fault          string `json:"fault"`
	Logins         int64  `json:"logins"`
	SharedPages    int64  `json:"pages_cached_under_the_shared_key"`
	Streams        int64  `json:"streams_served"`
	StreamsRefused int64  `json:"streams_refused"`
	ForeignStreams int64  `json:"foreign_streams"`
	// Sessions and Viewers were shown another account's camera; Exposed
	// are the accounts whose cameras were shown to others (2023: "up to
	// 2,300 users … may have seen cameras from one of the 10 affected users").
	Sessions int64 `json:"sessions_shown_others_cameras"`
	Viewers  int   `json:"accounts_shown_others_cameras"`
	Exposed  int   `json:"accounts_whose_cameras_were_shown"`
	// Pages: accounts whose cached page was served to another account.
	Pages int `json:"accounts_whose_page_was_served_to_others"`
}

// NotifierSummary is the 2020 notifier's part of a run.
type NotifierSummary struct {
	Defect        string `json:"defect"`
	Notifications int64  `json:"notifications"`
	Misjoined     int64  `json:"notifications_sent_to_other_recipients"`
}

// ReplicaSummary is the 2019 analytics replica's part of a run.
type ReplicaSummary struct {
	AuthOff       string `json:"auth_off"`
	ConfigRefused bool   `json:"config_change_refused"`
	Documents     int    `json:"documents"`
	Reads         int64  `json:"reads_served"`
	ReadsRefused  int64  `json:"reads_refused"`
	// AnonReads: documents served to the anonymous reader (NoForeignRead);
	// Accounts: whose documents they were; Tokens: how many held a token.
	AnonReads int64  `json:"anonymous_reads"`
	Accounts  int    `json:"accounts_exposed"`
	Tokens    int64  `json:"tokens_read"`
	FirstRead string `json:"first_anonymous_read,omitempty"`
	Alarm     string `json:"exposure_alarm_at,omitempty"`
}

// incidentSummaries fills the parts of sum the scenario configures.
func incidentSummaries(s *Scenario, p *Plan, im *incidentMetrics, sum *Summary) {
	if w := s.Web; w != nil {
		sum.Web = &WebSummary{Fault: w.Fault.String(), Logins: im.logins, SharedPages: im.sharedPages,
			Streams: im.streams, StreamsRefused: im.streamsRefused, ForeignStreams: im.foreignStreams,
			Sessions: im.foreignSessions, Viewers: countSet(im.viewers), Exposed: countSet(im.exposedWeb),
			Pages: countSet(im.pagesShown)}
	}
	if n := s.Notifier; n != nil {
		sum.Notifier = &NotifierSummary{Defect: n.Defect.String(), Notifications: im.notifications, Misjoined: im.misjoined}
	}
	if r := s.Replica; r != nil {
		rs := &ReplicaSummary{AuthOff: r.AuthOff.String(), ConfigRefused: im.configRefused, Documents: p.Fleet.Accounts,
			Reads: im.reads, ReadsRefused: im.readsRefused, AnonReads: im.anonReads, Accounts: countSet(im.docsRead), Tokens: im.tokens}
		if im.anonReads > 0 {
			rs.FirstRead = days(im.firstRead)
		}
		if im.alarm {
			rs.Alarm = days(im.alarmAt)
		}
		sum.Replica = rs
	}
}

// days writes a time of a long run as days and hours ("2d3h4m").
func days(t model.Time) string {
	d := time.Duration(t).Round(time.Second)
	if d < 24*time.Hour {
		return d.String()
	}
	n := d / (24 * time.Hour)
	return strconv.FormatInt(int64(n), 10) + "d" + (d - n*24*time.Hour).String()
}

// printIncidents writes a line for each part of the other incidents.
func (s *Summary) printIncidents(pf func(string, ...any)) {
	if w := s.Web; w != nil {
		pf("web             %d logins; the cache key omitted the account %s: %d pages cached under it; %d streams served, %d refused\n",
			w.Logins, w.Fault, w.SharedPages, w.Streams, w.StreamsRefused)
		pf("                %d sessions (%d accounts) shown another account's camera: the pages of %d accounts, cameras of %d accounts (owners and shares; %d foreign streams)\n",
			w.Sessions, w.Viewers, w.Pages, w.Exposed, w.ForeignStreams)
	}
	if n := s.Notifier; n != nil {
		pf("notifier        %d notifications; %d pushed to other recipients than the worker resolved (defective deployment %s)\n",
			n.Notifications, n.Misjoined, n.Defect)
	}
	if r := s.Replica; r != nil {
		off := "access control off " + r.AuthOff
		if r.ConfigRefused {
			off = "the change switching access control off was refused (no second approval)"
		}
		pf("replica         %d documents; %s; %d reads served, %d refused\n", r.Documents, off, r.Reads, r.ReadsRefused)
		pf("                %d documents read anonymously (%d accounts, %d with an integration token)", r.AnonReads, r.Accounts, r.Tokens)
		if r.FirstRead != "" {
			pf(", the first at %s", r.FirstRead)
		}
		if r.Alarm != "" {
			pf("; exposure alarm at %s", r.Alarm)
		}
		pf("\n")
	}
}
