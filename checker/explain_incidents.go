package checker

import (
	"fmt"

	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/traces"
)

// incidentTrail keeps what explains the other incidents' violations: the
// fault lines that open their windows, the web sessions' lines and the
// lookups that filled the shared cache entry, and the notifier's defective
// joins with the lookups they overrode. Like the rest of the explainer its
// memory follows what is recent, not the length of the trace.
type incidentTrail struct {
	faults   map[model.FaultKind]lineRef
	fill     map[model.AccountID]lineRef // per account: its last page put under the shared key
	sess     map[uint32][]lineRef        // per web session: its login and lookups
	notifies map[uint64]lineRef          // per event: the notifier's join that changed its recipients
	lookups  map[uint64]lineRef          // per event: the worker's lookup (only once a notifier is seen)
	fifo     []uint64
	notifier bool
}

func (it *incidentTrail) init() {
	if it.faults == nil {
		it.faults = map[model.FaultKind]lineRef{}
		it.fill = map[model.AccountID]lineRef{}
		it.sess = map[uint32][]lineRef{}
		it.notifies = map[uint64]lineRef{}
		it.lookups = map[uint64]lineRef{}
	}
}

// remember puts ref under event key k in m, forgetting the oldest events
// beyond maxProv.
func (it *incidentTrail) remember(m map[uint64]lineRef, k uint64, ref lineRef) {
	if _, had := it.lookups[k]; !had {
		if _, had := it.notifies[k]; !had {
			it.fifo = append(it.fifo, k)
			if len(it.fifo) > maxProv {
				delete(it.lookups, it.fifo[0])
				delete(it.notifies, it.fifo[0])
				it.fifo = it.fifo[1:]
			}
		}
	}
	m[k] = ref
}

func (it *incidentTrail) observe(ref lineRef) {
	o := &ref.o
	switch o.Kind {
	case model.ObsFault:
		it.init()
		if o.Fault.Kind == model.FaultLogin {
			it.session(o.Slot, ref)
			return
		}
		it.faults[o.Fault.Kind] = ref
		it.notifier = it.notifier || o.Fault.Kind == model.FaultNotifierDefect
	case model.ObsWebLookup:
		it.init()
		it.session(o.Slot, ref)
		if o.Outcome == model.OutRegistry && o.Flag {
			it.fill[o.Account] = ref
		}
	case model.ObsNotify:
		it.init()
		it.notifier = true
		if o.To != o.Owners {
			it.remember(it.notifies, evKey(o.Device, o.Seq), ref)
		}
	case model.ObsLookup:
		if it.notifier {
			it.remember(it.lookups, evKey(o.Device, o.Seq), ref)
		}
	}
}

func (it *incidentTrail) session(s uint32, ref lineRef) {
	if len(it.sess) >= maxProv {
		clear(it.sess)
	}
	if l := it.sess[s]; len(l) < 8 {
		it.sess[s] = append(l, ref)
	}
}

// window is the step of the fault that opened a window, if it came before t.
func (it *incidentTrail) window(k model.FaultKind, t model.Time, because string) (traces.Step, bool) {
	if ref, ok := it.faults[k]; ok && ref.t <= t {
		return describe(ref, because), true
	}
	return traces.Step{}, false
}

// streamChain tells a foreign live stream: the fault, the session that
// filled the shared entry, the session that read it, the stream.
func (it *incidentTrail) streamChain(ref lineRef, v *model.Violation, s *traces.Story) []traces.Step {
	var steps []traces.Step
	if st, ok := it.window(model.FaultWebShared, ref.t,
		"the mapping fault begins (assumed mechanism: the key omits the session's account): a page cached now is served to every session until it expires"); ok {
		steps = append(steps, st)
	}
	var hit *lineRef
	for i := range it.sess[v.Session] {
		l := it.sess[v.Session][i]
		because := ""
		switch {
		case l.o.Kind == model.ObsFault:
			because = fmt.Sprintf("account %d opens the web portal's live view", l.o.Account)
		case l.o.Kind == model.ObsWebLookup && l.o.Outcome == model.OutCache && l.o.Reason == model.ReasonNone && l.o.Owners.N > 0:
			hit = &l
			because = fmt.Sprintf("the key omits the account, so the page cached for account %v is this session's hit", l.o.Owners)
			// The lookup that put that page there comes first.
			if f, ok := it.fill[l.o.Owners.IDs[0]]; ok && f.t <= l.t {
				steps = append(steps, describe(f, fmt.Sprintf("session %d of account %d missed; the portal built account %d's page (camera %d) and stored it under the key that omits the account",
					f.o.Slot, f.o.Account, f.o.Account, f.o.Device)))
			}
		}
		steps = append(steps, describe(l, because))
	}
	st := describe(ref, fmt.Sprintf("the portal streams the page's camera; account %d does not own camera %d (owners %v)", v.Account, v.Device, v.Authorized))
	st.Violation = true
	steps = append(steps, st)
	if hit != nil && hit.o.Owners.N > 0 {
		a := hit.o.Owners.IDs[0]
		s.Headline = fmt.Sprintf("While the web response cache's key omitted the account, a page built for account %d (camera %d) was stored under the shared key; session %d of account %d got that page from the cache and was shown camera %d's live stream.",
			a, hit.o.Device, v.Session, v.Account, v.Device)
	}
	return sortSteps(steps)
}

// readChain tells an anonymous read of the replica.
func (it *incidentTrail) readChain(ref lineRef, v *model.Violation, s *traces.Story) []traces.Step {
	var steps []traces.Step
	if st, ok := it.window(model.FaultReplicaAuthOff, ref.t,
		"one person's configuration change; nothing asks for a second approval"); ok {
		steps = append(steps, st)
		s.Headline = fmt.Sprintf("The analytics replica's access control was switched off (line %d); while it was off, %s read the document of account(s) %v (%s).",
			st.Line, readerName(v.Account), v.Authorized, v.Fields)
	}
	st := describe(ref, fmt.Sprintf("the replica serves whoever asks while access control is off; %s may not see account(s) %v's data", readerName(v.Account), v.Authorized))
	st.Violation = true
	steps = append(steps, st)
	return sortSteps(steps)
}

func readerName(a model.AccountID) string {
	if a == model.NoAccount {
		return "an anonymous reader"
	}
	return fmt.Sprintf("account %d", a)
}

// notifySteps adds the worker's lookup and the notifier's join when the
// notifier changed the recipients of event k; it reports whether it did.
func (it *incidentTrail) notifySteps(k uint64, v *model.Violation, s *traces.Story, add func(traces.Step)) bool {
	n, ok := it.notifies[k]
	if !ok {
		return false
	}
	if st, ok := it.window(model.FaultNotifierDefect, n.t, "a notification-service change is deployed (assumed mechanism: its recipient join is off by one)"); ok {
		add(st)
	}
	if l, ok := it.lookups[k]; ok {
		add(describe(l, "the worker resolves the right owners: the cache is not at fault"))
	}
	add(describe(n, fmt.Sprintf("the defective join hands each notification the recipients of the one before it: %v instead of %v", n.o.To, n.o.Owners)))
	s.Headline = fmt.Sprintf("While the defective notifier deployment was live, its recipient join handed event %d/%d (owners %v) the recipients of the notification before it, %v: account %d got the thumbnail though the worker had resolved the right owners.",
		v.Device, v.Seq, n.o.Owners, n.o.To, v.Account)
	return true
}

func sortSteps(steps []traces.Step) []traces.Step {
	for i := 1; i < len(steps); i++ {
		for j := i; j > 0 && cmpLine(steps[j].Line, steps[j-1].Line) < 0; j-- {
			steps[j], steps[j-1] = steps[j-1], steps[j]
		}
	}
	return steps
}

// describeIncidentFault says what a fault of the other incidents does.
func describeIncidentFault(o *model.Obs) string {
	switch o.Fault.Kind {
	case model.FaultLogin:
		return fmt.Sprintf("web session %d of account %d opens the live view", o.Fault.Session, o.Fault.Account)
	case model.FaultWebShared:
		return "the web response cache's key starts omitting the account"
	case model.FaultWebKeyed:
		return "the web response cache's key includes the account again"
	case model.FaultNotifierDefect:
		return "the notifier deployment with the recipient-join defect goes live"
	case model.FaultNotifierFixed:
		return "the defective notifier deployment is rolled back"
	case model.FaultReplicaAuthOff:
		return "a configuration change switches the analytics replica's access control off"
	case model.FaultReplicaAuthOn:
		return "the analytics replica's access control is back on"
	}
	return ""
}

// describeIncident fills st for the other incidents' event kinds.
func describeIncident(st *traces.Step, o *model.Obs) bool {
	switch o.Kind {
	case model.ObsWebLookup:
		src := "the registry"
		if o.Outcome == model.OutCache {
			src = "the cache"
			if o.Flag {
				src = "the cache, under the key that omits the account"
			}
		}
		st.What = fmt.Sprintf("session %d of account %d gets the live-view page of camera %d, built for account %v, from %s", o.Slot, o.Account, o.Device, o.Owners, src)
		if o.Reason == model.ReasonKeyMismatch {
			st.What = fmt.Sprintf("session %d of account %d rejects the cached page built for account %v (key-in-value)", o.Slot, o.Account, o.Owners)
		}
	case model.ObsStream:
		st.To = fmt.Sprintf("acct%d", o.Account)
		st.What = fmt.Sprintf("streams camera %d live to account %d (session %d)", o.Device, o.Account, o.Slot)
	case model.ObsStreamRefused:
		st.To = fmt.Sprintf("acct%d", o.Account)
		st.What = fmt.Sprintf("refuses camera %d's live stream to account %d (session %d, %s)", o.Device, o.Account, o.Slot, o.Reason)
	case model.ObsNotify:
		st.What = fmt.Sprintf("notifies event %d/%d, resolved for %v, to %v", o.Device, o.Seq, o.Owners, o.To)
	case model.ObsRead:
		st.From, st.To = "replica", "reader"
		st.What = fmt.Sprintf("serves document %d (account(s) %v: %s) to %s", o.Slot, o.Owners, o.Fields, readerName(o.Account))
	case model.ObsReadRefused:
		st.What = fmt.Sprintf("refuses document %d to %s (%s)", o.Slot, readerName(o.Account), o.Reason)
	case model.ObsAlarm:
		st.What = fmt.Sprintf("the exposure alarm closes access after %d anonymous reads", o.Slot)
	case model.ObsConfigRefused:
		st.What = fmt.Sprintf("refuses the change %s (%s)", o.Fault.Kind, o.Reason)
	default:
		return false
	}
	return true
}
