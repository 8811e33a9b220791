package model

import (
	"fmt"
	"time"
)

// Time is virtual time in nanoseconds since the start of a run. The
// explorer, which is untimed, always reports 0.
type Time int64

// Kind names an actor kind.
type Kind uint8

const (
	KindNone Kind = iota
	KindCamera
	KindGateway
	KindWorker
	KindCache
	KindRegistry
	KindStore
	KindApp
	// The actors of the other incidents. A world has them only when its
	// parameters configure them (Params.Web, Params.Notifier,
	// Params.Replica), so the 2024 world is unchanged.
	KindWeb      // the web live-view portal and its response cache (2023-09)
	KindNotifier // the notification service between ingest and apps (2020-06)
	KindReplica  // the analytics copy of account data (2019-12)
	KindReader   // the anonymous reader who finds the replica
	// KindEngine marks observations made by an engine rather than an actor
	// (faults it injected, the end of a run).
	KindEngine
	numKinds
)

var kindNames = [...]string{"none", "camera", "gateway", "worker", "cache", "registry", "store", "app",
	"web", "notifier", "replica", "reader", "engine"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, bool) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), true
		}
	}
	return KindNone, false
}

// Addr names one actor. Cameras are indexed by their DeviceID and apps by
// their AccountID, so an address needs no lookup table.
type Addr struct {
	Kind  Kind
	Index uint32
}

func (a Addr) String() string {
	switch a.Kind {
	case KindCamera:
		return fmt.Sprintf("cam%d", a.Index)
	case KindApp:
		return fmt.Sprintf("acct%d", a.Index)
	case KindWorker:
		return fmt.Sprintf("worker%d", a.Index)
	default:
		return a.Kind.String()
	}
}

// Well-known singleton addresses.
var (
	GatewayAddr  = Addr{Kind: KindGateway}
	CacheAddr    = Addr{Kind: KindCache}
	RegistryAddr = Addr{Kind: KindRegistry}
	StoreAddr    = Addr{Kind: KindStore}
	WebAddr      = Addr{Kind: KindWeb}
	NotifierAddr = Addr{Kind: KindNotifier}
	ReplicaAddr  = Addr{Kind: KindReplica}
	ReaderAddr   = Addr{Kind: KindReader}
	EngineAddr   = Addr{Kind: KindEngine}
)

// CameraAddr, WorkerAddr and AppAddr build addresses of the indexed kinds.
func CameraAddr(d DeviceID) Addr  { return Addr{Kind: KindCamera, Index: uint32(d)} }
func WorkerAddr(i int) Addr       { return Addr{Kind: KindWorker, Index: uint32(i)} }
func AppAddr(a AccountID) Addr    { return Addr{Kind: KindApp, Index: uint32(a)} }
func (a Addr) Device() DeviceID   { return DeviceID(a.Index) }
func (a Addr) Account() AccountID { return AccountID(a.Index) }

// DeviceID identifies a camera; AccountID a customer account (and its app).
type (
	DeviceID  uint32
	AccountID uint32
)

// NoAccount is the anonymous reader: never authorized for anything.
const NoAccount = AccountID(^uint32(0))

// MaxOwners bounds the accounts that may see one device (owner plus shares).
// A fixed bound keeps every state a plain value.
const MaxOwners = 4

// Owners is a small set of accounts: the owner of a device and the accounts
// it is shared with. IDs[:N] are the members, in the order they were granted.
type Owners struct {
	N   uint8
	IDs [MaxOwners]AccountID
}

// MakeOwners builds an Owners from a list; extra members beyond MaxOwners are
// an error of the caller and are dropped.
func MakeOwners(ids ...AccountID) Owners {
	var o Owners
	for _, id := range ids {
		o.Add(id)
	}
	return o
}

// Has reports whether a is a member.
func (o Owners) Has(a AccountID) bool {
	for i := uint8(0); i < o.N; i++ {
		if o.IDs[i] == a {
			return true
		}
	}
	return false
}

// Add inserts a if it is not a member and there is room.
func (o *Owners) Add(a AccountID) {
	if o.Has(a) || int(o.N) >= MaxOwners {
		return
	}
	o.IDs[o.N] = a
	o.N++
}

// Index returns a's position, or -1.
func (o Owners) Index(a AccountID) int {
	for i := uint8(0); i < o.N; i++ {
		if o.IDs[i] == a {
			return int(i)
		}
	}
	return -1
}

// Slice returns the members.
func (o Owners) Slice() []AccountID { return append([]AccountID(nil), o.IDs[:o.N]...) }

func (o Owners) String() string { return fmt.Sprint(o.IDs[:o.N]) }

// EventRef identifies one camera event and carries what travels with it.
type EventRef struct {
	Device DeviceID
	Seq    uint32
	// Video: the event has a 12 s clip attached (its camera records event
	// videos), so a tap can play it.
	Video bool
	// Stamp is the set of accounts the camera was bound to when it captured
	// the event (mitigation stamped-media: the camera writes it into the media).
	Stamp Owners
}

// Key packs an event's identity into one word.
func (e EventRef) Key() uint64 { return uint64(e.Device)<<32 | uint64(e.Seq) }

// Dur describes a duration the simulator draws from the acting actor's own
// random stream. The explorer ignores durations: every armed timer may fire
// and every message may arrive next.
type Dur struct {
	Kind DurKind
	A, B time.Duration
	// Sigma is the shape of a log-normal (the standard deviation of the log).
	Sigma float64
}

// DurKind selects a distribution.
type DurKind uint8

const (
	// DurConst is exactly A.
	DurConst DurKind = iota
	// DurUniform is uniform on [A, B].
	DurUniform
	// DurExp is exponential with mean A.
	DurExp
	// DurLogNormal has median A and log-standard-deviation Sigma.
	DurLogNormal
)

// Const, Uniform, Exp and LogNormal build Durs.
func Const(d time.Duration) Dur        { return Dur{Kind: DurConst, A: d} }
func Uniform(lo, hi time.Duration) Dur { return Dur{Kind: DurUniform, A: lo, B: hi} }
func Exp(mean time.Duration) Dur       { return Dur{Kind: DurExp, A: mean} }
func LogNormal(median time.Duration, sigma float64) Dur {
	return Dur{Kind: DurLogNormal, A: median, Sigma: sigma}
}

// IsZero reports whether d is the zero duration.
func (d Dur) IsZero() bool { return d == Dur{} }

func (d Dur) String() string {
	switch d.Kind {
	case DurConst:
		return d.A.String()
	case DurUniform:
		return fmt.Sprintf("uniform(%v,%v)", d.A, d.B)
	case DurExp:
		return fmt.Sprintf("exp(mean %v)", d.A)
	case DurLogNormal:
		return fmt.Sprintf("lognormal(median %v, sigma %g)", d.A, d.Sigma)
	}
	return "?"
}
