package atomicfile

import (
	"fmt"
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

// A directory filled with CreateDir replaces the one at its path whole: the
// old one's files (and subdirectories) go, nothing temporary is left, and
// an aborted one leaves the old one as it was.
func TestDirReplacesWhole(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "run")
	fill := func(files ...string) *Dir {
		d, err := CreateDir(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if err := os.MkdirAll(filepath.Dir(d.Join(f)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(d.Join(f), []byte(f), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return d
	}
	list := func() []string {
		var got []string
		filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				r, _ := filepath.Rel(root, p)
				got = append(got, r)
			}
			return nil
		})
		return got
	}
	for _, c := range []struct {
		files []string
		abort bool
		want  string
	}{
		{[]string{"trace.jsonl", "check/timeline.txt"}, false, "[run/check/timeline.txt run/trace.jsonl]"},
		{[]string{"summary.json"}, false, "[run/summary.json]"},
		{[]string{"trace.jsonl"}, true, "[run/summary.json]"},
	} {
		d := fill(c.files...)
		if c.abort {
			d.Abort()
		} else if err := d.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(list()); got != c.want {
			t.Errorf("after %v (abort %v): %s, want %s", c.files, c.abort, got, c.want)
		}
	}
	// A killed process's directory is removed by CleanStale.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true(1):", err)
	}
	stale := filepath.Join(root, ".run.tmp"+strconv.Itoa(cmd.Process.Pid)+"-5")
	os.MkdirAll(filepath.Join(stale, "check"), 0o755)
	if _, err := CleanStale(root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a killed process's directory is still there: %v", err)
	}
}

// Symlink replaces a link in one step.
func TestSymlinkReplaces(t *testing.T) {
	root := t.TempDir()
	link := filepath.Join(root, "latest")
	for _, target := range []string{"a", "b"} {
		if err := Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		if got, err := os.Readlink(link); err != nil || got != target {
			t.Errorf("latest -> %q (%v), want %q", got, err, target)
		}
	}
	if es, _ := os.ReadDir(root); len(es) != 1 {
		t.Errorf("%d entries, want only latest", len(es))
	}
}
