package commands

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stormproof/stormproof/model"
)

// End-to-end tests of check, render, replay and matrix: the binary is built
// once and run as a user would, with small runs (--scale 0.1).

// sp runs the binary and returns stdout, stderr and the exit status.
func sp(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return spWith(t, nil, args...)
}

// spWith runs the binary with stdin (nil: none).
func spWith(t *testing.T, stdin io.Reader, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// runTrace simulates the default scenario at a tenth of its size.
func runTrace(t *testing.T, dir string, extra ...string) string {
	t.Helper()
	args := append([]string{"run", "--scale", "0.1", "--out", dir}, extra...)
	if _, stderr, code := sp(t, args...); code > 1 {
		t.Fatalf("run %v: exit %d: %s", extra, code, stderr)
	}
	return filepath.Join(latestRun(t, dir), "trace.jsonl")
}

// latestRun is the run directory root/latest points at.
func latestRun(t *testing.T, root string) string {
	t.Helper()
	name, err := os.Readlink(filepath.Join(root, "latest"))
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, name)
}

var judgeTraces sync.Map

// sharedTrace runs each client once for all tests.
func sharedTrace(t *testing.T, client string) string {
	if p, ok := judgeTraces.Load(client); ok {
		return p.(string)
	}
	dir, err := os.MkdirTemp(testRoot, "judge-"+client) // removed by TestMain
	if err != nil {
		t.Fatal(err)
	}
	p := runTrace(t, dir, "--client", client)
	judgeTraces.Store(client, p)
	return p
}

func TestCheckNaiveWritesFourRenders(t *testing.T) {
	trace := sharedTrace(t, "naive-pool")
	out := t.TempDir()
	stdout, stderr, code := sp(t, "check", trace, "--out", out)
	if code != 1 {
		t.Fatalf("check exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	for _, w := range []string{"NoForeignDelivery      VIOLATED", "CacheLinearizable      VIOLATED", "why "} {
		if !strings.Contains(stdout, w) {
			t.Errorf("output lacks %q:\n%s", w, stdout)
		}
	}
	for _, f := range []string{"timeline.txt", "slice.mmd", "perfetto.json", "porcupine.html"} {
		p := filepath.Join(out, f)
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v (%d bytes)", f, err, len(b))
			continue
		}
		if !strings.Contains(stdout, "wrote                  "+p) {
			t.Errorf("output does not say where %s was written", f)
		}
	}
	tl, _ := os.ReadFile(filepath.Join(out, "timeline.txt"))
	steps := regexp.MustCompile(`(?m)^[ ✗] *\d+  `).FindAll(tl, -1)
	if len(steps) == 0 || len(steps) > 15 {
		t.Errorf("timeline has %d steps, want 1..15:\n%s", len(steps), tl)
	}
	// It names the connection, the timed-out request and the misread reply.
	for _, re := range []string{`conn \d+`, `request tok \d+ \(GET \d+\) on conn \d+ times out`, `— the reply of tok \d+`} {
		if !regexp.MustCompile(re).Match(tl) {
			t.Errorf("timeline lacks %s:\n%s", re, tl)
		}
	}
	var pf struct{ TraceEvents []json.RawMessage }
	pb, _ := os.ReadFile(filepath.Join(out, "perfetto.json"))
	if err := json.Unmarshal(pb, &pf); err != nil || len(pf.TraceEvents) < 100 {
		t.Errorf("perfetto.json: %v, %d events", err, len(pf.TraceEvents))
	}
	mm, _ := os.ReadFile(filepath.Join(out, "slice.mmd"))
	if !bytes.HasPrefix(mm, []byte("sequenceDiagram\n")) || !bytes.Contains(mm, []byte("-x")) {
		t.Errorf("slice.mmd is not a sequence diagram with the violating arrow:\n%s", mm)
	}
}

func TestCheckSafeClientsExitZero(t *testing.T) {
	for _, c := range []string{"tagged", "discard-on-timeout"} {
		stdout, stderr, code := sp(t, "check", sharedTrace(t, c), "--out", t.TempDir())
		if code != 0 {
			t.Errorf("%s: check exit %d, want 0\n%s%s", c, code, stdout, stderr)
		}
		if !regexp.MustCompile(`CacheLinearizable +held \(\d+ keys, [1-9]\d* operations\)`).MatchString(stdout) {
			t.Errorf("%s: cache history not judged linearizable:\n%s", c, stdout)
		}
	}
}

func TestCheckHandWrittenTraces(t *testing.T) {
	// A cache history that is not linearizable is a diagnosis: it decides
	// the exit status only with --strict.
	for _, tc := range []struct {
		file  string
		flags []string
		want  int
	}{
		{"clean.jsonl", nil, 0}, {"foreign-delivery.jsonl", nil, 1}, {"misread.jsonl", nil, 1},
		{"nonlinearizable-cache.jsonl", nil, 0}, {"nonlinearizable-cache.jsonl", []string{"--strict"}, 1},
		{"clean.jsonl", []string{"--strict"}, 0},
	} {
		args := append([]string{"check", filepath.Join("..", "checker", "testdata", tc.file), "--out", t.TempDir()}, tc.flags...)
		stdout, stderr, code := sp(t, args...)
		if code != tc.want {
			t.Errorf("%s %v: exit %d, want %d\n%s%s", tc.file, tc.flags, code, tc.want, stdout, stderr)
		}
	}
}

func TestBadTracesExitTwoWithOneLine(t *testing.T) {
	dir := filepath.Join("..", "checker", "testdata", "bad")
	for file, line := range map[string]string{
		"truncated.jsonl": ":3: truncated line", "unknown-kind.jsonl": `:3: unknown event kind "teleport"`,
		"missing-header.jsonl": ":1: missing header", "unknown-major.jsonl": `:1: unsupported trace version "2.0"`,
		"out-of-order.jsonl": ":4: event at t=40 is before the previous event",
	} {
		for _, cmd := range [][]string{{"check"}, {"render", "--format", "timeline"}, {"render", "--format", "perfetto"}} {
			args := append(append([]string{}, cmd...), filepath.Join(dir, file))
			stdout, stderr, code := sp(t, args...)
			if code != 2 {
				t.Errorf("%v %s: exit %d, want 2", cmd, file, code)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, file+line) {
				t.Errorf("%v %s: stderr %q, want one line with %q", cmd, file, stderr, file+line)
			}
			if stdout != "" {
				t.Errorf("%v %s: wrote %q to stdout", cmd, file, stdout)
			}
		}
	}
	if _, stderr, code := sp(t, "check", filepath.Join(dir, "no-such-file.jsonl")); code != 2 || !strings.Contains(stderr, "no such file") {
		t.Errorf("missing file: exit %d, %q", code, stderr)
	}
}

func TestRenderFormats(t *testing.T) {
	trace := sharedTrace(t, "naive-pool")
	dir := t.TempDir()
	for _, f := range []string{"timeline", "mermaid", "perfetto", "porcupine"} {
		out := filepath.Join(dir, "r."+f)
		_, stderr, code := sp(t, "render", trace, "--format", f, "--output", out)
		if code != 0 {
			t.Fatalf("render %s: exit %d: %s", f, code, stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil || len(b) == 0 {
			t.Fatalf("render %s: %v", f, err)
		}
		// Same input, same bytes.
		stdout, _, _ := sp(t, "render", trace, "--format", f)
		if stdout != string(b) {
			t.Errorf("render %s: two renders differ", f)
		}
	}
	if _, stderr, code := sp(t, "render", trace, "--format", "svg"); code != 2 || !strings.Contains(stderr, "--format") {
		t.Errorf("unknown format: exit %d, %q", code, stderr)
	}
}

func TestReplay(t *testing.T) {
	trace := sharedTrace(t, "naive-pool")
	stdout, stderr, code := sp(t, "replay", trace)
	if code != 0 || !strings.Contains(stdout, "byte-identical") {
		t.Fatalf("replay: exit %d\n%s%s", code, stdout, stderr)
	}
	// A trace that differs from what its header reproduces is caught.
	b, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	orig := lines[100]
	lines[100] = bytes.Replace(orig, []byte(`"t":`), []byte(` "t" : `), 1) // still a trace line, not the same bytes
	tampered := filepath.Join(t.TempDir(), "tampered.jsonl")
	os.WriteFile(tampered, bytes.Join(lines, nil), 0o644)
	stdout, _, code = sp(t, "replay", tampered)
	if code != 1 || !strings.Contains(stdout, "DIFFERENT: line 101") {
		t.Errorf("tampered replay: exit %d\n%s", code, stdout)
	}
	// A file that is not a trace is bad input, named with its line.
	lines[100] = bytes.Replace(orig, []byte(`"t":`), []byte(`"t":1`), 1) // out of time order
	os.WriteFile(tampered, bytes.Join(lines, nil), 0o644)
	stdout, stderr, code = sp(t, "replay", tampered)
	if code != 2 || !strings.HasPrefix(stderr, "stormproof: "+tampered+":") || strings.Count(stderr, "\n") != 1 || stdout != "" {
		t.Errorf("corrupted replay: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	// Under a fix, the first story's event is followed.
	stdout, stderr, code = sp(t, "replay", trace, "--client", "tagged")
	if code != 0 || !strings.Contains(stdout, "the same story no longer ends in a violation") {
		t.Errorf("replay --client tagged: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, stderr, code = sp(t, "replay", trace, "--client", "bogus"); code != 2 || !strings.Contains(stderr, "bogus") {
		t.Errorf("bad --client: exit %d %q", code, stderr)
	}
}

func TestMatrixDoesNotDependOnJobs(t *testing.T) {
	// The table holds the leaking as-shipped design: exit 1 (the policy).
	one, stderr, code := sp(t, "matrix", "--scale", "0.05", "--seeds", "2", "--jobs", "1")
	if code != 1 {
		t.Fatalf("matrix: exit %d: %s", code, stderr)
	}
	two, _, _ := sp(t, "matrix", "--scale", "0.05", "--seeds", "2", "--jobs", "2")
	if one != two {
		t.Errorf("the table depends on --jobs:\n%s\n%s", one, two)
	}
	rows := regexp.MustCompile(`(?m)^\| (naive-pool|discard-on-timeout|tagged)`).FindAllString(one, -1)
	if want := len(model.Clients()) + len(model.AllMitigations()); len(rows) != want {
		t.Errorf("%d design rows, want %d:\n%s", len(rows), want, one)
	}
	if !regexp.MustCompile(`(?m)^\| tagged \| 0 \| 0 \| 0 \|`).MatchString(one) {
		t.Errorf("tagged row shows foreign events:\n%s", one)
	}
	if _, _, code := sp(t, "matrix", "--seeds", "0"); code != 2 {
		t.Errorf("--seeds 0: exit %d, want 2", code)
	}
}

// replay under a fix tells the same story of a slice trace as of the full
// trace of the same run: the re-run follows the event in a slice of its
// own, whatever the original's detail.
func TestReplayOfASliceTrace(t *testing.T) {
	full := sharedTrace(t, "naive-pool")
	slice := runTrace(t, t.TempDir(), "--trace", "slice")
	story := func(trace string) string {
		stdout, stderr, code := sp(t, "replay", trace, "--client", "tagged")
		if code != 0 {
			t.Fatalf("replay %s: exit %d\n%s%s", trace, code, stdout, stderr)
		}
		_, after, ok := strings.Cut(stdout, "\nevent ")
		if !ok || strings.Count(after, "\n") < 5 {
			t.Fatalf("replay %s follows no event:\n%s", trace, stdout)
		}
		return after
	}
	if a, b := story(full), story(slice); a != b {
		t.Errorf("the re-run's story differs:\nof the full trace\n%s\nof the slice\n%s", a, b)
	}
}

// A slice trace's counts are the slice's: check says so, and gives the
// run's own counts when the run's summary.json is beside the trace (and
// only then: another run's summary is not quoted).
func TestCheckSliceSaysWhoseCounts(t *testing.T) {
	trace := runTrace(t, t.TempDir(), "--trace", "slice")
	b, err := os.ReadFile(filepath.Join(filepath.Dir(trace), "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Invariants map[string]struct {
			Violations uint64 `json:"violations"`
		} `json:"invariants"`
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	out, _, code := sp(t, "check", trace)
	want := fmt.Sprintf("the run counted NoForeignDelivery %d", sum.Invariants["NoForeignDelivery"].Violations)
	if code != 1 || !strings.Contains(out, "slice                  a slice keeps") || !strings.Contains(out, want) {
		t.Fatalf("exit %d; want the slice note with %q:\n%s", code, want, out)
	}
	// The same trace beside another run's summary: the note alone.
	other := t.TempDir()
	data, _ := os.ReadFile(trace)
	if err := os.WriteFile(filepath.Join(other, "trace.jsonl"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "summary.json"), []byte(`{"scenario":"x","seed":9,"design":"tagged","invariants":{"NoForeignDelivery":{"judged":true,"violations":5}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, _ = sp(t, "check", filepath.Join(other, "trace.jsonl"))
	if !strings.Contains(out, "slice                  a slice keeps") || strings.Contains(out, "the run counted") {
		t.Errorf("another run's summary was quoted:\n%s", out)
	}
}
