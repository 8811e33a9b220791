package props

import (
	"strings"

	"github.com/stormproof/stormproof/checker"
	"github.com/stormproof/stormproof/model"
	"github.com/stormproof/stormproof/sim"
)

// Expectation says whether a design is expected to hold one check in a
// scenario's world, and why. Check is a model invariant's name or
// checker.CacheLinearizable / checker.RegistryLinearizable.
type Expectation struct {
	Check string
	Holds bool
	Why   string
}

// world is what of a scenario decides the expectations.
type world struct {
	transfers, restarts bool
	// twice: some device changes hands more than once in the run.
	twice bool
	// strict: devices change hands and the footage belongs to the owner at
	// capture (model.OwnerAtCapture).
	strict              bool
	clients             []model.ClientVariant // every client some worker runs
	web, notifier, repl bool
}

func facts(s *sim.Scenario) world {
	w := world{
		restarts: len(s.CacheRestarts) > 0,
		web:      s.Web != nil,
		notifier: s.Notifier != nil,
		repl:     s.Replica != nil,
	}
	// Which devices change hands is drawn from the seed when the scenario is
	// built: build it to see.
	if s.Transfers.Count > 0 {
		if p, err := s.Build(); err == nil {
			n := map[model.DeviceID]int{}
			for _, f := range p.Faults {
				if f.Fault.Kind == model.FaultTransfer {
					w.transfers = true
					n[f.Fault.Device]++
					w.twice = w.twice || n[f.Fault.Device] > 1
				}
			}
		}
	}
	w.strict = w.transfers && s.Rule() == model.OwnerAtCapture
	w.clients = append(w.clients, s.Cloud.Client)
	if s.Cloud.ClientShare < 1 {
		w.clients = append(w.clients, s.Cloud.OldClient)
	}
	return w
}

// ownReply says whether a client variant hands each caller its own reply.
// It is a variable so a test can relabel the naive client as safe and show
// that the properties catch the mistake.
var ownReply = func(c model.ClientVariant) bool { return c.Behaviour().OwnReply }

// clientSafe: every worker's client hands each caller its own reply.
func (w world) clientSafe(c model.ClientVariant) bool {
	for _, x := range w.clients {
		if !ownReply(x) {
			return false
		}
	}
	return ownReply(c)
}

// lookupOK: a lookup never resolves a device to another device's owners.
func (w world) lookupOK(c model.ClientVariant, m model.Mitigations) bool {
	return w.clientSafe(c) || m.GuardsLookup() // key-in-value, bypass-cache-ownership or a rule that claims it
}

// fresh: a lookup never resolves a device to a previous owner after a
// transfer. invalidate-on-transfer is not enough when the cache can restart
// cold (the restart forgets the tombstone and a SET of the old owner read
// before the transfer lands: found by the explorer, docs/explore.md), nor
// with a naive client (a late reply of the same device, already on its way
// when the entry was invalidated, is read by the next lookup: found by the
// state-machine test, TestNaiveKeyInValueStaleOwnerAfterTransfer).
func (w world) fresh(c model.ClientVariant, m model.Mitigations) bool {
	return !w.transfers || m.Has(model.BypassCacheOwnership) ||
		(m.Has(model.InvalidateOnTransfer) && !w.restarts && w.clientSafe(c))
}

// Expect is the documented table of what s's design holds in s's world
// (docs/rapid.md explains each row). A check listed as not holding is not
// claimed to fail in every run: only that the design does not rule it out.
func Expect(s *sim.Scenario) []Expectation {
	w := facts(s)
	d := s.Design()
	m := d.Mitigations
	lookup, fresh := w.lookupOK(d.Client, m), w.fresh(d.Client, m)
	correct := lookup && fresh && !w.notifier && !w.twice && !w.strict
	why := func(ok bool, yes, no string) string {
		if ok {
			return yes
		}
		return no
	}
	lookupWhy := func() string {
		switch {
		case !lookup:
			return "a naive-pool client hands a caller another request's late reply and nothing above it checks the device"
		case !fresh && w.restarts && m.Has(model.InvalidateOnTransfer):
			return "a cold cache restart forgets invalidate-on-transfer's tombstone, so a SET of the previous owner can land after the transfer"
		case !fresh && m.Has(model.InvalidateOnTransfer):
			return "a naive-pool client's late reply of the device, on its way when the transfer invalidated the entry, names the previous owner"
		case !fresh:
			return "after an ownership transfer the cache still names the previous owner (no bypass-cache-ownership or invalidate-on-transfer)"
		case w.notifier:
			return "the notifier's defective join can change the recipients after the lookup"
		case w.strict:
			return "the footage belongs to the owner at capture: an event captured before a sale and resolved after it goes to the buyer, whatever the cache design"
		case w.twice:
			return "a device changes hands twice: an event in flight across both transfers can reach the owner in between, who owned it neither at capture nor at delivery (no cache design prevents that)"
		}
		return ""
	}()
	var out []Expectation
	add := func(c string, ok bool, why string) { out = append(out, Expectation{Check: c, Holds: ok, Why: why}) }

	fd := correct || m.Has(model.StampedMedia)
	add(model.NoForeignDelivery.String(), fd, func() string {
		switch {
		case correct:
			return "every lookup resolves the device to its own current owners"
		case m.Has(model.StampedMedia):
			return "stamped-media refuses a push to anyone not stamped into the media at capture"
		}
		return lookupWhy
	}())
	fv := fd || (m.Has(model.VerifyOnView) && !w.strict)
	add(model.NoForeignView.String(), fv, func() string {
		switch {
		case correct:
			return "only authorized accounts receive thumbnails, so only they tap"
		case m.Has(model.StampedMedia):
			return "stamped-media refuses media to anyone not stamped into it"
		case m.Has(model.VerifyOnView):
			return "verify-on-view asks the registry before serving (it does not stop the push)"
		}
		return lookupWhy
	}())
	add(model.NoSilentLoss.String(), correct, why(correct,
		"every event reaches its owners or its loss is recorded (buffer full, refusal, rebind)",
		lookupWhy+"; the owners never get that event and no loss is recorded"+
			why(m.Has(model.StampedMedia), " (stamped-media refuses the stranger's push, which is recorded, but not the owner's loss)", "")))
	add(model.AtMostOnce.String(), true, "the store deduplicates re-sent uploads, so an event is pushed once")
	add(model.NoForeignStream.String(), !w.web, why(!w.web, "no web portal in this world", "the web portal's behaviour is not tabled here"))
	add(model.NoForeignRead.String(), !w.repl, why(!w.repl, "no analytics replica in this world", "the replica's behaviour is not tabled here"))
	cl := w.clientSafe(d.Client) || m.Has(model.BypassCacheOwnership)
	add(checker.CacheLinearizable, cl, func() string {
		switch {
		case m.Has(model.BypassCacheOwnership) && !w.clientSafe(d.Client):
			return "bypass-cache-ownership: the cache is never called"
		case cl:
			return "the client returns each caller its own reply"
		case m.Has(model.KeyInValue):
			return "key-in-value catches the wrong value above the client, but the client did return it: the cache history seen by callers is not linearizable"
		}
		return "the naive-pool client returns another request's reply"
	}())
	add(checker.RegistryLinearizable, true, "the registry is a single copy read and written in order")
	return out
}

// Claimed lists the checks Expect says s's design holds.
func Claimed(s *sim.Scenario) []string {
	var out []string
	for _, e := range Expect(s) {
		if e.Holds {
			out = append(out, e.Check)
		}
	}
	return out
}

// Safe reports whether Expect says s's design holds every invariant of
// the model in s's world (what AssertSafe asserts).
func Safe(s *sim.Scenario) bool {
	for _, e := range Expect(s) {
		if !e.Holds && isInvariant(e.Check) {
			return false
		}
	}
	return true
}

func isInvariant(name string) bool {
	for _, inv := range model.Invariants() {
		if inv.String() == name {
			return true
		}
	}
	return false
}

// ExpectText is the table for a person, one line per check.
func ExpectText(s *sim.Scenario) string {
	var b strings.Builder
	for _, e := range Expect(s) {
		v := "not claimed"
		if e.Holds {
			v = "holds"
		}
		b.WriteString(e.Check + ": " + v + ": " + e.Why + "\n")
	}
	return b.String()
}
