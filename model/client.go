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
	clients = &registry[ClientBehaviour]{kind: "cache client", max: 1 << 8,
		name: func(b ClientBehaviour) string { return b.Name }}
	nameRe = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
)

// registry is a list of named values that grows by registration and is read
// without a lock: a write copies the list and publishes the copy.
type registry[T any] struct {
	items atomic.Pointer[[]T]
	mu    sync.Mutex // serialises writers
	kind  string
	max   int
	name  func(T) string
	taken func(name string) bool // another spelling a name may not take
}

// all is the list as it is now; callers do not modify it.
func (r *registry[T]) all() []T { return *r.items.Load() }

// get is item i, if there is one.
func (r *registry[T]) get(i int) (T, bool) {
	all := r.all()
	if i < len(all) {
		return all[i], true
	}
	var zero T
	return zero, false
}

// add appends v and returns its index.
func (r *registry[T]) add(v T) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.all()
	n := r.name(v)
	switch {
	case !nameRe.MatchString(n):
		return 0, fmt.Errorf("%s name %q: want lower-case words joined by dashes", r.kind, n)
	case len(old) >= r.max:
		return 0, fmt.Errorf("%s %s: at most %d can be known", r.kind, n, r.max)
	case r.taken != nil && r.taken(n):
		return 0, fmt.Errorf("%s %q is already registered", r.kind, n)
	}
	for _, o := range old {
		if r.name(o) == n {
			return 0, fmt.Errorf("%s %q is already registered", r.kind, n)
		}
	}
	next := append(append(make([]T, 0, len(old)+1), old...), v)
	r.items.Store(&next)
	return len(old), nil
}

func init() {
	builtin := []ClientBehaviour{
		NaivePool: {Name: "naive-pool", About: "redis-py 2023, go-redis #1140, gomemcache PR #5: the late reply is read by the next call",
			Mismatch: ReadAnyway},
		DiscardOnTimeout: {Name: "discard-on-timeout", About: "go-redis v9, gomemcache today: a timed-out connection is closed",
			CloseOnTimeout: true, Mismatch: ReadAnyway, OwnReply: true},
		Tagged: {Name: "tagged", About: "memcached meta protocol opaque token: a mismatch closes the connection",
			Mismatch: CloseOnMismatch, OwnReply: true},
	}
	clients.items.Store(&builtin)
}

// RegisterClient adds a behaviour and returns its variant. Register before
// any scenario or configuration naming it is read (an init function is the
// place). A name already taken, or not written as names are, is refused.
func RegisterClient(b ClientBehaviour) (ClientVariant, error) {
	if b.Mismatch > SkipMismatch {
		return 0, fmt.Errorf("cache client %s: unknown mismatch action %d", b.Name, b.Mismatch)
	}
	i, err := clients.add(b)
	return ClientVariant(i), err
}

// Behaviour is the variant's behaviour (the zero behaviour, a naive pool,
// for a variant nobody registered: Params.Validate refuses those).
func (c ClientVariant) Behaviour() ClientBehaviour {
	b, _ := c.lookup()
	return b
}

// behaviour is the variant's behaviour in place, for the actors' steps: a
// published list is never modified, so a pointer into it stays valid. A
// variant nobody registered reads as the zero behaviour.
func (c ClientVariant) behaviour() *ClientBehaviour {
	if all := clients.all(); int(c) < len(all) {
		return &all[c]
	}
	return &noBehaviour
}

var noBehaviour ClientBehaviour

func (c ClientVariant) lookup() (ClientBehaviour, bool) { return clients.get(int(c)) }

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

// A set holds 16 switches.
var mitigations = &registry[MitigationRule]{kind: "mitigation", max: 16,
	name:  func(r MitigationRule) string { return r.Name },
	taken: func(n string) bool { return n == "events-tab-off" }} // the old spelling of events-tab-off-at

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
	mitigations.items.Store(&builtin)
}

// RegisterMitigation adds a rule and returns its switch. Register before
// any scenario or configuration naming it is read (an init function is the
// place). A set holds 16 switches, so at most 16 − 11 built-in can be
// added.
func RegisterMitigation(r MitigationRule) (Mitigation, error) {
	if r.RejectCached == nil {
		return 0, fmt.Errorf("mitigation %s: RejectCached is required (it is where the mitigation acts)", r.Name)
	}
	i, err := mitigations.add(r)
	return Mitigation(i), err
}

// Rule is the mitigation's rule (a built-in one has only its name).
func (m Mitigation) Rule() MitigationRule {
	r, _ := m.lookup()
	return r
}

func (m Mitigation) lookup() (MitigationRule, bool) { return mitigations.get(int(m)) }

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
