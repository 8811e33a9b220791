package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stormproof/stormproof/live/faults"
)

func liveScenario(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("../../live/testdata/short-storm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
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
	if testing.Short() {
		t.Skip("a live run takes seconds: skipped with -short")
	}
	if err := faults.Check(); err != nil {
		t.Skipf("%v; CI runs the live tests as root", err)
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not on PATH (apt-get install -y redis-server); CI installs it")
	}
	dir := t.TempDir()
	stdout, stderr, code := runCLI(t, dir, "live", "--server", "redis", "--client", "naive",
		"--scenario", liveScenario(t), "--duration", "4s", "--out", "out")
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"NoForeignDelivery      VIOLATED", "CacheLinearizable      VIOLATED",
		"witness         agrees", "verdict                VIOLATED", "timed out; its late reply was read by request"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
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
