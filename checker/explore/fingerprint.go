package explore

import (
	"encoding/binary"
	"math/bits"
)

// Fingerprint is the 64-bit hash that stands for a state in the visited
// set (hash compaction, as Spin's -DHC4 and TLC's fingerprints). Two
// distinct states collide with probability about n²/2⁶⁵ over n states:
// 3·10⁻⁶ for 10 million. It is a fixed function (wyhash-style mixing), so
// results are the same on every run and machine.
func Fingerprint(b []byte) uint64 {
	const (
		p0 = 0xa0761d6478bd642f
		p1 = 0xe7037ed1a0b428db
		p2 = 0x8ebc6af09c88c6e3
		p3 = 0x589965cc75374cc3
	)
	n := uint64(len(b))
	h := n*p0 ^ p3
	for len(b) >= 16 {
		h = mum(binary.LittleEndian.Uint64(b)^p1, binary.LittleEndian.Uint64(b[8:])^h)
		b = b[16:]
	}
	var a, c uint64
	switch {
	case len(b) >= 8:
		a = binary.LittleEndian.Uint64(b)
		b = b[8:]
		for i, x := range b {
			c |= uint64(x) << (8 * i)
		}
	default:
		for i, x := range b {
			a |= uint64(x) << (8 * i)
		}
	}
	h = mum(a^p2, c^h)
	return mum(h^p1, n^p0)
}

func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// fpSet is an open-addressing set of fingerprints (linear probing). Zero
// marks an empty slot, so the fingerprint 0 is stored as 1. Inserts happen
// between levels on one goroutine; lookups during a level from many.
type fpSet struct {
	slots []uint64
	shift uint
	n     int
}

func newFPSet(size int) *fpSet {
	s := &fpSet{}
	s.alloc(size)
	return s
}

func (s *fpSet) alloc(size int) {
	s.slots = bigSlice[uint64](size)
	s.shift = uint(64 - bits.Len(uint(size-1)))
}

func (s *fpSet) has(fp uint64) bool {
	if fp == 0 {
		fp = 1
	}
	mask := uint64(len(s.slots) - 1)
	for i := fp >> s.shift; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case fp:
			return true
		case 0:
			return false
		}
	}
}

// reserve grows the table so that n fingerprints fit.
func (s *fpSet) reserve(n int) {
	if n*3 <= len(s.slots)*2 {
		return
	}
	size := len(s.slots)
	for n*3 > size*2 {
		size *= 2
	}
	old := s.slots
	s.alloc(size)
	for _, v := range old {
		if v != 0 {
			s.put(v)
		}
	}
	freeSlice(old)
}

// insert adds fp and reports whether it was new.
func (s *fpSet) insert(fp uint64) bool {
	if fp == 0 {
		fp = 1
	}
	s.reserve(s.n + 1)
	if s.put(fp) {
		s.n++
		return true
	}
	return false
}

func (s *fpSet) put(fp uint64) bool {
	mask := uint64(len(s.slots) - 1)
	for i := fp >> s.shift; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case fp:
			return false
		case 0:
			s.slots[i] = fp
			return true
		}
	}
}
