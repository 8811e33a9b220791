package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stormproof/stormproof/live/faults"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "redigo-live")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binary = filepath.Join(dir, "redigo-live")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// This module, as a user's module outside stormproof's, requires none of
// the client libraries it does not test: `go mod graph` (the module graph
// go builds from, without the repository's go.work) names no go-redis,
// rueidis or gomemcache, and does name redigo and stormproof.
func TestModuleGraphHasNoOtherClientLibraries(t *testing.T) {
	cmd := exec.Command("go", "mod", "graph")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go mod graph: %v\n%s", err, out)
	}
	graph := string(out)
	for _, lib := range []string{"github.com/redis/go-redis", "github.com/redis/rueidis", "github.com/bradfitz/gomemcache",
		"github.com/stormproof/stormproof/live/adapters/"} {
		if strings.Contains(graph, lib) {
			t.Errorf("go mod graph names %s:\n%s", lib, grep(graph, lib))
		}
	}
	for _, want := range []string{"github.com/gomodule/redigo@", "github.com/stormproof/stormproof@"} {
		if !strings.Contains(graph, want) {
			t.Errorf("go mod graph lacks %s:\n%s", want, graph)
		}
	}
}

func grep(s, sub string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// run runs the program with args in a fresh directory and returns stdout,
// stderr, the exit status and the directory.
func run(t *testing.T, args ...string) (string, string, int, string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var xe *exec.ExitError
	code := 0
	switch {
	case err == nil:
	case errors.As(err, &xe):
		code = xe.ExitCode()
	default:
		t.Fatal(err)
	}
	return o.String(), e.String(), code, dir
}

// Every flag of `stormproof live` is the program's, with the same help and
// the same refusal of bad input (exit 2, one line).
func TestFlagsAreStormproofLives(t *testing.T) {
	stdout, _, code, _ := run(t, "--help")
	if code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	for _, f := range []string{"--server", "--client", "--scenario", "--duration", "--out", "--seed", "--scale",
		"--drops", "--mitigate", "--lanes", "--max-mem", "--no-ebpf"} {
		if !strings.Contains(stdout, "\n  "+f) {
			t.Errorf("--help does not list %s:\n%s", f, stdout)
		}
	}
	for _, c := range []string{"redigo ", "redigo-readtimeout", "redigo-broken", "naive "} {
		if !strings.Contains(stdout, "  "+c) {
			t.Errorf("--help does not list client %q:\n%s", c, stdout)
		}
	}
	for _, bad := range [][]string{
		{"--server", "redis"},
		{"--server", "redis", "--client", "redigo", "--drops", "5s"},
		{"--server", "redis", "--client", "redigo", "--mitigate", "stamped-media"},
		{"--server", "memcached", "--client", "redigo"},
		{"--server", "redis", "--client", "redigo", "--seed", "x"},
	} {
		stdout, stderr, code, _ := run(t, bad...)
		if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line", bad, code, stdout, stderr)
		}
	}
}

func needLive(t *testing.T) {
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

var scenario = filepath.Join("..", "..", "live", "testdata", "short-storm.yaml")

// The verdicts redigo's source predicts, each a live run of the test
// scenario under the default drop schedule, through live.Main with
// flags of stormproof live: with the library's defaults no call times out
// (not exercised, exit 4, never "held"); with DialReadTimeout calls time
// out and it holds (exit 0); the broken pool leaks (exit 1) and the why line
// names the reply read by the wrong request.
func TestRedigoVerdicts(t *testing.T) {
	needLive(t)
	abs, err := filepath.Abs(scenario)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		client string
		exit   int
		want   []string
	}{
		{"redigo", 4, []string{`verdict                NOT EXERCISED: every promise holds, but vacuously: no cache call timed out`,
			`(?m)^fault +\d+ packets dropped, 0 calls timed out, [1-9]\d* replies read after their deadline`}},
		{"redigo-readtimeout", 0, []string{`verdict                every promise holds`,
			`(?m)^fault +[1-9]\d* packets dropped, [1-9]\d* calls timed out, \d+ replies read after their deadline, [1-9]\d* connections closed`}},
		{"redigo-broken", 1, []string{`NoForeignDelivery      VIOLATED`, `(?m)^why +On worker\d+, request tok \d+ \(GET \d+\) .*read a reply holding device \d+'s value`}},
	} {
		t.Run(c.client, func(t *testing.T) {
			stdout, stderr, code, dir := run(t, "--server", "redis", "--client", c.client, "--scenario", abs,
				"--duration", "6s", "--seed", "1", "--lanes", "8", "--out", "out")
			if code != c.exit {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.exit, stdout, stderr)
			}
			for _, w := range c.want {
				if !regexp.MustCompile(w).MatchString(stdout) {
					t.Errorf("stdout does not match %q:\n%s", w, stdout)
				}
			}
			// The header says which program made the trace and how to make it again.
			f, err := os.Open(filepath.Join(dir, "out", "trace.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 1<<20), 1<<24)
			sc.Scan()
			var h struct{ Tool, Reproduce, Design string }
			if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(h.Tool, "live.Main in redigo-live") || h.Design != c.client ||
				!strings.HasPrefix(h.Reproduce, "redigo-live --server redis --client "+c.client+" ") || !strings.Contains(h.Reproduce, "--seed 1") {
				t.Errorf("header tool %q, design %q, reproduce %q", h.Tool, h.Design, h.Reproduce)
			}
		})
	}
}
