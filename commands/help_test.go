package commands

import (
	"os"
	"path/filepath"
	"runtime"
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

// run --trace none writes no trace (a previous run of the same
// configuration's goes with its other outputs) and suggests no command that
// would need one.
func TestRunTraceNoneWritesNoTrace(t *testing.T) {
	root := t.TempDir()
	runTrace(t, root)
	stdout, stderr, code := sp(t, "run", "--scale", "0.1", "--trace", "none", "--out", root)
	if code != 1 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	dir := latestRun(t, root)
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

// flagHelp is the help text of flag --name of command cmd ("" if it has none).
func flagHelp(t *testing.T, cmd, name string) string {
	t.Helper()
	help, _, code := sp(t, "help", cmd)
	if code != 0 {
		t.Fatalf("help %s: exit %d", cmd, code)
	}
	lines := strings.Split(help, "\n")
	for i, l := range lines {
		if l == "  --"+name || strings.HasPrefix(l, "  --"+name+" ") {
			if i+1 < len(lines) {
				return l + "\n" + lines[i+1]
			}
			return l
		}
	}
	return ""
}

// One meaning per flag: --out is a directory in every command that has it;
// a command writing one file takes --output FILE; --out given to one of
// those is refused with the flag it meant.
func TestOutIsADirectoryEverywhere(t *testing.T) {
	outs := 0
	for _, c := range commands {
		if h := flagHelp(t, c.name, "out"); h != "" {
			outs++
			if !strings.Contains(h, "DIR") && !strings.Contains(h, "directory") {
				t.Errorf("%s --out is not a directory:\n%s", c.name, h)
			}
		}
		if h := flagHelp(t, c.name, "output"); h != "" && !strings.Contains(h, "--output FILE") {
			t.Errorf("%s --output does not take a FILE:\n%s", c.name, h)
		}
	}
	if outs < 5 {
		t.Errorf("only %d commands have --out", outs)
	}
	for _, cmd := range []string{"render", "report", "matrix"} {
		if flagHelp(t, cmd, "output") == "" {
			t.Errorf("%s has no --output", cmd)
		}
		if flagHelp(t, cmd, "out") != "" {
			t.Errorf("%s still has --out", cmd)
		}
		_, stderr, code := sp(t, cmd, "x", "--out", "y")
		if code != 2 || !strings.Contains(stderr, "unknown flag --out (did you mean --output?)") {
			t.Errorf("%s --out: exit %d, %q", cmd, code, stderr)
		}
	}
	// render --output writes what render prints.
	trace := sharedTrace(t, "naive-pool")
	printed, _, _ := sp(t, "render", trace, "--format", "mermaid")
	out := filepath.Join(t.TempDir(), "story.mmd")
	if _, stderr, code := sp(t, "render", trace, "--format", "mermaid", "--output", out); code != 0 {
		t.Fatalf("render --output: exit %d: %s", code, stderr)
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != printed || printed == "" {
		t.Errorf("render --output wrote %d bytes (%v), it prints %d", len(b), err, len(printed))
	}
}

// Every command that runs work at once (--jobs) has the same default: the
// number of CPUs Go schedules on.
func TestJobsDefaultIsTheSame(t *testing.T) {
	want := "(default: the number of CPUs)"
	n := 0
	for _, c := range commands {
		h := flagHelp(t, c.name, "jobs")
		if h == "" {
			continue
		}
		n++
		if !strings.Contains(h, want) || strings.Contains(h, "(default 2)") {
			t.Errorf("%s --jobs: %q, want the default %s", c.name, h, want)
		}
	}
	if n < 2 {
		t.Errorf("only %d commands have --jobs", n)
	}
	if defaultJobs() != runtime.GOMAXPROCS(0) {
		t.Errorf("defaultJobs() = %d, want GOMAXPROCS %d", defaultJobs(), runtime.GOMAXPROCS(0))
	}
}
