package commands

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stormproof/stormproof/live/cache"
	"github.com/stormproof/stormproof/live/faults"
	"github.com/stormproof/stormproof/live/livetest"
	"github.com/stormproof/stormproof/sim"
)

func liveScenario(t *testing.T) string {
	t.Helper()
	return repoFile(t, "live/testdata/short-storm.yaml")
}

func TestLiveBadInput(t *testing.T) {
	scen := liveScenario(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"live"}, "--server and --client are required"},
		{[]string{"live", "--server", "valkey", "--client", "naive"}, "redis or memcached"},
		{[]string{"live", "--server", "memcached", "--client", "naive"}, "speaks to redis"},
		{[]string{"live", "--server", "redis", "--client", "jedis"}, "unknown client"},
		{[]string{"live", "--server", "redis", "--client", "naive", "--drops", "5s"}, "--drops"},
		{[]string{"live", "--server", "redis", "--client", "naive", "--duration", "0s"}, "--duration"},
		{[]string{"live", "--server", "redis", "--client", "naive", "--mitigate", "stamped-media"}, "key-in-value"},
		{[]string{"live", "--server", "redis", "--client", "naive", "extra"}, "unexpected argument"},
		{[]string{"live", "--server", "redis", "--client", "naive", "--scenario", "nope"}, "unknown scenario"},
		{[]string{"live", "--server", "redis", "--client", "naive", "--scenario", scen, "--duration", "5s", "--drops", "1s-9s"}, "after the run"},
	}
	for _, c := range cases {
		stdout, stderr, code := runCLI(t, "", c.args...)
		if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line mentioning %q", c.args, code, stdout, stderr, c.want)
		}
	}
}

// Without the server program the run stops at once with one line saying
// how to install it.
func TestLiveMissingServer(t *testing.T) {
	for _, c := range []struct{ server, client, pkg string }{{"redis", "naive", "redis-server"}, {"memcached", "gomemcache", "memcached"}} {
		cmd := exec.Command(binary, "live", "--server", c.server, "--client", c.client)
		cmd.Dir = t.TempDir()
		cmd.Env = append(os.Environ(), "PATH="+t.TempDir())
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		var xe *exec.ExitError
		if !errors.As(err, &xe) || xe.ExitCode() != 2 {
			t.Fatalf("%s missing: %v, want exit 2", c.server, err)
		}
		if msg := e.String(); strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "apt-get install -y "+c.pkg) {
			t.Fatalf("%s missing: stderr %q should be one line saying how to install it", c.server, msg)
		}
		if _, err := os.Stat(filepath.Join(cmd.Dir, "stormproof-live")); err == nil {
			t.Fatal("a failed run left an output directory")
		}
	}
}

// The naive client on real Redis through the command: exit 1, the foreign
// deliveries and the non-linearizable cache in the report, and the renders
// of the first violation written (the porcupine page among them).
func TestLiveNaiveEndToEnd(t *testing.T) {
	needLiveRedis(t)
	dir := t.TempDir()
	stdout, stderr, code := runCLI(t, dir, "live", "--server", "redis", "--client", "naive",
		"--scenario", liveScenario(t), "--duration", "6s", "--out", "out")
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// The model variant the naive adapter declares leaks in the same storm.
	s, err := sim.Load(liveScenario(t))
	if err != nil {
		t.Fatal(err)
	}
	livetest.SameAsDeclared(t, cache.Naive, s, true)
	for _, want := range []string{"NoForeignDelivery      VIOLATED", "CacheLinearizable      VIOLATED",
		"witness         agrees", "verdict                VIOLATED"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	// The mechanism is shown: the "why" line names the timeout and the late
	// reply another request read.
	why := regexp.MustCompile(`(?m)^why +.*timed out.*late reply.*$`)
	if !why.MatchString(stdout) {
		t.Errorf("stdout has no why line naming the timeout and the late reply:\n%s", stdout)
	}
	for _, want := range []string{"fault           ", "calls timed out", "connections closed"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	timeline, _ := os.ReadFile(filepath.Join(dir, "out", "check", "timeline.txt"))
	if !strings.Contains(string(timeline), "the reply of tok") {
		t.Errorf("the timeline shows no misread reply:\n%s", timeline)
	}
	for _, f := range []string{"trace.jsonl", "check/timeline.txt", "check/slice.mmd", "check/porcupine.html"} {
		if _, err := os.Stat(filepath.Join(dir, "out", f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	page, _ := os.ReadFile(filepath.Join(dir, "out", "check", "porcupine.html"))
	if !strings.Contains(string(page), "get → hit {dev") {
		t.Error("the porcupine page shows no GET hit")
	}
	// The trace is checked again by stormproof check, with the same verdict.
	_, _, code = runCLI(t, dir, "check", filepath.Join("out", "trace.jsonl"), "--out", "again")
	if code != 1 {
		t.Fatalf("stormproof check of the live trace: exit %d, want 1", code)
	}
}

// A signal in the middle of a run stops it: 130 for SIGINT, 143 for
// SIGTERM, one line, the server gone, the drop program detached, no trace
// written.
func TestLiveSignalCleansUp(t *testing.T) {
	needLiveRedis(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		dir := t.TempDir()
		cmd := exec.Command(binary, "live", "--server", "redis", "--client", "go-redis",
			"--scenario", liveScenario(t), "--duration", "30s", "--out", "out")
		cmd.Dir = dir
		pipe, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(pipe)
		var addr string
		var rest []string
		for sc.Scan() {
			line := sc.Text()
			rest = append(rest, line)
			if _, a, ok := strings.Cut(line, " on 127.0.0.1:"); ok && strings.HasPrefix(line, "live: server:") {
				addr = "127.0.0.1:" + a
			}
			if strings.HasPrefix(line, "live: replay:") {
				break
			}
		}
		if addr == "" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no server address in %q", rest)
		}
		port, _ := strconv.Atoi(strings.TrimPrefix(addr, "127.0.0.1:"))
		names, _ := faults.AttachedNames()
		if !slices.Contains(names, faults.ProgramName(port)) {
			t.Errorf("during the run, %s is not attached to lo (attached: %v)", faults.ProgramName(port), names)
		}
		time.Sleep(300 * time.Millisecond)
		cmd.Process.Signal(sig)
		for sc.Scan() {
			rest = append(rest, sc.Text())
		}
		err = cmd.Wait()
		var xe *exec.ExitError
		if want := 128 + int(sig); !errors.As(err, &xe) || xe.ExitCode() != want {
			t.Fatalf("%v: %v, want exit %d", sig, err, want)
		}
		if last := rest[len(rest)-1]; !strings.Contains(last, "interrupted") {
			t.Errorf("%v: last line %q should say the run was interrupted", sig, last)
		}
		if c, err := net.DialTimeout("tcp4", addr, 200*time.Millisecond); err == nil {
			c.Close()
			t.Errorf("%v: the server on %s still answers", sig, addr)
		}
		if names, _ := faults.AttachedNames(); slices.Contains(names, faults.ProgramName(port)) {
			t.Errorf("%v: %s still attached to lo", sig, faults.ProgramName(port))
		}
		if _, err := os.Stat(filepath.Join(dir, "out", "trace.jsonl")); err == nil {
			t.Errorf("%v: an interrupted run wrote a trace", sig)
		}
	}
}

// A signal ends every phase promptly: while the workload is simulated
// (set-up), while the service drains and the trace is written, and while
// the judge reads the trace (which the run keeps: it is whole).
func TestLiveSignalInEveryPhase(t *testing.T) {
	needLiveRedis(t)
	for _, c := range []struct {
		phase string
		sig   syscall.Signal
		// at says when to signal: the first line of stdout or stderr that
		// begins with it.
		at        string
		traceKept bool
	}{
		{"set-up", syscall.SIGINT, "live: workload:", false},
		{"drain", syscall.SIGTERM, "live: drain:", false},
		{"judge", syscall.SIGTERM, "wrote           ", true},
	} {
		t.Run(c.phase, func(t *testing.T) {
			dir := t.TempDir()
			// The default scenario (10,000 cameras) in 4 s: seconds of
			// simulation before, and of judging after.
			cmd := exec.Command(binary, "live", "--server", "redis", "--client", "naive", "--duration", "4s", "--out", "out")
			cmd.Dir = dir
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stdout, cmd.Stderr = w, w
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			sc := bufio.NewScanner(r)
			var lines []string
			signalled := time.Time{}
			for sc.Scan() {
				lines = append(lines, sc.Text())
				if signalled.IsZero() && strings.HasPrefix(sc.Text(), c.at) {
					time.Sleep(100 * time.Millisecond)
					cmd.Process.Signal(c.sig)
					signalled = time.Now()
				}
			}
			err = cmd.Wait()
			took := time.Since(signalled)
			if signalled.IsZero() {
				t.Fatalf("no line began with %q:\n%s", c.at, strings.Join(lines, "\n"))
			}
			var xe *exec.ExitError
			if want := 128 + int(c.sig); !errors.As(err, &xe) || xe.ExitCode() != want {
				t.Fatalf("%v in the %s phase: %v, want exit %d\n%s", c.sig, c.phase, err, want, strings.Join(lines, "\n"))
			}
			if took > 2*time.Second {
				t.Errorf("%v in the %s phase: the run took %v to stop", c.sig, c.phase, took.Round(time.Millisecond))
			}
			last := lines[len(lines)-1]
			if !strings.Contains(last, "interrupted by "+map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[c.sig]) {
				t.Errorf("last line %q should name the signal", last)
			}
			_, err = os.Stat(filepath.Join(dir, "out", "trace.jsonl"))
			if kept := err == nil; kept != c.traceKept {
				t.Errorf("trace kept: %v, want %v (last line %q)", kept, c.traceKept, last)
			}
			t.Logf("%v in the %s phase: stopped in %v", c.sig, c.phase, took.Round(time.Millisecond))
		})
	}
}

// needLiveRedis skips a live run where it cannot happen: with -short, when
// eBPF faults cannot be attached (not root), or without redis-server.
func needLiveRedis(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("a live run takes seconds: skipped with -short")
	}
	if err := faults.Check(); err != nil {
		t.Skipf("%v; CI runs the live tests as root", err)
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not on PATH (apt-get install -y redis-server); CI installs it")
	}
}
