package model

import (
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
)

// ClientBehaviour is what a cache client does at the two moments the bug
// class turns on: a call's deadline passes while its reply is still coming,
// and a reply arrives on a connection. Every engine runs a client through
// these fields alone, so a behaviour registered from outside the module is
// explored, simulated and checked like a built-in one.
type ClientBehaviour struct {
	// Name is how files, flags and traces write it (lower case, digits and
	// dashes).
	Name string
	// About says what it models and where that is from (or "assumed").
	About string
	// CloseOnTimeout: a timed-out call's connection is closed, and its late
	// reply with it. Otherwise the connection goes back to the pool with the
	// reply still coming.
	CloseOnTimeout bool
	// Mismatch is what the client does with a reply that does not echo its
	// request's token.
	Mismatch MismatchAction
	// OwnReply declares that every caller is handed the reply to its own
	// request. It is a claim, not a rule the model applies: checker/props
	// calls a design safe from it, and its properties fail when the claim
	// is false (a client that can hand one caller another's reply).
	OwnReply bool
}

// MismatchAction is a client's answer to a reply whose token is not its
// request's.
type MismatchAction uint8

const (
	// ReadAnyway: the client carries no token; any reply is the caller's.
	ReadAnyway MismatchAction = iota
	// CloseOnMismatch: the call fails and the connection is closed.
	CloseOnMismatch
	// SkipMismatch: the reply is dropped and the client reads on, waiting
	// for its own until the deadline.
	SkipMismatch
)

var (
	clients   atomic.Pointer[[]ClientBehaviour] // copied on write: read without a lock
	clientsMu sync.Mutex                        // serialises writers
	nameRe    = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
)

func init() {
	builtin := []ClientBehaviour{
		NaivePool: {Name: "naive-pool", About: "redis-py 2023, go-redis #1140, gomemcache PR #5: the late reply is read by the next call",
			Mismatch: ReadAnyway},
		DiscardOnTimeout: {Name: "discard-on-timeout", About: "go-redis v9, gomemcache today: a timed-out connection is closed",
			CloseOnTimeout: true, Mismatch: ReadAnyway, OwnReply: true},
		Tagged: {Name: "tagged", About: "memcached meta protocol opaque token: a mismatch closes the connection",
			Mismatch: CloseOnMismatch, OwnReply: true},
	}
	clients.Store(&builtin)
}

// RegisterClient adds a behaviour and returns its variant. Register before
// any scenario or configuration naming it is read (an init function is the
// place). A name already taken, or not written as names are, is refused.
func RegisterClient(b ClientBehaviour) (ClientVariant, error) {
	clientsMu.Lock()
	defer clientsMu.Unlock()
	old := *clients.Load()
	switch {
	case !nameRe.MatchString(b.Name):
		return 0, fmt.Errorf("client name %q: want lower-case words joined by dashes", b.Name)
	case b.Mismatch > SkipMismatch:
		return 0, fmt.Errorf("client %s: unknown mismatch action %d", b.Name, b.Mismatch)
	case len(old) >= 1<<8:
		return 0, fmt.Errorf("client %s: at most 256 cache clients", b.Name)
	}
	for _, o := range old {
		if o.Name == b.Name {
			return 0, fmt.Errorf("cache client %q is already registered", b.Name)
		}
	}
	next := append(append(make([]ClientBehaviour, 0, len(old)+1), old...), b)
	clients.Store(&next)
	return ClientVariant(len(old)), nil
}

// Behaviour is the variant's behaviour (the zero behaviour, a naive pool,
// for a variant nobody registered: Params.Validate refuses those).
func (c ClientVariant) Behaviour() ClientBehaviour {
	b, _ := c.lookup()
	return b
}

func (c ClientVariant) lookup() (ClientBehaviour, bool) {
	all := *clients.Load()
	if int(c) < len(all) {
		return all[c], true
	}
	return ClientBehaviour{}, false
}

func (c ClientVariant) known() bool { _, ok := c.lookup(); return ok }

// MitigationRule is a mitigation a user adds. It acts where the bug class
// is decided: when a worker is about to use a cached owner set for an
// event. (The built-in mitigations act in their own actors' code.)
type MitigationRule struct {
	// Name is how files, flags and traces write it.
	Name string
	// About says what it models and where that is from (or "assumed").
	About string
	// RejectCached, when it returns true, refuses the owner set v read
	// from the cache for event ev: the lookup is a miss (why: refused) and
	// the registry is asked instead. It must be a function of its
	// arguments alone, as the model is.
	RejectCached func(ev EventRef, v CacheValue) bool
	// GuardsLookup declares that with it on no event is resolved to another
	// device's owners, whatever the client. A claim: checker/props calls
	// such designs safe and its properties fail if the claim is false.
	GuardsLookup bool
}

var (
	mitigations   atomic.Pointer[[]MitigationRule] // copied on write: read without a lock
	mitigationsMu sync.Mutex
)

func init() {
	names := []string{
		"bypass-cache-ownership", "verify-on-view", "key-in-value", "stamped-media",
		"events-tab-off-at", "jittered-backoff", "gateway-admission", "invalidate-on-transfer",
		"config-guard", "exposure-alarm", "data-minimisation",
	}
	builtin := make([]MitigationRule, len(names))
	for i, n := range names {
		builtin[i] = MitigationRule{Name: n}
	}
	builtin[KeyInValue].GuardsLookup = true
	builtin[BypassCacheOwnership].GuardsLookup = true
	mitigations.Store(&builtin)
}

// RegisterMitigation adds a rule and returns its switch. Register before
// any scenario or configuration naming it is read (an init function is the
// place). A set holds 16 switches, so at most 16 − 11 built-in can be
// added.
func RegisterMitigation(r MitigationRule) (Mitigation, error) {
	mitigationsMu.Lock()
	defer mitigationsMu.Unlock()
	old := *mitigations.Load()
	switch {
	case !nameRe.MatchString(r.Name):
		return 0, fmt.Errorf("mitigation name %q: want lower-case words joined by dashes", r.Name)
	case r.RejectCached == nil:
		return 0, fmt.Errorf("mitigation %s: RejectCached is required (it is where the mitigation acts)", r.Name)
	case len(old) >= 16:
		return 0, fmt.Errorf("mitigation %s: a set holds at most 16 mitigations", r.Name)
	}
	for _, o := range old {
		if o.Name == r.Name || r.Name == "events-tab-off" { // the old spelling of events-tab-off-at
			return 0, fmt.Errorf("mitigation %q is already registered", r.Name)
		}
	}
	next := append(append(make([]MitigationRule, 0, len(old)+1), old...), r)
	mitigations.Store(&next)
	return Mitigation(len(old)), nil
}

// Rule is the mitigation's rule (a built-in one has only its name).
func (m Mitigation) Rule() MitigationRule {
	r, _ := m.lookup()
	return r
}

func (m Mitigation) lookup() (MitigationRule, bool) {
	all := *mitigations.Load()
	if int(m) < len(all) {
		return all[m], true
	}
	return MitigationRule{}, false
}

// GuardsLookup says whether a switch of s declares that no event is
// resolved to another device's owners (MitigationRule.GuardsLookup).
func (s Mitigations) GuardsLookup() bool {
	for _, m := range s.List() {
		if m.Rule().GuardsLookup {
			return true
		}
	}
	return false
}

// rejectsCached says whether a user's rule of s refuses owner set v for
// event ev.
func (s Mitigations) rejectsCached(ev EventRef, v CacheValue) bool {
	if s>>numBuiltinMitigations == 0 {
		return false
	}
	for _, m := range s.List() {
		if f := m.Rule().RejectCached; f != nil && f(ev, v) {
			return true
		}
	}
	return false
}
