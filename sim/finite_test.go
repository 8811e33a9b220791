package sim

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// nested writes a dotted path as nested YAML mappings with value v on the
// last line (which carries the source comment the loader requires).
func nested(path, v string) (doc string, line int) {
	parts := strings.Split(path, ".")
	var b strings.Builder
	for i, p := range parts {
		b.WriteString(strings.Repeat("  ", i) + p + ":")
		if i == len(parts)-1 {
			b.WriteString(" " + v + "   # assumed")
		}
		b.WriteString("\n")
	}
	return b.String(), len(parts)
}

// Every float a scenario holds refuses NaN and both infinities, naming the
// file, the field and its line.
func TestEveryScenarioFloatIsFinite(t *testing.T) {
	fields := []struct{ base, path string }{
		{"wyze-2024-02", "scale"},
		{"wyze-2024-02", "fleet.share_fraction"},
		{"wyze-2024-02", "fleet.video_fraction"},
		{"wyze-2024-02", "fleet.mix.cam-v3"},
		{"wyze-2024-02", "network.wan_loss"},
		{"wyze-2024-02", "cloud.client_share"},
		{"wyze-2024-02", "cloud.admission_rate"},
		{"wyze-2024-02", "cloud.jitter_backoff.multiplier"},
		{"wyze-2024-02", "users.tap_prob"},
		{"wyze-2024-02", "users.video_prob"},
		{"web-2023-09", "web.logins_per_hour"},
		{"analytics-2019-12", "replica.integration_fraction"},
		{"wyze-2024-02", "network.wan.sigma"},
	}
	for _, f := range fields {
		for _, v := range []string{".nan", ".inf", "-.inf", "1e999"} {
			t.Run(f.path+"="+v, func(t *testing.T) {
				doc, line := nested(f.path, v)
				if f.path == "network.wan.sigma" {
					doc, line = "network:\n  wan:\n    dist: lognormal   # assumed\n    median: 10ms   # assumed\n    sigma: "+v+"   # assumed\n", 5
				}
				doc = "base: " + f.base + "\n" + doc
				line++
				_, err := Parse("x.yaml", []byte(doc), "")
				if err == nil {
					t.Fatalf("accepted:\n%s", doc)
				}
				if want := fmt.Sprintf("x.yaml:%d: %s", line, f.path); !strings.HasPrefix(err.Error(), want) {
					t.Errorf("error %q, want it to start %q", err, want)
				}
			})
		}
	}
}

// A profile file the scenario names and that cannot be read is the
// scenario's error, on the line that names it.
func TestMissingProfileFileNamesTheScenarioLine(t *testing.T) {
	doc := "base: wyze-2024-02\nfleet:\n  profile_files:\n    - nosuch.yaml   # assumed\n"
	_, err := Parse("x.yaml", []byte(doc), t.TempDir())
	if err == nil || !strings.HasPrefix(err.Error(), "x.yaml:4: fleet.profile_files.0: cannot read profile file") {
		t.Errorf("got %v", err)
	}
}

// A base may have a base: the chain is followed, and a cycle is refused.
func TestBaseChains(t *testing.T) {
	s, err := Parse("x.yaml", []byte("base: wyze-2024-02-1m\nname: x\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Fleet.Cameras != 10000 || s.Scale != 100 || s.Duration <= 0 {
		t.Errorf("chain not followed: cameras %d scale %g duration %v", s.Fleet.Cameras, s.Scale, s.Duration)
	}
}

// A scenario that cannot be written into a trace header is not run: a run
// whose trace header lost its options could not be replayed. (Loaders
// refuse NaN; this one is set past them, as a library user could.)
func TestRunRefusesAScenarioItCannotWriteDown(t *testing.T) {
	s := load(t, DefaultScenario, Override{})
	s.Fleet.ShareFraction = math.NaN()
	var buf strings.Builder
	if _, err := Run(s, RunOptions{Trace: &buf, Detail: "full"}); err == nil || !strings.Contains(err.Error(), "trace header") {
		t.Fatalf("got %v", err)
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %d bytes of trace", buf.Len())
	}
}
