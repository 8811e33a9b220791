package commands

import (
	"bufio"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A run killed at a random point leaves its run directory holding one
// whole run or none: SIGINT and SIGTERM end it with 130 and 143 and no
// temporary file; SIGKILL may leave temporary files, which the next run
// removes; the files present never belong to two runs.
func TestRunKilledAtRandomPoints(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 20))
	n := 9
	if testing.Short() {
		n = 3 // one of each signal
	}
	sigs := []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL}
	for i := 0; i < n; i++ {
		sig := sigs[i%len(sigs)]
		delay := time.Duration(rng.Int64N(int64(1000 * time.Millisecond))) // the run takes about a second
		seed := strconv.Itoa(i + 1)
		cmd := exec.Command(binary, "run", "--scale", "0.6", "--seed", seed, "--out", out)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The random point is counted from the moment the run has its
		// signal handlers (it creates its temporary trace file just after):
		// before the Go runtime has started, no program can choose its exit.
		started := waitForTemp(out, cmd.Process.Pid, 10*time.Second)
		time.Sleep(delay)
		_ = cmd.Process.Signal(sig)
		err := cmd.Wait()
		finished := err == nil
		var xe *exec.ExitError
		if errors.As(err, &xe) {
			code := xe.ExitCode()
			finished = code == 1 // a violation found: the run completed
			want := map[syscall.Signal]int{syscall.SIGINT: 130, syscall.SIGTERM: 143, syscall.SIGKILL: -1}[sig]
			if !finished && code != want && started {
				t.Fatalf("%v after %v: exit %d, want %d", sig, delay, code, want)
			}
		}
		temps := tempFiles(t, out)
		if sig != syscall.SIGKILL && len(temps) > 0 {
			t.Errorf("%v after %v: temporary files left: %v", sig, delay, temps)
		}
		checkOneRun(t, filepath.Join(out, "wyze-2024-02-seed"+seed+"-naive-pool-scale0.6"), map[bool]string{true: seed}[finished])
		t.Logf("%v after %v: finished %v", sig, delay, finished)
	}
	// The next run removes what killed runs left.
	if _, stderr, code := runCLI(t, "", "run", "--scale", "0.05", "--out", out); code != 1 && code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if temps := tempFiles(t, out); len(temps) > 0 {
		t.Errorf("temporary files of killed runs survived a later run: %v", temps)
	}
}

func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}

// checkOneRun checks that the run files in dir are all present or all
// absent and agree on the seed (seed: the run that finished, "" any).
func checkOneRun(t *testing.T, dir, seed string) {
	t.Helper()
	var present []string
	for _, f := range runFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			present = append(present, f)
		}
	}
	if len(present) == 0 {
		if seed != "" {
			t.Fatalf("a finished run left no files")
		}
		return
	}
	if len(present) != len(runFiles) {
		t.Fatalf("only %v of %v present", present, runFiles)
	}
	var sum struct{ Seed uint64 }
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil || json.Unmarshal(b, &sum) != nil {
		t.Fatalf("summary.json: %v", err)
	}
	f, err := os.Open(filepath.Join(dir, "trace.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadBytes('\n')
	var h struct{ Seed uint64 }
	if err != nil || json.Unmarshal(line, &h) != nil {
		t.Fatalf("trace header: %v", err)
	}
	if h.Seed != sum.Seed || (seed != "" && strconv.FormatUint(sum.Seed, 10) != seed) {
		t.Fatalf("trace of seed %d, summary of seed %d (want %q)", h.Seed, sum.Seed, seed)
	}
	var series struct {
		BinSeconds float64 `json:"bin_seconds"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "series.json")); err != nil || json.Unmarshal(b, &series) != nil {
		t.Fatalf("series.json: %v", err)
	}
}

// waitForTemp waits until a temporary file of process pid appears in dir,
// or the run has gone past it; it reports whether one appeared.
func waitForTemp(dir string, pid int, limit time.Duration) bool {
	mark := ".tmp" + strconv.Itoa(pid) + "-"
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.Contains(e.Name(), mark) {
				return true
			}
		}
	}
	return false
}
