package explore

import (
	"sync"
	"unsafe"
)

var (
	mappedMu sync.Mutex
	mapped   = map[*byte]bool{}
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

// slab hands out pieces of large populated regions to the chunk buffers,
// which grow often and live until the search ends: one mapping per 32 MiB
// instead of a map and an unmap per growth. Pieces are given back all at
// once by free.
type slab struct {
	mu     sync.Mutex
	cur    []byte
	blocks [][]byte
	size   uint64
}

func (s *slab) take(n int) []byte {
	n = (n + 7) &^ 7 // pieces stay 8-byte aligned
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cur) < n {
		size := max(n, 32<<20)
		b := bigSlice[byte](size)
		s.blocks = append(s.blocks, b)
		s.size += uint64(size)
		s.cur = b
	}
	p := s.cur[:n:n]
	s.cur = s.cur[n:]
	return p
}

func (s *slab) free() {
	for _, b := range s.blocks {
		freeSlice(b)
	}
	s.blocks, s.cur, s.size = nil, nil, 0
}

// slabGrow returns v with room for extra more values, moved to a new piece
// of s (twice the need) when it is full; the old piece is not reused.
func slabGrow[T any](s *slab, v []T, extra int) []T {
	if len(v)+extra <= cap(v) {
		return v
	}
	var z T
	size := int(unsafe.Sizeof(z))
	n := 2 * (len(v) + extra)
	b := s.take(n * size)
	t := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)[:len(v)]
	copy(t, v)
	return t
}
