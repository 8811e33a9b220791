package explore

import (
	"syscall"
	"unsafe"
)

// mapPopulated returns n zeroed bytes the kernel maps in at once. On the
// virtual machines this runs on, touching fresh anonymous memory page by
// page costs tens of microseconds a page; MAP_POPULATE maps a whole region
// in one call, some 30 times faster. Large buffers of the search (the
// fingerprint table, the per-state arrays, the frontier) come from here and
// are given back with unmap.
func mapPopulated(n int) []byte {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_ANON|syscall.MAP_PRIVATE|syscall.MAP_POPULATE)
	if err != nil {
		return make([]byte, n)
	}
	mapped[unsafe.SliceData(b)] = true
	return b
}

// unmap releases a buffer from mapPopulated (a no-op for heap buffers).
func unmap(b []byte) {
	b = b[:cap(b)]
	if len(b) == 0 || !mapped[unsafe.SliceData(b)] {
		return
	}
	delete(mapped, unsafe.SliceData(b))
	if poisonFreed {
		// Still mapped, so the addresses stay taken, but with no access and
		// no pages: a test process running many searches does not keep them.
		_ = syscall.Madvise(b, syscall.MADV_DONTNEED)
		_ = syscall.Mprotect(b, syscall.PROT_NONE)
		return
	}
	_ = syscall.Munmap(b)
}
