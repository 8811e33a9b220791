package explore

import (
	"sync"
	"unsafe"
)

// The search's large buffers (the fingerprint table, the per-state arrays,
// the frontier) are mapped outside the Go heap and given back the moment
// they are replaced: a complete search of the default configuration peaks
// at about half the memory it needs with heap slices, which the garbage
// collector returns only later. The price is a manual free; the rule is
// that a slice given to freeSlice (or replaced by growBig) is never touched
// again. Tests keep the rule checked: with poisonFreed, a freed buffer is
// made inaccessible and its addresses are never reused, so any use after
// free faults at once instead of reading a later buffer.
var (
	mappedMu    sync.Mutex
	mapped      = map[*byte]bool{}
	poisonFreed bool
)

// bigSlice returns a zeroed slice of n pointer-free values from mapPopulated.
func bigSlice[T any](n int) []T {
	var z T
	size := int(unsafe.Sizeof(z))
	if n*size < 1<<16 {
		return make([]T, n)
	}
	mappedMu.Lock()
	b := mapPopulated(n * size)
	mappedMu.Unlock()
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// freeSlice gives a bigSlice back.
func freeSlice[T any](s []T) {
	if cap(s) == 0 {
		return
	}
	var z T
	s = s[:cap(s)]
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(z)))
	mappedMu.Lock()
	unmap(b)
	mappedMu.Unlock()
}

// growBig returns s with room for extra more values, moving it to a larger
// bigSlice (twice the need) when it is full.
func growBig[T any](s []T, extra int) []T {
	if len(s)+extra <= cap(s) {
		return s
	}
	n := 2 * (len(s) + extra)
	t := bigSlice[T](n)[:len(s)]
	copy(t, s)
	freeSlice(s)
	return t
}
