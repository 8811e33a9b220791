package sim

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// errLine is the file:line prefix of a bad-input error.
var errLine = regexp.MustCompile(`^fuzz\.yaml(:(\d+))?: `)

// FuzzParse: any document is a scenario or one line naming fuzz.yaml (and
// the line, when the error is on one) — never a panic.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 5m ./sim
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
