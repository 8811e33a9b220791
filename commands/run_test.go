package commands

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Every kind of bad input: one line on stderr, exit 2, and no output file.
func TestRunBadInput(t *testing.T) {
	base := "base: wyze-2024-02\n"
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, nil, 0o644)
	cases := []struct {
		name string
		doc  string // scenario file content ("" = use args as they are)
		args []string
		want string
	}{
		{"unknown scenario", "", []string{"run", "no-such"}, "unknown scenario"},
		{"malformed yaml", base + "fleet: [1, 2\n", nil, "s.yaml:"},
		{"unknown field", base + "cloud:\n  colour: red   # assumed\n", nil, "s.yaml:3: colour: unknown field"},
		{"negative", base + "fleet:\n  cameras: -3   # assumed\n", nil, "s.yaml:3: fleet.cameras: must be ≥ 1"},
		{"out of range", base + "users:\n  video_prob: 2   # assumed\n", nil, "s.yaml:3: users.video_prob"},
		{"mix not 1", base + "fleet:\n  mix:\n    cam-v3: 0.7   # assumed\n", nil, "s.yaml:3: fleet.mix: shares must sum to 1"},
		{"unwritable out", "", []string{"run", "--scale", "0.05", "--out", filepath.Join(notDir, "x")}, "--out"},
		{"bad seed", "", []string{"run", "--seed", "-1"}, "--seed"},
		{"bad client", "", []string{"run", "--client", "fast"}, "--client: unknown cache client"},
		{"bad mitigation", "", []string{"run", "--mitigate", "prayer"}, "--mitigate: unknown mitigation"},
		{"bad scale", "", []string{"run", "--scale", "-2"}, "--scale"},
		{"unknown flag", "", []string{"run", "--colour"}, "unknown flag --colour"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			args := c.args
			if c.doc != "" {
				writeFile(t, dir, "s.yaml", c.doc)
				args = []string{"run", "./s.yaml"}
			}
			args = append(args, "--out", "out")
			if c.name == "unwritable out" {
				args = c.args
			}
			stdout, stderr, code := runCLI(t, dir, args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout %s\nstderr %s", code, stdout, stderr)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
				t.Fatalf("stderr %q: want one line containing %q", stderr, c.want)
			}
			if entries, _ := os.ReadDir(filepath.Join(dir, "out")); len(entries) != 0 {
				t.Fatalf("bad input left output behind: %v", entries)
			}
		})
	}
}

func TestRunWritesTraceAndSummary(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := runCLI(t, dir, "run", "--scale", "0.2", "--out", "o")
	if code != 1 {
		t.Fatalf("naive run: exit %d, want 1 (violated)\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"reconnects", "storm", "foreign", "accounts", "NoForeignDelivery VIOLATED", "reproduce       stormproof run wyze-2024-02 --seed 1 --scale 0.2"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	var sum struct {
		ForeignThumbnails int64 `json:"foreign_thumbnails"`
		Cameras           int   `json:"cameras"`
	}
	run := latestRun(t, filepath.Join(dir, "o"))
	if want := filepath.Join(dir, "o", "wyze-2024-02-seed1-naive-pool-scale0.2"); run != want {
		t.Errorf("run directory %s, want %s", run, want)
	}
	b, err := os.ReadFile(filepath.Join(run, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil || sum.ForeignThumbnails == 0 || sum.Cameras != 2000 {
		t.Fatalf("summary.json %s (%v)", b, err)
	}
	if fi, err := os.Stat(filepath.Join(run, "trace.jsonl")); err != nil || fi.Size() == 0 {
		t.Fatalf("trace: %v", err)
	}
	_, _, code = runCLI(t, dir, "run", "--scale", "0.2", "--client", "tagged", "--trace", "none", "--out", "o2")
	if code != 0 {
		t.Fatalf("tagged run: exit %d, want 0", code)
	}
}

func TestProfilesCommand(t *testing.T) {
	dir := t.TempDir()
	stdout, _, code := runCLI(t, dir, "profiles")
	if code != 0 || strings.Count(stdout, "builtin:") < 6 {
		t.Fatalf("profiles: exit %d\n%s", code, stdout)
	}
	good, err := os.ReadFile("../hwprofiles/profiles/cam-v3.yaml")
	if err != nil {
		t.Fatal(err)
	}
	mine := strings.Replace(string(good), "name: cam-v3 ", "name: my-cam ", 1)
	writeFile(t, dir, "mine.yaml", mine)
	if stdout, _, code := runCLI(t, dir, "profiles", "mine.yaml"); code != 0 || !strings.Contains(stdout, "my-cam") {
		t.Fatalf("own profile: exit %d\n%s", code, stdout)
	}
	unsourced := strings.Replace(mine, "buffer_events: 20                     # assumed", "buffer_events: 20", 1)
	writeFile(t, dir, "bad.yaml", unsourced)
	_, stderr, code := runCLI(t, dir, "profiles", "bad.yaml")
	if code != 2 || !strings.Contains(stderr, "bad.yaml:19: buffer_events: no source") {
		t.Fatalf("unsourced value: exit %d, %q", code, stderr)
	}
}
