package commands

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestRunDirNames(t *testing.T) {
	for _, c := range []struct {
		parts []string
		want  string
	}{
		{[]string{"wyze-2024-02", "seed1", "naive-pool"}, "wyze-2024-02-seed1-naive-pool"},
		{[]string{"wyze-2024-02", "seed7", "tagged+key-in-value,jittered-backoff", "scale0.1"}, "wyze-2024-02-seed7-tagged+key-in-value+jittered-backoff-scale0.1"},
		{[]string{"my scenario/../x", "", "seed1"}, "my-scenario-..-x-seed1"},
		{[]string{"..", "seed1"}, "seed1"},
		{[]string{"latest"}, "run-latest"},
		{[]string{"", "/"}, "run-"},
	} {
		if got := runName(c.parts...); got != c.want {
			t.Errorf("runName(%q) = %q, want %q", c.parts, got, c.want)
		}
	}
	for _, c := range []struct{ arg, want string }{
		{"wyze-2024-02", "wyze-2024-02"},
		{"sim/scenarios/wyze-2024-02.yaml", "wyze-2024-02"},
		{"./my.yaml", "my"},
	} {
		if got := scenarioPart(c.arg); got != c.want {
			t.Errorf("scenarioPart(%q) = %q, want %q", c.arg, got, c.want)
		}
	}
}

// hintPaths are the paths a command's output names after "wrote", "in",
// "explain ... check" and "report".
var hintPaths = regexp.MustCompile(`(?m)(?:^wrote\s+.* in |^explain\s+stormproof check |^wrote\s+)(\S+?)(?: \(|$)`)

// Each run writes into its own directory under the output root, named from
// its configuration; runs of other configurations keep their outputs;
// latest points at the run that finished last; running a configuration
// again replaces its directory whole (the renders of its old trace go
// too); and what run prints names the real paths.
func TestRunsKeepTheirOutputs(t *testing.T) {
	root := t.TempDir()
	var dirs []string
	for _, seed := range []string{"1", "2"} {
		stdout, stderr, code := sp(t, "run", "--scale", "0.1", "--seed", seed, "--out", root)
		if code != 1 {
			t.Fatalf("seed %s: exit %d\n%s%s", seed, code, stdout, stderr)
		}
		dir := filepath.Join(root, "wyze-2024-02-seed"+seed+"-naive-pool-scale0.1")
		dirs = append(dirs, dir)
		if got := latestRun(t, root); got != dir {
			t.Errorf("after seed %s: latest is %s, want %s", seed, got, dir)
		}
		hints := hintPaths.FindAllStringSubmatch(stdout, -1)
		if len(hints) != 2 {
			t.Errorf("seed %s: %d paths named, want the run directory and its trace: %q", seed, len(hints), hints)
		}
		for _, m := range hints {
			if _, err := os.Stat(m[1]); err != nil {
				t.Errorf("seed %s: the output names %s: %v\n%s", seed, m[1], err, stdout)
			}
		}
		if !strings.Contains(stdout, "explain         stormproof check "+filepath.Join(dir, "trace.jsonl")+"\n") {
			t.Errorf("seed %s: explain does not name %s:\n%s", seed, filepath.Join(dir, "trace.jsonl"), stdout)
		}
	}
	for _, dir := range dirs {
		for _, f := range runFiles {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("%v", err)
			}
		}
	}
	// The explanation goes into the first run's directory.
	if _, stderr, code := sp(t, "check", filepath.Join(dirs[0], "trace.jsonl"), "--no-lin"); code != 1 {
		t.Fatalf("check: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dirs[0], "check", "timeline.txt")); err != nil {
		t.Fatal(err)
	}
	// Seed 1 again: its directory is replaced whole and latest follows.
	if _, stderr, code := sp(t, "run", "--scale", "0.1", "--seed", "1", "--trace", "none", "--out", root); code != 1 {
		t.Fatalf("seed 1 again: exit %d: %s", code, stderr)
	}
	if got := latestRun(t, root); got != dirs[0] {
		t.Errorf("latest is %s, want %s", got, dirs[0])
	}
	entries, _ := os.ReadDir(dirs[0])
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"series.json", "summary.json"}; !slices.Equal(names, want) {
		t.Errorf("seed 1 run again with --trace none holds %v, want %v (no trace, no renders of the old one)", names, want)
	}
	if _, err := os.Stat(filepath.Join(dirs[1], "trace.jsonl")); err != nil {
		t.Errorf("the seed 2 run lost its trace: %v", err)
	}
	entries, _ = os.ReadDir(root)
	if len(entries) != 3 {
		t.Errorf("the output root holds %d entries, want the two runs and latest", len(entries))
	}
}

// check writes its renders into the checked trace's own run directory
// (through the latest link, the directory it points at), never into
// another run's.
func TestCheckWritesBesideTheTrace(t *testing.T) {
	root := t.TempDir()
	runTrace(t, root)
	first := latestRun(t, root)
	runTrace(t, root, "--seed", "2")
	second := latestRun(t, root)
	stdout, stderr, code := sp(t, "check", filepath.Join(root, "latest", "trace.jsonl"), "--no-lin")
	if code != 1 {
		t.Fatalf("check: exit %d: %s", code, stderr)
	}
	if want := "wrote                  " + filepath.Join(second, "check", "timeline.txt") + "\n"; !strings.Contains(stdout, want) {
		t.Errorf("check does not name %q:\n%s", want, stdout)
	}
	if _, err := os.Stat(filepath.Join(second, "check", "timeline.txt")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(first, "check")); !os.IsNotExist(err) {
		t.Errorf("check of the second run wrote into the first's directory: %v", err)
	}
}
