package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Help follows the conventions: stormproof --help and stormproof help CMD
// print to stdout and exit 0; CMD --help is the same as help CMD; flags are
// shown as --name; no command is a usage error on stderr (exit 2); an
// unknown flag or command names the nearest one.
func TestHelpConventions(t *testing.T) {
	stdout, stderr, code := sp(t, "--help")
	if code != 0 || stderr != "" || !strings.Contains(stdout, "commands:") || !strings.Contains(stdout, "version") {
		t.Errorf("--help: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if stdout, stderr, code := sp(t); code != 2 || stdout != "" || !strings.Contains(stderr, "commands:") {
		t.Errorf("no command: exit %d, stdout %q", code, stdout)
	}
	for _, c := range commands {
		help, stderr, code := sp(t, "help", c.name)
		if code != 0 || stderr != "" || !strings.HasPrefix(help, "usage: stormproof "+c.name) {
			t.Errorf("help %s: exit %d, stderr %q, stdout %q", c.name, code, stderr, help)
			continue
		}
		if strings.Contains(help, "\n  -") && !strings.Contains(help, "\n  --") {
			t.Errorf("help %s shows flags with one dash:\n%s", c.name, help)
		}
		if again, _, _ := sp(t, c.name, "--help"); again != help {
			t.Errorf("%s --help differs from help %s", c.name, c.name)
		}
		// Every flag the command defines is in its usage line.
		synopsis, _, _ := strings.Cut(help, "\n\nflags:")
		for _, l := range strings.Split(help, "\n") {
			if name, ok := strings.CutPrefix(l, "  --"); ok {
				name, _, _ = strings.Cut(name, " ")
				if !strings.Contains(synopsis, "--"+name) {
					t.Errorf("%s: --%s is not in the usage line %q", c.name, name, synopsis)
				}
			}
		}
	}
	if _, stderr, code := sp(t, "run", "--sede", "3"); code != 2 || !strings.Contains(stderr, "did you mean --seed?") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("unknown flag: exit %d, %q", code, stderr)
	}
	if _, stderr, code := sp(t, "chek"); code != 2 || !strings.Contains(stderr, "did you mean check?") {
		t.Errorf("unknown command: exit %d, %q", code, stderr)
	}
}

// run --trace none writes no trace (a previous run's goes with its other
// outputs) and suggests no command that would need one.
func TestRunTraceNoneWritesNoTrace(t *testing.T) {
	dir := t.TempDir()
	runTrace(t, dir)
	stdout, stderr, code := sp(t, "run", "--scale", "0.1", "--trace", "none", "--out", dir)
	if code != 1 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "trace.jsonl")); !os.IsNotExist(err) {
		t.Errorf("a trace.jsonl is left beside a run that wrote none: %v", err)
	}
	if strings.Contains(stdout, "trace.jsonl") {
		t.Errorf("the output names a trace that was not written:\n%s", stdout)
	}
	for _, f := range []string{"summary.json", "series.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
