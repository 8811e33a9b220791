package hugepage

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

func advise(p unsafe.Pointer, n uintptr) {
	off, whole := inner(uintptr(p), n)
	if whole == 0 {
		return
	}
	// An error (a kernel without transparent huge pages, or with them
	// "never") leaves the memory as it was: this is only a hint.
	_ = unix.Madvise(unsafe.Slice((*byte)(unsafe.Add(p, off)), whole), unix.MADV_HUGEPAGE)
}
