package model

import (
	"errors"
	"slices"
)

// This file holds the primitives of the canonical state encoding the
// explorer stores (package model/statespace assembles a world's encoding
// from them). Each actor encodes and decodes its own state beside its type
// (AppendState and ReadState), so a field added to an actor is encoded
// where it is declared. Three rules make an encoding canonical:
//
//   - A field is written only in the states where the model reads it (the
//     stale request of a connection that is not busy is left out, and so on).
//   - Devices and accounts are written under the renaming of a StateWriter,
//     so states that differ by a symmetry of the world encode alike.
//   - Numbers that are only compared for equality and only grow (connect
//     attempt numbers, cache-connection generations, request tokens) are
//     written as their rank among the values the state holds (a Ranker).
//
// Every value is an unsigned varint or a byte; lists carry their length
// first, so no prefix of one encoding parses as another.

// ErrStateCode is returned for bytes that are not a state encoding.
var ErrStateCode = errors.New("model: malformed state encoding")

// StateWriter writes the values of a state's encoding under a renaming of
// devices and accounts. Its zero value writes them unrenamed.
type StateWriter struct {
	// DevNew maps an old device to its new index; AcctNew an old account
	// to its new id (nil: the identity).
	DevNew  []int
	AcctNew []AccountID
}

// Uv appends v as a varint.
func (*StateWriter) Uv(b []byte, v uint64) []byte { return putUv(b, v) }

// U appends v as a varint.
func (*StateWriter) U(b []byte, v uint32) []byte {
	if v < 0x80 {
		return append(b, byte(v))
	}
	return putUv(b, uint64(v))
}

// Flag appends v as a byte.
func (*StateWriter) Flag(b []byte, v bool) []byte { return append(b, boolByte(v)) }

// Dev appends device d, renamed.
func (w *StateWriter) Dev(b []byte, d DeviceID) []byte {
	if int(d) < len(w.DevNew) {
		d = DeviceID(w.DevNew[d])
	}
	return w.U(b, uint32(d))
}

// Acct appends account a, renamed.
func (w *StateWriter) Acct(b []byte, a AccountID) []byte {
	if a != NoAccount && int(a) < len(w.AcctNew) {
		a = w.AcctNew[a]
	}
	return putUv(b, uint64(a))
}

// Owners appends an owner set, each account renamed, in its own order.
func (w *StateWriter) Owners(b []byte, o Owners) []byte {
	b = append(b, o.N)
	for _, a := range o.IDs[:o.N] {
		b = w.Acct(b, a)
	}
	return b
}

// Ev appends an event reference.
func (w *StateWriter) Ev(b []byte, ev EventRef) []byte {
	b = w.Dev(b, ev.Device)
	b = w.U(b, ev.Seq)
	b = w.Flag(b, ev.Video)
	return w.Owners(b, ev.Stamp)
}

// Val appends a cached value.
func (w *StateWriter) Val(b []byte, v CacheValue) []byte {
	b = w.Dev(b, v.Device)
	b = w.Owners(b, v.Owners)
	return w.U(b, v.Version)
}

// Req appends a cache request, its token ranked by tok.
func (w *StateWriter) Req(b []byte, r *CacheReq, tok *Ranker) []byte {
	b = append(b, byte(r.Op))
	b = w.Dev(b, r.Key)
	if r.Op == OpSet {
		b = w.Val(b, r.Val)
	}
	return w.U(b, tok.TokRank(r.Token))
}

// Reply appends a cache reply, its token ranked by tok.
func (w *StateWriter) Reply(b []byte, r *CacheReply, tok *Ranker) []byte {
	b = append(b, byte(r.Op))
	b = w.Dev(b, r.Key)
	b = w.U(b, tok.TokRank(r.Token))
	b = w.Flag(b, r.Found)
	if r.Found && r.Op == OpGet {
		b = w.Val(b, r.Val)
	}
	return b
}

// Pending appends a worker's request with its upload slot.
func (w *StateWriter) Pending(b []byte, pr *PendingReq, tok *Ranker) []byte {
	b = w.Req(b, &pr.Req, tok)
	b = w.U(b, pr.Slot)
	return w.Flag(b, pr.HasSlot)
}

// StateReader reads what a StateWriter wrote (under the identity). A read
// past the end or of a malformed value sets Bad and returns zero.
type StateReader struct {
	B   []byte
	Bad bool
}

// U reads a varint of at most 32 bits' value.
func (r *StateReader) U() uint32 { return uint32(r.U64()) }

// U64 reads a varint.
func (r *StateReader) U64() uint64 {
	v, rest, ok := getUv(r.B)
	if !ok {
		r.Bad = true
		return 0
	}
	r.B = rest
	return v
}

// Byte reads one byte.
func (r *StateReader) Byte() byte {
	if len(r.B) == 0 {
		r.Bad = true
		return 0
	}
	c := r.B[0]
	r.B = r.B[1:]
	return c
}

// Flag reads a byte as a bool.
func (r *StateReader) Flag() bool { return r.Byte() != 0 }

// Len reads a list's length, which may not exceed the bytes left (each
// element takes at least one).
func (r *StateReader) Len() int {
	n := int(r.U())
	if n > len(r.B) {
		r.Bad = true
		return 0
	}
	return n
}

// Owners reads an owner set.
func (r *StateReader) Owners() Owners {
	var o Owners
	o.N = r.Byte()
	if o.N > MaxOwners {
		r.Bad = true
		o.N = 0
	}
	for i := range o.IDs[:o.N] {
		o.IDs[i] = AccountID(r.U())
	}
	return o
}

// Ev reads an event reference.
func (r *StateReader) Ev() EventRef {
	return EventRef{Device: DeviceID(r.U()), Seq: r.U(), Video: r.Flag(), Stamp: r.Owners()}
}

// Val reads a cached value.
func (r *StateReader) Val() CacheValue {
	return CacheValue{Device: DeviceID(r.U()), Owners: r.Owners(), Version: r.U()}
}

// Req reads a cache request.
func (r *StateReader) Req() CacheReq {
	q := CacheReq{Op: CacheOp(r.Byte()), Key: DeviceID(r.U())}
	if q.Op == OpSet {
		q.Val = r.Val()
	}
	q.Token = r.U()
	return q
}

// Reply reads a cache reply.
func (r *StateReader) Reply() CacheReply {
	p := CacheReply{Op: CacheOp(r.Byte()), Key: DeviceID(r.U()), Token: r.U(), Found: r.Flag()}
	if p.Found && p.Op == OpGet {
		p.Val = r.Val()
	}
	return p
}

// Pending reads a worker's request with its upload slot.
func (r *StateReader) Pending() PendingReq {
	return PendingReq{Req: r.Req(), Slot: r.U(), HasSlot: r.Flag()}
}

// Ranker maps the values of one equality-only counter to their ranks
// among the values a state holds: Add each, then Done, then Rank.
type Ranker struct{ vals []uint32 }

// Reset empties the ranker.
func (r *Ranker) Reset() { r.vals = r.vals[:0] }

// Add records a value the state holds.
func (r *Ranker) Add(v uint32) { r.vals = append(r.vals, v) }

// Done sorts the values and drops repeats.
func (r *Ranker) Done() { slices.Sort(r.vals); r.vals = slices.Compact(r.vals) }

// Rank is v's rank; v must have been added.
func (r *Ranker) Rank(v uint32) uint32 {
	for i, x := range r.vals {
		if x == v {
			return uint32(i)
		}
	}
	panic("model: value missing from its ranker")
}

// TokRank ranks a token, keeping 0 (no token yet) as 0.
func (r *Ranker) TokRank(v uint32) uint32 {
	if v == 0 {
		return 0
	}
	rk := r.Rank(v)
	if r.vals[0] == 0 {
		return rk
	}
	return rk + 1
}
