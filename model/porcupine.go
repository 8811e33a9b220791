package model

import (
	"fmt"

	"github.com/anishathalye/porcupine"
)

// The porcupine models of the spec's CacheLinearizable: each cache key is a
// register (a value or nothing, plus the tombstone version of the last
// invalidation), and each device's registry entry is a register of its owner
// set. The checker builds histories from traces and checks them one key at a
// time; these are only the sequential specifications, pure functions.

// LinKind is an operation of a linearizability history.
type LinKind uint8

const (
	LinGet        LinKind = iota // client GET
	LinSet                       // client SET
	LinDel                       // client DEL
	LinRestart                   // the cache restarted cold: every key is gone
	LinInvalidate                // invalidate-on-transfer: delete and tombstone at Val.Version
	LinRegRead                   // registry read
	LinRegWrite                  // registry write (an `own` line)
)

var linKindNames = [...]string{"get", "set", "del", "restart", "invalidate", "read", "write"}

func (k LinKind) String() string {
	if int(k) < len(linKindNames) {
		return linKindNames[k]
	}
	return "?"
}

// LinIn is an operation's input.
type LinIn struct {
	Kind LinKind
	// Val is the value a SET writes, the tombstone version of an
	// invalidation (Val.Version), or the owner set a registry write installs.
	Val CacheValue
}

// LinOut is what the caller saw. Outcome OutTimeout or OutError means the
// result is unknown: the operation may or may not have taken effect.
type LinOut struct {
	Outcome Outcome
	Val     CacheValue // a hit's value; a registry read's owners and version
}

// Unknown reports whether the caller never learnt the result.
func (o LinOut) Unknown() bool { return o.Outcome == OutTimeout || o.Outcome == OutError }

// LinState is a register's state. Known is false only for a history that
// starts mid-way (a window drawn for people): then the first observation
// fixes it. Loose: the tombstone is only a lower bound.
type LinState struct {
	Known, Present, Loose bool
	Val                   CacheValue
	Tomb                  uint32
}

// CacheStep is the cache register's sequential specification. It never
// panics: an input or output of another type is simply not a legal step.
func CacheStep(state, input, output any) (bool, any) {
	s, ok1 := state.(LinState)
	in, ok2 := input.(LinIn)
	out, ok3 := output.(LinOut)
	if !ok1 || !ok2 || !ok3 {
		return false, state
	}
	versionOK := func(v uint32) bool { return !s.Known || s.Loose || v >= s.Tomb }
	switch in.Kind {
	case LinRestart:
		return true, LinState{Known: true}
	case LinInvalidate:
		t := s.Tomb
		if in.Val.Version > t {
			t = in.Val.Version
		}
		return true, LinState{Known: true, Loose: !s.Known || s.Loose, Tomb: t}
	case LinGet:
		switch {
		case out.Unknown():
			return true, s
		case out.Outcome == OutHit:
			if !s.Known {
				return true, LinState{Known: true, Present: true, Val: out.Val, Loose: true}
			}
			return s.Present && s.Val == out.Val, s
		case out.Outcome == OutMiss:
			if !s.Known {
				return true, LinState{Known: true, Loose: true}
			}
			return !s.Present, s
		}
		return false, s
	case LinSet:
		switch {
		case out.Unknown():
			// Applied if the server would have taken it; an unapplied write is
			// the same as one linearized after everything else.
			if !versionOK(in.Val.Version) {
				return true, s
			}
			return true, LinState{Known: true, Present: true, Val: in.Val, Tomb: s.Tomb, Loose: !s.Known || s.Loose}
		case out.Outcome == OutStored:
			if !versionOK(in.Val.Version) {
				return false, s
			}
			return true, LinState{Known: true, Present: true, Val: in.Val, Tomb: s.Tomb, Loose: !s.Known || s.Loose}
		case out.Outcome == OutNotStored:
			return !s.Known || s.Loose || in.Val.Version < s.Tomb, s
		}
		return false, s
	case LinDel:
		if out.Unknown() || out.Outcome == OutStored {
			return true, LinState{Known: true, Tomb: s.Tomb, Loose: !s.Known || s.Loose}
		}
		return false, s
	}
	return false, s
}

// RegistryStep is a registry entry's sequential specification: a read
// returns the owner set and version of the last write.
func RegistryStep(state, input, output any) (bool, any) {
	s, ok1 := state.(LinState)
	in, ok2 := input.(LinIn)
	out, ok3 := output.(LinOut)
	if !ok1 || !ok2 || !ok3 {
		return false, state
	}
	switch in.Kind {
	case LinRegWrite:
		return true, LinState{Known: true, Present: true, Val: in.Val}
	case LinRegRead:
		if out.Unknown() || !s.Known {
			return true, s
		}
		return s.Present && s.Val.Owners == out.Val.Owners && s.Val.Version == out.Val.Version, s
	}
	return false, s
}

// HashLinState hashes a register state (porcupine's cache of visited
// states compares only states with equal hashes).
func HashLinState(state any) uint64 {
	s, ok := state.(LinState)
	if !ok {
		return 0
	}
	h := uint64(14695981039346656037)
	mix := func(v uint64) {
		h ^= v
		h *= 1099511628211
		h ^= h >> 29
	}
	var flags uint64
	if s.Known {
		flags |= 1
	}
	if s.Present {
		flags |= 2
	}
	if s.Loose {
		flags |= 4
	}
	mix(flags)
	mix(uint64(s.Val.Device))
	mix(uint64(s.Val.Version))
	mix(uint64(s.Tomb))
	mix(uint64(s.Val.Owners.N))
	for _, a := range s.Val.Owners.IDs {
		mix(uint64(a))
	}
	return h
}

// InitLinState is a register at the start of a run: known and empty.
func InitLinState() any { return LinState{Known: true} }

// linPartition splits a history by the key each operation's Metadata names
// (a LinKey), keeping the order within each key.
func linPartition(history []porcupine.Operation) [][]porcupine.Operation {
	idx := map[uint64]int{}
	var out [][]porcupine.Operation
	for _, op := range history {
		k := uint64(0)
		if m, ok := op.Metadata.(LinMeta); ok {
			k = m.Key
		}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], op)
	}
	return out
}

// LinMeta is the metadata the checker attaches to an operation: its key,
// where it comes from and how to name it.
type LinMeta struct {
	Key  uint64
	Line int
	Name string // e.g. "worker3 conn 4 gen 1 tok 2"
	// Unknown: the caller never learnt the result.
	Unknown bool
}

// CacheModel is the porcupine model of the cache, partitioned by key.
func CacheModel() porcupine.Model {
	return porcupine.Model{
		Partition: linPartition,
		Init:      InitLinState,
		Step:      CacheStep,
		Hash:      HashLinState,
		Equal:     func(a, b any) bool { return a == b },
		DescribeOperation: func(input, output any) string {
			return DescribeLinOp(input, output)
		},
		DescribeState: DescribeLinState,
		DescribeOperationMetadata: func(info any) string {
			if m, ok := info.(LinMeta); ok {
				return m.Name
			}
			return ""
		},
	}
}

// RegistryModel is the porcupine model of the registry, partitioned by device.
func RegistryModel() porcupine.Model {
	m := CacheModel()
	m.Step = RegistryStep
	return m
}

// DescribeLinOp names an operation and its outcome for people.
func DescribeLinOp(input, output any) string {
	in, _ := input.(LinIn)
	out, _ := output.(LinOut)
	res := out.Outcome.String()
	if out.Unknown() {
		res = out.Outcome.String() + " (unknown result)"
	}
	switch in.Kind {
	case LinGet:
		if out.Outcome == OutHit {
			return "get → hit " + describeVal(out.Val)
		}
		return "get → " + res
	case LinSet:
		return "set " + describeVal(in.Val) + " → " + res
	case LinDel:
		return "del → " + res
	case LinRestart:
		return "cache restart (all keys gone)"
	case LinInvalidate:
		return fmt.Sprintf("invalidate (tombstone v%d)", in.Val.Version)
	case LinRegWrite:
		return fmt.Sprintf("write owners %v v%d", in.Val.Owners, in.Val.Version)
	case LinRegRead:
		if out.Unknown() {
			return "read → " + res
		}
		return fmt.Sprintf("read → owners %v v%d", out.Val.Owners, out.Val.Version)
	}
	return in.Kind.String()
}

func describeVal(v CacheValue) string {
	return fmt.Sprintf("{dev %d, owners %v, v%d}", v.Device, v.Owners, v.Version)
}

// DescribeLinState names a register state.
func DescribeLinState(state any) string {
	s, _ := state.(LinState)
	switch {
	case !s.Known:
		return "unknown"
	case !s.Present && s.Tomb > 0:
		return fmt.Sprintf("empty (tombstone v%d)", s.Tomb)
	case !s.Present:
		return "empty"
	}
	return describeVal(s.Val)
}
