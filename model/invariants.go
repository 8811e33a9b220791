package model

import (
	"fmt"
	"maps"
	"math"
	"strings"
)

// Invariant names a property of the spec.
type Invariant uint8

const (
	// NoForeignDelivery: a thumbnail of event e pushed to account u ⇒
	// Authorized(e, u) (the Monitor's rule; by default: u owned e's device
	// when e was captured).
	NoForeignDelivery Invariant = iota
	// NoForeignView: an enlarged thumbnail or video of e served to u ⇒ the same.
	NoForeignView
	// NoSilentLoss: when the run is quiet, every captured event reached every
	// account that owned its device at capture, or its loss was recorded
	// with a reason.
	NoSilentLoss
	// AtMostOnce: an account receives a given event (device and sequence
	// number) at most once; drops, refusals and deliveries to other accounts
	// are not repeats.
	AtMostOnce
	// NoForeignStream: a live stream of device d served to account u ⇒ u is
	// authorized for d when it is served (2023 web view).
	NoForeignStream
	// NoForeignRead: a document of account a's data read by r ⇒ r is a
	// (2019 analytics replica). The anonymous reader is never authorized.
	NoForeignRead
	// NumInvariants counts the invariants the Monitor checks.
	NumInvariants
)

var invNames = [...]string{"NoForeignDelivery", "NoForeignView", "NoSilentLoss", "AtMostOnce", "NoForeignStream", "NoForeignRead"}

func (i Invariant) String() string {
	if int(i) < len(invNames) {
		return invNames[i]
	}
	return fmt.Sprintf("invariant(%d)", uint8(i))
}

// Invariants lists the invariants the Monitor checks.
func Invariants() []Invariant {
	return []Invariant{NoForeignDelivery, NoForeignView, NoSilentLoss, AtMostOnce, NoForeignStream, NoForeignRead}
}

// ParseInvariants parses a comma-separated list of invariant names.
func ParseInvariants(s string) ([]Invariant, error) {
	var out []Invariant
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		found := false
		for i, n := range invNames {
			if n == part {
				out = append(out, Invariant(i))
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown invariant %q (want any of %s)", part, strings.Join(invNames[:], ", "))
		}
	}
	return out, nil
}

// Violation is one instance of a broken invariant.
type Violation struct {
	Inv     Invariant
	T       Time
	Device  DeviceID
	Seq     uint32
	Account AccountID
	View    ViewKind
	// Authorized is the device's owner set when the event was captured.
	Authorized Owners
	// NeverCaptured: the event was delivered or viewed but never captured.
	NeverCaptured bool
	// Session: NoForeignStream, the web session. Fields: NoForeignRead,
	// what the document held (Authorized is then the document's account).
	Session uint32
	Fields  DocFields
}

func (v Violation) String() string {
	ev := fmt.Sprintf("event %d/%d", v.Device, v.Seq)
	switch v.Inv {
	case NoForeignDelivery:
		if v.NeverCaptured {
			return fmt.Sprintf("%s: thumbnail of %s (never captured) pushed to account %d", v.Inv, ev, v.Account)
		}
		return fmt.Sprintf("%s: thumbnail of %s (device of accounts %v) pushed to account %d", v.Inv, ev, v.Authorized, v.Account)
	case NoForeignView:
		return fmt.Sprintf("%s: %s of %s (device of accounts %v) served to account %d", v.Inv, v.View, ev, v.Authorized, v.Account)
	case NoSilentLoss:
		return fmt.Sprintf("%s: %s never reached all of %v and no loss was recorded", v.Inv, ev, v.Authorized)
	case AtMostOnce:
		return fmt.Sprintf("%s: account %d received %s again", v.Inv, v.Account, ev)
	case NoForeignStream:
		return fmt.Sprintf("%s: live stream of camera %d (device of accounts %v) served to account %d in web session %d",
			v.Inv, v.Device, v.Authorized, v.Account, v.Session)
	case NoForeignRead:
		return fmt.Sprintf("%s: the document of account(s) %v (%s) read by %s", v.Inv, v.Authorized, v.Fields, acctName(v.Account))
	}
	return v.Inv.String()
}

func acctName(a AccountID) string {
	if a == NoAccount {
		return "an anonymous reader"
	}
	return fmt.Sprintf("account %d", a)
}

// AuthRule says who may see an event of device d: Authorized(e, u) below.
type AuthRule uint8

const (
	// OwnerAtCapture: u owned e's device when e was captured. The footage
	// belongs to whoever owned the camera when it was recorded: a seller's
	// pre-sale event pushed to the buyer after the sale is foreign. This is
	// the rule stamped media enforces (the owner at capture is stamped into
	// the clip and a mismatch is refused) and the default.
	OwnerAtCapture AuthRule = iota
	// OwnerAtCaptureOrDelivery: u owned the device when e was captured or
	// owns it when e is delivered or served. An event in flight across an
	// ownership transfer may reach either side of the transfer.
	OwnerAtCaptureOrDelivery
)

var ruleNames = [...]string{"capture", "capture-or-delivery"}

func (r AuthRule) String() string {
	if int(r) < len(ruleNames) {
		return ruleNames[r]
	}
	return fmt.Sprintf("rule(%d)", uint8(r))
}

// ParseAuthRule parses a rule name ("capture", "capture-or-delivery"); ""
// is the default rule.
func ParseAuthRule(s string) (AuthRule, error) {
	if s == "" {
		return OwnerAtCapture, nil
	}
	for i, n := range ruleNames {
		if n == s {
			return AuthRule(i), nil
		}
	}
	return 0, fmt.Errorf("unknown authorization rule %q (want capture or capture-or-delivery)", s)
}

// The monitor's rules, stated once:
//
// Ownership. A device's ownership history is the sequence of its ObsOwn
// observations in stream order; the first is its initial ownership. Before
// it the device has no owner. Versions are labels: they must strictly
// increase per device (anything else is a malformed stream), and no memory is
// sized by them.
//
// Authorized(e, u), for event e of device d: u ∈ owners(d at the capture of
// e), or under OwnerAtCaptureOrDelivery also u ∈ owners(d now). The anonymous
// reader (NoAccount) is never authorized.
//
// AtMostOnce: an account receives a given event (device and sequence number)
// at most once. A repeat is a second ObsDeliver of the same event to the same
// account, whatever happened between them. Drops, refusals and deliveries of
// the event to other accounts are not repeats: "drop 7/3, deliver 7/3 to 7"
// holds; "deliver 7/3 to 7, deliver 7/3 to 7" is a repeat, also with a drop,
// a refusal or a delivery to another account in between.
//
// NoSilentLoss (judged when the run is quiet): every captured event reached
// every account authorized at its capture, or its loss was recorded for that
// account (ObsRefused) or for the event (ObsDrop). Under
// OwnerAtCaptureOrDelivery an event captured before an ownership change is
// also resolved when it reached (or was refused to) every current owner.

// devMon is what the monitor keeps per device.
type devMon struct {
	captured uint32 // events 0..captured-1 have been captured
	// done: events below it are resolved. One below it without a record in
	// Monitor.open reached exactly its owners at capture, once each.
	done uint32
	nown uint32 // ownership ordinal: the number of ObsOwn seen (0: no owner yet)
	ver  uint32 // the label of the latest ObsOwn
	// owners is the current owner set (ordinal nown).
	owners Owners
}

// devPageBits sizes the pages of the device table. The table is paged and a
// page is allocated when one of its devices is first observed, so memory
// follows the devices a stream names, not the fleet size it declares.
const devPageBits = 8

type devPage [1 << devPageBits]devMon

// devHist is kept for devices whose ownership changed after captures could
// refer to an earlier owner set.
type devHist struct {
	base   uint32   // the ordinal of owners[0]
	owners []Owners // owners[i] is the owner set of ordinal base+i
	marks  []mark   // ordinal in force at captures, where it changed
}

type mark struct{ seq, ord uint32 }

// evRec is kept for an event that is partly resolved, or resolved otherwise
// than by reaching each of its owners at capture.
type evRec struct {
	got, lost Owners // owners at capture it reached / whose loss was recorded
	dropped   bool
}

// Monitor checks the invariants online over a stream of observations. Any
// engine feeds it: the simulator as it runs, the checker from a trace file.
// Its memory grows with the stream: with the devices it names, the events
// captured but unresolved, and the deliveries outside the owners at capture.
type Monitor struct {
	// Partial: the stream is a slice of a run (not every capture is in it), so
	// NoSilentLoss is not judged; an event whose capture is not in the stream
	// is judged against the device's current owners.
	Partial bool
	// Rule decides who is authorized (the zero value is OwnerAtCapture).
	Rule AuthRule

	ndev  int
	pages []*devPage
	hist  map[DeviceID]*devHist
	open  map[uint64]*evRec
	// extra holds the (event, account) deliveries to accounts outside the
	// event's owners at capture, for AtMostOnce.
	extra  map[[2]uint64]struct{}
	out    []Violation
	counts [NumInvariants]uint64
}

// NewMonitor returns a monitor for a fleet of `devices` cameras (device ids
// 0..devices-1).
func NewMonitor(devices int) *Monitor {
	m := &Monitor{
		hist:  map[DeviceID]*devHist{},
		open:  map[uint64]*evRec{},
		extra: map[[2]uint64]struct{}{},
	}
	m.setDevices(devices)
	return m
}

func (m *Monitor) setDevices(devices int) {
	m.ndev = devices
	np := (devices + len(devPage{}) - 1) >> devPageBits
	if cap(m.pages) < np {
		m.pages = make([]*devPage, np)
	}
	m.pages = m.pages[:np]
}

// dev returns device d's record, allocating its page on first use. d must
// be below the fleet size.
func (m *Monitor) dev(d DeviceID) *devMon {
	p := m.pages[d>>devPageBits]
	if p == nil {
		p = new(devPage)
		m.pages[d>>devPageBits] = p
	}
	return &p[d&(1<<devPageBits-1)]
}

// peek returns device d's record without allocating (a zero record if its
// page was never used or d is out of range).
func (m *Monitor) peek(d DeviceID) devMon {
	if int(d) >= m.ndev {
		return devMon{}
	}
	if p := m.pages[d>>devPageBits]; p != nil {
		return p[d&(1<<devPageBits-1)]
	}
	return devMon{}
}

// Counts returns the number of violations of each invariant so far.
func (m *Monitor) Counts() [NumInvariants]uint64 { return m.counts }

// Owners returns device d's current owner set and the label (version) of
// the ownership line that set it.
func (m *Monitor) Owners(d DeviceID) (Owners, uint32) {
	dm := m.peek(d)
	return dm.owners, dm.ver
}

// Captured returns how many events device d has captured.
func (m *Monitor) Captured(d DeviceID) uint32 { return m.peek(d).captured }

// AuthorizedAtCapture is d's owner set when event seq was captured (in a
// partial stream, for an event whose capture it does not hold: the current
// owner set).
func (m *Monitor) AuthorizedAtCapture(d DeviceID, seq uint32) Owners {
	dm := m.peek(d)
	h := m.hist[d]
	if h == nil || (m.Partial && seq >= dm.captured) {
		return dm.owners
	}
	v := h.base
	for i := len(h.marks) - 1; i >= 0; i-- {
		if h.marks[i].seq <= seq {
			v = h.marks[i].ord
			break
		}
	}
	return h.owners[v-h.base]
}

// Observe feeds one observation at time t. It returns the violations it
// shows (valid until the next call) or an error when the stream itself is
// malformed (a device out of range, a capture out of sequence, an ownership
// version that does not increase).
func (m *Monitor) Observe(t Time, o *Obs) ([]Violation, error) {
	m.out = m.out[:0]
	switch o.Kind {
	case ObsOwn, ObsCapture, ObsDrop, ObsDeliver, ObsRefused, ObsView, ObsStream:
		if int(o.Device) >= m.ndev {
			return nil, fmt.Errorf("device %d out of range (the fleet has %d)", o.Device, m.ndev)
		}
	case ObsRead:
		// A document is its account's alone.
		if o.Account == NoAccount || !o.Owners.Has(o.Account) {
			m.violate(Violation{Inv: NoForeignRead, T: t, Account: o.Account, Authorized: o.Owners, Fields: o.Fields})
		}
		return m.out, nil
	default:
		return nil, nil
	}
	d := o.Device
	dm := m.dev(d)
	switch o.Kind {
	case ObsOwn:
		if dm.nown > 0 && o.Version <= dm.ver {
			return nil, fmt.Errorf("device %d: version %d does not follow version %d (versions must increase)", d, o.Version, dm.ver)
		}
		m.own(d, dm, o.Owners, o.Version)
	case ObsCapture:
		if o.Seq == math.MaxUint32 {
			return nil, fmt.Errorf("capture %d/%d: sequence number out of range", d, o.Seq)
		}
		if o.Seq != dm.captured && !m.Partial {
			return nil, fmt.Errorf("capture %d/%d out of sequence (expected seq %d)", d, o.Seq, dm.captured)
		}
		if o.Seq < dm.captured {
			return nil, nil
		}
		if dm.done == dm.captured {
			dm.done = o.Seq // Partial: earlier events are not in the stream
		}
		dm.captured = o.Seq + 1
		if h := m.hist[d]; h != nil {
			last := h.base
			if n := len(h.marks); n > 0 {
				last = h.marks[n-1].ord
			}
			if dm.nown != last {
				h.marks = append(h.marks, mark{seq: o.Seq, ord: dm.nown})
			}
		}
		m.advance(d, dm)
	case ObsDrop:
		if r := m.rec(d, dm, o.Seq); r != nil {
			r.dropped = true
			m.advance(d, dm)
		}
	case ObsRefused:
		if o.Seq < dm.captured || m.Partial {
			auth := m.AuthorizedAtCapture(d, o.Seq)
			if auth.Has(o.Account) || (m.Rule == OwnerAtCaptureOrDelivery && dm.owners.Has(o.Account)) {
				if r := m.rec(d, dm, o.Seq); r != nil {
					r.lost.Add(o.Account)
					m.advance(d, dm)
				}
			}
		}
	case ObsDeliver:
		m.deliver(t, d, dm, o.Seq, o.Account)
	case ObsView:
		if auth, ok, never := m.authorized(d, dm, o.Seq, o.Account); !ok {
			m.violate(Violation{Inv: NoForeignView, T: t, Device: d, Seq: o.Seq, Account: o.Account,
				View: o.View, Authorized: auth, NeverCaptured: never})
		}
	case ObsStream:
		// A live stream is of now: its viewer must own the camera now.
		if o.Account == NoAccount || !dm.owners.Has(o.Account) {
			m.violate(Violation{Inv: NoForeignStream, T: t, Device: d, Account: o.Account, View: ViewLive,
				Authorized: dm.owners, Session: o.Slot})
		}
	}
	return m.out, nil
}

// own records d's next ownership. A history is kept once captures may refer
// to an earlier owner set.
func (m *Monitor) own(d DeviceID, dm *devMon, o Owners, v uint32) {
	if dm.nown > 0 || dm.captured > 0 {
		h := m.hist[d]
		if h == nil {
			h = &devHist{base: dm.nown, owners: []Owners{dm.owners}}
			m.hist[d] = h
		}
		h.owners = append(h.owners, o)
	}
	dm.nown++
	dm.owners, dm.ver = o, v
}

// authorized reports whether u may see event seq of d, with the owner set at
// capture, and whether the event was never captured.
func (m *Monitor) authorized(d DeviceID, dm *devMon, seq uint32, u AccountID) (Owners, bool, bool) {
	if seq >= dm.captured && !m.Partial {
		return Owners{}, false, true
	}
	auth := m.AuthorizedAtCapture(d, seq)
	ok := u != NoAccount && (auth.Has(u) || (m.Rule == OwnerAtCaptureOrDelivery && dm.owners.Has(u)))
	return auth, ok, false
}

func (m *Monitor) deliver(t Time, d DeviceID, dm *devMon, seq uint32, u AccountID) {
	auth, ok, never := m.authorized(d, dm, seq, u)
	if !ok {
		m.violate(Violation{Inv: NoForeignDelivery, T: t, Device: d, Seq: seq, Account: u, Authorized: auth, NeverCaptured: never})
	}
	if never || !auth.Has(u) {
		// Outside the owners at capture: a stranger, a later owner, or an
		// event never captured. Each such receipt is remembered exactly.
		k := [2]uint64{uint64(d)<<32 | uint64(seq), uint64(u)}
		if _, again := m.extra[k]; again {
			m.violate(Violation{Inv: AtMostOnce, T: t, Device: d, Seq: seq, Account: u, Authorized: auth})
		}
		m.extra[k] = struct{}{}
		return
	}
	key := uint64(d)<<32 | uint64(seq)
	r := m.open[key]
	if r == nil && seq == dm.done && auth.N == 1 && !m.Partial {
		// The common case: the oldest open event reaches its only owner.
		dm.done++
		m.advance(d, dm)
		return
	}
	if r == nil {
		r = m.rec(d, dm, seq)
	}
	if r.got.Has(u) {
		m.violate(Violation{Inv: AtMostOnce, T: t, Device: d, Seq: seq, Account: u, Authorized: auth})
		return
	}
	r.got.Add(u)
	m.advance(d, dm)
}

// rec returns the record of event seq of d, creating it. An event below the
// watermark without a record reached each of its owners at capture: its new
// record says so. It returns nil for an event never captured (a full stream
// holds every capture).
func (m *Monitor) rec(d DeviceID, dm *devMon, seq uint32) *evRec {
	key := uint64(d)<<32 | uint64(seq)
	r := m.open[key]
	if r != nil {
		return r
	}
	if seq >= dm.captured && !m.Partial {
		return nil
	}
	r = &evRec{}
	if seq < dm.done && !m.Partial {
		r.got = m.AuthorizedAtCapture(d, seq)
	}
	m.open[key] = r
	return r
}

// resolved: the event was dropped, or each of auth received it or had its
// loss recorded.
func (r *evRec) resolved(auth Owners) bool {
	if r.dropped {
		return true
	}
	for _, a := range auth.IDs[:auth.N] {
		if !r.got.Has(a) && !r.lost.Has(a) {
			return false
		}
	}
	return true
}

// advance moves d's watermark over resolved events. A record is forgotten
// only when the event reached each of its owners at capture and nothing
// else happened to it, so the watermark alone says who received it; in a
// partial stream records are kept.
func (m *Monitor) advance(d DeviceID, dm *devMon) {
	for dm.done < dm.captured {
		auth := m.AuthorizedAtCapture(d, dm.done)
		key := uint64(d)<<32 | uint64(dm.done)
		r := m.open[key]
		switch {
		case auth.N == 0:
		case r == nil || !r.resolved(auth):
			return
		case !r.dropped && r.lost.N == 0 && !m.Partial:
			delete(m.open, key)
		}
		dm.done++
	}
}

func (m *Monitor) violate(v Violation) {
	m.counts[v.Inv]++
	m.out = append(m.out, v)
}

// received reports whether account u received event seq of d (u outside
// the owners at capture).
func (m *Monitor) receivedExtra(d DeviceID, seq uint32, u AccountID) bool {
	_, ok := m.extra[[2]uint64{uint64(d)<<32 | uint64(seq), uint64(u)}]
	return ok
}

// Quiet judges NoSilentLoss at time t, when nothing is in flight any more.
// It returns one violation per event that is unresolved.
func (m *Monitor) Quiet(t Time) []Violation {
	m.out = m.out[:0]
	if m.Partial {
		return nil
	}
	for pi, p := range m.pages {
		if p == nil {
			continue
		}
		for j := range p {
			dm := &p[j]
			d := DeviceID(pi<<devPageBits | j)
			for seq := dm.done; seq < dm.captured; seq++ {
				auth := m.AuthorizedAtCapture(d, seq)
				if auth.N == 0 {
					continue
				}
				r := m.open[uint64(d)<<32|uint64(seq)]
				if r != nil && r.resolved(auth) {
					continue
				}
				if m.Rule == OwnerAtCaptureOrDelivery && m.hist[d] != nil && m.reachedAll(d, seq, r, dm.owners) {
					continue
				}
				m.violate(Violation{Inv: NoSilentLoss, T: t, Device: d, Seq: seq, Authorized: auth})
			}
		}
	}
	return m.out
}

// reachedAll: each of owners received event seq of d or had its loss
// recorded.
func (m *Monitor) reachedAll(d DeviceID, seq uint32, r *evRec, owners Owners) bool {
	if owners.N == 0 {
		return false
	}
	for _, a := range owners.IDs[:owners.N] {
		if r != nil && (r.got.Has(a) || r.lost.Has(a)) {
			continue
		}
		if !m.receivedExtra(d, seq, a) {
			return false
		}
	}
	return true
}

// Clone returns a deep copy (the explorer keeps the monitor as ghost state).
func (m *Monitor) Clone() *Monitor {
	c := *m
	c.pages = make([]*devPage, len(m.pages))
	for i, p := range m.pages {
		if p != nil {
			pc := *p
			c.pages[i] = &pc
		}
	}
	c.hist = make(map[DeviceID]*devHist, len(m.hist))
	for d, h := range m.hist {
		hc := *h
		hc.owners = append([]Owners(nil), h.owners...)
		hc.marks = append([]mark(nil), h.marks...)
		c.hist[d] = &hc
	}
	c.open = make(map[uint64]*evRec, len(m.open))
	for k, r := range m.open {
		rc := *r
		c.open[k] = &rc
	}
	c.extra = maps.Clone(m.extra)
	c.out = nil
	return &c
}

// Authorized reports whether account u may see event seq of device d under
// the monitor's rule.
func (m *Monitor) Authorized(d DeviceID, seq uint32, u AccountID) bool {
	if int(d) >= m.ndev {
		return false
	}
	dm := m.peek(d)
	_, ok, _ := m.authorized(d, &dm, seq, u)
	return ok
}
