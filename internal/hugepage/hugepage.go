// Package hugepage asks the kernel to back large tables with huge pages
// (2 MiB on amd64 and arm64): a hint, with no effect on what a program
// computes. A simulation of 10M cameras reads gigabytes of tables at
// random; with 4 KiB pages nearly every one of those reads also misses the
// TLB, and the page walk costs as much as the read. Linux only (where
// transparent huge pages are "madvise", the default of many
// distributions, a program gets them only by asking); elsewhere, plain
// memory.
package hugepage

import "unsafe"

// Size is the huge page size the hint aims at.
const Size = 2 << 20

// Make is make([]T, n), with the slice's whole huge pages advised before
// anything touches them (a fresh large allocation is not yet backed, so
// its first touch then takes a huge page). Meant for large flat tables;
// slices under two huge pages are plain.
func Make[T any](n int) []T {
	s := make([]T, n)
	Advise(s)
	return s
}

// Clone is a copy of s in memory advised as by Make: for a table built
// elsewhere (the copy's first touch takes the huge pages).
func Clone[T any](s []T) []T {
	c := Make[T](len(s))
	copy(c, s)
	return c
}

// Grow returns s with room for at least one more element: s itself if it
// has room, else a copy with twice the capacity (at least `least`) in memory
// advised as by Make. For tables that grow by append.
func Grow[T any](s []T, least int) []T {
	if len(s) < cap(s) {
		return s
	}
	c := Make[T](max(2*cap(s), least))
	return c[:copy(c, s)]
}

// Advise hints that the whole huge pages inside s's memory be huge pages.
func Advise[T any](s []T) {
	if len(s) == 0 {
		return
	}
	n := uintptr(len(s)) * unsafe.Sizeof(s[0])
	if n < 2*Size {
		return
	}
	advise(unsafe.Pointer(unsafe.SliceData(s)), n)
}

// inner is the run of whole huge pages inside [p, p+n): its offset from p
// and its length (0 when none fits). The advice never reaches beyond the
// slice it is given.
func inner(p, n uintptr) (off, length uintptr) {
	off = (Size - p%Size) % Size // to the first huge page boundary
	if n < off+Size {
		return 0, 0
	}
	return off, (n - off) &^ (Size - 1)
}
