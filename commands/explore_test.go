package commands

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// explore on the default configuration finds the naive pool's shortest
// counterexample, writes it as a trace that check and render accept.
func TestExploreNaiveCounterexampleRendered(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := runCLI(t, dir, "explore", "--out", "res")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"states generated", "distinct states", "depth              15", "distinct states/s",
		"violated: NoForeignDelivery", "shortest counterexample: 15 steps", "fires before its answer arrives"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	run := latestRun(t, filepath.Join(dir, "res"))
	if want := filepath.Join(dir, "res", "small-explore-naive-pool"); run != want {
		t.Errorf("run directory %s, want %s", run, want)
	}
	trace := filepath.Join(run, "counterexample.jsonl")
	var sum struct {
		Verdict  string   `json:"verdict"`
		Distinct uint64   `json:"distinct_states"`
		Steps    []string `json:"counterexample"`
	}
	b, err := os.ReadFile(filepath.Join(run, "explore.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil || len(sum.Steps) != 15 || !strings.HasPrefix(sum.Verdict, "violated") {
		t.Fatalf("explore.json: %v %+v", err, sum)
	}
	out, errOut, code = runCLI(t, dir, "check", trace, "--out", "check")
	if code != 1 || !strings.Contains(out, "NoForeignDelivery      VIOLATED") {
		t.Errorf("check: exit %d\n%s%s", code, out, errOut)
	}
	for _, f := range []string{"timeline", "mermaid"} {
		out, errOut, code = runCLI(t, dir, "render", trace, "--format", f)
		if code != 0 || !strings.Contains(out, "step 15") {
			t.Errorf("render %s: exit %d\n%s%s", f, code, out, errOut)
		}
	}
	// Same input, same files.
	first, _ := os.ReadFile(trace)
	if _, _, code := runCLI(t, dir, "explore", "--out", "res"); code != 1 {
		t.Fatal("second run differs")
	}
	second, _ := os.ReadFile(trace)
	if string(first) != string(second) {
		t.Error("the counterexample trace is not byte-identical across runs")
	}
}

func TestExploreSafeAndBounded(t *testing.T) {
	dir := t.TempDir()
	// A violating search leaves a counterexample in its own directory; a
	// clean search of another design has none, and leaves the first's.
	if _, _, code := runCLI(t, dir, "explore", "--out", "res"); code != 1 {
		t.Fatal("naive run did not fail")
	}
	naive := latestRun(t, filepath.Join(dir, "res"))
	out, errOut, code := runCLI(t, dir, "explore", "--mitigate", "bypass-cache-ownership", "--out", "res")
	if code != 0 || !strings.Contains(out, "complete: no violation in 65488 states") || !strings.Contains(out, "reduction ×") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	clean := latestRun(t, filepath.Join(dir, "res"))
	if _, err := os.Stat(filepath.Join(clean, "counterexample.jsonl")); !os.IsNotExist(err) || clean == naive {
		t.Errorf("the clean search's directory %s holds a counterexample (%v)", clean, err)
	}
	if _, err := os.Stat(filepath.Join(naive, "counterexample.jsonl")); err != nil {
		t.Errorf("the naive search's counterexample is gone: %v", err)
	}
	out, _, code = runCLI(t, dir, "explore", "--client", "tagged", "--max-states", "1000", "--out", "res")
	// A bounded search without a violation is incomplete: exit 3.
	if code != 3 || !strings.Contains(out, "bounded at depth") || !strings.Contains(out, "1000 states (max-states)") || strings.Contains(out, "complete") {
		t.Errorf("bounded run: exit %d\n%s", code, out)
	}
	out, _, code = runCLI(t, dir, "explore", "--client", "tagged", "--max-depth", "5", "--out", "res")
	if code != 3 || !strings.Contains(out, "bounded at depth 5") {
		t.Errorf("depth-bounded run: exit %d\n%s", code, out)
	}
}

// A search --max-mem stops holds its peak memory (the process's peak RSS)
// within a tenth of the bound, and exits 3: not a complete search. Checked
// on the default world and on a bigger one, whose levels hold more
// duplicate successors per new state.
func TestExploreMaxMemHolds(t *testing.T) {
	for _, c := range []struct {
		args  []string
		bound uint64
	}{
		{[]string{"explore", "--client", "tagged", "--max-mem", "64MiB"}, 64 << 20},
		{[]string{"explore", repoFile(t, "docs/smallworld/four-three-two.yaml"), "--client", "tagged", "--max-mem", "160MiB"}, 160 << 20},
	} {
		if testing.Short() && c.bound > 64<<20 {
			continue
		}
		peak := maxMemPeak(t, c.args)
		if peak == 0 {
			t.Skip("no /proc/PID/status VmHWM on this system")
		}
		if peak > c.bound*11/10 {
			t.Errorf("%v: peak RSS %d bytes, more than a tenth above --max-mem %d", c.args, peak, c.bound)
		}
		t.Logf("%v: peak RSS %d bytes (%.0f %%)", c.args, peak, 100*float64(peak)/float64(c.bound))
	}
}

// maxMemPeak runs the command, which must stop at its memory bound, and
// returns its peak RSS.
func maxMemPeak(t *testing.T, args []string) uint64 {
	t.Helper()
	cmd := exec.Command(binary, append(args, "--out", "res")...)
	cmd.Dir = t.TempDir()
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The process's own high-water mark, read while it runs: its rusage
	// would also count the test process, whose memory a child shares until
	// it executes the binary.
	var peak uint64
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
poll:
	for {
		if b, rerr := os.ReadFile(status); rerr == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if f := strings.Fields(l); len(f) == 3 && f[0] == "VmHWM:" {
					kb, _ := strconv.ParseUint(f[1], 10, 64)
					peak = max(peak, kb<<10)
				}
			}
		}
		select {
		case err = <-done:
			break poll
		case <-time.After(time.Millisecond):
		}
	}
	var xe *exec.ExitError
	if !errors.As(err, &xe) || xe.ExitCode() != 3 || !strings.Contains(out.String(), "(max-mem)") {
		t.Fatalf("%v: %v\n%s", args, err, out.String())
	}
	return peak
}

func TestExploreBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\naccounts: 2   # assumed\nplanets: 3   # assumed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"explore", "nonesuch"}, "unknown explorer configuration"},
		{[]string{"explore", bad}, "bad.yaml:3: planets: unknown field"},
		{[]string{"explore", "--client", "psychic"}, "--client: unknown cache client"},
		{[]string{"explore", "--mitigate", "prayer"}, "--mitigate: unknown mitigation"},
		{[]string{"explore", "--max-mem", "lots"}, "--max-mem: want a size"},
		{[]string{"explore", "--max-depth", "-1"}, "--max-depth: must be ≥ 0"},
		{[]string{"explore", "small", "transfer"}, "one configuration at a time"},
	} {
		out, errOut, code := runCLI(t, dir, tc.args...)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit 2 and one line with %q", tc.args, code, errOut, out, tc.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("bad input left files behind: %v", entries)
	}
}

// repoFile is the absolute path of a file of the repository (the tests run
// the binary in a temporary directory).
func repoFile(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// --reduce: the same verdict and the same (shortest) counterexample trace,
// byte for byte after the header; its own output directory; explore.json
// says the search was reduced and what the plain search to the
// counterexample's length stored; a clean design is still proved.
func TestExploreReduce(t *testing.T) {
	dir := t.TempDir()
	if _, _, code := runCLI(t, dir, "explore", "--out", "res"); code != 1 {
		t.Fatal("naive run did not fail")
	}
	plain := latestRun(t, filepath.Join(dir, "res"))
	out, errOut, code := runCLI(t, dir, "explore", "--reduce", "--out", "res")
	if code != 1 || !strings.Contains(out, "reduction          partial-order") || !strings.Contains(out, "shortest counterexample: 15 steps") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	reduced := latestRun(t, filepath.Join(dir, "res"))
	if reduced == plain || !strings.Contains(filepath.Base(reduced), "reduce") {
		t.Errorf("the reduced search wrote into %s (the plain one into %s)", reduced, plain)
	}
	body := func(d string) string {
		b, err := os.ReadFile(filepath.Join(d, "counterexample.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		_, rest, _ := strings.Cut(string(b), "\n") // the header names the options
		return rest
	}
	if body(plain) != body(reduced) {
		t.Error("the counterexample differs with --reduce")
	}
	js, err := os.ReadFile(filepath.Join(reduced, "explore.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"partial_order_reduction": true`) || !strings.Contains(string(js), `"shortest_search_states": 4429`) ||
		!strings.Contains(string(js), "--reduce") {
		t.Errorf("explore.json:\n%s", js)
	}
	out, _, code = runCLI(t, dir, "explore", "--reduce", "--mitigate", "bypass-cache-ownership", "--out", "res")
	if code != 0 || !strings.Contains(out, "complete: no violation") {
		t.Errorf("exit %d\n%s", code, out)
	}
}
