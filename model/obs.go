package model

import (
	"fmt"
	"strings"
)

// ObsKind is the kind of an observation: one line of a trace.
type ObsKind uint8

const (
	ObsNone        ObsKind = iota
	ObsOwn                 // registry: Device's owner set is Owners at Version
	ObsCapture             // camera: captured Device/Seq (Flag: has a clip)
	ObsDrop                // camera: Device/Seq lost, Reason
	ObsConnTry             // camera: connect attempt Gen
	ObsConnOK              // camera: connected (Gen)
	ObsConnReject          // camera: gateway refused (admission)
	ObsLinkDown            // camera: link lost (Reason)
	ObsSleep               // battery camera: buffer empty, goes to sleep
	ObsUpload              // camera: sends Device/Seq (Gen: attempt number, 0 first)
	ObsCacheCall           // worker: request Token on Conn/Gen: Op Key [Val]
	ObsCacheRet            // worker: the caller of Token sees Outcome [Val]; ReplyOf/ReplyKey: whose reply was read
	ObsCacheClose          // worker: Conn/Gen closed, Reason
	ObsRegCall             // worker: registry read of Key for Slot
	ObsRegRet              // worker: registry says Key → Owners at Version
	ObsLookup              // worker: Device/Seq resolved to Owners (Outcome: from cache or registry; Reason key-mismatch)
	ObsStore               // store: Device/Seq stored (Flag: duplicate, not stored again)
	ObsDeliver             // app: Account received the thumbnail of Device/Seq
	ObsRefused             // worker: push of Device/Seq to Account refused (Reason)
	ObsTap                 // app: Account tapped Device/Seq asking for View
	ObsView                // store: served View of Device/Seq to Account
	ObsViewRefused         // store: refused View of Device/Seq to Account (Reason)
	ObsFault               // engine: injected Fault
	ObsCacheServe          // cache server: applied Op on Key for Conn/Gen/Token (Flag: found/stored)
	ObsEnd                 // engine: the run ended (Flag: quiet, nothing in flight any more); trace format 1.1
	ObsWitness             // engine: an eBPF probe outside the program saw the delivery function called for Device/Seq/Account (live); 1.1
	// Trace format 1.2: the other incidents.
	ObsWebLookup     // web: session Slot of Account gets the page of camera Device built for Owners, from Outcome (cache/registry); Flag: under the shared key; Reason key-mismatch
	ObsStream        // web: the live stream of Device served to Account in session Slot
	ObsStreamRefused // web: refused (Reason)
	ObsNotify        // notifier: Device/Seq for recipients Owners goes to To (Flag: the defective join)
	ObsRead          // replica: document Slot of the accounts Owners read by Account (NoAccount: anonymous), Fields
	ObsReadRefused   // replica: read of document Slot by Account refused (Reason)
	ObsAlarm         // replica: the exposure alarm closed access after Slot anonymous reads
	ObsConfigRefused // replica: the configuration change Fault was refused (Reason)
	numObsKinds
)

var obsNames = [...]string{"none", "own", "capture", "drop", "conn-try", "conn-ok", "conn-reject",
	"link-down", "sleep", "upload", "cache-call", "cache-ret", "cache-close",
	"reg-call", "reg-ret", "lookup", "store", "deliver", "refused", "tap", "view", "view-refused",
	"fault", "cache-serve", "end", "witness",
	"web-lookup", "stream", "stream-refused", "notify", "read", "read-refused", "alarm", "config-refused"}

func (k ObsKind) String() string {
	if int(k) < len(obsNames) {
		return obsNames[k]
	}
	return fmt.Sprintf("obs(%d)", uint8(k))
}

// ParseObsKind parses a trace event kind.
func ParseObsKind(s string) (ObsKind, bool) {
	for i, n := range obsNames {
		if n == s && i > 0 {
			return ObsKind(i), true
		}
	}
	return ObsNone, false
}

// ObsKinds returns every kind, for schema documentation and tests.
func ObsKinds() []ObsKind {
	out := make([]ObsKind, 0, numObsKinds-1)
	for k := ObsKind(1); k < numObsKinds; k++ {
		out = append(out, k)
	}
	return out
}

// Outcome is how a cache call or lookup ended, as its caller saw it.
type Outcome uint8

const (
	OutNone      Outcome = iota
	OutHit               // get found a value
	OutMiss              // get found nothing
	OutStored            // set/del applied
	OutNotStored         // set refused (an invalidation tombstone is newer)
	OutTimeout           // deadline passed; the result is unknown
	OutError             // protocol error, token mismatch or reset; the result is unknown
	OutCache             // lookup: owners came from the cache
	OutRegistry          // lookup: owners came from the registry
	numOutcomes
)

var outcomeNames = [...]string{"none", "hit", "miss", "stored", "not-stored", "timeout", "error", "cache", "registry"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "?"
}

// ParseOutcome parses an outcome name.
func ParseOutcome(s string) (Outcome, bool) {
	for i, n := range outcomeNames {
		if n == s {
			return Outcome(i), true
		}
	}
	return OutNone, false
}

// Reason says why something was lost, refused or closed.
type Reason uint8

const (
	ReasonNone             Reason = iota
	ReasonBufferFull              // camera buffer full: oldest event dropped
	ReasonStampMismatch           // stamped-media: recipient not in the media's stamp
	ReasonEventsTabOff            // kill switch on
	ReasonRegistryDenied          // verify-on-view: registry says not an owner
	ReasonTimeout                 // cache deadline (discard-on-timeout closes)
	ReasonTypeMismatch            // reply of another command type read (protocol error)
	ReasonTokenMismatch           // tagged: reply token differs from the request's
	ReasonReset                   // server reset the connection
	ReasonKeyMismatch             // key-in-value: cached value names another device
	ReasonDialTimeout             // dial not answered
	ReasonOutage                  // gateway outage
	ReasonUploadRetries           // upload retries exhausted: reconnect
	ReasonPoolExhausted           // no free connection and the waiting queue is full
	ReasonRebind                  // camera reset for a new owner: local events lost (one already sent may still arrive)
	ReasonAuthRequired            // replica: access control is on and the reader is not authorized
	ReasonNoSecondApproval        // config-guard: turning authorization off needs a second approval
	ReasonRefused                 // a user's mitigation (MitigationRule) refused a cached value
	numReasons
)

var reasonNames = [...]string{"", "buffer-full", "stamp-mismatch", "events-tab-off", "registry-denied",
	"timeout", "type-mismatch", "token-mismatch", "reset", "key-mismatch", "dial-timeout", "outage", "upload-retries", "pool-exhausted", "rebind",
	"auth-required", "no-second-approval", "refused"}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "?"
}

// ParseReason parses a reason name ("" is ReasonNone).
func ParseReason(s string) (Reason, bool) {
	for i, n := range reasonNames {
		if n == s {
			return Reason(i), true
		}
	}
	return ReasonNone, false
}

// Obs is one observation. Like Msg it is a flat value; which fields are
// meaningful depends on Kind (see traces/SCHEMA.md).
type Obs struct {
	Kind    ObsKind
	Actor   Addr // filled in by the engine: who observed it
	Peer    Addr // cache-serve: the worker whose connection it was
	Device  DeviceID
	Seq     uint32
	Account AccountID
	Conn    uint16
	Gen     uint32
	Token   uint32
	Slot    uint32
	Op      CacheOp
	Key     DeviceID
	Val     CacheValue
	Outcome Outcome
	// ReplyOf and ReplyKey name the request whose reply a cache-ret actually
	// read (ghost data the engine knows; a real client does not). On a naive
	// connection after a timeout they differ from Token and Key.
	ReplyOf  uint32
	ReplyKey DeviceID
	Owners   Owners
	Version  uint32
	Reason   Reason
	View     ViewKind
	Flag     bool
	Fault    Fault
	// To: notify, the accounts the notifier pushes to. Fields: read, what
	// the document held.
	To     Owners
	Fields DocFields
}

// DocFields is the set of fields of an account's document in the analytics
// replica (2019: "emails, camera nicknames, Wi-Fi SSIDs, device information,
// some Alexa tokens").
type DocFields uint8

const (
	FieldEmail  DocFields = 1 << iota // email address and user name
	FieldDevice                       // device information (models, nicknames, firmware)
	FieldSSID                         // the Wi-Fi network names the cameras use
	FieldToken                        // an integration token (Alexa), where the account has one
)

var fieldNames = [...]string{"email", "device", "ssid", "token"}

// Names lists the fields in the set, in declaration order.
func (f DocFields) Names() []string {
	var out []string
	for i, n := range fieldNames {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

func (f DocFields) String() string { return strings.Join(f.Names(), ",") }

// ParseField parses one field name.
func ParseField(s string) (DocFields, bool) {
	for i, n := range fieldNames {
		if n == s {
			return 1 << i, true
		}
	}
	return 0, false
}

// Choice names a nondeterministic choice an actor makes.
type Choice uint8

const (
	ChoiceTap   Choice = iota // does the user tap the thumbnail?
	ChoiceVideo               // does the tap play the clip (else enlarge)?
)

// Ctx is how an actor acts on the world. Engines implement it.
type Ctx interface {
	// Send puts m on the FIFO channel from the stepping actor to `to`.
	// extra is time the message spends beyond the network (service time,
	// transmission, a human's reaction); the simulator draws it, the explorer
	// ignores it.
	Send(to Addr, m Msg, extra Dur)
	// SetTimer arms (or re-arms) the actor's timer id to fire after d.
	SetTimer(id uint16, d Dur)
	// CancelTimer disarms timer id; a no-op if it is not armed.
	CancelTimer(id uint16)
	// Chance is true with probability p. The simulator draws it from the
	// actor's own stream; the explorer branches on both outcomes when 0<p<1.
	Chance(site Choice, p float64) bool
	// Observe records o in the trace.
	Observe(o Obs)
}
