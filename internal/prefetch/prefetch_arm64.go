package prefetch

import "unsafe"

// Line starts loading the cache line holding p (PRFM PLDL1KEEP); p may be nil.
//
//go:noescape
func Line(p unsafe.Pointer)
