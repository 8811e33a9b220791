package commands

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A sweep of 2 × 2 points × 2 seeds at 1/20 of the default scenario.
const smallSweep = `name: small
scenario: wyze-2024-02
scale: 0.05
seeds: 2
grid:
  cloud.cache_timeout: [50ms, 250ms]
  cloud.mitigations: [[], [jittered-backoff]]
`

var sweepTables = []string{"sweep.json", "rows.jsonl", "results.csv", "results.parquet", "stats.csv", "stats.md", "heatmap.png", "heatmap.svg"}

func sameFiles(t *testing.T, a, b string, names []string) {
	t.Helper()
	for _, n := range names {
		x, err := os.ReadFile(filepath.Join(a, n))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, n))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Fatalf("%s differs between %s and %s", n, a, b)
		}
	}
}

var ranRe = regexp.MustCompile(`ran +(\d+) cells in [0-9.]+ s on (\d+) jobs? \((\d+) already finished, (\d+) left\)`)

// ran reads "ran N cells … (K already finished, L left)" from stdout.
func ran(t *testing.T, stdout string) (n, skipped, left int) {
	t.Helper()
	m := ranRe.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no 'ran' line in:\n%s", stdout)
	}
	n, _ = strconv.Atoi(m[1])
	skipped, _ = strconv.Atoi(m[3])
	left, _ = strconv.Atoi(m[4])
	return
}

func TestSweepEndToEnd(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "s.yaml", smallSweep)
	// Every cell of smallSweep runs the naive pool and leaks: a complete
	// sweep with a violating cell exits 1 (the verdict policy), and 0 with
	// --exit-zero.
	stdout, stderr, code := runCLI(t, dir, "sweep", "s.yaml", "--jobs", "2", "--out", "a")
	if code != 1 || stderr != "" || !strings.Contains(stdout, "verdict         8 of 8 cells violated a promise") {
		t.Fatalf("exit %d, stderr %q (want 1 and a quiet stderr when not a terminal)\n%s", code, stderr, stdout)
	}
	if _, _, code := runCLI(t, dir, "sweep", "s.yaml", "--out", "a", "--exit-zero"); code != 0 {
		t.Fatalf("--exit-zero: exit %d", code)
	}
	if n, skipped, left := ran(t, stdout); n != 8 || skipped != 0 || left != 0 {
		t.Fatalf("ran %d, skipped %d, left %d", n, skipped, left)
	}
	for _, w := range []string{"4 points × 2 seeds = 8 cells", "| `cloud.cache_timeout` | `cloud.mitigations` | n | accounts affected |", "| 250ms | [jittered-backoff] | 2 |", "report          stormproof report a"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, stdout)
		}
	}
	for _, f := range sweepTables {
		if fi, err := os.Stat(filepath.Join(dir, "a", f)); err != nil || fi.Size() == 0 {
			t.Fatalf("%s: %v", f, err)
		}
	}
	// One cell again, with a trace: the same summary as its row, and a
	// directory report can draw.
	stdout, stderr, code = runCLI(t, dir, "sweep", "s.yaml", "--cell", "5", "--out", "a")
	if code != 1 || !strings.Contains(stdout, "cell            5 of sweep small: cloud.cache_timeout=250ms, cloud.mitigations=[], seed 2") {
		t.Fatalf("--cell: exit %d %s\n%s", code, stderr, stdout)
	}
	var sum struct {
		Cohorts struct {
			Affected int `json:"affected_any"`
		} `json:"cohorts"`
		Foreign int64 `json:"foreign_thumbnails"`
	}
	if !strings.Contains(stdout, "report          stormproof report "+filepath.Join("a", "cell-5")+"\n") {
		t.Errorf("--cell: the hint does not name a/cell-5:\n%s", stdout)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "a", "cell-5", "summary.json"))
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	res, _ := os.ReadFile(filepath.Join(dir, "a", "results.csv"))
	row := strings.Split(strings.Split(string(res), "\n")[6], ",")
	if row[0] != "5" || row[5] != strconv.Itoa(sum.Cohorts.Affected) || row[9] != strconv.FormatInt(sum.Foreign, 10) {
		t.Fatalf("cell 5: results.csv %v, --cell summary %+v", row, sum)
	}
	if _, stderr, code := runCLI(t, dir, "report", filepath.Join("a", "cell-5")); code != 0 {
		t.Fatalf("report of the cell: exit %d %s", code, stderr)
	}
	for _, bad := range [][]string{{"--cell", "8"}, {"--cell", "1", "--shard", "0/2"}, {"--cell", "1", "--trace", "none"}} {
		if _, stderr, code := runCLI(t, dir, append([]string{"sweep", "s.yaml", "--out", "bad"}, bad...)...); code != 2 || strings.Count(stderr, "\n") != 1 {
			t.Fatalf("%v: exit %d %q", bad, code, stderr)
		}
	}
	// Again: nothing runs, the same tables are written.
	stdout, _, code = runCLI(t, dir, "sweep", "s.yaml", "--out", "b", "--jobs", "1", "--limit", "3")
	if n, _, left := ran(t, stdout); code != 0 || n != 3 || left != 5 || !strings.Contains(stdout, "finished        3 of 8 cells") {
		t.Fatalf("limited: exit %d\n%s", code, stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "b", "results.csv")); !os.IsNotExist(err) {
		t.Fatal("tables written for an unfinished sweep")
	}
	stdout, _, code = runCLI(t, dir, "sweep", "s.yaml", "--out", "b")
	if n, skipped, _ := ran(t, stdout); code != 1 || n != 5 || skipped != 3 {
		t.Fatalf("resumed: exit %d\n%s", code, stdout)
	}
	sameFiles(t, filepath.Join(dir, "a"), filepath.Join(dir, "b"), sweepTables)
}

// Three shards (one finding its index as a Kubernetes Indexed Job would),
// their rows.jsonl concatenated: the same tables as one run, no cell run
// twice.
func TestSweepShardsConcatenate(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "s.yaml", smallSweep)
	if _, _, code := runCLI(t, dir, "sweep", "s.yaml", "--out", "one"); code != 1 {
		t.Fatalf("one run: exit %d", code)
	}
	var cat []byte
	total := 0
	for i := 0; i < 3; i++ {
		args := []string{"sweep", "s.yaml", "--jobs", "1", "--shard", strconv.Itoa(i) + "/3", "--out", "shard" + strconv.Itoa(i)}
		if i == 2 {
			t.Setenv("JOB_COMPLETION_INDEX", "2")
			args[5] = "auto/3"
		}
		stdout, stderr, code := runCLI(t, dir, args...)
		if code != 0 {
			t.Fatalf("shard %d: exit %d %s", i, code, stderr)
		}
		n, _, _ := ran(t, stdout)
		if !strings.Contains(stdout, "shard           "+strconv.Itoa(i)+"/3: "+strconv.Itoa(n)+" cells") {
			t.Fatalf("shard %d:\n%s", i, stdout)
		}
		total += n
		b, err := os.ReadFile(filepath.Join(dir, "shard"+strconv.Itoa(i), "rows.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		cat = append(cat, b...)
	}
	if total != 8 {
		t.Fatalf("the shards ran %d cells, want 8", total)
	}
	os.Mkdir(filepath.Join(dir, "merged"), 0o755)
	writeFile(t, dir, "merged/rows.jsonl", string(cat))
	stdout, _, code := runCLI(t, dir, "sweep", "s.yaml", "--out", "merged")
	if n, skipped, _ := ran(t, stdout); code != 1 || n != 0 || skipped != 8 {
		t.Fatalf("merged: exit %d\n%s", code, stdout)
	}
	sameFiles(t, filepath.Join(dir, "one"), filepath.Join(dir, "merged"), sweepTables)
}

// Shards may also share one directory (a shared volume): run at the same
// time, they leave every cell there, and one more run writes the tables.
func TestSweepShardsShareADirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "s.yaml", smallSweep)
	if _, _, code := runCLI(t, dir, "sweep", "s.yaml", "--out", "one"); code != 1 {
		t.Fatalf("one run: exit %d", code)
	}
	var cmds []*exec.Cmd
	outs := make([]bytes.Buffer, 3)
	for i := 0; i < 3; i++ {
		cmd := exec.Command(binary, "sweep", "s.yaml", "--jobs", "1", "--shard", strconv.Itoa(i)+"/3", "--out", "shared")
		cmd.Dir = dir
		cmd.Stdout = &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	// A shard whose cells are done exits 0 while the sweep is not; one that
	// starts after the others finished finds the sweep complete, writes the
	// tables and exits by their verdict (1: the as-shipped design leaks).
	for i, cmd := range cmds {
		err := cmd.Wait()
		var xe *exec.ExitError
		completed := strings.Contains(outs[i].String(), "verdict         8 of 8 cells violated a promise")
		if err != nil && !(completed && errors.As(err, &xe) && xe.ExitCode() == 1) {
			t.Fatalf("shard %d: %v\n%s", i, err, outs[i].String())
		}
	}
	stdout, _, code := runCLI(t, dir, "sweep", "s.yaml", "--out", "shared")
	if n, skipped, _ := ran(t, stdout); code != 1 || n != 0 || skipped != 8 {
		t.Fatalf("after the shards: exit %d\n%s", code, stdout)
	}
	sameFiles(t, filepath.Join(dir, "one"), filepath.Join(dir, "shared"), sweepTables)
}

// An interrupted sweep keeps its finished cells; run again, it redoes none
// of them.
func TestSweepInterrupted(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "s.yaml", strings.Replace(smallSweep, "seeds: 2", "seeds: 6", 1)) // 24 cells
	cmd := exec.Command(binary, "sweep", "s.yaml", "--jobs", "1", "--out", "o")
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		es, _ := os.ReadDir(filepath.Join(dir, "o", "cells"))
		if len(es) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	code := 0
	if xe, ok := err.(*exec.ExitError); ok {
		code = xe.ExitCode()
	}
	if code != 130 || !strings.Contains(stderr.String(), "interrupted by SIGINT:") || strings.Count(stderr.String(), "\n") != 1 {
		t.Fatalf("exit %d, stderr %q\n%s", code, stderr.String(), stdout.String())
	}
	first, _, left := ran(t, stdout.String())
	es, _ := os.ReadDir(filepath.Join(dir, "o", "cells"))
	if first < 1 || left < 1 || len(es) != first {
		t.Fatalf("interrupted run: ran %d, left %d, %d cell files", first, left, len(es))
	}
	out, _, code := runCLI(t, dir, "sweep", "s.yaml", "--jobs", "2", "--out", "o")
	if n, skipped, _ := ran(t, out); code != 1 || skipped != first || n != 24-first {
		t.Fatalf("second run: exit %d, want %d skipped and %d run\n%s", code, first, 24-first, out)
	}
}

func TestSweepBadInput(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, nil, 0o644)
	cases := []struct {
		name string
		doc  string
		args []string
		want string
	}{
		{"no file", "", []string{"sweep"}, "want one sweep file"},
		{"missing file", "", []string{"sweep", "nope.yaml"}, "nope.yaml: cannot read sweep"},
		{"bad field", smallSweep + "colour: red\n", nil, "s.yaml:8: colour: unknown field"},
		{"bad value", strings.Replace(smallSweep, "250ms", "soon", 1), nil, `s.yaml:6: grid.cloud.cache_timeout: cloud.cache_timeout: bad duration "soon"`},
		{"bad path", strings.Replace(smallSweep, "cloud.mitigations", "cloud.mitigation", 1), nil, `s.yaml:7: grid.cloud.mitigation: cloud.mitigation: no field "mitigation" in cloud`},
		{"jobs", smallSweep, []string{"--jobs", "-1"}, "--jobs: must be ≥ 0"},
		{"limit", smallSweep, []string{"--limit", "-2"}, "--limit: must be ≥ 0"},
		{"shard form", smallSweep, []string{"--shard", "3"}, "--shard: want i/N"},
		{"shard range", smallSweep, []string{"--shard", "3/3"}, "--shard: want a shard index 0 ≤ i < 3"},
		{"shard count", smallSweep, []string{"--shard", "0/0"}, "--shard: want a shard count"},
		{"shard auto", smallSweep, []string{"--shard", "auto/3"}, "--shard: auto: neither JOB_COMPLETION_INDEX nor SLURM_ARRAY_TASK_ID is set"},
		{"unwritable out", smallSweep, []string{"--out", filepath.Join(notDir, "x")}, "--out"},
		{"bad rows", smallSweep, []string{"rows"}, "rows.jsonl:1: not a sweep row"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("JOB_COMPLETION_INDEX", "")
			t.Setenv("SLURM_ARRAY_TASK_ID", "")
			dir := t.TempDir()
			args := c.args
			if c.doc != "" {
				writeFile(t, dir, "s.yaml", c.doc)
				args = append([]string{"sweep", "s.yaml", "--out", "out"}, c.args...)
			}
			if c.name == "bad rows" {
				os.Mkdir(filepath.Join(dir, "out"), 0o755)
				writeFile(t, dir, "out/rows.jsonl", "{\"v\": 1, \"colour\": 2}\n")
				args = args[:4]
			}
			stdout, stderr, code := runCLI(t, dir, args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout %s\nstderr %s", code, stdout, stderr)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
				t.Fatalf("stderr %q: want one line containing %q", stderr, c.want)
			}
			if c.name == "bad rows" {
				if es, _ := os.ReadDir(filepath.Join(dir, "out")); len(es) != 1 {
					t.Fatalf("bad rows: the sweep wrote into the directory: %v", es)
				}
			} else if _, err := os.Stat(filepath.Join(dir, "out")); !os.IsNotExist(err) {
				t.Fatal("bad input left an output directory behind")
			}
		})
	}
}
