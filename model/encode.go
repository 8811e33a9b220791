package model

import (
	"errors"
	"slices"
)

// This file gives the state space (package model/statespace) what it needs to
// keep the Monitor as ghost state: a compact, canonical byte encoding of the
// monitor's state under a renaming of devices and accounts, and a decoder
// that rebuilds a monitor from it without allocating in the common case.
// It adds no behaviour: the monitor decoded from an encoding judges the rest
// of a stream exactly as the monitor that was encoded would.

// errMonitorCode is returned for bytes that are not a monitor encoding.
var errMonitorCode = errors.New("monitor: malformed state encoding")

func putUv(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func getUv(b []byte) (uint64, []byte, bool) {
	var v uint64
	for i, s := 0, uint(0); i < len(b) && i < 10; i, s = i+1, s+7 {
		c := b[i]
		if c < 0x80 {
			return v | uint64(c)<<s, b[i+1:], true
		}
		v |= uint64(c&0x7f) << s
	}
	return 0, b, false
}

func putOwners(b []byte, o Owners, acct []AccountID) []byte {
	b = append(b, o.N)
	for _, a := range o.IDs[:o.N] {
		if acct != nil && a != NoAccount && int(a) < len(acct) {
			a = acct[a]
		}
		b = putUv(b, uint64(a))
	}
	return b
}

func getOwners(b []byte) (Owners, []byte, bool) {
	var o Owners
	if len(b) == 0 || b[0] > MaxOwners {
		return o, b, false
	}
	o.N = b[0]
	b = b[1:]
	for i := range o.IDs[:o.N] {
		v, rest, ok := getUv(b)
		if !ok {
			return o, b, false
		}
		o.IDs[i], b = AccountID(v), rest
	}
	return o, b, true
}

// AppendState appends the monitor's state under a renaming: the i-th device
// block written is device order[i] (so order[i] becomes device i), and every
// account a is written as acct[a]. order and acct may be nil (the
// identity). Two monitors that judge every continuation alike and differ
// only by such a renaming encode to the same bytes. Violation counts are
// not part of the state (the explorer stops at a violation).
func (m *Monitor) AppendState(b []byte, order []DeviceID, acct []AccountID) []byte {
	n := m.ndev
	b = append(b, boolByte(m.Partial)|byte(m.Rule)<<1)
	// newDev maps an old device id to its position in order.
	var newDev func(DeviceID) DeviceID
	if order != nil {
		var inv [64]DeviceID
		if n <= len(inv) {
			for i, d := range order {
				inv[d] = DeviceID(i)
			}
			newDev = func(d DeviceID) DeviceID { return inv[d] }
		} else {
			invs := make([]DeviceID, n)
			for i, d := range order {
				invs[d] = DeviceID(i)
			}
			newDev = func(d DeviceID) DeviceID { return invs[d] }
		}
	}
	for i := 0; i < n; i++ {
		d := DeviceID(i)
		if order != nil {
			d = order[i]
		}
		dm := m.peek(d)
		b = putUv(b, uint64(dm.captured))
		b = putUv(b, uint64(dm.done))
		b = putUv(b, uint64(dm.nown))
		b = putUv(b, uint64(dm.ver))
		b = putOwners(b, dm.owners, acct)
		if h := m.hist[d]; h != nil {
			b = append(b, 1)
			b = putUv(b, uint64(h.base))
			b = putUv(b, uint64(len(h.owners)))
			for _, o := range h.owners {
				b = putOwners(b, o, acct)
			}
			b = putUv(b, uint64(len(h.marks)))
			for _, mk := range h.marks {
				b = putUv(b, uint64(mk.seq))
				b = putUv(b, uint64(mk.ord))
			}
		} else {
			b = append(b, 0)
		}
		// Open records of d in sequence order: the map's order must not leak.
		var seqs [16]uint32
		list := seqs[:0]
		for k := range m.open {
			if DeviceID(k>>32) == d {
				list = append(list, uint32(k))
			}
		}
		slices.Sort(list)
		b = putUv(b, uint64(len(list)))
		for _, s := range list {
			r := m.open[uint64(d)<<32|uint64(s)]
			b = putUv(b, uint64(s))
			b = putOwners(b, r.got, acct)
			b = putOwners(b, r.lost, acct)
			b = append(b, boolByte(r.dropped))
		}
	}
	// Receipts outside the owners at capture (empty unless a violation was
	// let pass, or under OwnerAtCaptureOrDelivery).
	keys := make([][2]uint64, 0, len(m.extra))
	for k := range m.extra {
		d, s, u := DeviceID(k[0]>>32), uint32(k[0]), AccountID(k[1])
		if newDev != nil {
			d = newDev(d)
		}
		if acct != nil && u != NoAccount && int(u) < len(acct) {
			u = acct[u]
		}
		keys = append(keys, [2]uint64{uint64(d)<<32 | uint64(s), uint64(u)})
	}
	slices.SortFunc(keys, func(x, y [2]uint64) int {
		if x[0] != y[0] {
			return cmpU64(x[0], y[0])
		}
		return cmpU64(x[1], y[1])
	})
	b = putUv(b, uint64(len(keys)))
	for _, k := range keys {
		b = putUv(b, k[0])
		b = putUv(b, k[1])
	}
	return b
}

func cmpU64(x, y uint64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// MonitorDecoder rebuilds monitors from AppendState encodings, reusing its
// own storage: the monitor it returns is valid until the next Decode.
type MonitorDecoder struct {
	m    Monitor
	recs []evRec
	hist []devHist
}

// Decode rebuilds the monitor of a fleet of `devices` cameras from b and
// returns it with the bytes that follow its encoding.
func (md *MonitorDecoder) Decode(b []byte, devices int) (*Monitor, []byte, error) {
	m := &md.m
	if m.hist == nil {
		m.hist = map[DeviceID]*devHist{}
		m.open = map[uint64]*evRec{}
		m.extra = map[[2]uint64]struct{}{}
	}
	clear(m.hist)
	clear(m.open)
	clear(m.extra)
	m.out = m.out[:0]
	m.counts = [NumInvariants]uint64{}
	m.setDevices(devices)
	md.recs = md.recs[:0]
	md.hist = md.hist[:0]
	bad := func() (*Monitor, []byte, error) { return nil, b, errMonitorCode }
	if len(b) < 1 {
		return bad()
	}
	m.Partial, m.Rule = b[0]&1 != 0, AuthRule(b[0]>>1)
	b = b[1:]
	var ok bool
	var v uint64
	get := func() uint32 {
		if !ok {
			return 0
		}
		v, b, ok = getUv(b)
		return uint32(v)
	}
	// Pointers into md.recs and md.hist must stay valid while they grow:
	// reserve first (each record takes at least a few bytes of b).
	if cap(md.recs) < len(b)/4+1 {
		md.recs = make([]evRec, 0, len(b)/4+1)
	}
	if cap(md.hist) < devices {
		md.hist = make([]devHist, 0, devices)
	}
	for i := 0; i < devices; i++ {
		ok = true
		dm := m.dev(DeviceID(i))
		dm.captured, dm.done, dm.nown, dm.ver = get(), get(), get(), get()
		if !ok {
			return bad()
		}
		if dm.owners, b, ok = getOwners(b); !ok || len(b) < 1 {
			return bad()
		}
		hasHist := b[0] != 0
		b = b[1:]
		if hasHist {
			md.hist = append(md.hist, devHist{})
			h := &md.hist[len(md.hist)-1]
			h.base = get()
			no := get()
			if !ok || int(no) > len(b) {
				return bad()
			}
			h.owners = make([]Owners, no)
			for j := range h.owners {
				if h.owners[j], b, ok = getOwners(b); !ok {
					return bad()
				}
			}
			nm := get()
			if !ok || int(nm) > len(b) {
				return bad()
			}
			h.marks = make([]mark, nm)
			for j := range h.marks {
				h.marks[j].seq, h.marks[j].ord = get(), get()
			}
			m.hist[DeviceID(i)] = h
		}
		nr := get()
		if !ok {
			return bad()
		}
		for j := uint32(0); j < nr; j++ {
			s := get()
			if !ok {
				return bad()
			}
			if len(md.recs) == cap(md.recs) {
				return bad()
			}
			md.recs = append(md.recs, evRec{})
			r := &md.recs[len(md.recs)-1]
			if r.got, b, ok = getOwners(b); !ok {
				return bad()
			}
			if r.lost, b, ok = getOwners(b); !ok || len(b) < 1 {
				return bad()
			}
			r.dropped = b[0]&1 != 0
			b = b[1:]
			m.open[uint64(i)<<32|uint64(s)] = r
		}
		if !ok {
			return bad()
		}
	}
	ok = true
	nf := get()
	for j := uint32(0); j < nf && ok; j++ {
		var k0, k1 uint64
		if k0, b, ok = getUv(b); ok {
			k1, b, ok = getUv(b)
		}
		m.extra[[2]uint64{k0, k1}] = struct{}{}
	}
	if !ok {
		return bad()
	}
	return m, b, nil
}
