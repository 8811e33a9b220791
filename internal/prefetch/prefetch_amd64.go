package prefetch

import "unsafe"

// Line starts loading the cache line holding p (PREFETCHT0); p may be nil.
//
//go:noescape
func Line(p unsafe.Pointer)
