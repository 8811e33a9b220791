package explore

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// Every test of the package runs with freed buffers poisoned: a use after
// free anywhere in a search faults and fails the test.
func TestMain(m *testing.M) {
	poisonFreed = true
	os.Exit(m.Run())
}

// The rule the allocator relies on is checked, not hoped for: reading a
// freed buffer faults (run in a child process, which the fault kills).
func TestUseAfterFreeFaults(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("buffers are heap slices elsewhere")
	}
	if os.Getenv("STORMPROOF_USE_AFTER_FREE") == "1" {
		s := bigSlice[uint64](1 << 16) // 512 KiB: mapped, not from the heap
		s[7] = 42
		freeSlice(s)
		println("read after free:", s[7])
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestUseAfterFreeFaults$")
	cmd.Env = append(os.Environ(), "STORMPROOF_USE_AFTER_FREE=1")
	out, err := cmd.CombinedOutput()
	if err == nil || strings.Contains(string(out), "read after free") || !strings.Contains(string(out), "fault") {
		t.Fatalf("a read of a freed buffer did not fault (err %v):\n%s", err, out)
	}
}

// Buffers below the mapping threshold are heap slices; freeing one, or
// freeing twice, does nothing.
func TestFreeSmallAndTwice(t *testing.T) {
	count := func() int {
		mappedMu.Lock()
		defer mappedMu.Unlock()
		return len(mapped)
	}
	before := count()
	small := bigSlice[uint64](16)
	freeSlice(small)
	small[0] = 1 // a heap slice: still valid
	big := bigSlice[uint64](1 << 16)
	freeSlice(big)
	freeSlice(big) // no longer mapped: a no-op, not a second unmap
	if n := count(); n != before {
		t.Errorf("%d buffers recorded as mapped, %d before", n, before)
	}
}
