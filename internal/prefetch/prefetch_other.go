//go:build !amd64 && !arm64

package prefetch

import "unsafe"

// Line does nothing here: no prefetch instruction is wired for this processor.
func Line(p unsafe.Pointer) {}
