package model

import (
	"fmt"
	"maps"
	"strings"
)

// Invariant names a property of the spec.
type Invariant uint8

const (
	// NoForeignDelivery: a thumbnail of event e pushed to account u ⇒ u is
	// authorized for e's device.
	NoForeignDelivery Invariant = iota
	// NoForeignView: an enlarged thumbnail or video of e served to u ⇒ the same.
	NoForeignView
	// NoSilentLoss: when the run is quiet, every captured event reached every
	// authorized account, or its loss was recorded with a reason.
	NoSilentLoss
	// AtMostOnce: no account receives the same event twice.
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

// Authorized(d, t) is d's owner set at t. A delivery or view of event e to u
// is authorized when u owned e's device when e was captured, or owns it when
// e is delivered: an event in flight across an ownership transfer may reach
// either side of the transfer, which is the owner's own act. Anyone who owned
// the device at neither time is a stranger; that is the case the 2024
// incident was about.

// devMon is what the monitor keeps per device.
type devMon struct {
	captured uint32 // events 0..captured-1 have been captured
	done     uint32 // events below done are resolved (delivered to all, or loss recorded)
	version  uint32
	known    bool
	owners   Owners
}

// devHist is kept only for devices whose ownership changed during the run.
type devHist struct {
	base   uint32   // version before the first change seen
	owners []Owners // owners[v] for every version v ≤ current
	marks  []mark   // version in force at captures
}

type mark struct{ seq, version uint32 }

// evRec is kept for an event that is partly resolved.
type evRec struct {
	got, lost      Owners // accounts it reached / whose loss was recorded
	dropped, reset bool
}

// Monitor checks the invariants online over a stream of observations. Any
// engine feeds it: the simulator as it runs, the checker from a trace file.
type Monitor struct {
	// Partial: the stream is a slice of a run (not every capture is in it), so
	// NoSilentLoss and the resolved-event part of AtMostOnce are not judged.
	Partial bool

	devs    []devMon
	hist    map[DeviceID]*devHist
	open    map[uint64]*evRec
	foreign map[[2]uint64]struct{}
	out     []Violation
	counts  [NumInvariants]uint64
}

// NewMonitor returns a monitor for a fleet of `devices` cameras.
func NewMonitor(devices int) *Monitor {
	return &Monitor{
		devs:    make([]devMon, devices),
		hist:    map[DeviceID]*devHist{},
		open:    map[uint64]*evRec{},
		foreign: map[[2]uint64]struct{}{},
	}
}

// Counts returns the number of violations of each invariant so far.
func (m *Monitor) Counts() [NumInvariants]uint64 { return m.counts }

// Owners returns device d's current owner set and version.
func (m *Monitor) Owners(d DeviceID) (Owners, uint32) { return m.devs[d].owners, m.devs[d].version }

// Captured returns how many events device d has captured.
func (m *Monitor) Captured(d DeviceID) uint32 { return m.devs[d].captured }

// AuthorizedAtCapture is d's owner set when event seq was captured.
func (m *Monitor) AuthorizedAtCapture(d DeviceID, seq uint32) Owners {
	h := m.hist[d]
	if h == nil {
		return m.devs[d].owners
	}
	v := h.base
	for i := len(h.marks) - 1; i >= 0; i-- {
		if h.marks[i].seq <= seq {
			v = h.marks[i].version
			break
		}
	}
	return h.owners[v]
}

// Observe feeds one observation at time t. It returns the violations it
// shows (valid until the next call) or an error when the stream itself is
// malformed (a device out of range, a capture out of sequence).
func (m *Monitor) Observe(t Time, o *Obs) ([]Violation, error) {
	m.out = m.out[:0]
	switch o.Kind {
	case ObsOwn, ObsCapture, ObsDrop, ObsDeliver, ObsRefused, ObsView, ObsStream:
		if int(o.Device) >= len(m.devs) {
			return nil, fmt.Errorf("device %d out of range (the fleet has %d)", o.Device, len(m.devs))
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
	dm := &m.devs[d]
	switch o.Kind {
	case ObsOwn:
		m.own(d, o.Owners, o.Version)
	case ObsCapture:
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
				last = h.marks[n-1].version
			}
			if dm.version != last {
				h.marks = append(h.marks, mark{seq: o.Seq, version: dm.version})
			}
		}
		m.advance(d)
	case ObsDrop:
		r := m.rec(d, o.Seq)
		r.dropped = true
		r.reset = r.reset || o.Reason == ReasonRebind
		m.advance(d)
	case ObsRefused:
		m.rec(d, o.Seq).lost.Add(o.Account)
		m.advance(d)
	case ObsDeliver:
		m.deliver(t, d, o.Seq, o.Account)
	case ObsView:
		if auth, ok, never := m.authorized(d, o.Seq, o.Account); !ok {
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

func (m *Monitor) own(d DeviceID, o Owners, v uint32) {
	dm := &m.devs[d]
	if !dm.known {
		dm.known, dm.owners, dm.version = true, o, v
		return
	}
	h := m.hist[d]
	if h == nil {
		h = &devHist{base: dm.version}
		for i := uint32(0); i <= dm.version; i++ {
			h.owners = append(h.owners, dm.owners)
		}
		m.hist[d] = h
	}
	for uint32(len(h.owners)) <= v {
		h.owners = append(h.owners, o)
	}
	h.owners[v] = o
	dm.owners, dm.version = o, v
}

// authorized reports whether u may see event seq of d, with the owner set at
// capture, and whether the event was never captured.
func (m *Monitor) authorized(d DeviceID, seq uint32, u AccountID) (Owners, bool, bool) {
	dm := &m.devs[d]
	if seq >= dm.captured && !m.Partial {
		return Owners{}, false, true
	}
	auth := m.AuthorizedAtCapture(d, seq)
	return auth, u != NoAccount && (auth.Has(u) || dm.owners.Has(u)), false
}

func (m *Monitor) deliver(t Time, d DeviceID, seq uint32, u AccountID) {
	auth, ok, never := m.authorized(d, seq, u)
	if !ok {
		m.violate(Violation{Inv: NoForeignDelivery, T: t, Device: d, Seq: seq, Account: u, Authorized: auth, NeverCaptured: never})
		k := [2]uint64{uint64(d)<<32 | uint64(seq), uint64(u)}
		if _, again := m.foreign[k]; again {
			m.violate(Violation{Inv: AtMostOnce, T: t, Device: d, Seq: seq, Account: u, Authorized: auth})
		}
		m.foreign[k] = struct{}{}
		return
	}
	dm := &m.devs[d]
	key := uint64(d)<<32 | uint64(seq)
	r := m.open[key]
	if seq < dm.done && r == nil {
		if !m.Partial {
			// Resolved events are forgotten only once every authorized account
			// had them (or their loss was recorded).
			m.violate(Violation{Inv: AtMostOnce, T: t, Device: d, Seq: seq, Account: u, Authorized: auth})
		}
		return
	}
	if r == nil && seq == dm.done && auth.N == 1 && auth.IDs[0] == u {
		// The common case: the oldest open event reaches its only owner.
		dm.done++
		m.advance(d)
		return
	}
	if r == nil {
		r = m.rec(d, seq)
	}
	if r.got.Has(u) && !r.reset {
		m.violate(Violation{Inv: AtMostOnce, T: t, Device: d, Seq: seq, Account: u, Authorized: auth})
		return
	}
	r.got.Add(u)
	m.advance(d)
}

func (m *Monitor) rec(d DeviceID, seq uint32) *evRec {
	key := uint64(d)<<32 | uint64(seq)
	r := m.open[key]
	if r == nil {
		r = &evRec{}
		m.open[key] = r
	}
	return r
}

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

// advance moves d's watermark over resolved events. Events that were
// dropped for a rebind keep their record: their upload may still arrive.
func (m *Monitor) advance(d DeviceID) {
	dm := &m.devs[d]
	for dm.done < dm.captured {
		auth := m.AuthorizedAtCapture(d, dm.done)
		key := uint64(d)<<32 | uint64(dm.done)
		r := m.open[key]
		switch {
		case auth.N == 0:
		case r == nil || !r.resolved(auth):
			return
		case !r.reset:
			delete(m.open, key)
		}
		dm.done++
	}
}

func (m *Monitor) violate(v Violation) {
	m.counts[v.Inv]++
	m.out = append(m.out, v)
}

// Quiet judges NoSilentLoss at time t, when nothing is in flight any more.
// It returns one violation per event that is unresolved.
func (m *Monitor) Quiet(t Time) []Violation {
	m.out = m.out[:0]
	if m.Partial {
		return nil
	}
	for i := range m.devs {
		d := DeviceID(i)
		dm := &m.devs[i]
		for seq := dm.done; seq < dm.captured; seq++ {
			auth := m.AuthorizedAtCapture(d, seq)
			r := m.open[uint64(d)<<32|uint64(seq)]
			if r != nil && (r.resolved(auth) || (m.hist[d] != nil && r.resolved(dm.owners))) {
				continue
			}
			if auth.N == 0 {
				continue
			}
			m.violate(Violation{Inv: NoSilentLoss, T: t, Device: d, Seq: seq, Authorized: auth})
		}
	}
	return m.out
}

// Clone returns a deep copy (the explorer keeps the monitor as ghost state).
func (m *Monitor) Clone() *Monitor {
	c := *m
	c.devs = append([]devMon(nil), m.devs...)
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
	c.foreign = maps.Clone(m.foreign)
	c.out = nil
	return &c
}

// Authorized reports whether account u may see event seq of device d.
func (m *Monitor) Authorized(d DeviceID, seq uint32, u AccountID) bool {
	if int(d) >= len(m.devs) {
		return false
	}
	_, ok, _ := m.authorized(d, seq, u)
	return ok
}
