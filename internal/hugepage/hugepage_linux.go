package hugepage

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

func advise(p unsafe.Pointer, n uintptr) {
	skip := (Size - uintptr(p)%Size) % Size // to the first huge page boundary
	if n < skip+Size {
		return
	}
	whole := (n - skip) &^ (Size - 1)
	// An error (a kernel without transparent huge pages, or with them
	// "never") leaves the memory as it was: this is only a hint.
	_ = unix.Madvise(unsafe.Slice((*byte)(unsafe.Add(p, skip)), whole), unix.MADV_HUGEPAGE)
}
