package sim

import (
	"bytes"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stormproof/stormproof/traces"
)

// errLine is the file:line prefix of a bad-input error.
var errLine = regexp.MustCompile(`^fuzz\.yaml(:(\d+))?: `)

// FuzzParse: any document is a scenario or one line naming fuzz.yaml (and
// the line, when the error is on one) — never a panic.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 5m -fuzzminimizetime 2s ./sim
//
// (-fuzzminimizetime: the default minute per new input, spent shrinking
// kilobyte scenarios, leaves a few dozen executions a minute; with 2 s,
// tens of thousands.)
func FuzzParse(f *testing.F) {
	for _, name := range Embedded() {
		data, err := embedded.ReadFile("scenarios/" + name + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("base: wyze-2024-02\nname: x # assumed\nseed: 3 # assumed\nfleet:\n  cameras: 2 # assumed\n  mix: {cam-v3: 1} # assumed\n"))
	f.Add([]byte("base: nowhere\n"))
	f.Add([]byte(""))
	dir := f.TempDir() // relative profile files resolve to an empty directory
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data, filepath.Join(dir, "x"))
		if err == nil {
			if s == nil || len(s.Profiles) == 0 {
				t.Fatalf("accepted without profiles: %+v", s)
			}
			// An accepted scenario builds, when it is small enough to build
			// in a moment (a valid scenario may ask for a fleet of
			// millions or a login every microsecond for weeks).
			if small(s) {
				if _, err := s.Build(); err != nil {
					t.Fatalf("accepted but does not build: %v", err)
				}
			}
			return
		}
		checkErr(t, err.Error(), data)
	})
}

func small(s *Scenario) bool {
	logins := 0.0
	if s.Web != nil {
		logins = s.Web.LoginsPerHour * s.Scale * s.Duration.D().Hours()
	}
	return s.scaled(s.Fleet.Cameras) <= 10_000 && s.scaled(s.Fleet.Accounts) <= 10_000 &&
		s.scaled(s.Transfers.Count) <= 10_000 && logins <= 10_000
}

// checkErr: one line, naming the file, with a line number inside the
// document when it has one.
func checkErr(t *testing.T, msg string, data []byte) {
	t.Helper()
	if strings.ContainsAny(msg, "\n\r") {
		t.Fatalf("error of more than one line: %q", msg)
	}
	m := errLine.FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("error does not start with the file name: %q", msg)
	}
	if m[2] != "" {
		n, _ := strconv.Atoi(m[2])
		if lines := strings.Count(string(data), "\n") + 1; n < 1 || n > lines {
			t.Fatalf("error names line %d of a %d-line document: %q", n, lines, msg)
		}
	}
}

// fuzzSmall is a world small enough to simulate in milliseconds: the seeds
// of FuzzRun, which its mutations mostly keep small.
const fuzzSmall = `base: wyze-2024-02
name: fuzz-small
duration: 40m                # assumed
capture_until: 30m           # assumed
fleet:
  cameras: 40                # assumed
  accounts: 25               # assumed
outages:
  - component: gateway       # assumed
    from: 5m                 # assumed
    to: 15m                  # assumed
cloud:
  workers: 2                 # assumed
  pool_size: 2               # assumed
`

// runnable is what FuzzRun simulates: a world of a few hundred cameras for
// a few hours at most (larger accepted worlds are checked, not run).
func runnable(s *Scenario) bool {
	logins := 0.0
	if s.Web != nil {
		logins = s.Web.LoginsPerHour * s.Scale * s.Duration.D().Hours()
	}
	return s.scaled(s.Fleet.Cameras) <= 300 && s.scaled(s.Transfers.Count) <= 1000 && logins <= 1000 &&
		s.Duration.D().Hours() <= 6 && s.scaled(s.Cloud.Workers) <= 64 && s.Memory().Bytes <= 256<<20
}

// FuzzRun: any document is refused with one line naming the file (exit 2
// on the command line), or accepted, and then its memory estimate bounds it,
// its trace header holds its options, and a small one runs to a verdict
// whose trace reads back — never a panic.
//
//	go test -run '^$' -fuzz FuzzRun -fuzztime 5m -fuzzminimizetime 2s ./sim
func FuzzRun(f *testing.F) {
	f.Add([]byte(fuzzSmall))
	f.Add([]byte(strings.Replace(fuzzSmall, "  accounts: 25", "  share_fraction: 0.5   # assumed\n  accounts: 25", 1)))
	f.Add([]byte(strings.Replace(fuzzSmall, "base: wyze-2024-02", "base: web-2023-09", 1) +
		"web:\n  logins_per_hour: 100   # assumed\n  fault:\n    from: 10m   # assumed\n    to: 20m   # assumed\n"))
	f.Add([]byte(strings.Replace(fuzzSmall, "base: wyze-2024-02", "base: notify-2020-06", 1) +
		"notifier:\n  defect:\n    from: 10m   # assumed\n    to: 20m   # assumed\n"))
	f.Add([]byte(fuzzSmall + "transfers:\n  count: 5   # assumed\n  from: 1m   # assumed\n  to: 20m   # assumed\n"))
	f.Add([]byte(fuzzSmall + "users:\n  tap_prob: .nan   # assumed\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data, filepath.Join(dir, "x"))
		if err != nil {
			checkErr(t, err.Error(), data)
			return
		}
		if err := s.CheckMemory(1 << 30); err != nil {
			checkErr(t, err.Error(), data)
			return
		}
		back, err := FromJSON(s.JSON())
		if err != nil {
			t.Fatalf("accepted, but its trace header's options are not: %v", err)
		}
		if !bytes.Equal(back.JSON(), s.JSON()) {
			t.Fatalf("the trace header's options do not round-trip:\n%s\n%s", s.JSON(), back.JSON())
		}
		if !runnable(s) {
			return
		}
		var buf bytes.Buffer
		res, err := Run(s, RunOptions{Trace: &buf, Detail: "full", Tool: "fuzz"})
		if err != nil {
			t.Fatalf("accepted but the run fails: %v", err)
		}
		if res.Summary.Scenario != s.Name {
			t.Fatalf("summary of %q for %q", res.Summary.Scenario, s.Name)
		}
		tr, err := traces.NewReader(&buf, "fuzz.jsonl")
		if err != nil {
			t.Fatalf("the run's trace: %v", err)
		}
		var ev traces.Event
		for {
			if err := tr.Next(&ev); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("the run's trace: %v", err)
			}
		}
	})
}
