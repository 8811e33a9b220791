package sim

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// yv parses one YAML value.
func yv(t *testing.T, text string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

func mustLoad(t *testing.T, name string) *Scenario {
	t.Helper()
	s, err := Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Writing a scenario out and decoding it again loses nothing.
func TestWithNothingIsTheSameScenario(t *testing.T) {
	for _, name := range Embedded() {
		s := mustLoad(t, name)
		c, err := s.With(nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(c.JSON(), s.JSON()) {
			t.Fatalf("%s: round trip changed the scenario:\n%s\n%s", name, s.JSON(), c.JSON())
		}
	}
}

// A set is the same as writing the value into a scenario file.
func TestWithEqualsAScenarioFile(t *testing.T) {
	s := mustLoad(t, DefaultScenario)
	c, err := s.With([]Set{
		{"cloud.cache_timeout", yv(t, "250ms")},
		{"cloud.mitigations", yv(t, "[jittered-backoff]")},
		{"cloud.jitter_backoff.jitter", yv(t, "equal")},
		{"outages.0.to", yv(t, "2h")},
		{"fleet.mix", yv(t, "{cam-v3: 0.5, cam-og: 0.5}")},
	})
	if err != nil {
		t.Fatal(err)
	}
	doc := `base: wyze-2024-02
cloud:
  cache_timeout: 250ms      # assumed
  mitigations: [jittered-backoff]   # assumed
  jitter_backoff:
    initial: 1s             # assumed
    multiplier: 2           # assumed
    cap: 120s               # assumed
    jitter: equal           # assumed
outages:
  - component: gateway      # assumed
    from: 30m               # assumed
    to: 2h                  # assumed
fleet:
  mix: {cam-v3: 0.5, cam-og: 0.5}   # assumed
`
	want, err := Parse("x.yaml", []byte(doc), "")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.JSON(), want.JSON()) {
		t.Fatalf("With differs from the file:\n%s\n%s", c.JSON(), want.JSON())
	}
	if s.Cloud.CacheTimeout.D() != 100*time.Millisecond || s.Cloud.Mitigations != 0 || len(s.Fleet.Mix) != 6 || s.Outages[0].To.D() != 3*time.Hour+30*time.Minute {
		t.Fatalf("With changed the original: %+v", s.Cloud)
	}
	if got := c.Design().String(); got != "naive-pool+jittered-backoff" {
		t.Fatalf("design %q", got)
	}
}

// One entry of a mapping can be set; the result is validated as a whole.
func TestWithMapEntry(t *testing.T) {
	s := mustLoad(t, DefaultScenario)
	c, err := s.With([]Set{{"fleet.mix.cam-v3", yv(t, "0.35")}, {"fleet.mix.cam-og", yv(t, "0.2")}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Fleet.Mix["cam-v3"] != 0.35 || c.Fleet.Mix["cam-og"] != 0.2 || len(c.Fleet.Mix) != 6 || s.Fleet.Mix["cam-v3"] != 0.45 {
		t.Fatalf("mix %v (original %v)", c.Fleet.Mix, s.Fleet.Mix)
	}
}

func TestWithErrors(t *testing.T) {
	s := mustLoad(t, DefaultScenario)
	cases := []struct {
		name  string
		sets  [][2]string
		index int
		field string
		msg   string
	}{
		{"unknown field", [][2]string{{"cloud.colour", "red"}}, 0, "cloud.colour", `no field "colour" in cloud (fields: admission_burst,`},
		{"unknown top", [][2]string{{"cloud.workers", "3"}, {"weather", "rain"}}, 1, "weather", `no field "weather" in a scenario`},
		{"into a value", [][2]string{{"cloud.cache_timeout.ms", "3"}}, 0, "cloud.cache_timeout.ms", "cloud.cache_timeout is a single value"},
		{"list index", [][2]string{{"outages.4.to", "1h"}}, 0, "outages.4.to", "outages has 1 items"},
		{"list word", [][2]string{{"outages.first.to", "1h"}}, 0, "outages.first.to", "outages is a list"},
		{"name", [][2]string{{"name", "x"}}, 0, "name", "identifies the scenario"},
		{"bad duration", [][2]string{{"cloud.workers", "3"}, {"cloud.cache_timeout", "fast"}}, 1, "cloud.cache_timeout", `bad duration "fast"`},
		{"wrong type", [][2]string{{"cloud.workers", "many"}}, 0, "cloud.workers", "cannot unmarshal"},
		{"unknown inside a value", [][2]string{{"cloud.jitter_backoff", "{initial: 1s, multiplier: 2, cap: 10s, jitter: full, colour: red}"}}, 0, "cloud.jitter_backoff.colour", "unknown field"},
		{"out of range", [][2]string{{"cloud.workers", "0"}}, 0, "cloud.workers", "must be ≥ 1"},
		{"bad mitigation", [][2]string{{"cloud.mitigations", "[prayer]"}}, 0, "cloud.mitigations.0", "unknown mitigation \"prayer\""},
		{"bad jitter", [][2]string{{"cloud.jitter_backoff.jitter", "some"}}, 0, "cloud.jitter_backoff.jitter", "unknown jitter"},
		{"combination", [][2]string{{"cloud.workers", "3"}, {"cloud.jitter_backoff.initial", "10m"}}, 1, "cloud.jitter_backoff", "cap ≥ initial"},
		{"mix sum", [][2]string{{"fleet.mix.cam-v3", "0.9"}}, 0, "fleet.mix", "must sum to 1"},
		{"unknown profile", [][2]string{{"fleet.mix", "{cam-v9: 1}"}}, 0, "fleet.mix.cam-v9", "unknown profile"},
		{"not owned", [][2]string{{"capture_until", "5h"}}, 0, "capture_until", "must be in (0, duration]"},
		{"owned by none", [][2]string{{"duration", "1h"}}, 0, "duration", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var sets []Set
			for _, kv := range c.sets {
				sets = append(sets, Set{kv[0], yv(t, kv[1])})
			}
			_, err := s.With(sets)
			var se *SetError
			if !errors.As(err, &se) {
				t.Fatalf("want a SetError, got %v", err)
			}
			if c.name == "owned by none" {
				// duration 1h puts capture_until (4h) and the outage out of
				// range: a field no set names, so no set is blamed.
				if se.Index != -1 {
					t.Fatalf("blamed set %d for %v", se.Index, se)
				}
				return
			}
			if se.Index != c.index || se.Field != c.field || !strings.Contains(se.Msg, c.msg) {
				t.Fatalf("got index %d field %q msg %q; want %d %q containing %q", se.Index, se.Field, se.Msg, c.index, c.field, c.msg)
			}
		})
	}
}

// Profile files of a scenario file are still found relative to it.
func TestWithKeepsProfileFiles(t *testing.T) {
	dir := t.TempDir()
	prof, err := os.ReadFile("../hwprofiles/profiles/cam-v3.yaml")
	if err != nil {
		t.Fatal(err)
	}
	mine := strings.Replace(string(prof), "name: cam-v3 ", "name: my-cam ", 1)
	if err := os.WriteFile(filepath.Join(dir, "my.yaml"), []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := "base: wyze-2024-02\nfleet:\n  profile_files: [my.yaml]   # mine\n  mix: {my-cam: 1}   # assumed\n"
	if err := os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	s := mustLoad(t, filepath.Join(dir, "s.yaml"))
	c, err := s.With([]Set{{"cloud.workers", yv(t, "2")}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Cloud.Workers != 2 || len(c.Profiles) != 1 || c.Profiles[0].Name != "my-cam" {
		t.Fatalf("workers %d profiles %+v", c.Cloud.Workers, c.Profiles)
	}
}
