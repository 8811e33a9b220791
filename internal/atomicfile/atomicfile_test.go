package atomicfile

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// The temporary files of a process that is gone are removed; those of a
// running process, and files that are not temporary files, are kept.
func TestCleanStale(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true(1):", err)
	}
	dead := cmd.Process.Pid // exited and reaped
	names := map[string]bool{
		".trace.jsonl.tmp" + strconv.Itoa(dead) + "-123":       false,
		".summary.json.tmp" + strconv.Itoa(dead) + "-9":        false,
		".trace.jsonl.tmp" + strconv.Itoa(os.Getpid()) + "-77": true,
		"trace.jsonl":   true,
		".tmp":          true,
		".notes.tmpx-1": true,
		".series.json.tmp" + strconv.Itoa(os.Getpid()) + "-1.bak": true,
	}
	for n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := CleanStale(dir); err != nil {
		t.Fatal(err)
	}
	for n, keep := range names {
		_, err := os.Stat(filepath.Join(dir, n))
		if kept := err == nil; kept != keep {
			t.Errorf("%s: kept %v, want %v", n, kept, keep)
		}
	}
	f, err := Create(filepath.Join(dir, "x.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	if pid, ok := tempOwner(filepath.Base(f.Name())); !ok || pid != os.Getpid() {
		t.Errorf("%s: owner %d %v", f.Name(), pid, ok)
	}
}
